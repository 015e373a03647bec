//! `PhotoStore` on a folder, with URLs this process signs itself.
//!
//! An upload URL is `{base}/store/{key}?exp={unix}&size={n}&sig={hex}`: an HMAC-SHA256 over the
//! method, key, size, expiry and content type, so the HTTP route can refuse — before reading a
//! byte — a PUT of another size or type, to another key, or after expiry (what S3 does with
//! signed `content-length`/`content-type` headers). Preview URLs are signed over GET, key and
//! expiry.
//!
//! Keys are relative paths of safe segments; anything else is refused, so a key can never
//! leave the root folder.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gradphoto_core::ports::{BackendError, PhotoStore, PresignedRequest, ReadError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL was refused. `Expired` is only reported for a genuine signature, so a
/// tampered URL never learns anything but `BadSignature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("签名无效")]
    BadSignature,
    #[error("链接已过期")]
    Expired,
    #[error("对象路径无效")]
    BadKey,
}

#[derive(Clone)]
pub struct DiskStore {
    root: PathBuf,
    base_url: String,
    secret: [u8; 32],
}

impl std::fmt::Debug for DiskStore {
    // The secret stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStore").field("root", &self.root).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

const MAX_KEY_LEN: usize = 512;

/// A key is `seg/seg/...`: each segment non-empty, of `[A-Za-z0-9._-]`, not starting with a
/// dot (which also rules out `.` and `..`, and keeps our `.tmp-*` files out of listings).
pub fn is_safe_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.split('/').all(is_safe_segment)
}

fn is_safe_segment(seg: &str) -> bool {
    !seg.is_empty() && !seg.starts_with('.') && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn unsafe_key(key: &str) -> BackendError {
    BackendError::new(format!("unsafe object key {:?}", key.chars().take(80).collect::<String>()))
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> BackendError {
    BackendError::new(format!("{what} {}: {e}", path.display()))
}

impl DiskStore {
    /// `public_base_url` is how clients reach this server (no trailing slash needed);
    /// `secret` signs the URLs and must survive restarts for issued URLs to stay valid.
    pub fn new(root: PathBuf, public_base_url: String, secret: [u8; 32]) -> Self {
        Self { root, base_url: public_base_url.trim_end_matches('/').to_owned(), secret }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `key` lives on disk, or `None` for an unsafe key.
    pub fn path_of(&self, key: &str) -> Option<PathBuf> {
        is_safe_key(key).then(|| self.root.join(key))
    }

    fn mac(&self, fields: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        // Each field is length-prefixed so no two field lists sign the same bytes.
        for f in fields {
            mac.update(&(f.len() as u64).to_be_bytes());
            mac.update(f);
        }
        mac
    }

    fn put_mac(&self, key: &str, exp: i64, size: u64, content_type: &str) -> HmacSha256 {
        self.mac(&[b"PUT", key.as_bytes(), &size.to_be_bytes(), &exp.to_be_bytes(), content_type.as_bytes()])
    }

    fn get_mac(&self, key: &str, exp: i64) -> HmacSha256 {
        self.mac(&[b"GET", key.as_bytes(), &exp.to_be_bytes()])
    }

    /// Checks a PUT URL's signature against the request's own size and content type, then its
    /// expiry (`now` after `exp` is expired). Constant-time comparison.
    pub fn verify_put(&self, key: &str, exp: i64, size: u64, content_type: &str, sig: &str, now: DateTime<Utc>) -> Result<(), SignatureError> {
        if !is_safe_key(key) {
            return Err(SignatureError::BadKey);
        }
        let tag = hex::decode(sig).map_err(|_| SignatureError::BadSignature)?;
        self.put_mac(key, exp, size, content_type).verify_slice(&tag).map_err(|_| SignatureError::BadSignature)?;
        if now.timestamp() > exp {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    /// Checks a preview URL.
    pub fn verify_get(&self, key: &str, exp: i64, sig: &str, now: DateTime<Utc>) -> Result<(), SignatureError> {
        if !is_safe_key(key) {
            return Err(SignatureError::BadKey);
        }
        let tag = hex::decode(sig).map_err(|_| SignatureError::BadSignature)?;
        self.get_mac(key, exp).verify_slice(&tag).map_err(|_| SignatureError::BadSignature)?;
        if now.timestamp() > exp {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    /// Writes an object atomically: a temporary file in the same folder, fsynced, renamed
    /// over the key, and the folder fsynced, so a reader sees the whole old object or the
    /// whole new one and a crash never leaves half a photo under a key.
    pub async fn write(&self, key: &str, bytes: &[u8]) -> Result<(), BackendError> {
        let path = self.path_of(key).ok_or_else(|| unsafe_key(key))?;
        let bytes = bytes.to_vec();
        blocking(move || write_atomic(&path, &bytes)).await
    }

    /// Writes and syncs `bytes` beside `key` without putting them under it yet. An upload is
    /// staged before its claim, so a failed disk write leaves no claim without bytes, and only
    /// a won claim puts bytes under the key (a replayed URL can never touch the winner's).
    pub async fn stage(&self, key: &str, bytes: impl AsRef<[u8]> + Send + 'static) -> Result<Staged, BackendError> {
        let path = self.path_of(key).ok_or_else(|| unsafe_key(key))?;
        blocking(move || {
            let tmp = temp_beside(&path)?;
            let staged = Staged { tmp, path, done: false };
            fill_synced(&staged.tmp, bytes.as_ref())?;
            Ok(staged)
        })
        .await
    }
}

/// A staged object: `commit` moves it under its key; dropped uncommitted, it is removed.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    done: bool,
}

impl Staged {
    pub async fn commit(mut self) -> Result<(), BackendError> {
        let (tmp, path) = (self.tmp.clone(), self.path.clone());
        let result = blocking(move || rename_durably(&tmp, &path)).await;
        // On failure the staged file is still there, and `drop` removes it.
        self.done = result.is_ok();
        result
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, BackendError> + Send + 'static) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| BackendError::new(format!("disk task: {e}")))?
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BackendError> {
    replace_atomic(path, |tmp| fill_synced(tmp, bytes))
}

fn fill_synced(tmp: &Path, bytes: &[u8]) -> Result<(), BackendError> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(tmp).map_err(|e| io_error("creating", tmp, e))?;
    f.write_all(bytes).map_err(|e| io_error("writing", tmp, e))?;
    f.sync_all().map_err(|e| io_error("syncing", tmp, e))
}

/// `write_atomic` for a file too large to hold in memory (an export ZIP).
fn copy_atomic(src: &Path, dest: &Path) -> Result<(), BackendError> {
    replace_atomic(dest, |tmp| {
        std::fs::copy(src, tmp).map_err(|e| io_error("copying to", tmp, e))?;
        std::fs::File::open(tmp).and_then(|f| f.sync_all()).map_err(|e| io_error("syncing", tmp, e))
    })
}

/// Fills a temporary file in the destination's folder (`fill` must leave it synced), renames
/// it over the destination and syncs the folder, so a reader sees the whole old object or the
/// whole new one and a crash never leaves half a file under a key.
fn replace_atomic(path: &Path, fill: impl FnOnce(&Path) -> Result<(), BackendError>) -> Result<(), BackendError> {
    let tmp = temp_beside(path)?;
    let result = fill(&tmp).and_then(|()| rename_durably(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A fresh temporary name in the destination's folder (created if need be), so the final
/// rename never crosses a file system.
fn temp_beside(path: &Path) -> Result<PathBuf, BackendError> {
    let dir = path.parent().ok_or_else(|| BackendError::new("object path without a folder"))?;
    std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
    Ok(dir.join(format!(".tmp-{:016x}", rand::random::<u64>())))
}

fn rename_durably(tmp: &Path, path: &Path) -> Result<(), BackendError> {
    std::fs::rename(tmp, path).map_err(|e| io_error("renaming onto", path, e))?;
    // The rename is durable once the folder's entry is.
    #[cfg(unix)]
    if let Some(Ok(d)) = path.parent().map(std::fs::File::open) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        Err(e) => return Err(io_error("opening", path, e).into()),
    };
    let meta = f.metadata().map_err(|e| io_error("reading metadata of", path, e))?;
    if !meta.is_file() {
        return Err(ReadError::NotFound);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    // Objects are replaced by rename, never grown in place, but read at most limit+1 bytes
    // anyway so the limit holds whatever happens to the file.
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(limit.saturating_add(1)).read_to_end(&mut buf).map_err(|e| io_error("reading", path, e))?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(buf)
}

/// Every key under `dir` (relative to `root`), skipping our temporary files.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), BackendError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("listing", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error("listing", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_safe_segment(name) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io_error("listing", &path, e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file()
            && let Ok(rel) = path.strip_prefix(root)
            && let Some(rel) = rel.to_str()
        {
            out.push(rel.split(std::path::MAIN_SEPARATOR).collect::<Vec<_>>().join("/"));
        }
    }
    Ok(())
}

#[async_trait]
impl PhotoStore for DiskStore {
    async fn presign_put(&self, key: &str, size: u64, content_type: &str, expires_at: DateTime<Utc>) -> Result<PresignedRequest, BackendError> {
        if !is_safe_key(key) {
            return Err(unsafe_key(key));
        }
        let exp = expires_at.timestamp();
        let sig = hex::encode(self.put_mac(key, exp, size, content_type).finalize().into_bytes());
        Ok(PresignedRequest {
            url: format!("{}/store/{key}?exp={exp}&size={size}&sig={sig}", self.base_url),
            method: "PUT".into(),
            headers: BTreeMap::from([("content-type".to_owned(), content_type.to_owned())]),
        })
    }

    async fn presign_get(&self, key: &str, expires_at: DateTime<Utc>) -> Result<String, BackendError> {
        if !is_safe_key(key) {
            return Err(unsafe_key(key));
        }
        let exp = expires_at.timestamp();
        let sig = hex::encode(self.get_mac(key, exp).finalize().into_bytes());
        Ok(format!("{}/store/{key}?exp={exp}&sig={sig}", self.base_url))
    }

    async fn read(&self, key: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        let path = self.path_of(key).ok_or_else(|| unsafe_key(key))?;
        tokio::task::spawn_blocking(move || read_limited(&path, limit))
            .await
            .map_err(|e| BackendError::new(format!("disk task: {e}")))?
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let path = self.path_of(key).ok_or_else(|| unsafe_key(key))?;
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("deleting", &path, e)),
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        // The prefix may end inside a segment ("uploads/sch-1/S1" matches "S1/..." and
        // "S10/..."): walk from its last complete folder and filter by string prefix, which is
        // S3's meaning of a prefix.
        let folder = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        if !folder.is_empty() && !is_safe_key(folder) {
            return Ok(Vec::new());
        }
        let root = self.root.clone();
        let start = if folder.is_empty() { root.clone() } else { root.join(folder) };
        let prefix = prefix.to_owned();
        blocking(move || {
            let mut keys = Vec::new();
            walk(&root, &start, &mut keys)?;
            keys.retain(|k| k.starts_with(&prefix));
            keys.sort();
            Ok(keys)
        })
        .await
    }

    async fn put_file(&self, key: &str, path: &Path, _content_type: &str) -> Result<(), BackendError> {
        let dest = self.path_of(key).ok_or_else(|| unsafe_key(key))?;
        let src = path.to_owned();
        blocking(move || copy_atomic(&src, &dest)).await
    }

    async fn presign_download(&self, key: &str, _filename: &str, expires_at: DateTime<Utc>) -> Result<String, BackendError> {
        // The store serves a download under its key's last segment (the API names export keys
        // after their file), so the filename needs no signing and cannot inject a header.
        Ok(format!("{}&download=1", self.presign_get(key, expires_at).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const KEY: &str = "uploads/sch-1/S1/t1.jpg";

    fn store() -> DiskStore {
        DiskStore::new(PathBuf::from("/nonexistent"), "http://127.0.0.1:8080/".into(), [7u8; 32])
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()
    }

    /// Splits a presigned URL into (key, exp, size, sig).
    fn parts(url: &str) -> (String, i64, Option<u64>, String) {
        let rest = url.strip_prefix("http://127.0.0.1:8080/store/").expect("base and route");
        let (key, query) = rest.split_once('?').unwrap();
        let q: BTreeMap<&str, &str> = query.split('&').map(|kv| kv.split_once('=').unwrap()).collect();
        (key.to_owned(), q["exp"].parse().unwrap(), q.get("size").map(|s| s.parse().unwrap()), q["sig"].to_owned())
    }

    #[tokio::test]
    async fn a_presigned_put_verifies_only_with_its_own_key_size_type_and_expiry() {
        let s = store();
        let exp_at = now() + Duration::minutes(15);
        let req = s.presign_put(KEY, 1234, "image/jpeg", exp_at).await.unwrap();
        assert_eq!(req.method, "PUT");
        assert_eq!(req.headers.get("content-type").map(String::as_str), Some("image/jpeg"));
        let (key, exp, size, sig) = parts(&req.url);
        assert_eq!((key.as_str(), exp, size), (KEY, exp_at.timestamp(), Some(1234)));

        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg", &sig, now()), Ok(()));
        let bad = Err(SignatureError::BadSignature);
        assert_eq!(s.verify_put("uploads/sch-1/S1/t2.jpg", exp, 1234, "image/jpeg", &sig, now()), bad, "other key");
        assert_eq!(s.verify_put("uploads/sch-2/S1/t1.jpg", exp, 1234, "image/jpeg", &sig, now()), bad, "other school");
        assert_eq!(s.verify_put(&key, exp, 1235, "image/jpeg", &sig, now()), bad, "other size");
        assert_eq!(s.verify_put(&key, exp, 1234, "image/png", &sig, now()), bad, "other type");
        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg; charset=x", &sig, now()), bad, "decorated type");
        assert_eq!(s.verify_put(&key, exp + 3600, 1234, "image/jpeg", &sig, now()), bad, "extended expiry");
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg", std::str::from_utf8(&flipped).unwrap(), now()), bad, "tampered sig");
        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg", "zz", now()), bad, "not hex");
        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg", &sig[..32], now()), bad, "truncated");
        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg", "", now()), bad, "empty");
        // Another secret signs differently.
        let other = DiskStore::new(PathBuf::from("/x"), "http://127.0.0.1:8080".into(), [8u8; 32]);
        assert_eq!(other.verify_put(&key, exp, 1234, "image/jpeg", &sig, now()), bad, "other secret");
        // A GET signature is not a PUT signature.
        let get = s.presign_get(KEY, exp_at).await.unwrap();
        let (_, _, _, get_sig) = parts(&get);
        assert_eq!(s.verify_put(&key, exp, 1234, "image/jpeg", &get_sig, now()), bad, "GET sig used for PUT");
    }

    #[tokio::test]
    async fn expiry_is_inclusive_of_the_last_second_and_reported_only_for_good_signatures() {
        let s = store();
        let exp_at = now() + Duration::minutes(15);
        let req = s.presign_put(KEY, 10, "image/jpeg", exp_at).await.unwrap();
        let (key, exp, _, sig) = parts(&req.url);
        assert_eq!(s.verify_put(&key, exp, 10, "image/jpeg", &sig, exp_at), Ok(()));
        assert_eq!(s.verify_put(&key, exp, 10, "image/jpeg", &sig, exp_at + Duration::seconds(1)), Err(SignatureError::Expired));
        assert_eq!(
            s.verify_put(&key, exp, 11, "image/jpeg", &sig, exp_at + Duration::hours(1)),
            Err(SignatureError::BadSignature),
            "a tampered, expired URL is a bad signature"
        );
    }

    #[tokio::test]
    async fn presigned_gets_verify_and_expire() {
        let s = store();
        let exp_at = now() + Duration::minutes(10);
        let url = s.presign_get(KEY, exp_at).await.unwrap();
        let (key, exp, size, sig) = parts(&url);
        assert_eq!(size, None);
        assert_eq!(s.verify_get(&key, exp, &sig, now()), Ok(()));
        assert_eq!(s.verify_get("uploads/sch-1/S2/t1.jpg", exp, &sig, now()), Err(SignatureError::BadSignature));
        assert_eq!(s.verify_get(&key, exp + 1, &sig, now()), Err(SignatureError::BadSignature));
        assert_eq!(s.verify_get(&key, exp, &sig, exp_at + Duration::seconds(1)), Err(SignatureError::Expired));
        let put = s.presign_put(KEY, 10, "image/jpeg", exp_at).await.unwrap();
        let (_, _, _, put_sig) = parts(&put.url);
        assert_eq!(s.verify_get(&key, exp, &put_sig, now()), Err(SignatureError::BadSignature), "PUT sig used for GET");
    }

    #[tokio::test]
    async fn unsafe_keys_are_refused_everywhere() {
        let s = store();
        let later = now() + Duration::minutes(1);
        for bad in ["", "/etc/passwd", "../x.jpg", "uploads/../../x", "a//b", "a/./b", "a/.hidden", "a b", "a\\b", "uploads/学生.jpg", "a/"] {
            assert!(!is_safe_key(bad), "{bad:?}");
            assert!(s.presign_put(bad, 1, "image/jpeg", later).await.is_err(), "{bad:?}");
            assert!(s.presign_get(bad, later).await.is_err(), "{bad:?}");
            assert_eq!(s.verify_put(bad, 0, 1, "image/jpeg", "00", now()), Err(SignatureError::BadKey), "{bad:?}");
            assert_eq!(s.verify_get(bad, 0, "00", now()), Err(SignatureError::BadKey), "{bad:?}");
            assert!(s.delete(bad).await.is_err(), "{bad:?}");
            assert!(matches!(s.read(bad, 10).await, Err(ReadError::Backend(_))), "{bad:?}");
        }
        assert!(is_safe_key(KEY));
        assert!(is_safe_key("export/a_b-c.1.zip"));
    }

    #[tokio::test]
    async fn writes_replace_whole_objects_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = DiskStore::new(dir.path().to_owned(), "http://h".into(), [1u8; 32]);
        s.write(KEY, b"first").await.unwrap();
        s.write(KEY, b"second version").await.unwrap();
        assert_eq!(s.read(KEY, 100).await.unwrap(), b"second version");
        let folder = dir.path().join("uploads/sch-1/S1");
        let names: Vec<String> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, vec!["t1.jpg".to_owned()]);
        // A stray temporary file (a crash mid-write) is never listed.
        std::fs::write(folder.join(".tmp-dead"), b"x").unwrap();
        assert_eq!(s.list("").await.unwrap(), vec![KEY.to_owned()]);
    }
}

//! S3PhotoStore against a strict S3. moto accepts any signature, so the refusals the upload flow
//! relies on (a body of another size or type, an expired URL, another key, a forged signature)
//! are proven here against `s3s-fs`: the `s3s` crate's S3 protocol layer, which verifies SigV4
//! (header-signed and query-presigned) the way S3 documents it, over a folder on disk.
//!
//! The server runs inside this test process on a loopback port that the OS picks (no port race,
//! nothing to install beyond the dev-dependencies, see docs/aws.md for why not the `s3s-fs`
//! binary). Every request the tests make goes over HTTP with reqwest, as the page's XHR does:
//! the presigned headers minus those a browser refuses to let a script set. Each test gets its
//! own server, folder, bucket and secret key.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use chrono::{Duration, Utc};
use gradphoto_aws::S3PhotoStore;
use gradphoto_core::ports::{PhotoStore, PresignedRequest};
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::time::Duration as StdDuration;

const ACCESS_KEY: &str = "gradphoto-strict";
const KEY: &str = "uploads/s1/A1/t1.jpg";

/// A running strict S3 and a store signed with the only credentials it accepts.
struct Strict {
    store: S3PhotoStore,
    http: reqwest::Client,
    // Dropped (and deleted) with the test; the server task dies with the test's runtime.
    _root: tempfile::TempDir,
}

async fn strict() -> Strict {
    let root = tempfile::tempdir().expect("a temporary folder for s3s-fs");
    let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs on the temporary folder");
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let service = {
        let mut b = S3ServiceBuilder::new(fs);
        // With auth set, s3s refuses every request whose SigV4 signature it cannot verify with
        // this secret; without it, it would accept anonymous requests, so this line is the
        // whole point of the suite (`unsigned_and_foreign_requests_are_refused` guards it).
        b.set_auth(SimpleAuth::from_single(ACCESS_KEY, secret.clone()));
        b.build()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("strict S3 (s3s-fs) could not bind a loopback port: {e}"));
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { continue };
            let service = service.clone();
            tokio::spawn(async move {
                // HTTP/1.1, as a browser's PUT to S3 is.
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(sock), service).await;
            });
        }
    });

    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(ACCESS_KEY, secret, None, None, "strict-s3"))
        .endpoint_url(format!("http://{addr}"))
        .load()
        .await;
    // The production client (checksums only when required), path-style as for moto.
    let client = gradphoto_aws::s3_client(&sdk, true);
    let bucket = format!("gp-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    client.create_bucket().bucket(&bucket).send().await.expect("create the bucket on the strict S3 (header-signed by the SDK)");
    Strict { store: S3PhotoStore::new(client, bucket), http: reqwest::Client::new(), _root: root }
}

/// What the page's `xhrPut` sends: every returned header except those a browser computes
/// itself (it derives `content-length` from the body), then the body.
async fn browser_put(http: &reqwest::Client, url: &str, req: &PresignedRequest, body: Vec<u8>) -> (u16, String) {
    assert_eq!(req.method, "PUT");
    let mut put = http.put(url).body(body);
    for (k, v) in &req.headers {
        if !matches!(k.as_str(), "content-length" | "host" | "connection") {
            put = put.header(k, v);
        }
    }
    let resp = put.send().await.expect("the strict S3 answers");
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

/// The S3 error code of an XML error body (`<Code>…</Code>`), or the whole body.
fn code(body: &str) -> &str {
    body.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>")).map_or(body, |(c, _)| c)
}

fn assert_refused(what: &str, (status, body): &(u16, String), want: &str) {
    assert_eq!(*status, 403, "{what}: expected 403 {want}, got {status}: {body}");
    assert_eq!(code(body), want, "{what}: {body}");
}

async fn jpeg_grant(s: &Strict, key: &str, size: usize, ttl: Duration) -> PresignedRequest {
    s.store.presign_put(key, size as u64, "image/jpeg", Utc::now() + ttl).await.unwrap()
}

#[tokio::test]
async fn the_browser_round_trip_with_exactly_the_returned_headers_is_accepted() {
    let s = strict().await;
    let body: Vec<u8> = (0..12_345u32).map(|i| (i % 251) as u8).collect();
    let grant = jpeg_grant(&s, KEY, body.len(), Duration::minutes(15)).await;
    let put = browser_put(&s.http, &grant.url, &grant, body.clone()).await;
    assert_eq!(put.0, 200, "the page's PUT was refused: {}", put.1);

    // The presigned GET (the preview link) returns the bytes...
    let url = s.store.presign_get(KEY, Utc::now() + Duration::minutes(30)).await.unwrap();
    let got = s.http.get(&url).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), body);
    // ...and so do check-photo's header-signed HEAD + ranged GET.
    assert_eq!(s.store.size(KEY).await.unwrap(), Some(body.len() as u64));
    assert_eq!(s.store.read(KEY, 1024 * 1024).await.unwrap(), body);
}

#[tokio::test]
async fn a_body_of_another_length_is_refused_and_nothing_is_stored() {
    let s = strict().await;
    let grant = jpeg_grant(&s, KEY, 1000, Duration::minutes(15)).await;
    // The browser's content-length follows the body, and content-length is a signed header.
    assert_refused("one byte longer", &browser_put(&s.http, &grant.url, &grant, vec![1; 1001]).await, "SignatureDoesNotMatch");
    assert_refused("one byte shorter", &browser_put(&s.http, &grant.url, &grant, vec![1; 999]).await, "SignatureDoesNotMatch");
    assert_eq!(s.store.size(KEY).await.unwrap(), None, "a refused PUT must store nothing");
    // The same grant still works with the declared size: the refusals were about the body.
    assert_eq!(browser_put(&s.http, &grant.url, &grant, vec![1; 1000]).await.0, 200);
}

#[tokio::test]
async fn another_content_type_or_none_is_refused() {
    let s = strict().await;
    let grant = jpeg_grant(&s, KEY, 100, Duration::minutes(15)).await;
    let mut png = grant.clone();
    png.headers.insert("content-type".into(), "image/png".into());
    assert_refused("Content-Type image/png on an image/jpeg grant", &browser_put(&s.http, &png.url, &png, vec![2; 100]).await, "SignatureDoesNotMatch");
    let mut untyped = grant.clone();
    untyped.headers.remove("content-type");
    assert_refused("no Content-Type", &browser_put(&s.http, &untyped.url, &untyped, vec![2; 100]).await, "SignatureDoesNotMatch");
    assert_eq!(s.store.size(KEY).await.unwrap(), None);
}

#[tokio::test]
async fn an_expired_upload_url_is_refused() {
    let s = strict().await;
    // An already expired ticket still gets a URL (X-Amz-Expires=1, see `presigning`), which
    // the store must refuse once that second has passed.
    let grant = jpeg_grant(&s, KEY, 10, Duration::minutes(-1)).await;
    assert!(grant.url.contains("X-Amz-Expires=1&"), "{}", grant.url);
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    let refused = browser_put(&s.http, &grant.url, &grant, vec![3; 10]).await;
    assert_refused("expired URL", &refused, "AccessDenied");
    assert!(refused.1.contains("expired"), "{}", refused.1);
    assert_eq!(s.store.size(KEY).await.unwrap(), None);
}

#[tokio::test]
async fn a_url_moved_to_another_key_is_refused() {
    let s = strict().await;
    let grant = jpeg_grant(&s, KEY, 10, Duration::minutes(15)).await;
    let other = "uploads/s1/A2/t1.jpg";
    let moved = grant.url.replacen("/uploads/s1/A1/", "/uploads/s1/A2/", 1);
    assert_ne!(moved, grant.url);
    assert_refused("another student's key", &browser_put(&s.http, &moved, &grant, vec![4; 10]).await, "SignatureDoesNotMatch");
    assert_eq!(s.store.size(other).await.unwrap(), None);
    assert_eq!(s.store.size(KEY).await.unwrap(), None);
}

/// The URL with one hex digit of X-Amz-Signature changed.
fn tamper(url: &str) -> String {
    let at = url.find("X-Amz-Signature=").expect("a presigned URL") + "X-Amz-Signature=".len();
    let mut bytes = url.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let s = strict().await;
    let grant = jpeg_grant(&s, KEY, 10, Duration::minutes(15)).await;
    let forged = tamper(&grant.url);
    assert_ne!(forged, grant.url);
    assert_refused("tampered X-Amz-Signature", &browser_put(&s.http, &forged, &grant, vec![5; 10]).await, "SignatureDoesNotMatch");
    assert_eq!(s.store.size(KEY).await.unwrap(), None);
}

#[tokio::test]
async fn unsigned_and_foreign_requests_are_refused() {
    // Guards the suite itself: a server that accepted anonymous requests would make the
    // refusals above meaningless.
    let s = strict().await;
    let grant = jpeg_grant(&s, KEY, 10, Duration::minutes(15)).await;
    let bare = grant.url.split_once('?').unwrap().0.to_owned();
    let anonymous = s.http.put(&bare).header("content-type", "image/jpeg").body(vec![6; 10]).send().await.unwrap();
    assert_refused("an unsigned PUT", &(anonymous.status().as_u16(), anonymous.text().await.unwrap()), "AccessDenied");
    // Signed with another secret for the same access key.
    let other = s.store.client().config().to_builder().credentials_provider(Credentials::new(ACCESS_KEY, "not-the-secret", None, None, "x")).build();
    let stranger = S3PhotoStore::new(aws_sdk_s3::Client::from_conf(other), s.store.bucket());
    let grant = stranger.presign_put(KEY, 10, "image/jpeg", Utc::now() + Duration::minutes(15)).await.unwrap();
    assert_refused("signed with another secret", &browser_put(&s.http, &grant.url, &grant, vec![6; 10]).await, "SignatureDoesNotMatch");
    assert_eq!(s.store.size(KEY).await.unwrap(), None);
}

#[tokio::test]
async fn a_presigned_get_works_until_it_expires() {
    let s = strict().await;
    s.store.client().put_object().bucket(s.store.bucket()).key(KEY).content_type("image/jpeg").body(b"jpeg".to_vec().into()).send().await.unwrap();
    let signed_at = std::time::Instant::now();
    let url = s.store.presign_get(KEY, Utc::now() + Duration::seconds(3)).await.unwrap();
    assert!(url.contains("X-Amz-Expires=3&"), "{url}");
    let got = s.http.get(&url).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"jpeg");
    assert_refused("tampered GET signature", &{
        let r = s.http.get(tamper(&url)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }, "SignatureDoesNotMatch");
    // X-Amz-Date is whole seconds, so the URL dies between 2 and 3 s after signing.
    tokio::time::sleep(StdDuration::from_millis(4500).saturating_sub(signed_at.elapsed())).await;
    let late = s.http.get(&url).send().await.unwrap();
    let late = (late.status().as_u16(), late.text().await.unwrap());
    assert_refused("expired GET", &late, "AccessDenied");
}

#[tokio::test]
async fn the_download_name_is_signed() {
    let s = strict().await;
    let key = "exports/e1.zip";
    s.store.client().put_object().bucket(s.store.bucket()).key(key).body(b"zip".to_vec().into()).send().await.unwrap();
    let url = s.store.presign_download(key, "school-1.zip", Utc::now() + Duration::hours(1)).await.unwrap();
    assert_eq!(s.http.get(&url).send().await.unwrap().status().as_u16(), 200);
    assert!(url.contains("school-1.zip"), "{url}");
    let renamed = url.replacen("school-1.zip", "school-2.zip", 1);
    let r = s.http.get(&renamed).send().await.unwrap();
    assert_refused("renamed download", &(r.status().as_u16(), r.text().await.unwrap()), "SignatureDoesNotMatch");
}

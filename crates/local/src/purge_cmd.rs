//! `gradphoto purge`: removes a finished campaign's personal data from a data folder.
//!
//! The rules and wording live in `gradphoto_core::purge` (shared with `gradphoto-aws purge`);
//! this adds what only a folder needs: the SQLite file is scrubbed by its adapter, and after
//! the store's deletions the `uploads/` and `exports/` folders themselves go, with anything a
//! crash left in them (temporary `.tmp-*` files the store never lists) and the folder names,
//! which are school and student ids.

use crate::disk::DiskStore;
use crate::server;
use gradphoto_core::purge::{self, EXPORT_PREFIX, PHOTO_PREFIX};
use std::path::Path;

/// The database file inside a data folder (as `server::open_records` names it).
const DB_FILE: &str = "gradphoto.sqlite3";

/// Dry run unless `yes`; refuses before the campaign has ended unless `force`. Returns what to
/// print.
pub async fn run(data: &Path, yes: bool, force: bool) -> Result<String, String> {
    if !data.join(DB_FILE).is_file() {
        // Opening would create an empty database: say what is wrong instead.
        return Err(format!("数据目录 {} 中没有 {DB_FILE}，请用 --data 指定服务器的数据目录", data.display()));
    }
    let records = server::open_records(data).map_err(|e| e.to_string())?;
    // The store is only listed and deleted from: no URL is signed, so no key is needed.
    let photos = data.join("photos");
    let store = DiskStore::new(photos.clone(), "http://127.0.0.1".into(), [0u8; 32]);
    let now = chrono::Utc::now();
    if !yes {
        let plan = purge::plan(&*records, &store, now).await.map_err(|e| e.to_string())?;
        let mut out = plan.describe();
        if let Err(refused) = purge::may_purge(&plan, force) {
            out += &format!("\n注意：{refused}");
        }
        return Ok(out);
    }
    let done = purge::purge(&*records, &store, now, force).await.map_err(|e| e.to_string())?;
    for prefix in [PHOTO_PREFIX, EXPORT_PREFIX] {
        remove_tree(&photos.join(prefix.trim_end_matches('/')))?;
    }
    Ok(done.describe())
}

fn remove_tree(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("无法删除 {}：{e}", dir.display())),
    }
}

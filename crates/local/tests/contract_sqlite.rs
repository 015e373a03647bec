//! The contract suite on the embedded backends: SQLite records and the disk store, fresh in a
//! temporary folder for every case.

use gradphoto_contract::{Fixture, contract_tests};
use gradphoto_local::disk::DiskStore;
use gradphoto_local::sqlite::SqliteRecords;
use std::sync::Arc;

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary folder");
    let records = Arc::new(SqliteRecords::open(dir.path().join("gradphoto.sqlite3")).expect("open SQLite"));
    let disk = Arc::new(DiskStore::new(dir.path().join("photos"), "http://127.0.0.1:8080".into(), [42u8; 32]));
    let writer = Arc::clone(&disk);
    Fixture::new(records, disk, move |key, bytes| {
        let writer = Arc::clone(&writer);
        async move { writer.write(&key, &bytes).await }
    })
    .keep(dir)
}

contract_tests!(fixture());

//! Purging personal data from the SQLite file so that it cannot be read back, not merely so
//! that queries stop returning it.
//!
//! A plain `DELETE` leaves the rows' bytes in free pages of the database file and in the WAL
//! until they happen to be reused. So the purge (1) deletes with `secure_delete` on, which
//! zeroes freed content, (2) commits, (3) `VACUUM`s, which rewrites every page of the file,
//! and (4) checkpoints the WAL with `TRUNCATE`, which copies the last pages into the database
//! and empties the WAL file. The purge runs all four every time, so running it again also
//! finishes a purge that was interrupted after its commit.

use super::SqliteRecords;
use gradphoto_core::ports::BackendError;
use gradphoto_core::purge::RecordsPurged;
use rusqlite::{Connection, TransactionBehavior};

fn db(e: rusqlite::Error) -> BackendError {
    BackendError::new(format!("sqlite purge: {e}"))
}

/// Deletes in dependency order (tickets and audit rows reference students) and returns how
/// many rows of each kind went.
fn delete_rows(conn: &mut Connection) -> rusqlite::Result<RecordsPurged> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let tickets = count(tx.execute("DELETE FROM tickets", [])?);
    let parent_codes = count(tx.execute("DELETE FROM parent_codes", [])?);
    let audit_events = count(tx.execute("DELETE FROM audit", [])?);
    let students = count(tx.execute("DELETE FROM students", [])?);
    // The counters now read zero for every status; drop the rows rather than keep zeros.
    tx.execute("DELETE FROM school_counts", [])?;
    tx.execute("UPDATE schools SET username = NULL WHERE username IS NOT NULL", [])?;
    let school_accounts = count(tx.execute("DELETE FROM accounts WHERE role = 'school'", [])?);
    let login_failures = count(tx.execute("DELETE FROM login_failures", [])?);
    tx.commit()?;
    Ok(RecordsPurged { students, tickets, audit_events, school_accounts, login_failures, parent_codes })
}

fn purge(conn: &mut Connection) -> Result<RecordsPurged, BackendError> {
    conn.pragma_update(None, "secure_delete", true).map_err(db)?;
    let deleted = delete_rows(conn);
    // Back to the default for the server's normal writes (zeroing costs I/O on every delete).
    let reset = conn.pragma_update(None, "secure_delete", false);
    let deleted = deleted.map_err(db)?;
    reset.map_err(db)?;
    conn.execute_batch("VACUUM").map_err(db)?;
    let (busy, log, checkpointed): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
    if busy != 0 || log != checkpointed {
        // Another connection (a running server) holds an old snapshot, so the WAL still has
        // pages with the deleted rows in it.
        return Err(BackendError::new(
            "数据库仍被其他进程占用，预写日志未能清空：请先停止 gradphoto 服务器，再运行一次 purge",
        ));
    }
    Ok(deleted)
}

impl SqliteRecords {
    pub(crate) async fn purge_all(&self) -> Result<RecordsPurged, BackendError> {
        let mut conn = self.inner.writer.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || purge(&mut conn))
            .await
            .map_err(|e| BackendError::new(format!("sqlite purge task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradphoto_core::ports::Records;
    use gradphoto_core::{RosterRow, School, Stage, StudentId};

    /// The rows are gone from the bytes of the database and WAL, not only from queries.
    #[tokio::test]
    async fn purged_names_are_not_in_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite3");
        let db = SqliteRecords::open(&path).unwrap();
        let school = School { school_id: "s1".into(), district: "区".into(), name: "学校".into(), stage: Stage::Junior, registration_code: "C1".into(), username: None };
        db.insert_schools(&[school]).await.unwrap();
        let rows: Vec<RosterRow> = (0..300)
            .map(|i| RosterRow { school_id: "s1".into(), student_id: StudentId::parse(&format!("ZQX{i:05}")).unwrap(), name: format!("欧阳秘密{i}"), class: "1班".into() })
            .collect();
        db.import_roster(&rows).await.unwrap();
        let found = |needle: &[u8]| {
            std::fs::read_dir(dir.path()).unwrap().flatten().any(|e| {
                let bytes = std::fs::read(e.path()).unwrap();
                bytes.windows(needle.len()).any(|w| w == needle)
            })
        };
        assert!(found("欧阳秘密".as_bytes()), "the names are in the files before the purge");
        let purged = db.purge_personal_data().await.unwrap();
        assert_eq!(purged.students, 300);
        assert!(!found("欧阳秘密".as_bytes()), "a name survived the purge in the files");
        assert!(!found(b"ZQX0"), "a student id survived the purge in the files");
        assert_eq!(std::fs::metadata(dir.path().join("x.sqlite3-wal")).map(|m| m.len()).unwrap_or(0), 0, "the WAL is emptied");
        assert!(db.purge_personal_data().await.unwrap().is_empty(), "a second purge finds nothing");
        assert_eq!(db.schools().await.unwrap().len(), 1);
    }
}

//! `Records` on SQLite.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool. One writer connection
//! sits behind an async mutex (SQLite has one writer anyway; queueing in tokio rather than on
//! SQLite's busy handler keeps waiting cheap and fair), and a small pool of reader connections
//! serves queries concurrently: in WAL mode readers never wait for the writer, so a teacher's
//! roster listing is not stuck behind 64 uploads being claimed.
//!
//! Every conditional transition is one `BEGIN IMMEDIATE` transaction on the writer, so the
//! condition is read and the change written with no other writer in between, and the audit
//! row is part of the same commit.

mod codec;
mod purge;
mod records;
mod schema;
mod stats;

use gradphoto_core::ports::BackendError;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Mutex as AsyncMutex, Semaphore};

pub use codec::{BAND_BITS, BANDS, bands};

/// How many reader connections serve queries in parallel. The machine has few cores; more
/// readers than that only adds memory.
pub const DEFAULT_READERS: usize = 4;

/// How long a statement waits for a lock held by another process (the `add-user` command
/// while the server runs) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `Records` on one SQLite file. Cheap to clone (shares the connections).
#[derive(Clone)]
pub struct SqliteRecords {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Arc<AsyncMutex<Connection>>,
    readers: ReaderPool,
}

impl std::fmt::Debug for SqliteRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRecords").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

struct ReaderPool {
    /// One permit per idle connection: waiting for a reader is an async wait, not a blocked
    /// thread.
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
}

/// A reader borrowed from the pool; returned on drop, even if the query panicked.
struct Lease<'a> {
    pool: &'a ReaderPool,
    conn: Option<Connection>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
    }
}

/// What a closure run inside a connection can fail with: a rule of the port (returned to the
/// caller as is) or the database itself (becomes a `BackendError`). Lets `?` work on rusqlite
/// results inside the closures without `From` impls on the core's error types.
pub(crate) enum Fail<E> {
    Rule(E),
    Db(BackendError),
}

impl<E> From<rusqlite::Error> for Fail<E> {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Db(BackendError::new(format!("sqlite: {e}")))
    }
}

impl<E> From<serde_json::Error> for Fail<E> {
    fn from(e: serde_json::Error) -> Self {
        Fail::Db(BackendError::new(format!("stored JSON: {e}")))
    }
}

impl<E> From<BackendError> for Fail<E> {
    fn from(e: BackendError) -> Self {
        Fail::Db(e)
    }
}

impl<E: From<BackendError>> Fail<E> {
    fn into_error(self) -> E {
        match self {
            Fail::Rule(e) => e,
            Fail::Db(e) => E::from(e),
        }
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // NORMAL in WAL mode: a commit is not fsynced (the WAL is, at checkpoints), so a power cut
    // may lose the last commits but never corrupts the file. Uploads are re-tried by teachers.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    Ok(conn)
}

impl SqliteRecords {
    /// Opens (creating if needed) the database at `path`, migrates its schema and opens the
    /// reader pool.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        Self::open_with_readers(path, DEFAULT_READERS)
    }

    pub fn open_with_readers(path: impl AsRef<Path>, readers: usize) -> Result<Self, BackendError> {
        let path = path.as_ref().to_owned();
        let db = |e: rusqlite::Error| BackendError::new(format!("sqlite {}: {e}", path.display()));
        let mut writer = open_conn(&path).map_err(db)?;
        // WAL is a property of the file: set once, readers inherit it.
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(BackendError::new(format!("sqlite {}: cannot enable WAL (journal_mode={mode})", path.display())));
        }
        schema::migrate(&mut writer).map_err(|e| BackendError::new(format!("sqlite {}: migrating: {e}", path.display())))?;
        let readers = readers.max(1);
        let mut idle = Vec::with_capacity(readers);
        for _ in 0..readers {
            let conn = open_conn(&path).map_err(db)?;
            // A reader must never write, even by mistake in a query.
            conn.pragma_update(None, "query_only", true).map_err(db)?;
            idle.push(conn);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Arc::new(AsyncMutex::new(writer)),
                readers: ReaderPool { permits: Arc::new(Semaphore::new(readers)), idle: Mutex::new(idle) },
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a reader connection (autocommit: each statement sees the latest commit).
    pub(crate) async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<BackendError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Fail<E>> + Send + 'static,
    {
        let permit = self.inner.readers.permits.clone().acquire_owned().await.map_err(|e| E::from(BackendError::new(e)))?;
        let inner = self.inner.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = inner.readers.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let lease = Lease { pool: &inner.readers, conn };
            let conn = lease.conn.as_ref().ok_or_else(|| Fail::Db(BackendError::new("reader pool empty")))?;
            f(conn)
        })
        .await;
        match joined {
            Ok(r) => r.map_err(Fail::into_error),
            Err(e) => Err(E::from(BackendError::new(format!("sqlite reader task: {e}")))),
        }
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the writer: committed if `f` returns
    /// `Ok`, rolled back on any error (rule or database), so a refused transition or a bad
    /// roster line leaves nothing behind.
    pub(crate) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<BackendError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, Fail<E>> + Send + 'static,
    {
        let mut conn = self.inner.writer.clone().lock_owned().await;
        let joined = tokio::task::spawn_blocking(move || {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await;
        match joined {
            Ok(r) => r.map_err(Fail::into_error),
            Err(e) => Err(E::from(BackendError::new(format!("sqlite writer task: {e}")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use gradphoto_core::ports::{CheckOutcome, Records};
    use gradphoto_core::{Decision, Reason, RosterRow, School, Stage, StudentId, Ticket};

    fn school(n: u32) -> School {
        School { school_id: format!("s{n}"), district: "区".into(), name: format!("学校{n}"), stage: Stage::Junior, registration_code: format!("C{n}"), username: None }
    }

    fn rows(school: u32, n: u32) -> Vec<RosterRow> {
        (0..n)
            .map(|i| RosterRow { school_id: format!("s{school}"), student_id: StudentId::parse(&format!("S{school}x{i}")).unwrap(), name: "名".into(), class: "1班".into() })
            .collect()
    }

    #[tokio::test]
    async fn opens_in_wal_with_foreign_keys_and_read_only_readers() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteRecords::open(dir.path().join("x.sqlite3")).unwrap();
        let (mode, fk, version): (String, i64, i64) = db
            .read::<_, BackendError, _>(|c| {
                let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let fk = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                let v = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                Ok((mode, fk, v))
            })
            .await
            .unwrap();
        assert_eq!((mode.as_str(), fk, version), ("wal", 1, 9));
        let write_on_reader = db.read::<_, BackendError, _>(|c| Ok(c.execute("DELETE FROM schools", [])?)).await;
        assert!(write_on_reader.is_err(), "readers are query_only");
        // Foreign keys hold: a student of an unknown school cannot be written.
        let orphan = db
            .write::<_, BackendError, _>(|tx| {
                Ok(tx.execute("INSERT INTO students (student_id, school_id, name, class, status) VALUES ('X1', 'nope', 'n', 'c', 'not_uploaded')", [])?)
            })
            .await;
        assert!(orphan.is_err());
    }

    #[tokio::test]
    async fn data_survives_reopening_and_migration_runs_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite3");
        {
            let db = SqliteRecords::open(&path).unwrap();
            db.insert_schools(&[school(1)]).await.unwrap();
            db.import_roster(&rows(1, 3)).await.unwrap();
        }
        let db = SqliteRecords::open(&path).unwrap();
        assert_eq!(db.counts("s1").await.unwrap().not_uploaded, 3);
        assert_eq!(db.schools().await.unwrap(), vec![school(1)]);
    }

    #[tokio::test]
    async fn trigger_counters_agree_with_a_recount() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteRecords::open(dir.path().join("x.sqlite3")).unwrap();
        db.insert_schools(&[school(1), school(2)]).await.unwrap();
        db.import_roster(&rows(1, 40)).await.unwrap();
        db.import_roster(&rows(2, 15)).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
        // Drive students through every transition with a fixed pattern.
        for i in 0..40u32 {
            let id = StudentId::parse(&format!("S1x{i}")).unwrap();
            if i % 5 == 0 {
                continue;
            }
            let t = Ticket { ticket_id: format!("t{i}"), student_id: id.clone(), school_id: "s1".into(), size: 1, generation: 0, issued_at: now, expires_at: now + chrono::Duration::minutes(5), issued_by: "t".into(), uploader: Default::default(), auto_cropped: false };
            db.issue_ticket(&t).await.unwrap();
            db.claim_upload(&id, &t.ticket_id, now).await.unwrap();
            if i % 5 == 1 {
                continue;
            }
            let reject = i % 5 == 2;
            let outcome = CheckOutcome { rejections: if reject { vec![Reason::new("x", "x")] } else { vec![] }, flags: vec![], photo_hash: Some(u64::from(i)), ..Default::default() };
            db.record_check(&id, &t.ticket_id, &outcome, now).await.unwrap();
            if i % 5 == 3 {
                db.review(&id, None, Decision::Approve, &[], None, "r", now).await.unwrap();
            }
        }
        let recount: Vec<(String, String, i64)> = db
            .read::<_, BackendError, _>(|c| {
                let mut st = c.prepare("SELECT school_id, status, COUNT(*) FROM students GROUP BY school_id, status ORDER BY 1, 2")?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
            .unwrap();
        let all = db.all_counts().await.unwrap();
        for (school, status, n) in &recount {
            let counts = all[school];
            let got = match status.as_str() {
                "not_uploaded" => counts.not_uploaded,
                "uploaded" => counts.uploaded,
                "pending_review" => counts.pending_review,
                "approved" => counts.approved,
                "rejected" => counts.rejected,
                other => panic!("{other}"),
            };
            assert_eq!(i64::from(got), *n, "{school} {status}");
        }
        let total: u32 = all.values().map(|c| c.total()).sum();
        assert_eq!(total, 55);
        assert_eq!(all["s1"].not_uploaded, 8);
        assert_eq!(all["s1"].uploaded, 8);
        assert_eq!(all["s1"].rejected, 8);
        assert_eq!(all["s1"].approved, 8);
        assert_eq!(all["s1"].pending_review, 8);
    }
}

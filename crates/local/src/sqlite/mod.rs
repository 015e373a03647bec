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
mod records;
mod schema;

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

//! The database handle: one SQLite file, one writer connection (every write is a `BEGIN IMMEDIATE`
//! transaction, so no caller ever sees SQLITE_BUSY from a read-then-write upgrade), and a small pool
//! of read connections. All calls run on the blocking pool, never on an async worker thread.

pub mod backup;
mod open;
mod pool;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use open::{OpenError, check_existing_file, open_and_migrate};

pub const DB_FILE: &str = "parley.db";

/// Errors of the storage layer itself (not of the queries callers run).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database task was cancelled")]
    Cancelled,
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: pool::Pool,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) and migrates the database, then opens the read pool.
    pub fn open(path: &Path, read_connections: usize) -> Result<Db, OpenError> {
        let writer = open_and_migrate(path)?;
        let readers = (0..read_connections)
            .map(|_| open::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Db {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers: pool::Pool::new(readers),
                path: path.to_path_buf(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a read connection from the pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let conn = inner.readers.get();
            f(&conn)
        })
        .await
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction on the writer; commits if it returns Ok.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            // The lock is taken inside the blocking thread, so it is never held across an await.
            // A panic in an earlier closure rolled its transaction back while unwinding, so the
            // connection behind a poisoned lock is still sound.
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| E::from(DbError::from(e)))?;
            let out = f(&tx)?;
            tx.commit().map_err(|e| E::from(DbError::from(e)))?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` on the writer connection outside any transaction (for `VACUUM INTO` and pragmas).
    pub async fn with_writer<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
    }
}

/// `spawn_blocking` that keeps the caller's tracing span and re-raises a panic of the closure.
async fn run_blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(E::from(DbError::Cancelled)),
    }
}

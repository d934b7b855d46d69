//! The database handle: one SQLite file, one writer connection (every write is a `BEGIN IMMEDIATE`
//! transaction, so no caller ever sees SQLITE_BUSY from a read-then-write upgrade), and a few read
//! connections. Each connection lives on its own thread and takes work from a queue, so database
//! calls never run on an async worker thread and the number of threads stays fixed however many
//! requests wait.

pub mod backup;
mod open;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::{Sender, unbounded};
use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use open::{OpenError, check_existing_file, open_and_migrate};

pub const DB_FILE: &str = "parley.db";

/// Errors of the storage layer itself (not of the queries callers run).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database threads have stopped")]
    Cancelled,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Sender<Job>,
    readers: Sender<Job>,
    path: PathBuf,
}

/// Starts one thread per connection, all taking jobs from one queue.
fn serve(connections: Vec<Connection>, name: &str) -> Result<Sender<Job>, OpenError> {
    let (sender, receiver) = unbounded::<Job>();
    for (n, mut conn) in connections.into_iter().enumerate() {
        let jobs = receiver.clone();
        std::thread::Builder::new()
            .name(format!("{name}-{n}"))
            .spawn(move || {
                for job in jobs {
                    job(&mut conn);
                }
            })
            .map_err(|e| OpenError::Io {
                path: PathBuf::from(name),
                source: e,
            })?;
    }
    Ok(sender)
}

impl Db {
    /// Opens (creating if needed) and migrates the database, then starts the connection threads.
    pub fn open(path: &Path, read_connections: usize) -> Result<Db, OpenError> {
        let writer = open_and_migrate(path)?;
        let readers = (0..read_connections)
            .map(|_| open::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Db {
            inner: Arc::new(Inner {
                writer: serve(vec![writer], "parley-db-write")?,
                readers: serve(readers, "parley-db-read")?,
                path: path.to_path_buf(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a read connection.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        run(&self.inner.readers, move |conn| f(conn)).await
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction on the writer; commits if it returns Ok.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        run(&self.inner.writer, move |conn| {
            // A panic inside `f` unwinds through the transaction, which rolls back on drop.
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
        run(&self.inner.writer, move |conn| f(conn)).await
    }
}

/// Queues `f` for a connection thread and awaits its answer, keeping the caller's tracing span.
/// A panic in `f` is caught on the connection thread (which keeps serving) and re-raised here.
async fn run<T, E, F>(queue: &Sender<Job>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let (answer, result) = tokio::sync::oneshot::channel();
    let span = tracing::Span::current();
    let job: Job = Box::new(move |conn| {
        let outcome = catch_unwind(AssertUnwindSafe(|| span.in_scope(|| f(conn))));
        let _ = answer.send(outcome);
    });
    queue.send(job).map_err(|_| E::from(DbError::Cancelled))?;
    match result.await {
        Ok(Ok(out)) => out,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => Err(E::from(DbError::Cancelled)),
    }
}

//! The database handle: one SQLite file, one writer connection (every write is a `BEGIN IMMEDIATE`
//! transaction, so no caller ever sees SQLITE_BUSY from a read-then-write upgrade), and read
//! connections of two kinds:
//! - each HTTP worker thread owns one ([`Db::attach_local_reader`]) and runs its short reads on it
//!   in place: an indexed lookup takes microseconds, less than handing it to another thread and
//!   waking up again would cost;
//! - a small pool of connection threads fed by a queue serves every other thread, and the reads
//!   that may take long (full-text search, reports), so they never hold up a worker's other
//!   requests.
//!
//! The writer also lives on its own thread behind a queue, so the number of threads stays fixed
//! however many requests wait.

pub(crate) mod backup;
mod open;
pub(crate) mod schema;
mod timestamp;
mod writer;

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Sender, unbounded};
use rusqlite::Connection;

pub use open::{OpenError, open_and_migrate};
pub(crate) use open::{check_existing_file, latest_schema_version};
pub(crate) use timestamp::{Timestamp, timestamp, timestamp_opt};

pub const DB_FILE: &str = "parley.db";

/// Who copies the WAL back into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Checkpoints {
    /// Parley's checkpointer thread (the default).
    Parley,
    /// Never Parley: `wal_autocheckpoint = 0`, no checkpointer, no checkpoint on close.
    External,
}

/// The write-ahead log beside the database file at `db`.
pub(crate) fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Work the writer does in every transaction just before it commits (the owner of the search
/// index folds the transaction's new messages in: `messaging::search::index_queued_messages`).
pub(crate) type BeforeCommit = fn(&Connection) -> rusqlite::Result<()>;

/// Errors of the storage layer itself (not of the queries callers run).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database threads have stopped")]
    Cancelled,
    /// The shared transaction of a group of writes could not begin or commit.
    #[error("transaction: {0}")]
    Transaction(String),
}

impl DbError {
    /// Did SQLite fail for lack of disk space (the file, its WAL or a temporary file)?
    pub(crate) fn is_disk_full(&self) -> bool {
        match self {
            DbError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            DbError::Transaction(reason) => reason.contains("database or disk is full"),
            DbError::Cancelled => false,
        }
    }
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Counts of the reads and writes callers have started on a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Activity {
    pub reads: u64,
    pub writes: u64,
}

#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells this database's connections apart in [`LOCAL_READERS`].
    id: u64,
    writer: Sender<writer::WriteJob>,
    readers: Sender<Job>,
    /// Reads started, which pace the writer's commits while they are busy (see [`writer`]).
    reads: writer::ReadCount,
    /// Writes started (see [`Db::activity`]).
    writes: AtomicU64,
    /// Dropped with the handle, which stops the checkpointer thread (none when checkpoints are
    /// external).
    _checkpointer: Option<Sender<()>>,
    path: PathBuf,
}

static NEXT_DB_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The read connections this thread owns, by database id.
    static LOCAL_READERS: RefCell<Vec<(u64, Connection)>> = const { RefCell::new(Vec::new()) };
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
    /// With [`Checkpoints::External`] no connection of Parley's ever checkpoints: not the
    /// checkpointer (not started), not the writer (`wal_autocheckpoint = 0`), not a closing
    /// connection; the tool that owns checkpoints (Litestream) does, and its short write locks
    /// are waited for (the busy timeout) rather than failed on.
    pub(crate) fn open(
        path: &Path,
        read_connections: usize,
        checkpoints: Checkpoints,
        before_commit: BeforeCommit,
    ) -> Result<Db, OpenError> {
        let writer = open::open_and_migrate_with(path, checkpoints)?;
        let sqlite = |source| OpenError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        writer
            .pragma_update(None, "cache_size", -open::WRITER_CACHE_KIB)
            .map_err(sqlite)?;
        let readers = (0..read_connections)
            .map(|_| open::open_reader(path, open::POOLED_READER_CACHE_KIB))
            .collect::<Result<Vec<_>, _>>()?;
        let reads = writer::ReadCount::default();
        let writer = writer::start(writer, checkpoints, before_commit, reads.clone())?;
        let checkpointer = match checkpoints {
            Checkpoints::Parley => Some(writer::start_checkpointer(
                open::open_checkpointer(path)?,
                writer.clone(),
                writer::RESTART_PAGES,
            )?),
            Checkpoints::External => None,
        };
        Ok(Db {
            inner: Arc::new(Inner {
                id: NEXT_DB_ID.fetch_add(1, Ordering::Relaxed),
                writer,
                _checkpointer: checkpointer,
                readers: serve(readers, "parley-db-read")?,
                reads,
                writes: AtomicU64::new(0),
                path: path.to_path_buf(),
            }),
        })
    }

    /// The reads and writes started so far: background work that waits for a quiet moment
    /// compares two of these.
    pub(crate) fn activity(&self) -> Activity {
        Activity {
            reads: self.inner.reads.load(Ordering::Relaxed),
            writes: self.inner.writes.load(Ordering::Relaxed),
        }
    }

    /// Writes waiting for the writer thread (the metrics' queue depth).
    pub(crate) fn writer_queue_depth(&self) -> usize {
        self.inner.writer.len()
    }

    /// Gives the calling thread a read connection of its own, used by [`Db::read`] on this
    /// thread from now on. Called once by each HTTP worker thread as it starts; the connection
    /// closes when the thread ends.
    pub(crate) fn attach_local_reader(&self) -> Result<(), OpenError> {
        let id = self.inner.id;
        let attached = LOCAL_READERS.with_borrow(|readers| readers.iter().any(|(db, _)| *db == id));
        if !attached {
            let conn = open::open_reader(&self.inner.path, open::WORKER_READER_CACHE_KIB)?;
            LOCAL_READERS.with_borrow_mut(|readers| readers.push((id, conn)));
        }
        Ok(())
    }

    /// Runs a short read: in place on this thread's own connection if it has one, otherwise on
    /// the pool. Its statements see one snapshot ([`in_snapshot`]).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let id = self.inner.id;
        let local =
            LOCAL_READERS.with_borrow(|readers| readers.iter().position(|(db, _)| *db == id));
        if let Some(index) = local {
            self.inner.reads.fetch_add(1, Ordering::Relaxed);
            return LOCAL_READERS.with_borrow(|readers| in_snapshot(&readers[index].1, f));
        }
        self.read_pooled(f).await
    }

    /// Runs a read that may take long (search, reports) on the pool, never on the calling thread.
    pub(crate) async fn read_pooled<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
        let readers = &self.inner.readers;
        run(|job| readers.send(job).is_ok(), |conn| in_snapshot(conn, f)).await
    }

    /// Runs `f` inside a `BEGIN IMMEDIATE` transaction on the writer, which it may share with
    /// other writes queued at the same time (see [`writer`]); its changes are kept if it returns
    /// Ok, and it returns once they are committed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let (answer, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: writer::TxJob = Box::new(move |conn| {
            let outcome = match conn {
                Ok((conn, writer::Isolation::Savepoint)) => {
                    span.in_scope(|| writer::in_savepoint(conn, f))
                }
                Ok((conn, writer::Isolation::Alone)) => span.in_scope(|| writer::alone(conn, f)),
                Err(reason) => Ok(Err(E::from(DbError::Transaction(reason)))),
            };
            writer::Ran {
                failed: !matches!(outcome, Ok(Ok(_))),
                deliver: Box::new(move |committed: Result<(), String>| {
                    let outcome = match (outcome, committed) {
                        (Ok(Ok(_)), Err(reason)) => Ok(Err(E::from(DbError::Transaction(reason)))),
                        (outcome, _) => outcome,
                    };
                    let _ = answer.send(outcome);
                }),
            }
        });
        self.inner
            .writer
            .send(writer::WriteJob::InTransaction(job))
            .map_err(|_| E::from(DbError::Cancelled))?;
        match result.await {
            Ok(Ok(out)) => out,
            Ok(Err(panic)) => resume_unwind(panic),
            Err(_) => Err(E::from(DbError::Cancelled)),
        }
    }
}

/// Runs a read's statements in one read transaction: they see one snapshot (a page and its totals
/// agree), and the connection takes and releases the WAL read lock once instead of once per
/// statement (each a `fcntl` on the shared-memory file when no other connection of the process
/// holds that lock). The transaction ends however `f` ends, a panic included, so a connection never
/// keeps an old snapshot.
fn in_snapshot<T, E, F>(conn: &Connection, f: F) -> Result<T, E>
where
    F: FnOnce(&Connection) -> Result<T, E>,
    E: From<DbError>,
{
    struct Snapshot<'c>(&'c Connection);
    impl Drop for Snapshot<'_> {
        fn drop(&mut self) {
            // A read-only transaction has nothing to keep: ending it only releases the lock.
            if !self.0.is_autocommit() {
                let _ = self
                    .0
                    .prepare_cached("ROLLBACK")
                    .and_then(|mut s| s.execute([]));
            }
        }
    }
    conn.prepare_cached("BEGIN")
        .and_then(|mut begin| begin.execute([]))
        .map_err(DbError::from)?;
    let _snapshot = Snapshot(conn);
    f(conn)
}

/// Hands `f` to a connection thread through `queue` and awaits its answer, keeping the caller's
/// tracing span. A panic in `f` is caught on the connection thread (which keeps serving) and
/// re-raised here.
async fn run<T, E, F>(queue: impl FnOnce(Job) -> bool, f: F) -> Result<T, E>
where
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let (answer, result) = tokio::sync::oneshot::channel();
    let span = tracing::Span::current();
    let job: Job = Box::new(move |conn| {
        let outcome = catch_unwind(AssertUnwindSafe(|| span.in_scope(|| f(conn))));
        let _ = answer.send(outcome);
    });
    if !queue(job) {
        return Err(E::from(DbError::Cancelled));
    }
    match result.await {
        Ok(Ok(out)) => out,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => Err(E::from(DbError::Cancelled)),
    }
}

#[cfg(test)]
mod tests;

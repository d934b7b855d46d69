//! The writer thread, with group commit. Every write is a `BEGIN IMMEDIATE` transaction; the
//! writes that are queued when the thread gets to them share one transaction, each under its own
//! savepoint, so one commit (the costly part: the WAL append and its locks) serves them all. A write
//! that fails or panics rolls back to its savepoint and does not touch the others. Nobody hears
//! back before the commit that holds their write has returned: an acknowledged write is in the WAL
//! (`synchronous=NORMAL`: durable across a crash of the process; across power loss, up to the last
//! checkpoint).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::thread::Result as Caught;

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use rusqlite::Connection;

use super::{DbError, Job, OpenError};

/// At most this many writes share a commit, so one batch cannot grow without end under load.
const MAX_BATCH: usize = 128;

/// What to tell a writer once the commit of its batch succeeded (`Ok`) or failed.
pub(super) type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A write, run inside the batch's transaction (or told why it could not be); returns how to
/// deliver its answer after the commit.
pub(super) type TxJob = Box<dyn FnOnce(Result<&Connection, String>) -> Deliver + Send>;

pub(super) enum WriteJob {
    InTransaction(TxJob),
    /// Runs outside any transaction (`VACUUM INTO`, pragmas), between batches.
    Raw(Job),
}

/// The writer leaves copying the WAL into the database file to the checkpointer thread. But under
/// continuous writes the WAL is never wholly copied between two commits, and only then can the
/// next transaction start it over: so once it holds this many pages (80 MB), the writer checkpoints
/// itself (what the checkpointer has not copied yet, and an fsync), and the WAL restarts.
const WRITER_CHECKPOINT_PAGES: i64 = 20_000;

/// How long the checkpointer waits between passes while writes arrive: it follows the writer
/// closely, so the writer's own checkpoint finds less left to copy (p99 of a send at 1M: 102–108 ms
/// with 200 ms between passes, 60–75 ms with 10 ms). That checkpoint, run inside a commit, still
/// holds writes up for 20–160 ms, its fsync waiting behind the checkpointer's.
const CHECKPOINT_BUSY: Duration = Duration::from_millis(10);

/// How long it waits after a pass that found nothing new.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(200);

pub(super) fn start(conn: Connection) -> Result<Sender<WriteJob>, OpenError> {
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
        .map_err(|source| OpenError::Sqlite {
            path: PathBuf::from(conn.path().unwrap_or_default()),
            source,
        })?;
    let (sender, receiver) = unbounded::<WriteJob>();
    std::thread::Builder::new()
        .name("parley-db-write".into())
        .spawn(move || serve(conn, receiver))
        .map_err(|e| OpenError::Io {
            path: PathBuf::from("parley-db-write"),
            source: e,
        })?;
    Ok(sender)
}

/// Starts the checkpointer: passive checkpoints (which never block the writer or the readers),
/// [`CHECKPOINT_BUSY`] apart while the WAL changes and [`CHECKPOINT_IDLE`] apart while it does
/// not, including the fsyncs the writer would otherwise do between commits. Stops when `stop` is
/// dropped.
pub(super) fn start_checkpointer(conn: Connection) -> Result<Sender<()>, OpenError> {
    let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
    std::thread::Builder::new()
        .name("parley-db-checkpoint".into())
        .spawn(move || {
            let mut wait = CHECKPOINT_IDLE;
            let mut seen = None;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                // The pass's WAL size and pages copied: unchanged means no write since the last.
                let pass = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                });
                match pass {
                    Ok(frames) => {
                        wait = if seen == Some(frames) {
                            CHECKPOINT_IDLE
                        } else {
                            CHECKPOINT_BUSY
                        };
                        seen = Some(frames);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "checkpoint failed; the writer checkpoints if the WAL grows");
                    }
                }
            }
        })
        .map_err(|e| OpenError::Io {
            path: PathBuf::from("parley-db-checkpoint"),
            source: e,
        })?;
    Ok(stop)
}

fn serve(mut conn: Connection, jobs: Receiver<WriteJob>) {
    let mut next: Option<WriteJob> = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match job {
            WriteJob::Raw(job) => job(&mut conn),
            WriteJob::InTransaction(first) => {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(WriteJob::InTransaction(job)) => batch.push(job),
                        Ok(raw) => {
                            next = Some(raw);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                run_batch(&conn, batch);
            }
        }
    }
}

fn run_batch(conn: &Connection, batch: Vec<TxJob>) {
    if let Err(e) = execute(conn, "BEGIN IMMEDIATE") {
        let reason = e.to_string();
        for job in batch {
            job(Err(reason.clone()))(Err(reason.clone()));
        }
        return;
    }
    let deliveries: Vec<Deliver> = batch.into_iter().map(|job| job(Ok(conn))).collect();
    let committed = super::index_queued_messages(conn)
        .and_then(|()| execute(conn, "COMMIT"))
        .map_err(|e| {
            // A failed indexing or COMMIT leaves the transaction open; end it so the next batch
            // starts clean.
            let _ = execute(conn, "ROLLBACK");
            e.to_string()
        });
    for deliver in deliveries {
        deliver(committed.clone());
    }
}

fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs `f` under a savepoint of the open transaction: released if `f` returns Ok, rolled back
/// if it returns an error or panics (the panic is caught and handed back to the caller's task).
pub(super) fn in_savepoint<T, E, F>(conn: &Connection, f: F) -> Caught<Result<T, E>>
where
    F: FnOnce(&Connection) -> Result<T, E>,
    E: From<DbError>,
{
    if let Err(e) = execute(conn, "SAVEPOINT write") {
        return Ok(Err(E::from(DbError::from(e))));
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)));
    let undo = !matches!(outcome, Ok(Ok(_)));
    let ended = if undo {
        execute(conn, "ROLLBACK TO write").and_then(|()| execute(conn, "RELEASE write"))
    } else {
        execute(conn, "RELEASE write")
    };
    match (outcome, ended) {
        (Ok(Ok(_)), Err(e)) => Ok(Err(E::from(DbError::from(e)))),
        (outcome, _) => outcome,
    }
}

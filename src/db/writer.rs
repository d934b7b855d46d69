//! The writer thread, with group commit. Every write is a `BEGIN IMMEDIATE` transaction; the
//! writes that are queued when the thread gets to them (and, while reads are busy, those arriving
//! until [`COMMIT_INTERVAL`] after the previous commit) share one transaction, each under its own
//! savepoint, so one commit (the costly part: the WAL append and its locks) serves them all. A write
//! that fails or panics rolls back to its savepoint and does not touch the others; a write alone in
//! its batch (the common case below saturation) needs no savepoint: the whole transaction is
//! rolled back instead of committed. Nobody hears
//! back before the commit that holds their write has returned: an acknowledged write is in the WAL
//! (`synchronous=NORMAL`: durable across a crash of the process; across power loss, up to the last
//! checkpoint).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::thread::Result as Caught;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use rusqlite::Connection;

use super::{Checkpoints, DbError, Job, OpenError};

/// At most this many writes share a commit, so one batch cannot grow without end under load.
const MAX_BATCH: usize = 128;

/// What to tell a writer once the commit of its batch succeeded (`Ok`) or failed.
pub(super) type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

/// How a write is kept apart from the others of its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Isolation {
    /// Under its own savepoint, rolled back alone if it fails.
    Savepoint,
    /// Alone in the transaction, which is rolled back if it fails.
    Alone,
}

/// What running a write gave: whether it failed (so an [`Isolation::Alone`] transaction must be
/// rolled back), and how to deliver its answer once the transaction has ended.
pub(super) struct Ran {
    pub failed: bool,
    pub deliver: Deliver,
}

/// A write, run inside the batch's transaction (or told why it could not be).
pub(super) type TxJob = Box<dyn FnOnce(Result<(&Connection, Isolation), String>) -> Ran + Send>;

pub(super) enum WriteJob {
    InTransaction(TxJob),
    /// Runs outside any transaction (`VACUUM INTO`, pragmas), between batches.
    Raw(Job),
}

/// While reads are busy, a batch commits at the earliest this long after the previous commit, and
/// the writes that arrive meanwhile join it. Each commit makes every read connection drop its
/// page cache (SQLite resets a reader's pager whenever the WAL changed since its last read), so
/// under a mix of reads and writes fewer, larger commits leave the reads their caches. Measured at
/// 1M messages with the delay (5 ms) always on: the mixed load (E) +13–21 %, 3.5 times fewer
/// commits, sends at a fixed 2,398/s p99 30 ms; but a client writing one thing after another
/// waited the interval each time (6.1 ms a send against 1.2): hence [`BUSY_READS_PER_WRITE`].
/// Paced that way, E at 1M against its parts in the same run: 61.5 and 60.4 % without, 67.5 and
/// 69.9 % at 5 ms, 71.9, 72.0 and 73.1 % at 10 ms.
const COMMIT_INTERVAL: Duration = Duration::from_millis(10);

/// Reads for each write, over the last few dozen commits, from which commits are paced by
/// [`COMMIT_INTERVAL`]. A write's own request reads too (its session, its access check): a client
/// writing one thing after another, or many writing at once, stays below; a mix where reads are
/// most of the load (scenario E: 9 of 10 requests) is far above it. As PostgreSQL's
/// `commit_delay` waits only when `commit_siblings` transactions are active, the delay is paid
/// only where the readers it spares outnumber the writes it holds back.
const BUSY_READS_PER_WRITE: f64 = 4.0;

/// How much of the reads and writes counted so far each commit keeps: they are weighed over
/// about the last 20 commits, because between two commits alone the ratio swings (a lone write
/// right after a large batch's answers came back finds every sender's next read counted).
const PACING_DECAY: f64 = 0.95;

/// Reads started, counted by [`crate::db::Db`]'s read paths and watched by the writer.
pub(super) type ReadCount = Arc<AtomicU64>;

/// When the writer commits: at once, or, while reads are busy, no sooner than
/// [`COMMIT_INTERVAL`] after the previous commit.
struct Pacing {
    reads: ReadCount,
    last_commit: Instant,
    reads_at_commit: u64,
    /// Reads and writes counted at past commits, each commit's weighed by `PACING_DECAY` once
    /// for every commit since.
    recent_reads: f64,
    recent_writes: f64,
}

impl Pacing {
    fn new(reads: ReadCount) -> Pacing {
        Pacing {
            reads_at_commit: reads.load(Ordering::Relaxed),
            reads,
            last_commit: Instant::now(),
            recent_reads: 0.0,
            recent_writes: 0.0,
        }
    }

    fn busy(&self) -> bool {
        self.recent_reads >= BUSY_READS_PER_WRITE * self.recent_writes
    }

    /// The moment before which a batch starting now keeps taking writes (in the past after a
    /// quiet moment: the batch commits at once).
    fn commit_after(&self) -> Instant {
        if self.busy() {
            self.last_commit + COMMIT_INTERVAL
        } else {
            self.last_commit
        }
    }

    fn committed(&mut self, writes: usize) {
        let reads = self.reads.load(Ordering::Relaxed);
        // After a long spell without commits (reads alone, or nothing), only the reads of the
        // last interval count, at the spell's rate: a minute of reads must not hold the next
        // few hundred commits back.
        let elapsed = self.last_commit.elapsed().as_secs_f64();
        let recent = (COMMIT_INTERVAL.as_secs_f64() / elapsed).min(1.0);
        let since = (reads - self.reads_at_commit) as f64 * recent;
        self.recent_reads = self.recent_reads * PACING_DECAY + since;
        self.recent_writes = self.recent_writes * PACING_DECAY + writes as f64;
        self.reads_at_commit = reads;
        self.last_commit = Instant::now();
    }
}

/// The WAL starts over only when it has been wholly copied into the database file before the next
/// write begins, which continuous writes never allow the checkpointer alone. So once the WAL
/// holds this many pages (80 MB), the checkpointer catches up and then has the writer copy the
/// rest between two batches ([`restart_checkpoint`]); the next write restarts the WAL.
pub(super) const RESTART_PAGES: i64 = 20_000;

/// See [`catch_up`].
const CATCH_UP_TAIL: i64 = 500;
const CATCH_UP_PASSES: usize = 8;

/// Should the checkpointer fall behind or stop, the writer checkpoints by itself, inside a
/// commit, once the WAL holds this many pages.
const WRITER_FALLBACK_CHECKPOINT_PAGES: i64 = 4 * RESTART_PAGES;

/// How long the checkpointer waits between passes while writes arrive: it follows the writer
/// closely, so the restart checkpoint finds little left to copy (p99 of a send at 1M: 102–108 ms
/// with 200 ms between passes, 60–75 ms with 10 ms).
const CHECKPOINT_BUSY: Duration = Duration::from_millis(10);

/// How long it waits after a pass that found nothing new.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(200);

pub(super) fn start(
    conn: Connection,
    checkpoints: Checkpoints,
    before_commit: super::BeforeCommit,
    reads: ReadCount,
) -> Result<Sender<WriteJob>, OpenError> {
    if checkpoints == Checkpoints::Parley {
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_FALLBACK_CHECKPOINT_PAGES)
            .map_err(|source| OpenError::Sqlite {
                path: PathBuf::from(conn.path().unwrap_or_default()),
                source,
            })?;
    }
    let (sender, receiver) = unbounded::<WriteJob>();
    std::thread::Builder::new()
        .name("parley-db-write".into())
        .spawn(move || serve(conn, receiver, before_commit, Pacing::new(reads)))
        .map_err(|e| OpenError::Io {
            path: PathBuf::from("parley-db-write"),
            source: e,
        })?;
    Ok(sender)
}

/// One passive checkpoint: (pages in the WAL, pages copied into the database file).
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let started = std::time::Instant::now();
    let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    });
    crate::metrics::checkpoint(started.elapsed().as_secs_f64());
    frames
}

/// Passes back to back until one copies at most [`CATCH_UP_TAIL`] pages: each copies what was
/// written during the one before, faster than the writer writes, so what is left for the restart
/// checkpoint is about the last batch. A pass that does not copy the whole WAL leaves the pages it
/// copied unsynced (SQLite syncs the database file only once a pass has copied everything, which
/// under continuous writes only the restart checkpoint does): each pass here is followed by a sync
/// of the database file, so the restart checkpoint, during which writes wait, syncs only what it
/// copies itself instead of everything copied since the last restart (up to 80 MB).
fn catch_up(conn: &Connection, db_file: &std::fs::File, mut last: (i64, i64)) {
    for _ in 0..CATCH_UP_PASSES {
        let copied = checkpoint(conn);
        if let Err(e) = db_file.sync_data() {
            tracing::warn!(error = %e, "syncing the database file failed");
        }
        match copied {
            // Fewer pages copied than before (the WAL restarted meanwhile) counts as few.
            Ok(frames) => {
                let copied = frames.1 - last.1;
                last = frames;
                if copied <= CATCH_UP_TAIL {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

/// Has the writer copy what is left of the WAL between two batches, and waits until it has (a
/// pass of the checkpointer meanwhile would take the checkpoint lock from it). Nothing can append
/// to the WAL during that copy, so it completes and the next write restarts the WAL. The writes
/// acknowledged before it do not wait for it (a checkpoint the writer runs by itself runs inside a
/// commit); those queued behind it wait for the copy of about one batch and its syncs: 2–18 ms
/// at 1M messages and 1,192 sends/s once [`catch_up`] syncs as it goes (3–40 ms without, which
/// left this copy to sync everything copied since the last restart).
fn restart_checkpoint(writer: &Sender<WriteJob>) {
    let (done, finished) = crossbeam_channel::bounded(1);
    let job = WriteJob::Raw(Box::new(move |conn| {
        if let Err(e) = checkpoint(conn) {
            tracing::warn!(error = %e, "restart checkpoint failed");
        }
        let _ = done.send(());
    }));
    if writer.send(job).is_ok() {
        let _ = finished.recv();
    }
}

/// Starts the checkpointer: passive checkpoints (which never block the writer or the readers),
/// [`CHECKPOINT_BUSY`] apart while the WAL changes and [`CHECKPOINT_IDLE`] apart while it does
/// not, including the fsyncs the writer would otherwise do between commits; and the writer's
/// restart checkpoint when the WAL has grown to `restart_pages` ([`RESTART_PAGES`]). Stops when
/// `stop` is dropped.
pub(super) fn start_checkpointer(
    conn: Connection,
    writer: Sender<WriteJob>,
    restart_pages: i64,
) -> Result<Sender<()>, OpenError> {
    let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
    let path = PathBuf::from(conn.path().unwrap_or_default());
    let db_file = std::fs::File::open(&path).map_err(|source| OpenError::Io { path, source })?;
    std::thread::Builder::new()
        .name("parley-db-checkpoint".into())
        .spawn(move || {
            let mut wait = CHECKPOINT_IDLE;
            let mut seen = None;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                match checkpoint(&conn) {
                    // Unchanged figures mean no write since the last pass.
                    Ok(frames) => {
                        wait = if seen == Some(frames) {
                            CHECKPOINT_IDLE
                        } else {
                            CHECKPOINT_BUSY
                        };
                        seen = Some(frames);
                        // Writes still arriving: a pass can copy all there is, and the
                        // write under way appends to the WAL all the same. (Once they stop
                        // and a pass has copied all, the next write restarts it unhelped.)
                        if frames.0 >= restart_pages && wait == CHECKPOINT_BUSY {
                            catch_up(&conn, &db_file, frames);
                            restart_checkpoint(&writer);
                        }
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

fn serve(
    mut conn: Connection,
    jobs: Receiver<WriteJob>,
    before_commit: super::BeforeCommit,
    mut pacing: Pacing,
) {
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
                let until = pacing.commit_after();
                while batch.len() < MAX_BATCH {
                    let left = until.saturating_duration_since(Instant::now());
                    let got = if left.is_zero() {
                        jobs.try_recv().ok()
                    } else {
                        jobs.recv_timeout(left).ok()
                    };
                    match got {
                        Some(WriteJob::InTransaction(job)) => batch.push(job),
                        Some(raw) => {
                            next = Some(raw);
                            break;
                        }
                        None => break,
                    }
                }
                let writes = batch.len();
                run_batch(&conn, batch, before_commit);
                pacing.committed(writes);
            }
        }
    }
}

fn run_batch(conn: &Connection, batch: Vec<TxJob>, before_commit: super::BeforeCommit) {
    let started = std::time::Instant::now();
    let writes = batch.len();
    if let Err(e) = execute(conn, "BEGIN IMMEDIATE") {
        let reason = e.to_string();
        for job in batch {
            (job(Err(reason.clone())).deliver)(Err(reason.clone()));
        }
        return;
    }
    let isolation = if writes == 1 {
        Isolation::Alone
    } else {
        Isolation::Savepoint
    };
    let ran: Vec<Ran> = batch
        .into_iter()
        .map(|job| job(Ok((conn, isolation))))
        .collect();
    let committed = if isolation == Isolation::Alone && ran.iter().any(|r| r.failed) {
        // The failed write was the transaction's only one: nothing to commit. (Its answer is
        // its own error, whatever the transaction's outcome.)
        execute(conn, "ROLLBACK").map_err(|e| e.to_string())
    } else {
        before_commit(conn)
            .and_then(|()| execute(conn, "COMMIT"))
            .map_err(|e| {
                // A failed indexing or COMMIT leaves the transaction open; end it so the next
                // batch starts clean.
                let _ = execute(conn, "ROLLBACK");
                e.to_string()
            })
    };
    crate::metrics::write_batch(writes, started.elapsed().as_secs_f64());
    for r in ran {
        (r.deliver)(committed.clone());
    }
}

fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs `f` as the open transaction's only write: the caller rolls the transaction back if it
/// returns an error or panics (the panic is caught and handed back to the caller's task).
pub(super) fn alone<T, E, F>(conn: &Connection, f: F) -> Caught<Result<T, E>>
where
    F: FnOnce(&Connection) -> Result<T, E>,
{
    catch_unwind(AssertUnwindSafe(|| f(conn)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::open::{open_and_migrate, open_checkpointer};

    #[test]
    fn commits_wait_for_company_only_while_reads_outnumber_writes() {
        let reads = ReadCount::default();
        let mut pacing = Pacing::new(reads.clone());
        // Writes alone, one after another: each batch commits as soon as it has run.
        for _ in 0..50 {
            reads.fetch_add(1, Ordering::Relaxed); // the write's own session check
            pacing.committed(1);
            assert_eq!(pacing.commit_after(), pacing.last_commit);
        }
        // Reads become most of the load: batches wait for the interval.
        for _ in 0..20 {
            reads.fetch_add(40, Ordering::Relaxed);
            pacing.committed(5);
        }
        assert_eq!(pacing.commit_after(), pacing.last_commit + COMMIT_INTERVAL);
        // One burst of reads between two commits does not turn a write-only load into a busy one.
        let mut pacing = Pacing::new(reads.clone());
        for _ in 0..50 {
            reads.fetch_add(30, Ordering::Relaxed);
            pacing.committed(30);
        }
        reads.fetch_add(64, Ordering::Relaxed);
        pacing.committed(1);
        assert_eq!(pacing.commit_after(), pacing.last_commit);
        // Ten seconds of reads alone (50,000 a second), then writes alone: counted at their
        // rate over the last interval, the reads hold back only the next few dozen commits.
        let mut pacing = Pacing::new(reads.clone());
        pacing.last_commit -= Duration::from_secs(10);
        reads.fetch_add(500_000, Ordering::Relaxed);
        pacing.committed(1);
        assert!(pacing.busy());
        for _ in 0..50 {
            reads.fetch_add(1, Ordering::Relaxed);
            pacing.committed(1);
        }
        assert!(!pacing.busy());
        // Once reads fade, commits are immediate again within a few dozen commits.
        let mut pacing = Pacing::new(reads.clone());
        for _ in 0..20 {
            reads.fetch_add(40, Ordering::Relaxed);
            pacing.committed(1);
        }
        assert!(pacing.busy());
        for _ in 0..60 {
            pacing.committed(1);
        }
        assert!(!pacing.busy());
    }

    #[test]
    fn under_continuous_writes_the_wal_restarts_once_it_reaches_the_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parley.db");
        let conn = open_and_migrate(&path).unwrap();
        conn.execute_batch("CREATE TABLE filler (data BLOB NOT NULL)")
            .unwrap();
        let writer = start(conn, Checkpoints::Parley, |_| Ok(()), ReadCount::default()).unwrap();
        let restart_pages = 200;
        let _checkpointer = start_checkpointer(
            open_checkpointer(&path).unwrap(),
            writer.clone(),
            restart_pages,
        )
        .unwrap();

        // Every job its own commit, a few always queued, as under load, for longer than the
        // checkpointer's first wait: the WAL is never wholly copied between two commits, so
        // without the restart checkpoint it would only stop growing at the writer's own
        // fallback (80,000 pages).
        let in_flight = 16;
        let (done, finished) = unbounded::<rusqlite::Result<usize>>();
        let insert = |done: Sender<rusqlite::Result<usize>>| {
            WriteJob::Raw(Box::new(move |conn| {
                let inserted =
                    conn.execute("INSERT INTO filler (data) VALUES (zeroblob(3000))", []);
                done.send(inserted).unwrap();
            }))
        };
        let until = std::time::Instant::now() + CHECKPOINT_IDLE * 5;
        let mut writes = 0;
        while std::time::Instant::now() < until {
            if writes >= in_flight {
                finished.recv().unwrap().unwrap();
            }
            writer.send(insert(done.clone())).unwrap();
            writes += 1;
        }
        for _ in 0..in_flight {
            finished.recv().unwrap().unwrap();
        }

        // The WAL header's checkpoint sequence number counts its restarts.
        let wal = std::fs::read(dir.path().join("parley.db-wal")).unwrap();
        let restarts = u32::from_be_bytes(wal[12..16].try_into().unwrap());
        assert!(writes > 10 * restart_pages, "only {writes} writes");
        assert!(restarts >= 2, "the WAL restarted {restarts} times");
        let reader = Connection::open(&path).unwrap();
        let rows: i64 = reader
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, writes);
    }
}

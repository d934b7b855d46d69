//! Background loops. Each one ticks, calls a testable step, logs any error and carries on; all
//! stop with the shared shutdown token. The steps live with the modules that own their work.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::auth::{LoginLimiter, session};
use crate::config::Settings;
use crate::db::{Db, DbError};
use crate::domain::{AlertKind, AlertPriority};
use crate::email::delivery;
use crate::error::AppError;

/// What the background jobs work with.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub login_limiter: Arc<LoginLimiter>,
    pub email: crate::email::Context,
    pub(crate) webhooks: crate::integration::deliveries::Context,
    pub files: crate::attachments::Files,
}

pub(crate) fn spawn_all(ctx: Context, shutdown: CancellationToken) {
    let cleanup = ctx.clone();
    tokio::spawn(every(
        Duration::from_secs(60),
        shutdown.clone(),
        move || {
            let ctx = cleanup.clone();
            async move { cleanup_once(&ctx).await }
        },
    ));
    let sweeper = ctx.clone();
    tokio::spawn(every(
        Duration::from_secs(3600),
        shutdown.clone(),
        move || {
            let ctx = sweeper.clone();
            async move { sweep_orphaned_attachments(&ctx).await.map(drop) }
        },
    ));
    if ctx.settings.metrics.enabled {
        tokio::spawn(every(Duration::from_secs(5), shutdown.clone(), || async {
            crate::metrics::upkeep();
            Ok::<_, AppError>(())
        }));
    }
    let merges = ctx.db.clone();
    tokio::spawn(when_quiet(ctx.db.clone(), shutdown.clone(), move || {
        let db = merges.clone();
        async move {
            db.write(|conn| crate::messaging::search::merge_step(conn).map_err(DbError::from))
                .await
        }
    }));
    let late = ctx.db.clone();
    tokio::spawn(every(
        Duration::from_secs(600),
        shutdown.clone(),
        move || {
            let db = late.clone();
            async move { crate::messaging::alert_late_stores(&db).await.map(drop) }
        },
    ));
    // The first delivery pass comes one interval after the start, like every later one: a start
    // is not a reason to send, and tests that drive delivery themselves (on a long interval) are
    // never raced by a pass of the job.
    let hooks = ctx.webhooks.clone();
    tokio::spawn(every_after_first(
        Duration::from_millis(ctx.settings.webhooks.poll_interval_ms),
        shutdown.clone(),
        move || {
            let ctx = hooks.clone();
            async move {
                crate::integration::deliveries::run_once(&ctx)
                    .await
                    .map(drop)
            }
        },
    ));
    let poll = Duration::from_millis(ctx.settings.email.poll_interval_ms);
    tokio::spawn(every_after_first(poll, shutdown, move || {
        let ctx = ctx.email.clone();
        async move { delivery::deliver_all_due(&ctx).await.map(drop) }
    }));
}

/// Runs `step` now and then every `period`.
async fn every<F, Fut, E>(period: Duration, shutdown: CancellationToken, step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Debug,
{
    run(tokio::time::interval(period), shutdown, step).await
}

/// Runs `step` every `period`, the first time one period from now.
async fn every_after_first<F, Fut, E>(period: Duration, shutdown: CancellationToken, step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Debug,
{
    let first = tokio::time::Instant::now() + period;
    run(tokio::time::interval_at(first, period), shutdown, step).await
}

async fn run<F, Fut, E>(mut ticker: tokio::time::Interval, shutdown: CancellationToken, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Debug,
{
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {
                if let Err(e) = step().await {
                    tracing::error!(error = ?e, "background job failed");
                }
            }
        }
    }
}

/// How often [`when_quiet`] looks whether the database is quiet.
const QUIET_CHECK: Duration = Duration::from_secs(1);

/// The most reads that leave the database quiet, from one look to the next: people reading
/// pages, and the delivery jobs' polls, not a load whose readers would each lose their page cache
/// to a commit of the background work.
const QUIET_READS: u64 = 20;

/// Runs `step` (background writes that can wait, such as merging the search index) while the
/// database is quiet: nothing written by anyone else and at most [`QUIET_READS`] reads since the
/// last look, a second before or the previous step. `step` says whether work remains; once it
/// says no, it runs again only after someone else has written. A step should be short: a write
/// arriving meanwhile waits for it.
async fn when_quiet<F, Fut, E>(db: Db, shutdown: CancellationToken, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, E>>,
    E: std::fmt::Debug,
{
    // The first look one interval after the start: quiet is judged over an interval.
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + QUIET_CHECK, QUIET_CHECK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut seen = db.activity();
    // Until a first step says otherwise: the database may hold work from before the start.
    let mut work_left = true;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let mut own_writes = 0;
        loop {
            let now = db.activity();
            let others_wrote = now.writes - seen.writes > own_writes;
            work_left |= others_wrote;
            let quiet = !others_wrote && now.reads - seen.reads <= QUIET_READS;
            seen = now;
            if !(quiet && work_left) {
                break;
            }
            match step().await {
                Ok(more) => work_left = more,
                Err(e) => {
                    // Tried again after the next write by someone else, not every second.
                    tracing::error!(error = ?e, "background job failed");
                    work_left = false;
                }
            }
            own_writes = 1;
        }
    }
}

/// Drops expired sessions, spent single sign-on tokens and email links past their expiry, events past their
/// retention, idle rate-limit keys, and upload temp
/// files left by a crash.
pub(crate) async fn cleanup_once(ctx: &Context) -> Result<(), AppError> {
    let temp_dir = crate::attachments::temp_dir(ctx.settings.data_dir());
    let swept = tokio::task::spawn_blocking(move || {
        sweep_stale_files(&temp_dir, Duration::from_secs(3600))
    })
    .await
    .map_err(AppError::internal)?;
    if swept > 0 {
        tracing::info!(swept, "stale upload temp files removed");
    }
    check_disk_space(&ctx.db, &ctx.settings).await?;
    check_wal_size(&ctx.db, &ctx.settings).await?;
    let removed = ctx
        .db
        .write(|tx| Ok::<_, AppError>(session::delete_expired(tx)?))
        .await?;
    if removed > 0 {
        tracing::debug!(removed, "expired sessions removed");
    }
    ctx.db
        .write(|tx| {
            let now = chrono::Utc::now();
            crate::accounts::sso::forget_expired(tx, now)?;
            Ok::<_, AppError>(crate::accounts::recovery::forget_expired(tx, now)?)
        })
        .await?;
    let kept = chrono::Duration::days(ctx.settings.integration.event_retention_days.into());
    let before = chrono::Utc::now() - kept;
    let pruned = ctx
        .db
        .write(move |tx| Ok::<_, AppError>(crate::messaging::event_log::prune(tx, before)?))
        .await?;
    if pruned > 0 {
        tracing::info!(pruned, "events older than the retention removed");
    }
    ctx.login_limiter.forget_idle();
    let malformed = crate::telemetry::take_malformed_requests();
    if malformed > 0 {
        tracing::warn!(
            malformed,
            "requests that were not valid HTTP, since the last minute"
        );
    }
    Ok(())
}

/// How old an attachment file must be before the sweep may call it orphaned: far longer than any
/// upload takes between its file's rename and its row's commit.
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Removes attachment files that no row names (left by a crash between a file's rename and its
/// row's commit).
pub async fn sweep_orphaned_attachments(ctx: &Context) -> Result<usize, AppError> {
    let (db, data_dir) = (ctx.db.clone(), ctx.settings.data_dir().to_path_buf());
    let runtime = tokio::runtime::Handle::current();
    let removed = tokio::task::spawn_blocking(move || {
        crate::attachments::sweep_orphans(&data_dir, ORPHAN_AGE, |conversation_id| {
            runtime.block_on(db.read_pooled(move |conn| {
                crate::messaging::messages::stored_paths(conn, conversation_id)
            }))
        })
    })
    .await
    .map_err(AppError::internal)??;
    let removed = removed
        + ctx
            .files
            .sweep_bucket(ORPHAN_AGE, |conversation_id| {
                let db = ctx.db.clone();
                async move {
                    db.read_pooled(move |conn| {
                        crate::messaging::messages::stored_paths(conn, conversation_id)
                    })
                    .await
                    .map_err(AppError::from)
                }
            })
            .await?;
    if removed > 0 {
        tracing::warn!(removed, "orphaned attachment files removed");
    }
    Ok(removed)
}

/// With external checkpoints, raises an alert when the WAL has grown past `storage.wal_alert_mb`:
/// the tool that owns checkpoints (Litestream) is not running or cannot keep up, and the WAL
/// would grow until the disk is full.
pub async fn check_wal_size(db: &Db, settings: &Settings) -> Result<(), AppError> {
    if settings.storage.checkpoints != crate::config::Checkpoints::External {
        return Ok(());
    }
    let wal = crate::db::wal_path(&settings.db_path());
    let wal_mb = std::fs::metadata(&wal).map_or(0, |m| m.len()) / (1024 * 1024);
    let limit = settings.storage.wal_alert_mb;
    if wal_mb <= limit {
        return Ok(());
    }
    db.write(move |tx| {
        crate::alerts::raise(
            tx,
            &crate::alerts::Alert {
                notification_type: AlertKind::SystemAlert,
                priority: AlertPriority::Critical,
                title: "The write-ahead log keeps growing",
                message: &format!(
                    "parley.db-wal holds {wal_mb} MiB (alert above {limit} MiB). Checkpoints are \
                     external (storage.checkpoints): is Litestream running?"
                ),
                action_required: true,
                action_url: None,
                metadata: serde_json::json!({ "wal_mb": wal_mb, "wal_alert_mb": limit }),
                dedup_key: "wal_large",
            },
        )
    })
    .await?;
    Ok(())
}

/// Raises an alert when the data directory's file system runs low on space.
pub async fn check_disk_space(db: &Db, settings: &Settings) -> Result<(), AppError> {
    let dir = settings.data_dir().to_path_buf();
    let free_mb = match rustix::fs::statvfs(&dir) {
        Ok(stats) => stats.f_bavail.saturating_mul(stats.f_frsize) / (1024 * 1024),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the free space of the data directory");
            return Ok(());
        }
    };
    let minimum = settings.storage.min_free_disk_mb;
    if free_mb >= minimum {
        return Ok(());
    }
    db.write(move |tx| {
        crate::alerts::raise(
            tx,
            &crate::alerts::Alert {
                notification_type: AlertKind::SystemAlert,
                priority: AlertPriority::Critical,
                title: "Low disk space",
                message: &format!(
                    "The data directory has {free_mb} MiB free (alert below {minimum} MiB)"
                ),
                action_required: true,
                action_url: None,
                metadata: serde_json::json!({ "free_mb": free_mb, "min_free_mb": minimum }),
                dedup_key: "disk_low",
            },
        )
    })
    .await?;
    Ok(())
}

/// Removes files in `dir` not modified for `age` (a request streams into its temp file
/// continuously, so an old one belongs to no live request).
pub(crate) fn sweep_stale_files(dir: &std::path::Path, age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    entries
        .flatten()
        .filter(|e| {
            e.metadata()
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok())
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|elapsed| elapsed > age)
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    async fn wait_for(what: impl Fn() -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !what() {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_work_runs_while_the_database_is_quiet_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let db = Db::open(&path, 1, crate::db::Checkpoints::Parley, |_| Ok(())).unwrap();
        let noop = |_: &rusqlite::Connection| Ok::<_, DbError>(());
        // People reading, far above what a quiet database sees.
        let reading = Arc::new(AtomicBool::new(true));
        let reader = tokio::spawn({
            let (db, reading) = (db.clone(), reading.clone());
            async move {
                while reading.load(Ordering::Relaxed) {
                    db.read(noop).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        // Work of three steps, each a write.
        let steps = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        tokio::spawn(when_quiet(db.clone(), shutdown.clone(), {
            let (db, steps) = (db.clone(), steps.clone());
            move || {
                let (db, steps) = (db.clone(), steps.clone());
                async move {
                    db.write(noop).await?;
                    Ok::<_, DbError>(steps.fetch_add(1, Ordering::Relaxed) + 1 < 3)
                }
            }
        }));
        let count = || steps.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(count(), 0, "no work while reads are busy");

        reading.store(false, Ordering::Relaxed);
        reader.await.unwrap();
        assert!(
            wait_for(|| count() == 3).await,
            "the work, once quiet: {}",
            count()
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(count(), 3, "no step after the work said it was done");

        // Someone else writes: there may be work again.
        db.write(noop).await.unwrap();
        assert!(wait_for(|| count() == 4).await, "{}", count());
        shutdown.cancel();
    }

    #[test]
    fn only_stale_temp_files_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fresh"), b"x").unwrap();
        assert_eq!(sweep_stale_files(dir.path(), Duration::from_secs(3600)), 0);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(sweep_stale_files(dir.path(), Duration::from_millis(10)), 1);
        assert!(!dir.path().join("fresh").exists());
    }
}

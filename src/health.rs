//! The process's state for operators: readiness (`GET /health/ready`: can it do its work now,
//! for load balancers and orchestrators; `/health` only says it answers) and the figures the
//! metrics read at each scrape (`GET /metrics`).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use serde::Serialize;

use crate::config::Settings;
use crate::db::{Db, DbError};

/// How long the writer may take to start and commit an empty transaction before the database
/// counts as not writable (Litestream's lock or a long batch lasts far less).
const WRITE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` when every check passed, else `not_ready`.
    pub status: &'static str,
    pub checks: Checks,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checks {
    /// The writer took the write lock and committed within 2 s.
    pub database_writable: bool,
    /// The data directory's file system has more free space than `storage.min_free_disk_mb`.
    pub disk_above_floor: bool,
    /// The database's schema is the one this binary carries.
    pub migrations_current: bool,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

pub async fn readiness(db: &Db, settings: &Settings) -> Readiness {
    let write = db.write(|tx| {
        tx.execute_batch("SELECT 1")?;
        Ok::<_, DbError>(())
    });
    let database_writable = matches!(
        tokio::time::timeout(WRITE_PROBE_TIMEOUT, write).await,
        Ok(Ok(()))
    );
    let floor = settings
        .storage
        .min_free_disk_mb
        .saturating_mul(1024 * 1024);
    let disk_above_floor = free_disk_bytes(settings.data_dir()).is_some_and(|free| free > floor);
    let migrations_current = db
        .read(|conn| {
            let applied: Option<i64> = conn.query_row(
                "SELECT max(version) FROM refinery_schema_history",
                [],
                |r| r.get(0),
            )?;
            Ok::<_, DbError>(applied == Some(crate::db::latest_schema_version()))
        })
        .await
        .unwrap_or(false);
    let ready = database_writable && disk_above_floor && migrations_current;
    Readiness {
        status: if ready { "ready" } else { "not_ready" },
        checks: Checks {
            database_writable,
            disk_above_floor,
            migrations_current,
        },
    }
}

/// The metrics exposition: the states read now, then everything counted so far.
pub(crate) async fn metrics_exposition(db: &Db, data_dir: &Path) -> Result<String, DbError> {
    use crate::metrics::name;
    use metrics::gauge;
    let queues = db.read_pooled(queue_depths).await?;
    for (state, n) in queues.email {
        gauge!(name::EMAIL_QUEUE, "state" => state).set(n as f64);
    }
    for (state, n) in queues.webhooks {
        gauge!(name::WEBHOOK_QUEUE, "state" => state).set(n as f64);
    }
    gauge!(name::WRITER_QUEUE).set(db.writer_queue_depth() as f64);
    let file_size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len()) as f64;
    let db_path = data_dir.join(crate::db::DB_FILE);
    gauge!(name::DB_SIZE).set(file_size(&db_path));
    gauge!(name::WAL_SIZE).set(file_size(&crate::db::wal_path(&db_path)));
    if let Some(free) = free_disk_bytes(data_dir) {
        gauge!(name::DISK_FREE).set(free as f64);
    }
    Ok(crate::metrics::render().unwrap_or_default())
}

/// Free space of the file system holding `dir`, for an unprivileged process.
pub(crate) fn free_disk_bytes(dir: &Path) -> Option<u64> {
    rustix::fs::statvfs(dir)
        .ok()
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
}

struct QueueDepths {
    email: Vec<(&'static str, i64)>,
    webhooks: Vec<(&'static str, i64)>,
}

/// Counts by state that the due and failed indexes answer without reading the rows (the
/// delivered ones, which grow without bound, are not counted).
fn queue_depths(conn: &Connection) -> Result<QueueDepths, DbError> {
    let count = |sql: &str| -> Result<i64, DbError> {
        Ok(conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    };
    Ok(QueueDepths {
        email: vec![
            (
                "pending",
                count("SELECT count(*) FROM email_logs WHERE status = 'pending'")?,
            ),
            (
                "failed",
                count("SELECT count(*) FROM email_logs WHERE status = 'failed'")?,
            ),
        ],
        webhooks: vec![
            (
                "pending",
                count("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")?,
            ),
            (
                "failed",
                count("SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'")?,
            ),
        ],
    })
}

//! Readiness: whether this process can do its work now, for load balancers and orchestrators
//! (`GET /health/ready`). `/health` only says the process answers.

use std::time::Duration;

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
    let disk_above_floor =
        crate::metrics::free_disk_bytes(settings.data_dir()).is_some_and(|free| free > floor);
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

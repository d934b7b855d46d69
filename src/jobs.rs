//! Background loops. Each one ticks, calls a testable step, logs any error and carries on; all
//! stop with the shared shutdown token.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::auth::session;
use crate::error::AppError;

pub fn spawn_all(state: Arc<AppState>, shutdown: CancellationToken) {
    tokio::spawn(every(Duration::from_secs(60), shutdown, move || {
        let state = state.clone();
        async move { cleanup_once(&state).await }
    }));
}

async fn every<F, Fut>(period: Duration, shutdown: CancellationToken, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let mut ticker = tokio::time::interval(period);
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

/// Drops expired sessions and idle rate-limit keys.
pub async fn cleanup_once(state: &AppState) -> Result<(), AppError> {
    let removed = state
        .db
        .write(|tx| Ok::<_, AppError>(session::delete_expired(tx)?))
        .await?;
    if removed > 0 {
        tracing::debug!(removed, "expired sessions removed");
    }
    state.login_limiter.forget_idle();
    Ok(())
}

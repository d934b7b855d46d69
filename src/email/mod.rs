//! Email (seeds: EmailTemplate, StoreEmailTemplate, EmailLog, StoreEmailSettings): templates with
//! store overrides and language fallback, the restricted dialect and sandbox for store templates,
//! the outbox with retries, SMTP delivery, and the notifications that conversations cause.

mod error;

pub use delivery::deliver_all_due;
pub use error::EmailError;

pub(crate) mod delivery;
pub(crate) mod dialect;
pub(crate) mod mailer;
pub(crate) mod notify;
pub(crate) mod outbox;
pub mod providers;
pub mod render;
pub(crate) mod settings;
pub(crate) mod smtp;
pub mod sns;
pub(crate) mod templates;
pub(crate) mod tracking;
pub(crate) mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::SecretKey;
use crate::db::Db;
use smtp::SmtpRelay;

/// What the email use cases and the delivery step need, and nothing of the web.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Opens the stores' sealed provider credentials.
    pub key: SecretKey,
    /// The HTTP client of the API providers.
    pub http: reqwest::Client,
    /// The platform's SMTP relay; None when `email.smtp_host` is empty.
    pub mailer: Option<SmtpRelay>,
    /// The executable that renders store templates in a sandbox.
    pub sandbox_exe: PathBuf,
}

/// Puts a failed email back in the queue for a fresh round of attempts.
pub(crate) async fn retry_email(ctx: &Context, id: i64) -> Result<(), EmailError> {
    ctx.db.write(move |tx| outbox::retry(tx, id)).await?;
    tracing::info!(email_log_id = id, "failed email queued again");
    Ok(())
}

//! Email (seeds: EmailTemplate, StoreEmailTemplate, EmailLog, StoreEmailSettings): templates with
//! store overrides and language fallback, the restricted dialect and sandbox for store templates,
//! the outbox with retries, SMTP delivery, and the notifications that conversations cause.

mod error;

pub use delivery::deliver_all_due;
pub use error::EmailError;
pub(crate) use error::MailerError;

pub(crate) mod delivery;
pub(crate) mod dialect;
pub(crate) mod feedback;
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
    /// SNS signing certificates by URL (they are long-lived).
    pub sns_certificates: feedback::SnsCertificates,
}

/// Records an open of the email with tracking token `token` (the same pixel answers either way).
pub(crate) async fn record_open(ctx: &Context, token: String) -> Result<(), EmailError> {
    let found = ctx
        .db
        .read(move |conn| outbox::tracked(conn, &token, None))
        .await;
    if let Ok((id, _)) = found {
        ctx.db
            .write(move |tx| {
                outbox::record_event(tx, id, outbox::DeliveryEvent::Opened, chrono::Utc::now())
            })
            .await?;
    }
    Ok(())
}

/// Records a click on the `n`-th link of the email with tracking token `token`, and answers
/// where that link goes: only ever a link of that very email.
pub(crate) async fn record_click(
    ctx: &Context,
    token: String,
    n: usize,
) -> Result<String, EmailError> {
    let (id, link) = ctx
        .db
        .read(move |conn| outbox::tracked(conn, &token, Some(n)))
        .await?;
    let link = link.ok_or(EmailError::NotFound)?;
    ctx.db
        .write(move |tx| {
            outbox::record_event(tx, id, outbox::DeliveryEvent::Clicked, chrono::Utc::now())
        })
        .await?;
    Ok(link)
}

/// Puts a failed email back in the queue for a fresh round of attempts.
pub(crate) async fn retry_email(ctx: &Context, id: i64) -> Result<(), EmailError> {
    ctx.db.write(move |tx| outbox::retry(tx, id)).await?;
    tracing::info!(email_log_id = id, "failed email queued again");
    Ok(())
}

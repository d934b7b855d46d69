//! Email (seeds: EmailTemplate, StoreEmailTemplate, EmailLog, StoreEmailSettings): templates with
//! store overrides and language fallback, the restricted dialect and sandbox for store templates,
//! the outbox with retries, SMTP delivery, and the notifications that conversations cause.

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

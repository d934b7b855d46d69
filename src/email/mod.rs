//! Email (seeds: EmailTemplate, StoreEmailTemplate, EmailLog, StoreEmailSettings): templates with
//! store overrides and language fallback, the restricted dialect and sandbox for store templates,
//! the outbox with retries, SMTP delivery, and the notifications that conversations cause.

pub mod delivery;
pub mod dialect;
pub mod mailer;
pub mod notify;
pub mod outbox;
pub mod providers;
pub mod render;
pub mod settings;
pub mod smtp;
pub mod sns;
pub mod templates;
pub mod tracking;
pub mod webhooks;

//! What the email use cases and queries refuse, in their own terms; `error.rs` at the HTTP edge
//! gives each a status and a stable code.

use crate::accounts::AccountsError;
use crate::alerts::AlertsError;
use crate::db::DbError;
use crate::domain::Invalid;
use crate::email::render::RenderError;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The request is well formed but cannot be done in the present state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Refused for a reason the caller can fix (a template outside the dialect, a private SMTP
    /// host, settings not complete yet), with its stable code.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// An email to render whose template is gone or inactive (or that names none).
    #[error("no active template{}", .0.as_ref().map(|c| format!(" `{c}`")).unwrap_or_default())]
    NoTemplate(Option<String>),
    /// A platform template (or any template previewed) that does not render.
    #[error("{0}")]
    InvalidTemplate(RenderError),
    /// A store's template that does not pass the dialect check or the sandboxed render.
    #[error("{0}")]
    TemplateRefused(RenderError),
    /// A provider report whose signature is missing, stale or wrong.
    #[error("the webhook signature is missing, stale or wrong")]
    BadSignature,
    /// The store's subscription tier does not include this provider.
    #[error("{0}")]
    TierRequired(String),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(#[source] anyhow::Error),
}

/// Why a mailer cannot be built from settings, or an email cannot be made into a message. Written
/// for the store that configured it: no server banner, no secret.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MailerError {
    #[error("{0} is not set")]
    NotSet(&'static str),
    #[error("SMTP host: {0}")]
    SmtpHost(#[from] crate::net::AddressError),
    #[error("invalid SMTP host: {0}")]
    InvalidHost(String),
    #[error("invalid address {address:?}: {why}")]
    InvalidAddress { address: String, why: String },
    #[error("the message could not be built: {0}")]
    Message(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

impl EmailError {
    pub(crate) fn invalid(field: &str, why: impl std::fmt::Display) -> EmailError {
        EmailError::Invalid(Invalid::new(field, why))
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> EmailError {
        EmailError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn internal(error: impl Into<anyhow::Error>) -> EmailError {
        EmailError::Internal(error.into())
    }
}

impl From<AlertsError> for EmailError {
    fn from(e: AlertsError) -> Self {
        match e {
            AlertsError::NotFound => EmailError::NotFound,
            AlertsError::Invalid(invalid) => EmailError::Invalid(invalid),
            AlertsError::Db(e) => EmailError::Db(e),
        }
    }
}

impl From<rusqlite::Error> for EmailError {
    fn from(e: rusqlite::Error) -> Self {
        EmailError::Db(DbError::Sqlite(e))
    }
}

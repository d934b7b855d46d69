//! What the email use cases and queries refuse, in their own terms; `error.rs` at the HTTP edge
//! gives each a status and a stable code.

use crate::accounts::AccountsError;
use crate::alerts::AlertsError;
use crate::db::DbError;
use crate::domain::Invalid;

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

//! The platform's backend as a client of Parley: it holds API keys with scopes, acts as the
//! platform and never as a person, and everything it does is recorded against its key
//! (`keys`); and the other way round, Parley calling the platform's (and the stores') webhook
//! endpoints with what changed (`webhooks`, `deliveries`).

pub(crate) mod deliveries;
pub(crate) mod keys;
pub(crate) mod webhooks;

use crate::db::DbError;
use crate::domain::{Invalid, Scope};

/// What the integration use cases refuse.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IntegrationError {
    #[error("not found")]
    NotFound,
    #[error("this key lacks the `{}` scope", .0.as_str())]
    MissingScope(Scope),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Messaging(#[from] crate::messaging::MessagingError),
    #[error(transparent)]
    Alerts(#[from] crate::alerts::AlertsError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for IntegrationError {
    fn from(e: rusqlite::Error) -> Self {
        IntegrationError::Db(DbError::Sqlite(e))
    }
}

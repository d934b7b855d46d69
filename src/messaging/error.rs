//! What the messaging use cases refuse, in their own terms; `error.rs` at the HTTP edge gives each
//! a status and a stable code.

use crate::attachments::AttachmentError;
use crate::db::DbError;
use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub(crate) enum MessagingError {
    /// Missing, or not visible to the actor: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// The actor sees the conversation (or the area) but their role may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the conversation is closed")]
    Closed,
    #[error("the conversation is already closed")]
    AlreadyClosed,
    #[error("the conversation is not closed")]
    NotClosed,
    #[error("the platform is not taking part in this conversation: escalate it first")]
    NotEscalated,
    #[error("the platform is already taking part in this conversation")]
    AlreadyEscalated,
    #[error("recipient_id: no such recipient in this store")]
    RecipientNotFound,
    /// The events after the reader's position are no longer kept.
    #[error("the events after this point are no longer kept; sync again with updated_since")]
    EventsExpired,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for MessagingError {
    fn from(e: rusqlite::Error) -> Self {
        MessagingError::Db(DbError::Sqlite(e))
    }
}

impl From<crate::alerts::AlertsError> for MessagingError {
    fn from(e: crate::alerts::AlertsError) -> Self {
        use crate::alerts::AlertsError as A;
        match e {
            A::NotFound => MessagingError::NotFound,
            A::Invalid(invalid) => MessagingError::Invalid(invalid),
            A::Db(e) => MessagingError::Db(e),
        }
    }
}

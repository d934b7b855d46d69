//! Stores, their staff and customers, and platform admins: the rows and the queries on them.
//! Every function takes a `&Connection` (a transaction derefs to one) and opens no transaction
//! itself, so a use case can compose several in one commit.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::HashError;
use crate::db::DbError;
use crate::domain::{Invalid, Role, Tier};

/// What the account use cases and queries refuse.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("not found")]
    NotFound,
    /// A unique value is taken (a store code, an email in a store), or a state forbids the change.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AccountsError {
    fn from(e: rusqlite::Error) -> Self {
        AccountsError::Db(DbError::Sqlite(e))
    }
}

mod customers;
mod passwords;
pub(crate) mod provision;
pub(crate) mod recovery;
pub(crate) mod service;
pub(crate) mod sso;
mod stores;
mod users;

pub(crate) use customers::*;
pub(crate) use passwords::*;
pub(crate) use stores::*;
pub use users::*;

/// What the account use cases (`service`, `recovery`) need.
#[derive(Clone)]
pub(crate) struct Context {
    pub db: crate::db::Db,
    pub settings: std::sync::Arc<crate::config::Settings>,
    pub hasher: crate::auth::Hasher,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Store {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub tier: Tier,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    /// The platform's id for it (null when created without one).
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub store_id: Option<i64>,
    pub language: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Customer {
    pub id: i64,
    pub store_id: i64,
    pub email: String,
    pub full_name: String,
    pub language: String,
    pub is_active: bool,
    /// False for customers created by staff who have not set a password (they cannot log in).
    pub can_log_in: bool,
    pub created_at: DateTime<Utc>,
    pub external_id: Option<String>,
}

/// Maps a UNIQUE violation to a 409 with `code`; anything else stays an internal error.
pub(super) fn unique_or(
    e: rusqlite::Error,
    code: &'static str,
    message: &'static str,
) -> AccountsError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            AccountsError::Conflict { code, message }
        }
        _ => AccountsError::from(e),
    }
}

/// Checked changes to a staff member or a customer; `None` leaves a value as it is.
#[derive(Debug, Default)]
pub(crate) struct PersonPatch {
    pub full_name: Option<String>,
    pub language: Option<String>,
    pub is_active: Option<bool>,
}

/// The signed-in person as every page shows them: their name, and the language they read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Profile {
    pub full_name: String,
    pub email: String,
    pub language: String,
}

/// Changes the name or language of whoever `actor` is.
pub(crate) fn update_profile(
    conn: &rusqlite::Connection,
    actor: &crate::domain::Actor,
    patch: &PersonPatch,
) -> Result<Profile, AccountsError> {
    let (table, id) = match *actor {
        crate::domain::Actor::Admin { user_id } | crate::domain::Actor::Staff { user_id, .. } => {
            ("users", user_id)
        }
        crate::domain::Actor::Customer { customer_id, .. } => ("customers", customer_id),
    };
    conn.execute(
        &format!(
            "UPDATE {table} SET full_name = coalesce(?2, full_name),
                    language = coalesce(?3, language), updated_at = ?4 WHERE id = ?1"
        ),
        rusqlite::params![id, patch.full_name, patch.language, Utc::now()],
    )?;
    profile(conn, actor)
}

/// The profile of whoever `actor` is (a user or a customer).
pub(crate) fn profile(
    conn: &rusqlite::Connection,
    actor: &crate::domain::Actor,
) -> Result<Profile, AccountsError> {
    use rusqlite::OptionalExtension;
    let (sql, id) = match *actor {
        crate::domain::Actor::Admin { user_id } | crate::domain::Actor::Staff { user_id, .. } => (
            "SELECT full_name, email, language FROM users WHERE id = ?1",
            user_id,
        ),
        crate::domain::Actor::Customer { customer_id, .. } => (
            "SELECT full_name, email, language FROM customers WHERE id = ?1",
            customer_id,
        ),
    };
    conn.prepare_cached(sql)?
        .query_row([id], |r| {
            Ok(Profile {
                full_name: r.get(0)?,
                email: r.get(1)?,
                language: r.get(2)?,
            })
        })
        .optional()?
        .ok_or(AccountsError::NotFound)
}

//! Stores, their staff and customers, and platform admins: the rows and the queries on them.
//! Every function takes a `&Connection` (a transaction derefs to one) and opens no transaction
//! itself, so a use case can compose several in one commit.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Role, Tier};
use crate::error::AppError;

mod customers;
mod passwords;
pub(crate) mod service;
mod stores;
mod users;

pub(crate) use customers::*;
pub(crate) use passwords::*;
pub(crate) use stores::*;
pub use users::*;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Store {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub tier: Tier,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub store_id: Option<i64>,
    pub language: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
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
}

/// Maps a UNIQUE violation to a 409 with `code`; anything else stays an internal error.
pub(super) fn unique_or(e: rusqlite::Error, code: &'static str, message: &str) -> AppError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            AppError::conflict(code, message)
        }
        _ => AppError::from(e),
    }
}

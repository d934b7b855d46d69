//! Password hashes of users and customers alike, by principal.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use super::AccountsError;
use crate::auth::session::{self, Principal};

pub(crate) fn password_hash_of(
    conn: &Connection,
    principal: Principal,
) -> Result<Option<String>, AccountsError> {
    let hash = match principal {
        Principal::User(id) => {
            conn.query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
                r.get(0)
            })
        }
        Principal::Customer(id) => conn.query_row(
            "SELECT password_hash FROM customers WHERE id = ?1",
            [id],
            |r| r.get(0),
        ),
    };
    Ok(hash.optional()?.flatten())
}

/// Sets a new password hash and ends every other session of the account in the same commit.
pub(crate) fn set_password(
    conn: &Connection,
    principal: Principal,
    hash: &str,
    keep_session: Option<i64>,
) -> Result<(), AccountsError> {
    let now = Utc::now();
    match principal {
        Principal::User(id) => conn.execute(
            "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, hash, now],
        )?,
        Principal::Customer(id) => conn.execute(
            "UPDATE customers SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, hash, now],
        )?,
    };
    session::delete_all_for(conn, principal, keep_session)?;
    Ok(())
}

//! Users: platform admins and store staff, and their credentials.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{AccountsError, PersonPatch};
use super::{User, unique_or};
use crate::auth::session::{self, Principal};
use crate::domain::{Page, Role};

const USER_COLUMNS: &str =
    "id, email, full_name, role, store_id, language, is_active, created_at, external_id";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        full_name: r.get(2)?,
        role: r.get(3)?,
        store_id: r.get(4)?,
        language: r.get(5)?,
        is_active: r.get(6)?,
        created_at: r.get(7)?,
        external_id: r.get(8)?,
    })
}

pub(crate) struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub full_name: &'a str,
    pub store_id: Option<i64>,
    pub language: &'a str,
}

/// Inserts an admin (`store_id: None`) or a store staff member.
pub(crate) fn insert_user(conn: &Connection, user: &NewUser<'_>) -> Result<User, AccountsError> {
    let role = if user.store_id.is_some() {
        Role::Store
    } else {
        Role::Admin
    };
    conn.query_row(
        &format!(
            "INSERT INTO users (email, password_hash, full_name, role, store_id, language)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {USER_COLUMNS}"
        ),
        params![
            user.email,
            user.password_hash,
            user.full_name,
            role,
            user.store_id,
            user.language
        ],
        user_row,
    )
    .map_err(|e| unique_or(e, "email_taken", "a user with this email already exists"))
}

/// Creates a platform admin, or resets the password (and reactivates) an existing one.
pub fn upsert_admin(
    conn: &Connection,
    email: &str,
    password_hash: &str,
    full_name: &str,
) -> Result<User, AccountsError> {
    let existing: Option<(i64, Role)> = conn
        .query_row(
            "SELECT id, role FROM users WHERE email = ?1",
            [email],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match existing {
        None => insert_user(
            conn,
            &NewUser {
                email,
                password_hash,
                full_name,
                store_id: None,
                language: "en",
            },
        ),
        Some((id, Role::Admin)) => {
            conn.execute(
                "UPDATE users SET password_hash = ?2, full_name = ?3, is_active = 1, updated_at = ?4 WHERE id = ?1",
                params![id, password_hash, full_name, Utc::now()],
            )?;
            session::delete_all_for(conn, Principal::User(id), None)?;
            get_user(conn, id)
        }
        Some((_, Role::Store)) => Err(AccountsError::Conflict {
            code: "email_taken",
            message: "this email belongs to a store user, not an admin",
        }),
    }
}

pub(crate) fn get_user(conn: &Connection, id: i64) -> Result<User, AccountsError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id],
        user_row,
    )
    .optional()?
    .ok_or(AccountsError::NotFound)
}

pub(crate) fn list_store_users(
    conn: &Connection,
    store_id: i64,
    page: Page,
) -> Result<(Vec<User>, i64), AccountsError> {
    let total = conn.query_row(
        "SELECT count(*) FROM users WHERE store_id = ?1",
        [store_id],
        |r| r.get(0),
    )?;
    let users = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE store_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"
        ))?
        .query_map(params![store_id, page.limit, page.skip], user_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((users, total))
}

/// Updates a staff member of `store_id`; disabling one ends all their sessions in the same commit.
pub(crate) fn update_store_user(
    conn: &Connection,
    store_id: i64,
    user_id: i64,
    patch: &PersonPatch,
) -> Result<User, AccountsError> {
    let user = conn
        .query_row(
            &format!(
                "UPDATE users SET full_name = coalesce(?3, full_name), language = coalesce(?4, language),
                        is_active = coalesce(?5, is_active), updated_at = ?6
                 WHERE id = ?1 AND store_id = ?2 RETURNING {USER_COLUMNS}"
            ),
            params![user_id, store_id, patch.full_name, patch.language, patch.is_active, Utc::now()],
            user_row,
        )
        .optional()?
        .ok_or(AccountsError::NotFound)?;
    if !user.is_active {
        session::delete_all_for(conn, Principal::User(user.id), None)?;
    }
    Ok(user)
}

/// The user with this email and role, with their password hash, if they may log in.
pub(crate) fn user_credentials(
    conn: &Connection,
    email: &str,
    role: Role,
) -> Result<Option<(User, String)>, AccountsError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {USER_COLUMNS}, password_hash FROM users u
                 WHERE email = ?1 AND role = ?2 AND is_active
                   AND (store_id IS NULL OR (SELECT is_active FROM stores WHERE id = u.store_id))"
            ),
            params![email, role],
            |r| Ok((user_row(r)?, r.get(9)?)),
        )
        .optional()?)
}

//! Stores, their staff and customers, and platform admins: the rows and the queries on them.
//! Every function takes a `&Connection` (a transaction derefs to one) and opens no transaction
//! itself, so a use case can compose several in one commit.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::auth::session::{self, Principal};
use crate::domain::{Page, Role, Tier};
use crate::error::AppError;

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
fn unique_or(e: rusqlite::Error, code: &'static str, message: &str) -> AppError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            AppError::conflict(code, message)
        }
        _ => AppError::from(e),
    }
}

// ---- stores ----------------------------------------------------------------------------------

const STORE_COLUMNS: &str = "id, code, name, tier, is_active, created_at";

fn store_row(r: &Row<'_>) -> rusqlite::Result<Store> {
    Ok(Store {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        tier: r.get(3)?,
        is_active: r.get(4)?,
        created_at: r.get(5)?,
    })
}

pub(crate) fn insert_store(
    conn: &Connection,
    code: &str,
    name: &str,
    tier: Tier,
) -> Result<Store, AppError> {
    conn.query_row(
        &format!(
            "INSERT INTO stores (code, name, tier) VALUES (?1, ?2, ?3) RETURNING {STORE_COLUMNS}"
        ),
        params![code, name, tier],
        store_row,
    )
    .map_err(|e| {
        unique_or(
            e,
            "store_code_taken",
            "a store with this code already exists",
        )
    })
}

pub(crate) fn list_stores(conn: &Connection, page: Page) -> Result<(Vec<Store>, i64), AppError> {
    let total = conn.query_row("SELECT count(*) FROM stores", [], |r| r.get(0))?;
    let stores = conn
        .prepare_cached(&format!(
            "SELECT {STORE_COLUMNS} FROM stores ORDER BY id LIMIT ?1 OFFSET ?2"
        ))?
        .query_map([page.limit, page.skip], store_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((stores, total))
}

pub(crate) fn get_store(conn: &Connection, id: i64) -> Result<Store, AppError> {
    conn.query_row(
        &format!("SELECT {STORE_COLUMNS} FROM stores WHERE id = ?1"),
        [id],
        store_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

pub(crate) fn find_active_store_by_code(
    conn: &Connection,
    code: &str,
) -> Result<Option<Store>, AppError> {
    Ok(conn
        .query_row(
            &format!("SELECT {STORE_COLUMNS} FROM stores WHERE code = ?1 AND is_active"),
            [code],
            store_row,
        )
        .optional()?)
}

#[derive(Debug, Default)]
pub(crate) struct StorePatch {
    pub name: Option<String>,
    pub tier: Option<Tier>,
    pub is_active: Option<bool>,
}

pub(crate) fn update_store(
    conn: &Connection,
    id: i64,
    patch: &StorePatch,
) -> Result<Store, AppError> {
    conn.query_row(
        &format!(
            "UPDATE stores SET name = coalesce(?2, name), tier = coalesce(?3, tier),
                    is_active = coalesce(?4, is_active), updated_at = ?5
             WHERE id = ?1 RETURNING {STORE_COLUMNS}"
        ),
        params![id, patch.name, patch.tier, patch.is_active, Utc::now()],
        store_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

// ---- users (admins and store staff) ----------------------------------------------------------

const USER_COLUMNS: &str = "id, email, full_name, role, store_id, language, is_active, created_at";

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
pub(crate) fn insert_user(conn: &Connection, user: &NewUser<'_>) -> Result<User, AppError> {
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
) -> Result<User, AppError> {
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
        Some((_, Role::Store)) => Err(AppError::conflict(
            "email_taken",
            "this email belongs to a store user, not an admin",
        )),
    }
}

pub(crate) fn get_user(conn: &Connection, id: i64) -> Result<User, AppError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id],
        user_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

pub(crate) fn list_store_users(
    conn: &Connection,
    store_id: i64,
    page: Page,
) -> Result<(Vec<User>, i64), AppError> {
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

#[derive(Debug, Default)]
pub(crate) struct UserPatch {
    pub full_name: Option<String>,
    pub language: Option<String>,
    pub is_active: Option<bool>,
}

/// Updates a staff member of `store_id`; disabling one ends all their sessions in the same commit.
pub(crate) fn update_store_user(
    conn: &Connection,
    store_id: i64,
    user_id: i64,
    patch: &UserPatch,
) -> Result<User, AppError> {
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
        .ok_or(AppError::NotFound)?;
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
) -> Result<Option<(User, String)>, AppError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {USER_COLUMNS}, password_hash FROM users u
                 WHERE email = ?1 AND role = ?2 AND is_active
                   AND (store_id IS NULL OR (SELECT is_active FROM stores WHERE id = u.store_id))"
            ),
            params![email, role],
            |r| Ok((user_row(r)?, r.get(8)?)),
        )
        .optional()?)
}

// ---- customers -------------------------------------------------------------------------------

const CUSTOMER_COLUMNS: &str =
    "id, store_id, email, full_name, language, is_active, password_hash IS NOT NULL, created_at";

fn customer_row(r: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: r.get(0)?,
        store_id: r.get(1)?,
        email: r.get(2)?,
        full_name: r.get(3)?,
        language: r.get(4)?,
        is_active: r.get(5)?,
        can_log_in: r.get(6)?,
        created_at: r.get(7)?,
    })
}

pub(crate) struct NewCustomer<'a> {
    pub store_id: i64,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub full_name: &'a str,
    pub language: &'a str,
}

pub(crate) fn insert_customer(
    conn: &Connection,
    c: &NewCustomer<'_>,
) -> Result<Customer, AppError> {
    conn.query_row(
        &format!(
            "INSERT INTO customers (store_id, email, password_hash, full_name, language)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {CUSTOMER_COLUMNS}"
        ),
        params![
            c.store_id,
            c.email,
            c.password_hash,
            c.full_name,
            c.language
        ],
        customer_row,
    )
    .map_err(|e| {
        unique_or(
            e,
            "email_taken",
            "a customer with this email already exists in this store",
        )
    })
}

pub(crate) fn get_customer(conn: &Connection, id: i64) -> Result<Customer, AppError> {
    conn.query_row(
        &format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1"),
        [id],
        customer_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

pub(crate) fn list_customers(
    conn: &Connection,
    store_id: i64,
    page: Page,
) -> Result<(Vec<Customer>, i64), AppError> {
    let total = conn.query_row(
        "SELECT count(*) FROM customers WHERE store_id = ?1",
        [store_id],
        |r| r.get(0),
    )?;
    let customers = conn
        .prepare_cached(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE store_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"
        ))?
        .query_map(params![store_id, page.limit, page.skip], customer_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((customers, total))
}

/// The active customer of the active store `store_code` with this email, with their password
/// hash (None if they never set one).
pub(crate) fn customer_credentials(
    conn: &Connection,
    store_code: &str,
    email: &str,
) -> Result<Option<(Customer, Option<String>)>, AppError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {CUSTOMER_COLUMNS}, password_hash FROM customers
                 WHERE email = ?2 AND is_active
                   AND store_id = (SELECT id FROM stores WHERE code = ?1 AND is_active)"
            ),
            params![store_code, email],
            |r| Ok((customer_row(r)?, r.get(8)?)),
        )
        .optional()?)
}

// ---- passwords -------------------------------------------------------------------------------

pub(crate) fn password_hash_of(
    conn: &Connection,
    principal: Principal,
) -> Result<Option<String>, AppError> {
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
) -> Result<(), AppError> {
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

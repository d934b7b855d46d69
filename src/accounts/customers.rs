//! Customers: each belongs to one store (the same email may exist in two).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::AccountsError;
use super::{Customer, PersonPatch, unique_or};
use crate::auth::session::{self, Principal};
use crate::domain::Page;

const CUSTOMER_COLUMNS: &str = "id, store_id, email, full_name, language, is_active, password_hash IS NOT NULL, created_at, external_id";

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
        external_id: r.get(8)?,
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
) -> Result<Customer, AccountsError> {
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

pub(crate) fn get_customer(conn: &Connection, id: i64) -> Result<Customer, AccountsError> {
    conn.query_row(
        &format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1"),
        [id],
        customer_row,
    )
    .optional()?
    .ok_or(AccountsError::NotFound)
}

pub(crate) fn list_customers(
    conn: &Connection,
    store_id: i64,
    page: Page,
) -> Result<(Vec<Customer>, i64), AccountsError> {
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
) -> Result<Option<(Customer, Option<String>)>, AccountsError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {CUSTOMER_COLUMNS}, password_hash FROM customers
                 WHERE email = ?2 AND is_active
                   AND store_id = (SELECT id FROM stores WHERE code = ?1 AND is_active)"
            ),
            params![store_code, email],
            |r| Ok((customer_row(r)?, r.get(9)?)),
        )
        .optional()?)
}

/// Updates a customer of `store_id`; disabling one ends all their sessions in the same commit.
pub(crate) fn update_customer(
    conn: &Connection,
    store_id: i64,
    customer_id: i64,
    patch: &PersonPatch,
) -> Result<Customer, AccountsError> {
    let customer = conn
        .query_row(
            &format!(
                "UPDATE customers SET full_name = coalesce(?3, full_name),
                        language = coalesce(?4, language), is_active = coalesce(?5, is_active),
                        updated_at = ?6
                 WHERE id = ?1 AND store_id = ?2 RETURNING {CUSTOMER_COLUMNS}"
            ),
            params![
                customer_id,
                store_id,
                patch.full_name,
                patch.language,
                patch.is_active,
                chrono::Utc::now()
            ],
            customer_row,
        )
        .optional()?
        .ok_or(AccountsError::NotFound)?;
    if !customer.is_active {
        session::delete_all_for(conn, Principal::Customer(customer.id), None)?;
    }
    Ok(customer)
}

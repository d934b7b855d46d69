//! Stores: the tenants.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::AccountsError;
use super::{Store, unique_or};
use crate::domain::{Page, Tier};

const STORE_COLUMNS: &str = "id, code, name, tier, is_active, created_at, external_id";

fn store_row(r: &Row<'_>) -> rusqlite::Result<Store> {
    Ok(Store {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        tier: r.get(3)?,
        is_active: r.get(4)?,
        created_at: r.get(5)?,
        external_id: r.get(6)?,
    })
}

pub(crate) fn insert_store(
    conn: &Connection,
    code: &str,
    name: &str,
    tier: Tier,
) -> Result<Store, AccountsError> {
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

pub(crate) fn list_stores(
    conn: &Connection,
    page: Page,
) -> Result<(Vec<Store>, i64), AccountsError> {
    let total = conn.query_row("SELECT count(*) FROM stores", [], |r| r.get(0))?;
    let stores = conn
        .prepare_cached(&format!(
            "SELECT {STORE_COLUMNS} FROM stores ORDER BY id LIMIT ?1 OFFSET ?2"
        ))?
        .query_map([page.limit, page.skip], store_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((stores, total))
}

pub(crate) fn get_store(conn: &Connection, id: i64) -> Result<Store, AccountsError> {
    conn.query_row(
        &format!("SELECT {STORE_COLUMNS} FROM stores WHERE id = ?1"),
        [id],
        store_row,
    )
    .optional()?
    .ok_or(AccountsError::NotFound)
}

pub(crate) fn find_active_store_by_code(
    conn: &Connection,
    code: &str,
) -> Result<Option<Store>, AccountsError> {
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
) -> Result<Store, AccountsError> {
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
    .ok_or(AccountsError::NotFound)
}

//! The key that seals the stores' credentials, as the database knows it: a check value that tells
//! whether a key is the right one, and the re-sealing of every credential when the key rotates.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use super::SECRET_COLUMNS;
use crate::crypto::{SecretKey, credential_aad};
use crate::email::EmailError;

/// Re-seals every stored credential from `old` to `new`, and the key check; one transaction.
pub(crate) fn reseal_all(
    conn: &Connection,
    old: &SecretKey,
    new: &SecretKey,
) -> Result<usize, EmailError> {
    let mut count = 0;
    for column in SECRET_COLUMNS {
        let rows: Vec<(i64, Vec<u8>)> = conn
            .prepare(&format!(
                "SELECT store_id, {column} FROM store_email_settings WHERE {column} IS NOT NULL"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (store_id, blob) in rows {
            let aad = credential_aad(column, store_id);
            let plain = old.open(&blob, &aad).map_err(|e| {
                EmailError::internal(anyhow::anyhow!("store {store_id} {column}: {e}"))
            })?;
            conn.execute(
                &format!("UPDATE store_email_settings SET {column} = ?2 WHERE store_id = ?1"),
                params![store_id, new.seal(&plain, &aad)],
            )?;
            count += 1;
        }
    }
    write_key_check(conn, new)?;
    Ok(count)
}

/// Stores the key check value for `key`.
pub(crate) fn write_key_check(conn: &Connection, key: &SecretKey) -> Result<(), EmailError> {
    conn.execute(
        "INSERT INTO secret_key_check (id, check_blob) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET check_blob = excluded.check_blob, updated_at = ?2",
        params![
            key.seal(
                crate::crypto::KEY_CHECK_PLAINTEXT,
                crate::crypto::KEY_CHECK_AAD
            ),
            Utc::now()
        ],
    )?;
    Ok(())
}

/// Does `key` open this database's key check? None when there is no check yet.
pub(crate) fn key_matches(conn: &Connection, key: &SecretKey) -> Result<Option<bool>, EmailError> {
    let blob: Option<Vec<u8>> = conn
        .query_row(
            "SELECT check_blob FROM secret_key_check WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(blob.map(|b| key.open(&b, crate::crypto::KEY_CHECK_AAD).is_ok()))
}

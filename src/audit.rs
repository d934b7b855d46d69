//! Who did what, for actions no signed-in person takes in their own name: what an API key
//! provisioned, and (with the marketplace flows) what an admin read without taking part. One row
//! per action, in the transaction of the action itself.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    pub at: DateTime<Utc>,
    /// "key:3", "admin:1".
    pub actor: String,
    /// "store.created", "customer.updated", …
    pub action: String,
    /// "store:5", "customer:17".
    pub target: String,
}

pub(crate) fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    target: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, target) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![Utc::now(), actor, action, target])?;
    Ok(())
}

/// The newest `limit` entries of one actor, newest first.
pub(crate) fn by_actor(conn: &Connection, actor: &str, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    conn.prepare_cached(
        "SELECT at, actor, action, target FROM audit_log WHERE actor = ?1 ORDER BY id DESC LIMIT ?2",
    )?
    .query_map(params![actor, limit], |r| {
        Ok(Entry {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            target: r.get(3)?,
        })
    })?
    .collect()
}

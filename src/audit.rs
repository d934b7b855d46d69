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

/// Records that an admin read conversation `id` (of store `store_id`) without taking part in it:
/// oversight, which the platform's admins can review.
pub(crate) fn record_oversight(
    conn: &Connection,
    actor: &crate::domain::Actor,
    conversation_id: i64,
    store_id: Option<i64>,
) -> rusqlite::Result<()> {
    let (kind, id) = actor.participant();
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, target, conversation_id, store_id)
         VALUES (?1, ?2, 'conversation.read', ?3, ?4, ?5)",
    )?
    .execute(params![
        Utc::now(),
        format!("{kind}:{id}"),
        format!("conversation:{conversation_id}"),
        conversation_id,
        store_id
    ])?;
    Ok(())
}

/// Who acted, as the audit log shows it: an admin or staff member (`admin`, `store`), a customer,
/// or an integration key (`key`), with their name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditActor {
    #[serde(rename = "type")]
    pub actor_type: String,
    pub id: i64,
    pub name: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditEntry {
    pub id: i64,
    pub actor: AuditActor,
    pub action: String,
    pub target: String,
    pub conversation_id: Option<i64>,
    pub store_id: Option<i64>,
    pub created_at: crate::db::Timestamp,
}

/// A page of the audit log, newest first, and how many entries there are.
pub(crate) fn page(
    conn: &Connection,
    page: crate::domain::Page,
) -> rusqlite::Result<(Vec<AuditEntry>, i64)> {
    let total = conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?;
    let entries = conn
        .prepare_cached(
            "SELECT a.id, a.actor, a.action, a.target, a.conversation_id, a.store_id, a.at,
                    CASE substr(a.actor, 1, instr(a.actor, ':') - 1)
                        WHEN 'key' THEN (SELECT name FROM api_keys
                                         WHERE id = CAST(substr(a.actor, instr(a.actor, ':') + 1) AS INTEGER))
                        WHEN 'customer' THEN (SELECT full_name FROM customers
                                              WHERE id = CAST(substr(a.actor, instr(a.actor, ':') + 1) AS INTEGER))
                        ELSE (SELECT full_name FROM users
                              WHERE id = CAST(substr(a.actor, instr(a.actor, ':') + 1) AS INTEGER)) END
             FROM audit_log a ORDER BY a.id DESC LIMIT ?1 OFFSET ?2",
        )?
        .query_map(params![page.limit, page.skip], |r| {
            let actor: String = r.get(1)?;
            let (kind, id) = actor.split_once(':').unwrap_or((actor.as_str(), "0"));
            Ok(AuditEntry {
                id: r.get(0)?,
                actor: AuditActor {
                    actor_type: kind.to_string(),
                    id: id.parse().unwrap_or(0),
                    name: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                },
                action: r.get(2)?,
                target: r.get(3)?,
                conversation_id: r.get(4)?,
                store_id: r.get(5)?,
                created_at: crate::db::timestamp(r, 6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((entries, total))
}

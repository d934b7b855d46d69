//! Announcements: an admin writes once to all stores, the stores of a tier, or a chosen list; each
//! store gets it as its own `admin_store` conversation (so its replies stay private to it), and
//! the admin sees how many got it and how many read it.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::commands::{self, NewConversation};
use super::error::MessagingError;
use crate::db::{Timestamp, timestamp};
use crate::domain::{Actor, ConversationType, Invalid, Tier};

/// Which stores an announcement reaches.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum Audience {
    /// `"all"`: every active store.
    Everyone(Everyone),
    /// `{"tier": "business"}`: the active stores of a tier.
    Tier { tier: Tier },
    /// `[1, 2, 3]`: these stores (inactive or unknown ones are skipped).
    Stores(Vec<i64>),
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Everyone {
    All,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Announcement {
    pub id: i64,
    pub subject: String,
    pub message: String,
    pub stores: Audience,
    /// Stores it reached (those with active staff), and those where someone read it.
    pub delivered: i64,
    pub read: i64,
    pub created_at: Timestamp,
}

/// The active stores an audience names, with their active staff (stores without staff are
/// skipped: nobody would read it).
fn recipients(conn: &Connection, audience: &Audience) -> Result<Vec<i64>, MessagingError> {
    let (all, tier, ids): (bool, Option<Tier>, String) = match audience {
        Audience::Everyone(_) => (true, None, "[]".into()),
        Audience::Tier { tier } => (false, Some(*tier), "[]".into()),
        Audience::Stores(ids) => {
            if ids.is_empty() || ids.len() > 10_000 {
                return Err(Invalid::new("stores", "name between 1 and 10,000 stores").into());
            }
            (false, None, serde_json::to_string(ids).unwrap_or_default())
        }
    };
    Ok(conn
        .prepare_cached(
            "SELECT s.id FROM stores s
             WHERE s.is_active
               AND (?1 OR s.tier = ?2 OR s.id IN (SELECT value FROM json_each(?3)))
               AND EXISTS (SELECT 1 FROM users u WHERE u.store_id = s.id AND u.role = 'store' AND u.is_active)
             ORDER BY s.id",
        )?
        .query_map(params![all, tier, ids], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// A store's copy of an announcement: its conversation and that conversation's first message.
pub(crate) type StoreCopy = (i64, Option<i64>);

/// Writes the announcement and one conversation per store; answers its id and the copies.
pub(crate) fn announce(
    conn: &Connection,
    admin: &Actor,
    subject: &str,
    message: &str,
    audience: &Audience,
) -> Result<(i64, Vec<StoreCopy>), MessagingError> {
    if !matches!(admin, Actor::Admin { .. }) {
        return Err(MessagingError::Forbidden("admins make announcements"));
    }
    let stores = recipients(conn, audience)?;
    if stores.is_empty() {
        return Err(Invalid::new("stores", "no active store with staff among them").into());
    }
    let id: i64 = conn.query_row(
        "INSERT INTO announcements (subject, message, audience, created_by) VALUES (?1, ?2, ?3, ?4)
         RETURNING id",
        params![
            subject,
            message,
            serde_json::to_string(audience).unwrap_or_default(),
            admin.participant().1
        ],
        |r| r.get(0),
    )?;
    let mut created = Vec::with_capacity(stores.len());
    for store in stores {
        let new = NewConversation {
            conversation_type: ConversationType::AdminStore,
            subject: subject.to_string(),
            recipient: None,
            store_id: Some(store),
            initial_message: Some(message.to_string()),
            context: None,
            topic_id: None,
        };
        let (conversation, first) = commands::open_for_store_team(conn, admin, &new, store)?;
        conn.execute(
            "UPDATE conversations SET announcement_id = ?2 WHERE id = ?1",
            params![conversation, id],
        )?;
        created.push((conversation, first));
    }
    Ok((id, created))
}

/// Every announcement, newest first, with how many stores got and read it.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Announcement>, MessagingError> {
    Ok(conn
        .prepare_cached(
            "SELECT a.id, a.subject, a.message, a.audience, a.created_at,
                    (SELECT count(*) FROM conversations c WHERE c.announcement_id = a.id),
                    (SELECT count(*) FROM conversations c WHERE c.announcement_id = a.id
                       AND EXISTS (SELECT 1 FROM conversation_participants p
                                   WHERE p.conversation_id = c.id AND p.participant_type = 'store'
                                     AND p.last_read_at IS NOT NULL))
             FROM announcements a ORDER BY a.id DESC LIMIT 200",
        )?
        .query_map([], |r| {
            let audience: String = r.get(3)?;
            Ok(Announcement {
                id: r.get(0)?,
                subject: r.get(1)?,
                message: r.get(2)?,
                stores: serde_json::from_str(&audience)
                    .unwrap_or(Audience::Everyone(Everyone::All)),
                created_at: timestamp(r, 4)?,
                delivered: r.get(5)?,
                read: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

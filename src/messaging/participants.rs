//! Who takes part in a conversation: listing them, joining them, naming them, and the people an
//! actor may start a conversation with.

use rusqlite::{Connection, OptionalExtension, params};

use super::access::ConversationRow;
use super::error::MessagingError;
use super::{Participant, Recipient};
use crate::db::timestamp_opt;
use crate::domain::{Actor, Page, ParticipantType};

/// The display name of the acting user or customer.
pub(crate) fn actor_name(conn: &Connection, actor: &Actor) -> Result<String, MessagingError> {
    let (participant_type, id) = actor.participant();
    participant_name(conn, participant_type, id)
}

/// The display name of a participant (empty if the account is gone).
pub(crate) fn participant_name(
    conn: &Connection,
    participant_type: ParticipantType,
    id: i64,
) -> Result<String, MessagingError> {
    let sql = match participant_type {
        ParticipantType::Admin | ParticipantType::Store => {
            "SELECT full_name FROM users WHERE id = ?1"
        }
        ParticipantType::Customer => "SELECT full_name FROM customers WHERE id = ?1",
    };
    let name = conn.prepare_cached(sql)?.query_row([id], |r| r.get(0));
    Ok(name.optional()?.unwrap_or_default())
}

/// The participants of a conversation, in the order they joined.
pub(crate) fn participants(
    conn: &Connection,
    conversation_id: i64,
) -> Result<Vec<Participant>, MessagingError> {
    let rows = conn
        .prepare_cached(
            "SELECT p.participant_type, p.participant_id,
                    CASE p.participant_type
                         WHEN 'customer' THEN (SELECT full_name FROM customers WHERE id = p.participant_id)
                         ELSE (SELECT full_name FROM users WHERE id = p.participant_id) END,
                    p.unread_count, p.last_read_at
             FROM conversation_participants p WHERE p.conversation_id = ?1 ORDER BY p.id",
        )?
        .query_map([conversation_id], |r| {
            Ok(Participant {
                participant_type: r.get(0)?,
                participant_id: r.get(1)?,
                name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                unread_count: r.get(3)?,
                last_read_at: timestamp_opt(r, 4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Adds a participant unless already there.
pub(crate) fn add_participant(
    conn: &Connection,
    conversation_id: i64,
    kind: ParticipantType,
    id: i64,
    store_id: Option<i64>,
) -> Result<bool, MessagingError> {
    // Nearly always they are one already (every send asks): a look in the unique index costs a
    // fraction of an insert that builds its row (defaults, checks) before it finds the conflict.
    let joined = conn
        .prepare_cached(
            "SELECT 1 FROM conversation_participants
             WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3",
        )?
        .exists(params![conversation_id, kind, id])?;
    if !joined {
        conn.prepare_cached(
            "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, store_id)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![conversation_id, kind, id, store_id])?;
    }
    Ok(!joined)
}

/// The store context recorded on a participant row: none for admins.
pub(crate) fn participant_store(actor: &Actor, row: &ConversationRow) -> Option<i64> {
    match actor {
        Actor::Admin { .. } => None,
        _ => row.store_id,
    }
}

/// People the caller may start a conversation with.
pub(crate) fn recipients(
    conn: &Connection,
    actor: &Actor,
    kind: ParticipantType,
    search: Option<&str>,
    page: Page,
) -> Result<(Vec<Recipient>, i64), MessagingError> {
    let store_filter = match (actor, kind) {
        (Actor::Admin { .. }, ParticipantType::Store | ParticipantType::Customer) => None,
        (Actor::Staff { store_id, .. }, ParticipantType::Customer) => Some(*store_id),
        _ => {
            return Err(MessagingError::Forbidden(
                "you cannot start conversations with this kind of recipient",
            ));
        }
    };
    let table = match kind {
        ParticipantType::Store => {
            "(SELECT id, full_name, email, store_id, is_active FROM users WHERE role = 'store')"
        }
        _ => "customers",
    };
    let pattern = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let where_clause = "r.is_active AND s.is_active
        AND (?1 IS NULL OR r.store_id = ?1)
        AND (?2 IS NULL OR r.full_name LIKE ?2 ESCAPE '\\' OR r.email LIKE ?2 ESCAPE '\\')";
    let total: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM {table} r JOIN stores s ON s.id = r.store_id WHERE {where_clause}"
        ),
        params![store_filter, pattern],
        |r| r.get(0),
    )?;
    let recipients = conn
        .prepare(&format!(
            "SELECT r.id, r.full_name, r.email, r.store_id, s.name FROM {table} r JOIN stores s ON s.id = r.store_id
             WHERE {where_clause} ORDER BY r.full_name, r.id LIMIT ?3 OFFSET ?4"
        ))?
        .query_map(params![store_filter, pattern, page.limit, page.skip], |r| {
            Ok(Recipient {
                id: r.get(0)?,
                recipient_type: kind,
                name: r.get(1)?,
                email: r.get(2)?,
                store_id: r.get(3)?,
                store_name: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((recipients, total))
}

/// `actor`'s own preferences for conversation `id`, if they take part in it.
pub(crate) fn preferences(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<Option<super::Preferences>, MessagingError> {
    let (me_type, me_id) = actor.participant();
    Ok(conn
        .query_row(
            "SELECT email_notifications, muted FROM conversation_participants
             WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3",
            params![id, me_type, me_id],
            |r| {
                Ok(super::Preferences {
                    conversation_id: id,
                    email_notifications: r.get(0)?,
                    muted: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The active staff of a store (id and name), by name: whom a conversation can be assigned to.
pub(crate) fn store_staff(
    conn: &Connection,
    store_id: i64,
) -> Result<Vec<(i64, String)>, MessagingError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, full_name FROM users WHERE store_id = ?1 AND role = 'store' AND is_active
             ORDER BY full_name, id",
        )?
        .query_map([store_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

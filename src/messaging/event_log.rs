//! Reading the event log back: a page of the events a reader may see after a sequence number (the
//! events API, for people by their area and for the platform's keys), and the events a live
//! stream missed while it was away. What a reader may see is the conversation visibility rule
//! ([`access::visible`]) applied now, so the log never needs rewriting when access changes.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, Row};
use serde::Serialize;

use super::access::{self, Params, bind};
use super::error::MessagingError;
use super::events::{Event, EventKind, EventParticipant};
use crate::db::{Timestamp, timestamp};
use crate::domain::{Actor, ConversationType};

/// The most events one page answers, and what a page holds when the caller names no limit.
pub(crate) const PAGE_MAX: u32 = 500;
pub(crate) const PAGE_DEFAULT: u32 = 100;

/// Who reads the log: a person (what their area shows them), a store (what its staff see: a
/// store's webhook endpoint) or the platform's backend (all).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reader {
    Person(Actor),
    Store(i64),
    Platform,
}

/// One event as the events API and webhooks show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct LoggedEvent {
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub conversation_id: i64,
    pub store_id: Option<i64>,
    pub created_at: Timestamp,
    pub data: EventData,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct EventData {
    pub conversation_type: ConversationType,
    /// Who acted (for `participant.added`, who joined).
    pub actor: EventParticipant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    /// Set on the events of an internal note (store ↔ platform): a platform must not show it to
    /// the customer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EventPage {
    pub events: Vec<LoggedEvent>,
    /// The `after` of the next page: the last `seq` here when the page is full, else the newest
    /// sequence number of the log (what follows it the reader may not see), or the `after` asked
    /// for if that is newer.
    pub next_after: i64,
}

const EVENT_SELECT: &str =
    "SELECT e.seq, e.event_type, e.conversation_id, c.store_id, e.created_at,
            c.conversation_type, e.actor_type, e.actor_id, e.message_id, e.internal
     FROM events e JOIN conversations c ON c.id = e.conversation_id";

/// Up to `limit` events after `after` that `reader` may see, in commit order. An `after` from
/// before what the log still keeps is `EventsExpired`: the reader missed events for good and must
/// sync again (by `updated_since`).
pub(crate) fn page(
    conn: &Connection,
    reader: Reader,
    after: i64,
    limit: u32,
) -> Result<EventPage, MessagingError> {
    check_kept(conn, after)?;
    let events = read(conn, reader, after, limit.clamp(1, PAGE_MAX), |r| {
        Ok(LoggedEvent {
            seq: r.get(0)?,
            event_type: r.get::<_, EventKind>(1)?.log_type(),
            conversation_id: r.get(2)?,
            store_id: r.get(3)?,
            created_at: timestamp(r, 4)?,
            data: EventData {
                conversation_type: r.get(5)?,
                actor: EventParticipant {
                    participant_type: r.get(6)?,
                    id: r.get(7)?,
                },
                message_id: r.get(8)?,
                internal: r.get(9)?,
            },
        })
    })?;
    // A page that is not full holds everything the reader may see up to the end of the log as
    // this read saw it: the next page starts there, past events of others (so a quiet reader's
    // position moves on, and never falls behind the retention for events it could not see).
    let limit = limit.clamp(1, PAGE_MAX) as usize;
    let next_after = if events.len() < limit {
        last_seq(conn)?.max(after)
    } else {
        events.last().map_or(after, |e| e.seq)
    };
    Ok(EventPage { events, next_after })
}

/// What a live stream that last saw `after` missed, as the stream carries events, if there are at
/// most `max`, with the sequence number the replay reaches (the end of the log as read); None
/// when there are more, they are no longer kept, or `after` is past the end of the log (a
/// restored database): the viewer reloads instead.
pub(crate) fn missed(
    conn: &Connection,
    actor: Actor,
    after: i64,
    max: u32,
) -> Result<Option<(Vec<Event>, i64)>, MessagingError> {
    let through = last_seq(conn)?;
    if after > through || check_kept(conn, after).is_err() {
        return Ok(None);
    }
    let rows = read(conn, Reader::Person(actor), after, max + 1, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, EventKind>(1)?,
            r.get::<_, i64>(2)?,
            EventParticipant {
                participant_type: r.get(6)?,
                id: r.get(7)?,
            },
            r.get::<_, Option<i64>>(8)?,
            r.get::<_, DateTime<Utc>>(4)?,
            r.get::<_, bool>(9)?,
        ))
    })?;
    if rows.len() > max as usize {
        return Ok(None);
    }
    let events = rows
        .into_iter()
        .map(|(seq, kind, id, actor, message_id, at, internal)| {
            let mut event = Event::load(conn, seq, kind, id, actor, message_id, at)?;
            event.internal = internal;
            Ok(event)
        })
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((events, through)))
}

/// The newest sequence number handed out (0 before the first event).
pub(crate) fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    // Pruning keeps the newest event, so the largest kept is the largest given.
    conn.prepare_cached("SELECT coalesce(max(seq), 0) FROM events")?
        .query_row([], |r| r.get(0))
}

fn read<T>(
    conn: &Connection,
    reader: Reader,
    after: i64,
    limit: u32,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, MessagingError> {
    let mut params: Params = vec![
        (":after", Value::Integer(after)),
        (":limit", Value::Integer(limit.into())),
    ];
    let condition = match reader {
        Reader::Person(actor) if !access::sees_internal(&actor) => {
            format!(
                "{} AND NOT e.internal",
                access::visible(&actor, &mut params)
            )
        }
        Reader::Person(actor) => access::visible(&actor, &mut params).to_string(),
        // What staff see depends on their store alone.
        Reader::Store(store_id) => access::visible(
            &Actor::Staff {
                user_id: 0,
                store_id,
            },
            &mut params,
        )
        .to_string(),
        Reader::Platform => "1".to_string(),
    };
    // The log is walked in sequence order from `after`; visibility filters what it meets.
    let sql =
        format!("{EVENT_SELECT} WHERE e.seq > :after AND {condition} ORDER BY e.seq LIMIT :limit");
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(bind(&params).as_slice(), row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Events are pruned from the oldest, never the newest, so sequence numbers are never reused and
/// have no other gaps (a rolled-back insert gives its number back): `after` is still covered when
/// the event right after it is kept, or nothing after it was ever written.
fn check_kept(conn: &Connection, after: i64) -> Result<(), MessagingError> {
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT min(seq) FROM events")?
        .query_row([], |r| r.get(0))?;
    let covered = match oldest {
        Some(oldest) => after.saturating_add(1) >= oldest,
        None => after >= last_seq(conn)?,
    };
    if covered || after < 0 {
        Ok(())
    } else {
        Err(MessagingError::EventsExpired)
    }
}

/// Removes up to 10,000 of the oldest events older than `before` (a bounded transaction: the
/// writer serves everyone else between passes), never the newest; answers how many went.
pub(crate) fn prune(conn: &Connection, before: DateTime<Utc>) -> rusqlite::Result<usize> {
    // By sequence, up to the newest of the oldest 10,000 that is older than `before`: the log
    // loses only its oldest part, whatever the clock did, so `check_kept` can tell what is gone.
    conn.execute(
        "DELETE FROM events
         WHERE seq <= (SELECT max(seq) FROM (SELECT seq, created_at FROM events ORDER BY seq LIMIT 10000)
                       WHERE created_at < ?1)
           AND seq < (SELECT max(seq) FROM events)",
        [before],
    )
}

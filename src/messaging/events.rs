//! What changed: every use case that changes what someone sees records one event in the event log
//! (`events`, in its own transaction, so the log's order is commit order) and publishes it on the
//! in-process bus after its commit, naming the conversation's store and participants, so live
//! views (SSE) can route it to exactly the viewers allowed to see it. `event_log` reads the log
//! back (the events API, a stream's replay after a reconnect, outgoing webhooks).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::{Actor, ConversationType, ParticipantType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ConversationCreated,
    MessageSent,
    MessageDeleted,
    ConversationRead,
    ConversationClosed,
    ConversationReopened,
    ParticipantAdded,
    ConversationEscalated,
    ConversationResolved,
}

impl EventKind {
    pub(crate) const ALL: &'static [EventKind] = &[
        EventKind::ConversationCreated,
        EventKind::MessageSent,
        EventKind::MessageDeleted,
        EventKind::ConversationRead,
        EventKind::ConversationClosed,
        EventKind::ConversationReopened,
        EventKind::ParticipantAdded,
        EventKind::ConversationEscalated,
        EventKind::ConversationResolved,
    ];

    /// The event's type in the log, the events API and webhooks (the live stream names events as
    /// it always has, `message_sent`, for the pages and clients written against it).
    pub fn log_type(self) -> &'static str {
        match self {
            EventKind::ConversationCreated => "conversation.created",
            EventKind::MessageSent => "message.created",
            EventKind::MessageDeleted => "message.deleted",
            EventKind::ConversationRead => "conversation.read",
            EventKind::ConversationClosed => "conversation.closed",
            EventKind::ConversationReopened => "conversation.reopened",
            EventKind::ParticipantAdded => "participant.added",
            EventKind::ConversationEscalated => "conversation.escalated",
            EventKind::ConversationResolved => "conversation.resolved",
        }
    }

    pub(crate) fn from_log_type(name: &str) -> Option<EventKind> {
        Self::ALL.iter().copied().find(|k| k.log_type() == name)
    }

    /// Its name on the live stream.
    pub(crate) fn stream_name(self) -> &'static str {
        match self {
            EventKind::ConversationCreated => "conversation_created",
            EventKind::MessageSent => "message_sent",
            EventKind::MessageDeleted => "message_deleted",
            EventKind::ConversationRead => "conversation_read",
            EventKind::ConversationClosed => "conversation_closed",
            EventKind::ConversationReopened => "conversation_reopened",
            EventKind::ParticipantAdded => "participant_added",
            EventKind::ConversationEscalated => "conversation_escalated",
            EventKind::ConversationResolved => "conversation_resolved",
        }
    }
}

impl rusqlite::ToSql for EventKind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.log_type().into())
    }
}

impl rusqlite::types::FromSql for EventKind {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let name = value.as_str()?;
        EventKind::from_log_type(name)
            .ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("event {name:?}").into()))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventParticipant {
    #[serde(rename = "type")]
    pub participant_type: ParticipantType,
    pub id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Its place in the event log (the live stream's event id).
    pub seq: i64,
    pub kind: EventKind,
    pub conversation_id: i64,
    pub conversation_type: ConversationType,
    pub store_id: Option<i64>,
    pub participants: Vec<EventParticipant>,
    pub actor: EventParticipant,
    pub message_id: Option<i64>,
    /// About an internal note: never for the customer's eyes.
    pub internal: bool,
    pub at: DateTime<Utc>,
}

impl Event {
    /// Records a change to conversation `id` in the event log, inside the change's transaction,
    /// and answers the event with its store and participants (read in that transaction too, so
    /// the audience is exact).
    pub(crate) fn record(
        conn: &Connection,
        id: i64,
        kind: EventKind,
        actor: &Actor,
        message_id: Option<i64>,
    ) -> rusqlite::Result<Event> {
        Event::record_note(conn, id, kind, actor, message_id, false)
    }

    /// [`Event::record`] for a message that may be an internal note (`internal`): then only
    /// those who see notes hear of it.
    pub(crate) fn record_note(
        conn: &Connection,
        id: i64,
        kind: EventKind,
        actor: &Actor,
        message_id: Option<i64>,
        internal: bool,
    ) -> rusqlite::Result<Event> {
        let (participant_type, me) = actor.participant();
        let at = Utc::now();
        let seq = conn
            .prepare_cached(
                "INSERT INTO events (event_type, conversation_id, actor_type, actor_id, message_id, internal, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq",
            )?
            .query_row(
                rusqlite::params![kind, id, participant_type, me, message_id, internal, at],
                |r| r.get(0),
            )?;
        let actor = EventParticipant {
            participant_type,
            id: me,
        };
        let mut event = Event::load(conn, seq, kind, id, actor, message_id, at)?;
        event.internal = internal;
        Ok(event)
    }

    /// An event of the log as the live views carry it: with the conversation's type, store and
    /// (current) participants.
    pub(crate) fn load(
        conn: &Connection,
        seq: i64,
        kind: EventKind,
        id: i64,
        actor: EventParticipant,
        message_id: Option<i64>,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<Event> {
        let (conversation_type, store_id): (ConversationType, Option<i64>) = conn
            .prepare_cached("SELECT conversation_type, store_id FROM conversations WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let participants = conn
        .prepare_cached("SELECT participant_type, participant_id FROM conversation_participants WHERE conversation_id = ?1")?
        .query_map([id], |r| {
            Ok(EventParticipant {
                participant_type: r.get(0)?,
                id: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
        Ok(Event {
            seq,
            kind,
            conversation_id: id,
            conversation_type,
            store_id,
            participants,
            actor,
            message_id,
            internal: false,
            at,
        })
    }

    /// May `actor` see this event? The same rule as conversation visibility (access.rs), and
    /// notes only for those who see them.
    pub(crate) fn visible_to(&self, actor: &crate::domain::Actor) -> bool {
        use crate::domain::{Actor, ConversationType as T};
        if self.internal && !super::access::sees_internal(actor) {
            return false;
        }
        match *actor {
            Actor::Admin { .. } => {
                matches!(self.conversation_type, T::AdminStore | T::AdminCustomer)
                    || self
                        .participants
                        .iter()
                        .any(|p| p.participant_type == ParticipantType::Admin)
            }
            Actor::Staff { store_id, .. } => {
                self.store_id == Some(store_id)
                    && matches!(self.conversation_type, T::StoreCustomer | T::AdminStore)
            }
            Actor::Customer {
                customer_id,
                store_id,
            } => {
                matches!(self.conversation_type, T::StoreCustomer | T::AdminCustomer)
                    && self.store_id == Some(store_id)
                    && self.participants.iter().any(|p| {
                        p.participant_type == ParticipantType::Customer && p.id == customer_id
                    })
            }
        }
    }
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl EventBus {
    /// `capacity` events are buffered per subscriber; a subscriber that falls further behind
    /// skips ahead (and should reload, as the polling fallback does).
    pub(crate) fn new(capacity: usize) -> EventBus {
        let (sender, _) = broadcast::channel(capacity);
        EventBus { sender }
    }

    pub(crate) fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}

//! The in-process event bus: every use case that changes what someone sees publishes one event
//! after its commit, naming the conversation's store and participants, so live views (SSE) can
//! route it to exactly the viewers allowed to see it.

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
}

#[derive(Debug, Clone, Serialize)]
pub struct EventParticipant {
    #[serde(rename = "type")]
    pub participant_type: ParticipantType,
    pub id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub kind: EventKind,
    pub conversation_id: i64,
    pub conversation_type: ConversationType,
    pub store_id: Option<i64>,
    pub participants: Vec<EventParticipant>,
    pub actor: EventParticipant,
    pub message_id: Option<i64>,
    pub at: DateTime<Utc>,
}

impl Event {
    /// The event describing a change to conversation `id`, with its store and participants (read
    /// in the same transaction as the change, so the audience is exact).
    pub(crate) fn load(
        conn: &Connection,
        id: i64,
        kind: EventKind,
        actor: &Actor,
        message_id: Option<i64>,
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
        let (participant_type, me) = actor.participant();
        Ok(Event {
            kind,
            conversation_id: id,
            conversation_type,
            store_id,
            participants,
            actor: EventParticipant {
                participant_type,
                id: me,
            },
            message_id,
            at: Utc::now(),
        })
    }

    /// May `actor` see this event? The same rule as conversation visibility (access.rs).
    pub(crate) fn visible_to(&self, actor: &crate::domain::Actor) -> bool {
        use crate::domain::{Actor, ConversationType as T};
        match *actor {
            Actor::Admin { .. } => {
                matches!(self.conversation_type, T::AdminStore | T::AdminCustomer)
            }
            Actor::Staff { store_id, .. } => {
                self.store_id == Some(store_id)
                    && matches!(self.conversation_type, T::StoreCustomer | T::AdminStore)
            }
            Actor::Customer {
                customer_id,
                store_id,
            } => {
                self.conversation_type == T::StoreCustomer
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

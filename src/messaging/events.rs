//! The in-process event bus: every use case that changes what someone sees publishes one event
//! after its commit, naming the conversation's store and participants, so live views (SSE) can
//! route it to exactly the viewers allowed to see it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::{ConversationType, ParticipantType};

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
    /// May `actor` see this event? The same rule as conversation visibility (access.rs).
    pub fn visible_to(&self, actor: &crate::domain::Actor) -> bool {
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
    pub fn new(capacity: usize) -> EventBus {
        let (sender, _) = broadcast::channel(capacity);
        EventBus { sender }
    }

    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}

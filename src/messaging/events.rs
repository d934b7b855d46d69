//! What changed: every use case that changes what someone sees records one event in the event log
//! (`events`, in its own transaction, so the log's order is commit order) and publishes it on the
//! in-process bus after its commit, naming the conversation's store and participants, so live
//! views (SSE) can route it to exactly the viewers allowed to see it. `event_log` reads the log
//! back (the events API, a stream's replay after a reconnect, outgoing webhooks).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::mpsc;

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

/// Live events, routed to the subscribers who may see them: an event wakes the streams of its
/// customers, of its store's staff, and of the admins when it can be theirs, never every stream
/// (with 10,000 streams open, waking each for every event would cost 5 million wake-ups a second at
/// 500 messages a second). Each subscriber still checks [`Event::visible_to`] itself: the routing
/// is for speed, the one visibility rule stays the rule.
#[derive(Clone)]
pub struct EventBus {
    routes: Arc<Mutex<Routes>>,
    capacity: usize,
}

/// Whose streams a subscriber's events are routed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Route {
    /// Every event (the tests' and any platform-wide watcher's view).
    All,
    Admins,
    Store(i64),
    Customer(i64),
}

impl Route {
    fn of(actor: &Actor) -> Route {
        match *actor {
            Actor::Admin { .. } => Route::Admins,
            Actor::Staff { store_id, .. } => Route::Store(store_id),
            Actor::Customer { customer_id, .. } => Route::Customer(customer_id),
        }
    }
}

struct Outlet {
    sender: mpsc::Sender<Arc<Event>>,
    /// Set when an event did not fit: the stream tells its viewer to reload.
    lagged: Arc<AtomicBool>,
}

#[derive(Default)]
struct Routes {
    next_id: u64,
    by_route: HashMap<Route, HashMap<u64, Outlet>>,
}

/// One stream's events; unsubscribes when dropped.
pub struct Subscription {
    receiver: mpsc::Receiver<Arc<Event>>,
    lagged: Arc<AtomicBool>,
    route: Route,
    id: u64,
    routes: Arc<Mutex<Routes>>,
}

/// What a subscriber gets next.
pub enum Received {
    Event(Arc<Event>),
    /// Events were dropped because this subscriber fell behind: reload.
    Lagged,
    Closed,
}

impl Subscription {
    /// The next event, or None once the bus is gone or this subscriber fell behind.
    pub async fn next_event(&mut self) -> Option<Arc<Event>> {
        match self.recv().await {
            Received::Event(event) => Some(event),
            Received::Lagged | Received::Closed => None,
        }
    }

    pub async fn recv(&mut self) -> Received {
        if self.lagged.swap(false, Ordering::AcqRel) {
            // What is queued is older than what was dropped: the reload covers it.
            while self.receiver.try_recv().is_ok() {}
            return Received::Lagged;
        }
        match self.receiver.recv().await {
            Some(event) => Received::Event(event),
            None => Received::Closed,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(outlets) = routes.by_route.get_mut(&self.route) {
            outlets.remove(&self.id);
            if outlets.is_empty() {
                routes.by_route.remove(&self.route);
            }
        }
    }
}

impl EventBus {
    /// `capacity` events are buffered per subscriber; a subscriber that falls further behind
    /// gets [`Received::Lagged`] (and should reload, as the polling fallback does).
    pub(crate) fn new(capacity: usize) -> EventBus {
        EventBus {
            routes: Arc::default(),
            capacity,
        }
    }

    pub(crate) fn publish(&self, event: Event) {
        let event = Arc::new(event);
        let mut audience = Vec::with_capacity(event.participants.len() + 3);
        audience.push(Route::All);
        if matches!(
            event.conversation_type,
            ConversationType::AdminStore | ConversationType::AdminCustomer
        ) || event
            .participants
            .iter()
            .any(|p| p.participant_type == ParticipantType::Admin)
        {
            audience.push(Route::Admins);
        }
        if let Some(store) = event.store_id {
            audience.push(Route::Store(store));
        }
        audience.extend(
            event
                .participants
                .iter()
                .filter(|p| p.participant_type == ParticipantType::Customer)
                .map(|p| Route::Customer(p.id)),
        );
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        for route in audience {
            for outlet in routes
                .by_route
                .get(&route)
                .into_iter()
                .flat_map(HashMap::values)
            {
                // Full: the subscriber is too far behind; it reloads instead. Closed: it is
                // leaving (and unsubscribes as it goes).
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    outlet.sender.try_send(event.clone())
                {
                    outlet.lagged.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Subscribes to the events `actor` may see (each still to be checked with
    /// [`Event::visible_to`]).
    pub(crate) fn subscribe(&self, actor: &Actor) -> Subscription {
        self.subscribe_to(Route::of(actor))
    }

    /// Subscribes to every event, whoever may see it.
    pub fn subscribe_all(&self) -> Subscription {
        self.subscribe_to(Route::All)
    }

    fn subscribe_to(&self, route: Route) -> Subscription {
        let (sender, receiver) = mpsc::channel(self.capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes.next_id += 1;
        let id = routes.next_id;
        routes.by_route.entry(route).or_default().insert(
            id,
            Outlet {
                sender,
                lagged: lagged.clone(),
            },
        );
        Subscription {
            receiver,
            lagged,
            route,
            id,
            routes: self.routes.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, store: i64, customer: i64) -> Event {
        Event {
            seq,
            kind: EventKind::MessageSent,
            conversation_id: 1,
            conversation_type: ConversationType::StoreCustomer,
            store_id: Some(store),
            participants: vec![EventParticipant {
                participant_type: ParticipantType::Customer,
                id: customer,
            }],
            actor: EventParticipant {
                participant_type: ParticipantType::Customer,
                id: customer,
            },
            message_id: Some(seq),
            internal: false,
            at: Utc::now(),
        }
    }

    fn queued(subscription: &mut Subscription) -> usize {
        let mut n = 0;
        while subscription.receiver.try_recv().is_ok() {
            n += 1;
        }
        n
    }

    #[tokio::test]
    async fn an_event_reaches_the_streams_of_its_audience_only_and_a_laggard_is_told_to_reload() {
        let bus = EventBus::new(2);
        let mut admin = bus.subscribe(&Actor::Admin { user_id: 1 });
        let mut staff_1 = bus.subscribe(&Actor::Staff {
            user_id: 2,
            store_id: 1,
        });
        let mut staff_2 = bus.subscribe(&Actor::Staff {
            user_id: 3,
            store_id: 2,
        });
        let mut customer_5 = bus.subscribe(&Actor::Customer {
            customer_id: 5,
            store_id: 1,
        });
        let mut customer_6 = bus.subscribe(&Actor::Customer {
            customer_id: 6,
            store_id: 1,
        });
        bus.publish(event(1, 1, 5));
        assert_eq!(queued(&mut staff_1), 1);
        assert_eq!(queued(&mut customer_5), 1);
        assert_eq!(queued(&mut admin), 0);
        assert_eq!(queued(&mut staff_2), 0);
        assert_eq!(queued(&mut customer_6), 0);

        for seq in 2..=4 {
            bus.publish(event(seq, 1, 5));
        }
        assert!(matches!(customer_5.recv().await, Received::Lagged));
        bus.publish(event(5, 1, 5));
        assert!(matches!(customer_5.recv().await, Received::Event(e) if e.seq == 5));

        // A stream that ends leaves the routes.
        drop(customer_5);
        drop(customer_6);
        let routes = bus.routes.lock().unwrap();
        assert!(!routes.by_route.contains_key(&Route::Customer(5)));
        assert_eq!(routes.by_route.len(), 3);
    }
}

//! The conversation commands as SQL, each inside the caller's transaction: start one, close or
//! reopen it, mark it read, set a participant's preferences. The use cases in `service.rs` wrap
//! them with their notifications and events.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use super::access::{load_readable, load_visible};
use super::error::MessagingError;
use super::inbox::total_unread;
use super::messages::{Kind, insert_message};
use super::participants::{actor_name, add_participant, participant_store};
use super::{ConversationContext, Preferences};
use crate::alerts::{self, Alert};
use crate::domain::{Actor, ConversationType, Invalid, ParticipantType, SystemEvent};
use crate::domain::{AlertKind, AlertPriority};
use crate::platform;
use serde_json::json;

#[derive(Clone)]
pub(crate) struct NewConversation {
    pub conversation_type: ConversationType,
    pub subject: String,
    /// Who it is with; none where the other side is a team (a customer writing to their store,
    /// a store writing to the platform).
    pub recipient: Option<(ParticipantType, i64)>,
    pub store_id: Option<i64>,
    pub initial_message: Option<String>,
    pub context: Option<ConversationContext>,
    /// What it is about among the operator's topics.
    pub topic_id: Option<i64>,
}

/// What the rights rules allow: admins open `admin_store` (to a staff user) and `admin_customer`
/// (to a customer); staff open `store_customer` with their own store's customers. Where the
/// platform settings allow it, customers open `store_customer` with their store and staff open
/// `admin_store` with the platform: the other side is then the whole team (every active staff
/// member of the store, every active admin), who each see it unread. A named recipient must
/// exist, be active, and (for staff) belong to their store. Answers the conversation's id and
/// its first message's, if it has one.
pub(crate) fn create(
    conn: &Connection,
    actor: &Actor,
    new: &NewConversation,
) -> Result<(i64, Option<i64>), MessagingError> {
    use ConversationType as T;
    if let Some(topic) = new.topic_id {
        super::topics::check_choosable(conn, actor, topic)?;
    }
    match (*actor, new.conversation_type) {
        (Actor::Customer { store_id, .. }, T::StoreCustomer) => {
            if !platform::flag(conn, platform::CUSTOMERS_MAY_START)? {
                return Err(MessagingError::Forbidden(
                    "customers cannot start conversations",
                ));
            }
            no_recipient(new, "the store's staff take part")?;
            let team = team(conn, ParticipantType::Store, Some(store_id))?;
            insert(conn, actor, new, store_id, &team)
        }
        (Actor::Customer { .. }, _) => Err(MessagingError::Forbidden(
            "customers can start conversations only with their store",
        )),
        (Actor::Staff { store_id, .. }, T::AdminStore) => {
            if !platform::flag(conn, platform::STORES_MAY_CONTACT_OPERATOR)? {
                return Err(MessagingError::Forbidden(
                    "conversations with the platform are started by an admin",
                ));
            }
            no_recipient(new, "the platform team takes part")?;
            let team = team(conn, ParticipantType::Admin, None)?;
            insert(conn, actor, new, store_id, &team)
        }
        (Actor::Staff { .. }, T::AdminCustomer) => Err(MessagingError::Forbidden(
            "conversations between the platform and customers are started by an admin",
        )),
        (Actor::Admin { .. }, T::StoreCustomer) => Err(MessagingError::Forbidden(
            "store_customer conversations are started by the store",
        )),
        _ => create_with_recipient(conn, actor, new),
    }
}

/// Refuses a recipient where the other side is a team.
fn no_recipient(new: &NewConversation, why: &str) -> Result<(), MessagingError> {
    match new.recipient {
        Some(_) => Err(Invalid::new("recipient_id", format!("must be left out: {why}")).into()),
        None => Ok(()),
    }
}

/// Every active member of one side: the staff of a store, or the platform's admins.
fn team(
    conn: &Connection,
    side: ParticipantType,
    store_id: Option<i64>,
) -> Result<Vec<(ParticipantType, i64)>, MessagingError> {
    let ids = conn
        .prepare_cached(
            "SELECT id FROM users WHERE role = ?1 AND store_id IS ?2 AND is_active ORDER BY id",
        )?
        .query_map(params![side, store_id], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids.into_iter().map(|id| (side, id)).collect())
}

/// A conversation started with one named person: admin → staff or customer, staff → customer.
fn create_with_recipient(
    conn: &Connection,
    actor: &Actor,
    new: &NewConversation,
) -> Result<(i64, Option<i64>), MessagingError> {
    use ConversationType as T;
    use ParticipantType as P;
    let (recipient_type, recipient_id) = new
        .recipient
        .ok_or_else(|| Invalid::new("recipient_id", "is required"))?;
    let expected = match new.conversation_type {
        T::AdminStore => P::Store,
        T::StoreCustomer | T::AdminCustomer => P::Customer,
    };
    if recipient_type != expected {
        return Err(Invalid::new(
            "recipient_type",
            format!(
                "must be \"{expected}\" for a {} conversation",
                new.conversation_type
            ),
        )
        .into());
    }

    let recipient_store = recipient_store(conn, recipient_type, recipient_id)?;
    let store_id = match *actor {
        Actor::Staff { store_id, .. } if recipient_store != store_id => None,
        _ => Some(recipient_store),
    }
    .filter(|s| new.store_id.is_none_or(|given| given == *s))
    .ok_or(MessagingError::RecipientNotFound)?;

    insert(
        conn,
        actor,
        new,
        store_id,
        &[(recipient_type, recipient_id)],
    )
}

/// Writes a conversation whose parties are settled: the creator and `others` take part, and
/// the creator's first message, if any, opens it. Answers its id and that message's.
fn insert(
    conn: &Connection,
    creator: &Actor,
    new: &NewConversation,
    store_id: i64,
    others: &[(ParticipantType, i64)],
) -> Result<(i64, Option<i64>), MessagingError> {
    let now = Utc::now();
    let context = new.context.as_ref();
    let id: i64 = conn.query_row(
        "INSERT INTO conversations (conversation_type, subject, store_id, last_activity_at, created_at, updated_at,
                context_type, context_id, context_label, context_url, topic_id)
         VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        params![
            new.conversation_type,
            new.subject,
            store_id,
            now,
            context.map(|c| c.context_type),
            context.map(|c| &c.id),
            context.and_then(|c| c.label.as_ref()),
            context.and_then(|c| c.url.as_ref()),
            new.topic_id,
        ],
        |r| r.get(0),
    )?;
    let (me_type, me_id) = creator.participant();
    // Admins take part for the platform, without a store of their own.
    let store_of = |kind: ParticipantType| (kind != ParticipantType::Admin).then_some(store_id);
    add_participant(conn, id, me_type, me_id, store_of(me_type))?;
    for &(kind, other) in others {
        add_participant(conn, id, kind, other, store_of(kind))?;
    }
    let first_message = new
        .initial_message
        .as_deref()
        .map(|content| insert_message(conn, creator, id, content, Kind::Message))
        .transpose()?;
    Ok((id, first_message))
}

/// Opens an `admin_store` conversation from an admin to a whole store: every active staff member
/// of it takes part (an announcement's copy for that store).
pub(crate) fn open_for_store_team(
    conn: &Connection,
    admin: &Actor,
    new: &NewConversation,
    store_id: i64,
) -> Result<(i64, Option<i64>), MessagingError> {
    let team = team(conn, ParticipantType::Store, Some(store_id))?;
    insert(conn, admin, new, store_id, &team)
}

/// The parties of a conversation the platform opens by its own ids: a store, one of its
/// customers, and the staff member who answers for the store (the one named, else the store's
/// longest-serving active staff member). All must exist and be active.
pub(crate) struct PlatformParties {
    pub store_id: i64,
    pub customer_id: i64,
    pub staff_id: i64,
}

impl PlatformParties {
    pub(crate) fn resolve(
        conn: &Connection,
        store: &str,
        customer: &str,
        staff: Option<&str>,
    ) -> Result<PlatformParties, MessagingError> {
        let store_id: i64 = conn
            .prepare_cached("SELECT id FROM stores WHERE external_id = ?1 AND is_active")?
            .query_row([store], |r| r.get(0))
            .optional()?
            .ok_or(MessagingError::NotFound)?;
        let customer_id: i64 = conn
            .prepare_cached(
                "SELECT id FROM customers WHERE store_id = ?1 AND external_id = ?2 AND is_active",
            )?
            .query_row(params![store_id, customer], |r| r.get(0))
            .optional()?
            .ok_or(MessagingError::RecipientNotFound)?;
        let staff_id: i64 = conn
            .prepare_cached(
                "SELECT id FROM users WHERE store_id = ?1 AND role = 'store' AND is_active
                   AND (?2 IS NULL OR external_id = ?2)
                 ORDER BY id LIMIT 1",
            )?
            .query_row(params![store_id, staff], |r| r.get(0))
            .optional()?
            .ok_or(MessagingError::RecipientNotFound)?;
        Ok(PlatformParties {
            store_id,
            customer_id,
            staff_id,
        })
    }
}

/// The `store_customer` conversation between this store and customer about this context, if
/// there is one (the oldest, should several have been started by hand).
pub(crate) fn find_about(
    conn: &Connection,
    parties: &PlatformParties,
    context: &ConversationContext,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM conversations
         WHERE context_type = ?1 AND context_id = ?2 AND store_id = ?3
           AND conversation_type = 'store_customer' AND first_customer_id = ?4
         ORDER BY id LIMIT 1",
    )?
    .query_row(
        params![
            context.context_type,
            context.id,
            parties.store_id,
            parties.customer_id
        ],
        |r| r.get(0),
    )
    .optional()
}

/// Opens a `store_customer` conversation for the platform: the customer starts it (their
/// `initial_message` is its first message) and the store's staff member takes part, whatever the
/// rules for people starting conversations say: the platform decided.
pub(crate) fn open_for_platform(
    conn: &Connection,
    parties: &PlatformParties,
    new: &NewConversation,
) -> Result<(i64, Option<i64>), MessagingError> {
    let customer = Actor::Customer {
        customer_id: parties.customer_id,
        store_id: parties.store_id,
    };
    let new = NewConversation {
        conversation_type: ConversationType::StoreCustomer,
        recipient: None,
        store_id: Some(parties.store_id),
        ..new.clone()
    };
    let staff = [(ParticipantType::Store, parties.staff_id)];
    insert(conn, &customer, &new, parties.store_id, &staff)
}

/// The store of an active recipient, or `recipient_not_found`.
fn recipient_store(
    conn: &Connection,
    kind: ParticipantType,
    id: i64,
) -> Result<i64, MessagingError> {
    let sql = match kind {
        ParticipantType::Store => {
            "SELECT u.store_id FROM users u JOIN stores s ON s.id = u.store_id
             WHERE u.id = ?1 AND u.role = 'store' AND u.is_active AND s.is_active"
        }
        ParticipantType::Customer => {
            "SELECT c.store_id FROM customers c JOIN stores s ON s.id = c.store_id
             WHERE c.id = ?1 AND c.is_active AND s.is_active"
        }
        ParticipantType::Admin => {
            return Err(Invalid::new("recipient_type", "must be store or customer").into());
        }
    };
    conn.query_row(sql, [id], |r| r.get(0))
        .optional()?
        .ok_or(MessagingError::RecipientNotFound)
}

/// Closes or reopens a conversation and leaves a system message saying who did it.
pub(crate) fn set_closed(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    close: bool,
) -> Result<(), MessagingError> {
    if matches!(actor, Actor::Customer { .. }) {
        return Err(MessagingError::Forbidden(
            "customers cannot close or reopen conversations",
        ));
    }
    let row = load_visible(conn, actor, id)?;
    match (close, row.is_closed) {
        (true, true) => return Err(MessagingError::AlreadyClosed),
        (false, false) => return Err(MessagingError::NotClosed),
        _ => {}
    }
    let (me_type, me_id) = actor.participant();
    let now = Utc::now();
    if close {
        // A closed conversation waits for nobody.
        conn.execute(
            "UPDATE conversations SET is_closed = 1, closed_at = ?2, closed_by_type = ?3, closed_by_id = ?4,
                    updated_at = ?2, waiting_party = NULL, waiting_since = NULL WHERE id = ?1",
            params![id, now, me_type, me_id],
        )?;
    } else {
        conn.execute(
            "UPDATE conversations SET is_closed = 0, closed_at = NULL, closed_by_type = NULL, closed_by_id = NULL,
                    updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    let name = actor_name(conn, actor)?;
    let (text, event) = if close {
        (
            format!("Conversation closed by {name}"),
            SystemEvent::Closed,
        )
    } else {
        (
            format!("Conversation reopened by {name}"),
            SystemEvent::Reopened,
        )
    };
    insert_message(conn, actor, id, &text, Kind::System(event))?;
    Ok(())
}

/// What marking a conversation read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadOutcome {
    /// False when nothing was unread: then nothing changed, and nobody needs to hear of it.
    pub changed: bool,
    /// The caller's unread total afterwards.
    pub total_unread: i64,
}

/// Sets the caller's unread count to 0 and their `last_read_at` to now, if anything was unread.
/// Reading what is already read writes nothing, so an open thread that answers every event with
/// a read cannot keep the others busy.
pub(crate) fn mark_read(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<ReadOutcome, MessagingError> {
    // An admin reading through oversight has no count to clear: nothing changes.
    load_readable(conn, actor, id)?;
    let (me_type, me_id) = actor.participant();
    let changed = conn
        .prepare_cached(
            "UPDATE conversation_participants SET unread_count = 0, last_read_at = ?4, updated_at = ?4
             WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3
               AND unread_count > 0",
        )?
        .execute(params![id, me_type, me_id, Utc::now()])?
        > 0;
    Ok(ReadOutcome {
        changed,
        total_unread: total_unread(conn, actor)?,
    })
}

/// Updates the caller's notification preferences, joining the conversation if needed (and saying
/// whether they joined).
pub(crate) fn set_preferences(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    email_notifications: Option<bool>,
    muted: Option<bool>,
) -> Result<(Preferences, bool), MessagingError> {
    let row = load_visible(conn, actor, id)?;
    let (me_type, me_id) = actor.participant();
    let joined = add_participant(conn, id, me_type, me_id, participant_store(actor, &row))?;
    let preferences = conn.query_row(
        "UPDATE conversation_participants
            SET email_notifications = coalesce(?4, email_notifications), muted = coalesce(?5, muted), updated_at = ?6
          WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3
          RETURNING email_notifications, muted",
        params![id, me_type, me_id, email_notifications, muted, Utc::now()],
        |r| {
            Ok(Preferences {
                conversation_id: id,
                email_notifications: r.get(0)?,
                muted: r.get(1)?,
            })
        },
    )?;
    Ok((preferences, joined))
}

/// Asks the platform to step into a `store_customer` conversation: its customer or a staff
/// member of its store may, with a reason everyone in it reads. Every active admin joins it, it
/// reopens if it was closed, a system message says who asked and why, and the admins get a
/// high-priority notification. It stays escalated until an admin resolves it.
pub(crate) fn escalate(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<(), MessagingError> {
    if matches!(actor, Actor::Admin { .. }) {
        return Err(MessagingError::Forbidden(
            "the parties of a conversation ask the platform to step in",
        ));
    }
    let row = load_visible(conn, actor, id)?;
    if row.conversation_type != ConversationType::StoreCustomer {
        return Err(MessagingError::Forbidden(
            "only conversations between a store and a customer can be escalated",
        ));
    }
    if row.escalated {
        return Err(MessagingError::AlreadyEscalated);
    }
    let (me_type, me_id) = actor.participant();
    let now = Utc::now();
    conn.execute(
        "UPDATE conversations SET escalated_at = ?2, escalated_by_type = ?3, escalated_by_id = ?4,
                escalation_reason = ?5, resolved_at = NULL, is_closed = 0, closed_at = NULL,
                closed_by_type = NULL, closed_by_id = NULL, updated_at = ?2
         WHERE id = ?1",
        params![id, now, me_type, me_id, reason],
    )?;
    for (kind, admin) in team(conn, ParticipantType::Admin, None)? {
        add_participant(conn, id, kind, admin, None)?;
    }
    let name = actor_name(conn, actor)?;
    let text = format!("{name} asked the platform to step in: {reason}");
    insert_message(conn, actor, id, &text, Kind::System(SystemEvent::Escalated))?;
    let (subject, store_name): (String, String) = conn.query_row(
        "SELECT c.subject, coalesce(s.name, '') FROM conversations c
         LEFT JOIN stores s ON s.id = c.store_id WHERE c.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let message =
        format!("{name} ({store_name}) asked the platform to step into “{subject}”: {reason}");
    let url = format!("/admin/messages/{id}");
    alerts::raise(
        conn,
        &Alert {
            notification_type: AlertKind::Escalation,
            priority: AlertPriority::High,
            title: "A conversation was escalated",
            message: &message,
            action_required: true,
            action_url: Some(&url),
            metadata: json!({"conversation_id": id, "store_id": row.store_id}),
            dedup_key: &format!("escalation:{id}"),
        },
    )?;
    Ok(())
}

/// Ends an escalation: an admin who takes part says the platform is done. The admins stay
/// participants (the history is theirs too); a system message says who resolved it.
pub(crate) fn resolve(conn: &Connection, actor: &Actor, id: i64) -> Result<(), MessagingError> {
    if !matches!(actor, Actor::Admin { .. }) {
        return Err(MessagingError::Forbidden("an admin resolves an escalation"));
    }
    let row = load_visible(conn, actor, id)?;
    if !row.escalated {
        return Err(MessagingError::NotEscalated);
    }
    let now = Utc::now();
    conn.execute(
        "UPDATE conversations SET escalated_at = NULL, resolved_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    let name = actor_name(conn, actor)?;
    let text = format!("Escalation resolved by {name}");
    insert_message(conn, actor, id, &text, Kind::System(SystemEvent::Resolved))?;
    Ok(())
}

/// Marks that the customer's last message needs no answer (a "thanks"): the store's clock stops,
/// and the wait counts as neither answered nor late. Store staff only.
pub(crate) fn no_reply_needed(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<(), MessagingError> {
    if !matches!(actor, Actor::Staff { .. }) {
        return Err(MessagingError::Forbidden(
            "the store's staff decide what needs their reply",
        ));
    }
    load_visible(conn, actor, id)?;
    conn.execute(
        "UPDATE conversations SET waiting_party = NULL, waiting_since = NULL
         WHERE id = ?1 AND waiting_party = 'store'",
        [id],
    )?;
    Ok(())
}

/// Assigns a store conversation to one of the store's active staff members (or to nobody): store
/// staff only. The assignee takes part from then on; a system message says who did it. Answers
/// that message's id, or None when nothing changed.
pub(crate) fn assign(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    user_id: Option<i64>,
) -> Result<Option<i64>, MessagingError> {
    let Actor::Staff { store_id, .. } = *actor else {
        return Err(MessagingError::Forbidden(
            "a store's staff assign its conversations",
        ));
    };
    load_visible(conn, actor, id)?;
    if let Some(user) = user_id {
        let colleague = conn
            .prepare_cached(
                "SELECT 1 FROM users WHERE id = ?1 AND store_id = ?2 AND role = 'store' AND is_active",
            )?
            .exists(params![user, store_id])?;
        if !colleague {
            return Err(Invalid::new("user_id", "no such staff member in this store").into());
        }
    }
    let current: Option<i64> = conn.query_row(
        "SELECT assignee_id FROM conversations WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    if current == user_id {
        return Ok(None);
    }
    conn.execute(
        "UPDATE conversations SET assignee_id = ?2 WHERE id = ?1",
        params![id, user_id],
    )?;
    let name = actor_name(conn, actor)?;
    let (text, event) = match user_id {
        Some(user) => {
            add_participant(conn, id, ParticipantType::Store, user, Some(store_id))?;
            let assignee =
                super::participants::participant_name(conn, ParticipantType::Store, user)?;
            (
                format!("{name} assigned the conversation to {assignee}"),
                SystemEvent::Assigned,
            )
        }
        None => (
            format!("{name} unassigned the conversation"),
            SystemEvent::Unassigned,
        ),
    };
    Ok(Some(insert_message(
        conn,
        actor,
        id,
        &text,
        Kind::System(event),
    )?))
}

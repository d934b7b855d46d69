//! Who may see which conversation, as one SQL condition per kind of actor. Every query on
//! conversations goes through [`visible`], so a conversation of another tenant is simply not
//! found (404), on reads and writes alike.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, ToSql};

use super::error::MessagingError;
use crate::domain::Actor;

/// Named SQL parameters built at run time.
pub(crate) type Params = Vec<(&'static str, Value)>;

pub(crate) fn bind(params: &Params) -> Vec<(&str, &dyn ToSql)> {
    params
        .iter()
        .map(|(name, value)| (*name, value as &dyn ToSql))
        .collect()
}

/// A condition on the conversations alias `c` that holds exactly for what `actor` may see:
/// - admin: every `admin_store` and `admin_customer` conversation;
/// - store staff: `store_customer` and `admin_store` conversations of their own store;
/// - customer: `store_customer` and `admin_customer` conversations of their store that they take
///   part in.
pub(crate) fn visible(actor: &Actor, params: &mut Params) -> &'static str {
    match *actor {
        Actor::Admin { .. } => "c.conversation_type IN ('admin_store', 'admin_customer')",
        Actor::Staff { store_id, .. } => {
            params.push((":vis_store", Value::Integer(store_id)));
            "c.store_id = :vis_store AND c.conversation_type IN ('store_customer', 'admin_store')"
        }
        Actor::Customer {
            customer_id,
            store_id,
        } => {
            params.push((":vis_store", Value::Integer(store_id)));
            params.push((":vis_me", Value::Integer(customer_id)));
            // Driven by the customer's few participant rows; the unary `+` keeps the planner from
            // walking the whole store's activity index instead.
            "c.id IN (SELECT vp.conversation_id FROM conversation_participants vp
                      WHERE vp.participant_type = 'customer' AND vp.participant_id = :vis_me)
             AND +c.store_id = :vis_store
             AND +c.conversation_type IN ('store_customer', 'admin_customer')"
        }
    }
}

/// [`visible`] on rows that stand for groups of conversations by store and type (alias `g`, with
/// `store_id` 0 for conversations without a store): `conversation_counts` and
/// `participant_unread`. A customer sees only the conversations they take part in, which a group
/// cannot tell: for them it holds only where the rows are already the customer's own
/// (`participant_unread`); [`counted`] leaves them out. Must select what `visible` selects: unit
/// tests compare the two for every actor.
pub(crate) fn visible_groups(actor: &Actor, params: &mut Params) -> &'static str {
    match *actor {
        Actor::Admin { .. } => "g.conversation_type IN ('admin_store', 'admin_customer')",
        Actor::Staff { store_id, .. } => {
            params.push((":vis_store", Value::Integer(store_id)));
            "g.store_id = :vis_store AND g.conversation_type IN ('store_customer', 'admin_store')"
        }
        Actor::Customer { store_id, .. } => {
            params.push((":vis_store", Value::Integer(store_id)));
            "g.store_id = :vis_store AND g.conversation_type IN ('store_customer', 'admin_customer')"
        }
    }
}

/// [`visible_groups`] on `conversation_counts g` (one row per store, type and state), for actors
/// who see whole stores; None for customers, whose visibility depends on participation.
pub(crate) fn counted(actor: &Actor, params: &mut Params) -> Option<&'static str> {
    match actor {
        Actor::Customer { .. } => None,
        _ => Some(visible_groups(actor, params)),
    }
}

/// The conversation facts an access decision or a write needs.
#[derive(Debug, Clone)]
pub(crate) struct ConversationRow {
    pub store_id: Option<i64>,
    pub is_closed: bool,
}

/// Loads conversation `id` if `actor` may see it; otherwise `NotFound`.
pub(crate) fn load_visible(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<ConversationRow, MessagingError> {
    let mut params: Params = vec![(":id", Value::Integer(id))];
    let condition = visible(actor, &mut params);
    let sql = format!(
        "SELECT c.store_id, c.is_closed FROM conversations c
         WHERE c.id = :id AND {condition}"
    );
    conn.prepare_cached(&sql)?
        .query_row(bind(&params).as_slice(), |r| {
            Ok(ConversationRow {
                store_id: r.get(0)?,
                is_closed: r.get(1)?,
            })
        })
        .optional()?
        .ok_or(MessagingError::NotFound)
}

/// The API area (and so the URL prefix) an actor works in.
pub(crate) fn api_base(actor: &Actor) -> &'static str {
    match actor {
        Actor::Admin { .. } => "/api/v1/admin/messages",
        Actor::Staff { .. } => "/api/v1/vendor/messages",
        Actor::Customer { .. } => "/api/v1/shop/messages",
    }
}

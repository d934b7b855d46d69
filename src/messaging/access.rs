//! Who may see which conversation, as one SQL condition per kind of actor. Every query on
//! conversations goes through [`visible`], so a conversation of another tenant is simply not
//! found (404), on reads and writes alike.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, ToSql};

use super::error::MessagingError;
use crate::domain::{Actor, ConversationType};

/// Named SQL parameters built at run time.
pub(crate) type Params = Vec<(&'static str, Value)>;

pub(crate) fn bind(params: &Params) -> Vec<(&str, &dyn ToSql)> {
    params
        .iter()
        .map(|(name, value)| (*name, value as &dyn ToSql))
        .collect()
}

/// A condition on the conversations alias `c` that holds exactly for what `actor` takes part in
/// as their area (their inbox, and where they may write):
/// - admin: every `admin_store` and `admin_customer` conversation, and the `store_customer`
///   conversations the admin team joined (escalated ones: an admin takes part);
/// - store staff: `store_customer` and `admin_store` conversations of their own store;
/// - customer: `store_customer` and `admin_customer` conversations of their store that they take
///   part in.
pub(crate) fn visible(actor: &Actor, params: &mut Params) -> &'static str {
    match *actor {
        Actor::Admin { .. } => {
            "(c.conversation_type IN ('admin_store', 'admin_customer')
              OR (c.conversation_type = 'store_customer' AND c.first_admin_id IS NOT NULL))"
        }
        Actor::Staff { store_id, .. } => {
            params.push((":vis_store", Value::Integer(store_id)));
            // `<> 'admin_customer'`: the two types staff see, in one comparison (an `IN` list
            // costs an ephemeral table per run).
            "c.store_id = :vis_store AND c.conversation_type <> 'admin_customer'"
        }
        Actor::Customer {
            customer_id,
            store_id,
        } => {
            params.push((":vis_store", Value::Integer(store_id)));
            params.push((":vis_me", Value::Integer(customer_id)));
            // Driven by the customer's few participant rows; the unary `+` keeps the planner from
            // walking the whole store's activity index instead. `<> 'admin_store'`: the two types
            // customers see, in one comparison (an `IN` list costs an ephemeral table per run).
            "c.id IN (SELECT vp.conversation_id FROM conversation_participants vp
                      WHERE vp.participant_type = 'customer' AND vp.participant_id = :vis_me)
             AND +c.store_id = :vis_store AND +c.conversation_type <> 'admin_store'"
        }
    }
}

/// [`visible`] split by conversation type into parts, each of which an index lists newest first
/// (the admin's `OR` is not one range of any index): a part is read together with `visible`, so it
/// only narrows, and the parts together must cover all that `visible` selects (the inbox's tests
/// compare its pages with reading every row). None for actors whose `visible` an index already
/// lists in order.
pub(crate) fn visible_parts(actor: &Actor) -> Option<[(ConversationType, &'static str); 3]> {
    match actor {
        Actor::Admin { .. } => Some([
            (
                ConversationType::AdminStore,
                "c.conversation_type = 'admin_store'",
            ),
            (
                ConversationType::AdminCustomer,
                "c.conversation_type = 'admin_customer'",
            ),
            (
                ConversationType::StoreCustomer,
                "c.conversation_type = 'store_customer' AND c.first_admin_id IS NOT NULL",
            ),
        ]),
        _ => None,
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
        // An admin's own rows are in conversations they take part in, which they all see.
        Actor::Admin { .. } => {
            "g.conversation_type IN ('admin_store', 'admin_customer', 'store_customer')"
        }
        Actor::Staff { store_id, .. } => {
            params.push((":vis_store", Value::Integer(store_id)));
            "g.store_id = :vis_store AND g.conversation_type IN ('store_customer', 'admin_store')"
        }
        Actor::Customer { store_id, .. } => {
            params.push((":vis_store", Value::Integer(store_id)));
            // One comparison, not `IN` over the two types: SQLite builds an ephemeral table for
            // an `IN` list at every execution, on the busiest read there is.
            "g.store_id = :vis_store AND g.conversation_type <> 'admin_store'"
        }
    }
}

/// [`visible_groups`] on `conversation_counts g` (one row per store, type and state), for actors
/// who see whole stores (staff); None for customers, whose visibility depends on participation,
/// and admins, who see the `store_customer` conversations their team joined.
pub(crate) fn counted(actor: &Actor, params: &mut Params) -> Option<&'static str> {
    match actor {
        Actor::Staff { .. } => Some(visible_groups(actor, params)),
        _ => None,
    }
}

/// [`visible`], widened for an admin by oversight (platform setting `admin_oversight`): every
/// `store_customer` conversation, to read without taking part.
pub(crate) fn readable(
    conn: &Connection,
    actor: &Actor,
    params: &mut Params,
) -> rusqlite::Result<String> {
    let condition = visible(actor, params);
    Ok(if oversees(conn, actor)? {
        format!("({condition} OR c.conversation_type = 'store_customer')")
    } else {
        condition.to_string()
    })
}

/// Whether `actor` is an admin and the platform lets admins oversee stores' conversations.
pub(crate) fn oversees(conn: &Connection, actor: &Actor) -> rusqlite::Result<bool> {
    Ok(matches!(actor, Actor::Admin { .. })
        && crate::platform::flag(conn, crate::platform::ADMIN_OVERSIGHT)?)
}

/// Whether `actor` sees internal notes: everyone but customers.
pub(crate) fn sees_internal(actor: &Actor) -> bool {
    !matches!(actor, Actor::Customer { .. })
}

/// The conversation facts an access decision or a write needs.
#[derive(Debug, Clone)]
pub(crate) struct ConversationRow {
    pub store_id: Option<i64>,
    pub conversation_type: ConversationType,
    pub is_closed: bool,
    pub escalated: bool,
    /// Seen only through oversight: an admin may read it but not write to it.
    pub overseen: bool,
}

const ROW_SELECT: &str = "SELECT c.store_id, c.conversation_type, c.is_closed, c.escalated_at IS NOT NULL FROM conversations c";

fn load_where(
    conn: &Connection,
    condition: &str,
    params: &Params,
    overseen: bool,
) -> rusqlite::Result<Option<ConversationRow>> {
    conn.prepare_cached(&format!("{ROW_SELECT} WHERE c.id = :id AND {condition}"))?
        .query_row(bind(params).as_slice(), |r| {
            Ok(ConversationRow {
                store_id: r.get(0)?,
                conversation_type: r.get(1)?,
                is_closed: r.get(2)?,
                escalated: r.get(3)?,
                overseen,
            })
        })
        .optional()
}

/// Loads conversation `id` if `actor` may take part in it; otherwise `NotFound`, or `Forbidden`
/// for an admin who may only read it (oversight): what every write checks.
pub(crate) fn load_visible(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<ConversationRow, MessagingError> {
    let row = load_readable(conn, actor, id)?;
    if row.overseen {
        return Err(MessagingError::Forbidden(
            "the platform team has not joined this conversation: it can be read, not written to",
        ));
    }
    Ok(row)
}

/// Loads conversation `id` if `actor` may read it: take part in it, or oversee it (an admin,
/// when the platform allows); otherwise `NotFound`.
pub(crate) fn load_readable(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<ConversationRow, MessagingError> {
    let mut params: Params = vec![(":id", Value::Integer(id))];
    let condition = visible(actor, &mut params);
    if let Some(row) = load_where(conn, condition, &params, false)? {
        return Ok(row);
    }
    if oversees(conn, actor)? {
        let params: Params = vec![(":id", Value::Integer(id))];
        let condition = "c.conversation_type = 'store_customer'";
        if let Some(row) = load_where(conn, condition, &params, true)? {
            return Ok(row);
        }
    }
    Err(MessagingError::NotFound)
}

/// The API area (and so the URL prefix) an actor works in.
pub(crate) fn api_base(actor: &Actor) -> &'static str {
    match actor {
        Actor::Admin { .. } => "/api/v1/admin/messages",
        Actor::Staff { .. } => "/api/v1/vendor/messages",
        Actor::Customer { .. } => "/api/v1/shop/messages",
    }
}

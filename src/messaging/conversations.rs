//! Conversation use cases: create, list (with filters and full-text search), detail, close,
//! reopen, preferences, unread totals and recipients. Each takes the caller's [`Actor`] and runs
//! inside the caller's transaction or read connection.

use chrono::Utc;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::access::{Params, bind, counted, load_visible, visible, visible_groups};
use super::events::{Event, EventKind, EventParticipant};
use super::messages::{self, insert_message, message_page};
use super::{
    ConversationDetail, ConversationSummary, OtherParticipant, Participant, Preferences, Recipient,
};
use crate::db::{timestamp, timestamp_opt};
use crate::domain::{Actor, ConversationType, Page, ParticipantType};
use crate::error::AppError;

/// The columns of a [`ConversationSummary`] as seen by the participant `:me_type`/`:me_id`, for
/// the conversations `c` of `from`. My unread count comes from a covering index; the other party
/// is the first participant on the other side, kept on the conversation row (migration V17):
/// [`other_party`].
fn summary_select(actor: &Actor, from: &str) -> String {
    let (other_type, other_id) = other_party(actor.participant().0);
    format!("SELECT c.id, c.conversation_type, c.subject, c.store_id, c.is_closed, c.closed_at, c.last_message_at,
                c.message_count, c.created_at,
                coalesce((SELECT me.unread_count
                          FROM conversation_participants me INDEXED BY ix_participants_unread
                          WHERE me.participant_type = :me_type AND me.participant_id = :me_id
                            AND me.conversation_id = c.id AND me.unread_count > 0), 0),
                c.last_message_preview,
                {other_type}, {other_id},
                CASE {other_type}
                     WHEN 'customer' THEN (SELECT full_name FROM customers WHERE id = {other_id})
                     ELSE (SELECT full_name FROM users WHERE id = {other_id}) END
         FROM {from}")
}

/// The type and id (SQL over conversation `c`) of the other party `me_type` sees: the first
/// participant on the other side of the conversation's type. A conversation has participants of
/// its type's two sides only (who may take part follows who may see it), so the other side is
/// whichever of the two other types has one.
fn other_party(me_type: ParticipantType) -> (&'static str, &'static str) {
    match me_type {
        ParticipantType::Admin => (
            "CASE WHEN c.first_staff_id IS NOT NULL THEN 'store'
                  WHEN c.first_customer_id IS NOT NULL THEN 'customer' END",
            "coalesce(c.first_staff_id, c.first_customer_id)",
        ),
        ParticipantType::Store => (
            "CASE WHEN c.first_customer_id IS NOT NULL THEN 'customer'
                  WHEN c.first_admin_id IS NOT NULL THEN 'admin' END",
            "coalesce(c.first_customer_id, c.first_admin_id)",
        ),
        ParticipantType::Customer => (
            "CASE WHEN c.first_staff_id IS NOT NULL THEN 'store'
                  WHEN c.first_admin_id IS NOT NULL THEN 'admin' END",
            "coalesce(c.first_staff_id, c.first_admin_id)",
        ),
    }
}

fn me_params(actor: &Actor) -> Params {
    let (me_type, me_id) = actor.participant();
    vec![
        (":me_type", Value::Text(me_type.as_str().to_string())),
        (":me_id", Value::Integer(me_id)),
    ]
}

fn summary_row(r: &Row<'_>) -> rusqlite::Result<ConversationSummary> {
    let other = match (
        r.get::<_, Option<ParticipantType>>(11)?,
        r.get::<_, Option<i64>>(12)?,
    ) {
        (Some(participant_type), Some(id)) => Some(OtherParticipant {
            participant_type,
            id,
            name: r.get::<_, Option<String>>(13)?.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(ConversationSummary {
        id: r.get(0)?,
        conversation_type: r.get(1)?,
        subject: r.get(2)?,
        store_id: r.get(3)?,
        is_closed: r.get(4)?,
        closed_at: timestamp_opt(r, 5)?,
        last_message_at: timestamp_opt(r, 6)?,
        message_count: r.get(7)?,
        created_at: timestamp(r, 8)?,
        unread_count: r.get(9)?,
        last_message_preview: r.get(10)?,
        other_participant: other,
    })
}

/// One conversation's summary, if `actor` may see it.
pub fn summary(conn: &Connection, actor: &Actor, id: i64) -> Result<ConversationSummary, AppError> {
    let mut params = me_params(actor);
    params.push((":id", Value::Integer(id)));
    let condition = visible(actor, &mut params);
    let sql = format!(
        "{} WHERE c.id = :id AND {condition}",
        summary_select(actor, "conversations c")
    );
    conn.prepare_cached(&sql)?
        .query_row(bind(&params).as_slice(), summary_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub conversation_type: Option<ConversationType>,
    pub is_closed: Option<bool>,
    pub search: Option<String>,
}

pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    pub total: i64,
    pub total_unread: i64,
}

/// Turns what a person typed into an FTS5 query that cannot be a syntax error: every word is
/// quoted and matched as a prefix, all words must match. None when nothing searchable remains.
pub fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(10)
        .map(|t| format!("\"{}\"*", t.chars().take(64).collect::<String>()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The SQL of an inbox page and of its total, with their parameters.
struct ListQuery {
    count_sql: String,
    count_params: Params,
    page_sql: String,
    page_params: Params,
}

/// How a search's page is chosen among its hits, which arrive as the JSON array `:hits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchPlan {
    /// Look up every hit and keep the newest: for hits that are few next to what the caller sees.
    FromHits,
    /// Walk the store's conversations newest first and keep those hit, until the page is full:
    /// for hits common enough that the page fills long before the hits run out.
    NewestFirst,
}

/// Chooses the cheaper [`SearchPlan`]: walking newest first passes about `visible / hits`
/// conversations per row of the page, each an entry of a covering index read in order, while each
/// hit looked up is a conversation row read from anywhere in the table, about four times the cost
/// (measured at a million messages). Only a store's staff can walk (the activity index is per
/// store; an admin's conversations span stores, and a customer's own few conversations drive
/// their queries).
fn search_plan(actor: &Actor, hits: usize, visible: i64, page: Page) -> SearchPlan {
    let rows = i64::from(page.skip) + i64::from(page.limit);
    let hits = i64::try_from(hits).unwrap_or(i64::MAX).max(1);
    let walked = rows.saturating_mul(visible) / hits;
    if matches!(actor, Actor::Staff { .. }) && walked < hits.saturating_mul(4) {
        SearchPlan::NewestFirst
    } else {
        SearchPlan::FromHits
    }
}

fn list_query(
    actor: &Actor,
    filter: &ListFilter,
    page: Page,
    search: Option<SearchPlan>,
) -> ListQuery {
    let mut params = Params::new();
    let mut conditions = vec![visible(actor, &mut params).to_string()];
    if let Some(t) = filter.conversation_type {
        // Filters narrow what visibility selected; `+` keeps them from steering index choice.
        conditions.push("+c.conversation_type = :type".into());
        params.push((":type", Value::Text(t.as_str().into())));
    }
    if let Some(closed) = filter.is_closed {
        conditions.push("+c.is_closed = :closed".into());
        params.push((":closed", Value::Integer(closed.into())));
    }
    let mut conversations = "conversations c";
    if let Some(plan) = search {
        // `+` leaves the hits as a filter where something else drives the query.
        let drives = plan == SearchPlan::FromHits && !matches!(actor, Actor::Customer { .. });
        let hit = if drives { "c.id" } else { "+c.id" };
        conditions.push(format!("{hit} IN (SELECT value FROM json_each(:hits))"));
        // Without statistics SQLite cannot tell few hits from many: the plan says which.
        conversations = match plan {
            SearchPlan::NewestFirst => "conversations c INDEXED BY ix_conversations_store_activity",
            SearchPlan::FromHits => "conversations c NOT INDEXED",
        };
    }
    let where_clause = conditions.join(" AND ");
    let (count_sql, count_params) = match counted_total(actor, filter) {
        Some(counted) if search.is_none() => counted,
        _ => (
            format!("SELECT count(*) FROM {conversations} WHERE {where_clause}"),
            params.clone(),
        ),
    };
    let mut page_params = params;
    page_params.extend(me_params(actor));
    page_params.push((":limit", Value::Integer(page.limit.into())));
    page_params.push((":skip", Value::Integer(page.skip.into())));
    let order = "ORDER BY c.last_activity_at DESC, c.id DESC LIMIT :limit OFFSET :skip";
    let page_sql = if search.is_some() {
        // The page is chosen from the candidates' ids and times alone, and only its rows read
        // their summaries (SQLite computes a row's columns before it sorts).
        format!(
            "WITH page AS (SELECT c.id, c.last_activity_at FROM {conversations}
                 WHERE {where_clause} {order})
             {} ORDER BY page.last_activity_at DESC, page.id DESC",
            summary_select(actor, "page JOIN conversations c ON c.id = page.id")
        )
    } else {
        format!(
            "{} WHERE {where_clause} {order}",
            summary_select(actor, conversations)
        )
    };
    ListQuery {
        count_sql,
        count_params,
        page_sql,
        page_params,
    }
}

/// The conversations a search finds (migration V11): those with a live message or a subject that
/// has every word, within the caller's scope, a rowid range of the index. A hit's conversation is
/// read from its rowid, so no hit visits a table. A conversation comes once per hit in it:
/// [`search_hits`] keeps one.
const SEARCH_HITS: &str = "SELECT (rowid >> 20) & 134217727 FROM message_search
     WHERE message_search MATCH :q AND rowid BETWEEN :scope_first AND :scope_last
     UNION ALL SELECT rowid & 134217727 FROM conversation_search
     WHERE conversation_search MATCH :q AND rowid BETWEEN :scope_first AND :scope_last";

/// The parameters of [`SEARCH_HITS`]: the words, and the rowid range of the actor's scope (0 for
/// admins, the store for staff and customers, whom `visible` then narrows to their own).
fn search_params(actor: &Actor, words: &str) -> Params {
    const SCOPE_SHIFT: u32 = 47;
    let scope = match *actor {
        Actor::Admin { .. } => 0,
        Actor::Staff { store_id, .. } | Actor::Customer { store_id, .. } => store_id,
    };
    // Stores beyond the index layout's 16 bits have nothing indexed: an empty range.
    let (first, last) = if (0..=0xFFFF).contains(&scope) {
        let first = scope << SCOPE_SHIFT;
        (first, first | ((1 << SCOPE_SHIFT) - 1))
    } else {
        (1, 0)
    };
    vec![
        (":q", Value::Text(words.to_string())),
        (":scope_first", Value::Integer(first)),
        (":scope_last", Value::Integer(last)),
    ]
}

/// Whether the scope of [`search_params`] selects exactly what `visible` and the filter
/// select: for admins and staff without type or state filters.
fn scope_is_visibility(actor: &Actor, filter: &ListFilter) -> bool {
    !matches!(actor, Actor::Customer { .. })
        && filter.conversation_type.is_none()
        && filter.is_closed.is_none()
}

/// How many conversations the caller sees through `filter`'s type and state (its search aside),
/// from `conversation_counts`, where it can answer: for an actor who sees whole stores (the count
/// of a customer's few conversations is cheap anyway).
fn counted_total(actor: &Actor, filter: &ListFilter) -> Option<(String, Params)> {
    let mut params = Params::new();
    let mut conditions = vec![counted(actor, &mut params)?.to_string()];
    if let Some(t) = filter.conversation_type {
        conditions.push("g.conversation_type = :type".into());
        params.push((":type", Value::Text(t.as_str().into())));
    }
    if let Some(closed) = filter.is_closed {
        conditions.push("g.is_closed = :closed".into());
        params.push((":closed", Value::Integer(closed.into())));
    }
    let sql = format!(
        "SELECT coalesce(sum(g.n), 0) FROM conversation_counts g WHERE {}",
        conditions.join(" AND ")
    );
    Some((sql, params))
}

/// The caller's inbox: newest activity first, filtered, paginated. Its statements (the hits, the
/// page, the totals) agree when they run in one read transaction, as [`crate::db::Db::read`] runs
/// them.
pub fn list(
    conn: &Connection,
    actor: &Actor,
    filter: &ListFilter,
    page: Page,
) -> Result<ConversationList, AppError> {
    let Some(words) = filter.search.as_deref().and_then(fts_query) else {
        let query = list_query(actor, filter, page, None);
        return list_page(conn, actor, &query, None);
    };
    let hits = search_hits(conn, actor, &words)?;
    if hits.is_empty() {
        return Ok(ConversationList {
            conversations: Vec::new(),
            total: 0,
            total_unread: total_unread(conn, actor)?,
        });
    }
    // Only staff may walk (see `search_plan`): only they need what they see counted.
    let counted = counted_total(actor, filter).filter(|_| matches!(actor, Actor::Staff { .. }));
    let visible_total = match counted {
        Some((sql, params)) => conn
            .prepare_cached(&sql)?
            .query_row(bind(&params).as_slice(), |r| r.get(0))?,
        None => 0,
    };
    let plan = search_plan(actor, hits.len(), visible_total, page);
    let mut query = list_query(actor, filter, page, Some(plan));
    let ids: Vec<String> = hits.iter().map(i64::to_string).collect();
    let ids = Value::Text(format!("[{}]", ids.join(",")));
    query.page_params.push((":hits", ids.clone()));
    query.count_params.push((":hits", ids));
    // Where the scope is exactly what the caller may see, every hit counts.
    let total = scope_is_visibility(actor, filter).then_some(hits.len() as i64);
    list_page(conn, actor, &query, total)
}

/// Runs an inbox query: the page, then the total unless `total` is known.
fn list_page(
    conn: &Connection,
    actor: &Actor,
    query: &ListQuery,
    total: Option<i64>,
) -> Result<ConversationList, AppError> {
    let conversations = conn
        .prepare_cached(&query.page_sql)?
        .query_map(bind(&query.page_params).as_slice(), summary_row)?
        .collect::<rusqlite::Result<_>>()?;
    let total = match total {
        Some(total) => total,
        None => conn
            .prepare_cached(&query.count_sql)?
            .query_row(bind(&query.count_params).as_slice(), |r| r.get(0))?,
    };
    Ok(ConversationList {
        conversations,
        total,
        total_unread: total_unread(conn, actor)?,
    })
}

/// The ids of the conversations a search finds within the caller's scope, ascending, each once.
fn search_hits(conn: &Connection, actor: &Actor, words: &str) -> Result<Vec<i64>, AppError> {
    let params = search_params(actor, words);
    let mut hits = conn
        .prepare_cached(SEARCH_HITS)?
        .query_map(bind(&params).as_slice(), |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Message hits come in rowid order, so a conversation's are already together.
    hits.sort_unstable();
    hits.dedup();
    Ok(hits)
}

/// The sum of the caller's unread counts over the conversations they may see (the header badge).
pub fn total_unread(conn: &Connection, actor: &Actor) -> Result<i64, AppError> {
    let (sql, params) = unread_query(actor);
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(bind(&params).as_slice(), |r| r.get(0))?)
}

fn unread_query(actor: &Actor) -> (String, Params) {
    let mut params = me_params(actor);
    let condition = visible_groups(actor, &mut params);
    let sql = format!(
        "SELECT coalesce(sum(g.n), 0) FROM participant_unread g
         WHERE g.participant_type = :me_type AND g.participant_id = :me_id AND {condition}"
    );
    (sql, params)
}

pub fn participants(conn: &Connection, conversation_id: i64) -> Result<Vec<Participant>, AppError> {
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

/// The whole view of one conversation: summary, participants, and one page of messages
/// (oldest→newest within the page, older pages through `before`). No side effects.
pub fn detail(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    limit: u32,
    before: Option<i64>,
) -> Result<ConversationDetail, AppError> {
    let summary = summary(conn, actor, id)?;
    let participants = participants(conn, id)?;
    let (messages, has_more) = message_page(conn, actor, id, limit, before)?;
    Ok(ConversationDetail {
        summary,
        participants,
        messages,
        has_more,
    })
}

pub struct NewConversation {
    pub conversation_type: ConversationType,
    pub subject: String,
    pub recipient_type: ParticipantType,
    pub recipient_id: i64,
    pub store_id: Option<i64>,
    pub initial_message: Option<String>,
}

/// What the rights rules allow: admins open `admin_store` (to a staff user) and `admin_customer`
/// (to a customer); staff open `store_customer` with their own store's customers; customers open
/// nothing. The recipient must exist, be active, and (for staff) belong to their store.
pub fn create(conn: &Connection, actor: &Actor, new: &NewConversation) -> Result<i64, AppError> {
    use ConversationType as T;
    use ParticipantType as P;
    let allowed = match (actor, new.conversation_type) {
        (Actor::Customer { .. }, _) => Err("customers cannot start conversations"),
        (Actor::Admin { .. }, T::StoreCustomer) => {
            Err("store_customer conversations are started by the store")
        }
        (Actor::Staff { .. }, T::AdminStore | T::AdminCustomer) => {
            Err("conversations with the platform are started by an admin")
        }
        _ => Ok(()),
    };
    allowed.map_err(|why| AppError::Forbidden(why.into()))?;
    let expected = match new.conversation_type {
        T::AdminStore => P::Store,
        T::StoreCustomer | T::AdminCustomer => P::Customer,
    };
    if new.recipient_type != expected {
        return Err(AppError::validation(
            "recipient_type",
            format!(
                "must be \"{expected}\" for a {} conversation",
                new.conversation_type
            ),
        ));
    }

    let recipient_store = recipient_store(conn, new.recipient_type, new.recipient_id)?;
    let store_id = match *actor {
        Actor::Staff { store_id, .. } if recipient_store != store_id => None,
        _ => Some(recipient_store),
    }
    .filter(|s| new.store_id.is_none_or(|given| given == *s))
    .ok_or_else(|| AppError::BadRequest {
        code: "recipient_not_found",
        message: "recipient_id: no such recipient in this store".into(),
    })?;

    let now = Utc::now();
    let id: i64 = conn.query_row(
        "INSERT INTO conversations (conversation_type, subject, store_id, last_activity_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?4) RETURNING id",
        params![new.conversation_type, new.subject, store_id, now],
        |r| r.get(0),
    )?;
    let (me_type, me_id) = actor.participant();
    let creator_store = if me_type == P::Admin {
        None
    } else {
        Some(store_id)
    };
    add_participant(conn, id, me_type, me_id, creator_store)?;
    add_participant(
        conn,
        id,
        new.recipient_type,
        new.recipient_id,
        Some(store_id),
    )?;
    if let Some(content) = &new.initial_message {
        insert_message(conn, actor, id, content, false)?;
    }
    Ok(id)
}

/// The store of an active recipient, or `recipient_not_found`.
fn recipient_store(conn: &Connection, kind: ParticipantType, id: i64) -> Result<i64, AppError> {
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
            return Err(AppError::validation(
                "recipient_type",
                "must be store or customer",
            ));
        }
    };
    conn.query_row(sql, [id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| AppError::BadRequest {
            code: "recipient_not_found",
            message: "recipient_id: no such recipient in this store".into(),
        })
}

/// Adds a participant unless already there.
pub fn add_participant(
    conn: &Connection,
    conversation_id: i64,
    kind: ParticipantType,
    id: i64,
    store_id: Option<i64>,
) -> Result<(), AppError> {
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
    Ok(())
}

/// Closes or reopens a conversation and leaves a system message saying who did it.
pub fn set_closed(conn: &Connection, actor: &Actor, id: i64, close: bool) -> Result<(), AppError> {
    if matches!(actor, Actor::Customer { .. }) {
        return Err(AppError::Forbidden(
            "customers cannot close or reopen conversations".into(),
        ));
    }
    let row = load_visible(conn, actor, id)?;
    match (close, row.is_closed) {
        (true, true) => {
            return Err(AppError::conflict(
                "conversation_closed",
                "the conversation is already closed",
            ));
        }
        (false, false) => {
            return Err(AppError::conflict(
                "conversation_open",
                "the conversation is not closed",
            ));
        }
        _ => {}
    }
    let (me_type, me_id) = actor.participant();
    let now = Utc::now();
    if close {
        conn.execute(
            "UPDATE conversations SET is_closed = 1, closed_at = ?2, closed_by_type = ?3, closed_by_id = ?4,
                    updated_at = ?2 WHERE id = ?1",
            params![id, now, me_type, me_id],
        )?;
    } else {
        conn.execute(
            "UPDATE conversations SET is_closed = 0, closed_at = NULL, closed_by_type = NULL, closed_by_id = NULL,
                    updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    let name = messages::actor_name(conn, actor)?;
    let text = if close {
        format!("Conversation closed by {name}")
    } else {
        format!("Conversation reopened by {name}")
    };
    insert_message(conn, actor, id, &text, true)?;
    Ok(())
}

/// Sets the caller's unread count to 0. Returns the caller's new total.
pub fn mark_read(conn: &Connection, actor: &Actor, id: i64) -> Result<i64, AppError> {
    load_visible(conn, actor, id)?;
    let (me_type, me_id) = actor.participant();
    conn.prepare_cached(
        "UPDATE conversation_participants SET unread_count = 0, last_read_at = ?4, updated_at = ?4
         WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3",
    )?
    .execute(params![id, me_type, me_id, Utc::now()])?;
    total_unread(conn, actor)
}

/// Updates the caller's notification preferences, joining the conversation if needed.
pub fn set_preferences(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    email_notifications: Option<bool>,
    muted: Option<bool>,
) -> Result<Preferences, AppError> {
    let row = load_visible(conn, actor, id)?;
    let (me_type, me_id) = actor.participant();
    add_participant(conn, id, me_type, me_id, participant_store(actor, &row))?;
    conn.query_row(
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
    )
    .map_err(AppError::from)
}

/// The store context recorded on a participant row: none for admins.
pub fn participant_store(actor: &Actor, row: &super::access::ConversationRow) -> Option<i64> {
    match actor {
        Actor::Admin { .. } => None,
        _ => row.store_id,
    }
}

/// People the caller may start a conversation with.
pub fn recipients(
    conn: &Connection,
    actor: &Actor,
    kind: ParticipantType,
    search: Option<&str>,
    page: Page,
) -> Result<(Vec<Recipient>, i64), AppError> {
    let store_filter = match (actor, kind) {
        (Actor::Admin { .. }, ParticipantType::Store | ParticipantType::Customer) => None,
        (Actor::Staff { store_id, .. }, ParticipantType::Customer) => Some(*store_id),
        _ => {
            return Err(AppError::Forbidden(
                "you cannot start conversations with this kind of recipient".into(),
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

/// The event describing a change to conversation `id`, with its store and participants (read in
/// the same transaction as the change, so the audience is exact).
pub fn event(
    conn: &Connection,
    id: i64,
    kind: EventKind,
    actor: &Actor,
    message_id: Option<i64>,
) -> Result<Event, AppError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// EXPLAIN QUERY PLAN lines of `sql`.
    fn plan(conn: &Connection, sql: &str, params: &Params) -> Vec<String> {
        conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(bind(params).as_slice(), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// A full scan of a table (as opposed to a search, or a scan of an index).
    fn full_scans(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .filter(|l| {
                l.starts_with("SCAN ")
                    && !l.contains("USING")
                    && !l.contains("VIRTUAL TABLE")
                    && !l.starts_with("SCAN (subquery")
                    && *l != "SCAN hits"
                    && *l != "SCAN page"
            })
            .cloned()
            .collect()
    }

    #[test]
    fn inbox_queries_never_scan_a_whole_table() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        let page = Page { skip: 0, limit: 20 };
        let actors = [
            Actor::Admin { user_id: 1 },
            Actor::Staff {
                user_id: 2,
                store_id: 1,
            },
            Actor::Customer {
                customer_id: 3,
                store_id: 1,
            },
        ];
        let filters = [
            ListFilter::default(),
            ListFilter {
                is_closed: Some(false),
                conversation_type: Some(ConversationType::StoreCustomer),
                search: None,
            },
            ListFilter {
                search: Some("refund".into()),
                ..Default::default()
            },
        ];
        for actor in &actors {
            for filter in &filters {
                let plans = match (&filter.search, actor) {
                    (None, _) => vec![None],
                    (Some(_), Actor::Staff { .. }) => {
                        vec![Some(SearchPlan::FromHits), Some(SearchPlan::NewestFirst)]
                    }
                    (Some(_), _) => vec![Some(SearchPlan::FromHits)],
                };
                for search in plans {
                    let mut q = list_query(actor, filter, page, search);
                    if search.is_some() {
                        let hits = Value::Text("[1,2,3]".into());
                        q.page_params.push((":hits", hits.clone()));
                        q.count_params.push((":hits", hits));
                    }
                    for (sql, params) in [
                        (&q.count_sql, &q.count_params),
                        (&q.page_sql, &q.page_params),
                    ] {
                        let lines = plan(&conn, sql, params);
                        if std::env::var("SHOW_PLANS").is_ok() {
                            eprintln!("{actor:?} {filter:?} {search:?}\n{}", lines.join("\n"));
                        }
                        assert!(
                            full_scans(&lines).is_empty(),
                            "{actor:?} {filter:?}: {lines:#?}"
                        );
                        let first = lines
                            .iter()
                            .find(|l| l.starts_with("SEARCH ") || l.starts_with("SCAN "))
                            .cloned()
                            .unwrap_or_default();
                        match (actor, search) {
                            // A customer's inbox starts from their own participant rows,
                            // whatever the size of the store; a search's few hits start from
                            // the conversation ids.
                            (Actor::Customer { .. }, _)
                            | (Actor::Staff { .. }, Some(SearchPlan::FromHits)) => assert!(
                                first.contains("rowid=?") || first.contains("(id=?"),
                                "{actor:?} {filter:?}: {lines:#?}"
                            ),
                            // Many hits: the store's conversations, newest first.
                            (_, Some(SearchPlan::NewestFirst)) => assert!(
                                first.contains("ix_conversations_store_activity (store_id=?)"),
                                "{filter:?}: {lines:#?}"
                            ),
                            _ => {}
                        }
                    }
                }
            }
            let (unread, params) = unread_query(actor);
            let lines = plan(&conn, &unread, &params);
            assert!(
                full_scans(&lines).is_empty(),
                "unread {actor:?}: {lines:#?}"
            );
        }
    }

    #[test]
    fn an_inbox_row_shows_the_first_participant_on_the_other_side() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        conn.execute_batch(
            "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A');
             INSERT INTO users (id, email, password_hash, full_name, role, store_id) VALUES
                 (20, 's20@x.test', 'h', 'Staff 20', 'store', 1),
                 (21, 's21@x.test', 'h', 'Staff 21', 'store', 1),
                 (30, 'a30@x.test', 'h', 'Admin 30', 'admin', NULL),
                 (31, 'a31@x.test', 'h', 'Admin 31', 'admin', NULL),
                 (32, 'a32@x.test', 'h', 'Admin 32', 'admin', NULL);
             INSERT INTO customers (id, store_id, email, full_name) VALUES
                 (10, 1, 'c10@x.test', 'Customer 10'), (11, 1, 'c11@x.test', 'Customer 11');
             INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES
                 (1, 'store_customer', 's', 1), (2, 'store_customer', 's', 1),
                 (3, 'admin_store', 's', 1), (4, 'admin_customer', 's', NULL),
                 (5, 'store_customer', 's', 1);
             INSERT INTO conversation_participants (conversation_id, participant_type, participant_id)
             VALUES (1, 'customer', 10), (1, 'store', 20), (1, 'store', 21), (2, 'store', 21),
                    (3, 'store', 20), (3, 'admin', 30), (3, 'admin', 31), (4, 'admin', 31),
                    (4, 'customer', 11), (5, 'customer', 11), (5, 'store', 20);",
        )
        .unwrap();
        let actors = [
            Actor::Admin { user_id: 30 },
            Actor::Staff {
                user_id: 20,
                store_id: 1,
            },
            Actor::Customer {
                customer_id: 10,
                store_id: 1,
            },
            Actor::Customer {
                customer_id: 11,
                store_id: 1,
            },
        ];
        // Each row's other party against the definition (the earliest participant of another
        // type), and the stored columns against computing them again.
        let check = |step: &str| {
            for actor in &actors {
                let (me_type, _) = actor.participant();
                let list = list(
                    &conn,
                    actor,
                    &ListFilter::default(),
                    Page { skip: 0, limit: 50 },
                )
                .unwrap();
                for row in &list.conversations {
                    let expected: Option<(ParticipantType, i64, String)> = conn
                        .query_row(
                            "SELECT p.participant_type, p.participant_id,
                                    coalesce(u.full_name, c.full_name)
                             FROM conversation_participants p
                             LEFT JOIN users u ON p.participant_type <> 'customer' AND u.id = p.participant_id
                             LEFT JOIN customers c ON p.participant_type = 'customer' AND c.id = p.participant_id
                             WHERE p.conversation_id = ?1 AND p.participant_type <> ?2
                             ORDER BY p.id LIMIT 1",
                            params![row.id, me_type],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                        )
                        .optional()
                        .unwrap();
                    let shown = row
                        .other_participant
                        .as_ref()
                        .map(|o| (o.participant_type, o.id, o.name.clone()));
                    assert_eq!(shown, expected, "{step}: {actor:?} conversation {}", row.id);
                }
            }
            let stale: i64 = conn
                .query_row(
                    "SELECT count(*) FROM conversations c
                     JOIN conversation_first_parties f ON f.conversation_id = c.id
                     WHERE c.first_admin_id IS NOT f.admin_id OR c.first_staff_id IS NOT f.staff_id
                        OR c.first_customer_id IS NOT f.customer_id",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(stale, 0, "{step}");
        };
        check("joined");
        let changes = [
            (
                "the first staff member leaves",
                "DELETE FROM conversation_participants WHERE conversation_id = 1 AND participant_id = 20",
            ),
            (
                "a customer joins a conversation without one",
                "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id) VALUES (2, 'customer', 10)",
            ),
            (
                "a participant moves to another conversation",
                "UPDATE conversation_participants SET conversation_id = 2 WHERE conversation_id = 5 AND participant_type = 'customer'",
            ),
            (
                "a participant is replaced",
                "UPDATE conversation_participants SET participant_id = 32 WHERE conversation_id = 3 AND participant_id = 30",
            ),
            (
                "the last admin leaves",
                "DELETE FROM conversation_participants WHERE conversation_id = 4 AND participant_type = 'admin'",
            ),
            (
                "a conversation goes",
                "DELETE FROM conversations WHERE id = 3",
            ),
        ];
        for (step, sql) in changes {
            conn.execute(sql, []).unwrap();
            check(step);
        }
    }

    #[test]
    fn unread_totals_agree_with_summing_what_each_actor_may_see() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        // Conversations of every type in two stores, one moved to the other store and one
        // retyped after its participants joined: participation alone must not make them count.
        conn.execute_batch(
            "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');
             INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES
                 (1, 'store_customer', 's', 1), (2, 'store_customer', 's', 1),
                 (3, 'store_customer', 's', 2), (4, 'admin_store', 's', 1),
                 (5, 'admin_customer', 's', NULL), (6, 'store_customer', 's', 1),
                 (7, 'store_customer', 's', 1);
             INSERT INTO conversation_participants
                 (conversation_id, participant_type, participant_id, unread_count) VALUES
                 (1, 'customer', 10, 1), (1, 'store', 20, 2), (2, 'customer', 10, 4),
                 (2, 'customer', 11, 8), (3, 'customer', 12, 16), (3, 'store', 21, 32),
                 (4, 'store', 20, 64), (4, 'admin', 30, 128), (5, 'customer', 10, 256),
                 (5, 'admin', 30, 512), (6, 'customer', 10, 1024), (6, 'store', 20, 2048),
                 (7, 'customer', 10, 4096), (7, 'admin', 30, 8192);
             UPDATE conversations SET store_id = 2 WHERE id = 6;
             UPDATE conversations SET conversation_type = 'admin_customer', store_id = NULL
                 WHERE id = 7;",
        )
        .unwrap();
        let actors = [
            Actor::Admin { user_id: 30 },
            Actor::Staff {
                user_id: 20,
                store_id: 1,
            },
            Actor::Staff {
                user_id: 21,
                store_id: 2,
            },
            Actor::Customer {
                customer_id: 10,
                store_id: 1,
            },
            Actor::Customer {
                customer_id: 12,
                store_id: 2,
            },
        ];
        // Each actor's badge against summing their participant rows over `visible`, and the
        // stored totals against adding them up again from the participant rows.
        let check = |step: &str| -> Vec<i64> {
            let mut totals = Vec::new();
            for actor in &actors {
                let mut params = me_params(actor);
                let sql = format!(
                    "SELECT coalesce(sum(p.unread_count), 0) FROM conversation_participants p
                     JOIN conversations c ON c.id = p.conversation_id
                     WHERE p.participant_type = :me_type AND p.participant_id = :me_id AND {}",
                    visible(actor, &mut params)
                );
                let expected: i64 = conn
                    .query_row(&sql, bind(&params).as_slice(), |r| r.get(0))
                    .unwrap();
                assert_eq!(
                    total_unread(&conn, actor).unwrap(),
                    expected,
                    "{step}: {actor:?}"
                );
                totals.push(expected);
            }
            let groups = |sql: &str| -> Vec<(String, i64, i64, String, i64)> {
                let mut statement = conn.prepare(sql).unwrap();
                let rows = statement.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                });
                rows.unwrap().map(Result::unwrap).collect()
            };
            assert_eq!(
                groups("SELECT * FROM participant_unread WHERE n <> 0 ORDER BY 1, 2, 3, 4"),
                groups(
                    "SELECT p.participant_type, p.participant_id, coalesce(c.store_id, 0),
                            c.conversation_type, sum(p.unread_count)
                     FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
                     WHERE p.unread_count > 0 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                ),
                "{step}"
            );
            totals
        };
        // Admin: 4 and 7 (5 is admin_customer too); staff 20: 1 and 4, not 6 (moved away);
        // customer 10: 1 and 2, not 5 or 7 (admin_customer) nor 6 (moved).
        assert_eq!(check("start"), [128 + 512 + 8192, 2 + 64, 32, 1 + 4, 16]);

        // Whatever else changes a participant row or a conversation keeps the totals.
        let steps = [
            ("messages arrive", "UPDATE conversation_participants SET unread_count = unread_count + 3 WHERE participant_type <> 'customer'"),
            ("conversations are read", "UPDATE conversation_participants SET unread_count = 0 WHERE conversation_id IN (1, 5)"),
            ("a participant leaves", "DELETE FROM conversation_participants WHERE conversation_id = 3 AND participant_type = 'store'"),
            ("a conversation is deleted", "DELETE FROM conversations WHERE id = 2"),
            ("a conversation moves back", "UPDATE conversations SET store_id = 1 WHERE id = 6"),
            ("a conversation is retyped", "UPDATE conversations SET conversation_type = 'store_customer', store_id = 2 WHERE id = 7"),
            ("a row changes hands", "UPDATE conversation_participants SET participant_id = 11, conversation_id = 3 WHERE conversation_id = 7 AND participant_type = 'customer'"),
            ("a conversation starts", "INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES (8, 'admin_store', 's', 2);
                 INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, unread_count)
                 VALUES (8, 'store', 21, 5), (8, 'admin', 30, 0)"),
        ];
        for (step, sql) in steps {
            conn.execute_batch(sql).unwrap();
            check(step);
        }
        assert_eq!(
            check("end"),
            [131, 67 + 2051, 5, 1024, 16],
            "admin: 4 (5 read, 7 now store_customer); staff 20: 4 and 6 (back), 1 read; \
             staff 21: 8 only (left 3); customer 10: 6 (back; 2 deleted, 7's row moved away)"
        );
    }

    #[test]
    fn stored_counts_agree_with_counting_the_conversations() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        conn.execute_batch(
            "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');",
        )
        .unwrap();
        let mut insert = conn
            .prepare(
                "INSERT INTO conversations (conversation_type, subject, store_id, is_closed)
                 VALUES (?1, 's', ?2, ?3)",
            )
            .unwrap();
        let types = ["admin_store", "store_customer", "admin_customer"];
        for (n, (store, kind, closed)) in [Some(1), Some(2), None]
            .into_iter()
            .flat_map(|s| types.into_iter().map(move |t| (s, t)))
            .flat_map(|(s, t)| [0, 1].into_iter().map(move |c| (s, t, c)))
            .filter(|(s, t, _)| s.is_some() || *t == "admin_customer")
            .enumerate()
        {
            for _ in 0..=(n % 3) {
                insert.execute(params![kind, store, closed]).unwrap();
            }
        }
        // Every kind of change the triggers must follow.
        conn.execute_batch(
            "UPDATE conversations SET is_closed = 1 - is_closed WHERE id % 4 = 0;
             UPDATE conversations SET store_id = 2 WHERE id % 7 = 0 AND store_id = 1;
             UPDATE conversations SET conversation_type = 'admin_store' WHERE id % 9 = 0 AND store_id IS NOT NULL;
             DELETE FROM conversations WHERE id % 5 = 0;",
        )
        .unwrap();

        let actors = [
            Actor::Admin { user_id: 1 },
            Actor::Staff {
                user_id: 2,
                store_id: 1,
            },
            Actor::Staff {
                user_id: 3,
                store_id: 2,
            },
        ];
        let mut filters = vec![ListFilter::default()];
        for closed in [false, true] {
            filters.push(ListFilter {
                is_closed: Some(closed),
                ..Default::default()
            });
        }
        for t in [
            ConversationType::AdminStore,
            ConversationType::StoreCustomer,
            ConversationType::AdminCustomer,
        ] {
            filters.push(ListFilter {
                conversation_type: Some(t),
                is_closed: Some(false),
                ..Default::default()
            });
        }
        let mut nonzero = 0;
        for actor in &actors {
            for filter in &filters {
                let (sql, params) = counted_total(actor, filter).unwrap();
                let counted: i64 = conn
                    .query_row(&sql, bind(&params).as_slice(), |r| r.get(0))
                    .unwrap();
                let mut params = Params::new();
                let mut sql = format!(
                    "SELECT count(*) FROM conversations c WHERE {}",
                    visible(actor, &mut params)
                );
                if let Some(t) = filter.conversation_type {
                    sql += &format!(" AND c.conversation_type = '{}'", t.as_str());
                }
                if let Some(closed) = filter.is_closed {
                    sql += &format!(" AND c.is_closed = {}", i64::from(closed));
                }
                let expected: i64 = conn
                    .query_row(&sql, bind(&params).as_slice(), |r| r.get(0))
                    .unwrap();
                assert_eq!(counted, expected, "{actor:?} {filter:?}");
                nonzero += usize::from(expected > 0);
            }
        }
        assert!(nonzero >= 10, "the data should make most counts non-zero");
        // Customers' conversations are counted over the conversations themselves.
        let customer = Actor::Customer {
            customer_id: 1,
            store_id: 1,
        };
        assert!(counted_total(&customer, &ListFilter::default()).is_none());
    }

    #[test]
    fn search_finds_what_reading_every_text_finds() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        conn.execute_batch(
            "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');
             INSERT INTO customers (id, store_id, email, full_name) VALUES (1, 1, 'c@x.test', 'C');",
        )
        .unwrap();
        let words = ["alpha", "bravo", "charlie", "delta"];
        let types = ["admin_store", "store_customer", "admin_customer"];
        for id in 1..=60_i64 {
            let kind = types[(id % 3) as usize];
            let store = if id % 7 == 0 { None } else { Some(1 + id % 2) };
            let store = if kind == "admin_customer" {
                store
            } else {
                store.or(Some(1))
            };
            let subject = format!("about {}", words[(id % 4) as usize]);
            conn.execute(
                "INSERT INTO conversations (id, conversation_type, subject, store_id, is_closed)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, kind, subject, store, id % 5 == 0],
            )
            .unwrap();
            if id % 2 == 1 {
                conn.execute(
                    "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, store_id)
                     VALUES (?1, 'customer', 1, ?2)",
                    params![id, store],
                )
                .unwrap();
            }
            for n in 0..(id % 4) {
                let content = format!(
                    "{} and {}",
                    words[((id + n) % 4) as usize],
                    words[((id * n) % 3) as usize]
                );
                conn.execute(
                    "INSERT INTO messages (id, conversation_id, sender_type, sender_id, content, is_system_message)
                     VALUES ((SELECT coalesce(max(id), 0) + 1 FROM messages), ?1, 'store', 1, ?2, ?3)",
                    params![id, content, n == 2 && id % 3 == 0],
                )
                .unwrap();
            }
            // The first half's messages are indexed, the second half's still queued, when
            // the changes below come.
            if id == 30 {
                crate::db::index_queued_messages(&conn).unwrap();
            }
        }
        // Every change the index (and its queue) must follow: soft and hard deletes of messages,
        // deleted conversations (their messages go by cascade), moved or retyped or renamed ones.
        conn.execute_batch(
            "UPDATE messages SET is_deleted = 1 WHERE id % 5 = 0;
             DELETE FROM messages WHERE id % 7 = 0;
             DELETE FROM conversations WHERE id % 11 = 0;
             UPDATE conversations SET store_id = 2 WHERE id % 13 = 0 AND store_id = 1;
             UPDATE conversations SET conversation_type = 'admin_store' WHERE id % 17 = 0 AND store_id IS NOT NULL;
             UPDATE conversations SET subject = 'renamed delta' WHERE id % 19 = 0;
             INSERT INTO messages (id, conversation_id, sender_type, sender_id, content)
             SELECT (SELECT max(id) FROM messages) + row_number() OVER (ORDER BY id), id, 'store', 1,
                    'bravo later'
             FROM conversations WHERE id % 3 = 1;",
        )
        .unwrap();
        crate::db::index_queued_messages(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO message_search (message_search) VALUES ('integrity-check');
             INSERT INTO conversation_search (conversation_search) VALUES ('integrity-check');",
        )
        .unwrap();

        let actors = [
            Actor::Admin { user_id: 1 },
            Actor::Staff {
                user_id: 2,
                store_id: 1,
            },
            Actor::Staff {
                user_id: 3,
                store_id: 2,
            },
            Actor::Customer {
                customer_id: 1,
                store_id: 1,
            },
        ];
        let page = Page {
            skip: 0,
            limit: 100,
        };
        let mut found_any = 0;
        let mut walked = 0;
        for actor in &actors {
            for query in ["alpha", "brav", "charlie delta", "delta"] {
                for closed in [None, Some(false)] {
                    let filter = ListFilter {
                        search: Some(query.into()),
                        is_closed: closed,
                        ..Default::default()
                    };
                    let listed = list(&conn, actor, &filter, page).unwrap();
                    let mut ids: Vec<i64> = listed.conversations.iter().map(|c| c.id).collect();
                    ids.sort_unstable();

                    // Every word in the subject or in one live message, read from the tables.
                    let mut params = Params::new();
                    let mut sql = format!(
                        "SELECT c.id FROM conversations c WHERE {}",
                        visible(actor, &mut params)
                    );
                    if let Some(closed) = closed {
                        sql += &format!(" AND c.is_closed = {}", i64::from(closed));
                    }
                    let has = |text: &str| {
                        query
                            .split(' ')
                            .map(|w| format!("instr({text}, '{w}') > 0"))
                            .collect::<Vec<_>>()
                            .join(" AND ")
                    };
                    sql += &format!(
                        " AND (({}) OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                               AND NOT m.is_deleted AND NOT m.is_system_message AND {})) ORDER BY c.id",
                        has("c.subject"),
                        has("m.content")
                    );
                    let expected: Vec<i64> = conn
                        .prepare(&sql)
                        .unwrap()
                        .query_map(bind(&params).as_slice(), |r| r.get(0))
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    assert_eq!(ids, expected, "{actor:?} {query:?} closed={closed:?}");
                    assert_eq!(listed.total, expected.len() as i64, "{actor:?} {query:?}");
                    // Past the last page the total is still counted.
                    let beyond = Page {
                        skip: 500,
                        limit: 10,
                    };
                    let empty = list(&conn, actor, &filter, beyond).unwrap();
                    assert!(empty.conversations.is_empty());
                    assert_eq!(empty.total, expected.len() as i64, "{actor:?} {query:?}");
                    found_any += usize::from(!expected.is_empty());

                    // Small pages, where common words make staff walk newest first: the pages
                    // together hold the same conversations, in the same order as one page.
                    let mut paged = Vec::new();
                    for skip in (0..expected.len() + 3).step_by(3) {
                        let page = Page {
                            skip: skip as u32,
                            limit: 3,
                        };
                        let part = list(&conn, actor, &filter, page).unwrap();
                        assert_eq!(part.total, expected.len() as i64, "{actor:?} {query:?}");
                        paged.extend(part.conversations.iter().map(|c| c.id));
                        // Unfiltered, the hits are what the caller sees of the search.
                        let visible: i64 = conn
                            .query_row(
                                &format!(
                                    "SELECT count(*) FROM conversations c WHERE {}",
                                    visible(actor, &mut Params::new())
                                ),
                                bind(&params).as_slice(),
                                |r| r.get(0),
                            )
                            .unwrap();
                        walked += usize::from(
                            closed.is_none()
                                && search_plan(actor, expected.len(), visible, page)
                                    == SearchPlan::NewestFirst,
                        );
                    }
                    let whole: Vec<i64> = listed.conversations.iter().map(|c| c.id).collect();
                    assert_eq!(paged, whole, "{actor:?} {query:?} closed={closed:?}");
                }
            }
        }
        assert!(
            found_any >= 24,
            "most searches should find something: {found_any}"
        );
        assert!(walked > 0, "some pages should walk newest first");
    }

    #[test]
    fn search_input_never_reaches_fts5_as_syntax() {
        assert_eq!(
            fts_query("refund  order"),
            Some("\"refund\"* \"order\"*".into())
        );
        assert_eq!(
            fts_query("\"NEAR(a b)\" OR *"),
            Some("\"NEAR\"* \"a\"* \"b\"* \"OR\"*".into())
        );
        assert_eq!(fts_query("  -- ** "), None);
    }
}

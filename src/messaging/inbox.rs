//! The inbox: a conversation as one line from its viewer's side, the filtered and searched list
//! of them, the unread badge, and the whole view of one conversation. Reads only: every function
//! runs on a read connection and changes nothing.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row};

use super::access::{self, Params, bind, counted, readable, visible, visible_groups};
use super::error::MessagingError;
use super::search::{self, SearchPlan};
use super::{
    ConversationContext, ConversationDetail, ConversationSummary, OtherParticipant, Preferences,
    Waiting, messages, participants,
};
use crate::db::{timestamp, timestamp_opt};
use crate::domain::{Actor, ContextType, ConversationType, Page, ParticipantType};

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
                     ELSE (SELECT full_name FROM users WHERE id = {other_id}) END,
                c.last_message_event,
                c.context_type, c.context_id, c.context_label, c.context_url,
                c.escalated_at IS NOT NULL, CASE WHEN c.escalated_at IS NOT NULL THEN c.escalation_reason END,
                c.waiting_party, c.waiting_since, c.topic_id, c.assignee_id
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
        last_message_event: r.get(14)?,
        context: ConversationContext::from_row(r, 15)?,
        escalated: r.get(19)?,
        escalation_reason: r.get(20)?,
        waiting_since: match r.get::<_, Option<ParticipantType>>(21)? {
            Some(party) => Some(Waiting {
                party,
                since: timestamp(r, 22)?,
            }),
            None => None,
        },
        topic_id: r.get(23)?,
        assignee_id: r.get(24)?,
        other_participant: other,
    })
}

/// One conversation's summary, if `actor` may read it.
pub(crate) fn summary(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> Result<ConversationSummary, MessagingError> {
    let mut params = me_params(actor);
    params.push((":id", Value::Integer(id)));
    let condition = readable(conn, actor, &mut params)?;
    let sql = format!(
        "{} WHERE c.id = :id AND {condition}",
        summary_select(actor, "conversations c")
    );
    conn.prepare_cached(&sql)?
        .query_row(bind(&params).as_slice(), summary_row)
        .optional()?
        .ok_or(MessagingError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub(crate) struct ListFilter {
    pub conversation_type: Option<ConversationType>,
    pub is_closed: Option<bool>,
    pub search: Option<String>,
    /// Only conversations changed (a message, a close or reopen) at or after this time: what an
    /// integration syncing incrementally asks for.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only conversations about this (type, and id if given).
    pub context_type: Option<ContextType>,
    pub context_id: Option<String>,
    /// Only open conversations waiting for this side's reply (`store`: "waiting for us").
    pub waiting: Option<ParticipantType>,
    /// Only conversations waiting for the store longer than the platform's target.
    pub overdue: bool,
    /// Only conversations under this topic.
    pub topic_id: Option<i64>,
    /// Only conversations assigned to this staff member (`Some(Some(id))`) or to nobody
    /// (`Some(None)`).
    pub assignee: Option<Option<i64>>,
}

pub(crate) struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    pub total: i64,
    pub total_unread: i64,
}
/// The SQL of an inbox page and of its total, with their parameters.
struct ListQuery {
    count_sql: String,
    count_params: Params,
    page_sql: String,
    page_params: Params,
    /// For [`SearchPlan::NewestFirst`]: the ids of what the caller sees through the filter,
    /// newest first, among which [`walk`] keeps the hits; the page then reads the ids it kept
    /// (`:page`).
    walk: Option<(String, Params)>,
}

/// The query of an inbox page. `overseeing`: an admin asking for `store_customer` conversations
/// where the platform lets admins oversee them: every one, not only those the team joined.
fn list_query(
    actor: &Actor,
    filter: &ListFilter,
    page: Page,
    search: Option<SearchPlan>,
    overseeing: bool,
    overdue_before: Option<chrono::DateTime<chrono::Utc>>,
) -> ListQuery {
    let mut params = Params::new();
    let mut conditions = vec![if overseeing {
        "c.conversation_type = 'store_customer'".to_string()
    } else {
        visible(actor, &mut params).to_string()
    }];
    if let Some(t) = filter.conversation_type {
        // Filters narrow what visibility selected; `+` keeps them from steering index choice.
        conditions.push("+c.conversation_type = :type".into());
        params.push((":type", Value::Text(t.as_str().into())));
    }
    if let Some(closed) = filter.is_closed {
        conditions.push("+c.is_closed = :closed".into());
        params.push((":closed", Value::Integer(closed.into())));
    }
    if let Some(since) = filter.updated_since {
        // Stored times are text in one format, so text order is time order.
        conditions.push("+c.updated_at >= :since".into());
        // As rusqlite writes a `DateTime<Utc>`.
        params.push((
            ":since",
            Value::Text(since.format("%F %T%.f%:z").to_string()),
        ));
    }
    if let Some(t) = filter.context_type {
        // Few conversations share a context: its index may drive the query.
        conditions.push("c.context_type = :ctx_type".into());
        params.push((":ctx_type", Value::Text(t.as_str().into())));
    }
    if let Some(id) = &filter.context_id {
        conditions.push("c.context_id = :ctx_id".into());
        params.push((":ctx_id", Value::Text(id.clone())));
    }
    if let Some(topic) = filter.topic_id {
        conditions.push("c.topic_id = :topic".into());
        params.push((":topic", Value::Integer(topic)));
    }
    match filter.assignee {
        Some(Some(user)) => {
            conditions.push("+c.assignee_id = :assignee".into());
            params.push((":assignee", Value::Integer(user)));
        }
        Some(None) => conditions.push("+c.assignee_id IS NULL".into()),
        None => {}
    }
    if let Some(party) = filter.waiting {
        conditions.push("+c.waiting_party = :waiting AND +c.is_closed = 0".into());
        params.push((":waiting", Value::Text(party.as_str().into())));
    }
    if let Some(before) = overdue_before {
        conditions.push(
            "+c.waiting_party = 'store' AND +c.is_closed = 0 AND +c.waiting_since < :overdue_before"
                .into(),
        );
        params.push((
            ":overdue_before",
            Value::Text(before.format("%F %T%.f%:z").to_string()),
        ));
    }
    let order = "ORDER BY c.last_activity_at DESC, c.id DESC";
    let mut conversations = "conversations c";
    let mut walk = None;
    if let Some(plan) = search {
        // Without statistics SQLite cannot tell few hits from many: the plan says which.
        const WALKED: &str = "conversations c INDEXED BY ix_conversations_store_activity";
        if plan == SearchPlan::NewestFirst {
            walk = Some((
                format!(
                    "SELECT c.id FROM {WALKED} WHERE {} {order}",
                    conditions.join(" AND ")
                ),
                params.clone(),
            ));
        }
        // `+` leaves the hits as a filter where something else drives the query.
        let drives = plan == SearchPlan::FromHits && !matches!(actor, Actor::Customer { .. });
        let hit = if drives { "c.id" } else { "+c.id" };
        conditions.push(format!("{hit} IN (SELECT value FROM json_each(:hits))"));
        conversations = match plan {
            SearchPlan::NewestFirst => WALKED,
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
    let (page_sql, page_params) = if walk.is_some() {
        // The walk chose the page's ids.
        let sql = format!(
            "{} WHERE c.id IN (SELECT value FROM json_each(:page)) {order}",
            summary_select(actor, "conversations c")
        );
        (sql, me_params(actor))
    } else {
        let mut page_params = params;
        page_params.extend(me_params(actor));
        page_params.push((":limit", Value::Integer(page.limit.into())));
        page_params.push((":skip", Value::Integer(page.skip.into())));
        let parts = access::visible_parts(actor).filter(|_| !overseeing);
        let sql = if let (None, Some(parts)) = (search, parts) {
            // Each type's part newest first from its own index, merged: the page reads
            // `skip + limit` ids of each, where one query would build and sort the summary of
            // every conversation the admin sees.
            let arms: Vec<String> = parts
                .iter()
                .filter(|(t, _)| filter.conversation_type.is_none_or(|only| only == *t))
                .map(|(_, part)| {
                    format!(
                        "SELECT c.id, c.last_activity_at FROM conversations c
                         WHERE {where_clause} AND {part}"
                    )
                })
                .collect();
            format!(
                "WITH page AS ({} ORDER BY 2 DESC, 1 DESC LIMIT :limit OFFSET :skip)
                 {} ORDER BY page.last_activity_at DESC, page.id DESC",
                arms.join(" UNION ALL "),
                summary_select(actor, "page JOIN conversations c ON c.id = page.id")
            )
        } else if search.is_some() {
            // The page is chosen from the candidates' ids and times alone, and only its rows
            // read their summaries (SQLite computes a row's columns before it sorts).
            format!(
                "WITH page AS (SELECT c.id, c.last_activity_at FROM {conversations}
                     WHERE {where_clause} {order} LIMIT :limit OFFSET :skip)
                 {} ORDER BY page.last_activity_at DESC, page.id DESC",
                summary_select(actor, "page JOIN conversations c ON c.id = page.id")
            )
        } else {
            format!(
                "{} WHERE {where_clause} {order} LIMIT :limit OFFSET :skip",
                summary_select(actor, conversations)
            )
        };
        (sql, page_params)
    };
    ListQuery {
        count_sql,
        count_params,
        page_sql,
        page_params,
        walk,
    }
}

/// Whether the scope of [`search::hits`] selects exactly what `visible` and the filter
/// select: for staff without type or state filters (an admin's search reads every scope).
fn scope_is_visibility(actor: &Actor, filter: &ListFilter) -> bool {
    matches!(actor, Actor::Staff { .. })
        && filter.conversation_type.is_none()
        && filter.is_closed.is_none()
        && filter.updated_since.is_none()
        && filter.context_type.is_none()
        && filter.context_id.is_none()
        && filter.waiting.is_none()
        && !filter.overdue
        && filter.topic_id.is_none()
        && filter.assignee.is_none()
}

/// How many conversations the caller sees through `filter`'s type and state (its search aside),
/// from `conversation_counts`, where it can answer: for an actor who sees whole stores (the count
/// of a customer's few conversations is cheap anyway).
fn counted_total(actor: &Actor, filter: &ListFilter) -> Option<(String, Params)> {
    // The counts know type and state, not time, context or who owes a reply.
    if filter.updated_since.is_some()
        || filter.context_type.is_some()
        || filter.context_id.is_some()
        || filter.waiting.is_some()
        || filter.overdue
        || filter.topic_id.is_some()
        || filter.assignee.is_some()
    {
        return None;
    }
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
pub(crate) fn list(
    conn: &Connection,
    actor: &Actor,
    filter: &ListFilter,
    page: Page,
) -> Result<ConversationList, MessagingError> {
    let overseeing = filter.conversation_type == Some(ConversationType::StoreCustomer)
        && access::oversees(conn, actor)?;
    let overdue_before = if filter.overdue {
        let hours = crate::platform::number(conn, crate::platform::RESPONSE_TARGET_HOURS)?;
        Some(chrono::Utc::now() - chrono::Duration::hours(hours))
    } else {
        None
    };
    let words = match filter.search.as_deref() {
        Some(input) => search::words(conn, input)?,
        None => None,
    };
    let Some(words) = words else {
        let query = list_query(actor, filter, page, None, overseeing, overdue_before);
        return list_page(conn, actor, &query, None);
    };
    let hits = search::hits(conn, actor, &words)?;
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
    let plan = search::plan(actor, hits.len(), visible_total, page);
    let mut query = list_query(actor, filter, page, Some(plan), overseeing, overdue_before);
    // Where the scope is exactly what the caller may see, every hit counts.
    let total = scope_is_visibility(actor, filter).then_some(hits.len() as i64);
    if total.is_none() {
        query.count_params.push((":hits", json_ids(&hits)));
    }
    match &query.walk {
        Some((sql, params)) => {
            let kept = walk(conn, sql, params, &hits, page)?;
            query.page_params.push((":page", json_ids(&kept)));
        }
        None => query.page_params.push((":hits", json_ids(&hits))),
    }
    list_page(conn, actor, &query, total)
}

/// Ids as a JSON array, for `json_each`.
fn json_ids(ids: &[i64]) -> Value {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    Value::Text(format!("[{}]", ids.join(",")))
}

/// Walks the ids `sql` gives (in the inbox's order, from the store's activity index) and keeps
/// the page's among those in `hits` (sorted): the walk passes about `visible / hits` rows per row
/// of the page, each tested here against the hits rather than against a table SQLite would first
/// build of them all.
fn walk(
    conn: &Connection,
    sql: &str,
    params: &Params,
    hits: &[i64],
    page: Page,
) -> Result<Vec<i64>, MessagingError> {
    let (skip, limit) = (page.skip as usize, page.limit as usize);
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(bind(params).as_slice())?;
    let mut found = Vec::with_capacity(skip + limit);
    while found.len() < skip + limit {
        let Some(row) = rows.next()? else { break };
        let id: i64 = row.get(0)?;
        if hits.binary_search(&id).is_ok() {
            found.push(id);
        }
    }
    Ok(found.split_off(skip.min(found.len())))
}

/// Runs an inbox query: the page, then the total unless `total` is known.
fn list_page(
    conn: &Connection,
    actor: &Actor,
    query: &ListQuery,
    total: Option<i64>,
) -> Result<ConversationList, MessagingError> {
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
/// The sum of the caller's unread counts over the conversations they may see (the header badge).
pub(crate) fn total_unread(conn: &Connection, actor: &Actor) -> Result<i64, MessagingError> {
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

/// An open thread: its latest messages and the viewer's own preferences for it.
pub(crate) type OpenThread = (ConversationDetail, Option<Preferences>);

/// What the messages page shows: the first page of `actor`'s inbox and, when one is open, the
/// thread's latest messages with the viewer's own preferences for it.
pub(crate) fn inbox_page(
    conn: &Connection,
    actor: &Actor,
    filter: &ListFilter,
    open: Option<i64>,
) -> Result<(ConversationList, Option<OpenThread>), MessagingError> {
    let list = list(conn, actor, filter, Page { skip: 0, limit: 50 })?;
    let thread = match open {
        Some(id) => Some((
            detail(conn, actor, id, 50, None)?,
            participants::preferences(conn, actor, id)?,
        )),
        None => None,
    };
    Ok((list, thread))
}

/// The whole view of one conversation: summary, participants, and one page of messages
/// (oldest→newest within the page, older pages through `before`). No side effects.
pub(crate) fn detail(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    limit: u32,
    before: Option<i64>,
) -> Result<ConversationDetail, MessagingError> {
    let summary = summary(conn, actor, id)?;
    // Only an admin can read without taking part.
    let read_only =
        matches!(actor, Actor::Admin { .. }) && access::load_readable(conn, actor, id)?.overseen;
    let participants = participants::participants(conn, id)?;
    let (messages, has_more) = messages::message_page(conn, actor, id, limit, before)?;
    Ok(ConversationDetail {
        summary,
        participants,
        messages,
        has_more,
        read_only,
    })
}

#[cfg(test)]
mod tests;

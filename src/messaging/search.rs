//! Full-text search over subjects and message text (SQLite FTS5, kept by the triggers of
//! migrations V11 and V15, and fed at commit by [`index_queued_messages`]). The index is laid out by
//! who may see what: a rowid is `scope | conversation | message number`, so a search reads only the
//! caller's range and learns each hit's conversation from its rowid, never visiting a table.
//!
//! Rowid layout (the migrations write the same numbers):
//!
//! | bits    | holds                                                           |
//! |---------|-----------------------------------------------------------------|
//! | 47..=62 | scope: the store id, or 0 for conversations only admins see      |
//! | 20..=46 | conversation id (in `conversation_search`: bits 0..=26 instead) |
//! | 0..=19  | the message's number within its conversation (`messages.search_key`) |

mod terms;

use rusqlite::Connection;

use super::error::MessagingError;
use crate::domain::{Actor, Page};

/// Bits of a message's number within its conversation: its first 1,048,576 messages are indexed.
pub(crate) const MESSAGE_BITS: u32 = 20;
/// Bits of a conversation id: ids below 134,217,728 are indexed.
pub(crate) const CONVERSATION_BITS: u32 = 27;
/// Where the scope starts; scopes (store ids) up to 65,535 are indexed.
pub(crate) const SCOPE_SHIFT: u32 = MESSAGE_BITS + CONVERSATION_BITS;
pub(crate) const MAX_SCOPE: i64 = 0xFFFF;
const CONVERSATION_MASK: i64 = (1 << CONVERSATION_BITS) - 1;
// The largest scope still gives a positive rowid.
const _: () = assert!(MAX_SCOPE < 1 << (63 - SCOPE_SHIFT));

/// Indexes the messages queued for full-text search (migration V15), adds their terms to the
/// dictionary ([`terms`]), and empties the queue. Every transaction that writes messages runs it
/// before it commits: the writer before each group commit, the seed and the tests that write
/// messages directly. Entries left queued by a commit without it are indexed by the next
/// transaction that runs it.
pub fn index_queued_messages(conn: &Connection) -> rusqlite::Result<()> {
    let queued: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM message_search_queue)")?
        .query_row([], |r| r.get(0))?;
    if queued {
        terms::add_queued(conn)?;
        conn.prepare_cached(
            "INSERT INTO message_search (rowid, content) SELECT rowid, content FROM message_search_queue",
        )?
        .execute([])?;
        conn.prepare_cached("DELETE FROM message_search_queue")?
            .execute([])?;
    }
    Ok(())
}

/// Pages of merging in one [`merge_step`]: about 20 ms at ten million messages, which a write
/// arriving meanwhile waits at most.
const MERGE_PAGES: i64 = 256;

/// One step of merging the full-text indexes' segments (migration V33), for a quiet moment: a
/// search seeks into every segment for every term, and FTS5 alone leaves up to three a level (at
/// ten million messages, a rare word: 1,996 searches/s on 31 segments, 2,622/s on 2). Says
/// whether it merged anything: false once every level holds at most one segment.
pub fn merge_step(conn: &Connection) -> rusqlite::Result<bool> {
    let mut merged = false;
    for index in ["message_search", "conversation_search"] {
        let before = conn.total_changes();
        conn.prepare_cached(&format!(
            "INSERT INTO {index} ({index}, rank) VALUES ('merge', {MERGE_PAGES})"
        ))?
        .execute([])?;
        // FTS5's documented signal: the command changed at least two rows if it merged.
        merged |= conn.total_changes() - before >= 2;
    }
    Ok(merged)
}

/// What a person typed, as the FTS5 queries of a search: every word must match, as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words {
    /// For the message index: each word as the exact terms it begins (`("refund" OR
    /// "refunds") AND "lamp"`), found in the dictionary, or as a prefix where it begins too many.
    pub messages: String,
    /// For the subjects (one short entry a conversation): each word as a prefix.
    pub subjects: String,
}

/// The words of `input` (at most ten, each cut at 64 characters), as FTS5's tokenizer folds them,
/// never FTS5 syntax. None when nothing searchable remains.
pub(crate) fn words(conn: &Connection, input: &str) -> rusqlite::Result<Option<Words>> {
    let typed: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(10)
        .map(|t| t.chars().take(64).collect())
        .collect();
    let tokens = terms::tokenize(typed.iter().map(String::as_str))?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut messages = Vec::with_capacity(tokens.len());
    let mut subjects = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let prefix = format!("{}*", quoted(token));
        messages.push(match terms::expand(conn, token)? {
            Some(terms) if terms.len() == 1 => quoted(&terms[0]),
            Some(terms) if terms.len() > 1 => format!(
                "({})",
                terms
                    .iter()
                    .map(|t| quoted(t))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
            // No term begins so (the prefix query finds nothing, and costs nothing to find
            // it), or too many do.
            _ => prefix.clone(),
        });
        subjects.push(prefix);
    }
    Ok(Some(Words {
        // FTS5 joins a parenthesized group to the rest only by an explicit AND.
        messages: messages.join(" AND "),
        subjects: subjects.join(" "),
    }))
}

/// An FTS5 string: whatever it holds is one phrase, never syntax.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// How a search's page is chosen among its hits (the sorted conversation ids of [`hits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchPlan {
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
pub(crate) fn plan(actor: &Actor, hits: usize, visible: i64, page: Page) -> SearchPlan {
    let rows = i64::from(page.skip) + i64::from(page.limit);
    let hits = i64::try_from(hits).unwrap_or(i64::MAX).max(1);
    let walked = rows.saturating_mul(visible) / hits;
    if matches!(actor, Actor::Staff { .. }) && walked < hits.saturating_mul(4) {
        SearchPlan::NewestFirst
    } else {
        SearchPlan::FromHits
    }
}

/// The hits of a search in one rowid range (migration V11): the rowids of the live messages, then
/// of the subjects, that have every word. Rowids alone: each hit's conversation is worked out
/// here, not by an expression SQLite would evaluate for every hit.
const MESSAGE_HITS: &str = "SELECT rowid FROM message_search
     WHERE message_search MATCH ?1 AND rowid BETWEEN ?2 AND ?3";
const SUBJECT_HITS: &str = "SELECT rowid FROM conversation_search
     WHERE conversation_search MATCH ?1 AND rowid BETWEEN ?2 AND ?3";

/// The conversation of a message's rowid; a note's rowid is negative (migration V27), its
/// conversation read from the magnitude.
fn message_conversation(rowid: i64) -> i64 {
    (rowid.abs() >> MESSAGE_BITS) & CONVERSATION_MASK
}

/// The conversation of a subject's rowid.
fn subject_conversation(rowid: i64) -> i64 {
    rowid & CONVERSATION_MASK
}

/// The rowid ranges an actor's search reads: for staff their store's, its internal notes (the
/// negative range, migration V27) included; for customers their store's and the platform's
/// (their `admin_customer` conversations are indexed under scope 0 only), notes excluded; for
/// admins the whole index (what their team joined, what they oversee). Visibility then narrows
/// the hits to what the caller may see.
fn ranges(actor: &Actor) -> Vec<(i64, i64)> {
    match *actor {
        Actor::Admin { .. } => vec![(i64::MIN + 1, i64::MAX)],
        Actor::Staff { store_id, .. } => {
            let (first, last) = scope_range(store_id);
            vec![(first, last), (-last, -first)]
        }
        Actor::Customer { store_id, .. } => vec![scope_range(store_id), scope_range(0)],
    }
}

/// The rowids of one scope; an empty range for stores beyond the layout's scope bits (nothing of
/// theirs is indexed).
fn scope_range(scope: i64) -> (i64, i64) {
    if (0..=MAX_SCOPE).contains(&scope) {
        let first = scope << SCOPE_SHIFT;
        (first, first | ((1 << SCOPE_SHIFT) - 1))
    } else {
        (1, 0)
    }
}

/// The ids of the conversations a search finds within the caller's scopes, ascending, each once.
pub(crate) fn hits(
    conn: &Connection,
    actor: &Actor,
    words: &Words,
) -> Result<Vec<i64>, MessagingError> {
    let mut hits = Vec::new();
    for (first, last) in ranges(actor) {
        for (sql, query, conversation) in [
            (
                MESSAGE_HITS,
                &words.messages,
                message_conversation as fn(i64) -> i64,
            ),
            (SUBJECT_HITS, &words.subjects, subject_conversation),
        ] {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query(rusqlite::params![query, first, last])?;
            while let Some(row) = rows.next()? {
                let id = conversation(row.get(0)?);
                // A range's hits come in rowid order, a conversation's together: kept once.
                if hits.last() != Some(&id) {
                    hits.push(id);
                }
            }
        }
    }
    hits.sort_unstable();
    hits.dedup();
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rowid_layout_matches_the_migrations_numbers() {
        // V11 writes `(store_id << 47) | (conversation_id << 20) | n` with the limits below.
        assert_eq!(SCOPE_SHIFT, 47);
        assert_eq!(1_i64 << MESSAGE_BITS, 1_048_576);
        assert_eq!(CONVERSATION_MASK, 134_217_727);
        let (conversation, n) = (123_456, 7);
        let rowid = (65_535_i64 << 47) | (conversation << 20) | n;
        assert_eq!(message_conversation(rowid), conversation);
        assert_eq!(message_conversation(-rowid), conversation, "a note");
        assert_eq!(
            subject_conversation((5_i64 << 47) | conversation),
            conversation
        );
    }
}

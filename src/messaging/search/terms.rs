//! The message index's term dictionary (migration V32): every term `message_search` holds, so
//! that a word typed as a prefix becomes the index's exact terms. FTS5 answers a prefix query by
//! merging the whole index's entries for every matching term, every store's, before the caller's
//! rowid range applies (a million messages: 0.53 ms for `"refund"*` in one store's range against
//! 0.09 ms for `"refund"`); an exact term seeks straight into the range.
//!
//! Both the dictionary and the typed words are tokenized by FTS5 itself, on an in-memory database
//! of the calling thread with the index's own tokenizer options, so a term is spelled here exactly
//! as the index spells it. Terms are never removed: a term whose messages were deleted expands to
//! an exact query that finds nothing.

use std::cell::RefCell;

use rusqlite::Connection;

/// The tokenizer options of `message_search` and `conversation_search` (migration V11).
const TOKENIZE: &str = "unicode61 remove_diacritics 2";

/// A prefix matching more terms than this is left to FTS5's own prefix query: expanded, the
/// query would read as many doclists as the merge does.
const MAX_EXPANSION: usize = 32;

thread_local! {
    /// This thread's tokenizer: an in-memory database with an empty contentless FTS5 table.
    static TOKENIZER: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn open_tokenizer() -> rusqlite::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE probe USING fts5(content, content = '', tokenize = '{TOKENIZE}');
         CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, 'row');"
    ))?;
    Ok(conn)
}

/// The distinct terms FTS5 makes of `texts`, in term order.
pub(super) fn tokenize<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> rusqlite::Result<Vec<String>> {
    TOKENIZER.with_borrow_mut(|tokenizer| {
        let conn = match tokenizer {
            Some(conn) => conn,
            None => tokenizer.insert(open_tokenizer()?),
        };
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached("INSERT INTO probe (content) VALUES (?1)")?;
            for text in texts {
                insert.execute([text])?;
            }
        }
        let terms = tx
            .prepare_cached("SELECT term FROM probe_terms")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        // Never committed: the table is empty again for the next call.
        tx.rollback()?;
        Ok(terms)
    })
}

/// Adds the terms of the messages queued for the index to the dictionary (run by
/// [`super::index_queued_messages`] before it indexes them).
pub(super) fn add_queued(conn: &Connection) -> rusqlite::Result<()> {
    let contents = conn
        .prepare_cached("SELECT content FROM message_search_queue")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut add = conn.prepare_cached("INSERT OR IGNORE INTO search_terms (term) VALUES (?1)")?;
    for term in tokenize(contents.iter().map(String::as_str))? {
        add.execute([term])?;
    }
    Ok(())
}

/// The index's terms that start with `prefix`, or None when there are more than
/// [`MAX_EXPANSION`].
pub(super) fn expand(conn: &Connection, prefix: &str) -> rusqlite::Result<Option<Vec<String>>> {
    // Text compares as UTF-8 bytes: every term that starts with `prefix` sorts from `prefix` up
    // to `prefix` followed by the last code point.
    let end = format!("{prefix}{}", char::MAX);
    let terms = conn
        .prepare_cached(
            "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?2 ORDER BY term LIMIT ?3",
        )?
        .query_map(
            rusqlite::params![prefix, end, MAX_EXPANSION as i64 + 1],
            |r| r.get::<_, String>(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((terms.len() <= MAX_EXPANSION).then_some(terms))
}

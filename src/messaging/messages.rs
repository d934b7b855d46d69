//! Message use cases: send (with attachments), page through a thread, soft delete. Sending is one
//! transaction: the message row, its attachment rows, the conversation's counters, and every other
//! participant's unread count change together (the search index follows through triggers, and
//! takes the transaction's new messages in before it commits).

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::access::{self, ConversationRow, api_base, load_readable, load_visible};
use super::error::MessagingError;
use super::participants::{add_participant, participant_name, participant_store};
use super::{Attachment, Message, PREVIEW_CHARS};
use crate::attachments::{Location, StoredFile};
use crate::db::timestamp;
use crate::domain::{Actor, ParticipantType, SystemEvent};

/// What a message is: a person's message to everyone in the conversation, an internal note
/// (store ↔ platform, never shown to the customer), or a system message recording an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Message,
    InternalNote,
    System(SystemEvent),
}

/// Inserts a message from `actor` and updates the counters. A person's message raises every other
/// participant's unread count by one; an internal note raises it for everyone but customers and
/// leaves what customers see of the conversation (count, last message, activity) as it was; a
/// system message raises none.
pub(crate) fn insert_message(
    conn: &Connection,
    actor: &Actor,
    conversation_id: i64,
    content: &str,
    kind: Kind,
) -> Result<i64, MessagingError> {
    let (system, internal) = match kind {
        Kind::Message => (None, false),
        Kind::InternalNote => (None, true),
        Kind::System(event) => (Some(event), false),
    };
    let (me_type, me_id) = actor.participant();
    let now = Utc::now();
    // Messages are keyed by conversation (migration V14), so the id is not a rowid: it is the next
    // after the largest, read from the unique index. One writer runs every send, so none collide.
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO messages (id, conversation_id, sender_type, sender_id, content, is_system_message,
                                   system_event, internal, created_at, updated_at)
             VALUES ((SELECT coalesce(max(id), 0) + 1 FROM messages), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id",
        )?
        .query_row(
            params![conversation_id, me_type, me_id, content, system.is_some(), system, internal, now],
            |r| r.get(0),
        )?;
    // Who owes the next reply in a store_customer conversation: a customer's message waits for
    // the store, a staff member's for the customer (admins, notes and system messages change
    // nothing). A staff message that ends the store's wait is kept as a response time.
    let owes = match (kind, me_type) {
        (Kind::Message, ParticipantType::Customer) => Some(ParticipantType::Store),
        (Kind::Message, ParticipantType::Store) => Some(ParticipantType::Customer),
        _ => None,
    };
    if owes == Some(ParticipantType::Customer) {
        conn.prepare_cached(
            "INSERT INTO response_times (store_id, conversation_id, waited_from, answered_at, seconds, is_first)
             SELECT c.store_id, c.id, c.waiting_since, ?2,
                    max(0, CAST(round((julianday(?2) - julianday(c.waiting_since)) * 86400) AS INTEGER)),
                    NOT EXISTS (SELECT 1 FROM response_times r WHERE r.conversation_id = c.id)
             FROM conversations c
             WHERE c.id = ?1 AND c.waiting_party = 'store' AND c.conversation_type = 'store_customer'",
        )?
        .execute(params![conversation_id, now])?;
    }
    if !internal {
        conn.prepare_cached(
            "UPDATE conversations SET message_count = message_count + 1, last_message_at = ?2, last_activity_at = ?2,
                    updated_at = ?2, last_message_preview = substr(?3, 1, ?4), last_message_event = ?5,
                    waiting_party = CASE WHEN conversation_type <> 'store_customer' OR ?6 IS NULL
                                         THEN waiting_party ELSE ?6 END,
                    waiting_since = CASE WHEN conversation_type <> 'store_customer' OR ?6 IS NULL
                                         THEN waiting_since
                                         WHEN waiting_party IS ?6 THEN waiting_since ELSE ?2 END
             WHERE id = ?1",
        )?
        .execute(params![conversation_id, now, content, PREVIEW_CHARS, system, owes])?;
    }
    if system.is_none() {
        conn.prepare_cached(
            "UPDATE conversation_participants SET unread_count = unread_count + 1
             WHERE conversation_id = ?1 AND NOT (participant_type = ?2 AND participant_id = ?3)
               AND NOT (?4 AND participant_type = 'customer')",
        )?
        .execute(params![conversation_id, me_type, me_id, internal])?;
    }
    Ok(id)
}

/// Appends a message (with already stored files) to a conversation the actor may see and that is
/// open; the sender joins the participants if they were not one yet (an admin answering for the
/// team, a colleague of the store's first writer). An internal note needs an escalated
/// conversation and a writer who is not its customer.
pub(crate) fn append(
    conn: &Connection,
    actor: &Actor,
    conversation_id: i64,
    content: &str,
    files: &[StoredFile],
    internal: bool,
) -> Result<Appended, MessagingError> {
    let row = load_visible(conn, actor, conversation_id)?;
    if row.is_closed {
        return Err(MessagingError::Closed);
    }
    if internal {
        check_note(actor, &row)?;
    }
    let (me_type, me_id) = actor.participant();
    let joined = add_participant(
        conn,
        conversation_id,
        me_type,
        me_id,
        participant_store(actor, &row),
    )?;
    let kind = if internal {
        Kind::InternalNote
    } else {
        Kind::Message
    };
    let id = insert_message(conn, actor, conversation_id, content, kind)?;
    for file in files {
        conn.prepare_cached(
            "INSERT INTO message_attachments (message_id, filename, original_filename, file_path, file_size, mime_type,
                    is_image, image_width, image_height, thumbnail_path, stored_in)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            id,
            file.filename,
            file.original_filename,
            file.file_path,
            file.file_size,
            file.mime_type,
            file.is_image,
            file.image_width,
            file.image_height,
            file.thumbnail_path,
            file.stored_in.as_str(),
        ])?;
    }
    let mut message = get_message(conn, conversation_id, id)?;
    if !files.is_empty() {
        attach_files(
            conn,
            actor,
            conversation_id,
            std::slice::from_mut(&mut message),
        )?;
    }
    Ok(Appended { message, joined })
}

/// Whether `actor` may write an internal note in conversation `row`: staff and admins, while the
/// platform takes part in it (escalated).
pub(crate) fn check_note(actor: &Actor, row: &ConversationRow) -> Result<(), MessagingError> {
    if !access::sees_internal(actor) {
        return Err(MessagingError::Forbidden(
            "customers cannot write internal notes",
        ));
    }
    if !row.escalated {
        return Err(MessagingError::NotEscalated);
    }
    Ok(())
}

/// A message appended, and whether its sender joined the conversation with it.
pub(crate) struct Appended {
    pub message: Message,
    pub joined: bool,
}

/// A message's row; its sender is named afterwards ([`name_senders`]), each sender once.
const MESSAGE_SELECT: &str =
    "SELECT m.id, m.conversation_id, m.sender_type, m.sender_id, m.content,
        m.is_system_message, m.is_deleted, m.created_at, m.system_event, m.internal
    FROM messages m";

fn message_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let is_deleted: bool = r.get(6)?;
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        sender_type: r.get(2)?,
        sender_id: r.get(3)?,
        sender_name: String::new(),
        // A deleted message stays in the thread, its content hidden.
        content: if is_deleted { String::new() } else { r.get(4)? },
        is_system_message: r.get(5)?,
        system_event: r.get(8)?,
        internal: r.get(9)?,
        is_deleted,
        created_at: timestamp(r, 7)?,
        attachments: Vec::new(),
    })
}

/// Message `id` of conversation `conversation_id`, its attachments not filled in.
fn get_message(
    conn: &Connection,
    conversation_id: i64,
    id: i64,
) -> Result<Message, MessagingError> {
    let mut message = conn
        .prepare_cached(&format!(
            "{MESSAGE_SELECT} WHERE m.id = ?1 AND m.conversation_id = ?2"
        ))?
        .query_row([id, conversation_id], message_row)
        .optional()?
        .ok_or(MessagingError::NotFound)?;
    name_senders(conn, std::slice::from_mut(&mut message))?;
    Ok(message)
}

/// The `?3` messages of conversation `?1` before id `?2`, newest first: neighbours in the table,
/// which is keyed by conversation (migration V14). Internal notes only for those who see them.
fn page_sql(with_notes: bool) -> String {
    let notes = if with_notes { "" } else { "AND NOT m.internal" };
    format!(
        "{MESSAGE_SELECT} WHERE m.conversation_id = ?1 AND m.id < ?2 {notes} ORDER BY m.id DESC LIMIT ?3"
    )
}

/// One page of a thread: the `limit` messages before `before` (or the latest), oldest first.
pub(crate) fn message_page(
    conn: &Connection,
    actor: &Actor,
    conversation_id: i64,
    limit: u32,
    before: Option<i64>,
) -> Result<(Vec<Message>, bool), MessagingError> {
    let mut messages: Vec<Message> = conn
        .prepare_cached(&page_sql(access::sees_internal(actor)))?
        .query_map(
            params![
                conversation_id,
                before.unwrap_or(i64::MAX),
                i64::from(limit) + 1
            ],
            message_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    messages.reverse();
    name_senders(conn, &mut messages)?;
    attach_files(conn, actor, conversation_id, &mut messages)?;
    Ok((messages, has_more))
}

/// Fills in the senders' names, looking each sender up once.
fn name_senders(conn: &Connection, messages: &mut [Message]) -> Result<(), MessagingError> {
    let mut names: Vec<((ParticipantType, i64), String)> = Vec::new();
    for message in messages {
        let sender = (message.sender_type, message.sender_id);
        let name = match names.iter().find(|(known, _)| *known == sender) {
            Some((_, name)) => name.clone(),
            None => {
                let name = participant_name(conn, sender.0, sender.1)?;
                names.push((sender, name.clone()));
                name
            }
        };
        message.sender_name = name;
    }
    Ok(())
}

/// Fills in the attachments of `messages`, which were read from conversation `conversation_id`:
/// each live message's are found by its id (a deleted message shows none), in one query.
fn attach_files(
    conn: &Connection,
    actor: &Actor,
    conversation_id: i64,
    messages: &mut [Message],
) -> Result<(), MessagingError> {
    let live: Vec<String> = messages
        .iter()
        .filter(|m| !m.is_deleted)
        .map(|m| m.id.to_string())
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    let base = api_base(actor);
    let mut statement = conn.prepare_cached(
        "SELECT a.message_id, a.id, a.original_filename, a.file_size, a.mime_type, a.is_image, a.image_width,
                a.image_height, a.thumbnail_path IS NOT NULL
         FROM message_attachments a
         WHERE a.message_id IN (SELECT value FROM json_each(?1))
         ORDER BY a.id",
    )?;
    let rows = statement.query_map([format!("[{}]", live.join(","))], |r| {
        let id: i64 = r.get(1)?;
        let download_url = format!("{base}/{conversation_id}/attachments/{id}");
        let has_thumbnail: bool = r.get(8)?;
        Ok((
            r.get::<_, i64>(0)?,
            Attachment {
                id,
                original_filename: r.get(2)?,
                file_size: r.get(3)?,
                mime_type: r.get(4)?,
                is_image: r.get(5)?,
                image_width: r.get(6)?,
                image_height: r.get(7)?,
                thumbnail_url: has_thumbnail.then(|| format!("{download_url}/thumbnail")),
                download_url,
            },
        ))
    })?;
    for row in rows {
        let (message_id, attachment) = row?;
        if let Some(message) = messages.iter_mut().find(|m| m.id == message_id) {
            message.attachments.push(attachment);
        }
    }
    Ok(())
}

/// Soft-deletes a message: its author may, and so may an admin. The row stays, content hidden.
/// Answers whether it was an internal note.
pub(crate) fn delete(
    conn: &Connection,
    actor: &Actor,
    conversation_id: i64,
    message_id: i64,
) -> Result<bool, MessagingError> {
    load_visible(conn, actor, conversation_id)?;
    let (sender_type, sender_id, is_system, internal): (ParticipantType, i64, bool, bool) = conn
        .query_row(
            "SELECT sender_type, sender_id, is_system_message, internal FROM messages
             WHERE id = ?1 AND conversation_id = ?2",
            [message_id, conversation_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .filter(|found: &(ParticipantType, i64, bool, bool)| {
            access::sees_internal(actor) || !found.3
        })
        .ok_or(MessagingError::NotFound)?;
    if is_system {
        return Err(MessagingError::Forbidden(
            "system messages cannot be deleted",
        ));
    }
    let (me_type, me_id) = actor.participant();
    let own = sender_type == me_type && sender_id == me_id;
    if !own && !matches!(actor, Actor::Admin { .. }) {
        return Err(MessagingError::Forbidden(
            "you can delete only your own messages",
        ));
    }
    let now = Utc::now();
    conn.execute(
        "UPDATE messages SET is_deleted = 1, deleted_at = ?2, deleted_by_type = ?3, deleted_by_id = ?4, updated_at = ?2
         WHERE id = ?1 AND NOT is_deleted",
        params![message_id, now, me_type, me_id],
    )?;
    // The inbox preview shows the newest message; if that was this one, it shows nothing now.
    conn.execute(
        "UPDATE conversations SET last_message_preview = NULL, last_message_event = NULL
         WHERE id = ?1 AND ?2 = (SELECT max(id) FROM messages WHERE conversation_id = ?1 AND NOT internal)",
        [conversation_id, message_id],
    )?;
    Ok(internal)
}

/// Every file path (attachments and thumbnails) the rows of conversation `conversation_id` name,
/// deleted messages included: their files stay until the rows go.
pub(crate) fn stored_paths(
    conn: &Connection,
    conversation_id: i64,
) -> Result<std::collections::HashSet<String>, MessagingError> {
    let mut paths = std::collections::HashSet::new();
    let mut statement = conn.prepare_cached(
        "SELECT a.file_path, a.thumbnail_path FROM messages m
         JOIN message_attachments a ON a.message_id = m.id
         WHERE m.conversation_id = ?1",
    )?;
    let rows = statement.query_map([conversation_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (file, thumbnail) = row?;
        paths.insert(file);
        paths.extend(thumbnail);
    }
    Ok(paths)
}

/// An attachment's stored files, as a download needs them.
pub(crate) struct AttachmentFile {
    pub file_path: String,
    pub original_filename: String,
    pub mime_type: String,
    pub thumbnail_path: Option<String>,
    pub stored_in: Location,
}

/// The stored path of an attachment (and of its thumbnail), if `actor` may see its conversation
/// and its message is not deleted.
pub(crate) fn attachment_file(
    conn: &Connection,
    actor: &Actor,
    conversation_id: i64,
    attachment_id: i64,
) -> Result<AttachmentFile, MessagingError> {
    load_readable(conn, actor, conversation_id)?;
    conn.query_row(
        "SELECT a.file_path, a.original_filename, a.mime_type, a.thumbnail_path, a.stored_in
         FROM message_attachments a CROSS JOIN messages m ON m.id = a.message_id
         WHERE a.id = ?1 AND m.conversation_id = ?2 AND NOT m.is_deleted AND (?3 OR NOT m.internal)",
        params![attachment_id, conversation_id, access::sees_internal(actor)],
        |r| {
            Ok(AttachmentFile {
                file_path: r.get(0)?,
                original_filename: r.get(1)?,
                mime_type: r.get(2)?,
                thumbnail_path: r.get(3)?,
                stored_in: Location::parse(&r.get::<_, String>(4)?),
            })
        },
    )
    .optional()?
    .ok_or(MessagingError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_page_reads_its_conversation_by_the_table_key() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", page_sql(false)))
            .unwrap()
            .query_map(params![1, 2, 3], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let by_key = "SEARCH m USING PRIMARY KEY (conversation_id=? AND id<?)";
        assert!(plan.iter().any(|l| l == by_key), "{plan:#?}");
    }
}

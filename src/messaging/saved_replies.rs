//! Saved replies: text a store (or the platform) writes once and inserts from the composer, with
//! the conversation's facts filled in. A reply's body is a template in the dialect of store email
//! templates, checked when saved and rendered in the same sandbox.

use std::path::Path;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::access::load_readable;
use super::error::MessagingError;
use super::participants::actor_name;
use crate::db::{Timestamp, timestamp};
use crate::domain::{Actor, Invalid};
use crate::email::render::{self, TemplateSource};

/// What a reply may use: filled in from the conversation it is inserted into.
pub(crate) const VARIABLES: [&str; 4] =
    ["customer_name", "store_name", "context_label", "staff_name"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct SavedReply {
    pub id: i64,
    /// The store it belongs to; null for the platform's own.
    pub store_id: Option<i64>,
    pub title: String,
    pub body: String,
    /// A platform reply stores may use too.
    pub shared_with_stores: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyInput {
    pub title: String,
    pub body: String,
    /// Platform replies only.
    #[serde(default)]
    pub shared_with_stores: bool,
}

fn reply_row(r: &Row<'_>) -> rusqlite::Result<SavedReply> {
    Ok(SavedReply {
        id: r.get(0)?,
        store_id: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        shared_with_stores: r.get(4)?,
        created_at: timestamp(r, 5)?,
        updated_at: timestamp(r, 6)?,
    })
}

const REPLY_SELECT: &str =
    "SELECT id, store_id, title, body, shared_with_stores, created_at, updated_at
                            FROM saved_replies";

/// Whose replies `actor` writes: the platform's (admins) or their store's (staff).
fn owner(actor: &Actor) -> Result<Option<i64>, MessagingError> {
    match *actor {
        Actor::Admin { .. } => Ok(None),
        Actor::Staff { store_id, .. } => Ok(Some(store_id)),
        Actor::Customer { .. } => Err(MessagingError::Forbidden("saved replies are for staff")),
    }
}

impl ReplyInput {
    fn checked(&self, store: Option<i64>) -> Result<(String, String), MessagingError> {
        let title = crate::domain::clean_line("title", &self.title, 100)?;
        if title.is_empty() {
            return Err(Invalid::new("title", "must not be empty").into());
        }
        let body = crate::domain::clean_text("body", &self.body, 10_000)?;
        if body.is_empty() {
            return Err(Invalid::new("body", "must not be empty").into());
        }
        if store.is_some() && self.shared_with_stores {
            return Err(
                Invalid::new("shared_with_stores", "only the platform shares replies").into(),
            );
        }
        let variables: Vec<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
        render::check_dialect(&source(&body), &variables)
            .map_err(|e| Invalid::new("body", e.to_string()))?;
        Ok((title, body))
    }
}

fn source(body: &str) -> TemplateSource {
    TemplateSource {
        subject: String::new(),
        body_html: String::new(),
        body_text: Some(body.to_string()),
    }
}

/// The replies `actor` may insert: a store's own and the platform's shared ones (staff), the
/// platform's (admins).
pub(crate) fn list(conn: &Connection, actor: &Actor) -> Result<Vec<SavedReply>, MessagingError> {
    let store = owner(actor)?;
    Ok(conn
        .prepare_cached(&format!(
            "{REPLY_SELECT} WHERE store_id IS ?1 OR (?1 IS NOT NULL AND store_id IS NULL AND shared_with_stores)
             ORDER BY store_id IS NULL, title, id"
        ))?
        .query_map([store], reply_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// One reply `actor` may insert.
fn usable(conn: &Connection, actor: &Actor, id: i64) -> Result<SavedReply, MessagingError> {
    list(conn, actor)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(MessagingError::NotFound)
}

pub(crate) fn create(
    conn: &Connection,
    actor: &Actor,
    input: &ReplyInput,
) -> Result<SavedReply, MessagingError> {
    let store = owner(actor)?;
    let (title, body) = input.checked(store)?;
    let id: i64 = conn.query_row(
        "INSERT INTO saved_replies (store_id, title, body, shared_with_stores, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![
            store,
            title,
            body,
            input.shared_with_stores,
            actor.participant().1
        ],
        |r| r.get(0),
    )?;
    own(conn, store, id)
}

/// A reply of `store` (None: the platform's), to change or remove.
fn own(conn: &Connection, store: Option<i64>, id: i64) -> Result<SavedReply, MessagingError> {
    conn.prepare_cached(&format!("{REPLY_SELECT} WHERE id = ?1 AND store_id IS ?2"))?
        .query_row(params![id, store], reply_row)
        .optional()?
        .ok_or(MessagingError::NotFound)
}

pub(crate) fn update(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    input: &ReplyInput,
) -> Result<SavedReply, MessagingError> {
    let store = owner(actor)?;
    own(conn, store, id)?;
    let (title, body) = input.checked(store)?;
    conn.execute(
        "UPDATE saved_replies SET title = ?2, body = ?3, shared_with_stores = ?4, updated_at = ?5
         WHERE id = ?1",
        params![id, title, body, input.shared_with_stores, Utc::now()],
    )?;
    own(conn, store, id)
}

pub(crate) fn delete(conn: &Connection, actor: &Actor, id: i64) -> Result<(), MessagingError> {
    let store = owner(actor)?;
    own(conn, store, id)?;
    conn.execute("DELETE FROM saved_replies WHERE id = ?1", [id])?;
    Ok(())
}

/// A reply and the facts of the conversation it goes into, read together.
pub(crate) fn prepare(
    conn: &Connection,
    actor: &Actor,
    reply_id: i64,
    conversation_id: i64,
) -> Result<(SavedReply, serde_json::Value), MessagingError> {
    let reply = usable(conn, actor, reply_id)?;
    load_readable(conn, actor, conversation_id)?;
    let (customer, store, context): (Option<String>, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT (SELECT full_name FROM customers WHERE id = c.first_customer_id),
                    (SELECT name FROM stores WHERE id = c.store_id),
                    coalesce(c.context_label, c.context_id)
             FROM conversations c WHERE c.id = ?1",
            [conversation_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    let variables = json!({
        "customer_name": customer.unwrap_or_default(),
        "store_name": store.unwrap_or_default(),
        "context_label": context.unwrap_or_default(),
        "staff_name": actor_name(conn, actor)?,
    });
    Ok((reply, variables))
}

/// Renders a reply's body with `variables` in the template sandbox.
pub(crate) async fn render(
    sandbox_exe: &Path,
    reply: &SavedReply,
    variables: &serde_json::Value,
) -> Result<String, MessagingError> {
    let names: Vec<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
    let rendered =
        render::render_untrusted(sandbox_exe, &source(&reply.body), variables, &[], &names)
            .await
            .map_err(|e| Invalid::new("body", e.to_string()))?;
    Ok(rendered.body_text)
}

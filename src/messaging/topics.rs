//! Topics: the operator's list of what conversations are about ("Delivery", "Return",
//! "Invoice", "Payout"), named in each language, each open to some roles. A conversation carries
//! one, chosen when it starts and changeable later by staff and admins; lists filter by it and
//! the topic list counts what the caller sees of each.

use std::collections::BTreeMap;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::access::load_visible;
use super::error::MessagingError;
use crate::domain::{Actor, Invalid, ParticipantType};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Topic {
    pub id: i64,
    /// The topic's name by language ("en" always there).
    pub names: BTreeMap<String, String>,
    /// Who may choose it when starting a conversation: `customer`, `store`, `admin`.
    pub roles: Vec<ParticipantType>,
    pub position: i64,
    /// The conversations the caller sees with this topic (staff: their store's; admins: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_count: Option<i64>,
}

impl Topic {
    /// Its name in `language`, else in English.
    pub(crate) fn name(&self, language: &str) -> &str {
        self.names
            .get(language)
            .or_else(|| self.names.get("en"))
            .map_or("", String::as_str)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TopicInput {
    pub names: BTreeMap<String, String>,
    pub roles: Vec<ParticipantType>,
    #[serde(default)]
    pub position: i64,
}

impl TopicInput {
    /// The names as stored (JSON) and the roles (space-separated), or what is wrong.
    fn checked(&self) -> Result<(String, String), Invalid> {
        if !self.names.contains_key("en") {
            return Err(Invalid::new(
                "names",
                "must include an English name (\"en\")",
            ));
        }
        for (language, name) in &self.names {
            let code_ok = (2..=5).contains(&language.len())
                && language
                    .chars()
                    .all(|c| c.is_ascii_alphabetic() || c == '-');
            if !code_ok {
                return Err(Invalid::new(
                    "names",
                    format!("{language:?} is not a language code"),
                ));
            }
            if name.trim().is_empty() || name.chars().count() > 100 {
                return Err(Invalid::new("names", "each name has 1 to 100 characters"));
            }
        }
        if self.roles.is_empty() {
            return Err(Invalid::new(
                "roles",
                "name at least one role that may choose it",
            ));
        }
        let mut roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        roles.sort_unstable();
        roles.dedup();
        let names: BTreeMap<&String, String> = self
            .names
            .iter()
            .map(|(l, n)| (l, n.trim().to_string()))
            .collect();
        Ok((
            serde_json::to_string(&names).unwrap_or_default(),
            roles.join(" "),
        ))
    }
}

fn topic_row(r: &Row<'_>) -> rusqlite::Result<Topic> {
    let names: String = r.get(1)?;
    let roles: String = r.get(2)?;
    Ok(Topic {
        id: r.get(0)?,
        names: serde_json::from_str(&names).unwrap_or_default(),
        roles: roles.split(' ').filter_map(|s| s.parse().ok()).collect(),
        position: r.get(3)?,
        conversation_count: None,
    })
}

const TOPIC_SELECT: &str = "SELECT id, names, roles, position FROM topics";

/// The active topics `actor` may see: all of them for staff and admins (with how many of the
/// conversations they see carry each), those customers may choose for customers.
pub(crate) fn list(conn: &Connection, actor: &Actor) -> Result<Vec<Topic>, MessagingError> {
    let mut topics: Vec<Topic> = conn
        .prepare_cached(&format!(
            "{TOPIC_SELECT} WHERE is_active ORDER BY position, id"
        ))?
        .query_map([], topic_row)?
        .collect::<rusqlite::Result<_>>()?;
    let store = match *actor {
        Actor::Customer { .. } => {
            topics.retain(|t| t.roles.contains(&ParticipantType::Customer));
            return Ok(topics);
        }
        Actor::Staff { store_id, .. } => Some(store_id),
        Actor::Admin { .. } => None,
    };
    let mut counting = conn.prepare_cached(
        "SELECT count(*) FROM conversations
         WHERE topic_id = ?1 AND (?2 IS NULL OR store_id = ?2)
           AND (?2 IS NULL OR conversation_type IN ('store_customer', 'admin_store'))",
    )?;
    for topic in &mut topics {
        topic.conversation_count =
            Some(counting.query_row(params![topic.id, store], |r| r.get(0))?);
    }
    Ok(topics)
}

pub(crate) fn create(conn: &Connection, input: &TopicInput) -> Result<Topic, MessagingError> {
    let (names, roles) = input.checked()?;
    let id: i64 = conn.query_row(
        "INSERT INTO topics (names, roles, position) VALUES (?1, ?2, ?3) RETURNING id",
        params![names, roles, input.position],
        |r| r.get(0),
    )?;
    get(conn, id)
}

fn get(conn: &Connection, id: i64) -> Result<Topic, MessagingError> {
    conn.prepare_cached(&format!("{TOPIC_SELECT} WHERE id = ?1 AND is_active"))?
        .query_row([id], topic_row)
        .optional()?
        .ok_or(MessagingError::NotFound)
}

pub(crate) fn update(
    conn: &Connection,
    id: i64,
    input: &TopicInput,
) -> Result<Topic, MessagingError> {
    let (names, roles) = input.checked()?;
    let changed = conn.execute(
        "UPDATE topics SET names = ?2, roles = ?3, position = ?4, updated_at = ?5
         WHERE id = ?1 AND is_active",
        params![id, names, roles, input.position, Utc::now()],
    )?;
    if changed == 0 {
        return Err(MessagingError::NotFound);
    }
    get(conn, id)
}

/// Retires a topic: nobody chooses it any more; conversations keep it.
pub(crate) fn retire(conn: &Connection, id: i64) -> Result<(), MessagingError> {
    let changed = conn.execute(
        "UPDATE topics SET is_active = 0, updated_at = ?2 WHERE id = ?1 AND is_active",
        params![id, Utc::now()],
    )?;
    if changed == 0 {
        return Err(MessagingError::NotFound);
    }
    Ok(())
}

/// Refuses a topic `actor` may not choose (or that does not exist).
pub(crate) fn check_choosable(
    conn: &Connection,
    actor: &Actor,
    topic_id: i64,
) -> Result<(), MessagingError> {
    let role = actor.participant().0;
    let allowed = match get(conn, topic_id) {
        Ok(topic) => topic.roles.contains(&role),
        Err(MessagingError::NotFound) => false,
        Err(e) => return Err(e),
    };
    if allowed {
        Ok(())
    } else {
        Err(Invalid::new("topic_id", "no such topic to choose").into())
    }
}

/// Changes (or clears) a conversation's topic: staff of its store and admins who take part.
pub(crate) fn set_topic(
    conn: &Connection,
    actor: &Actor,
    id: i64,
    topic_id: Option<i64>,
) -> Result<(), MessagingError> {
    if matches!(actor, Actor::Customer { .. }) {
        return Err(MessagingError::Forbidden(
            "the store and the platform file conversations by topic",
        ));
    }
    load_visible(conn, actor, id)?;
    if let Some(topic) = topic_id {
        // Staff and admins may file under any active topic, not only those they may start with.
        get(conn, topic).map_err(|e| match e {
            MessagingError::NotFound => Invalid::new("topic_id", "no such topic").into(),
            other => other,
        })?;
    }
    conn.execute(
        "UPDATE conversations SET topic_id = ?2 WHERE id = ?1",
        params![id, topic_id],
    )?;
    Ok(())
}

//! Outgoing webhook endpoints: registered by an admin (every event) or by a store's staff (their
//! store's events), each with a signing secret shown once (`whsec_` and 32 random bytes, kept
//! sealed), an optional list of event types, and a delivery log. What is delivered and how lives
//! in `deliveries`.

use base64::Engine;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::IntegrationError;
use crate::config::WebhookSettings;
use crate::crypto::SecretKey;
use crate::db::Db;
use crate::domain::{self, Invalid};
use crate::messaging::EventKind;
use crate::messaging::event_log;

pub(crate) const SECRET_PREFIX: &str = "whsec_";
const DESCRIPTION_MAX: usize = 200;
const URL_MAX: usize = 2000;
/// Endpoints one owner may register: enough for any integration, few enough that one slow
/// receiver per endpoint cannot tie up the delivery job.
const ENDPOINTS_MAX: i64 = 20;

/// Whose endpoint: the platform's (all events) or a store's (its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Platform,
    Store(i64),
}

impl Owner {
    fn store_id(self) -> Option<i64> {
        match self {
            Owner::Platform => None,
            Owner::Store(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Endpoint {
    pub id: i64,
    pub store_id: Option<i64>,
    pub url: String,
    pub description: Option<String>,
    /// The event types sent; null: all.
    pub events: Option<Vec<String>>,
    pub is_active: bool,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new endpoint with its secret: the only answer that carries it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NewEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub secret: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointInput {
    pub url: String,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
}

/// One delivery as the log shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Delivery {
    pub id: i64,
    pub event_seq: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub conversation_id: i64,
    /// `pending` (not yet accepted; retried), `delivered`, or `failed` (refused for as long as an
    /// endpoint may fail, then given up so the rest of its conversation goes on).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i64>,
    pub last_response: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, store_id, url, description, event_types, is_active, failing_since, \
                       disabled_at, disabled_reason, created_at";

fn endpoint_row(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let events: Option<String> = r.get(4)?;
    Ok(Endpoint {
        id: r.get(0)?,
        store_id: r.get(1)?,
        url: r.get(2)?,
        description: r.get(3)?,
        events: events.and_then(|e| serde_json::from_str(&e).ok()),
        is_active: r.get(5)?,
        failing_since: r.get(6)?,
        disabled_at: r.get(7)?,
        disabled_reason: r.get(8)?,
        created_at: r.get(9)?,
    })
}

/// The associated data a secret is sealed with: it opens only as this endpoint's.
pub(crate) fn secret_aad(endpoint_id: i64) -> String {
    format!("webhook_endpoints.secret_sealed/{endpoint_id}")
}

/// Registers an endpoint for `owner`. The URL is checked before anything is written: http(s),
/// https unless private hosts are allowed, and every address its host resolves to public.
pub(crate) async fn create(
    db: &Db,
    key: &SecretKey,
    settings: &WebhookSettings,
    owner: Owner,
    created_by: String,
    input: EndpointInput,
) -> Result<NewEndpoint, IntegrationError> {
    let url = checked_url(&input.url, settings.allow_private_hosts).await?;
    // No types named (or an empty list, as a form with nothing ticked sends): every event.
    let events = input
        .events
        .filter(|e| !e.is_empty())
        .map(checked_events)
        .transpose()?;
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| domain::clean_line("description", d, DESCRIPTION_MAX))
        .transpose()?;
    let mut bytes = [0u8; 32];
    // getrandom only fails when the OS has no entropy source at all; nothing can run then.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no OS randomness: {e}"));
    let secret = format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
    let key = key.clone();
    let sealed_secret = secret.clone();
    let endpoint = db
        .write(move |tx| {
            let count: i64 = tx.query_row(
                "SELECT count(*) FROM webhook_endpoints WHERE store_id IS ?1",
                [owner.store_id()],
                |r| r.get(0),
            )?;
            if count >= ENDPOINTS_MAX {
                return Err(Invalid::new(
                    "url",
                    format!("at most {ENDPOINTS_MAX} endpoints may be registered"),
                )
                .into());
            }
            // Only what happens from now on is sent.
            let cursor = event_log::last_seq(tx)?;
            let id: i64 = tx.query_row(
                "INSERT INTO webhook_endpoints (store_id, url, description, event_types, secret_sealed, created_by, cursor_seq)
                 VALUES (?1, ?2, ?3, ?4, x'', ?5, ?6) RETURNING id",
                params![
                    owner.store_id(),
                    url,
                    description,
                    events.as_ref().and_then(|e| serde_json::to_string(e).ok()),
                    created_by,
                    cursor
                ],
                |r| r.get(0),
            )?;
            tx.execute(
                "UPDATE webhook_endpoints SET secret_sealed = ?2 WHERE id = ?1",
                params![id, key.seal(&sealed_secret, &secret_aad(id))],
            )?;
            get(tx, owner, id)
        })
        .await?;
    tracing::info!(endpoint_id = endpoint.id, "webhook endpoint registered");
    Ok(NewEndpoint { endpoint, secret })
}

async fn checked_url(url: &str, allow_private: bool) -> Result<String, Invalid> {
    let refuse = |why: &str| Invalid::new("url", why);
    let url = url.trim();
    if url.len() > URL_MAX {
        return Err(refuse("is too long"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| refuse("is not a URL"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(refuse("must be an https:// URL")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("must not carry credentials"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| refuse("has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = parsed.port_or_known_default().unwrap_or(443);
    crate::net::resolve_checked(host, port, allow_private)
        .await
        .map_err(|e| refuse(&e.to_string()))?;
    Ok(parsed.to_string())
}

fn checked_events(events: Vec<String>) -> Result<Vec<String>, Invalid> {
    let mut checked = Vec::with_capacity(events.len());
    for name in events {
        let kind = EventKind::from_log_type(name.trim())
            .ok_or_else(|| Invalid::new("events", format!("{name:?} is not an event type")))?;
        if !checked.contains(&kind.log_type().to_string()) {
            checked.push(kind.log_type().to_string());
        }
    }
    Ok(checked)
}

pub(crate) fn get(conn: &Connection, owner: Owner, id: i64) -> Result<Endpoint, IntegrationError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ?1 AND store_id IS ?2"
    ))?
    .query_row(params![id, owner.store_id()], endpoint_row)
    .optional()?
    .ok_or(IntegrationError::NotFound)
}

pub(crate) fn list(conn: &Connection, owner: Owner) -> Result<Vec<Endpoint>, IntegrationError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE store_id IS ?1 ORDER BY id"
        ))?
        .query_map([owner.store_id()], endpoint_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Removes an endpoint and its queue.
pub(crate) fn delete(conn: &Connection, owner: Owner, id: i64) -> Result<(), IntegrationError> {
    let removed = conn.execute(
        "DELETE FROM webhook_endpoints WHERE id = ?1 AND store_id IS ?2",
        params![id, owner.store_id()],
    )?;
    if removed == 0 {
        return Err(IntegrationError::NotFound);
    }
    Ok(())
}

/// Turns an endpoint off or on again; on again, its held deliveries are due at once.
pub(crate) fn set_active(
    conn: &Connection,
    owner: Owner,
    id: i64,
    active: bool,
) -> Result<Endpoint, IntegrationError> {
    get(conn, owner, id)?;
    if active {
        conn.execute(
            "UPDATE webhook_endpoints SET is_active = 1, failing_since = NULL, disabled_at = NULL,
                    disabled_reason = NULL WHERE id = ?1",
            [id],
        )?;
        conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE endpoint_id = ?1 AND state = 'pending'",
            params![id, Utc::now()],
        )?;
    } else {
        conn.execute(
            "UPDATE webhook_endpoints SET is_active = 0, disabled_at = ?2, disabled_reason = 'turned off'
             WHERE id = ?1",
            params![id, Utc::now()],
        )?;
    }
    get(conn, owner, id)
}

/// The newest `limit` deliveries of an endpoint, newest first.
pub(crate) fn deliveries(
    conn: &Connection,
    owner: Owner,
    id: i64,
    limit: u32,
) -> Result<Vec<Delivery>, IntegrationError> {
    get(conn, owner, id)?;
    Ok(conn
        .prepare_cached(
            "SELECT id, event_seq, event_type, conversation_id, state, attempts, next_attempt_at,
                    last_attempt_at, last_status, last_response, last_error, delivered_at, created_at
             FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?
        .query_map(params![id, limit], |r| {
            let state: String = r.get(4)?;
            Ok(Delivery {
                id: r.get(0)?,
                event_seq: r.get(1)?,
                event_type: r.get(2)?,
                conversation_id: r.get(3)?,
                next_attempt_at: (state == "pending").then(|| r.get(6)).transpose()?,
                state,
                attempts: r.get(5)?,
                last_attempt_at: r.get(7)?,
                last_status: r.get(8)?,
                last_response: r.get(9)?,
                last_error: r.get(10)?,
                delivered_at: r.get(11)?,
                created_at: r.get(12)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_filters_name_known_types_once() {
        assert_eq!(
            checked_events(vec!["message.created".into(), " message.created".into()]).unwrap(),
            vec!["message.created"]
        );
        assert!(checked_events(vec!["message_sent".into()]).is_err());
    }

    #[tokio::test]
    async fn urls_must_be_https_and_public_unless_private_hosts_are_allowed() {
        for bad in [
            "http://example.com/hook",
            "ftp://example.com/",
            "https://127.0.0.1/hook",
            "https://localhost/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
            "https://user:pw@example.com/",
            "nonsense",
        ] {
            assert!(checked_url(bad, false).await.is_err(), "{bad}");
        }
        assert!(checked_url("http://127.0.0.1:9/hook", true).await.is_ok());
    }
}

//! Delivering webhooks: the job's two steps.
//!
//! 1. **Fan-out.** Each active endpoint has a cursor in the event log; the events after it that
//!    its owner may see (and that its filter names) become deliveries, with their body fixed, and
//!    the cursor moves on, in one transaction. The queue is durable: a restart resumes from it.
//! 2. **Delivery.** Due deliveries are sent as the Standard Webhooks specification says
//!    (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 over
//!    `id.timestamp.body` under the endpoint's secret), at least once: a 2xx marks one delivered,
//!    anything else schedules a retry with exponential backoff. Only the oldest pending delivery
//!    of a conversation is sent, so a receiver sees each conversation's events in order. An
//!    endpoint that has failed for `disable_after_hours` is disabled and the admins get an alert.
//!
//! Receivers are reached only on public addresses (unless private hosts are allowed): the
//! client's resolver refuses the others at every connection (an address written in the URL was
//! checked when the endpoint was registered, and URLs do not change), redirects are not followed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use super::IntegrationError;
use super::webhooks::secret_aad;
use crate::alerts::{self, Alert};
use crate::config::WebhookSettings;
use crate::crypto::SecretKey;
use crate::db::Db;
use crate::domain::{AlertKind, AlertPriority};
use crate::messaging::MessagingError;
use crate::messaging::event_log::{self, LoggedEvent, Reader};

/// Events one endpoint takes from the log per pass.
const FAN_OUT_BATCH: u32 = 500;
/// Deliveries sent per pass, and at once.
const SEND_BATCH: usize = 100;
const SEND_CONCURRENCY: usize = 16;
/// How much of a receiver's answer the log keeps.
const RESPONSE_KEPT: usize = 1000;

/// What the delivery job works with.
#[derive(Clone)]
pub(crate) struct Context {
    pub db: Db,
    pub key: SecretKey,
    pub settings: WebhookSettings,
    pub client: reqwest::Client,
}

/// One fan-out and one delivery pass; answers how many deliveries were attempted.
pub(crate) async fn run_once(ctx: &Context) -> Result<usize, IntegrationError> {
    // What is queued goes out even when taking new events from the log failed this time.
    if let Err(e) = fan_out(&ctx.db).await {
        tracing::error!(error = ?e, "webhook fan-out failed");
    }
    deliver_due(ctx).await
}

/// The active endpoints the log has events for beyond their cursor.
const BEHIND: &str = "SELECT id, store_id, event_types, cursor_seq FROM webhook_endpoints
     WHERE is_active AND cursor_seq < (SELECT coalesce(max(seq), 0) FROM events)";

/// Step 1: the events after each active endpoint's cursor become its deliveries.
pub(crate) async fn fan_out(db: &Db) -> Result<usize, IntegrationError> {
    // A read first: while every endpoint has caught up with the log (or there is none), a tick
    // takes no write lock, and the database stays quiet for the work that waits for it.
    let behind = db
        .read(|conn| {
            conn.prepare_cached(&format!("SELECT EXISTS ({BEHIND})"))?
                .query_row([], |r| r.get::<_, bool>(0))
                .map_err(IntegrationError::from)
        })
        .await?;
    if !behind {
        return Ok(0);
    }
    db.write(|tx| {
        let endpoints: Vec<(i64, Option<i64>, Option<String>, i64)> = tx
            .prepare_cached(BEHIND)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut made = 0;
        for (id, store_id, types, cursor) in endpoints {
            let types: Option<Vec<String>> = types.and_then(|t| serde_json::from_str(&t).ok());
            let reader = store_id.map_or(Reader::Platform, Reader::Store);
            let page = match event_log::page(tx, reader, cursor, FAN_OUT_BATCH) {
                Ok(page) => page,
                Err(MessagingError::EventsExpired) => {
                    // Disabled for longer than the log keeps events: what it missed is gone. It
                    // goes on from the oldest event kept (or the end, if none is).
                    tracing::warn!(endpoint_id = id, "webhook endpoint missed pruned events");
                    let from: i64 = tx.query_row(
                        "SELECT coalesce(min(seq) - 1, 0) FROM events",
                        [],
                        |r| r.get(0),
                    )?;
                    event_log::page(tx, reader, from, FAN_OUT_BATCH)?
                }
                Err(e) => return Err(e.into()),
            };
            let now = Utc::now();
            for event in &page.events {
                if types.as_ref().is_some_and(|t| !t.iter().any(|t| t == event.event_type)) {
                    continue;
                }
                made += tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO webhook_deliveries
                            (endpoint_id, event_seq, conversation_id, event_type, payload, next_attempt_at, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    )?
                    .execute(params![
                        id,
                        event.seq,
                        event.conversation_id,
                        event.event_type,
                        payload(event).to_string(),
                        now
                    ])?;
            }
            // An empty page for a store endpoint means nothing of its store up to the end of the log
            // as it was read: the cursor moves past what it skipped.
            let through = if page.events.len() < FAN_OUT_BATCH as usize {
                event_log::last_seq(tx)?
            } else {
                page.next_after
            };
            tx.execute(
                "UPDATE webhook_endpoints SET cursor_seq = max(cursor_seq, ?2) WHERE id = ?1",
                params![id, through],
            )?;
        }
        Ok::<_, IntegrationError>(made)
    })
    .await
}

/// A delivery's body: `{type, timestamp, data}`, the event's fields in `data`.
fn payload(event: &LoggedEvent) -> Value {
    let mut data = json!({
        "seq": event.seq,
        "conversation_id": event.conversation_id,
        "store_id": event.store_id,
    });
    if let (Some(data), Ok(Value::Object(fields))) =
        (data.as_object_mut(), serde_json::to_value(&event.data))
    {
        data.extend(fields);
    }
    json!({"type": event.event_type, "timestamp": event.created_at, "data": data})
}

/// A delivery on its way out.
struct Due {
    id: i64,
    endpoint_id: i64,
    event_seq: i64,
    attempts: i64,
    url: String,
    secret_sealed: Vec<u8>,
    payload: String,
}

/// What one attempt came to.
struct Attempt {
    id: i64,
    endpoint_id: i64,
    attempts: i64,
    status: Option<u16>,
    response: Option<String>,
    error: Option<String>,
    at: DateTime<Utc>,
}

impl Attempt {
    fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Step 2: sends what is due (the oldest pending delivery of each conversation per endpoint) and
/// records what came back.
pub(crate) async fn deliver_due(ctx: &Context) -> Result<usize, IntegrationError> {
    let due: Vec<Due> = ctx
        .db
        .read(|conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT d.id, d.endpoint_id, d.event_seq, d.attempts, w.url, w.secret_sealed, d.payload
                     FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                     WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 AND w.is_active
                       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                                       WHERE p.state = 'pending' AND p.endpoint_id = d.endpoint_id
                                         AND p.conversation_id = d.conversation_id AND p.event_seq < d.event_seq)
                     ORDER BY d.next_attempt_at, d.id LIMIT ?2",
                )?
                .query_map(params![Utc::now(), SEND_BATCH as i64], |r| {
                    Ok(Due {
                        id: r.get(0)?,
                        endpoint_id: r.get(1)?,
                        event_seq: r.get(2)?,
                        attempts: r.get(3)?,
                        url: r.get(4)?,
                        secret_sealed: r.get(5)?,
                        payload: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok::<_, IntegrationError>(rows)
        })
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let attempts: Vec<Attempt> = futures_util::stream::iter(due)
        .map(|d| send(ctx, d))
        .buffer_unordered(SEND_CONCURRENCY)
        .collect()
        .await;
    let count = attempts.len();
    let settings = ctx.settings.clone();
    ctx.db
        .write(move |tx| {
            for attempt in &attempts {
                record(tx, &settings, attempt)?;
            }
            Ok::<_, IntegrationError>(())
        })
        .await?;
    Ok(count)
}

async fn send(ctx: &Context, due: Due) -> Attempt {
    let at = Utc::now();
    let mut attempt = Attempt {
        id: due.id,
        endpoint_id: due.endpoint_id,
        attempts: due.attempts + 1,
        status: None,
        response: None,
        error: None,
        at,
    };
    let signed = ctx
        .key
        .open(&due.secret_sealed, &secret_aad(due.endpoint_id))
        .map_err(|e| e.to_string())
        .and_then(|secret| standardwebhooks::Webhook::new(&secret).map_err(|e| e.to_string()))
        .and_then(|hook| {
            let id = format!("evt_{}", due.event_seq);
            hook.sign(&id, at.timestamp(), due.payload.as_bytes())
                .map(|signature| (id, signature))
                .map_err(|e| e.to_string())
        });
    let (id, signature) = match signed {
        Ok(signed) => signed,
        Err(e) => {
            attempt.error = Some(format!("could not sign: {e}"));
            return attempt;
        }
    };
    let sent = ctx
        .client
        .post(&due.url)
        .header("content-type", "application/json")
        .header(standardwebhooks::HEADER_WEBHOOK_ID, id)
        .header(
            standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
            at.timestamp().to_string(),
        )
        .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
        .body(due.payload)
        .send()
        .await;
    match sent {
        Ok(mut response) => {
            attempt.status = Some(response.status().as_u16());
            // The start of the answer only: a receiver cannot make us hold more.
            let mut kept = Vec::new();
            while kept.len() < RESPONSE_KEPT {
                match response.chunk().await {
                    Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            kept.truncate(RESPONSE_KEPT);
            attempt.response = Some(String::from_utf8_lossy(&kept).into_owned());
        }
        Err(e) => attempt.error = Some(describe(e)),
    }
    attempt
}

/// Why a request got no answer, in words for the delivery log (without the URL, which the log
/// shows beside it).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

fn record(
    conn: &Connection,
    settings: &WebhookSettings,
    attempt: &Attempt,
) -> Result<(), IntegrationError> {
    if attempt.delivered() {
        conn.execute(
            "UPDATE webhook_deliveries SET state = 'delivered', attempts = ?2, last_attempt_at = ?3,
                    delivered_at = ?3, last_status = ?4, last_response = ?5, last_error = NULL
             WHERE id = ?1",
            params![
                attempt.id,
                attempt.attempts,
                attempt.at,
                attempt.status,
                attempt.response
            ],
        )?;
        conn.execute(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1",
            [attempt.endpoint_id],
        )?;
        return Ok(());
    }
    let next = attempt.at + backoff(settings, attempt.attempts);
    let limit = chrono::Duration::hours(settings.disable_after_hours as i64);
    // Refused for as long as an endpoint may fail: given up, so the rest of its conversation goes
    // on (the log keeps it as `failed`).
    conn.execute(
        "UPDATE webhook_deliveries SET attempts = ?2, last_attempt_at = ?3, next_attempt_at = ?4,
                last_status = ?5, last_response = ?6, last_error = ?7,
                state = CASE WHEN created_at <= ?8 THEN 'failed' ELSE state END
         WHERE id = ?1",
        params![
            attempt.id,
            attempt.attempts,
            attempt.at,
            next,
            attempt.status,
            attempt.response,
            attempt.error,
            attempt.at - limit
        ],
    )?;
    conn.execute(
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?2) WHERE id = ?1",
        params![attempt.endpoint_id, attempt.at],
    )?;
    let disabled = conn.execute(
        "UPDATE webhook_endpoints SET is_active = 0, disabled_at = ?2,
                disabled_reason = 'every delivery failed for ' || ?3 || ' hours'
         WHERE id = ?1 AND is_active AND failing_since <= ?4",
        params![
            attempt.endpoint_id,
            attempt.at,
            settings.disable_after_hours as i64,
            attempt.at - limit
        ],
    )?;
    if disabled > 0 {
        alert_disabled(conn, attempt.endpoint_id, settings.disable_after_hours)?;
    }
    Ok(())
}

/// The wait before attempt `attempts + 1`: the base doubled per attempt made, capped, with ±20 %
/// jitter so a receiver that comes back is not met by every retry at once.
fn backoff(settings: &WebhookSettings, attempts: i64) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let seconds = settings
        .retry_base_seconds
        .saturating_mul(1u64 << doublings)
        .min(settings.retry_max_seconds) as f64;
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    chrono::Duration::milliseconds((seconds * jitter * 1000.0) as i64)
}

fn alert_disabled(conn: &Connection, endpoint_id: i64, hours: u64) -> Result<(), IntegrationError> {
    let (url, store_id): (String, Option<i64>) = conn.query_row(
        "SELECT url, store_id FROM webhook_endpoints WHERE id = ?1",
        [endpoint_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let message = format!(
        "Every delivery to {url} failed for {hours} hours, so the endpoint was disabled. \
         Its undelivered events wait in its queue; turn it on again once the receiver answers."
    );
    let dedup = format!("webhook_disabled:{endpoint_id}");
    alerts::raise(
        conn,
        &Alert {
            notification_type: if store_id.is_some() {
                AlertKind::StoreIssue
            } else {
                AlertKind::SystemAlert
            },
            priority: AlertPriority::High,
            title: "A webhook endpoint was disabled",
            message: &message,
            action_required: true,
            action_url: None,
            metadata: json!({"webhook_endpoint_id": endpoint_id, "store_id": store_id}),
            dedup_key: &dedup,
        },
    )?;
    tracing::warn!(endpoint_id, "webhook endpoint disabled after failing");
    Ok(())
}

/// The webhook client: rustls with compiled-in roots, no redirects, a deadline, and a resolver
/// that refuses private addresses (unless allowed) at every connection, so a name cannot turn
/// into an internal address after the endpoint was checked.
pub(crate) fn http_client(settings: &WebhookSettings) -> Result<reqwest::Client, String> {
    crate::net::http_client(
        Duration::from_secs(settings.timeout_seconds),
        Some(Arc::new(PublicOnly {
            allow_private: settings.allow_private_hosts,
        })),
    )
}

struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                crate::net::resolve_checked(&host, 0, allow_private).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_up_to_the_cap() {
        let settings = WebhookSettings {
            retry_base_seconds: 30,
            retry_max_seconds: 3600,
            ..WebhookSettings::default()
        };
        for (attempts, base) in [(1, 30), (2, 60), (3, 120), (8, 3600), (60, 3600)] {
            let wait = backoff(&settings, attempts).num_milliseconds() as f64 / 1000.0;
            assert!(
                wait >= base as f64 * 0.8 && wait <= base as f64 * 1.2,
                "attempt {attempts}: {wait}"
            );
        }
    }
}

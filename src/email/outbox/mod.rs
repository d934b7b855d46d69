//! The email log as a durable outbox (seed: EmailLog). Enqueueing is an insert inside the caller's
//! transaction; the delivery job claims due rows with a lease, renders, sends outside any
//! transaction and records the outcome.

mod events;
mod log;

pub(crate) use events::{
    DeliveryEvent, bounce_rate, by_provider_message_id, record_event, store_of,
};
pub(crate) use log::{EmailLog, LogFilter, list_logs, retry};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::config::EmailSettings;
use crate::domain::EmailStatus;
use crate::email::EmailError;

/// Whether an email may be sent twice after a crash mid-send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Notifications: never re-sent when an attempt was interrupted (at most once).
    AtMostOnce,
    /// Account emails: re-sent with the same Message-ID (at least once).
    AtLeastOnce,
}

pub(crate) struct NewEmail<'a> {
    pub template_code: &'a str,
    pub language: &'a str,
    pub recipient_email: &'a str,
    pub recipient_name: Option<&'a str>,
    pub store_id: Option<i64>,
    pub user_id: Option<i64>,
    pub related: Option<(&'a str, i64)>,
    /// Template variables, rendered when the email is sent.
    pub variables: serde_json::Value,
    /// Anything else the delivery step needs (e.g. the participant a notification is for).
    pub extra: serde_json::Value,
    pub delivery: Delivery,
    pub send_after: Duration,
}

/// Is mail to `email` suppressed (hard bounce) for this store or the platform?
pub(crate) fn is_suppressed(
    conn: &Connection,
    store_id: Option<i64>,
    email: &str,
) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM email_suppressions WHERE email = ?1 AND (store_id IS ?2 OR store_id IS NULL)")?
        .query_row(params![email, store_id], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn suppress(
    conn: &Connection,
    store_id: Option<i64>,
    email: &str,
    reason: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO email_suppressions (store_id, email, reason) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![store_id, email, reason],
    )?;
    Ok(())
}

/// Inserts a pending email; None when the address is suppressed.
pub(crate) fn enqueue(
    conn: &Connection,
    settings: &EmailSettings,
    email: &NewEmail<'_>,
) -> rusqlite::Result<Option<i64>> {
    if is_suppressed(conn, email.store_id, email.recipient_email)? {
        return Ok(None);
    }
    let now = Utc::now();
    let domain = settings
        .from_email
        .rsplit_once('@')
        .map_or("parley.invalid", |(_, d)| d);
    let message_id = format!("<{}@{domain}>", uuid::Uuid::new_v4().simple());
    let mut extra = email.extra.clone();
    if let serde_json::Value::Object(map) = &mut extra {
        map.insert("variables".into(), email.variables.clone());
    }
    let (related_type, related_id) = email
        .related
        .map_or((None, None), |(t, id)| (Some(t), Some(id)));
    let id = conn
        .prepare_cached(
            "INSERT INTO email_logs (template_code, recipient_email, recipient_name, subject, from_email, from_name,
                    status, store_id, user_id, related_type, related_id, extra_data, next_attempt_at, message_id,
                    language, at_most_once, created_at, updated_at)
             VALUES (?1, ?2, ?3, '', ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?14, ?14) RETURNING id",
        )?
        .query_row(
            params![
                email.template_code,
                email.recipient_email,
                email.recipient_name,
                settings.from_email,
                settings.from_name,
                email.store_id,
                email.user_id,
                related_type,
                related_id,
                extra.to_string(),
                now + email.send_after,
                message_id,
                email.language,
                now,
                email.delivery == Delivery::AtMostOnce,
            ],
            |r| r.get(0),
        )?;
    Ok(Some(id))
}

/// A claimed email, as the delivery step needs it.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub id: i64,
    pub template_code: Option<String>,
    pub language: String,
    pub recipient_email: String,
    pub recipient_name: Option<String>,
    pub subject: String,
    pub body_html: Option<String>,
    pub body_text: Option<String>,
    pub from_email: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    pub store_id: Option<i64>,
    pub related: Option<(String, i64)>,
    pub extra: serde_json::Value,
    pub message_id: String,
    pub retry_count: u32,
    pub created_at: DateTime<Utc>,
    /// The previous attempt was still in flight when its lease expired (the process died).
    pub interrupted: bool,
    /// A notification, sent at most once: after an interrupted attempt it is not sent again.
    pub at_most_once: bool,
}

impl Claimed {
    pub(crate) fn variables(&self) -> serde_json::Value {
        self.extra
            .get("variables")
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Is any email due for an attempt?
pub(crate) fn any_due(conn: &Connection) -> Result<bool, EmailError> {
    let now = Utc::now();
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM email_logs WHERE status = 'pending' AND next_attempt_at <= ?1
               AND (locked_until IS NULL OR locked_until < ?1) LIMIT 1",
        )?
        .query_row([now], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Claims up to `limit` due emails for `lease`. One short write transaction; the caller sends
/// outside it. Rows whose lease expired come back (a crash loses nothing).
pub(crate) fn claim(
    conn: &Connection,
    limit: u32,
    lease: Duration,
) -> Result<Vec<Claimed>, EmailError> {
    let now = Utc::now();
    let mut claimed: Vec<Claimed> = conn
        .prepare_cached(
            "SELECT id, template_code, coalesce(language, 'en'), recipient_email, recipient_name, subject, body_html,
                    body_text, from_email, from_name, reply_to, store_id, related_type, related_id, extra_data,
                    message_id, retry_count, created_at, attempt_started_at IS NOT NULL, at_most_once
             FROM email_logs
             WHERE status = 'pending' AND next_attempt_at <= ?1 AND (locked_until IS NULL OR locked_until < ?1)
             ORDER BY next_attempt_at, id LIMIT ?2",
        )?
        .query_map(params![now, limit], claimed_row)?
        .collect::<rusqlite::Result<_>>()?;
    for email in &mut claimed {
        conn.prepare_cached(
            "UPDATE email_logs SET locked_until = ?2, attempt_started_at = ?3, updated_at = ?3 WHERE id = ?1",
        )?
        .execute(params![email.id, now + lease, now])?;
    }
    Ok(claimed)
}

fn claimed_row(r: &Row<'_>) -> rusqlite::Result<Claimed> {
    let related = match (
        r.get::<_, Option<String>>(12)?,
        r.get::<_, Option<i64>>(13)?,
    ) {
        (Some(t), Some(id)) => Some((t, id)),
        _ => None,
    };
    Ok(Claimed {
        id: r.get(0)?,
        template_code: r.get(1)?,
        language: r.get(2)?,
        recipient_email: r.get(3)?,
        recipient_name: r.get(4)?,
        subject: r.get(5)?,
        body_html: r.get(6)?,
        body_text: r.get(7)?,
        from_email: r.get(8)?,
        from_name: r.get(9)?,
        reply_to: r.get(10)?,
        store_id: r.get(11)?,
        related,
        extra: r
            .get::<_, Option<String>>(14)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null),
        message_id: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
        retry_count: r.get(16)?,
        created_at: r.get(17)?,
        interrupted: r.get(18)?,
        at_most_once: r.get(19)?,
    })
}

/// Variables that carry a secret (a link with a single-use token): the stored snapshot of an
/// email shows `[link removed]` in their place, and once the email is sent they leave its stored
/// variables too, so the database and its backups never hold a usable link for long.
pub(crate) const SECRET_VARIABLES: &[&str] = &["reset_url", "verify_url"];

/// Stores the rendered content (a snapshot of what is sent), secrets removed.
pub(crate) fn save_rendered(
    conn: &Connection,
    id: i64,
    template_id: Option<i64>,
    subject: &str,
    html: &str,
    text: &str,
    extra: &serde_json::Value,
) -> Result<(), EmailError> {
    let (mut html, mut text) = (html.to_string(), text.to_string());
    for name in SECRET_VARIABLES {
        if let Some(secret) = extra
            .get("variables")
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
        {
            // As written in the text, and as HTML escaping writes it in the HTML.
            let escaped = secret.replace('&', "&amp;");
            html = html
                .replace(&escaped, "[link removed]")
                .replace(secret, "[link removed]");
            text = text.replace(secret, "[link removed]");
        }
    }
    conn.execute(
        "UPDATE email_logs SET template_id = ?2, subject = ?3, body_html = ?4, body_text = ?5, extra_data = ?6,
                updated_at = ?7 WHERE id = ?1",
        params![id, template_id, subject, html, text, extra.to_string(), Utc::now()],
    )?;
    Ok(())
}

pub(crate) fn mark_sent(
    conn: &Connection,
    id: i64,
    provider: &str,
    provider_message_id: &str,
) -> Result<(), EmailError> {
    let now = Utc::now();
    conn.execute(
        "UPDATE email_logs SET status = 'sent', sent_at = ?2, provider = ?3, provider_message_id = ?4,
                retry_count = retry_count + 1, error_message = NULL, locked_until = NULL,
                attempt_started_at = NULL, updated_at = ?2,
                extra_data = json_remove(extra_data, '$.variables.reset_url', '$.variables.verify_url')
             WHERE id = ?1",
        params![id, now, provider, provider_message_id],
    )?;
    Ok(())
}

/// How an attempt failed, which decides what happens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Worth another try later (connection trouble, 4xx replies, HTTP 429/5xx).
    Transient,
    /// Trying again would fail the same way.
    Permanent,
    /// The address does not take mail (a hard bounce): nothing more goes to it from the store.
    Bounce,
}

/// A failed attempt: retried later while attempts remain and the failure is transient; failed (or
/// bounced) otherwise. Returns the status the row ends in.
pub(crate) fn mark_failed(
    conn: &Connection,
    settings: &EmailSettings,
    email: &Claimed,
    provider: &str,
    error: &str,
    failure: Failure,
) -> Result<EmailStatus, EmailError> {
    let now = Utc::now();
    let attempts = email.retry_count + 1;
    let status = match failure {
        Failure::Bounce => EmailStatus::Bounced,
        Failure::Transient if attempts < settings.max_attempts => EmailStatus::Pending,
        Failure::Transient | Failure::Permanent => EmailStatus::Failed,
    };
    let next = now + backoff(settings.retry_base_seconds, attempts);
    conn.execute(
        "UPDATE email_logs SET status = ?2, retry_count = ?3, error_message = ?4, provider = ?5,
                next_attempt_at = ?6, locked_until = NULL, attempt_started_at = NULL, updated_at = ?7 WHERE id = ?1",
        params![email.id, status, attempts, error, provider, next, now],
    )?;
    Ok(status)
}

/// Stores the tracking token and the email's original links (the only redirect targets).
pub(crate) fn save_tracking(
    conn: &Connection,
    id: i64,
    token: &str,
    links: &[String],
) -> Result<(), EmailError> {
    conn.execute(
        "UPDATE email_logs SET tracking_token = ?2, extra_data = json_set(coalesce(extra_data, '{}'), '$.links', json(?3))
         WHERE id = ?1",
        params![id, token, serde_json::to_string(links).unwrap_or_default()],
    )?;
    Ok(())
}

/// The email a tracking token belongs to, with the link number `n` if asked for.
pub(crate) fn tracked(
    conn: &Connection,
    token: &str,
    n: Option<usize>,
) -> Result<(i64, Option<String>), EmailError> {
    let (id, links): (i64, Option<String>) = conn
        .query_row(
            "SELECT id, json_extract(extra_data, '$.links') FROM email_logs WHERE tracking_token = ?1",
            [token],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(EmailError::NotFound)?;
    let link = match n {
        None => None,
        Some(n) => {
            let links: Vec<String> = links
                .and_then(|l| serde_json::from_str(&l).ok())
                .unwrap_or_default();
            Some(links.get(n).cloned().ok_or(EmailError::NotFound)?)
        }
    };
    Ok((id, link))
}

/// Gives a claimed row back without counting an attempt (e.g. no relay is configured yet).
pub(crate) fn release(conn: &Connection, id: i64, retry_in: Duration) -> Result<(), EmailError> {
    let now = Utc::now();
    conn.execute(
        "UPDATE email_logs SET locked_until = NULL, attempt_started_at = NULL, next_attempt_at = ?2, updated_at = ?3
         WHERE id = ?1",
        params![id, now + retry_in, now],
    )?;
    Ok(())
}

/// Drops an email that is no longer wanted before it was ever sent (its recipient read the
/// conversation, or turned notifications off).
pub(crate) fn cancel(conn: &Connection, id: i64) -> Result<(), EmailError> {
    conn.execute(
        "DELETE FROM email_logs WHERE id = ?1 AND status = 'pending' AND sent_at IS NULL",
        [id],
    )?;
    Ok(())
}

/// Exponential backoff with ±20% jitter: base, 2×base, 4×base … capped at an hour.
pub(crate) fn backoff(base_seconds: u64, attempts: u32) -> Duration {
    let exp = base_seconds
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(16))
        .min(3600);
    let jitter = rand::rng().random_range(0.8..=1.2);
    Duration::milliseconds((exp as f64 * 1000.0 * jitter) as i64)
}

#[cfg(test)]
mod tests;

//! The email log as the admin and store pages and API read it, and the retry of a failed email.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::domain::EmailStatus;
use crate::email::EmailError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct EmailLog {
    pub id: i64,
    pub template_code: Option<String>,
    pub template_id: Option<i64>,
    pub recipient_email: String,
    pub recipient_name: Option<String>,
    pub subject: String,
    pub from_email: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    pub status: EmailStatus,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub clicked_at: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub retry_count: i64,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub store_id: Option<i64>,
    pub user_id: Option<i64>,
    pub related_type: Option<String>,
    pub related_id: Option<i64>,
    pub language: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the store's own template could not be used (the platform's was sent instead).
    pub store_template_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct LogFilter {
    pub status: Option<EmailStatus>,
    pub store_id: Option<i64>,
    pub recipient: Option<String>,
    pub template_code: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

pub(crate) fn list_logs(
    conn: &Connection,
    filter: &LogFilter,
    skip: u32,
    limit: u32,
) -> Result<(Vec<EmailLog>, i64), EmailError> {
    let where_clause = "(?1 IS NULL OR status = ?1) AND (?2 IS NULL OR store_id = ?2)
        AND (?3 IS NULL OR recipient_email = ?3) AND (?4 IS NULL OR template_code = ?4)
        AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6)";
    let args = params![
        filter.status,
        filter.store_id,
        filter.recipient,
        filter.template_code,
        filter.since,
        filter.until
    ];
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM email_logs WHERE {where_clause}"),
        args,
        |r| r.get(0),
    )?;
    let logs = conn
        .prepare(&format!(
            "SELECT id, template_code, template_id, recipient_email, recipient_name, subject, from_email, from_name,
                    reply_to, status, sent_at, delivered_at, opened_at, clicked_at, error_message, retry_count, provider,
                    provider_message_id, store_id, user_id, related_type, related_id, language, next_attempt_at,
                    created_at, updated_at, json_extract(extra_data, '$.store_template_error')
             FROM email_logs WHERE {where_clause} ORDER BY id DESC LIMIT ?7 OFFSET ?8"
        ))?
        .query_map(
            params![filter.status, filter.store_id, filter.recipient, filter.template_code, filter.since, filter.until, limit, skip],
            |r| {
                Ok(EmailLog {
                    id: r.get(0)?,
                    template_code: r.get(1)?,
                    template_id: r.get(2)?,
                    recipient_email: r.get(3)?,
                    recipient_name: r.get(4)?,
                    subject: r.get(5)?,
                    from_email: r.get(6)?,
                    from_name: r.get(7)?,
                    reply_to: r.get(8)?,
                    status: r.get(9)?,
                    sent_at: r.get(10)?,
                    delivered_at: r.get(11)?,
                    opened_at: r.get(12)?,
                    clicked_at: r.get(13)?,
                    error_message: r.get(14)?,
                    retry_count: r.get(15)?,
                    provider: r.get(16)?,
                    provider_message_id: r.get(17)?,
                    store_id: r.get(18)?,
                    user_id: r.get(19)?,
                    related_type: r.get(20)?,
                    related_id: r.get(21)?,
                    language: r.get(22)?,
                    next_attempt_at: r.get(23)?,
                    created_at: r.get(24)?,
                    updated_at: r.get(25)?,
                    store_template_error: r.get(26)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok((logs, total))
}

/// Puts a failed or bounced email back in the queue, with a fresh set of attempts.
pub(crate) fn retry(conn: &Connection, id: i64) -> Result<(), EmailError> {
    let status: EmailStatus = conn
        .query_row("SELECT status FROM email_logs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or(EmailError::NotFound)?;
    if status != EmailStatus::Failed {
        return Err(EmailError::conflict(
            "not_failed",
            format!("only failed emails can be retried (this one is {status})"),
        ));
    }
    let now = Utc::now();
    conn.execute(
        "UPDATE email_logs SET status = 'pending', retry_count = 0, next_attempt_at = ?2, locked_until = NULL,
                attempt_started_at = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

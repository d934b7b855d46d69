//! What happens to an email after it left: provider events (delivered, opened, clicked, bounced)
//! move its status forward only; a bounce stops mail to the address.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::suppress;
use crate::domain::EmailStatus;
use crate::email::EmailError;

/// What a provider (or our tracking) reports about a sent email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliveryEvent {
    Delivered,
    Opened,
    Clicked,
    /// A hard bounce: the address does not take mail.
    Bounced,
}

impl DeliveryEvent {
    fn status(self) -> EmailStatus {
        match self {
            DeliveryEvent::Delivered => EmailStatus::Delivered,
            DeliveryEvent::Opened => EmailStatus::Opened,
            DeliveryEvent::Clicked => EmailStatus::Clicked,
            DeliveryEvent::Bounced => EmailStatus::Bounced,
        }
    }
}

/// Records an event on an email: its timestamp the first time, and its status only forward.
/// A bounce also stops mail to the address for that store. Returns the store of the email.
pub(crate) fn record_event(
    conn: &Connection,
    id: i64,
    event: DeliveryEvent,
    at: DateTime<Utc>,
) -> Result<Option<i64>, EmailError> {
    let column = match event {
        DeliveryEvent::Delivered => "delivered_at",
        DeliveryEvent::Opened => "opened_at",
        DeliveryEvent::Clicked => "clicked_at",
        DeliveryEvent::Bounced => "updated_at",
    };
    let updated: Option<(Option<i64>, String)> = conn
        .query_row(
            &format!(
                "UPDATE email_logs SET {column} = coalesce({column}, ?3),
                        status = CASE WHEN {rank} < ?4 THEN ?2 ELSE status END, updated_at = ?5
                 WHERE id = ?1 AND status <> 'pending' RETURNING store_id, recipient_email",
                rank = EmailStatus::rank_sql()
            ),
            params![id, event.status(), at, event.status().rank(), Utc::now()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((store_id, recipient)) = updated else {
        return Ok(None);
    };
    if event == DeliveryEvent::Bounced {
        suppress(conn, store_id, &recipient, "hard bounce")?;
    }
    Ok(store_id)
}

/// The share of a store's recent emails (7 days) that bounced, when there are enough to judge.
pub(crate) fn bounce_rate(
    conn: &Connection,
    store_id: i64,
    minimum: i64,
) -> Result<Option<f64>, EmailError> {
    let (bounced, total): (i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE status = 'bounced'), count(*) FROM email_logs
         WHERE store_id = ?1 AND created_at > ?2 AND status IN ('sent', 'delivered', 'opened', 'clicked', 'bounced')",
        params![store_id, Utc::now() - Duration::days(7)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((total >= minimum).then(|| bounced as f64 / total as f64))
}

/// The store of email `id` when it was sent through `provider` for a store.
pub(crate) fn store_of(
    conn: &Connection,
    id: i64,
    provider: crate::domain::EmailProvider,
) -> Result<Option<i64>, EmailError> {
    Ok(conn
        .query_row(
            "SELECT store_id FROM email_logs WHERE id = ?1 AND provider = ?2 AND store_id IS NOT NULL",
            params![id, provider],
            |r| r.get(0),
        )
        .optional()?)
}

/// The email a provider knows by its own message id.
pub(crate) fn by_provider_message_id(
    conn: &Connection,
    provider: crate::domain::EmailProvider,
    message_id: &str,
) -> Result<Option<i64>, EmailError> {
    Ok(conn
        .query_row(
            "SELECT id FROM email_logs WHERE provider = ?1 AND provider_message_id = ?2",
            params![provider, message_id],
            |r| r.get(0),
        )
        .optional()?)
}

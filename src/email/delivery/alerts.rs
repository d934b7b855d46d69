//! The admin alerts the delivery step raises: a store whose emails bounce too often, and an
//! email that used up its attempts.

use super::super::outbox::{self, Claimed};
use crate::alerts;
use crate::domain::{AlertKind, AlertPriority};
use crate::email::EmailError;

/// Share of bounced emails over which a store gets an alert (at least 20 emails in 7 days).
const BOUNCE_ALERT_RATE: f64 = 0.05;
const BOUNCE_ALERT_MINIMUM: i64 = 20;

/// Raises (or refreshes) the store's bounce-rate alert when its rate passes the threshold.
pub(crate) fn bounce_rate_alert(
    tx: &rusqlite::Connection,
    store_id: i64,
) -> Result<(), EmailError> {
    let Some(rate) = outbox::bounce_rate(tx, store_id, BOUNCE_ALERT_MINIMUM)? else {
        return Ok(());
    };
    if rate > BOUNCE_ALERT_RATE {
        alerts::raise(
            tx,
            &alerts::Alert {
                notification_type: AlertKind::StoreIssue,
                priority: AlertPriority::High,
                title: "A store's emails bounce too often",
                message: &format!(
                    "Store {store_id}: {:.1}% of its emails in the last 7 days bounced (threshold {:.0}%)",
                    rate * 100.0,
                    BOUNCE_ALERT_RATE * 100.0
                ),
                action_required: true,
                action_url: None,
                metadata: serde_json::json!({ "store_id": store_id, "bounce_rate": rate }),
                dedup_key: &format!("bounce_rate:{store_id}"),
            },
        )?;
    }
    Ok(())
}

/// An email that used up its attempts: one open alert per sender.
pub(super) fn exhausted_alert(
    tx: &rusqlite::Connection,
    email: &Claimed,
    cause: &str,
    message: &str,
) -> Result<(), EmailError> {
    alerts::raise(
        tx,
        &alerts::Alert {
            notification_type: AlertKind::SystemAlert,
            priority: AlertPriority::High,
            title: "Emails are failing",
            message: &format!(
                "Email {} to {} failed after all attempts: {message}",
                email.id, email.recipient_email
            ),
            action_required: true,
            action_url: Some("/admin/email-logs?status=failed"),
            metadata: serde_json::json!({ "email_log_id": email.id, "store_id": email.store_id }),
            dedup_key: &format!("email_failed:{cause}"),
        },
    )?;
    Ok(())
}

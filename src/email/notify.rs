//! Emails that follow from what happens in conversations and accounts (seed: "Email
//! Notifications"). Each function runs inside the transaction of the change that causes it, so
//! the email exists exactly when the change does.

use chrono::{Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::outbox::{self, Delivery, NewEmail};
use crate::config::Settings;
use crate::domain::{Actor, ParticipantType};
use crate::email::EmailError;

pub(crate) const NEW_MESSAGE: &str = "new_message";
pub(crate) const CONVERSATION_CLOSED: &str = "conversation_closed";
pub(crate) const SIGNUP_WELCOME: &str = "signup_welcome";
pub(crate) const PASSWORD_RESET: &str = "password_reset";
pub(crate) const EMAIL_VERIFICATION: &str = "email_verification";

/// A participant who may get email, with what the email needs.
struct Recipient {
    row_id: i64,
    participant_type: ParticipantType,
    participant_id: i64,
    email: String,
    name: String,
    language: String,
    user_id: Option<i64>,
}

/// Participants other than `actor` with email notifications on, not muted, and active; no
/// customers when it is about an internal note (`internal`).
fn recipients(
    conn: &Connection,
    conversation_id: i64,
    actor: &Actor,
    internal: bool,
) -> rusqlite::Result<Vec<Recipient>> {
    let (me_type, me_id) = actor.participant();
    let rows = conn
        .prepare_cached(
            "SELECT p.id, p.participant_type, p.participant_id,
                    coalesce(u.email, c.email), coalesce(u.full_name, c.full_name), coalesce(u.language, c.language),
                    u.id
             FROM conversation_participants p
             LEFT JOIN users u ON p.participant_type IN ('admin', 'store') AND u.id = p.participant_id AND u.is_active
             LEFT JOIN customers c ON p.participant_type = 'customer' AND c.id = p.participant_id AND c.is_active
             WHERE p.conversation_id = ?1 AND p.email_notifications AND NOT p.muted
               AND NOT (p.participant_type = ?2 AND p.participant_id = ?3)
               AND NOT (?4 AND p.participant_type = 'customer')
               AND coalesce(u.email, c.email) IS NOT NULL
             ORDER BY p.id",
        )?
        .query_map(params![conversation_id, me_type, me_id, internal], |r| {
            Ok(Recipient {
                row_id: r.get(0)?,
                participant_type: r.get(1)?,
                participant_id: r.get(2)?,
                email: r.get(3)?,
                name: r.get(4)?,
                language: r.get(5)?,
                user_id: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

struct ConversationFacts {
    subject: String,
    store_id: Option<i64>,
    store_name: String,
    /// What the conversation is about, as emails name it: its label, else its id ("" for none).
    context_label: String,
    context_url: String,
}

fn conversation_facts(conn: &Connection, id: i64) -> rusqlite::Result<ConversationFacts> {
    conn.prepare_cached(
        "SELECT c.subject, c.store_id, coalesce(s.name, ''), coalesce(c.context_label, c.context_id, ''),
                coalesce(c.context_url, '')
         FROM conversations c LEFT JOIN stores s ON s.id = c.store_id WHERE c.id = ?1",
    )?
    .query_row([id], |r| {
        Ok(ConversationFacts {
            subject: r.get(0)?,
            store_id: r.get(1)?,
            store_name: r.get(2)?,
            context_label: r.get(3)?,
            context_url: r.get(4)?,
        })
    })
}

/// Where a participant reads a conversation in the web UI.
pub(crate) fn conversation_url(
    settings: &Settings,
    kind: ParticipantType,
    conversation_id: i64,
) -> String {
    let base = settings.server.public_url.trim_end_matches('/');
    match kind {
        ParticipantType::Admin => format!("{base}/admin/messages/{conversation_id}"),
        ParticipantType::Store => format!("{base}/vendor/messages/{conversation_id}"),
        ParticipantType::Customer => format!("{base}/shop/account/messages/{conversation_id}"),
    }
}

/// The participant's unsubscribe token, created on first use (only then is the row written).
fn unsubscribe_token(conn: &Connection, participant_row: i64) -> rusqlite::Result<String> {
    let existing: Option<String> = conn
        .prepare_cached("SELECT unsubscribe_token FROM conversation_participants WHERE id = ?1")?
        .query_row([participant_row], |r| r.get(0))?;
    if let Some(token) = existing {
        return Ok(token);
    }
    let fresh = crate::auth::session::random_token();
    conn.prepare_cached(
        "UPDATE conversation_participants SET unsubscribe_token = ?2 WHERE id = ?1",
    )?
    .execute(params![participant_row, fresh])?;
    Ok(fresh)
}

/// Queues a `new_message` email for every other participant who wants one and has not had one
/// about this conversation within the window (for an internal note, no customer). Returns how
/// many were queued.
pub(crate) fn new_message(
    conn: &Connection,
    settings: &Settings,
    conversation_id: i64,
    sender: &Actor,
    sender_name: &str,
    preview: &str,
    internal: bool,
) -> rusqlite::Result<usize> {
    let facts = conversation_facts(conn, conversation_id)?;
    let window_start =
        Utc::now() - Duration::seconds(settings.email.notification_window_seconds as i64);
    let mut queued = 0;
    for r in recipients(conn, conversation_id, sender, internal)? {
        let recent: bool = conn
            .prepare_cached(
                "SELECT 1 FROM email_logs WHERE related_type = 'conversation' AND related_id = ?1
                   AND recipient_email = ?2 AND created_at > ?3 AND template_code = ?4 LIMIT 1",
            )?
            .query_row(
                params![conversation_id, r.email, window_start, NEW_MESSAGE],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if recent {
            continue;
        }
        let token = unsubscribe_token(conn, r.row_id)?;
        let base = settings.server.public_url.trim_end_matches('/');
        let variables = json!({
            "recipient_name": r.name,
            "sender_name": sender_name,
            "conversation_subject": facts.subject,
            "message_preview": preview,
            "conversation_url": conversation_url(settings, r.participant_type, conversation_id),
            "unsubscribe_url": format!("{base}/unsubscribe/{token}"),
            "store_name": facts.store_name,
            "platform_name": settings.email.from_name,
            "context_label": facts.context_label,
            "context_url": facts.context_url,
        });
        let queued_id = outbox::enqueue(
            conn,
            &settings.email,
            &NewEmail {
                template_code: NEW_MESSAGE,
                language: &r.language,
                recipient_email: &r.email,
                recipient_name: Some(&r.name),
                store_id: facts.store_id,
                user_id: r.user_id,
                related: Some(("conversation", conversation_id)),
                variables,
                extra: json!({
                    "participant": {"type": r.participant_type, "id": r.participant_id},
                    "unsubscribe_url": format!("{base}/unsubscribe/{token}"),
                }),
                delivery: Delivery::AtMostOnce,
                send_after: Duration::seconds(settings.email.notification_delay_seconds as i64),
            },
        )?;
        queued += usize::from(queued_id.is_some());
    }
    Ok(queued)
}

/// Queues `conversation_closed` for the other participants who get email.
pub(crate) fn conversation_closed(
    conn: &Connection,
    settings: &Settings,
    conversation_id: i64,
    closer: &Actor,
    closer_name: &str,
) -> rusqlite::Result<usize> {
    let facts = conversation_facts(conn, conversation_id)?;
    let mut queued = 0;
    for r in recipients(conn, conversation_id, closer, false)? {
        let variables = json!({
            "recipient_name": r.name,
            "conversation_subject": facts.subject,
            "closed_by_name": closer_name,
            "conversation_url": conversation_url(settings, r.participant_type, conversation_id),
            "store_name": facts.store_name,
            "platform_name": settings.email.from_name,
            "context_label": facts.context_label,
            "context_url": facts.context_url,
        });
        let queued_id = outbox::enqueue(
            conn,
            &settings.email,
            &NewEmail {
                template_code: CONVERSATION_CLOSED,
                language: &r.language,
                recipient_email: &r.email,
                recipient_name: Some(&r.name),
                store_id: facts.store_id,
                user_id: r.user_id,
                related: Some(("conversation", conversation_id)),
                variables,
                extra: json!({ "participant": {"type": r.participant_type, "id": r.participant_id} }),
                delivery: Delivery::AtMostOnce,
                send_after: Duration::zero(),
            },
        )?;
        queued += usize::from(queued_id.is_some());
    }
    Ok(queued)
}

/// Queues the welcome email for a customer who just registered.
pub(crate) fn signup_welcome(
    conn: &Connection,
    settings: &Settings,
    customer: &crate::accounts::Customer,
    store: &crate::accounts::Store,
) -> rusqlite::Result<()> {
    let base = settings.server.public_url.trim_end_matches('/');
    outbox::enqueue(
        conn,
        &settings.email,
        &NewEmail {
            template_code: SIGNUP_WELCOME,
            language: &customer.language,
            recipient_email: &customer.email,
            recipient_name: Some(&customer.full_name),
            store_id: Some(store.id),
            user_id: None,
            related: Some(("customer", customer.id)),
            variables: json!({
                "customer_name": customer.full_name,
                "store_name": store.name,
                "login_url": format!("{base}/shop/login?store={}", store.code),
                "platform_name": settings.email.from_name,
            }),
            extra: json!({}),
            delivery: Delivery::AtLeastOnce,
            send_after: Duration::zero(),
        },
    )?;
    Ok(())
}

/// Queues a password reset link. The link is a secret: the stored copy of the email loses it
/// (see `outbox::SECRET_VARIABLES`).
pub(crate) fn password_reset(
    conn: &Connection,
    settings: &Settings,
    email: &str,
    name: &str,
    language: &str,
    reset_url: &str,
    minutes: i64,
) -> rusqlite::Result<()> {
    outbox::enqueue(
        conn,
        &settings.email,
        &NewEmail {
            template_code: PASSWORD_RESET,
            language,
            recipient_email: email,
            recipient_name: Some(name),
            store_id: None,
            user_id: None,
            related: None,
            variables: json!({
                "recipient_name": name,
                "reset_url": reset_url,
                "expires_in_minutes": minutes,
                "platform_name": settings.email.from_name,
            }),
            extra: json!({}),
            delivery: Delivery::AtLeastOnce,
            send_after: Duration::zero(),
        },
    )?;
    Ok(())
}

/// Queues the link that checks a newly registered customer's address (a secret, like a reset).
pub(crate) fn email_verification(
    conn: &Connection,
    settings: &Settings,
    customer: &crate::accounts::Customer,
    verify_url: &str,
    hours: i64,
) -> rusqlite::Result<()> {
    let store_name: String = conn.query_row(
        "SELECT name FROM stores WHERE id = ?1",
        [customer.store_id],
        |r| r.get(0),
    )?;
    outbox::enqueue(
        conn,
        &settings.email,
        &NewEmail {
            template_code: EMAIL_VERIFICATION,
            language: &customer.language,
            recipient_email: &customer.email,
            recipient_name: Some(&customer.full_name),
            store_id: Some(customer.store_id),
            user_id: None,
            related: Some(("customer", customer.id)),
            variables: json!({
                "customer_name": customer.full_name,
                "store_name": store_name,
                "verify_url": verify_url,
                "expires_in_hours": hours,
                "platform_name": settings.email.from_name,
            }),
            extra: json!({}),
            delivery: Delivery::AtLeastOnce,
            send_after: Duration::zero(),
        },
    )?;
    Ok(())
}

/// Is a queued notification still wanted? The participant may have read the conversation since it
/// was queued, turned email off, muted it, or left.
pub(crate) fn still_wanted(conn: &Connection, email: &outbox::Claimed) -> Result<bool, EmailError> {
    let Some(participant) = email.extra.get("participant") else {
        return Ok(true);
    };
    let Some((_, conversation_id)) = email.related.as_ref().filter(|(t, _)| t == "conversation")
    else {
        return Ok(true);
    };
    let kind = participant
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_string();
    let id = participant
        .get("id")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_default();
    let row: Option<(bool, bool, Option<chrono::DateTime<Utc>>)> = conn
        .query_row(
            "SELECT email_notifications, muted, last_read_at FROM conversation_participants
             WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3",
            params![conversation_id, kind, id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => false,
        Some((notifications, muted, last_read)) => {
            let read_since = email.template_code.as_deref() == Some(NEW_MESSAGE)
                && last_read.is_some_and(|read| read > email.created_at);
            notifications && !muted && !read_since
        }
    })
}

/// Turns email off for the participant holding `token`; the conversation subject on success.
pub(crate) fn unsubscribe(conn: &Connection, token: &str) -> Result<String, EmailError> {
    conn.query_row(
        "UPDATE conversation_participants SET email_notifications = 0, updated_at = ?2
         WHERE unsubscribe_token = ?1
         RETURNING (SELECT subject FROM conversations WHERE id = conversation_id)",
        params![token, Utc::now()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(EmailError::NotFound)
}

/// The subject of the conversation a token unsubscribes from (for the confirmation page).
pub(crate) fn unsubscribe_subject(conn: &Connection, token: &str) -> Result<String, EmailError> {
    conn.query_row(
        "SELECT c.subject FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
         WHERE p.unsubscribe_token = ?1",
        [token],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(EmailError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_participant_keeps_one_unsubscribe_token() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
        conn.execute_batch(
            "INSERT INTO stores (id, code, name) VALUES (1, 's', 'S');
             INSERT INTO conversations (id, conversation_type, subject, store_id)
                 VALUES (1, 'store_customer', 'hello', 1);
             INSERT INTO conversation_participants (id, conversation_id, participant_type, participant_id, store_id)
                 VALUES (7, 1, 'customer', 1, 1);",
        )
        .unwrap();
        let first = unsubscribe_token(&conn, 7).unwrap();
        assert!(first.len() >= 32, "{first}");
        assert_eq!(unsubscribe_token(&conn, 7).unwrap(), first);
        let stored: String = conn
            .query_row(
                "SELECT unsubscribe_token FROM conversation_participants WHERE id = 7",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, first);
    }
}

//! The delivery step the scheduler repeats: claim due emails, render them (store templates in the
//! sandbox, falling back to the platform template), check a notification is still wanted, send,
//! and record the outcome.

use chrono::Duration;

pub(crate) use super::Context;
use super::mailer::Mailer;
use super::notify;
use super::outbox::{self, Claimed, Failure};
use super::render::Rendered;
use super::settings;
use super::smtp::{Outgoing, SendError};
use super::tracking;
use crate::domain::EmailStatus;
use crate::domain::{AlertKind, AlertPriority};
use crate::email::EmailError;

mod alerts;
mod route;

pub(crate) use self::alerts::bounce_rate_alert;
use self::alerts::exhausted_alert;
use route::{render_email, route};

const BATCH: u32 = 20;

/// Sends every due email, batch after batch, until none is left; answers how many it handled.
/// The scheduler runs it on every tick, and tests call it to deliver without waiting for one.
pub async fn deliver_all_due(ctx: &Context) -> Result<usize, EmailError> {
    let mut handled = 0;
    loop {
        match run_once(ctx).await? {
            0 => return Ok(handled),
            n => handled += n,
        }
    }
}

/// One pass: claims and handles up to a batch of due emails. Returns how many it handled.
pub(crate) async fn run_once(ctx: &Context) -> Result<usize, EmailError> {
    // A read first: an idle queue costs no write lock on every tick.
    if !ctx.db.read(outbox::any_due).await? {
        return Ok(0);
    }
    let lease = Duration::seconds(ctx.settings.email.smtp_timeout_seconds as i64 * 2 + 60);
    let claimed = ctx
        .db
        .write(move |tx| outbox::claim(tx, BATCH, lease))
        .await?;
    let count = claimed.len();
    for email in claimed {
        let id = email.id;
        if let Err(e) = deliver(ctx, email).await {
            tracing::error!(email_id = id, error = ?e, "email delivery step failed");
        }
    }
    Ok(count)
}

/// Marks `email` failed with no further attempt, for `why`.
async fn fail_for_good(ctx: &Context, email: &Claimed, why: String) -> Result<(), EmailError> {
    let (claimed, settings) = (email.clone(), ctx.settings.email.clone());
    ctx.db
        .write(move |tx| {
            outbox::mark_failed(tx, &settings, &claimed, "smtp", &why, Failure::Permanent)
        })
        .await?;
    Ok(())
}

async fn deliver(ctx: &Context, email: Claimed) -> Result<(), EmailError> {
    let settings = &ctx.settings.email;
    if email.interrupted && email.at_most_once {
        // The process died while this notification was being sent: the relay may have it.
        // Notifications are at most once, so it is not sent again.
        let why = "interrupted while sending; not re-sent (notifications are sent at most once)";
        return fail_for_good(ctx, &email, why.into()).await;
    }
    let check = email.clone();
    if !ctx
        .db
        .read(move |conn| notify::still_wanted(conn, &check))
        .await?
    {
        let id = email.id;
        ctx.db.write(move |tx| outbox::cancel(tx, id)).await?;
        tracing::debug!(email_id = id, "notification no longer wanted; dropped");
        return Ok(());
    }

    let rendered = if email.subject.is_empty() {
        match render_email(ctx, &email).await {
            Ok(rendered) => rendered,
            Err(reason) => return fail_for_good(ctx, &email, reason.to_string()).await,
        }
    } else {
        Rendered {
            subject: email.subject.clone(),
            body_html: email.body_html.clone().unwrap_or_default(),
            body_text: email.body_text.clone().unwrap_or_default(),
        }
    };

    let Some(route) = route(ctx, &email).await else {
        // No relay configured: keep the email queued, untouched, and look again later.
        let id = email.id;
        ctx.db
            .write(move |tx| outbox::release(tx, id, Duration::seconds(60)))
            .await?;
        return Ok(());
    };
    let mut html = rendered.body_html;
    let (opens, clicks) = route.tracking;
    // An email that carries a one-time link is not tracked: its links would be kept as redirect
    // targets, and the link is a secret.
    let carries_secret = outbox::SECRET_VARIABLES.iter().any(|name| {
        email
            .extra
            .get("variables")
            .and_then(|v| v.get(name))
            .is_some()
    });
    if matches!(route.mailer, Mailer::Smtp(_)) && (opens || clicks) && !carries_secret {
        let token = crate::auth::session::random_token();
        let base = ctx
            .settings
            .server
            .public_url
            .trim_end_matches('/')
            .to_string();
        let unsubscribe = email.extra.get("unsubscribe_url").and_then(|u| u.as_str());
        let (instrumented, links) =
            tracking::instrument(&html, &base, &token, opens, clicks, unsubscribe);
        html = instrumented;
        let id = email.id;
        ctx.db
            .write(move |tx| outbox::save_tracking(tx, id, &token, &links))
            .await?;
    }
    let outgoing = Outgoing {
        from_email: route.from_email.clone(),
        from_name: route.from_name.clone(),
        to_email: email.recipient_email.clone(),
        to_name: email.recipient_name.clone(),
        reply_to: route.reply_to.clone().or_else(|| email.reply_to.clone()),
        subject: rendered.subject,
        html,
        text: rendered.body_text,
        message_id: email.message_id.clone(),
        unsubscribe_url: email
            .extra
            .get("unsubscribe_url")
            .and_then(|u| u.as_str())
            .map(str::to_string),
    };
    let result = route.mailer.send(&outgoing, email.id).await;
    let provider = route.mailer.provider().as_str();
    let own_store = route.own_store;
    let settings = settings.clone();
    ctx
        .db
        .write(move |tx| {
            let cause = own_store.map_or("platform".to_string(), |s| format!("store:{s}"));
            match result {
                Ok(provider_id) => outbox::mark_sent(tx, email.id, provider, &provider_id),
                Err(SendError::Transient(message)) => {
                    let status = outbox::mark_failed(tx, &settings, &email, provider, &message, Failure::Transient)?;
                    tracing::warn!(email_id = email.id, status = status.as_str(), "email attempt failed; {message}");
                    if status == EmailStatus::Failed {
                        exhausted_alert(tx, &email, &cause, &message)?;
                    }
                    Ok(())
                }
                Err(SendError::Auth(message)) => {
                    // Wrong credentials: stop using them (the store's mail falls back to the
                    // platform's sender until it verifies again), tell the admins, retry.
                    if let Some(store_id) = own_store {
                        settings::record_verification(tx, store_id, Some("the mail server refused the credentials"))?;
                    }
                    crate::alerts::raise(
                        tx,
                        &crate::alerts::Alert {
                            notification_type: if own_store.is_some() { AlertKind::StoreIssue } else { AlertKind::SystemAlert },
                            priority: AlertPriority::High,
                            title: "Email credentials refused",
                            message: &format!("The {provider} relay for {cause} refused the credentials: {message}"),
                            action_required: true,
                            action_url: None,
                            metadata: serde_json::json!({ "store_id": own_store, "provider": provider }),
                            dedup_key: &format!("email_auth:{cause}"),
                        },
                    )?;
                    let status = outbox::mark_failed(tx, &settings, &email, provider, &message, Failure::Transient)?;
                    if status == EmailStatus::Failed {
                        exhausted_alert(tx, &email, &cause, &message)?;
                    }
                    Ok(())
                }
                Err(SendError::Permanent { message, bounce }) => {
                    let failure = if bounce { Failure::Bounce } else { Failure::Permanent };
                    outbox::mark_failed(tx, &settings, &email, provider, &message, failure)?;
                    if bounce {
                        outbox::suppress(tx, email.store_id, &email.recipient_email, "hard bounce")?;
                        if let Some(store_id) = email.store_id {
                            bounce_rate_alert(tx, store_id)?;
                        }
                    }
                    tracing::warn!(email_id = email.id, bounce, "email refused by the relay; {message}");
                    Ok(())
                }
            }
        })
        .await
}

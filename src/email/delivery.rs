//! The delivery step the scheduler repeats: claim due emails, render them (store templates in the
//! sandbox, falling back to the platform template), check a notification is still wanted, send,
//! and record the outcome.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Duration;

use super::mailer::{Mailer, store_mailer};
use super::notify;
use super::outbox::{self, Claimed, Failure};
use super::render::{self, Rendered};
use super::settings;
use super::smtp::{Outgoing, SendError, SmtpRelay};
use super::templates::{self, Layer};
use super::tracking;
use crate::alerts;
use crate::config::Settings;
use crate::crypto::SecretKey;
use crate::db::Db;
use crate::domain::EmailStatus;
use crate::domain::{AlertKind, AlertPriority};
use crate::error::AppError;

const BATCH: u32 = 20;

/// What the delivery step needs, and nothing of the web.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Opens the stores' sealed provider credentials.
    pub key: SecretKey,
    /// The HTTP client of the API providers.
    pub http: reqwest::Client,
    /// The platform's SMTP relay; None when `email.smtp_host` is empty.
    pub mailer: Option<SmtpRelay>,
    /// The executable that renders store templates in a sandbox.
    pub sandbox_exe: PathBuf,
}

/// Sends every due email, batch after batch, until none is left; answers how many it handled.
/// The scheduler runs it on every tick, and tests call it to deliver without waiting for one.
pub(crate) async fn deliver_all_due(ctx: &Context) -> Result<usize, AppError> {
    let mut handled = 0;
    loop {
        match run_once(ctx).await? {
            0 => return Ok(handled),
            n => handled += n,
        }
    }
}

/// One pass: claims and handles up to a batch of due emails. Returns how many it handled.
pub(crate) async fn run_once(ctx: &Context) -> Result<usize, AppError> {
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

async fn deliver(ctx: &Context, email: Claimed) -> Result<(), AppError> {
    let settings = &ctx.settings.email;
    if email.interrupted && email.at_most_once {
        // The process died while this notification was being sent: the relay may have it.
        // Notifications are at most once, so it is not sent again.
        let claimed = email.clone();
        let settings = settings.clone();
        ctx.db
            .write(move |tx| {
                outbox::mark_failed(
                    tx,
                    &settings,
                    &claimed,
                    "smtp",
                    "interrupted while sending; not re-sent (notifications are sent at most once)",
                    Failure::Permanent,
                )
            })
            .await?;
        return Ok(());
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
            Err(reason) => {
                let (claimed, settings) = (email.clone(), settings.clone());
                ctx.db
                    .write(move |tx| {
                        outbox::mark_failed(
                            tx,
                            &settings,
                            &claimed,
                            "smtp",
                            &reason,
                            Failure::Permanent,
                        )
                    })
                    .await?;
                return Ok(());
            }
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
    if matches!(route.mailer, Mailer::Smtp(_)) && (opens || clicks) {
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
                    alerts::raise(
                        tx,
                        &alerts::Alert {
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

/// Share of bounced emails over which a store gets an alert (at least 20 emails in 7 days).
const BOUNCE_ALERT_RATE: f64 = 0.05;
const BOUNCE_ALERT_MINIMUM: i64 = 20;

/// Raises (or refreshes) the store's bounce-rate alert when its rate passes the threshold.
pub(crate) fn bounce_rate_alert(tx: &rusqlite::Connection, store_id: i64) -> Result<(), AppError> {
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
fn exhausted_alert(
    tx: &rusqlite::Connection,
    email: &Claimed,
    cause: &str,
    message: &str,
) -> Result<(), AppError> {
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

/// The way an email leaves and the sender it shows.
struct Route {
    mailer: Mailer,
    from_email: String,
    from_name: Option<String>,
    reply_to: Option<String>,
    /// Set when the store's own provider is used.
    own_store: Option<i64>,
    /// The store's open and click tracking (SMTP only).
    tracking: (bool, bool),
}

/// The store's own provider when usable; the platform's relay (and sender) otherwise. None when
/// neither can send.
async fn route(ctx: &Context, email: &Claimed) -> Option<Route> {
    let mut tracking = (false, false);
    if let Some(store_id) = email.store_id {
        match ctx
            .db
            .read(move |conn| settings::load(conn, store_id))
            .await
        {
            Ok(store) => {
                tracking = (store.track_opens, store.track_clicks);
                if store.usable() {
                    match store_mailer(&store, &ctx.key, &ctx.settings.email, &ctx.http).await {
                        Ok(mailer) => {
                            return Some(Route {
                                mailer,
                                from_email: store.from_email.clone(),
                                from_name: Some(store.from_name.clone()),
                                reply_to: store.reply_to_email.clone(),
                                own_store: Some(store_id),
                                tracking,
                            });
                        }
                        Err(why) => tracing::warn!(
                            store_id,
                            "store mailer unavailable, using the platform's: {why}"
                        ),
                    }
                }
            }
            Err(e) => tracing::error!(store_id, error = ?e, "cannot load store email settings"),
        }
    }
    ctx.mailer.clone().map(|relay| Route {
        mailer: Mailer::Smtp(relay),
        from_email: email.from_email.clone(),
        from_name: email.from_name.clone(),
        reply_to: None,
        own_store: None,
        tracking,
    })
}

/// Renders an email's template with its variables and saves the snapshot. A store template that
/// fails (refused, too slow, too large, missing variable) falls back to the platform template, and
/// the reason is recorded on the email.
async fn render_email(ctx: &Context, email: &Claimed) -> Result<Rendered, String> {
    let code = email
        .template_code
        .clone()
        .ok_or("the email has no template")?;
    let (store_id, language) = (email.store_id, email.language.clone());
    let lookup = {
        let code = code.clone();
        ctx.db
            .read(move |conn| {
                Ok::<_, AppError>((
                    templates::resolve(conn, &code, store_id, &language)?,
                    templates::resolve_platform(conn, &code, &language)?,
                ))
            })
            .await
    };
    let (chosen, platform) = lookup.map_err(|e| format!("template lookup failed: {e}"))?;
    let chosen = chosen.ok_or_else(|| format!("no active template `{code}`"))?;
    let variables = email.variables();
    let mut extra = email.extra.clone();

    let rendered = match chosen.layer {
        Layer::Store => {
            let exe = ctx.sandbox_exe.clone();
            match render::render_untrusted(
                &exe,
                &chosen.source,
                &variables,
                &chosen.variables.required,
                &chosen.variables.variables,
            )
            .await
            {
                Ok(rendered) => (rendered, None),
                Err(reason) => {
                    tracing::warn!(
                        email_id = email.id,
                        store_id,
                        "store template failed, using the platform's: {reason}"
                    );
                    if let serde_json::Value::Object(map) = &mut extra {
                        map.insert(
                            "store_template_error".into(),
                            serde_json::Value::String(reason),
                        );
                    }
                    let platform = platform.ok_or("no platform template to fall back to")?;
                    (
                        render_trusted(&platform.source, &variables, &platform.variables.required)
                            .await?,
                        platform.template_id,
                    )
                }
            }
        }
        Layer::Platform => (
            render_trusted(&chosen.source, &variables, &chosen.variables.required).await?,
            chosen.template_id,
        ),
    };
    let ((rendered, template_id), id) = (rendered, email.id);
    let snapshot = rendered.clone();
    ctx.db
        .write(move |tx| {
            outbox::save_rendered(
                tx,
                id,
                template_id,
                &snapshot.subject,
                &snapshot.body_html,
                &snapshot.body_text,
                &extra,
            )
        })
        .await
        .map_err(|e| format!("saving the rendered email failed: {e}"))?;
    Ok(rendered)
}

async fn render_trusted(
    source: &render::TemplateSource,
    variables: &serde_json::Value,
    required: &[String],
) -> Result<Rendered, String> {
    let (source, variables, required) = (source.clone(), variables.clone(), required.to_vec());
    tokio::task::spawn_blocking(move || render::render(&source, &variables, &required))
        .await
        .map_err(|e| e.to_string())?
}

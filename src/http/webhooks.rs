//! Provider webhooks (`/api/v1/webhooks/email/{sendgrid,mailgun}`) and the SMTP open pixel and
//! click redirect (`/t/o/…`, `/t/c/…`). Events move emails forward only; each request is checked
//! with the store's own signing key before anything changes.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use rusqlite::OptionalExtension;

use crate::domain::EmailProvider;
use crate::email::delivery::bounce_rate_alert;
use crate::email::outbox::{self, DeliveryEvent};
use crate::email::{settings, sns, tracking, webhooks};
use crate::error::AppError;
use crate::state::AppState;

/// The store of an email sent through `provider`.
fn email_store(
    conn: &rusqlite::Connection,
    id: i64,
    provider: EmailProvider,
) -> Result<Option<i64>, AppError> {
    Ok(conn
        .query_row(
            "SELECT store_id FROM email_logs WHERE id = ?1 AND provider = ?2 AND store_id IS NOT NULL",
            rusqlite::params![id, provider],
            |r| r.get(0),
        )
        .optional()?)
}

/// Records the events that belong to `store_id`; returns how many changed an email.
async fn apply(
    state: &AppState,
    store_id: i64,
    provider: EmailProvider,
    events: Vec<webhooks::ProviderEvent>,
) -> Result<usize, AppError> {
    state
        .db
        .write(move |tx| {
            let mut applied = 0;
            for e in events {
                let (Some(id), Some(event)) = (e.email_log_id, e.event) else {
                    continue;
                };
                if email_store(tx, id, provider)? != Some(store_id) {
                    continue;
                }
                if outbox::record_event(tx, id, event, e.at)?.is_some() {
                    applied += 1;
                    if event == DeliveryEvent::Bounced {
                        bounce_rate_alert(tx, store_id)?;
                    }
                }
            }
            Ok::<_, AppError>(applied)
        })
        .await
}

fn refused() -> AppError {
    AppError::Unauthorized("the webhook signature is missing, stale or wrong")
}

pub(crate) async fn sendgrid(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let header_value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signature = header_value("X-Twilio-Email-Event-Webhook-Signature").ok_or_else(refused)?;
    let timestamp = header_value("X-Twilio-Email-Event-Webhook-Timestamp").ok_or_else(refused)?;
    webhooks::fresh(&timestamp, state.settings.email.webhook_max_age_seconds)
        .ok_or_else(refused)?;
    let events = webhooks::parse_sendgrid(&body).map_err(|message| AppError::BadRequest {
        code: "invalid_body",
        message,
    })?;
    // The events of one request come from one SendGrid account: the store of the first email we
    // know, whose key must verify the request.
    let ids: Vec<i64> = events.iter().filter_map(|e| e.email_log_id).collect();
    let store = state
        .db
        .read(move |conn| {
            for id in ids {
                if let Some(store_id) = email_store(conn, id, EmailProvider::Sendgrid)? {
                    return Ok::<_, AppError>(Some(settings::load(conn, store_id)?));
                }
            }
            Ok(None)
        })
        .await?;
    let Some(store) = store else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": 0 })));
    };
    let key = store
        .sendgrid_webhook_public_key
        .as_deref()
        .ok_or_else(refused)?;
    if !webhooks::verify_sendgrid(key, &signature, &timestamp, &body) {
        return Err(refused());
    }
    let processed = apply(&state, store.store_id, EmailProvider::Sendgrid, events).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": processed })))
}

pub(crate) async fn mailgun(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (signature, event) =
        webhooks::parse_mailgun(&body).map_err(|message| AppError::BadRequest {
            code: "invalid_body",
            message,
        })?;
    webhooks::fresh(
        &signature.timestamp,
        state.settings.email.webhook_max_age_seconds,
    )
    .ok_or_else(refused)?;
    let Some(id) = event.email_log_id else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": 0 })));
    };
    let store = state
        .db
        .read(
            move |conn| match email_store(conn, id, EmailProvider::Mailgun)? {
                Some(store_id) => Ok::<_, AppError>(Some(settings::load(conn, store_id)?)),
                None => Ok(None),
            },
        )
        .await?;
    let Some(store) = store else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": 0 })));
    };
    let key = store
        .secret(&state.key, "mailgun_webhook_signing_key")
        .ok_or_else(refused)?;
    if !webhooks::verify_mailgun(
        &key,
        &signature.timestamp,
        &signature.token,
        &signature.signature,
    ) {
        return Err(refused());
    }
    let processed = apply(&state, store.store_id, EmailProvider::Mailgun, vec![event]).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": processed })))
}

/// SES events through Amazon SNS: the message must carry a valid SNS signature and come from the
/// topic a store named; subscription confirmations for such a topic are confirmed.
pub(crate) async fn ses(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let message: sns::SnsMessage =
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest {
            code: "invalid_body",
            message: e.to_string(),
        })?;
    let prefix = state.settings.email.sns_trusted_url_prefix.clone();
    if !sns::trusted_sns_url(&message.signing_cert_url, &prefix) {
        return Err(refused());
    }
    let certificate = sns_certificate(&state, &message.signing_cert_url)
        .await
        .ok_or_else(refused)?;
    if !sns::verify(&message, &certificate) {
        return Err(refused());
    }
    let topic = message.topic_arn.clone();
    let store_id: Option<i64> = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>(
                conn.query_row(
                    "SELECT store_id FROM store_email_settings WHERE ses_sns_topic_arn = ?1",
                    [topic],
                    |r| r.get(0),
                )
                .optional()?,
            )
        })
        .await?;
    let Some(store_id) = store_id else {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": 0 })));
    };
    match message.message_type.as_str() {
        "SubscriptionConfirmation" => {
            let url = message.subscribe_url.clone().unwrap_or_default();
            if !sns::trusted_sns_url(&url, &prefix) {
                return Err(refused());
            }
            let confirmed = state
                .http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            tracing::info!(store_id, confirmed, "SNS subscription confirmation");
            Ok(HttpResponse::Ok().json(serde_json::json!({ "confirmed": confirmed })))
        }
        "Notification" => {
            let Some((mut event, message_id)) = sns::ses_event(&message.message) else {
                return Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": 0 })));
            };
            if event.email_log_id.is_none()
                && let Some(message_id) = message_id
            {
                event.email_log_id = state
                    .db
                    .read(move |conn| {
                        Ok::<Option<i64>, AppError>(
                            conn.query_row(
                                "SELECT id FROM email_logs WHERE provider = 'ses' AND provider_message_id = ?1",
                                [message_id],
                                |r| r.get(0),
                            )
                            .optional()?,
                        )
                    })
                    .await?;
            }
            let processed = apply(&state, store_id, EmailProvider::Ses, vec![event]).await?;
            Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": processed })))
        }
        _ => Ok(HttpResponse::Ok().json(serde_json::json!({ "processed": 0 }))),
    }
}

/// The PEM certificate at a trusted SNS URL, fetched once and cached.
async fn sns_certificate(state: &AppState, url: &str) -> Option<String> {
    if let Some(pem) = state.sns_certificates.lock().ok()?.get(url) {
        return Some(pem.clone());
    }
    let response = state.http.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let pem = response.text().await.ok()?;
    if pem.len() > 16 * 1024 {
        return None;
    }
    state
        .sns_certificates
        .lock()
        .ok()?
        .insert(url.to_string(), pem.clone());
    Some(pem)
}

/// The open pixel: records the open (once, forward only) and answers a 1×1 GIF.
pub(crate) async fn open_pixel(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let found = state
        .db
        .read(move |conn| outbox::tracked(conn, &token, None))
        .await;
    if let Ok((id, _)) = found {
        state
            .db
            .write(move |tx| outbox::record_event(tx, id, DeliveryEvent::Opened, Utc::now()))
            .await?;
    }
    // The same pixel whether the token is known or not.
    Ok(HttpResponse::Ok()
        .content_type("image/gif")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(tracking::PIXEL))
}

/// The click redirect: only to the n-th link of that very email.
pub(crate) async fn click(
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, AppError> {
    let (token, n) = path.into_inner();
    let (id, link) = state
        .db
        .read(move |conn| outbox::tracked(conn, &token, Some(n)))
        .await?;
    let link = link.ok_or(AppError::NotFound)?;
    state
        .db
        .write(move |tx| outbox::record_event(tx, id, DeliveryEvent::Clicked, Utc::now()))
        .await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, link))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

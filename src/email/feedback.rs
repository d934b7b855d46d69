//! What providers report back about sent emails: SendGrid and Mailgun webhooks and SES events
//! through Amazon SNS. Each report is checked against the signing key (or the SNS topic) of the
//! store whose email it names before anything changes, and events only move emails forward.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::delivery::bounce_rate_alert;
use super::outbox::{self, DeliveryEvent};
use super::webhooks::{self, ProviderEvent};
use super::{Context, EmailError, settings, sns};
use crate::domain::EmailProvider;

/// Signing certificates of SNS, by URL, fetched once.
pub(crate) type SnsCertificates = Arc<Mutex<HashMap<String, String>>>;

/// The answer to a provider.
#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Received {
    /// How many events changed an email.
    Processed(usize),
    /// An SNS subscription for a store's topic, and whether confirming it worked.
    Confirmed(bool),
}

/// SendGrid's signed event batch. The events of one request come from one SendGrid account: the
/// store of the first email we know, whose key must verify the request.
pub(crate) async fn receive_sendgrid(
    ctx: &Context,
    signature: Option<String>,
    timestamp: Option<String>,
    body: Vec<u8>,
) -> Result<Received, EmailError> {
    let (signature, timestamp) = signature.zip(timestamp).ok_or(EmailError::BadSignature)?;
    webhooks::fresh(&timestamp, ctx.settings.email.webhook_max_age_seconds)
        .ok_or(EmailError::BadSignature)?;
    let events = webhooks::parse_sendgrid(&body)?;
    let ids: Vec<i64> = events.iter().filter_map(|e| e.email_log_id).collect();
    let store = ctx
        .db
        .read(move |conn| {
            for id in ids {
                if let Some(store_id) = outbox::store_of(conn, id, EmailProvider::Sendgrid)? {
                    return Ok::<_, EmailError>(Some(settings::load(conn, store_id)?));
                }
            }
            Ok(None)
        })
        .await?;
    let Some(store) = store else {
        return Ok(Received::Processed(0));
    };
    let key = store.sendgrid_webhook_public_key.as_deref();
    if !key.is_some_and(|key| webhooks::verify_sendgrid(key, &signature, &timestamp, &body)) {
        return Err(EmailError::BadSignature);
    }
    apply(ctx, store.store_id, EmailProvider::Sendgrid, events).await
}

/// One Mailgun event with its signature block, checked with the store's signing key.
pub(crate) async fn receive_mailgun(ctx: &Context, body: Vec<u8>) -> Result<Received, EmailError> {
    let (signature, event) = webhooks::parse_mailgun(&body)?;
    webhooks::fresh(
        &signature.timestamp,
        ctx.settings.email.webhook_max_age_seconds,
    )
    .ok_or(EmailError::BadSignature)?;
    let Some(id) = event.email_log_id else {
        return Ok(Received::Processed(0));
    };
    let store = ctx
        .db
        .read(
            move |conn| match outbox::store_of(conn, id, EmailProvider::Mailgun)? {
                Some(store_id) => Ok::<_, EmailError>(Some(settings::load(conn, store_id)?)),
                None => Ok(None),
            },
        )
        .await?;
    let Some(store) = store else {
        return Ok(Received::Processed(0));
    };
    let key = store.secret(&ctx.key, "mailgun_webhook_signing_key");
    let signed = key.is_some_and(|key| {
        webhooks::verify_mailgun(
            &key,
            &signature.timestamp,
            &signature.token,
            &signature.signature,
        )
    });
    if !signed {
        return Err(EmailError::BadSignature);
    }
    apply(ctx, store.store_id, EmailProvider::Mailgun, vec![event]).await
}

/// An SNS message: it must carry a valid SNS signature and come from the topic a store named.
/// Subscription confirmations for such a topic are confirmed; notifications carry SES events.
pub(crate) async fn receive_ses(ctx: &Context, body: Vec<u8>) -> Result<Received, EmailError> {
    let message: sns::SnsMessage =
        serde_json::from_slice(&body).map_err(|e| EmailError::Refused {
            code: "invalid_body",
            message: e.to_string(),
        })?;
    let prefix = ctx.settings.email.sns_trusted_url_prefix.clone();
    if !sns::trusted_sns_url(&message.signing_cert_url, &prefix) {
        return Err(EmailError::BadSignature);
    }
    let certificate = sns_certificate(ctx, &message.signing_cert_url)
        .await
        .ok_or(EmailError::BadSignature)?;
    if !sns::verify(&message, &certificate) {
        return Err(EmailError::BadSignature);
    }
    let topic = message.topic_arn.clone();
    let store_id = ctx
        .db
        .read(move |conn| settings::store_by_sns_topic(conn, &topic))
        .await?;
    let Some(store_id) = store_id else {
        return Ok(Received::Processed(0));
    };
    match message.message_type.as_str() {
        "SubscriptionConfirmation" => {
            let url = message.subscribe_url.clone().unwrap_or_default();
            if !sns::trusted_sns_url(&url, &prefix) {
                return Err(EmailError::BadSignature);
            }
            let response = ctx.http.get(&url).send().await;
            let confirmed = response.is_ok_and(|r| r.status().is_success());
            tracing::info!(store_id, confirmed, "SNS subscription confirmation");
            Ok(Received::Confirmed(confirmed))
        }
        "Notification" => {
            let Some((mut event, message_id)) = sns::ses_event(&message.message) else {
                return Ok(Received::Processed(0));
            };
            if event.email_log_id.is_none()
                && let Some(message_id) = message_id
            {
                event.email_log_id = ctx
                    .db
                    .read(move |conn| {
                        outbox::by_provider_message_id(conn, EmailProvider::Ses, &message_id)
                    })
                    .await?;
            }
            apply(ctx, store_id, EmailProvider::Ses, vec![event]).await
        }
        _ => Ok(Received::Processed(0)),
    }
}

/// Records the events that belong to `store_id`; answers how many changed an email.
async fn apply(
    ctx: &Context,
    store_id: i64,
    provider: EmailProvider,
    events: Vec<ProviderEvent>,
) -> Result<Received, EmailError> {
    let applied = ctx
        .db
        .write(move |tx| {
            let mut applied = 0;
            for e in events {
                let (Some(id), Some(event)) = (e.email_log_id, e.event) else {
                    continue;
                };
                if outbox::store_of(tx, id, provider)? != Some(store_id) {
                    continue;
                }
                if outbox::record_event(tx, id, event, e.at)?.is_some() {
                    applied += 1;
                    if event == DeliveryEvent::Bounced {
                        bounce_rate_alert(tx, store_id)?;
                    }
                }
            }
            Ok::<_, EmailError>(applied)
        })
        .await?;
    Ok(Received::Processed(applied))
}

/// The PEM certificate at a trusted SNS URL, fetched once and cached.
async fn sns_certificate(ctx: &Context, url: &str) -> Option<String> {
    if let Some(pem) = ctx.sns_certificates.lock().ok()?.get(url) {
        return Some(pem.clone());
    }
    let response = ctx.http.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let pem = response.text().await.ok()?;
    if pem.len() > 16 * 1024 {
        return None;
    }
    ctx.sns_certificates
        .lock()
        .ok()?
        .insert(url.to_string(), pem.clone());
    Some(pem)
}

//! Provider delivery events: signature checks and parsing. SendGrid signs its event webhook with
//! ECDSA P-256 over timestamp ‖ body (the store gives us SendGrid's public verification key);
//! Mailgun signs timestamp ‖ token with HMAC-SHA256 under the store's webhook signing key. Events
//! older than the configured age are refused, so a captured request cannot be replayed later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::Sha256;

use super::EmailError;
use super::outbox::DeliveryEvent;
use crate::domain::Invalid;

/// Parses SendGrid's verification key (base64 of the DER public key).
pub(crate) fn sendgrid_key(base64_der: &str) -> Result<VerifyingKey, Invalid> {
    let field = "sendgrid_webhook_public_key";
    let der = STANDARD
        .decode(base64_der)
        .map_err(|_| Invalid::new(field, "must be base64"))?;
    VerifyingKey::from_public_key_der(&der)
        .map_err(|_| Invalid::new(field, "must be an ECDSA P-256 public key (DER, base64)"))
}

fn invalid_body(message: String) -> EmailError {
    EmailError::Refused {
        code: "invalid_body",
        message,
    }
}

pub(crate) fn verify_sendgrid(
    key_base64: &str,
    signature_base64: &str,
    timestamp: &str,
    body: &[u8],
) -> bool {
    let Ok(key) = sendgrid_key(key_base64) else {
        return false;
    };
    let Ok(der) = STANDARD.decode(signature_base64.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_der(&der) else {
        return false;
    };
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(body);
    key.verify(&signed, &signature).is_ok()
}

pub(crate) fn verify_mailgun(
    signing_key: &str,
    timestamp: &str,
    token: &str,
    signature_hex: &str,
) -> bool {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_key.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    let Ok(signature) = hex::decode(signature_hex) else {
        return false;
    };
    mac.verify_slice(&signature).is_ok()
}

/// A Unix timestamp no older (and no further in the future) than `max_age` seconds.
pub(crate) fn fresh(timestamp: &str, max_age: i64) -> Option<DateTime<Utc>> {
    let at = Utc
        .timestamp_opt(timestamp.trim().parse().ok()?, 0)
        .single()?;
    ((Utc::now() - at).num_seconds().abs() <= max_age).then_some(at)
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProviderEvent {
    pub email_log_id: Option<i64>,
    pub event: Option<DeliveryEvent>,
    pub at: DateTime<Utc>,
}

fn log_id(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// SendGrid posts a JSON array of events; our `email_log_id` custom argument comes back on each.
pub(crate) fn parse_sendgrid(body: &[u8]) -> Result<Vec<ProviderEvent>, EmailError> {
    let events: Vec<Value> = serde_json::from_slice(body)
        .map_err(|e| invalid_body(format!("not a SendGrid event list: {e}")))?;
    Ok(events
        .iter()
        .map(|e| ProviderEvent {
            email_log_id: log_id(&e["email_log_id"]),
            event: match e["event"].as_str() {
                Some("delivered") => Some(DeliveryEvent::Delivered),
                Some("open") => Some(DeliveryEvent::Opened),
                Some("click") => Some(DeliveryEvent::Clicked),
                // "bounce" with type "blocked" is a temporary refusal, not a hard bounce.
                Some("bounce") if e["type"].as_str() != Some("blocked") => {
                    Some(DeliveryEvent::Bounced)
                }
                _ => None,
            },
            at: e["timestamp"]
                .as_i64()
                .and_then(|t| Utc.timestamp_opt(t, 0).single())
                .unwrap_or_else(Utc::now),
        })
        .collect())
}

pub(crate) struct MailgunSignature {
    pub timestamp: String,
    pub token: String,
    pub signature: String,
}

/// Mailgun posts one JSON event with its signature block.
pub(crate) fn parse_mailgun(body: &[u8]) -> Result<(MailgunSignature, ProviderEvent), EmailError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| invalid_body(format!("not a Mailgun event: {e}")))?;
    let field = |name: &str| {
        v["signature"][name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| invalid_body(format!("signature.{name} is missing")))
    };
    let signature = MailgunSignature {
        timestamp: field("timestamp")?,
        token: field("token")?,
        signature: field("signature")?,
    };
    let data = &v["event-data"];
    let event = ProviderEvent {
        email_log_id: log_id(&data["user-variables"]["email_log_id"]),
        event: match (data["event"].as_str(), data["severity"].as_str()) {
            (Some("delivered"), _) => Some(DeliveryEvent::Delivered),
            (Some("opened"), _) => Some(DeliveryEvent::Opened),
            (Some("clicked"), _) => Some(DeliveryEvent::Clicked),
            (Some("failed"), Some("permanent")) => Some(DeliveryEvent::Bounced),
            _ => None,
        },
        at: data["timestamp"]
            .as_f64()
            .and_then(|t| Utc.timestamp_opt(t as i64, 0).single())
            .unwrap_or_else(Utc::now),
    };
    Ok((signature, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailgun_signatures_are_checked() {
        let key = "key-abc";
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(b"1700000000token123");
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(verify_mailgun(key, "1700000000", "token123", &good));
        assert!(!verify_mailgun(key, "1700000001", "token123", &good));
        assert!(!verify_mailgun("other", "1700000000", "token123", &good));
        assert!(!verify_mailgun(key, "1700000000", "token123", "zz"));
    }

    #[test]
    fn old_timestamps_are_stale() {
        assert!(fresh(&Utc::now().timestamp().to_string(), 600).is_some());
        assert!(fresh("1000000000", 600).is_none());
        assert!(fresh("soon", 600).is_none());
    }
}

//! Amazon SNS messages carrying SES events: the signature (SignatureVersion 1: SHA1withRSA, 2:
//! SHA256withRSA) is checked with the certificate at `SigningCertURL`, which must be an SNS
//! address on amazonaws.com (or the configured test prefix); certificates are cached.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{self as ring_signature, UnparsedPublicKey};
use serde::Deserialize;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

use super::outbox::DeliveryEvent;
use super::webhooks::ProviderEvent;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub message_type: String,
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    #[serde(rename = "SubscribeURL")]
    pub subscribe_url: Option<String>,
    pub token: Option<String>,
}

/// The canonical text SNS signs, per message type.
pub fn string_to_sign(m: &SnsMessage) -> String {
    let mut fields: Vec<(&str, &str)> = vec![("Message", &m.message), ("MessageId", &m.message_id)];
    if m.message_type == "Notification" {
        if let Some(subject) = &m.subject {
            fields.push(("Subject", subject));
        }
    } else {
        fields.push((
            "SubscribeURL",
            m.subscribe_url.as_deref().unwrap_or_default(),
        ));
    }
    fields.push(("Timestamp", &m.timestamp));
    if m.message_type != "Notification" {
        fields.push(("Token", m.token.as_deref().unwrap_or_default()));
    }
    fields.push(("TopicArn", &m.topic_arn));
    fields.push(("Type", &m.message_type));
    fields.iter().map(|(k, v)| format!("{k}\n{v}\n")).collect()
}

/// Is `url` an SNS address we may fetch a certificate (or a subscription confirmation) from?
/// `prefix` replaces the amazonaws.com rule when set (tests).
pub(crate) fn trusted_sns_url(url: &str, prefix: &str) -> bool {
    if !prefix.is_empty() {
        return url.starts_with(prefix);
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    parsed.scheme() == "https"
        && parsed.port().is_none()
        && labels.len() == 4
        && labels[0] == "sns"
        && labels[1]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && labels[2] == "amazonaws"
        && labels[3] == "com"
}

/// Checks the message's signature with the PEM certificate (RSA PKCS#1 v1.5, by ring).
pub(crate) fn verify(m: &SnsMessage, certificate_pem: &str) -> bool {
    let Ok(cert) = Certificate::from_pem(certificate_pem) else {
        return false;
    };
    // The subject's key as PKCS#1 `RSAPublicKey` DER, which is what ring reads.
    let Some(key) = cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
    else {
        return false;
    };
    let Ok(signature) = STANDARD.decode(&m.signature) else {
        return false;
    };
    let algorithm = match m.signature_version.as_str() {
        "1" => &ring_signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        "2" => &ring_signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return false,
    };
    UnparsedPublicKey::new(algorithm, key)
        .verify(string_to_sign(m).as_bytes(), &signature)
        .is_ok()
}

/// The SES event inside a notification (event publishing `eventType`, or the older
/// `notificationType`), with the email it is about.
pub(crate) fn ses_event(message: &str) -> Option<(ProviderEvent, Option<String>)> {
    let v: serde_json::Value = serde_json::from_str(message).ok()?;
    let kind = v["eventType"]
        .as_str()
        .or_else(|| v["notificationType"].as_str())?;
    let event = match kind {
        "Delivery" => Some(DeliveryEvent::Delivered),
        "Open" => Some(DeliveryEvent::Opened),
        "Click" => Some(DeliveryEvent::Clicked),
        "Bounce" if v["bounce"]["bounceType"] == "Permanent" => Some(DeliveryEvent::Bounced),
        _ => None,
    };
    let email_log_id = v["mail"]["tags"]["email_log_id"][0]
        .as_str()
        .and_then(|s| s.parse().ok());
    let message_id = v["mail"]["messageId"].as_str().map(str::to_string);
    Some((
        ProviderEvent {
            email_log_id,
            event,
            at: chrono::Utc::now(),
        },
        message_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sns_hosts_on_amazonaws_are_trusted() {
        assert!(trusted_sns_url(
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            ""
        ));
        for bad in [
            "http://sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com.evil.test/x.pem",
            "https://evil.test/sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com:8443/x.pem",
            "https://s3.amazonaws.com/x.pem",
        ] {
            assert!(!trusted_sns_url(bad, ""), "{bad}");
        }
        assert!(trusted_sns_url(
            "http://127.0.0.1:9/cert.pem",
            "http://127.0.0.1:9/"
        ));
    }

    #[test]
    fn the_signed_text_follows_the_message_type() {
        let m = SnsMessage {
            message_type: "Notification".into(),
            message_id: "id".into(),
            topic_arn: "arn".into(),
            subject: None,
            message: "{}".into(),
            timestamp: "t".into(),
            signature_version: "1".into(),
            signature: String::new(),
            signing_cert_url: String::new(),
            subscribe_url: None,
            token: None,
        };
        assert_eq!(
            string_to_sign(&m),
            "Message\n{}\nMessageId\nid\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n"
        );
    }
}

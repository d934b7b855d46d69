//! The HTTP email providers on their real wire formats: SendGrid v3 mail send, Mailgun's messages
//! API (US and EU), and Amazon SES v2 SendEmail signed with AWS Signature Version 4. Base URLs
//! come from configuration (tests point them at a local server that checks the requests).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::MailerError;
use super::smtp::{Outgoing, SendError};

/// One HTTP client for all providers (see [`crate::net::http_client`]).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, MailerError> {
    crate::net::http_client(timeout, None).map_err(MailerError::Tls)
}

/// `Name <address>` for providers that take one string.
fn mailbox(address: &str, name: &Option<String>) -> String {
    match name.as_deref().map(|n| n.replace(['"', '\r', '\n'], "")) {
        Some(n) if !n.trim().is_empty() => format!("\"{}\" <{address}>", n.trim()),
        _ => address.to_string(),
    }
}

/// Maps an HTTP failure: 401/403 are refused credentials, 408/429/5xx are worth retrying, any
/// other 4xx will not succeed. The provider's body is kept short.
async fn failure(provider: &str, response: reqwest::Response) -> SendError {
    let status = response.status();
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let message = format!("{provider} answered {status}: {body}");
    match status.as_u16() {
        401 | 403 => SendError::Auth(message),
        408 | 429 | 500..=599 => SendError::Transient(message),
        _ => SendError::Permanent {
            message,
            bounce: false,
        },
    }
}

fn network(provider: &str, error: reqwest::Error) -> SendError {
    // The URL may carry nothing secret, but the error text is kept generic anyway.
    let kind = if error.is_timeout() {
        "timed out"
    } else {
        "could not be reached"
    };
    SendError::Transient(format!("{provider} {kind}"))
}

/// The id a provider reports, tagged on the email so webhooks can find it.
pub(crate) struct Sent {
    pub provider_message_id: String,
}

pub(crate) struct SendGrid {
    pub base_url: String,
    pub api_key: String,
}

impl SendGrid {
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        email: &Outgoing,
        email_log_id: i64,
    ) -> Result<Sent, SendError> {
        let mut headers = serde_json::Map::new();
        if let Some(url) = &email.unsubscribe_url {
            headers.insert("List-Unsubscribe".into(), json!(format!("<{url}>")));
            headers.insert(
                "List-Unsubscribe-Post".into(),
                json!("List-Unsubscribe=One-Click"),
            );
        }
        let mut body = json!({
            "personalizations": [{
                "to": [{"email": email.to_email, "name": email.to_name}],
                "custom_args": {"email_log_id": email_log_id.to_string()},
            }],
            "from": {"email": email.from_email, "name": email.from_name},
            "subject": email.subject,
            "content": [
                {"type": "text/plain", "value": email.text},
                {"type": "text/html", "value": email.html},
            ],
            "headers": headers,
        });
        if let Some(reply_to) = &email.reply_to {
            body["reply_to"] = json!({"email": reply_to});
        }
        let response = client
            .post(format!(
                "{}/v3/mail/send",
                self.base_url.trim_end_matches('/')
            ))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| network("SendGrid", e))?;
        if !response.status().is_success() {
            return Err(failure("SendGrid", response).await);
        }
        let id = response
            .headers()
            .get("x-message-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Sent {
            provider_message_id: id,
        })
    }
}

pub(crate) struct Mailgun {
    /// The regional API base (US or EU).
    pub base_url: String,
    pub domain: String,
    pub api_key: String,
}

impl Mailgun {
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        email: &Outgoing,
        email_log_id: i64,
    ) -> Result<Sent, SendError> {
        let mut form = vec![
            ("from", mailbox(&email.from_email, &email.from_name)),
            ("to", mailbox(&email.to_email, &email.to_name)),
            ("subject", email.subject.clone()),
            ("text", email.text.clone()),
            ("html", email.html.clone()),
            ("h:Message-Id", email.message_id.clone()),
            ("v:email_log_id", email_log_id.to_string()),
        ];
        if let Some(reply_to) = &email.reply_to {
            form.push(("h:Reply-To", reply_to.clone()));
        }
        if let Some(url) = &email.unsubscribe_url {
            form.push(("h:List-Unsubscribe", format!("<{url}>")));
            form.push((
                "h:List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ));
        }
        let response = client
            .post(format!(
                "{}/v3/{}/messages",
                self.base_url.trim_end_matches('/'),
                self.domain
            ))
            .basic_auth("api", Some(&self.api_key))
            .form(&form)
            .send()
            .await
            .map_err(|e| network("Mailgun", e))?;
        if !response.status().is_success() {
            return Err(failure("Mailgun", response).await);
        }
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        let id = answer["id"]
            .as_str()
            .unwrap_or_default()
            .trim_matches(['<', '>'])
            .to_string();
        Ok(Sent {
            provider_message_id: id,
        })
    }
}

pub(crate) struct Ses {
    /// The regional endpoint, e.g. `https://email.eu-west-1.amazonaws.com`.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Ses {
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        email: &Outgoing,
        email_log_id: i64,
    ) -> Result<Sent, SendError> {
        let mut headers = Vec::new();
        if let Some(url) = &email.unsubscribe_url {
            headers.push(json!({"Name": "List-Unsubscribe", "Value": format!("<{url}>")}));
            headers.push(
                json!({"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}),
            );
        }
        let mut body = json!({
            "FromEmailAddress": mailbox(&email.from_email, &email.from_name),
            "Destination": {"ToAddresses": [mailbox(&email.to_email, &email.to_name)]},
            "Content": {"Simple": {
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                },
                "Headers": headers,
            }},
            "EmailTags": [{"Name": "email_log_id", "Value": email_log_id.to_string()}],
        });
        if let Some(reply_to) = &email.reply_to {
            body["ReplyToAddresses"] = json!([reply_to]);
        }
        let payload = body.to_string();
        let url = reqwest::Url::parse(&format!(
            "{}/v2/email/outbound-emails",
            self.endpoint.trim_end_matches('/')
        ))
        .map_err(|e| SendError::Permanent {
            message: format!("bad SES endpoint: {e}"),
            bounce: false,
        })?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let signed = sign_v4(&SigningRequest {
            method: "POST",
            path: url.path(),
            host: &host,
            content_type: "application/json",
            payload: payload.as_bytes(),
            region: &self.region,
            service: "ses",
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            at: Utc::now(),
        });
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .header("x-amz-date", &signed.amz_date)
            .header("authorization", &signed.authorization)
            .body(payload)
            .send()
            .await
            .map_err(|e| network("SES", e))?;
        if !response.status().is_success() {
            return Err(failure("SES", response).await);
        }
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        Ok(Sent {
            provider_message_id: answer["MessageId"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// What AWS Signature Version 4 signs (a request with no query string, as SES v2 sends).
pub struct SigningRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The Host header as sent (with the port when it is not the default).
    pub host: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub at: DateTime<Utc>,
}

pub struct Signed {
    pub amz_date: String,
    pub authorization: String,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Signs a request with AWS Signature Version 4 (signed headers: content-type, host, x-amz-date).
pub fn sign_v4(r: &SigningRequest<'_>) -> Signed {
    let amz_date = r.at.format("%Y%m%dT%H%M%SZ").to_string();
    let date = r.at.format("%Y%m%d").to_string();
    let mut headers = vec![
        ("host", r.host.to_string()),
        ("x-amz-date", amz_date.clone()),
    ];
    if !r.content_type.is_empty() {
        headers.push(("content-type", r.content_type.to_string()));
    }
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let canonical_request = format!(
        "{}\n{}\n\n{canonical_headers}\n{signed_headers}\n{}",
        r.method,
        r.path,
        hex::encode(Sha256::digest(r.payload))
    );
    let scope = format!("{date}/{}/{}/aws4_request", r.region, r.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(
        format!("AWS4{}", r.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, r.region.as_bytes());
    let k_service = hmac(&k_region, r.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    Signed {
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            r.access_key_id
        ),
        amz_date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// AWS's Signature Version 4 test suite, case "get-vanilla".
    #[test]
    fn signature_v4_matches_the_aws_test_suite() {
        let signed = sign_v4(&SigningRequest {
            method: "GET",
            path: "/",
            host: "example.amazonaws.com",
            content_type: "",
            payload: b"",
            region: "us-east-1",
            service: "service",
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            at: Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap(),
        });
        assert_eq!(signed.amz_date, "20150830T123600Z");
        assert_eq!(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn mailboxes_quote_names_and_drop_line_breaks() {
        assert_eq!(
            mailbox("a@x.test", &Some("Shop \"A\"\r\n".into())),
            "\"Shop A\" <a@x.test>"
        );
        assert_eq!(mailbox("a@x.test", &None), "a@x.test");
    }
}

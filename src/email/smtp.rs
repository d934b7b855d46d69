//! Sending through SMTP with lettre over rustls: STARTTLS, implicit TLS or plain (a local relay),
//! pooled connections, a timeout. Failures are classified: 4xx replies, timeouts and connection
//! errors are transient (retried); 5xx replies are permanent, and "mailbox unavailable" ones are
//! hard bounces.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::MailerError;
use crate::config::{EmailSettings, SmtpSecurity};

/// One email ready to go out.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub from_email: String,
    pub from_name: Option<String>,
    pub to_email: String,
    pub to_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub message_id: String,
    /// `List-Unsubscribe` target (with RFC 8058 one-click).
    pub unsubscribe_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendError {
    /// Worth retrying later.
    Transient(String),
    /// The relay refused our credentials: nothing will go out until they are fixed.
    Auth(String),
    /// Will not succeed; `bounce` when the address itself was refused.
    Permanent { message: String, bounce: bool },
}

/// An SMTP relay with its connection pool.
#[derive(Clone)]
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// Strings scrubbed from any error text we store (the credentials).
    secrets: Vec<String>,
}

pub(crate) struct RelayConfig<'a> {
    /// The name to connect to, and to verify the TLS certificate against.
    pub host: &'a str,
    /// Connect to this checked address instead of resolving `host` again (tenant relays).
    pub connect_to: Option<std::net::IpAddr>,
    pub port: u16,
    pub username: &'a str,
    pub password: &'a str,
    pub security: SmtpSecurity,
    pub timeout: Duration,
}

impl<'a> RelayConfig<'a> {
    pub(crate) fn platform(settings: &'a EmailSettings) -> Option<RelayConfig<'a>> {
        (!settings.smtp_host.is_empty()).then(|| RelayConfig {
            host: &settings.smtp_host,
            connect_to: None,
            port: settings.smtp_port,
            username: &settings.smtp_username,
            password: &settings.smtp_password.0,
            security: settings.smtp_security,
            timeout: Duration::from_secs(settings.smtp_timeout_seconds),
        })
    }
}

impl SmtpRelay {
    pub(crate) fn new(config: &RelayConfig<'_>) -> Result<SmtpRelay, MailerError> {
        let invalid_host =
            |e: lettre::transport::smtp::Error| MailerError::InvalidHost(e.to_string());
        let builder = match (config.connect_to, config.security) {
            (None, SmtpSecurity::None) => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host)
            }
            (None, SmtpSecurity::Starttls) => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(config.host)
                    .map_err(invalid_host)?
            }
            (None, SmtpSecurity::Tls) => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(config.host).map_err(invalid_host)?
            }
            (Some(ip), security) => {
                // The connection goes to the checked address; TLS still verifies the host name.
                let tls = || TlsParameters::new(config.host.to_string()).map_err(invalid_host);
                let tls = match security {
                    SmtpSecurity::None => Tls::None,
                    SmtpSecurity::Starttls => Tls::Required(tls()?),
                    SmtpSecurity::Tls => Tls::Wrapper(tls()?),
                };
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ip.to_string()).tls(tls)
            }
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(4)
                    .idle_timeout(Duration::from_secs(60)),
            );
        if !config.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.username.to_string(),
                config.password.to_string(),
            ));
        }
        Ok(SmtpRelay {
            transport: builder.build(),
            secrets: [config.username, config.password]
                .into_iter()
                .filter(|s| s.len() >= 3)
                .map(str::to_string)
                .collect(),
        })
    }

    /// Sends one email; the answer is the relay's reply on success.
    pub(crate) async fn send(&self, email: &Outgoing) -> Result<String, SendError> {
        let message = build_message(email).map_err(|e| SendError::Permanent {
            message: e.to_string(),
            bounce: false,
        })?;
        match self.transport.send(message).await {
            Ok(response) => Ok(response.message().collect::<Vec<_>>().join(" ")),
            Err(e) => Err(self.classify(&e)),
        }
    }

    fn classify(&self, error: &lettre::transport::smtp::Error) -> SendError {
        let message = scrub(&error.to_string(), &self.secrets);
        let code = error.status().map(|c| c.to_string()).unwrap_or_default();
        if code == "535" || code == "534" || code == "530" {
            return SendError::Auth(message);
        }
        if error.is_permanent() {
            // 550 mailbox unavailable, 551 user not local, 553 mailbox name not allowed.
            let bounce = matches!(code.as_str(), "550" | "551" | "553");
            SendError::Permanent { message, bounce }
        } else {
            SendError::Transient(message)
        }
    }
}

/// Removes every occurrence of the given secrets from `text`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), "***");
    }
    out.chars().take(1000).collect()
}

/// A display name safe for a header: lettre panics on CR/LF in a name, so control characters
/// never reach it.
fn header_name(name: &Option<String>) -> Option<String> {
    name.as_ref()
        .map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
}

pub(crate) fn build_message(email: &Outgoing) -> Result<Message, MailerError> {
    let address = |a: &str| {
        a.parse().map_err(
            |e: lettre::address::AddressError| MailerError::InvalidAddress {
                address: a.to_string(),
                why: e.to_string(),
            },
        )
    };
    let mut builder = Message::builder()
        .from(Mailbox::new(
            header_name(&email.from_name),
            address(&email.from_email)?,
        ))
        .to(Mailbox::new(
            header_name(&email.to_name),
            address(&email.to_email)?,
        ))
        .subject(email.subject.replace(['\r', '\n'], " "))
        .message_id(Some(email.message_id.clone()));
    if let Some(reply_to) = &email.reply_to {
        builder = builder.reply_to(Mailbox::new(None, address(reply_to)?));
    }
    if let Some(url) = &email.unsubscribe_url {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    // Line endings are normalised to CRLF by lettre's encoder; no raw message is ever sent.
    builder
        .multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            email.html.clone(),
        ))
        .map_err(|e| MailerError::Message(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing() -> Outgoing {
        Outgoing {
            from_email: "noreply@parley.test".into(),
            from_name: Some("Shop\r\nBcc: evil@x.test".into()),
            to_email: "ann@example.test".into(),
            to_name: Some("Ann\nX".into()),
            reply_to: None,
            subject: "Hi\r\nBcc: evil@x.test".into(),
            html: "<p>.\r\n.\r\n</p>".into(),
            text: "line\n.\nQUIT\n".into(),
            message_id: "<abc@parley.test>".into(),
            unsubscribe_url: Some("https://x.test/unsubscribe/t".into()),
        }
    }

    #[test]
    fn no_header_injection_from_names_or_subjects() {
        let raw = String::from_utf8(build_message(&outgoing()).unwrap().formatted()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(
            !headers
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{headers}"
        );
        assert!(headers.contains("Message-ID: <abc@parley.test>"));
        assert!(headers.contains("List-Unsubscribe: <https://x.test/unsubscribe/t>"));
        assert!(headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    }

    #[test]
    fn secrets_are_scrubbed_from_errors() {
        assert_eq!(
            scrub("auth failed for hunter2 user", &["hunter2".into()]),
            "auth failed for *** user"
        );
    }
}

//! Which way an email leaves: the store's own provider when it is configured, verified and allowed
//! by the store's tier; the platform's relay otherwise.

use super::MailerError;
use super::providers::{Mailgun, SendGrid, Ses};
use super::settings::StoredSettings;
use super::smtp::{Outgoing, RelayConfig, SendError, SmtpRelay};
use crate::config::EmailSettings;
use crate::crypto::SecretKey;
use crate::domain::EmailProvider;

#[derive(Clone)]
pub(crate) enum Mailer {
    Smtp(SmtpRelay),
    SendGrid(std::sync::Arc<SendGrid>, reqwest::Client),
    Mailgun(std::sync::Arc<Mailgun>, reqwest::Client),
    Ses(std::sync::Arc<Ses>, reqwest::Client),
}

impl Mailer {
    /// Sends one email; the answer is the provider's id for it (the Message-ID for SMTP).
    pub(crate) async fn send(
        &self,
        email: &Outgoing,
        email_log_id: i64,
    ) -> Result<String, SendError> {
        match self {
            Mailer::Smtp(relay) => relay.send(email).await.map(|_| email.message_id.clone()),
            Mailer::SendGrid(p, client) => p
                .send(client, email, email_log_id)
                .await
                .map(|s| s.provider_message_id),
            Mailer::Mailgun(p, client) => p
                .send(client, email, email_log_id)
                .await
                .map(|s| s.provider_message_id),
            Mailer::Ses(p, client) => p
                .send(client, email, email_log_id)
                .await
                .map(|s| s.provider_message_id),
        }
    }

    pub(crate) fn provider(&self) -> EmailProvider {
        match self {
            Mailer::Smtp(_) => EmailProvider::Smtp,
            Mailer::SendGrid(..) => EmailProvider::Sendgrid,
            Mailer::Mailgun(..) => EmailProvider::Mailgun,
            Mailer::Ses(..) => EmailProvider::Ses,
        }
    }
}

/// Builds the mailer of a store's settings. An SMTP host is resolved and checked now, and the
/// connection goes to the checked address. Errors are written for the store (no server banner).
pub(crate) async fn store_mailer(
    store: &StoredSettings,
    key: &SecretKey,
    email: &EmailSettings,
    client: &reqwest::Client,
) -> Result<Mailer, MailerError> {
    let secret =
        |column: &'static str| store.secret(key, column).ok_or(MailerError::NotSet(column));
    match store.provider() {
        EmailProvider::Smtp => {
            let host = store
                .smtp_host
                .as_deref()
                .ok_or(MailerError::NotSet("smtp_host"))?;
            let port = store.smtp_port.unwrap_or(587);
            let addresses =
                crate::net::resolve_checked(host, port, email.allow_private_smtp_hosts).await?;
            let password = store.secret(key, "smtp_password").unwrap_or_default();
            let relay = SmtpRelay::new(&RelayConfig {
                host,
                connect_to: addresses.first().map(|a| a.ip()),
                port,
                username: store.smtp_username.as_deref().unwrap_or_default(),
                password: &password,
                security: store.smtp_security(),
                timeout: std::time::Duration::from_secs(email.smtp_timeout_seconds),
            })?;
            Ok(Mailer::Smtp(relay))
        }
        EmailProvider::Sendgrid => Ok(Mailer::SendGrid(
            std::sync::Arc::new(SendGrid {
                base_url: email.sendgrid_base_url.clone(),
                api_key: secret("sendgrid_api_key")?,
            }),
            client.clone(),
        )),
        EmailProvider::Mailgun => Ok(Mailer::Mailgun(
            std::sync::Arc::new(Mailgun {
                base_url: if store.mailgun_region == "eu" {
                    email.mailgun_base_url_eu.clone()
                } else {
                    email.mailgun_base_url_us.clone()
                },
                domain: store
                    .mailgun_domain
                    .clone()
                    .ok_or(MailerError::NotSet("mailgun_domain"))?,
                api_key: secret("mailgun_api_key")?,
            }),
            client.clone(),
        )),
        EmailProvider::Ses => {
            let region = store
                .ses_region
                .clone()
                .ok_or(MailerError::NotSet("ses_region"))?;
            Ok(Mailer::Ses(
                std::sync::Arc::new(Ses {
                    endpoint: email.ses_endpoint.replace("{region}", &region),
                    region,
                    access_key_id: store
                        .ses_access_key_id
                        .clone()
                        .ok_or(MailerError::NotSet("ses_access_key_id"))?,
                    secret_access_key: secret("ses_secret_access_key")?,
                }),
                client.clone(),
            ))
        }
    }
}

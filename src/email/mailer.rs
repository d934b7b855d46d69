//! Which way an email leaves: the store's own provider when it is configured, verified and allowed
//! by the store's tier; the platform's relay otherwise.

use super::settings::StoredSettings;
use super::smtp::{Outgoing, RelayConfig, SendError, SmtpRelay};
use crate::config::EmailSettings;
use crate::crypto::SecretKey;
use crate::domain::EmailProvider;

#[derive(Clone)]
pub enum Mailer {
    Smtp(SmtpRelay),
}

impl Mailer {
    pub async fn send(&self, email: &Outgoing) -> Result<String, SendError> {
        match self {
            Mailer::Smtp(relay) => relay.send(email).await,
        }
    }

    pub fn provider(&self) -> EmailProvider {
        match self {
            Mailer::Smtp(_) => EmailProvider::Smtp,
        }
    }
}

/// Builds the mailer of a store's settings. The SMTP host is resolved and checked now, and the
/// connection goes to the checked address. Errors are written for the store (no server banner).
pub async fn store_mailer(
    store: &StoredSettings,
    key: &SecretKey,
    email: &EmailSettings,
) -> Result<Mailer, String> {
    match store.provider() {
        EmailProvider::Smtp => {
            let host = store.smtp_host.as_deref().ok_or("no SMTP host is set")?;
            let port = store.smtp_port.unwrap_or(587);
            let addresses = crate::net::resolve_checked(host, port, email.allow_private_smtp_hosts)
                .await
                .map_err(|e| format!("SMTP host: {e}"))?;
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
        other => Err(format!(
            "the {other} provider is not available in this version of Parley"
        )),
    }
}

//! Per-store sending settings (seed: StoreEmailSettings): the sender, the provider and its
//! credentials (sealed at rest, never answered), whether the configuration is complete and has
//! been verified, and the mailer a store's email goes out through.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::config::SmtpSecurity;
use crate::crypto::{SecretKey, credential_aad};
use crate::domain::{EmailProvider, Tier};
use crate::email::EmailError;

/// The sealed columns, each bound to its column and store.
mod change;
mod sealing;
mod verify;

pub(crate) use change::{SettingsChange, change_settings};
pub(crate) use sealing::{key_matches, reseal_all, write_key_check};
pub(crate) use verify::{Verification, verify_settings};

pub(crate) const SECRET_COLUMNS: &[&str] = &[
    "smtp_password",
    "sendgrid_api_key",
    "mailgun_api_key",
    "ses_secret_access_key",
    "mailgun_webhook_signing_key",
];

/// A store's settings as stored (secrets still sealed).
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredSettings {
    pub store_id: i64,
    pub from_email: String,
    pub from_name: String,
    pub reply_to_email: Option<String>,
    pub signature_text: Option<String>,
    pub signature_html: Option<String>,
    pub provider: Option<EmailProvider>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Vec<u8>>,
    pub smtp_use_tls: bool,
    pub smtp_use_ssl: bool,
    pub sendgrid_api_key: Option<Vec<u8>>,
    pub mailgun_api_key: Option<Vec<u8>>,
    pub mailgun_domain: Option<String>,
    pub mailgun_region: String,
    pub ses_access_key_id: Option<String>,
    pub ses_secret_access_key: Option<Vec<u8>>,
    pub ses_region: Option<String>,
    pub is_configured: bool,
    pub is_verified: bool,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub verification_error: Option<String>,
    pub track_opens: bool,
    pub track_clicks: bool,
    /// SendGrid's event webhook verification key (base64 DER, public).
    pub sendgrid_webhook_public_key: Option<String>,
    pub mailgun_webhook_signing_key: Option<Vec<u8>>,
    /// The SNS topic this store's SES events are published to.
    pub ses_sns_topic_arn: Option<String>,
    pub tier: Option<Tier>,
    pub exists: bool,
}

/// What the API answers: every setting, with secrets reduced to whether they are set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct SettingsView {
    pub store_id: i64,
    pub from_email: String,
    pub from_name: String,
    pub reply_to_email: Option<String>,
    pub signature_text: Option<String>,
    pub signature_html: Option<String>,
    pub provider: EmailProvider,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password_set: bool,
    pub smtp_use_tls: bool,
    pub smtp_use_ssl: bool,
    pub sendgrid_api_key_set: bool,
    pub mailgun_api_key_set: bool,
    pub mailgun_domain: Option<String>,
    pub mailgun_region: String,
    pub ses_access_key_id: Option<String>,
    pub ses_secret_access_key_set: bool,
    pub ses_region: Option<String>,
    pub is_configured: bool,
    pub is_verified: bool,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub verification_error: Option<String>,
    pub track_opens: bool,
    pub track_clicks: bool,
    pub sendgrid_webhook_public_key: Option<String>,
    pub mailgun_webhook_signing_key_set: bool,
    pub ses_sns_topic_arn: Option<String>,
    /// Whether the store's tier allows the chosen provider (API providers need business+).
    pub provider_allowed: bool,
}

impl StoredSettings {
    pub(crate) fn provider(&self) -> EmailProvider {
        self.provider.unwrap_or(EmailProvider::Smtp)
    }

    pub(crate) fn view(&self) -> SettingsView {
        SettingsView {
            store_id: self.store_id,
            from_email: self.from_email.clone(),
            from_name: self.from_name.clone(),
            reply_to_email: self.reply_to_email.clone(),
            signature_text: self.signature_text.clone(),
            signature_html: self.signature_html.clone(),
            provider: self.provider(),
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            smtp_username: self.smtp_username.clone(),
            smtp_password_set: self.smtp_password.is_some(),
            smtp_use_tls: self.smtp_use_tls,
            smtp_use_ssl: self.smtp_use_ssl,
            sendgrid_api_key_set: self.sendgrid_api_key.is_some(),
            mailgun_api_key_set: self.mailgun_api_key.is_some(),
            mailgun_domain: self.mailgun_domain.clone(),
            mailgun_region: self.mailgun_region.clone(),
            ses_access_key_id: self.ses_access_key_id.clone(),
            ses_secret_access_key_set: self.ses_secret_access_key.is_some(),
            ses_region: self.ses_region.clone(),
            is_configured: self.is_configured,
            is_verified: self.is_verified,
            last_verified_at: self.last_verified_at,
            verification_error: self.verification_error.clone(),
            track_opens: self.track_opens,
            track_clicks: self.track_clicks,
            sendgrid_webhook_public_key: self.sendgrid_webhook_public_key.clone(),
            mailgun_webhook_signing_key_set: self.mailgun_webhook_signing_key.is_some(),
            ses_sns_topic_arn: self.ses_sns_topic_arn.clone(),
            provider_allowed: self.tier.is_some_and(|t| t.allows(self.provider())),
        }
    }

    /// Everything the chosen provider needs is present.
    pub(crate) fn complete(&self) -> bool {
        let sender = !self.from_email.is_empty() && !self.from_name.is_empty();
        sender
            && match self.provider() {
                EmailProvider::Smtp => self.smtp_host.is_some() && self.smtp_port.is_some(),
                EmailProvider::Sendgrid => self.sendgrid_api_key.is_some(),
                EmailProvider::Mailgun => {
                    self.mailgun_api_key.is_some() && self.mailgun_domain.is_some()
                }
                EmailProvider::Ses => {
                    self.ses_access_key_id.is_some()
                        && self.ses_secret_access_key.is_some()
                        && self.ses_region.is_some()
                }
            }
    }

    /// The store's own mailer is used only when configured, verified, and allowed by its tier.
    pub(crate) fn usable(&self) -> bool {
        self.is_configured
            && self.is_verified
            && self.tier.is_some_and(|t| t.allows(self.provider()))
    }

    pub(crate) fn smtp_security(&self) -> SmtpSecurity {
        match (self.smtp_use_ssl, self.smtp_use_tls) {
            (true, _) => SmtpSecurity::Tls,
            (false, true) => SmtpSecurity::Starttls,
            (false, false) => SmtpSecurity::None,
        }
    }

    /// Opens one sealed credential. A value that does not open is treated as unset, and logged.
    pub(crate) fn secret(&self, key: &SecretKey, column: &str) -> Option<String> {
        let blob = match column {
            "smtp_password" => self.smtp_password.as_ref(),
            "sendgrid_api_key" => self.sendgrid_api_key.as_ref(),
            "mailgun_api_key" => self.mailgun_api_key.as_ref(),
            "ses_secret_access_key" => self.ses_secret_access_key.as_ref(),
            "mailgun_webhook_signing_key" => self.mailgun_webhook_signing_key.as_ref(),
            _ => None,
        }?;
        match key.open(blob, &credential_aad(column, self.store_id)) {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::error!(
                    store_id = self.store_id,
                    column,
                    "a stored credential does not open: {e}"
                );
                None
            }
        }
    }
}

/// The store's settings, or defaults (not configured) when it has none yet.
pub(crate) fn load(conn: &Connection, store_id: i64) -> Result<StoredSettings, EmailError> {
    let tier: Option<Tier> = conn
        .query_row("SELECT tier FROM stores WHERE id = ?1", [store_id], |r| {
            r.get(0)
        })
        .optional()?;
    let row = conn
        .query_row(
            "SELECT from_email, from_name, reply_to_email, signature_text, signature_html, provider, smtp_host, smtp_port,
                    smtp_username, smtp_password, smtp_use_tls, smtp_use_ssl, sendgrid_api_key, mailgun_api_key,
                    mailgun_domain, mailgun_region, ses_access_key_id, ses_secret_access_key, ses_region, is_configured,
                    is_verified, last_verified_at, verification_error, track_opens, track_clicks,
                    sendgrid_webhook_public_key, mailgun_webhook_signing_key, ses_sns_topic_arn
             FROM store_email_settings WHERE store_id = ?1",
            [store_id],
            |r| {
                Ok(StoredSettings {
                    store_id,
                    from_email: r.get(0)?,
                    from_name: r.get(1)?,
                    reply_to_email: r.get(2)?,
                    signature_text: r.get(3)?,
                    signature_html: r.get(4)?,
                    provider: Some(r.get(5)?),
                    smtp_host: r.get(6)?,
                    smtp_port: r.get(7)?,
                    smtp_username: r.get(8)?,
                    smtp_password: r.get(9)?,
                    smtp_use_tls: r.get(10)?,
                    smtp_use_ssl: r.get(11)?,
                    sendgrid_api_key: r.get(12)?,
                    mailgun_api_key: r.get(13)?,
                    mailgun_domain: r.get(14)?,
                    mailgun_region: r.get(15)?,
                    ses_access_key_id: r.get(16)?,
                    ses_secret_access_key: r.get(17)?,
                    ses_region: r.get(18)?,
                    is_configured: r.get(19)?,
                    is_verified: r.get(20)?,
                    last_verified_at: r.get(21)?,
                    verification_error: r.get(22)?,
                    track_opens: r.get(23)?,
                    track_clicks: r.get(24)?,
                    sendgrid_webhook_public_key: r.get(25)?,
                    mailgun_webhook_signing_key: r.get(26)?,
                    ses_sns_topic_arn: r.get(27)?,
                    tier,
                    exists: true,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or(StoredSettings {
        store_id,
        smtp_port: Some(587),
        smtp_use_tls: true,
        mailgun_region: "us".into(),
        ses_region: Some("eu-west-1".into()),
        tier,
        ..Default::default()
    }))
}

/// Writes the settings back (sealed values as given), recomputing `is_configured`; `verified`
/// false clears the verification.
pub(crate) fn save(
    conn: &Connection,
    s: &StoredSettings,
    verified: bool,
) -> Result<(), EmailError> {
    let now = Utc::now();
    conn.execute(
        "INSERT INTO store_email_settings (store_id, from_email, from_name, reply_to_email, signature_text, signature_html,
                provider, smtp_host, smtp_port, smtp_username, smtp_password, smtp_use_tls, smtp_use_ssl, sendgrid_api_key,
                mailgun_api_key, mailgun_domain, mailgun_region, ses_access_key_id, ses_secret_access_key, ses_region,
                is_configured, is_verified, track_opens, track_clicks, created_at, updated_at,
                sendgrid_webhook_public_key, mailgun_webhook_signing_key, ses_sns_topic_arn)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
                 ?23, ?24, ?25, ?25, ?26, ?27, ?28)
         ON CONFLICT (store_id) DO UPDATE SET from_email = excluded.from_email, from_name = excluded.from_name,
                reply_to_email = excluded.reply_to_email, signature_text = excluded.signature_text,
                signature_html = excluded.signature_html, provider = excluded.provider, smtp_host = excluded.smtp_host,
                smtp_port = excluded.smtp_port, smtp_username = excluded.smtp_username,
                smtp_password = excluded.smtp_password, smtp_use_tls = excluded.smtp_use_tls,
                smtp_use_ssl = excluded.smtp_use_ssl, sendgrid_api_key = excluded.sendgrid_api_key,
                mailgun_api_key = excluded.mailgun_api_key, mailgun_domain = excluded.mailgun_domain,
                mailgun_region = excluded.mailgun_region, ses_access_key_id = excluded.ses_access_key_id,
                ses_secret_access_key = excluded.ses_secret_access_key, ses_region = excluded.ses_region,
                is_configured = excluded.is_configured,
                is_verified = CASE WHEN ?22 THEN is_verified ELSE 0 END,
                verification_error = CASE WHEN ?22 THEN verification_error ELSE NULL END,
                track_opens = excluded.track_opens, track_clicks = excluded.track_clicks, updated_at = excluded.updated_at,
                sendgrid_webhook_public_key = excluded.sendgrid_webhook_public_key,
                mailgun_webhook_signing_key = excluded.mailgun_webhook_signing_key,
                ses_sns_topic_arn = excluded.ses_sns_topic_arn",
        params![
            s.store_id,
            s.from_email,
            s.from_name,
            s.reply_to_email,
            s.signature_text,
            s.signature_html,
            s.provider(),
            s.smtp_host,
            s.smtp_port,
            s.smtp_username,
            s.smtp_password,
            s.smtp_use_tls,
            s.smtp_use_ssl,
            s.sendgrid_api_key,
            s.mailgun_api_key,
            s.mailgun_domain,
            s.mailgun_region,
            s.ses_access_key_id,
            s.ses_secret_access_key,
            s.ses_region,
            s.complete(),
            verified,
            s.track_opens,
            s.track_clicks,
            now,
            s.sendgrid_webhook_public_key,
            s.mailgun_webhook_signing_key,
            s.ses_sns_topic_arn,
        ],
    )?;
    Ok(())
}

/// Records the outcome of a verification (a test email through the store's provider).
pub(crate) fn record_verification(
    conn: &Connection,
    store_id: i64,
    error: Option<&str>,
) -> Result<(), EmailError> {
    let now = Utc::now();
    conn.execute(
        "UPDATE store_email_settings SET is_verified = ?2, last_verified_at = CASE WHEN ?2 THEN ?3 ELSE last_verified_at END,
                verification_error = ?4, updated_at = ?3 WHERE store_id = ?1",
        params![store_id, error.is_none(), now, error],
    )?;
    Ok(())
}

/// The refusal of a provider the store's tier does not include.
pub(crate) fn tier_required(provider: EmailProvider, tier: Tier) -> EmailError {
    EmailError::TierRequired(format!(
        "the {provider} provider needs the business tier or higher (this store is {tier})"
    ))
}

/// The store that named SNS topic `topic` for its SES events.
pub(crate) fn store_by_sns_topic(
    conn: &Connection,
    topic: &str,
) -> Result<Option<i64>, EmailError> {
    Ok(conn
        .query_row(
            "SELECT store_id FROM store_email_settings WHERE ses_sns_topic_arn = ?1",
            [topic],
            |r| r.get(0),
        )
        .optional()?)
}

//! Changing a store's email settings: every field checked, credentials sealed under the store and
//! field, a store's SMTP host refused when it points inside our network; anything that changes
//! how mail leaves needs a new verification.

use serde::Deserialize;

use super::{SettingsView, StoredSettings, tier_required};
use crate::crypto::{SecretKey, credential_aad};
use crate::domain::{self, EmailProvider};
use crate::email::Context;
use crate::email::EmailError;

/// Every field optional: what is left out stays as it is. For optional text and for secrets an
/// empty string clears the value; secrets are write-only.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    from_email: Option<String>,
    from_name: Option<String>,
    reply_to_email: Option<String>,
    signature_text: Option<String>,
    signature_html: Option<String>,
    provider: Option<EmailProvider>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    smtp_use_tls: Option<bool>,
    smtp_use_ssl: Option<bool>,
    sendgrid_api_key: Option<String>,
    mailgun_api_key: Option<String>,
    mailgun_domain: Option<String>,
    mailgun_region: Option<String>,
    ses_access_key_id: Option<String>,
    ses_secret_access_key: Option<String>,
    ses_region: Option<String>,
    track_opens: Option<bool>,
    track_clicks: Option<bool>,
    /// SendGrid's event webhook verification key (base64 of the DER public key).
    sendgrid_webhook_public_key: Option<String>,
    mailgun_webhook_signing_key: Option<String>,
    ses_sns_topic_arn: Option<String>,
}

/// An optional text field: None = unchanged, "" = cleared.
fn optional(
    value: Option<String>,
    current: &mut Option<String>,
    check: impl Fn(&str) -> Result<String, EmailError>,
) -> Result<bool, EmailError> {
    match value {
        None => Ok(false),
        Some(v) if v.trim().is_empty() => Ok(current.take().is_some()),
        Some(v) => {
            let v = check(&v)?;
            let changed = current.as_deref() != Some(v.as_str());
            *current = Some(v);
            Ok(changed)
        }
    }
}

fn hostname(field: &'static str) -> impl Fn(&str) -> Result<String, EmailError> {
    move |v: &str| {
        let v = v.trim().to_ascii_lowercase();
        let ok = (1..=253).contains(&v.len())
            && v.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            || v.parse::<std::net::IpAddr>().is_ok();
        if ok {
            Ok(v)
        } else {
            Err(EmailError::invalid(
                field,
                "must be a host name or an IP address",
            ))
        }
    }
}

/// Seals (or clears) one credential.
fn secret(
    key: &SecretKey,
    value: Option<String>,
    current: &mut Option<Vec<u8>>,
    column: &str,
    store_id: i64,
) -> Result<bool, EmailError> {
    match value {
        None => Ok(false),
        Some(v) if v.is_empty() => Ok(current.take().is_some()),
        Some(v) => {
            if v.len() > 500 || v.chars().any(|c| c.is_control()) {
                return Err(EmailError::invalid(
                    column,
                    "must be at most 500 characters, on one line",
                ));
            }
            *current = Some(key.seal(&v, &credential_aad(column, store_id)));
            Ok(true)
        }
    }
}

/// Changes a store's email settings and answers them as the API shows them.
pub(crate) async fn change_settings(
    ctx: &Context,
    store_id: i64,
    body: SettingsChange,
) -> Result<SettingsView, EmailError> {
    let mut s: StoredSettings = ctx.db.read(move |conn| super::load(conn, store_id)).await?;
    let mut changed = false;

    if let Some(v) = body.from_email {
        let v = domain::clean_email("from_email", &v)?;
        changed |= s.from_email != v;
        s.from_email = v;
    }
    if let Some(v) = body.from_name {
        let v = domain::clean_line("from_name", &v, 100)?;
        changed |= s.from_name != v;
        s.from_name = v;
    }
    if !s.exists && (s.from_email.is_empty() || s.from_name.is_empty()) {
        return Err(EmailError::invalid(
            "from_email",
            "from_email and from_name are needed the first time",
        ));
    }
    optional(body.reply_to_email, &mut s.reply_to_email, |v| {
        Ok(domain::clean_email("reply_to_email", v)?)
    })?;
    optional(body.signature_text, &mut s.signature_text, |v| {
        Ok(domain::clean_text("signature_text", v, 2000)?)
    })?;
    optional(body.signature_html, &mut s.signature_html, |v| {
        Ok(domain::clean_text("signature_html", v, 10_000)?)
    })?;
    if let Some(provider) = body.provider {
        let tier = s.tier.ok_or(EmailError::NotFound)?;
        if !tier.allows(provider) {
            return Err(tier_required(provider, tier));
        }
        changed |= s.provider != Some(provider);
        s.provider = Some(provider);
    }
    changed |= optional(body.smtp_host, &mut s.smtp_host, hostname("smtp_host"))?;
    if let Some(port) = body.smtp_port {
        if port == 0 {
            return Err(EmailError::invalid("smtp_port", "must be a port number"));
        }
        changed |= s.smtp_port != Some(port);
        s.smtp_port = Some(port);
    }
    changed |= optional(body.smtp_username, &mut s.smtp_username, |v| {
        Ok(domain::clean_line("smtp_username", v, 255)?)
    })?;
    changed |= secret(
        &ctx.key,
        body.smtp_password,
        &mut s.smtp_password,
        "smtp_password",
        store_id,
    )?;
    if let Some(v) = body.smtp_use_tls {
        changed |= s.smtp_use_tls != v;
        s.smtp_use_tls = v;
    }
    if let Some(v) = body.smtp_use_ssl {
        changed |= s.smtp_use_ssl != v;
        s.smtp_use_ssl = v;
    }
    changed |= secret(
        &ctx.key,
        body.sendgrid_api_key,
        &mut s.sendgrid_api_key,
        "sendgrid_api_key",
        store_id,
    )?;
    changed |= secret(
        &ctx.key,
        body.mailgun_api_key,
        &mut s.mailgun_api_key,
        "mailgun_api_key",
        store_id,
    )?;
    changed |= optional(
        body.mailgun_domain,
        &mut s.mailgun_domain,
        hostname("mailgun_domain"),
    )?;
    if let Some(region) = body.mailgun_region {
        if region != "us" && region != "eu" {
            return Err(EmailError::invalid("mailgun_region", "must be us or eu"));
        }
        changed |= s.mailgun_region != region;
        s.mailgun_region = region;
    }
    changed |= optional(body.ses_access_key_id, &mut s.ses_access_key_id, |v| {
        let ok = (16..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(v.to_string())
        } else {
            Err(EmailError::invalid(
                "ses_access_key_id",
                "is not an AWS access key id",
            ))
        }
    })?;
    changed |= secret(
        &ctx.key,
        body.ses_secret_access_key,
        &mut s.ses_secret_access_key,
        "ses_secret_access_key",
        store_id,
    )?;
    changed |= optional(body.ses_region, &mut s.ses_region, |v| {
        let ok = (1..=30).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(v.to_string())
        } else {
            Err(EmailError::invalid("ses_region", "is not an AWS region"))
        }
    })?;
    optional(
        body.sendgrid_webhook_public_key,
        &mut s.sendgrid_webhook_public_key,
        |v| {
            crate::email::webhooks::sendgrid_key(v.trim())
                .map(|_| v.trim().to_string())
                .map_err(EmailError::from)
        },
    )?;
    secret(
        &ctx.key,
        body.mailgun_webhook_signing_key,
        &mut s.mailgun_webhook_signing_key,
        "mailgun_webhook_signing_key",
        store_id,
    )?;
    optional(body.ses_sns_topic_arn, &mut s.ses_sns_topic_arn, |v| {
        let ok = v.starts_with("arn:aws:sns:")
            && v.len() <= 256
            && v.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(v.to_string())
        } else {
            Err(EmailError::invalid(
                "ses_sns_topic_arn",
                "must be an SNS topic ARN",
            ))
        }
    })?;
    s.track_opens = body.track_opens.unwrap_or(s.track_opens);
    s.track_clicks = body.track_clicks.unwrap_or(s.track_clicks);

    // A tenant's SMTP host must not point inside our network (checked again at every connection).
    if let (Some(host), EmailProvider::Smtp) = (&s.smtp_host, s.provider()) {
        crate::net::resolve_checked(
            host,
            s.smtp_port.unwrap_or(587),
            ctx.settings.email.allow_private_smtp_hosts,
        )
        .await
        .map_err(|e| EmailError::Refused {
            code: "smtp_host_refused",
            message: format!("smtp_host: {e}"),
        })?;
    }
    // Anything that changes how mail leaves needs a new verification.
    let keep_verified = !changed;
    let saved = ctx
        .db
        .write(move |tx| {
            super::save(tx, &s, keep_verified)?;
            super::load(tx, store_id)
        })
        .await?;
    tracing::info!(store_id, "store email settings updated");
    Ok(saved.view())
}

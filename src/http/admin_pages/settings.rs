//! The store's email settings page.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::Area;
use crate::email::settings as email_settings;
use crate::error::AppError;
use crate::http::pages::{chrome, page_user, render_page};
use crate::state::AppState;

use super::*;

pub(crate) async fn vendor_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "Email settings",
        "/vendor/email-settings"
    );
    let store_id = auth.actor.store_id().unwrap_or_default();
    let s = state
        .db
        .read(move |conn| email_settings::load(conn, store_id))
        .await?
        .view();
    let secret = |name: &'static str, label: &'static str, set: bool| Field {
        placeholder: if set {
            "set — leave empty to keep".into()
        } else {
            "not set".into()
        },
        ..field(name, label, "password", "")
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut page = TablePage::new(chrome, Vec::new(), Vec::new());
    page.intro = format!(
        "Configured: {}. Verified: {}.{}",
        if s.is_configured { "yes" } else { "no" },
        if s.is_verified { "yes" } else { "no" },
        s.verification_error
            .as_ref()
            .map(|e| format!(" Last problem: {e}"))
            .unwrap_or_default()
    );
    page.form = Some(FormSpec {
        title: "How your store's email leaves".into(),
        url: "/api/v1/vendor/email-settings".into(),
        method: "PUT",
        submit: "Save",
        fields: vec![
            field("from_email", "From address", "email", &s.from_email),
            field("from_name", "From name", "text", &s.from_name),
            field(
                "reply_to_email",
                "Reply-to",
                "email",
                text(&s.reply_to_email),
            ),
            select(
                "provider",
                "Provider",
                &["smtp", "sendgrid", "mailgun", "ses"],
                s.provider.as_str(),
            ),
            field("smtp_host", "SMTP host", "text", text(&s.smtp_host)),
            field(
                "smtp_port",
                "SMTP port",
                "number",
                s.smtp_port.map(|p| p.to_string()).unwrap_or_default(),
            ),
            field("smtp_username", "SMTP user", "text", text(&s.smtp_username)),
            secret("smtp_password", "SMTP password", s.smtp_password_set),
            field("smtp_use_tls", "STARTTLS", "checkbox", s.smtp_use_tls),
            field(
                "smtp_use_ssl",
                "Implicit TLS (port 465)",
                "checkbox",
                s.smtp_use_ssl,
            ),
            secret(
                "sendgrid_api_key",
                "SendGrid API key",
                s.sendgrid_api_key_set,
            ),
            secret("mailgun_api_key", "Mailgun API key", s.mailgun_api_key_set),
            field(
                "mailgun_domain",
                "Mailgun domain",
                "text",
                text(&s.mailgun_domain),
            ),
            select(
                "mailgun_region",
                "Mailgun region",
                &["us", "eu"],
                &s.mailgun_region,
            ),
            field(
                "ses_access_key_id",
                "SES access key id",
                "text",
                text(&s.ses_access_key_id),
            ),
            secret(
                "ses_secret_access_key",
                "SES secret key",
                s.ses_secret_access_key_set,
            ),
            field("ses_region", "SES region", "text", text(&s.ses_region)),
            field(
                "track_opens",
                "Track opens (SMTP)",
                "checkbox",
                s.track_opens,
            ),
            field(
                "track_clicks",
                "Track clicks (SMTP)",
                "checkbox",
                s.track_clicks,
            ),
        ],
        extra: Some(Extra {
            label: "Send a test email",
            url: "/api/v1/vendor/email-settings/verify".into(),
            method: "POST",
        }),
        ..Default::default()
    });
    Ok(render_page(&state, "table.html", &page))
}

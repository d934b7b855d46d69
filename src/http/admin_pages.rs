//! The admin and vendor pages beyond messages, and the shop account page: tables rendered on the
//! server from the same services the API uses, with forms that post to the JSON API (pages.js).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::pages::{Chrome, chrome, page_user, render_page};
use crate::domain::{Area, EmailStatus, Page};
use crate::email::outbox::{self, LogFilter};
use crate::email::{settings as email_settings, templates};
use crate::error::AppError;
use crate::state::AppState;
use crate::{accounts, alerts};

#[derive(Serialize, Default)]
struct Cell {
    text: String,
    href: Option<String>,
}

fn cell(text: impl ToString) -> Cell {
    Cell {
        text: text.to_string(),
        href: None,
    }
}

fn link(text: impl ToString, href: String) -> Cell {
    Cell {
        text: text.to_string(),
        href: Some(href),
    }
}

#[derive(Serialize)]
struct Action {
    label: &'static str,
    url: String,
    method: &'static str,
}

#[derive(Serialize, Default)]
struct Row {
    cells: Vec<Cell>,
    actions: Vec<Action>,
}

#[derive(Serialize, Default)]
struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    options: Vec<String>,
    placeholder: String,
}

fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: impl ToString,
) -> Field {
    Field {
        name,
        label,
        kind,
        value: value.to_string(),
        ..Default::default()
    }
}

fn select(name: &'static str, label: &'static str, options: &[&str], value: &str) -> Field {
    Field {
        name,
        label,
        kind: "select",
        value: value.to_string(),
        options: options.iter().map(|o| o.to_string()).collect(),
        ..Default::default()
    }
}

#[derive(Serialize)]
struct Extra {
    label: &'static str,
    url: String,
    method: &'static str,
}

#[derive(Serialize, Default)]
struct FormSpec {
    title: String,
    url: String,
    method: &'static str,
    submit: &'static str,
    fields: Vec<Field>,
    preview: Option<String>,
    extra: Option<Extra>,
    code: String,
    language: String,
}

#[derive(Serialize)]
struct TablePage {
    #[serde(flatten)]
    chrome: Chrome,
    intro: String,
    filters: Vec<Field>,
    headers: Vec<&'static str>,
    rows: Vec<Row>,
    actions: bool,
    form: Option<FormSpec>,
}

impl TablePage {
    fn new(chrome: Chrome, headers: Vec<&'static str>, rows: Vec<Row>) -> TablePage {
        let actions = rows.iter().any(|r| !r.actions.is_empty());
        TablePage {
            chrome,
            intro: String::new(),
            filters: Vec::new(),
            headers,
            rows,
            actions,
            form: None,
        }
    }
}

/// The signed-in user and the page chrome, or an early return of the redirect to sign in.
macro_rules! signed_in {
    ($state:expr, $req:expr, $area:expr, $title:expr, $url:expr) => {
        match page_user(&$req, $area).await {
            Ok(auth) => {
                let chrome = chrome(&$state, &auth, $area, $title, $url).await?;
                (auth, chrome)
            }
            Err(redirect) => return Ok(redirect),
        }
    };
}

pub(crate) async fn shop_account(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Shop, "Your account", "/shop/account");
    Ok(render_page(&state, "account.html", &chrome))
}

pub(crate) async fn admin_stores(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "Stores", "/admin/stores");
    let (stores, _) = state
        .db
        .read(|conn| {
            accounts::list_stores(
                conn,
                Page {
                    skip: 0,
                    limit: 100,
                },
            )
        })
        .await?;
    let rows = stores
        .into_iter()
        .map(|s| Row {
            cells: vec![
                cell(s.id),
                cell(&s.code),
                cell(&s.name),
                cell(s.tier),
                cell(if s.is_active { "active" } else { "disabled" }),
            ],
            actions: Vec::new(),
        })
        .collect();
    let mut page = TablePage::new(chrome, vec!["Id", "Code", "Name", "Tier", "State"], rows);
    page.form = Some(FormSpec {
        title: "Add a store".into(),
        url: "/api/v1/admin/stores".into(),
        method: "POST",
        submit: "Add store",
        fields: vec![
            field("code", "Code (a-z, 0-9, -)", "text", ""),
            field("name", "Name", "text", ""),
            select(
                "tier",
                "Tier",
                &["essential", "professional", "business", "enterprise"],
                "essential",
            ),
        ],
        ..Default::default()
    });
    Ok(render_page(&state, "table.html", &page))
}

#[derive(Deserialize)]
pub(crate) struct LogQuery {
    status: Option<String>,
    recipient: Option<String>,
    template_code: Option<String>,
}

async fn email_logs(
    state: &AppState,
    chrome: Chrome,
    query: LogQuery,
    store_id: Option<i64>,
    admin: bool,
) -> Result<HttpResponse, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let filter = LogFilter {
        status: nonempty(query.status.clone()).and_then(|s| s.parse().ok()),
        store_id,
        recipient: nonempty(query.recipient.clone()),
        template_code: nonempty(query.template_code.clone()),
        since: None,
        until: None,
    };
    let shown = filter.clone();
    let (logs, total) = state
        .db
        .read(move |conn| outbox::list_logs(conn, &shown, 0, 100))
        .await?;
    let rows = logs
        .into_iter()
        .map(|l| Row {
            actions: if admin && l.status == EmailStatus::Failed {
                vec![Action {
                    label: "Retry",
                    url: format!("/api/v1/admin/email-logs/{}/retry", l.id),
                    method: "POST",
                }]
            } else {
                Vec::new()
            },
            cells: vec![
                cell(l.created_at.format("%Y-%m-%d %H:%M")),
                cell(&l.recipient_email),
                cell(l.template_code.unwrap_or_default()),
                cell(&l.subject),
                cell(l.status.as_str()),
                cell(l.retry_count),
                cell(
                    l.error_message
                        .or(l.store_template_error)
                        .unwrap_or_default(),
                ),
            ],
        })
        .collect();
    let mut statuses = vec![""];
    statuses.extend(EmailStatus::ALL.iter().map(|s| s.as_str()));
    let mut page = TablePage::new(
        chrome,
        vec![
            "Created",
            "Recipient",
            "Template",
            "Subject",
            "Status",
            "Attempts",
            "Problem",
        ],
        rows,
    );
    page.intro = format!("{total} emails match (the latest 100 are shown).");
    page.filters = vec![
        select(
            "status",
            "Status",
            &statuses,
            filter.status.map(EmailStatus::as_str).unwrap_or_default(),
        ),
        field(
            "recipient",
            "Recipient",
            "text",
            filter.recipient.unwrap_or_default(),
        ),
        field(
            "template_code",
            "Template",
            "text",
            filter.template_code.unwrap_or_default(),
        ),
    ];
    Ok(render_page(state, "table.html", &page))
}

pub(crate) async fn admin_email_logs(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "Email logs", "/admin/email-logs");
    email_logs(&state, chrome, q.into_inner(), None, true).await
}

pub(crate) async fn vendor_email_logs(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(state, req, Area::Vendor, "Email logs", "/vendor/email-logs");
    email_logs(&state, chrome, q.into_inner(), auth.actor.store_id(), false).await
}

pub(crate) async fn admin_notifications(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "Notifications",
        "/admin/notifications"
    );
    let filter = alerts::AlertFilter {
        limit: 100,
        ..Default::default()
    };
    let (items, _) = state
        .db
        .read(move |conn| alerts::list(conn, &filter))
        .await?;
    let rows = items
        .into_iter()
        .map(|n| Row {
            actions: if n.is_read {
                Vec::new()
            } else {
                vec![Action {
                    label: "Mark read",
                    url: format!("/api/v1/admin/notifications/{}/read", n.id),
                    method: "PUT",
                }]
            },
            cells: vec![
                cell(n.updated_at.format("%Y-%m-%d %H:%M")),
                cell(n.priority),
                cell(n.notification_type),
                cell(&n.title),
                cell(&n.message),
                cell(if n.is_read { "read" } else { "new" }),
            ],
        })
        .collect();
    let page = TablePage::new(
        chrome,
        vec!["When", "Priority", "Type", "Title", "Message", "State"],
        rows,
    );
    Ok(render_page(&state, "table.html", &page))
}

fn template_fields(t: Option<&templates::EmailTemplate>) -> Vec<Field> {
    let get = |f: fn(&templates::EmailTemplate) -> String| t.map(f).unwrap_or_default();
    let mut category = select(
        "category",
        "Category",
        templates::CATEGORIES,
        &get(|t| t.category.clone()),
    );
    if category.value.is_empty() {
        category.value = "system".into();
    }
    vec![
        field("code", "Code", "text", get(|t| t.code.clone())),
        field(
            "language",
            "Language",
            "text",
            t.map_or("en".to_string(), |t| t.language.clone()),
        ),
        field("name", "Name", "text", get(|t| t.name.clone())),
        category,
        field("subject", "Subject", "text", get(|t| t.subject.clone())),
        field(
            "body_html",
            "HTML body",
            "textarea",
            get(|t| t.body_html.clone()),
        ),
        field(
            "body_text",
            "Text body",
            "textarea",
            get(|t| t.body_text.clone().unwrap_or_default()),
        ),
        field(
            "variables",
            "Variables (separated by spaces)",
            "text",
            get(|t| t.variables.join(" ")),
        ),
        field(
            "required_variables",
            "Required variables",
            "text",
            get(|t| t.required_variables.join(" ")),
        ),
        field(
            "is_active",
            "Active",
            "checkbox",
            t.is_none_or(|t| t.is_active),
        ),
        field(
            "is_platform_only",
            "Platform only (stores cannot override)",
            "checkbox",
            t.is_some_and(|t| t.is_platform_only),
        ),
    ]
}

pub(crate) async fn admin_templates(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "Email templates",
        "/admin/email-templates"
    );
    let list = state
        .db
        .read(|conn| templates::list(conn, &Default::default()))
        .await?;
    let rows = list
        .iter()
        .map(|t| Row {
            cells: vec![
                link(&t.code, format!("/admin/email-templates/{}", t.id)),
                cell(&t.language),
                cell(&t.name),
                cell(&t.category),
                cell(if t.is_active { "active" } else { "inactive" }),
                cell(if t.is_platform_only {
                    "platform only"
                } else {
                    ""
                }),
            ],
            actions: Vec::new(),
        })
        .collect();
    let mut page = TablePage::new(
        chrome,
        vec!["Code", "Language", "Name", "Category", "State", ""],
        rows,
    );
    page.form = Some(FormSpec {
        title: "New template".into(),
        url: "/api/v1/admin/email-templates".into(),
        method: "POST",
        submit: "Create",
        fields: template_fields(None),
        preview: Some("/api/v1/admin/email-templates/preview".into()),
        ..Default::default()
    });
    Ok(render_page(&state, "table.html", &page))
}

pub(crate) async fn admin_template(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "Edit template",
        "/admin/email-templates"
    );
    let id = path.into_inner();
    let template = state.db.read(move |conn| templates::get(conn, id)).await?;
    let mut page = TablePage::new(chrome, Vec::new(), Vec::new());
    page.form = Some(FormSpec {
        title: format!("{} ({})", template.code, template.language),
        url: format!("/api/v1/admin/email-templates/{id}"),
        method: "PUT",
        submit: "Save",
        fields: template_fields(Some(&template)),
        preview: Some("/api/v1/admin/email-templates/preview".into()),
        extra: Some(Extra {
            label: "Delete",
            url: format!("/api/v1/admin/email-templates/{id}"),
            method: "DELETE",
        }),
        code: template.code.clone(),
        language: template.language.clone(),
    });
    Ok(render_page(&state, "table.html", &page))
}

pub(crate) async fn vendor_templates(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "Email templates",
        "/vendor/email-templates"
    );
    let store_id = auth.actor.store_id().unwrap_or_default();
    let (platform, overrides) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                templates::list(conn, &Default::default())?,
                templates::list_overrides(conn, store_id)?,
            ))
        })
        .await?;
    let platform_only: std::collections::HashSet<String> = platform
        .iter()
        .filter(|t| t.is_platform_only)
        .map(|t| t.code.clone())
        .collect();
    let rows = platform
        .iter()
        .filter(|t| !platform_only.contains(&t.code))
        .map(|t| {
            let own = overrides
                .iter()
                .any(|o| o.template_code == t.code && o.language == t.language);
            Row {
                cells: vec![
                    link(
                        &t.code,
                        format!("/vendor/email-templates/{}/{}", t.code, t.language),
                    ),
                    cell(&t.language),
                    cell(&t.name),
                    cell(if own {
                        "your version"
                    } else {
                        "platform version"
                    }),
                ],
                actions: Vec::new(),
            }
        })
        .collect();
    let page = TablePage::new(chrome, vec!["Code", "Language", "Name", "In use"], rows);
    Ok(render_page(&state, "table.html", &page))
}

pub(crate) async fn vendor_template(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "Edit your template",
        "/vendor/email-templates"
    );
    let (code, language) = path.into_inner();
    let store_id = auth.actor.store_id().unwrap_or_default();
    let (lookup_code, lookup_language) = (code.clone(), language.clone());
    let (platform, own) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                templates::find(conn, &lookup_code, &lookup_language)?,
                templates::find_override(conn, store_id, &lookup_code, &lookup_language)?,
            ))
        })
        .await?;
    let platform = platform
        .filter(|t| !t.is_platform_only)
        .ok_or(AppError::NotFound)?;
    let source = own
        .as_ref()
        .map_or_else(|| platform.source(), |o| o.source());
    let mut page = TablePage::new(chrome, Vec::new(), Vec::new());
    page.intro = format!("Variables you can use: {}", platform.variables.join(", "));
    page.form = Some(FormSpec {
        title: format!("{code} ({language})"),
        url: format!("/api/v1/vendor/email-templates/{code}/{language}"),
        method: "PUT",
        submit: "Save your version",
        fields: vec![
            field("subject", "Subject", "text", source.subject),
            field("body_html", "HTML body", "textarea", source.body_html),
            field(
                "body_text",
                "Text body",
                "textarea",
                source.body_text.unwrap_or_default(),
            ),
        ],
        preview: Some("/api/v1/vendor/email-templates/preview".into()),
        extra: own.map(|_| Extra {
            label: "Back to the platform version",
            url: format!("/api/v1/vendor/email-templates/{code}/{language}"),
            method: "DELETE",
        }),
        code,
        language,
    });
    Ok(render_page(&state, "table.html", &page))
}

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

//! Email API: platform templates (admin), store overrides (vendor), previews, the email log, and
//! the public one-click unsubscribe.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{AdminUser, VendorUser};
use crate::domain::{self, EmailStatus, Page};
use crate::email::render::{self, Rendered, TemplateSource};
use crate::email::templates::{self, Layer, OverrideFields, TemplateFields, TemplateFilter};
use crate::email::{notify, outbox};
use crate::error::AppError;
use crate::state::AppState;

// ---- admin: platform templates ---------------------------------------------------------------

pub(crate) async fn list_templates(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<TemplateFilter>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let list = state
        .db
        .read(move |conn| templates::list(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "templates": list, "total": list.len() })))
}

/// Checks an admin's template: field shapes, and a test render with sample values for every
/// declared variable (so a template cannot use a variable it does not declare).
fn validate_fields(t: &mut TemplateFields) -> Result<(), AppError> {
    let code_ok = (1..=100).contains(&t.code.len())
        && t.code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return Err(AppError::validation(
            "code",
            "must be 1 to 100 lowercase letters, digits or underscores",
        ));
    }
    t.language = domain::clean_language("language", &t.language)?;
    t.name = domain::clean_line("name", &t.name, 255)?;
    if !templates::CATEGORIES.contains(&t.category.as_str()) {
        return Err(AppError::validation(
            "category",
            format!("must be one of {}", templates::CATEGORIES.join(", ")),
        ));
    }
    if t.subject.chars().count() > 500 {
        return Err(AppError::validation(
            "subject",
            "must be at most 500 characters",
        ));
    }
    for v in t.variables.iter().chain(&t.required_variables) {
        if v.is_empty()
            || v.len() > 64
            || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(AppError::validation(
                "variables",
                format!("`{v}` is not a variable name"),
            ));
        }
    }
    if let Some(missing) = t
        .required_variables
        .iter()
        .find(|r| !t.variables.contains(r))
    {
        return Err(AppError::validation(
            "required_variables",
            format!("`{missing}` is not in variables"),
        ));
    }
    let source = TemplateSource {
        subject: t.subject.clone(),
        body_html: t.body_html.clone(),
        body_text: t.body_text.clone(),
    };
    render::render(
        &source,
        &templates::sample_context(&t.variables),
        &t.required_variables,
    )
    .map_err(|why| AppError::BadRequest {
        code: "invalid_template",
        message: why,
    })?;
    Ok(())
}

pub(crate) async fn create_template(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: web::Json<TemplateFields>,
) -> Result<HttpResponse, AppError> {
    let mut fields = body.into_inner();
    validate_fields(&mut fields)?;
    let template = state
        .db
        .write(move |tx| templates::insert(tx, &fields))
        .await?;
    Ok(HttpResponse::Created().json(template))
}

pub(crate) async fn get_template(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(state.db.read(move |conn| templates::get(conn, id)).await?))
}

pub(crate) async fn update_template(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    body: web::Json<TemplateFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut fields = body.into_inner();
    validate_fields(&mut fields)?;
    let template = state
        .db
        .write(move |tx| templates::update(tx, id, &fields))
        .await?;
    Ok(HttpResponse::Ok().json(template))
}

pub(crate) async fn delete_template(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state.db.write(move |tx| templates::delete(tx, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- previews ----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewRequest {
    code: Option<String>,
    language: Option<String>,
    store_id: Option<i64>,
    subject: Option<String>,
    body_html: Option<String>,
    body_text: Option<String>,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize)]
struct PreviewResponse {
    #[serde(flatten)]
    rendered: Rendered,
    layer: Layer,
    language: String,
}

/// Renders a saved template (through the resolution chain) or an unsaved draft, with sample
/// values for the declared variables overlaid by the caller's.
async fn preview(
    state: &AppState,
    request: PreviewRequest,
    store_id: Option<i64>,
    as_store: bool,
) -> Result<HttpResponse, AppError> {
    let language = domain::clean_language(
        "language",
        request
            .language
            .as_deref()
            .unwrap_or(templates::DEFAULT_LANGUAGE),
    )?;
    let code = request.code.clone();
    let declared = match code.clone() {
        Some(code) => {
            state
                .db
                .read(move |conn| templates::variables_of(conn, &code))
                .await?
        }
        None => None,
    };
    if as_store && declared.is_none() {
        return Err(AppError::validation(
            "code",
            "name the platform template you are overriding",
        ));
    }
    let declared = declared.unwrap_or_default();
    let mut context = templates::sample_context(&declared.variables);
    if let (serde_json::Value::Object(map), Some(given)) = (&mut context, &request.variables) {
        for (k, v) in given {
            map.insert(k.clone(), v.clone());
        }
    }

    let (source, layer, language, variables) = match (request.subject, request.body_html) {
        (Some(subject), Some(body_html)) => {
            let source = TemplateSource {
                subject,
                body_html,
                body_text: request.body_text,
            };
            let layer = if as_store {
                Layer::Store
            } else {
                Layer::Platform
            };
            let names = match &context {
                serde_json::Value::Object(map) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            (source, layer, language, names)
        }
        (None, None) => {
            let code = code.ok_or_else(|| {
                AppError::validation("code", "give a code, or a subject and body_html")
            })?;
            let lang = language.clone();
            let resolved = state
                .db
                .read(move |conn| templates::resolve(conn, &code, store_id, &lang))
                .await?
                .ok_or(AppError::NotFound)?;
            (
                resolved.source,
                resolved.layer,
                resolved.language,
                resolved.variables.variables,
            )
        }
        _ => {
            return Err(AppError::validation(
                "body_html",
                "a draft needs both subject and body_html",
            ));
        }
    };
    let rendered = match layer {
        Layer::Store => {
            render::render_untrusted(&state.sandbox_exe, &source, &context, &[], &variables).await
        }
        Layer::Platform => {
            tokio::task::spawn_blocking(move || render::render(&source, &context, &[]))
                .await
                .map_err(AppError::internal)?
        }
    }
    .map_err(|why| AppError::BadRequest {
        code: "invalid_template",
        message: why,
    })?;
    Ok(HttpResponse::Ok().json(PreviewResponse {
        rendered,
        layer,
        language,
    }))
}

pub(crate) async fn admin_preview(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: web::Json<PreviewRequest>,
) -> Result<HttpResponse, AppError> {
    let request = body.into_inner();
    let store_id = request.store_id;
    preview(&state, request, store_id, false).await
}

pub(crate) async fn vendor_preview(
    state: web::Data<AppState>,
    staff: VendorUser,
    body: web::Json<PreviewRequest>,
) -> Result<HttpResponse, AppError> {
    let request = body.into_inner();
    if request.store_id.is_some_and(|s| s != staff.store_id()) {
        return Err(AppError::NotFound);
    }
    preview(&state, request, Some(staff.store_id()), true).await
}

// ---- vendor: overrides -------------------------------------------------------------------------

#[derive(Serialize)]
struct OverridableTemplate {
    code: String,
    language: String,
    name: String,
    category: String,
    variables: Vec<String>,
    required_variables: Vec<String>,
    is_active: bool,
    #[serde(rename = "override")]
    store_override: Option<templates::StoreOverride>,
}

pub(crate) async fn vendor_templates(
    state: web::Data<AppState>,
    staff: VendorUser,
) -> Result<HttpResponse, AppError> {
    let store_id = staff.store_id();
    let list = state
        .db
        .read(move |conn| {
            let platform = templates::list(conn, &TemplateFilter::default())?;
            let overrides = templates::list_overrides(conn, store_id)?;
            let platform_only: std::collections::HashSet<String> = platform
                .iter()
                .filter(|t| t.is_platform_only)
                .map(|t| t.code.clone())
                .collect();
            Ok::<_, AppError>(
                platform
                    .into_iter()
                    .filter(|t| !platform_only.contains(&t.code))
                    .map(|t| OverridableTemplate {
                        store_override: overrides
                            .iter()
                            .find(|o| o.template_code == t.code && o.language == t.language)
                            .cloned(),
                        code: t.code,
                        language: t.language,
                        name: t.name,
                        category: t.category,
                        variables: t.variables,
                        required_variables: t.required_variables,
                        is_active: t.is_active,
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "templates": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideRequest {
    subject: String,
    body_html: String,
    body_text: Option<String>,
    name: Option<String>,
    #[serde(default = "yes")]
    is_active: bool,
}

fn yes() -> bool {
    true
}

/// Saves a store override after the dialect check and a test render in the sandbox, so nothing
/// that fails is ever stored.
pub(crate) async fn put_override(
    state: web::Data<AppState>,
    staff: VendorUser,
    path: web::Path<(String, String)>,
    body: web::Json<OverrideRequest>,
) -> Result<HttpResponse, AppError> {
    let (code, language) = path.into_inner();
    let language = domain::clean_language("language", &language)?;
    let body = body.into_inner();
    let lookup_code = code.clone();
    let variables = state
        .db
        .read(move |conn| templates::overridable(conn, &lookup_code))
        .await?
        .map_err(|why| AppError::BadRequest {
            code: "template_refused",
            message: why,
        })?;
    if body.subject.chars().count() > 500 {
        return Err(AppError::validation(
            "subject",
            "must be at most 500 characters",
        ));
    }
    let name = body
        .name
        .map(|n| domain::clean_line("name", &n, 255))
        .transpose()?;
    let source = TemplateSource {
        subject: body.subject,
        body_html: body.body_html,
        body_text: body.body_text,
    };
    let refused = |why: String| AppError::BadRequest {
        code: "template_refused",
        message: why,
    };
    render::check_dialect(&source, &variables.variables).map_err(refused)?;
    let context = templates::sample_context(&variables.variables);
    render::render_untrusted(
        &state.sandbox_exe,
        &source,
        &context,
        &variables.required,
        &variables.variables,
    )
    .await
    .map_err(refused)?;
    let store_id = staff.store_id();
    let fields = OverrideFields {
        name,
        subject: source.subject,
        body_html: source.body_html,
        body_text: source.body_text,
        is_active: body.is_active,
    };
    let saved = state
        .db
        .write(move |tx| templates::put_override(tx, store_id, &code, &language, &fields))
        .await?;
    tracing::info!(
        store_id,
        code = saved.template_code,
        "store template override saved"
    );
    Ok(HttpResponse::Ok().json(saved))
}

pub(crate) async fn delete_override(
    state: web::Data<AppState>,
    staff: VendorUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (code, language) = path.into_inner();
    let store_id = staff.store_id();
    state
        .db
        .write(move |tx| templates::delete_override(tx, store_id, &code, &language))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- the email log -----------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogQuery {
    status: Option<String>,
    store_id: Option<i64>,
    recipient: Option<String>,
    template_code: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    #[serde(default)]
    skip: u32,
    #[serde(default = "twenty")]
    limit: u32,
}

fn twenty() -> u32 {
    20
}

async fn logs(
    state: &AppState,
    query: LogQuery,
    store_id: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let page = Page {
        skip: query.skip,
        limit: query.limit,
    }
    .checked()?;
    let status = query
        .status
        .as_deref()
        .map(str::parse::<EmailStatus>)
        .transpose()
        .map_err(|why| AppError::validation("status", why))?;
    let filter = outbox::LogFilter {
        status,
        store_id,
        recipient: query.recipient,
        template_code: query.template_code,
        since: query.since,
        until: query.until,
    };
    let (logs, total) = state
        .db
        .read(move |conn| outbox::list_logs(conn, &filter, page.skip, page.limit))
        .await?;
    Ok(HttpResponse::Ok().json(
        serde_json::json!({ "logs": logs, "total": total, "skip": page.skip, "limit": page.limit }),
    ))
}

pub(crate) async fn admin_logs(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let store_id = query.store_id;
    logs(&state, query, store_id).await
}

pub(crate) async fn vendor_logs(
    state: web::Data<AppState>,
    staff: VendorUser,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    // Staff see their own store's log only, whatever store they ask for.
    if query.store_id.is_some_and(|s| s != staff.store_id()) {
        return Err(AppError::NotFound);
    }
    logs(&state, query, Some(staff.store_id())).await
}

pub(crate) async fn retry_email(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state.db.write(move |tx| outbox::retry(tx, id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "id": id, "status": "pending" })))
}

// ---- unsubscribe (public, authorised by the token in the link) ---------------------------------

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{title}</title><style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}\
             button{{font:inherit;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>",
            title = escape_text(title),
        ))
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The confirmation page (a GET never changes anything: mail scanners follow links).
pub(crate) async fn unsubscribe_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let lookup = token.clone();
    let subject = state
        .db
        .read(move |conn| notify::unsubscribe_subject(conn, &lookup))
        .await?;
    Ok(page(
        "Stop these emails?",
        &format!(
            "<p>You will no longer get emails about “{}”. You can still read it after signing in.</p>\
             <form method=\"post\"><button type=\"submit\">Stop emails</button></form>",
            escape_text(&subject)
        ),
    ))
}

/// The unsubscribe itself (RFC 8058 one-click POST, or the page's button).
pub(crate) async fn unsubscribe(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let subject = state
        .db
        .write(move |tx| notify::unsubscribe(tx, &token))
        .await?;
    Ok(page(
        "Unsubscribed",
        &format!(
            "<p>You will no longer get emails about “{}”.</p>",
            escape_text(&subject)
        ),
    ))
}

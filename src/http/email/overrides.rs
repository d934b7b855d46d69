//! A store's own versions of the platform templates (store staff).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::VendorUser;
use crate::domain::{self};
use crate::email::render::{self, TemplateSource};
use crate::email::templates::{self, OverrideFields, TemplateFilter};
use crate::error::AppError;
use crate::state::AppState;

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

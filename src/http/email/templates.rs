//! Platform email templates (admin) and previews of any template (admin and store staff).

use actix_web::{HttpResponse, web};

use crate::auth::{AdminUser, VendorUser};
use crate::domain::{self};
use crate::email::render::{self, TemplateSource};
use crate::email::templates::{self, PreviewRequest, TemplateFields, TemplateFilter};
use crate::error::AppError;
use crate::state::AppState;

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

pub(crate) async fn admin_preview(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: web::Json<PreviewRequest>,
) -> Result<HttpResponse, AppError> {
    let request = body.into_inner();
    let store_id = request.store_id;
    let preview = templates::preview(&state.email(), request, store_id, false).await?;
    Ok(HttpResponse::Ok().json(preview))
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
    let preview = templates::preview(&state.email(), request, Some(staff.store_id()), true).await?;
    Ok(HttpResponse::Ok().json(preview))
}

//! Platform email templates (admin) and previews of any template (admin and store staff).

use actix_web::{HttpResponse, web};

use crate::auth::{AdminUser, VendorUser};
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
    Ok(HttpResponse::Ok().json(TemplateList {
        total: list.len(),
        templates: list,
    }))
}

/// The platform's templates.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TemplateList {
    pub templates: Vec<templates::EmailTemplate>,
    pub total: usize,
}

pub(crate) async fn create_template(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: web::Json<TemplateFields>,
) -> Result<HttpResponse, AppError> {
    let template = templates::create_template(&state.email(), body.into_inner()).await?;
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
    let template =
        templates::update_template(&state.email(), path.into_inner(), body.into_inner()).await?;
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

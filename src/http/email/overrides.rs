//! A store's own versions of the platform templates (store staff).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::VendorUser;
use crate::email::render::TemplateSource;
use crate::email::templates::{self, OverrideDraft};
use crate::error::AppError;
use crate::state::AppState;

pub(crate) async fn vendor_templates(
    state: web::Data<AppState>,
    staff: VendorUser,
) -> Result<HttpResponse, AppError> {
    let store_id = staff.store_id();
    let list = state
        .db
        .read(move |conn| templates::store_choices(conn, store_id))
        .await?;
    Ok(HttpResponse::Ok().json(OverridableList { templates: list }))
}

/// The platform templates a store may have its own version of.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct OverridableList {
    pub templates: Vec<templates::OverridableTemplate>,
}

#[derive(Deserialize, utoipa::ToSchema)]
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
    let body = body.into_inner();
    let draft = OverrideDraft {
        name: body.name,
        source: TemplateSource {
            subject: body.subject,
            body_html: body.body_html,
            body_text: body.body_text,
        },
        is_active: body.is_active,
    };
    let saved =
        templates::save_override(&state.email(), staff.store_id(), code, &language, draft).await?;
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

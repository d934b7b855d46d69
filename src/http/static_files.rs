//! The embedded static assets.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "assets/static/"]
struct Static;

pub(crate) async fn asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let file = Static::get(path.as_str()).ok_or(AppError::NotFound)?;
    let etag: String = file.metadata.sha256_hash()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((header::ETAG, format!("\"{etag}\"")))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.data.into_owned()))
}

/// `/favicon.ico`, which browsers ask for on every site whatever the page names: the same icon.
pub(crate) async fn favicon() -> Result<HttpResponse, AppError> {
    let file = Static::get("favicon.svg").ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(file.data.into_owned()))
}

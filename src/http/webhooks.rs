//! Provider webhooks (`/api/v1/webhooks/email/{sendgrid,mailgun}`) and the SMTP open pixel and
//! click redirect (`/t/o/…`, `/t/c/…`). Events move emails forward only; each request is checked
//! with the store's own signing key before anything changes.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::email::{self, feedback, tracking};
use crate::error::AppError;
use crate::state::AppState;

pub(crate) async fn sendgrid(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signature = header("X-Twilio-Email-Event-Webhook-Signature");
    let timestamp = header("X-Twilio-Email-Event-Webhook-Timestamp");
    let received =
        feedback::receive_sendgrid(&state.email(), signature, timestamp, body.to_vec()).await?;
    Ok(HttpResponse::Ok().json(received))
}

pub(crate) async fn mailgun(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let received = feedback::receive_mailgun(&state.email(), body.to_vec()).await?;
    Ok(HttpResponse::Ok().json(received))
}

/// SES events through Amazon SNS.
pub(crate) async fn ses(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let received = feedback::receive_ses(&state.email(), body.to_vec()).await?;
    Ok(HttpResponse::Ok().json(received))
}

/// The open pixel: records the open (once, forward only) and answers a 1×1 GIF.
pub(crate) async fn open_pixel(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    email::record_open(&state.email(), path.into_inner()).await?;
    // The same pixel whether the token is known or not.
    Ok(HttpResponse::Ok()
        .content_type("image/gif")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(tracking::PIXEL))
}

/// The click redirect: only to the n-th link of that very email.
pub(crate) async fn click(
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, AppError> {
    let (token, n) = path.into_inner();
    let link = email::record_click(&state.email(), token, n).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, link))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

//! What operators and their tools call: `/health`, `/health/ready`, `/metrics`, and the
//! middleware that counts every request for the metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::health::Readiness;
use crate::state::AppState;

/// `GET /health`: the process answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    status: &'static str,
}

pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// `GET /health/ready`: 200 when the database is writable, the disk above its floor and the
/// schema current; 503 with the same body (naming the failed check) otherwise.
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let readiness: Readiness = crate::health::readiness(&state.db, &state.settings).await;
    if readiness.is_ready() {
        HttpResponse::Ok().json(readiness)
    } else {
        HttpResponse::ServiceUnavailable().json(readiness)
    }
}

/// `GET /metrics`: the Prometheus text exposition. 404 unless `metrics.enabled`; with
/// `metrics.token` set, only for `Authorization: Bearer <token>` (401 otherwise).
pub(crate) async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings.metrics;
    if !settings.enabled {
        return Err(AppError::NotFound);
    }
    let expected = settings.token.0.as_bytes();
    if !expected.is_empty() {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(sent.as_bytes().ct_eq(expected)) {
            return Err(AppError::Unauthorized(
                "the metrics token is missing or wrong",
            ));
        }
    }
    let text = crate::health::metrics_exposition(&state.db, state.settings.data_dir()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text))
}

/// Counts the request and its latency by matched route (`unmatched` for the 404s no route
/// took, so a scanner cannot create series). Installed only with `metrics.enabled`.
pub(crate) async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let response = next.call(req).await?;
    let route = response.request().match_pattern();
    crate::metrics::http_request(
        method.as_str(),
        route.as_deref().unwrap_or("unmatched"),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    Ok(response)
}

//! The email log (admin: every store; staff: their own) and the retry of a failed email.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::auth::{AdminUser, VendorUser};
use crate::domain::{EmailStatus, Page};
use crate::email::outbox;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    Ok(HttpResponse::Ok().json(LogList {
        logs,
        total,
        skip: page.skip,
        limit: page.limit,
    }))
}

/// A page of the email log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LogList {
    pub logs: Vec<outbox::EmailLog>,
    pub total: i64,
    pub skip: u32,
    pub limit: u32,
}

/// An email queued again.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Requeued {
    pub id: i64,
    pub status: EmailStatus,
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
    crate::email::retry_email(&state.email(), id).await?;
    Ok(HttpResponse::Ok().json(Requeued {
        id,
        status: EmailStatus::Pending,
    }))
}

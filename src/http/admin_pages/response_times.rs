//! How fast stores answer their customers: the store's own figures (vendor) and every store's,
//! sortable (admin); and the admins' audit log of what they read through oversight.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::Area;
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::http::vendor::{ResponseTimesQuery, response_times_of};
use crate::messaging::response_times::{SortBy, StoreFigures};
use crate::state::AppState;

use super::{Pager, Skip};

/// A duration as the page says it: the words' key and its numbers.
#[derive(Serialize)]
struct Spoken {
    key: &'static str,
    d: i64,
    h: i64,
    m: i64,
}

fn spoken(seconds: Option<i64>) -> Option<Spoken> {
    let s = seconds?;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let key = match (d, h, m) {
        (0, 0, 0) => "duration-under-minute",
        (0, 0, _) => "duration-minutes",
        (0, _, _) => "duration-hours",
        _ => "duration-days",
    };
    Some(Spoken { key, d, h, m })
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    figures: StoreFigures,
    first_response: Option<Spoken>,
    response: Option<Spoken>,
}

#[derive(Serialize)]
struct ResponseTimesPage {
    #[serde(flatten)]
    chrome: Chrome,
    days: u32,
    sort: &'static str,
    sorts: Vec<&'static str>,
    target_hours: i64,
    rows: Vec<Row>,
    all_stores: bool,
}

#[derive(Deserialize)]
pub(crate) struct FiguresQuery {
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    sort: Option<String>,
}

async fn response_times_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    area: Area,
    query: FiguresQuery,
) -> Result<HttpResponse, AppError> {
    let url = format!("/{}/response-times", area.as_str());
    let (auth, chrome) = signed_in!(state, req, area, "nav-response-times", &url);
    let days = match query.days {
        Some(7) => 7,
        _ => 30,
    };
    let sort = SortBy::ALL
        .into_iter()
        .find(|s| query.sort.as_deref() == Some(s.as_str()))
        .unwrap_or_default();
    let store = match auth.actor {
        crate::domain::Actor::Staff { store_id, .. } => Some(store_id),
        _ => None,
    };
    let figures = response_times_of(&state, store, ResponseTimesQuery { days, sort }).await?;
    let rows = figures
        .stores
        .into_iter()
        .map(|f| Row {
            first_response: spoken(f.first_response_median_seconds),
            response: spoken(f.response_median_seconds),
            figures: f,
        })
        .collect();
    let view = ResponseTimesPage {
        chrome,
        days,
        sort: sort.as_str(),
        sorts: SortBy::ALL.iter().map(|s| s.as_str()).collect(),
        target_hours: figures.target_hours,
        rows,
        all_stores: store.is_none(),
    };
    Ok(render_page(&state, "response_times.html", &view))
}

/// Every store's figures (admins).
pub(crate) async fn admin_response_times(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FiguresQuery>,
) -> Result<HttpResponse, AppError> {
    response_times_page(state, req, Area::Admin, query.into_inner()).await
}

/// The store's own figures.
pub(crate) async fn vendor_response_times(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FiguresQuery>,
) -> Result<HttpResponse, AppError> {
    response_times_page(state, req, Area::Vendor, query.into_inner()).await
}

#[derive(Serialize)]
struct AuditPage {
    #[serde(flatten)]
    chrome: Chrome,
    entries: Vec<crate::audit::AuditEntry>,
    pager: Pager,
}

/// The audit log: what admins read through oversight, what keys provisioned.
pub(crate) async fn admin_audit_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Skip>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "nav-audit-log", "/admin/audit-log");
    let page = query.page();
    let (entries, total) = state
        .db
        .read(move |conn| Ok::<_, AppError>(crate::audit::page(conn, page)?))
        .await?;
    let pager = Pager::new(page, entries.len(), total, &[]);
    Ok(render_page(
        &state,
        "admin/audit_log.html",
        &AuditPage {
            chrome,
            entries,
            pager,
        },
    ))
}

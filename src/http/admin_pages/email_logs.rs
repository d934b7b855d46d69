//! The email log pages (admin: every store, with retry; store staff: their own).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::{Area, EmailStatus};
use crate::email::outbox::{self, EmailLog, LogFilter};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

use super::{Pager, Skip};

/// The filters as typed in the form, shown back as typed.
#[derive(Deserialize, Serialize, Default)]
pub(crate) struct LogQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    template_code: String,
    // Not `#[serde(flatten)] Skip`: flattened numbers do not parse from a query string.
    #[serde(default, skip_serializing)]
    skip: u32,
}

impl LogQuery {
    fn filter(&self, store_id: Option<i64>) -> LogFilter {
        let given = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        LogFilter {
            status: self.status.parse().ok(),
            store_id,
            recipient: given(&self.recipient),
            template_code: given(&self.template_code),
            since: None,
            until: None,
        }
    }
}

#[derive(Serialize)]
struct EmailLogsPage {
    #[serde(flatten)]
    chrome: Chrome,
    logs: Vec<EmailLog>,
    pager: Pager,
    filter: LogQuery,
    statuses: Vec<&'static str>,
    can_retry: bool,
}

async fn email_logs(
    state: &AppState,
    chrome: Chrome,
    query: LogQuery,
    store_id: Option<i64>,
    can_retry: bool,
) -> Result<HttpResponse, AppError> {
    let (filter, page) = (query.filter(store_id), Skip { skip: query.skip }.page());
    let (logs, total) = state
        .db
        .read(move |conn| outbox::list_logs(conn, &filter, page.skip, page.limit))
        .await?;
    let kept = [
        ("status", query.status.as_str()),
        ("recipient", query.recipient.as_str()),
        ("template_code", query.template_code.as_str()),
    ];
    let view = EmailLogsPage {
        pager: Pager::new(page, logs.len(), total, &kept),
        chrome,
        logs,
        filter: query,
        statuses: EmailStatus::ALL.iter().map(|s| s.as_str()).collect(),
        can_retry,
    };
    Ok(render_page(state, "email_logs.html", &view))
}

pub(crate) async fn admin_email_logs(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "nav-email-logs",
        "/admin/email-logs"
    );
    email_logs(&state, chrome, q.into_inner(), None, true).await
}

pub(crate) async fn vendor_email_logs(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "nav-email-logs",
        "/vendor/email-logs"
    );
    email_logs(&state, chrome, q.into_inner(), auth.actor.store_id(), false).await
}

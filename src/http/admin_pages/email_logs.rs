//! The email log pages (admin: every store; store staff: their own).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::domain::{Area, EmailStatus};
use crate::email::outbox::{self, LogFilter};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

use super::*;

#[derive(Deserialize)]
pub(crate) struct LogQuery {
    status: Option<String>,
    recipient: Option<String>,
    template_code: Option<String>,
}

async fn email_logs(
    state: &AppState,
    chrome: Chrome,
    query: LogQuery,
    store_id: Option<i64>,
    admin: bool,
) -> Result<HttpResponse, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let filter = LogFilter {
        status: nonempty(query.status.clone()).and_then(|s| s.parse().ok()),
        store_id,
        recipient: nonempty(query.recipient.clone()),
        template_code: nonempty(query.template_code.clone()),
        since: None,
        until: None,
    };
    let shown = filter.clone();
    let (logs, total) = state
        .db
        .read(move |conn| outbox::list_logs(conn, &shown, 0, 100))
        .await?;
    let rows = logs
        .into_iter()
        .map(|l| Row {
            actions: if admin && l.status == EmailStatus::Failed {
                vec![Action {
                    label: "Retry",
                    url: format!("/api/v1/admin/email-logs/{}/retry", l.id),
                    method: "POST",
                }]
            } else {
                Vec::new()
            },
            cells: vec![
                cell(l.created_at.format("%Y-%m-%d %H:%M")),
                cell(&l.recipient_email),
                cell(l.template_code.unwrap_or_default()),
                cell(&l.subject),
                cell(l.status.as_str()),
                cell(l.retry_count),
                cell(
                    l.error_message
                        .or(l.store_template_error)
                        .unwrap_or_default(),
                ),
            ],
        })
        .collect();
    let mut statuses = vec![""];
    statuses.extend(EmailStatus::ALL.iter().map(|s| s.as_str()));
    let mut page = TablePage::new(
        chrome,
        vec![
            "Created",
            "Recipient",
            "Template",
            "Subject",
            "Status",
            "Attempts",
            "Problem",
        ],
        rows,
    );
    page.intro = format!("{total} emails match (the latest 100 are shown).");
    page.filters = vec![
        select(
            "status",
            "Status",
            &statuses,
            filter.status.map(EmailStatus::as_str).unwrap_or_default(),
        ),
        field(
            "recipient",
            "Recipient",
            "text",
            filter.recipient.unwrap_or_default(),
        ),
        field(
            "template_code",
            "Template",
            "text",
            filter.template_code.unwrap_or_default(),
        ),
    ];
    Ok(render_page(state, "table.html", &page))
}

pub(crate) async fn admin_email_logs(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "Email logs", "/admin/email-logs");
    email_logs(&state, chrome, q.into_inner(), None, true).await
}

pub(crate) async fn vendor_email_logs(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(state, req, Area::Vendor, "Email logs", "/vendor/email-logs");
    email_logs(&state, chrome, q.into_inner(), auth.actor.store_id(), false).await
}

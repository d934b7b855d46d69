//! The admin notifications page.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::alerts;
use crate::domain::Area;
use crate::error::AppError;
use crate::http::pages::{chrome, page_user, render_page};
use crate::state::AppState;

use super::*;

pub(crate) async fn admin_notifications(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "Notifications",
        "/admin/notifications"
    );
    let filter = alerts::AlertFilter {
        limit: 100,
        ..Default::default()
    };
    let (items, _) = state
        .db
        .read(move |conn| alerts::list(conn, &filter))
        .await?;
    let rows = items
        .into_iter()
        .map(|n| Row {
            actions: if n.is_read {
                Vec::new()
            } else {
                vec![Action {
                    label: "Mark read",
                    url: format!("/api/v1/admin/notifications/{}/read", n.id),
                    method: "PUT",
                }]
            },
            cells: vec![
                cell(n.updated_at.format("%Y-%m-%d %H:%M")),
                cell(n.priority),
                cell(n.notification_type),
                cell(&n.title),
                cell(&n.message),
                cell(if n.is_read { "read" } else { "new" }),
            ],
        })
        .collect();
    let page = TablePage::new(
        chrome,
        vec!["When", "Priority", "Type", "Title", "Message", "State"],
        rows,
    );
    Ok(render_page(&state, "table.html", &page))
}

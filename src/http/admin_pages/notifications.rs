//! The admin notifications page.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::alerts::{self, AdminNotification};
use crate::domain::Area;
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

use super::{Pager, Skip};

#[derive(Serialize)]
struct NotificationsPage {
    #[serde(flatten)]
    chrome: Chrome,
    notifications: Vec<AdminNotification>,
    pager: Pager,
}

pub(crate) async fn admin_notifications(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Skip>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "nav-notifications",
        "/admin/notifications"
    );
    let page = query.page();
    let filter = alerts::AlertFilter {
        skip: page.skip,
        limit: page.limit,
        ..Default::default()
    };
    let (notifications, total) = state
        .db
        .read(move |conn| alerts::list(conn, &filter))
        .await?;
    let pager = Pager::new(page, notifications.len(), total, &[]);
    let view = NotificationsPage {
        chrome,
        notifications,
        pager,
    };
    Ok(render_page(&state, "admin/notifications.html", &view))
}

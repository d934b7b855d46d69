//! The admin's stores page and the customer's account page.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::accounts;
use crate::domain::{Area, Page};
use crate::error::AppError;
use crate::http::pages::{chrome, page_user, render_page};
use crate::state::AppState;

use super::*;

pub(crate) async fn shop_account(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Shop, "Your account", "/shop/account");
    Ok(render_page(&state, "account.html", &chrome))
}

pub(crate) async fn admin_stores(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "Stores", "/admin/stores");
    let (stores, _) = state
        .db
        .read(|conn| {
            accounts::list_stores(
                conn,
                Page {
                    skip: 0,
                    limit: 100,
                },
            )
        })
        .await?;
    let rows = stores
        .into_iter()
        .map(|s| Row {
            cells: vec![
                cell(s.id),
                cell(&s.code),
                cell(&s.name),
                cell(s.tier),
                cell(if s.is_active { "active" } else { "disabled" }),
            ],
            actions: Vec::new(),
        })
        .collect();
    let mut page = TablePage::new(chrome, vec!["Id", "Code", "Name", "Tier", "State"], rows);
    page.form = Some(FormSpec {
        title: "Add a store".into(),
        url: "/api/v1/admin/stores".into(),
        method: "POST",
        submit: "Add store",
        fields: vec![
            field("code", "Code (a-z, 0-9, -)", "text", ""),
            field("name", "Name", "text", ""),
            select(
                "tier",
                "Tier",
                &["essential", "professional", "business", "enterprise"],
                "essential",
            ),
        ],
        ..Default::default()
    });
    Ok(render_page(&state, "table.html", &page))
}

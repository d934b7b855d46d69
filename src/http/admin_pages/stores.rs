//! The admin's stores page and the customer's account page.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::accounts::{self, Store};
use crate::domain::{Area, Tier};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

use super::{Pager, Skip};

pub(crate) async fn shop_account(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Shop, "Your account", "/shop/account");
    Ok(render_page(&state, "shop/account.html", &chrome))
}

#[derive(Serialize)]
struct StoresPage {
    #[serde(flatten)]
    chrome: Chrome,
    stores: Vec<Store>,
    pager: Pager,
    tiers: &'static [Tier],
}

pub(crate) async fn admin_stores(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Skip>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "Stores", "/admin/stores");
    let page = query.page();
    let (stores, total) = state
        .db
        .read(move |conn| accounts::list_stores(conn, page))
        .await?;
    let pager = Pager::new(page, stores.len(), total, &[]);
    let view = StoresPage {
        chrome,
        stores,
        pager,
        tiers: Tier::ALL,
    };
    Ok(render_page(&state, "admin/stores.html", &view))
}

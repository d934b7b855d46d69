//! The admin's stores pages, and a store's own customers and team.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::accounts::{self, Customer, Store, User};
use crate::domain::{Area, Page, Tier};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

use super::{Pager, ROWS_PER_PAGE, Skip};

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
    let (_, chrome) = signed_in!(state, req, Area::Admin, "nav-stores", "/admin/stores");
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

#[derive(Deserialize)]
pub(crate) struct StoreQuery {
    #[serde(default)]
    staff_skip: u32,
    #[serde(default)]
    customers_skip: u32,
}

#[derive(Serialize)]
struct StorePage {
    #[serde(flatten)]
    chrome: Chrome,
    store: Store,
    staff: Vec<User>,
    staff_pager: Pager,
    customers: Vec<Customer>,
    customers_pager: Pager,
    /// Where the tables' rows send their changes, and what an empty customer table says.
    staff_url: String,
    customer_url: String,
    customers_api: String,
    customers_empty: &'static str,
}

/// One store: its staff (add, disable, enable) and its customers (add).
pub(crate) async fn admin_store(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<StoreQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "nav-stores", "/admin/stores");
    let id = path.into_inner();
    let page = |skip| Page {
        skip,
        limit: ROWS_PER_PAGE,
    };
    let (staff_page, customers_page) = (page(query.staff_skip), page(query.customers_skip));
    let (store, (staff, staff_total), (customers, customers_total)) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                accounts::get_store(conn, id)?,
                accounts::list_store_users(conn, id, staff_page)?,
                accounts::list_customers(conn, id, customers_page)?,
            ))
        })
        .await?;
    let view = StorePage {
        staff_pager: Pager::named("staff_skip", staff_page, staff.len(), staff_total, &[]),
        customers_pager: Pager::named(
            "customers_skip",
            customers_page,
            customers.len(),
            customers_total,
            &[],
        ),
        chrome: chrome.titled(&store.name),
        staff_url: format!("/api/v1/admin/stores/{id}/users/"),
        customer_url: format!("/api/v1/admin/stores/{id}/customers/"),
        customers_api: format!("/api/v1/admin/stores/{id}/customers"),
        customers_empty: "customers-empty-admin",
        store,
        staff,
        customers,
    };
    Ok(render_page(&state, "admin/store.html", &view))
}

#[derive(Serialize)]
struct CustomersPage {
    #[serde(flatten)]
    chrome: Chrome,
    customers: Vec<Customer>,
    pager: Pager,
    customer_url: &'static str,
    customers_api: &'static str,
    customers_empty: &'static str,
}

/// A store's customers, for its staff: the list and adding one.
pub(crate) async fn vendor_customers(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Skip>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "nav-customers",
        "/vendor/customers"
    );
    let store_id = auth.actor.store_id().unwrap_or_default();
    let page = query.page();
    let (customers, total) = state
        .db
        .read(move |conn| accounts::list_customers(conn, store_id, page))
        .await?;
    let view = CustomersPage {
        pager: Pager::new(page, customers.len(), total, &[]),
        chrome,
        customers,
        customer_url: "/api/v1/vendor/customers/",
        customers_api: "/api/v1/vendor/customers",
        customers_empty: "customers-empty-store",
    };
    Ok(render_page(&state, "vendor/customers.html", &view))
}

#[derive(Serialize)]
struct TeamPage {
    #[serde(flatten)]
    chrome: Chrome,
    staff: Vec<User>,
    pager: Pager,
    /// Staff see their team; only the platform adds and disables members.
    staff_url: &'static str,
}

/// A store's team, for its staff: who else answers the store's messages.
pub(crate) async fn vendor_team(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Skip>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(state, req, Area::Vendor, "nav-team", "/vendor/team");
    let store_id = auth.actor.store_id().unwrap_or_default();
    let page = query.page();
    let (staff, total) = state
        .db
        .read(move |conn| accounts::list_store_users(conn, store_id, page))
        .await?;
    let view = TeamPage {
        pager: Pager::new(page, staff.len(), total, &[]),
        chrome,
        staff,
        staff_url: "",
    };
    Ok(render_page(&state, "vendor/team.html", &view))
}

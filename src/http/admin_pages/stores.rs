//! The admin's stores page and the customer's account page.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::accounts::{self, Customer, Store, User};
use crate::domain::{Area, Page, Tier};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

use super::{Pager, ROWS_PER_PAGE, Skip};

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
}

/// One store: its staff (add, disable, enable) and its customers (add).
pub(crate) async fn admin_store(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<StoreQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "Store", "/admin/stores");
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
        chrome,
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
}

/// A store's customers, for its staff: the list and adding one.
pub(crate) async fn vendor_customers(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Skip>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(state, req, Area::Vendor, "Customers", "/vendor/customers");
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
    };
    Ok(render_page(&state, "vendor/customers.html", &view))
}

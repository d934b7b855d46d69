//! Admin API: stores, their staff and their customers.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::service::{self, PersonChange, PersonInput};
use crate::accounts::{self, StorePatch};
use crate::auth::AdminUser;
use crate::domain::{self, Page, Tier};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStore {
    code: String,
    name: String,
    #[serde(default = "default_tier")]
    tier: Tier,
}

fn default_tier() -> Tier {
    Tier::Essential
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateStore {
    name: Option<String>,
    tier: Option<Tier>,
    is_active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    email: String,
    password: String,
    full_name: String,
    language: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCustomer {
    email: String,
    password: Option<String>,
    full_name: String,
    language: Option<String>,
}

/// A page of stores.
#[derive(Serialize, ToSchema)]
pub(crate) struct StoreList {
    pub stores: Vec<accounts::Store>,
    pub total: i64,
    pub skip: u32,
    pub limit: u32,
}

/// A page of a store's staff.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserList {
    pub users: Vec<accounts::User>,
    pub total: i64,
    pub skip: u32,
    pub limit: u32,
}

/// A page of a store's customers.
#[derive(Serialize, ToSchema)]
pub(crate) struct CustomerList {
    pub customers: Vec<accounts::Customer>,
    pub total: i64,
    pub skip: u32,
    pub limit: u32,
}

pub(crate) async fn create_store(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: web::Json<CreateStore>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let code = domain::clean_store_code(body.code.trim())?;
    let name = domain::clean_line("name", &body.name, 255)?;
    let store = state
        .db
        .write(move |tx| accounts::insert_store(tx, &code, &name, body.tier))
        .await?;
    tracing::info!(store_id = store.id, "store created");
    Ok(HttpResponse::Created().json(store))
}

pub(crate) async fn list_stores(
    state: web::Data<AppState>,
    _admin: AdminUser,
    page: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    let page = page.into_inner().checked()?;
    let (stores, total) = state
        .db
        .read(move |conn| accounts::list_stores(conn, page))
        .await?;
    Ok(HttpResponse::Ok().json(StoreList {
        stores,
        total,
        skip: page.skip,
        limit: page.limit,
    }))
}

pub(crate) async fn get_store(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let store = state
        .db
        .read(move |conn| accounts::get_store(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(store))
}

pub(crate) async fn update_store(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    body: web::Json<UpdateStore>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let patch = StorePatch {
        name: body
            .name
            .map(|n| domain::clean_line("name", &n, 255))
            .transpose()?,
        tier: body.tier,
        is_active: body.is_active,
    };
    let store = state
        .db
        .write(move |tx| accounts::update_store(tx, id, &patch))
        .await?;
    Ok(HttpResponse::Ok().json(store))
}

pub(crate) async fn create_store_user(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let person = PersonInput {
        email: body.email,
        password: Some(body.password),
        full_name: body.full_name,
        language: body.language,
    };
    let user = service::create_store_user(&state.accounts(), *path, person).await?;
    Ok(HttpResponse::Created().json(user))
}

pub(crate) async fn list_store_users(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    page: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    let store_id = path.into_inner();
    let page = page.into_inner().checked()?;
    let (users, total) = state
        .db
        .read(move |conn| {
            accounts::get_store(conn, store_id)?;
            accounts::list_store_users(conn, store_id, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserList {
        users,
        total,
        skip: page.skip,
        limit: page.limit,
    }))
}

pub(crate) async fn update_store_user(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<(i64, i64)>,
    body: web::Json<PersonChange>,
) -> Result<HttpResponse, AppError> {
    let (store_id, user_id) = path.into_inner();
    let user =
        service::update_store_user(&state.accounts(), store_id, user_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(user))
}

pub(crate) async fn update_customer(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<(i64, i64)>,
    body: web::Json<PersonChange>,
) -> Result<HttpResponse, AppError> {
    let (store_id, customer_id) = path.into_inner();
    let customer =
        service::update_customer(&state.accounts(), store_id, customer_id, body.into_inner())
            .await?;
    Ok(HttpResponse::Ok().json(customer))
}

pub(crate) async fn create_customer(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    body: web::Json<CreateCustomer>,
) -> Result<HttpResponse, AppError> {
    insert_customer(&state, *path, body.into_inner()).await
}

pub(crate) async fn list_customers(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    page: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    let store_id = path.into_inner();
    state
        .db
        .read(move |conn| accounts::get_store(conn, store_id))
        .await?;
    customer_list(&state, store_id, page.into_inner()).await
}

/// Shared by the admin and vendor routes: the store id comes from the path (admin) or the
/// caller's own membership (vendor), never from the body.
pub(super) async fn insert_customer(
    state: &AppState,
    store_id: i64,
    body: CreateCustomer,
) -> Result<HttpResponse, AppError> {
    let person = PersonInput {
        email: body.email,
        password: body.password,
        full_name: body.full_name,
        language: body.language,
    };
    let customer = service::create_customer(&state.accounts(), store_id, person).await?;
    Ok(HttpResponse::Created().json(customer))
}

pub(super) async fn customer_list(
    state: &AppState,
    store_id: i64,
    page: Page,
) -> Result<HttpResponse, AppError> {
    let page = page.checked()?;
    let (customers, total) = state
        .db
        .read(move |conn| accounts::list_customers(conn, store_id, page))
        .await?;
    Ok(HttpResponse::Ok().json(CustomerList {
        customers,
        total,
        skip: page.skip,
        limit: page.limit,
    }))
}

/// A page of the audit log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AuditLog {
    entries: Vec<crate::audit::AuditEntry>,
    total: i64,
}

/// Who read or did what, when: what admins read through oversight, what keys provisioned.
pub(crate) async fn audit_log(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    let page = query.into_inner().checked()?;
    let (entries, total) = state
        .db
        .read(move |conn| Ok::<_, AppError>(crate::audit::page(conn, page)?))
        .await?;
    Ok(HttpResponse::Ok().json(AuditLog { entries, total }))
}

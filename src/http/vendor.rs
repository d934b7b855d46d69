//! Vendor (store staff) API: the store's own customers.

use actix_web::{HttpResponse, web};

use super::admin::{CreateCustomer, customer_list, insert_customer};
use crate::accounts::service::{self, PersonChange};
use crate::auth::VendorUser;
use crate::domain::Page;
use crate::error::AppError;
use crate::state::AppState;

pub(crate) async fn create_customer(
    state: web::Data<AppState>,
    staff: VendorUser,
    body: web::Json<CreateCustomer>,
) -> Result<HttpResponse, AppError> {
    insert_customer(&state, staff.store_id(), body.into_inner()).await
}

pub(crate) async fn list_customers(
    state: web::Data<AppState>,
    staff: VendorUser,
    page: web::Query<Page>,
) -> Result<HttpResponse, AppError> {
    customer_list(&state, staff.store_id(), page.into_inner()).await
}

/// Staff rename, disable or enable a customer of their own store; another store's is a 404.
pub(crate) async fn update_customer(
    state: web::Data<AppState>,
    staff: VendorUser,
    path: web::Path<i64>,
    body: web::Json<PersonChange>,
) -> Result<HttpResponse, AppError> {
    let customer = service::update_customer(
        &state.accounts(),
        staff.store_id(),
        path.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(customer))
}

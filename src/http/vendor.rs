//! Vendor (store staff) API: the store's own customers.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResponseTimesQuery {
    /// 7 or 30 (the default).
    #[serde(default = "thirty")]
    pub days: u32,
    /// How the stores are ordered (admins): worst first for the figures.
    #[serde(default)]
    #[param(inline)]
    pub sort: crate::messaging::response_times::SortBy,
}

fn thirty() -> u32 {
    30
}

/// Stores' answering figures.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ResponseTimes {
    pub days: u32,
    /// The platform's target, in hours.
    pub target_hours: i64,
    pub stores: Vec<crate::messaging::response_times::StoreFigures>,
}

/// How fast `store` (or, for `None`, every active store) answers its customers.
pub(crate) async fn response_times_of(
    state: &AppState,
    store: Option<i64>,
    query: ResponseTimesQuery,
) -> Result<ResponseTimes, AppError> {
    use crate::messaging::response_times;
    let days = response_times::checked_days(query.days)?;
    state
        .db
        .read_pooled(move |conn| {
            let stores =
                response_times::figures(conn, store, days, query.sort, chrono::Utc::now())?;
            let target_hours =
                crate::platform::number(conn, crate::platform::RESPONSE_TARGET_HOURS)?;
            Ok::<_, AppError>(ResponseTimes {
                days,
                target_hours,
                stores,
            })
        })
        .await
}

/// The store's own answering figures.
pub(crate) async fn response_times(
    state: web::Data<AppState>,
    staff: VendorUser,
    query: web::Query<ResponseTimesQuery>,
) -> Result<HttpResponse, AppError> {
    let store = staff.store_id();
    Ok(HttpResponse::Ok().json(response_times_of(&state, Some(store), query.into_inner()).await?))
}

/// Every store's answering figures (admins).
pub(crate) async fn all_response_times(
    state: web::Data<AppState>,
    _admin: crate::auth::AdminUser,
    query: web::Query<ResponseTimesQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(response_times_of(&state, None, query.into_inner()).await?))
}

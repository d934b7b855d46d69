//! Outgoing webhook endpoints: `/api/v1/admin/webhooks` (the platform's, every event) and
//! `/api/v1/vendor/webhooks` (a store's, its own events), with each endpoint's delivery log.
//! Another owner's endpoint is not found.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::extract::AreaUser;
use crate::domain::Actor;
use crate::error::AppError;
use crate::integration::webhooks::{self, EndpointInput, Owner};
use crate::state::AppState;

/// Whose endpoints a caller manages: an admin the platform's, staff their store's.
fn owner(actor: &Actor) -> Result<(Owner, String), AppError> {
    match *actor {
        Actor::Admin { user_id } => Ok((Owner::Platform, format!("admin:{user_id}"))),
        Actor::Staff { user_id, store_id } => {
            Ok((Owner::Store(store_id), format!("store:{user_id}")))
        }
        Actor::Customer { .. } => Err(AppError::NotFound),
    }
}

pub(crate) async fn create<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    body: web::Json<EndpointInput>,
) -> Result<HttpResponse, AppError> {
    let (owner, by) = owner(&user.auth().actor)?;
    let created = webhooks::create(
        &state.db,
        &state.key,
        &state.settings.webhooks,
        owner,
        by,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

pub(crate) async fn list<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    let (owner, _) = owner(&user.auth().actor)?;
    let endpoints = state
        .db
        .read(move |conn| webhooks::list(conn, owner))
        .await?;
    Ok(HttpResponse::Ok().json(EndpointList {
        webhooks: endpoints,
    }))
}

/// The caller's webhook endpoints (their secrets never shown again).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct EndpointList {
    pub webhooks: Vec<webhooks::Endpoint>,
}

/// An endpoint's latest deliveries, newest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryLog {
    pub deliveries: Vec<webhooks::Delivery>,
}

pub(crate) async fn delete<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (owner, _) = owner(&user.auth().actor)?;
    let id = path.into_inner();
    state
        .db
        .write(move |tx| webhooks::delete(tx, owner, id))
        .await?;
    tracing::info!(endpoint_id = id, "webhook endpoint removed");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointChange {
    is_active: bool,
}

/// `PATCH …/webhooks/{id}` `{is_active}`: off, or on again (what it held back is sent at once).
pub(crate) async fn update<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<EndpointChange>,
) -> Result<HttpResponse, AppError> {
    let (owner, _) = owner(&user.auth().actor)?;
    let (id, active) = (path.into_inner(), body.is_active);
    let endpoint = state
        .db
        .write(move |tx| webhooks::set_active(tx, owner, id, active))
        .await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogQuery {
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    50
}

/// `GET …/webhooks/{id}/deliveries`: the newest deliveries with what the receiver answered.
pub(crate) async fn deliveries<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let (owner, _) = owner(&user.auth().actor)?;
    if !(1..=200).contains(&query.limit) {
        return Err(AppError::validation("limit", "must be between 1 and 200"));
    }
    let (id, limit) = (path.into_inner(), query.limit);
    let log = state
        .db
        .read(move |conn| webhooks::deliveries(conn, owner, id, limit))
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryLog { deliveries: log }))
}

//! The platform's side: the admin's API keys, and what a key does (provisioning by the
//! platform's ids, opening the conversation about an order). Every write a key makes is recorded against it in the audit log.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::accounts::provision::{self, PersonInput, StoreInput, Upserted};
use crate::auth::AdminUser;
use crate::auth::extract::PlatformKey;
use crate::auth::session::SessionKind;
use crate::domain::{Actor, Area, Scope};
use crate::error::AppError;
use crate::integration::keys::{self, KeyInput};
use crate::messaging::ConversationContext;
use crate::messaging::service::{self, PlatformConversation};
use crate::state::AppState;

/// `POST /api/v1/admin/api-keys`: the answer is the only place the key itself appears.
pub(crate) async fn create_key(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<KeyInput>,
) -> Result<HttpResponse, AppError> {
    let Actor::Admin { user_id } = admin.0.actor else {
        return Err(AppError::NotFound);
    };
    let input = body.into_inner();
    let created = state
        .db
        .write(move |tx| keys::create(tx, user_id, &input))
        .await?;
    tracing::info!(key_id = created.api_key.id, "integration key created");
    Ok(HttpResponse::Created().json(created))
}

pub(crate) async fn list_keys(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let keys = state.db.read(keys::list).await?;
    Ok(HttpResponse::Ok().json(KeyList { keys }))
}

/// The integration keys (secrets never shown again).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct KeyList {
    pub keys: Vec<keys::ApiKey>,
}

pub(crate) async fn revoke_key(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state.db.write(move |tx| keys::revoke(tx, id)).await?;
    tracing::info!(key_id = id, "integration key revoked");
    Ok(HttpResponse::NoContent().finish())
}

fn answer<T: serde::Serialize>((row, upserted): (T, Upserted)) -> HttpResponse {
    match upserted {
        Upserted::Created => HttpResponse::Created().json(row),
        Upserted::Updated => HttpResponse::Ok().json(row),
    }
}

/// `PUT /api/v1/integration/stores/{external_id}`.
pub(crate) async fn put_store(
    state: web::Data<AppState>,
    key: PlatformKey,
    path: web::Path<String>,
    body: web::Json<StoreInput>,
) -> Result<HttpResponse, AppError> {
    key.0.require(Scope::Provision)?;
    let by = key.0.audit_name();
    let done = provision::put_store(&state.db, by, &path, body.into_inner()).await?;
    Ok(answer(done))
}

/// `PUT /api/v1/integration/stores/{store_external_id}/users/{external_id}`.
pub(crate) async fn put_staff(
    state: web::Data<AppState>,
    key: PlatformKey,
    path: web::Path<(String, String)>,
    body: web::Json<PersonInput>,
) -> Result<HttpResponse, AppError> {
    key.0.require(Scope::Provision)?;
    let (store, person) = path.into_inner();
    let by = key.0.audit_name();
    let done = provision::put_staff(&state.db, by, &store, &person, body.into_inner()).await?;
    Ok(answer(done))
}

/// `PUT /api/v1/integration/stores/{store_external_id}/customers/{external_id}`.
pub(crate) async fn put_customer(
    state: web::Data<AppState>,
    key: PlatformKey,
    path: web::Path<(String, String)>,
    body: web::Json<PersonInput>,
) -> Result<HttpResponse, AppError> {
    key.0.require(Scope::Provision)?;
    let (store, person) = path.into_inner();
    let by = key.0.audit_name();
    let done = provision::put_customer(&state.db, by, &store, &person, body.into_inner()).await?;
    Ok(answer(done))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConversationRequest {
    store_external_id: String,
    customer_external_id: String,
    /// Who answers for the store; the store's longest-serving staff member when absent.
    staff_external_id: Option<String>,
    subject: String,
    context: ConversationContext,
    initial_message: Option<String>,
}

/// `POST /api/v1/integration/conversations`: the thread of this store and customer about this
/// order (or product, …), found (200) or opened (201).
pub(crate) async fn find_or_open_conversation(
    state: web::Data<AppState>,
    key: PlatformKey,
    body: web::Json<ConversationRequest>,
) -> Result<HttpResponse, AppError> {
    key.0.require(Scope::Conversations)?;
    let body = body.into_inner();
    let asked = PlatformConversation {
        store_external_id: body.store_external_id,
        customer_external_id: body.customer_external_id,
        staff_external_id: body.staff_external_id,
        subject: body.subject,
        context: body.context,
        initial_message: body.initial_message,
    };
    let (detail, created) =
        service::find_or_open_for_platform(&state.messaging(), key.0.audit_name(), asked)
            .await?
            .publish(&state.events);
    Ok(if created {
        HttpResponse::Created().json(detail)
    } else {
        HttpResponse::Ok().json(detail)
    })
}

/// The area a platform session is for.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SessionArea {
    Admin,
    Vendor,
    Shop,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionRequest {
    area: SessionArea,
    /// The person's id on the platform.
    external_id: String,
    /// Their store's id on the platform (vendor and shop).
    store_external_id: Option<String>,
}

/// `POST /api/v1/integration/sessions` (scope `sso`): a bearer session for a provisioned person,
/// for the platform's own apps, which have signed their user in already; answered as a login is.
pub(crate) async fn open_session(
    state: web::Data<AppState>,
    key: PlatformKey,
    body: web::Json<SessionRequest>,
) -> Result<HttpResponse, AppError> {
    key.0.require(Scope::Sso)?;
    let body = body.into_inner();
    let area = match body.area {
        SessionArea::Admin => Area::Admin,
        SessionArea::Vendor => Area::Vendor,
        SessionArea::Shop => Area::Shop,
    };
    let signed_in = crate::accounts::sso::sign_in_by_key(
        &state.db,
        key.0.audit_name(),
        area,
        body.store_external_id,
        body.external_id,
    )
    .await?;
    let (principal, who) = super::auth::principal_of(signed_in);
    super::auth::start_session(&state, area, principal, who, SessionKind::Bearer).await
}

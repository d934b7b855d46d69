//! Vendor API: the store's own email sending settings and their verification; admin API: the
//! appliance's notifications.

use actix_web::{HttpResponse, web};

use crate::alerts::{self, AlertFilter};
use crate::auth::{AdminUser, VendorUser};
use crate::domain::Actor;
use crate::email::settings::{self, SettingsChange};
use crate::error::AppError;
use crate::state::AppState;

pub(crate) async fn get_settings(
    state: web::Data<AppState>,
    staff: VendorUser,
) -> Result<HttpResponse, AppError> {
    let store_id = staff.store_id();
    let stored = state
        .db
        .read(move |conn| settings::load(conn, store_id))
        .await?;
    Ok(HttpResponse::Ok().json(stored.view()))
}

pub(crate) async fn update_settings(
    state: web::Data<AppState>,
    staff: VendorUser,
    body: web::Json<SettingsChange>,
) -> Result<HttpResponse, AppError> {
    let view =
        settings::change_settings(&state.email(), staff.store_id(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub(crate) async fn verify_settings(
    state: web::Data<AppState>,
    staff: VendorUser,
) -> Result<HttpResponse, AppError> {
    let store_id = staff.store_id();
    // Each verification connects out: a few a minute per store.
    state
        .login_limiter
        .check_account(format!("verify:{store_id}"))?;
    let Actor::Staff { user_id, .. } = staff.0.actor else {
        return Err(AppError::NotFound);
    };
    let verification = settings::verify_settings(&state.email(), store_id, user_id).await?;
    Ok(HttpResponse::Ok().json(verification))
}

// ---- admin notifications -----------------------------------------------------------------------

pub(crate) async fn list_notifications(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AlertFilter>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let (notifications, total) = state
        .db
        .read(move |conn| alerts::list(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(NotificationList {
        notifications,
        total,
    }))
}

pub(crate) async fn notifications_unread(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let count = state.db.read(alerts::unread_count).await?;
    Ok(HttpResponse::Ok().json(UnreadNotifications {
        unread_count: count,
    }))
}

pub(crate) async fn read_notification(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let Actor::Admin { user_id } = admin.0.actor else {
        return Err(AppError::NotFound);
    };
    state
        .db
        .write(move |tx| alerts::mark_read(tx, id, user_id))
        .await?;
    Ok(HttpResponse::Ok().json(NotificationRead { id, is_read: true }))
}

pub(crate) async fn read_all_notifications(
    state: web::Data<AppState>,
    admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let Actor::Admin { user_id } = admin.0.actor else {
        return Err(AppError::NotFound);
    };
    let marked = state
        .db
        .write(move |tx| alerts::mark_all_read(tx, user_id))
        .await?;
    Ok(HttpResponse::Ok().json(MarkedRead {
        marked_read: marked,
    }))
}

/// A page of admin notifications.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct NotificationList {
    pub notifications: Vec<crate::alerts::AdminNotification>,
    pub total: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UnreadNotifications {
    pub unread_count: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct NotificationRead {
    pub id: i64,
    pub is_read: bool,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct MarkedRead {
    pub marked_read: usize,
}

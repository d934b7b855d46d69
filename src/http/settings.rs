//! Admin API: platform settings such as `message_attachment_max_size_mb`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::platform;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateSetting {
    /// A number, a boolean or a string; validated per key.
    value: serde_json::Value,
}

pub(crate) async fn list_settings(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let settings = state.db.read(platform::list).await?;
    Ok(HttpResponse::Ok().json(SettingList { settings }))
}

/// Every platform setting with its value.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SettingList {
    pub settings: Vec<crate::platform::Setting>,
}

pub(crate) async fn update_setting(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Json<UpdateSetting>,
) -> Result<HttpResponse, AppError> {
    let key = path.into_inner();
    let value = match body.into_inner().value {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => {
            return Err(AppError::validation(
                "value",
                "must be a number, true or false, or a string",
            ));
        }
    };
    let setting = state
        .db
        .write(move |tx| platform::set(tx, &key, &value))
        .await?;
    tracing::info!(key = setting.key, user_id = ?admin.0.actor, "platform setting changed");
    Ok(HttpResponse::Ok().json(setting))
}

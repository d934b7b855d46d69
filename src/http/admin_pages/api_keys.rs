//! The admin's integration keys: list, create (the key shown once), revoke, and what each did.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::audit::{self, Entry};
use crate::domain::{Area, Scope};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::integration::keys::{self, ApiKey};
use crate::state::AppState;

#[derive(Serialize)]
struct KeysPage {
    #[serde(flatten)]
    chrome: Chrome,
    keys: Vec<ApiKey>,
    scopes: &'static [Scope],
}

pub(crate) async fn admin_api_keys(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "nav-api-keys", "/admin/api-keys");
    let keys = state.db.read(keys::list).await?;
    let view = KeysPage {
        chrome,
        keys,
        scopes: Scope::ALL,
    };
    Ok(render_page(&state, "admin/api_keys.html", &view))
}

#[derive(Serialize)]
struct KeyPage {
    #[serde(flatten)]
    chrome: Chrome,
    key: ApiKey,
    actions: Vec<Entry>,
}

/// One key and its latest actions (the audit log's entries under its name).
pub(crate) async fn admin_api_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "nav-api-keys", "/admin/api-keys");
    let id = path.into_inner();
    let (key, actions) = state
        .db
        .read(move |conn| {
            let key = keys::get(conn, id)?;
            let actions = audit::by_actor(conn, &format!("key:{id}"), 100)?;
            Ok::<_, AppError>((key, actions))
        })
        .await?;
    let view = KeyPage {
        chrome: chrome.titled(&key.name),
        key,
        actions,
    };
    Ok(render_page(&state, "admin/api_key.html", &view))
}

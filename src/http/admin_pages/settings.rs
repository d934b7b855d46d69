//! The store's email settings page and the platform's settings page.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::domain::{Area, EmailProvider};
use crate::email::settings::{self as email_settings, SettingsView};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::platform;
use crate::state::AppState;

#[derive(Serialize)]
struct SettingsPage {
    #[serde(flatten)]
    chrome: Chrome,
    /// What the API answers: secrets only as whether they are set.
    s: SettingsView,
    providers: &'static [EmailProvider],
}

pub(crate) async fn vendor_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "nav-email-settings",
        "/vendor/email-settings"
    );
    let store_id = auth.actor.store_id().unwrap_or_default();
    let s = state
        .db
        .read(move |conn| email_settings::load(conn, store_id))
        .await?
        .view();
    let view = SettingsPage {
        chrome,
        s,
        providers: EmailProvider::ALL,
    };
    Ok(render_page(&state, "vendor/email_settings.html", &view))
}

#[derive(Serialize)]
struct PlatformSettingsPage {
    #[serde(flatten)]
    chrome: Chrome,
    settings: Vec<platform::Setting>,
}

/// The platform's settings, each with its own form.
pub(crate) async fn admin_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(state, req, Area::Admin, "nav-settings", "/admin/settings");
    let settings = state.db.read(platform::list).await?;
    Ok(render_page(
        &state,
        "admin/settings.html",
        &PlatformSettingsPage { chrome, settings },
    ))
}

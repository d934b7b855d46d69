//! The web pages: server-rendered with Tera (autoescaped) from embedded templates, so every page
//! works before any script runs; `assets/static/messages.js` adds sending without reload, the live
//! stream and the unread badge. Pages use the cookie session of their area and send a strict
//! Content-Security-Policy.

mod login;
mod messages;
mod recovery;

pub(crate) use login::*;
pub(crate) use messages::*;
pub(crate) use recovery::*;

use std::sync::Arc;

use actix_web::http::header::{self, Header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::extract::{Authenticated, authenticate};
use crate::domain::Area;
use crate::error::AppError;
use crate::i18n::{Catalogue, DEFAULT_LANGUAGE};
use crate::messaging::inbox::{self};
use crate::state::AppState;

/// The reader's catalogue: their account's language, else their browser's `Accept-Language`.
pub(crate) fn catalogue_for<'s>(
    state: &'s AppState,
    account: Option<&str>,
    req: &HttpRequest,
) -> &'s Arc<Catalogue> {
    let browser = header::AcceptLanguage::parse(req)
        .map(|accept| accept.ranked())
        .unwrap_or_default();
    let tags: Vec<String> = browser.iter().map(ToString::to_string).collect();
    state
        .pages
        .catalogue(account, tags.iter().map(String::as_str))
}

pub(crate) const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn render(
    state: &AppState,
    name: &str,
    context: &impl Serialize,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    // Every page's context carries the reader's language as `lang` (the chrome's).
    let result = tera::Context::from_serialize(context).and_then(|ctx| {
        let language = ctx
            .get("lang")
            .and_then(|v| v.as_str())
            .unwrap_or(DEFAULT_LANGUAGE);
        state.pages.render(language, name, &ctx)
    });
    match result {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Content-Security-Policy", CSP))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, page = name, "page failed to render");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn area_of(name: &str) -> Option<Area> {
    match name {
        "admin" => Some(Area::Admin),
        "vendor" => Some(Area::Vendor),
        "shop" => Some(Area::Shop),
        _ => None,
    }
}

fn messages_url(area: Area) -> &'static str {
    match area {
        Area::Admin => "/admin/messages",
        Area::Vendor => "/vendor/messages",
        Area::Shop => "/shop/account/messages",
    }
}

/// The catalogue key of an area's name.
fn label(area: Area) -> &'static str {
    match area {
        Area::Admin => "area-admin",
        Area::Vendor => "area-vendor",
        Area::Shop => "area-shop",
    }
}

/// The parts every signed-in page shows: header, badge, navigation, CSRF token.
#[derive(Serialize, Default)]
pub(crate) struct Chrome {
    /// The reader's language: picks the templates' copy that speaks it.
    lang: String,
    title: String,
    area: &'static str,
    area_label: &'static str,
    home: &'static str,
    messages_url: &'static str,
    csrf_token: String,
    user_name: String,
    unread: i64,
    nav: Vec<NavItem>,
}

#[derive(Serialize)]
struct NavItem {
    url: &'static str,
    /// A catalogue key.
    label: &'static str,
    current: bool,
}

fn nav(area: Area, current: &str) -> Vec<NavItem> {
    let items: &[(&str, &str)] = match area {
        Area::Admin => &[
            ("/admin/messages", "nav-messages"),
            ("/admin/stores", "nav-stores"),
            ("/admin/email-templates", "nav-email-templates"),
            ("/admin/email-logs", "nav-email-logs"),
            ("/admin/notifications", "nav-notifications"),
            ("/admin/response-times", "nav-response-times"),
            ("/admin/topics", "nav-topics"),
            ("/admin/saved-replies", "nav-saved-replies"),
            ("/admin/announcements", "nav-announcements"),
            ("/admin/audit-log", "nav-audit-log"),
            ("/admin/settings", "nav-settings"),
            ("/admin/api-keys", "nav-api-keys"),
            ("/admin/webhooks", "nav-webhooks"),
            ("/admin/account", "nav-account"),
        ],
        Area::Vendor => &[
            ("/vendor/messages", "nav-messages"),
            ("/vendor/customers", "nav-customers"),
            ("/vendor/response-times", "nav-response-times"),
            ("/vendor/saved-replies", "nav-saved-replies"),
            ("/vendor/team", "nav-team"),
            ("/vendor/email-templates", "nav-email-templates"),
            ("/vendor/email-settings", "nav-email-settings"),
            ("/vendor/email-logs", "nav-email-logs"),
            ("/vendor/webhooks", "nav-webhooks"),
            ("/vendor/account", "nav-account"),
        ],
        Area::Shop => &[
            ("/shop/account", "nav-account"),
            ("/shop/account/messages", "nav-messages"),
        ],
    };
    items
        .iter()
        .map(|(url, label)| NavItem {
            url,
            label,
            current: *url == current,
        })
        .collect()
}

/// Builds the chrome for a signed-in page: the user's name, language and unread total come from
/// the DB; `title` is a catalogue key.
pub(crate) async fn chrome(
    state: &AppState,
    req: &HttpRequest,
    auth: &Authenticated,
    area: Area,
    title: &str,
    current: &str,
) -> Result<Chrome, AppError> {
    let actor = auth.actor;
    let (profile, unread) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                crate::accounts::profile(conn, &actor)?,
                inbox::total_unread(conn, &actor)?,
            ))
        })
        .await?;
    let words = catalogue_for(state, Some(&profile.language), req);
    Ok(Chrome {
        lang: words.language.clone(),
        title: words.text(title, &[]),
        area: area.as_str(),
        area_label: label(area),
        home: messages_url(area),
        messages_url: messages_url(area),
        csrf_token: auth.csrf_token.clone().unwrap_or_default(),
        user_name: profile.full_name,
        unread,
        nav: nav(area, current),
    })
}

impl Chrome {
    /// A page named by its content (a conversation's subject, a store's name) rather than a key.
    pub(crate) fn titled(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }
}

pub(crate) fn render_page(state: &AppState, name: &str, context: &impl Serialize) -> HttpResponse {
    render(state, name, context, actix_web::http::StatusCode::OK)
}

/// The signed-in user of a page, or a redirect to the area's login.
pub(crate) async fn page_user(
    req: &HttpRequest,
    area: Area,
) -> Result<Authenticated, HttpResponse> {
    authenticate(req.clone(), area).await.map_err(|_| {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/{}/login", area.as_str())))
            .finish()
    })
}

/// `/`: where to sign in.
pub(crate) async fn home(state: actix_web::web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let words = catalogue_for(&state, None, &req);
    let page = Chrome {
        lang: words.language.clone(),
        title: words.text("home-title", &[]),
        home: "/",
        ..Chrome::default()
    };
    render_page(&state, "home.html", &page)
}

/// What an error page says.
#[derive(Serialize)]
struct ErrorPage {
    #[serde(flatten)]
    chrome: Chrome,
    status: u16,
    message: String,
    way_on: String,
}

/// An error answered to a browser as a page in the site's layout, for the area the path is in.
pub(crate) fn error_page(
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
) -> Option<HttpResponse> {
    let state = req.app_data::<actix_web::web::Data<AppState>>()?;
    let area = req.path().split('/').nth(1).and_then(area_of);
    let case = match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        429 => "too-many",
        400..=499 => "bad-request",
        _ => "server",
    };
    // The error handler does not know the account: the browser's language it is.
    let words = catalogue_for(state, None, req);
    let page = ErrorPage {
        chrome: Chrome {
            lang: words.language.clone(),
            title: words.text(&format!("error-{case}-title"), &[]),
            area: area.map_or("", Area::as_str),
            area_label: area.map_or("", label),
            home: area.map_or("/", messages_url),
            ..Chrome::default()
        },
        status: status.as_u16(),
        message: words.text(&format!("error-{case}-message"), &[]),
        way_on: words.text(
            if case == "unauthorized" {
                "error-sign-in"
            } else {
                "error-to-messages"
            },
            &[],
        ),
    };
    Some(render(state, "error.html", &page, status))
}

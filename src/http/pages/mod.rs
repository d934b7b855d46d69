//! The web pages: server-rendered with Tera (autoescaped) from embedded templates, so every page
//! works before any script runs; `assets/static/messages.js` adds sending without reload, the live
//! stream and the unread badge. Pages use the cookie session of their area and send a strict
//! Content-Security-Policy.

mod login;
mod messages;

pub(crate) use login::*;
pub(crate) use messages::*;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use serde::Serialize;

use crate::auth::extract::{Authenticated, authenticate};
use crate::domain::Area;
use crate::error::AppError;
use crate::messaging::inbox::{self};
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "assets/templates/"]
struct Templates;

/// One Tera instance with every page template; `.html` templates escape every variable.
pub(crate) fn load_templates() -> anyhow::Result<tera::Tera> {
    let mut tera = tera::Tera::new();
    tera.autoescape_on(vec![".html"]);
    tera.register_filter("datetime", datetime);
    tera.register_filter("filesize", filesize);
    let sources: Vec<(String, String)> = Templates::iter()
        .filter_map(|name| {
            Templates::get(&name).map(|f| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(&f.data).into_owned(),
                )
            })
        })
        .collect();
    tera.add_raw_templates(sources)
        .map_err(|e| anyhow::anyhow!("page templates: {e}"))?;
    Ok(tera)
}

/// `{{ at | datetime }}`: an RFC 3339 time as "2026-12-02 06:21 UTC"; anything else as given.
fn datetime(at: &str, _: tera::Kwargs, _: &tera::State) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_string(),
        |t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        },
    )
}

/// `{{ bytes | filesize }}`: "812 B", "14 KB", "3.2 MB".
fn filesize(bytes: i64, _: tera::Kwargs, _: &tera::State) -> String {
    match bytes {
        ..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} KB", (bytes + 500) / 1_000),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

pub(crate) const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn render(
    state: &AppState,
    name: &str,
    context: &impl Serialize,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let result =
        tera::Context::from_serialize(context).and_then(|ctx| state.pages.render(name, &ctx));
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

fn label(area: Area) -> &'static str {
    match area {
        Area::Admin => "Admin",
        Area::Vendor => "Store",
        Area::Shop => "Shop",
    }
}

/// The parts every signed-in page shows: header, badge, navigation, CSRF token.
#[derive(Serialize, Default)]
pub(crate) struct Chrome {
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
    label: &'static str,
    current: bool,
}

fn nav(area: Area, current: &str) -> Vec<NavItem> {
    let items: &[(&str, &str)] = match area {
        Area::Admin => &[
            ("/admin/messages", "Messages"),
            ("/admin/stores", "Stores"),
            ("/admin/email-templates", "Email templates"),
            ("/admin/email-logs", "Email logs"),
            ("/admin/notifications", "Notifications"),
        ],
        Area::Vendor => &[
            ("/vendor/messages", "Messages"),
            ("/vendor/customers", "Customers"),
            ("/vendor/email-templates", "Email templates"),
            ("/vendor/email-settings", "Email settings"),
            ("/vendor/email-logs", "Email logs"),
        ],
        Area::Shop => &[
            ("/shop/account", "Account"),
            ("/shop/account/messages", "Messages"),
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

/// Builds the chrome for a signed-in page: the user's name and unread total come from the DB.
pub(crate) async fn chrome(
    state: &AppState,
    auth: &Authenticated,
    area: Area,
    title: &str,
    current: &str,
) -> Result<Chrome, AppError> {
    let actor = auth.actor;
    let (user_name, unread) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                crate::messaging::participants::actor_name(conn, &actor)?,
                inbox::total_unread(conn, &actor)?,
            ))
        })
        .await?;
    Ok(Chrome {
        title: title.to_string(),
        area: area.as_str(),
        area_label: label(area),
        home: messages_url(area),
        messages_url: messages_url(area),
        csrf_token: auth.csrf_token.clone().unwrap_or_default(),
        user_name,
        unread,
        nav: nav(area, current),
    })
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
pub(crate) async fn home() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .body(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width\"><title>Parley</title><link rel=\"stylesheet\" href=\"/assets/app.css\"></head>\
             <body><main class=\"login card\"><h1>Parley</h1><p>Sign in to the <a href=\"/shop/login\">shop</a>, \
             the <a href=\"/vendor/login\">store</a> or the <a href=\"/admin/login\">admin</a> area.</p></main></body></html>",
        )
}

/// What an error page says.
#[derive(Serialize)]
struct ErrorPage {
    #[serde(flatten)]
    chrome: Chrome,
    status: u16,
    message: &'static str,
    way_on: &'static str,
}

/// An error answered to a browser as a page in the site's layout, for the area the path is in.
pub(crate) fn error_page(
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
) -> Option<HttpResponse> {
    let state = req.app_data::<actix_web::web::Data<AppState>>()?;
    let area = req.path().split('/').nth(1).and_then(area_of);
    let (title, message) = match status.as_u16() {
        401 => ("Please sign in", "This page needs you to be signed in."),
        403 => ("Not allowed", "Your account may not open this page."),
        404 => (
            "Not found",
            "This page does not exist, or it is not yours to see.",
        ),
        429 => ("Too many requests", "Wait a moment, then try again."),
        400..=499 => ("That did not work", "The request could not be understood."),
        _ => (
            "Something went wrong",
            "Something went wrong on our side. Try again in a moment.",
        ),
    };
    let page = ErrorPage {
        chrome: Chrome {
            title: title.to_string(),
            area: area.map_or("", Area::as_str),
            area_label: area.map_or("", label),
            home: area.map_or("/", messages_url),
            ..Chrome::default()
        },
        status: status.as_u16(),
        message,
        way_on: if status.as_u16() == 401 {
            "Sign in"
        } else {
            "Go to your messages"
        },
    };
    Some(render(state, "error.html", &page, status))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_sizes_read_as_people_write_them() {
        let tera = super::load_templates().unwrap();
        let render = |bytes: i64| {
            let mut ctx = tera::Context::new();
            ctx.insert("n", &bytes);
            tera.render_str("{{ n | filesize }}", &ctx, false).unwrap()
        };
        assert_eq!(render(812), "812 B");
        assert_eq!(render(14_499), "14 KB");
        assert_eq!(render(3_240_000), "3.2 MB");
    }
}

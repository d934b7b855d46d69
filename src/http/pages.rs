//! The web pages: server-rendered with Tera (autoescaped) from embedded templates, so every page
//! works before any script runs; `assets/static/messages.js` adds sending without reload, the live
//! stream and the unread badge. Pages use the cookie session of their area and send a strict
//! Content-Security-Policy.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

use super::auth::{check_credentials, start_session};
use crate::auth::extract::{AreaUser, Authenticated, authenticate};
use crate::auth::session::SessionKind;
use crate::domain::{Area, Page};
use crate::error::AppError;
use crate::messaging::inbox::{self, ListFilter};
use crate::messaging::{ConversationDetail, ConversationSummary, Message};
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "assets/templates/"]
struct Templates;

/// One Tera instance with every page template; `.html` templates escape every variable.
pub(crate) fn load_templates() -> anyhow::Result<tera::Tera> {
    let mut tera = tera::Tera::new();
    tera.autoescape_on(vec![".html"]);
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

#[derive(Serialize, Default)]
struct LoginPage {
    title: String,
    area: &'static str,
    area_label: &'static str,
    home: &'static str,
    csrf_token: &'static str,
    error: Option<String>,
    email: String,
    store_code: String,
}

fn login_page(
    state: &AppState,
    area: Area,
    error: Option<String>,
    email: String,
    store_code: String,
) -> HttpResponse {
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNAUTHORIZED
    } else {
        actix_web::http::StatusCode::OK
    };
    let page = LoginPage {
        title: format!("Sign in to the {} area", label(area).to_lowercase()),
        area: area.as_str(),
        area_label: label(area),
        home: "/",
        error,
        email,
        store_code,
        ..Default::default()
    };
    render(state, "login.html", &page, status)
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    store: Option<String>,
}

pub(crate) async fn login_form(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    Ok(login_page(
        &state,
        area,
        None,
        String::new(),
        query.into_inner().store.unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    store_code: Option<String>,
}

/// The form login: a cookie session, then on to the messages page.
pub(crate) async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let form = form.into_inner();
    let store_code = form.store_code.clone().filter(|_| area == Area::Shop);
    match check_credentials(
        &state,
        &req,
        area,
        store_code.clone(),
        &form.email,
        form.password,
    )
    .await
    {
        Ok((principal, who)) => {
            let response = start_session(&state, area, principal, who, SessionKind::Cookie).await?;
            let mut redirect = HttpResponse::SeeOther();
            redirect.insert_header((header::LOCATION, messages_url(area)));
            for cookie in response.cookies() {
                redirect.cookie(cookie.into_owned());
            }
            Ok(redirect.finish())
        }
        Err(AppError::InvalidCredentials) => Ok(login_page(
            &state,
            area,
            Some("The email or the password is wrong.".into()),
            form.email,
            store_code.unwrap_or_default(),
        )),
        Err(e @ AppError::RateLimited { .. }) => Ok(login_page(
            &state,
            area,
            Some(e.to_string()),
            form.email,
            String::new(),
        )),
        Err(e) => Err(e),
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

#[derive(Serialize)]
struct MessageView {
    #[serde(flatten)]
    message: Message,
    mine: bool,
}

#[derive(Serialize)]
struct SelectedView {
    #[serde(flatten)]
    summary: ConversationSummary,
    messages: Vec<MessageView>,
    has_more: bool,
    /// The viewer's own preferences for this conversation.
    muted: bool,
    email_off: bool,
}

/// The channels an area's inbox can be filtered by.
fn type_options(area: Area) -> Vec<ComposeType> {
    match area {
        Area::Admin => vec![
            ComposeType {
                value: "admin_store",
                recipient: "store",
                label: "With stores",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "customer",
                label: "With customers",
            },
        ],
        Area::Vendor => vec![
            ComposeType {
                value: "store_customer",
                recipient: "customer",
                label: "With customers",
            },
            ComposeType {
                value: "admin_store",
                recipient: "admin",
                label: "With the platform",
            },
        ],
        Area::Shop => Vec::new(),
    }
}

#[derive(Serialize)]
struct MessagesPage {
    #[serde(flatten)]
    chrome: Chrome,
    conversations: Vec<ConversationSummary>,
    selected: Option<SelectedView>,
    search: String,
    status: String,
    conversation_type: String,
    type_options: Vec<ComposeType>,
    can_compose: bool,
    can_close: bool,
    compose_types: Vec<ComposeType>,
}

/// A channel the compose dialog offers, with the recipient kind it needs.
#[derive(Serialize)]
struct ComposeType {
    value: &'static str,
    recipient: &'static str,
    label: &'static str,
}

fn compose_types(area: Area) -> Vec<ComposeType> {
    match area {
        Area::Admin => vec![
            ComposeType {
                value: "admin_store",
                recipient: "store",
                label: "With a store",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "customer",
                label: "With a customer",
            },
        ],
        Area::Vendor => vec![ComposeType {
            value: "store_customer",
            recipient: "customer",
            label: "With a customer",
        }],
        Area::Shop => Vec::new(),
    }
}

#[derive(Deserialize)]
pub(crate) struct InboxQuery {
    search: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    conversation_type: Option<String>,
}

async fn messages_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    area: Area,
    selected: Option<i64>,
    query: InboxQuery,
) -> Result<HttpResponse, AppError> {
    let auth = match page_user(&req, area).await {
        Ok(auth) => auth,
        Err(redirect) => return Ok(redirect),
    };
    let actor = auth.actor;
    let status = query.status.unwrap_or_default();
    let conversation_type = query.conversation_type.clone().unwrap_or_default();
    let filter = ListFilter {
        conversation_type: conversation_type.parse().ok(),
        is_closed: match status.as_str() {
            "open" => Some(false),
            "closed" => Some(true),
            _ => None,
        },
        search: query
            .search
            .clone()
            .filter(|s| !s.trim().is_empty() && s.len() <= 200),
    };
    let (list, detail, (muted, email_off)) = state
        .db
        .read(move |conn| {
            let list = inbox::list(conn, &actor, &filter, Page { skip: 0, limit: 50 })?;
            let detail: Option<ConversationDetail> = match selected {
                Some(id) => Some(inbox::detail(conn, &actor, id, 50, None)?),
                None => None,
            };
            let (me_type, me_id) = actor.participant();
            let preferences: Option<(bool, bool)> = match selected {
                Some(id) => rusqlite::OptionalExtension::optional(conn.query_row(
                    "SELECT muted, NOT email_notifications FROM conversation_participants
                     WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3",
                    rusqlite::params![id, me_type, me_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ))?,
                None => None,
            };
            Ok::<_, AppError>((list, detail, preferences.unwrap_or_default()))
        })
        .await?;
    let title = detail
        .as_ref()
        .map_or_else(|| "Messages".to_string(), |d| d.summary.subject.clone());
    let chrome = chrome(&state, &auth, area, &title, messages_url(area)).await?;
    let (me_type, me_id) = actor.participant();
    let page = MessagesPage {
        chrome,
        conversations: list.conversations,
        selected: detail.map(|d| SelectedView {
            has_more: d.has_more,
            muted,
            email_off,
            summary: d.summary,
            messages: d
                .messages
                .into_iter()
                .map(|m| MessageView {
                    mine: m.sender_type == me_type && m.sender_id == me_id,
                    message: m,
                })
                .collect(),
        }),
        search: query.search.unwrap_or_default(),
        status,
        conversation_type,
        type_options: type_options(area),
        can_compose: area != Area::Shop,
        can_close: area != Area::Shop,
        compose_types: compose_types(area),
    };
    Ok(render(
        &state,
        "messages.html",
        &page,
        actix_web::http::StatusCode::OK,
    ))
}

/// The inbox of the area of `U` (admin, vendor or shop).
pub(crate) async fn inbox<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    messages_page(state, req, U::AREA, None, q.into_inner()).await
}

/// The inbox with one thread open.
pub(crate) async fn thread<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    messages_page(state, req, U::AREA, Some(path.into_inner()), q.into_inner()).await
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

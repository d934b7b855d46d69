//! Webhook endpoints in the pages: the platform's on `/admin/webhooks`, a store's on
//! `/vendor/webhooks` (one handler for both), each with its delivery log.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::auth::extract::AreaUser;
use crate::domain::Actor;
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::integration::webhooks::{self, Delivery, Endpoint, Owner};
use crate::messaging::EventKind;
use crate::state::AppState;

#[derive(Serialize)]
struct WebhooksPage {
    #[serde(flatten)]
    chrome: Chrome,
    endpoints: Vec<Endpoint>,
    /// The event types an endpoint may ask for.
    event_types: Vec<&'static str>,
    /// Where the API of this area takes them.
    api: &'static str,
    base: &'static str,
}

fn owner(actor: &Actor) -> Result<Owner, AppError> {
    match *actor {
        Actor::Admin { .. } => Ok(Owner::Platform),
        Actor::Staff { store_id, .. } => Ok(Owner::Store(store_id)),
        Actor::Customer { .. } => Err(AppError::NotFound),
    }
}

fn paths<U: AreaUser>() -> (&'static str, &'static str) {
    match U::AREA {
        crate::domain::Area::Admin => ("/api/v1/admin/webhooks", "/admin/webhooks"),
        _ => ("/api/v1/vendor/webhooks", "/vendor/webhooks"),
    }
}

pub(crate) async fn webhooks_page<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (api, base) = paths::<U>();
    let (auth, chrome) = signed_in!(state, req, U::AREA, "nav-webhooks", base);
    let owner = owner(&auth.actor)?;
    let endpoints = state
        .db
        .read(move |conn| webhooks::list(conn, owner))
        .await?;
    let view = WebhooksPage {
        chrome,
        endpoints,
        event_types: EventKind::ALL.iter().map(|k| k.log_type()).collect(),
        api,
        base,
    };
    Ok(render_page(&state, "webhooks.html", &view))
}

#[derive(Serialize)]
struct WebhookPage {
    #[serde(flatten)]
    chrome: Chrome,
    endpoint: Endpoint,
    deliveries: Vec<Delivery>,
    api: &'static str,
    base: &'static str,
}

/// One endpoint: its state, the switch, and its latest deliveries with what came back.
pub(crate) async fn webhook_page<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (api, base) = paths::<U>();
    let (auth, chrome) = signed_in!(state, req, U::AREA, "nav-webhooks", base);
    let owner = owner(&auth.actor)?;
    let id = path.into_inner();
    let (endpoint, deliveries) = state
        .db
        .read(move |conn| {
            let endpoint = webhooks::get(conn, owner, id)?;
            let deliveries = webhooks::deliveries(conn, owner, id, 100)?;
            Ok::<_, AppError>((endpoint, deliveries))
        })
        .await?;
    let view = WebhookPage {
        chrome: chrome.titled(&endpoint.url),
        endpoint,
        deliveries,
        api,
        base,
    };
    Ok(render_page(&state, "webhook.html", &view))
}

//! The pages of working a busy inbox: the operator's topics, saved replies (the platform's and a
//! store's), and announcements to stores.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::domain::{Actor, Area, Tier};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::messaging::announcements::{self, Announcement};
use crate::messaging::saved_replies::{self, SavedReply, VARIABLES};
use crate::messaging::topics::{self, Topic};
use crate::state::AppState;

#[derive(Serialize)]
struct TopicsPage {
    #[serde(flatten)]
    chrome: Chrome,
    topics: Vec<Topic>,
    roles: [&'static str; 3],
}

pub(crate) async fn admin_topics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(state, req, Area::Admin, "nav-topics", "/admin/topics");
    let actor = auth.actor;
    let topics = state
        .db
        .read(move |conn| topics::list(conn, &actor))
        .await?;
    let view = TopicsPage {
        chrome,
        topics,
        roles: ["customer", "store", "admin"],
    };
    Ok(render_page(&state, "admin/topics.html", &view))
}

#[derive(Serialize)]
struct RepliesPage {
    #[serde(flatten)]
    chrome: Chrome,
    saved_replies: Vec<SavedReply>,
    variables: [&'static str; 4],
    /// The API of the reader's area.
    api: &'static str,
    platform: bool,
}

async fn replies_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    area: Area,
) -> Result<HttpResponse, AppError> {
    let url = format!("/{}/saved-replies", area.as_str());
    let (auth, chrome) = signed_in!(state, req, area, "nav-saved-replies", &url);
    let actor = auth.actor;
    let saved_replies = state
        .db
        .read(move |conn| saved_replies::list(conn, &actor))
        .await?;
    let platform = matches!(actor, Actor::Admin { .. });
    let view = RepliesPage {
        chrome,
        saved_replies,
        variables: VARIABLES,
        api: if platform {
            "/api/v1/admin/saved-replies"
        } else {
            "/api/v1/vendor/saved-replies"
        },
        platform,
    };
    Ok(render_page(&state, "saved_replies.html", &view))
}

pub(crate) async fn admin_saved_replies(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    replies_page(state, req, Area::Admin).await
}

pub(crate) async fn vendor_saved_replies(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    replies_page(state, req, Area::Vendor).await
}

/// A choice of audience as the form offers it: its JSON and its words.
#[derive(Serialize)]
struct AudienceChoice {
    json: String,
    key: &'static str,
    name: String,
}

#[derive(Serialize)]
struct AnnouncementsPage {
    #[serde(flatten)]
    chrome: Chrome,
    announcements: Vec<Announcement>,
    audiences: Vec<AudienceChoice>,
}

pub(crate) async fn admin_announcements(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "nav-announcements",
        "/admin/announcements"
    );
    let (announcements, stores) = state
        .db
        .read(|conn| {
            let stores = crate::accounts::list_stores(
                conn,
                crate::domain::Page {
                    skip: 0,
                    limit: 500,
                },
            )?
            .0;
            Ok::<_, AppError>((announcements::list(conn)?, stores))
        })
        .await?;
    let mut audiences = vec![AudienceChoice {
        json: "\"all\"".into(),
        key: "announce-all",
        name: String::new(),
    }];
    audiences.extend(Tier::ALL.iter().map(|tier| AudienceChoice {
        json: format!("{{\"tier\":\"{}\"}}", tier.as_str()),
        key: "announce-tier",
        name: tier.as_str().to_string(),
    }));
    audiences.extend(
        stores
            .into_iter()
            .filter(|s| s.is_active)
            .map(|s| AudienceChoice {
                json: format!("[{}]", s.id),
                key: "announce-store",
                name: s.name,
            }),
    );
    let view = AnnouncementsPage {
        chrome,
        announcements,
        audiences,
    };
    Ok(render_page(&state, "admin/announcements.html", &view))
}

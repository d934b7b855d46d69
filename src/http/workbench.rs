//! The API of working a busy inbox: the operator's topics, saved replies (the platform's and each
//! store's), and announcements to many stores.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::AdminUser;
use crate::auth::extract::AreaUser;
use crate::error::AppError;
use crate::messaging::announcements::{self, Announcement, Audience};
use crate::messaging::saved_replies::{self, ReplyInput, SavedReply};
use crate::messaging::service::{self, NewAnnouncement};
use crate::messaging::topics::{self, Topic, TopicInput};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TopicList {
    topics: Vec<Topic>,
}

/// The topics the caller may see (customers: those they may choose), with counts for staff
/// and admins.
pub(crate) async fn list_topics<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let topics = state
        .db
        .read(move |conn| topics::list(conn, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(TopicList { topics }))
}

pub(crate) async fn create_topic(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: web::Json<TopicInput>,
) -> Result<HttpResponse, AppError> {
    let input = body.into_inner();
    let topic = state.db.write(move |tx| topics::create(tx, &input)).await?;
    Ok(HttpResponse::Created().json(topic))
}

pub(crate) async fn update_topic(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    body: web::Json<TopicInput>,
) -> Result<HttpResponse, AppError> {
    let (id, input) = (path.into_inner(), body.into_inner());
    let topic = state
        .db
        .write(move |tx| topics::update(tx, id, &input))
        .await?;
    Ok(HttpResponse::Ok().json(topic))
}

pub(crate) async fn retire_topic(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state.db.write(move |tx| topics::retire(tx, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReplyList {
    saved_replies: Vec<SavedReply>,
}

/// The replies the caller may insert.
pub(crate) async fn list_replies<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let saved_replies = state
        .db
        .read(move |conn| saved_replies::list(conn, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(ReplyList { saved_replies }))
}

pub(crate) async fn create_reply<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    body: web::Json<ReplyInput>,
) -> Result<HttpResponse, AppError> {
    let (actor, input) = (user.auth().actor, body.into_inner());
    let reply = state
        .db
        .write(move |tx| saved_replies::create(tx, &actor, &input))
        .await?;
    Ok(HttpResponse::Created().json(reply))
}

pub(crate) async fn update_reply<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<ReplyInput>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, input) = (user.auth().actor, path.into_inner(), body.into_inner());
    let reply = state
        .db
        .write(move |tx| saved_replies::update(tx, &actor, id, &input))
        .await?;
    Ok(HttpResponse::Ok().json(reply))
}

pub(crate) async fn delete_reply<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (actor, id) = (user.auth().actor, path.into_inner());
    state
        .db
        .write(move |tx| saved_replies::delete(tx, &actor, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenderQuery {
    /// The conversation the reply goes into: its facts fill the variables.
    conversation_id: i64,
}

/// A saved reply as it reads in one conversation.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RenderedReply {
    id: i64,
    text: String,
}

pub(crate) async fn render_reply<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    query: web::Query<RenderQuery>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, conversation) = (user.auth().actor, path.into_inner(), query.conversation_id);
    let (reply, variables) = state
        .db
        .read(move |conn| saved_replies::prepare(conn, &actor, id, conversation))
        .await?;
    let text = saved_replies::render(&state.sandbox_exe, &reply, &variables).await?;
    Ok(HttpResponse::Ok().json(RenderedReply { id, text }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnnouncementRequest {
    subject: String,
    message: String,
    /// `"all"`, `{"tier": "business"}` or a list of store ids.
    stores: Audience,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Announced {
    id: i64,
    /// How many stores got it (stores without active staff are skipped).
    delivered: usize,
}

pub(crate) async fn announce(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<AnnouncementRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = NewAnnouncement {
        subject: body.subject,
        message: body.message,
        stores: body.stores,
    };
    let (id, delivered) = service::announce(&state.messaging(), admin.0.actor, new)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Created().json(Announced { id, delivered }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AnnouncementList {
    announcements: Vec<Announcement>,
}

pub(crate) async fn list_announcements(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let announcements = state.db.read(announcements::list).await?;
    Ok(HttpResponse::Ok().json(AnnouncementList { announcements }))
}

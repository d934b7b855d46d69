//! `GET /api/v1/{admin,vendor,shop}/events` and `GET /api/v1/integration/events`: the event log
//! after a sequence number, as much of it as the caller may see (a key with the `events` scope
//! sees everything).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::extract::{AreaUser, PlatformKey};
use crate::domain::Scope;
use crate::error::AppError;
use crate::messaging::event_log::{self, PAGE_DEFAULT, PAGE_MAX, Reader};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

impl EventsQuery {
    fn checked(&self) -> Result<(i64, u32), AppError> {
        if self.after < 0 {
            return Err(AppError::validation("after", "must be 0 or more"));
        }
        let limit = self.limit.unwrap_or(PAGE_DEFAULT);
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(AppError::validation(
                "limit",
                format!("must be between 1 and {PAGE_MAX}"),
            ));
        }
        Ok((self.after, limit))
    }
}

pub(crate) async fn for_area<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let reader = Reader::Person(user.auth().actor);
    page(&state, reader, &query).await
}

pub(crate) async fn for_platform(
    state: web::Data<AppState>,
    key: PlatformKey,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    key.0.require(Scope::Events)?;
    page(&state, Reader::Platform, &query).await
}

async fn page(
    state: &AppState,
    reader: Reader,
    query: &EventsQuery,
) -> Result<HttpResponse, AppError> {
    let (after, limit) = query.checked()?;
    let page = state
        .db
        .read(move |conn| event_log::page(conn, reader, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

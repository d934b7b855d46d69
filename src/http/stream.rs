//! `GET /api/v1/{area}/messages/stream`: Server-Sent Events of the changes the caller may see,
//! each with its event-log sequence number as its `id`. A client that comes back with
//! `Last-Event-ID` (or `?last_event_id=`, for scripts that open a new `EventSource`) first gets
//! what it missed, from the log. A comment line every 15 s keeps proxies from closing the stream;
//! at the same moment the session is checked again, so a logout or a disabled account ends the
//! stream. A subscriber that falls behind, or missed more than a replay carries, gets a `resync`
//! event and should reload.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse, http::header};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::extract::{AreaUser, Authenticated};
use crate::auth::session;
use crate::error::AppError;
use crate::messaging::events::{self, Received};
use crate::messaging::{Event, event_log};
use crate::state::{AppState, StreamSlot};

/// The most missed events a reconnect replays; past that the viewer reloads (`resync`).
const REPLAY_MAX: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Resume after this event (as the `Last-Event-ID` header does).
    last_event_id: Option<i64>,
}

pub(crate) async fn stream<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, AppError> {
    let last_seen = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(query.last_event_id)
        .filter(|seq| *seq >= 0);
    // Held by the stream until it ends: a place among the descriptors kept for streams.
    let slot = state
        .streams
        .take(U::AREA.as_str())
        .ok_or(AppError::Overloaded)?;
    let every = Duration::from_secs(state.settings.server.sse_keepalive_seconds.max(1));
    // Subscribed before the log is read, so nothing committed in between is lost; what the log
    // and the bus both carry is sent once (`replayed_through`).
    let auth = user.auth().clone();
    let receiver = state.events.subscribe(&auth.actor);
    let (backlog, resync, replayed_through) = match last_seen {
        None => (VecDeque::new(), false, 0),
        Some(after) => {
            let actor = auth.actor;
            let missed = state
                .db
                .read(move |conn| event_log::missed(conn, actor, after, REPLAY_MAX))
                .await?;
            match missed {
                Some((events, through)) => {
                    (events.into_iter().map(Arc::new).collect(), false, through)
                }
                // Too much, gone, or an id from the future (a restored database): reload, and
                // take every live event from here on.
                None => (VecDeque::new(), true, 0),
            }
        }
    };
    let subscription = Subscription {
        receiver,
        backlog,
        resync,
        replayed_through,
        ticker: tokio::time::interval_at(tokio::time::Instant::now() + every, every),
        auth,
        state,
        _slot: slot,
        ended: false,
    };
    let body = futures_util::stream::unfold(subscription, |mut subscription| async move {
        let chunk = subscription.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(chunk), subscription))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(
            futures_util::stream::once(async {
                Ok::<_, actix_web::Error>(Bytes::from_static(b": connected\n\n"))
            })
            .chain(body),
        ))
}

/// One viewer's stream: the events they may see, keep-alives, and its end.
struct Subscription {
    receiver: events::Subscription,
    /// Missed events still to send after a reconnect.
    backlog: VecDeque<Arc<Event>>,
    /// The client missed too much to replay: it is told to reload first.
    resync: bool,
    /// The newest sequence number the replay covered (or the client had): the bus may carry those
    /// again. Live events are not compared with each other: they are published after their commits,
    /// not always in sequence order.
    replayed_through: i64,
    ticker: tokio::time::Interval,
    state: web::Data<AppState>,
    auth: Authenticated,
    _slot: StreamSlot,
    ended: bool,
}

impl Subscription {
    /// The next piece of the stream, or None once it has ended.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        if std::mem::take(&mut self.resync) {
            return Some(Bytes::from_static(b"event: resync\ndata: {}\n\n"));
        }
        if let Some(event) = self.backlog.pop_front() {
            return Some(Bytes::from(event_chunk(&event)));
        }
        loop {
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Received::Event(event) if event.seq > self.replayed_through && event.visible_to(&self.auth.actor) => {
                        return Some(Bytes::from(event_chunk(&event)));
                    }
                    Received::Event(_) => continue,
                    Received::Lagged => return Some(Bytes::from_static(b"event: resync\ndata: {}\n\n")),
                    Received::Closed => return None,
                },
                _ = self.ticker.tick() => {
                    if self.session_is_live().await {
                        return Some(Bytes::from_static(b": keep-alive\n\n"));
                    }
                    self.ended = true;
                    return Some(Bytes::from_static(b"event: end\ndata: {}\n\n"));
                }
            }
        }
    }

    /// Whether the viewer's session still stands (a logout or a disabled account ends it).
    async fn session_is_live(&self) -> bool {
        let session_id = self.auth.session_id;
        self.state
            .db
            .read(move |conn| Ok::<_, AppError>(session::is_live(conn, session_id)?))
            .await
            .unwrap_or(false)
    }
}

/// An event in the SSE format: its sequence number as the id, its kind as the event name, itself
/// as JSON data.
fn event_chunk(event: &Event) -> String {
    let data = serde_json::to_string(event).unwrap_or_default();
    format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.seq,
        event.kind.stream_name()
    )
}

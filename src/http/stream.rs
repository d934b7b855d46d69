//! `GET /api/v1/{area}/messages/stream`: Server-Sent Events of the changes the caller may see.
//! A comment line every 15 s keeps proxies from closing the stream; at the same moment the session
//! is checked again, so a logout or a disabled account ends the stream. A subscriber that falls
//! behind gets a `resync` event and should reload.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, http::header};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::extract::{AreaUser, Authenticated};
use crate::auth::session;
use crate::error::AppError;
use crate::messaging::Event;
use crate::state::{AppState, StreamSlot};

pub(crate) async fn stream<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    // Held by the stream until it ends: a place among the descriptors kept for streams.
    let slot = state.streams.take().ok_or(AppError::Overloaded)?;
    let every = Duration::from_secs(state.settings.server.sse_keepalive_seconds.max(1));
    let subscription = Subscription {
        receiver: state.events.subscribe(),
        ticker: tokio::time::interval_at(tokio::time::Instant::now() + every, every),
        auth: user.auth().clone(),
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
    receiver: broadcast::Receiver<Arc<Event>>,
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
        loop {
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) if event.visible_to(&self.auth.actor) => {
                        return Some(Bytes::from(event_chunk(&event)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => return Some(Bytes::from_static(b"event: resync\ndata: {}\n\n")),
                    Err(RecvError::Closed) => return None,
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

/// An event in the SSE format: its kind as the event name, itself as JSON data.
fn event_chunk(event: &Event) -> String {
    let data = serde_json::to_string(event).unwrap_or_default();
    let kind = serde_json::to_value(event.kind)
        .ok()
        .and_then(|k| k.as_str().map(str::to_string))
        .unwrap_or_default();
    format!("event: {kind}\ndata: {data}\n\n")
}

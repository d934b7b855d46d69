//! `GET /api/v1/{area}/messages/stream`: Server-Sent Events of the changes the caller may see.
//! A comment line every 15 s keeps proxies from closing the stream; at the same moment the session
//! is checked again, so a logout or a disabled account ends the stream. A subscriber that falls
//! behind gets a `resync` event and should reload.

use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, http::header};
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::extract::AreaUser;
use crate::auth::session;
use crate::error::AppError;
use crate::state::AppState;

pub(crate) async fn stream<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    let auth = user.auth().clone();
    // Held by the stream until it ends: a place among the descriptors kept for streams.
    let slot = state.streams.take().ok_or(AppError::Overloaded)?;
    let receiver = state.events.subscribe();
    let every = Duration::from_secs(state.settings.server.sse_keepalive_seconds.max(1));
    let ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let body = futures_util::stream::unfold(
        (receiver, ticker, state, auth, slot, false),
        |(mut receiver, mut ticker, state, auth, slot, done)| async move {
            if done {
                return None;
            }
            loop {
                let chunk = tokio::select! {
                    received = receiver.recv() => match received {
                        Ok(event) if event.visible_to(&auth.actor) => {
                            let data = serde_json::to_string(&*event).unwrap_or_default();
                            let kind = serde_json::to_value(event.kind).ok().and_then(|k| k.as_str().map(str::to_string)).unwrap_or_default();
                            Some(format!("event: {kind}\ndata: {data}\n\n"))
                        }
                        Ok(_) => None,
                        Err(RecvError::Lagged(_)) => Some("event: resync\ndata: {}\n\n".to_string()),
                        Err(RecvError::Closed) => return None,
                    },
                    _ = ticker.tick() => {
                        let session_id = auth.session_id;
                        let alive = state
                            .db
                            .read(move |conn| {
                                Ok::<_, AppError>(session::is_live(conn, session_id)?)
                            })
                            .await
                            .unwrap_or(false);
                        if !alive {
                            return Some((Ok::<_, actix_web::Error>(Bytes::from_static(b"event: end\ndata: {}\n\n")), (receiver, ticker, state, auth, slot, true)));
                        }
                        Some(": keep-alive\n\n".to_string())
                    }
                };
                if let Some(chunk) = chunk {
                    return Some((
                        Ok(Bytes::from(chunk)),
                        (receiver, ticker, state, auth, slot, false),
                    ));
                }
            }
        },
    );
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

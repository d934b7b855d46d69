//! The live event stream: each viewer gets exactly the changes they may see, and a revoked
//! session ends its stream.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Party, TestApp, spawn_app, spawn_app_with};

/// An open event stream and what it has delivered so far.
struct Stream {
    response: reqwest::Response,
    text: String,
}

impl Stream {
    async fn open(app: &TestApp, area: &str, party: &Party) -> Stream {
        Stream::open_after(app, area, party, None).await
    }

    /// A stream resumed after the event `last_event_id`, as a browser's `EventSource` reconnects.
    async fn open_after(
        app: &TestApp,
        area: &str,
        party: &Party,
        last_event_id: Option<&str>,
    ) -> Stream {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/{area}/messages/stream")))
            .bearer_auth(&party.token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut stream = Stream {
            response,
            text: String::new(),
        };
        stream.read_for(std::time::Duration::from_millis(100)).await;
        stream
    }

    /// Reads whatever arrives within `wait`; false once the stream has ended.
    async fn read_for(&mut self, wait: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return true,
                Ok(Ok(Some(bytes))) => self.text.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => return false,
            }
        }
    }

    async fn wait_for(&mut self, needle: &str) {
        for _ in 0..50 {
            if self.text.contains(needle) {
                return;
            }
            self.read_for(std::time::Duration::from_millis(100)).await;
        }
        panic!("the stream never showed {needle}: {}", self.text);
    }
}

#[tokio::test]
async fn each_viewer_gets_only_the_changes_they_may_see() {
    let app = spawn_app_with(|s| s.server.sse_keepalive_seconds = 1).await;
    let m = app.marketplace().await;
    let mut customer = Stream::open(&app, "shop", &m.ca).await;
    let mut other_customer = Stream::open(&app, "shop", &m.ca2).await;
    let mut colleague = Stream::open(&app, "vendor", &m.a2).await;
    let mut other_store = Stream::open(&app, "vendor", &m.b1).await;
    let mut admin = Stream::open(&app, "admin", &m.admin).await;

    let id = app.vendor_conversation(&m.a1, &m.ca, "Live").await;
    let message = app
        .send_message("vendor", &m.a1, id, "ping")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    customer.wait_for("event: message_sent").await;
    assert!(customer.text.contains("event: conversation_created"));
    assert!(
        customer
            .text
            .contains(&format!("\"message_id\":{}", message["id"]))
    );
    colleague.wait_for("event: message_sent").await;

    // Each of the others then gets a conversation of their own. The bus delivers in order, so
    // once a stream shows its marker it has passed the point where "Live" would have been.
    let markers = [
        app.vendor_conversation(&m.a1, &m.ca2, "Marker").await,
        app.vendor_conversation(&m.b1, &m.cb, "Marker").await,
        app.start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Marker", "recipient_type": "store",
                   "recipient_id": m.b1.id, "store_id": m.store_b}),
        )
        .await["id"]
            .as_i64()
            .unwrap(),
    ];
    for (stream, marker) in [&mut other_customer, &mut other_store, &mut admin]
        .into_iter()
        .zip(markers)
    {
        stream
            .wait_for(&format!("\"conversation_id\":{marker},"))
            .await;
        assert!(
            !stream.text.contains(&format!("\"conversation_id\":{id},")),
            "{}",
            stream.text
        );
    }
    // Keep-alive comments flow meanwhile (the server's one-second timer, not ours to drive).
    admin.wait_for(": keep-alive").await;
}

#[tokio::test]
async fn logging_out_ends_the_stream() {
    let app = spawn_app_with(|s| s.server.sse_keepalive_seconds = 1).await;
    let m = app.marketplace().await;
    let mut stream = Stream::open(&app, "shop", &m.ca).await;
    let r = app
        .post("/api/v1/shop/auth/logout", &m.ca.token, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut ended = false;
    for _ in 0..40 {
        if !stream.read_for(std::time::Duration::from_millis(100)).await {
            ended = true;
            break;
        }
    }
    assert!(ended, "the stream outlived its session: {}", stream.text);
    assert!(stream.text.contains("event: end"));
}

#[tokio::test]
async fn reading_what_is_already_read_changes_nothing_and_publishes_nothing() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Quiet").await;
    let read = format!("/api/v1/shop/messages/{id}/read");
    let first = app.put(&read, &m.ca.token, json!({})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let read_at = "SELECT CAST(unixepoch(last_read_at, 'subsec') * 1000 AS INTEGER) FROM conversation_participants
                   WHERE conversation_id = ?1 AND participant_type = 'customer'";
    let stamped = app.query_i64(read_at, vec![id]).await;

    let mut events = app.state.events.subscribe_all();
    for _ in 0..3 {
        let again = app.put(&read, &m.ca.token, json!({})).await;
        assert_eq!(again.status(), StatusCode::OK);
        let body: serde_json::Value = again.json().await.unwrap();
        assert_eq!(body, json!({"unread_count": 0, "total_unread": 0}));
    }
    assert_eq!(app.query_i64(read_at, vec![id]).await, stamped);
    // A later change is the first event anyone hears: the repeated reads published nothing.
    app.send_message("vendor", &m.a1, id, "marker").await;
    let next = events.next_event().await.unwrap();
    assert_eq!(next.kind, parley::messaging::EventKind::MessageSent);

    // Something unread makes the next read count again.
    let read_again = app.put(&read, &m.ca.token, json!({})).await;
    assert_eq!(read_again.status(), StatusCode::OK);
    let next = events.next_event().await.unwrap();
    assert_eq!(next.kind, parley::messaging::EventKind::ConversationRead);
}

#[tokio::test]
async fn streams_beyond_the_limit_get_503_and_ordinary_requests_still_answer() {
    let app = spawn_app_with(|s| {
        s.server.max_streams = 2;
        s.server.sse_keepalive_seconds = 1;
    })
    .await;
    let m = app.marketplace().await;
    let first = Stream::open(&app, "shop", &m.ca).await;
    let _second = Stream::open(&app, "vendor", &m.a1).await;
    let refused = app
        .get("/api/v1/admin/messages/stream", &m.admin.token)
        .await;
    assert_eq!(
        crate::helpers::assert_error(refused, StatusCode::SERVICE_UNAVAILABLE).await,
        "overloaded"
    );
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // A stream whose client left gives its place back, once the next keep-alive finds it gone.
    drop(first);
    let mut reopened = None;
    for _ in 0..60 {
        let r = app
            .get("/api/v1/admin/messages/stream", &m.admin.token)
            .await;
        if r.status() == StatusCode::OK {
            reopened = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        reopened.is_some(),
        "the ended stream's place was not given back"
    );
}

/// The `id:` lines of a stream's text, in order.
fn ids(text: &str) -> Vec<i64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|id| id.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_replays_what_was_missed_once() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let mut first = Stream::open(&app, "shop", &m.ca).await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Resume").await;
    first.wait_for("event: message_sent").await;
    let seen = ids(&first.text);
    assert_eq!(seen.len(), 2, "{}", first.text);
    assert!(seen[0] < seen[1]);
    drop(first);

    // Away: two messages to the customer, one elsewhere they may not see.
    app.send(&m.a1, id, "missed one").await;
    app.send(&m.a2, id, "missed two").await;
    app.vendor_conversation(&m.a1, &m.ca2, "Not yours").await;

    let last = seen[1].to_string();
    let mut back = Stream::open_after(&app, "shop", &m.ca, Some(&last)).await;
    back.wait_for("event: message_sent").await;
    back.read_for(std::time::Duration::from_millis(300)).await;
    let replayed = ids(&back.text);
    // missed one, the colleague joining, missed two: each once, in order, all after `last`.
    assert_eq!(replayed.len(), 3, "{}", back.text);
    assert!(replayed.windows(2).all(|w| w[0] < w[1]) && replayed[0] > seen[1]);
    assert!(back.text.contains("event: participant_added"));
    assert!(!back.text.contains("resync"));
    let about = format!("\"conversation_id\":{id},");
    assert_eq!(back.text.matches(&about).count(), 3, "{}", back.text);

    // And it goes on live.
    let live: serde_json::Value = app
        .send(&m.a1, id, "live again")
        .await
        .json()
        .await
        .unwrap();
    back.wait_for(&format!("\"message_id\":{}", live["id"]))
        .await;
    assert_eq!(ids(&back.text).len(), 4);

    // Too far behind (or pruned): told to reload instead.
    app.execute("DELETE FROM events WHERE seq = 1").await;
    let mut stale = Stream::open_after(&app, "shop", &m.ca, Some("0")).await;
    stale.wait_for("event: resync").await;
    // An id the log never reached (a restored database): reload, and the live events still come.
    let mut ahead = Stream::open_after(&app, "shop", &m.ca, Some("999999")).await;
    ahead.wait_for("event: resync").await;
    let later: serde_json::Value = app
        .send(&m.a1, id, "after a restore")
        .await
        .json()
        .await
        .unwrap();
    ahead
        .wait_for(&format!("\"message_id\":{}", later["id"]))
        .await;
    // Nonsense ids are ignored: a plain live stream.
    let plain = Stream::open_after(&app, "shop", &m.ca, Some("abc")).await;
    assert!(!plain.text.contains("event:"), "{}", plain.text);
}

#[tokio::test]
async fn an_internal_note_reaches_the_store_and_the_platform_live_never_the_customer() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Refund").await;
    let r = app
        .post(
            &format!("/api/v1/shop/messages/{id}/escalate"),
            &m.ca.token,
            json!({"reason": "No refund yet"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut customer = Stream::open(&app, "shop", &m.ca).await;
    let mut colleague = Stream::open(&app, "vendor", &m.a2).await;
    let mut admin = Stream::open(&app, "admin", &m.admin).await;
    let note = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/messages"),
            &m.a1.token,
            json!({"content": "between us", "internal": true}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let public = app
        .send_message("vendor", &m.a1, id, "for everyone")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let (note, public) = (
        format!("\"message_id\":{}", note["id"]),
        format!("\"message_id\":{}", public["id"]),
    );
    for stream in [&mut colleague, &mut admin] {
        stream.wait_for(&note).await;
        stream.wait_for(&public).await;
    }
    // The bus delivers in order: once the public message is there, the note would have been.
    customer.wait_for(&public).await;
    assert!(!customer.text.contains(&note), "{}", customer.text);
    // A reconnect's replay leaves the note out too.
    let replay = Stream::open_after(&app, "shop", &m.ca, Some("0")).await;
    assert!(replay.text.contains(&public), "{}", replay.text);
    assert!(!replay.text.contains(&note), "{}", replay.text);
}

//! Outgoing webhooks against a real receiver on loopback: signed as the Standard Webhooks
//! specification says (checked with its reference crate and again by hand), each conversation's
//! events in order, retried until accepted, kept across a restart, refused for private targets,
//! and an endpoint that keeps failing disabled with an alert.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Party, TestApp, assert_error, spawn_app, spawn_app_with};

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) id: String,
    timestamp: String,
    signature: String,
    raw: String,
    pub(crate) body: Value,
    answered: u16,
}

/// A webhook receiver on loopback that answers with `status` (changeable) and keeps every request.
pub(crate) struct Receiver {
    pub(crate) url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
struct ReceiverState {
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receive(state: web::Data<ReceiverState>, req: HttpRequest, body: String) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let answered = state.status.load(Ordering::SeqCst);
    state.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        raw: body,
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap())
        .body(format!("answered {answered}"))
}

impl Receiver {
    pub(crate) async fn start(status: u16) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = ReceiverState {
            status: Arc::new(AtomicU16::new(status)),
            got: Arc::new(Mutex::new(Vec::new())),
        };
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/hook", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            status: state.status,
            got: state.got,
        }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The accepted requests, once `n` have come (waiting up to 20 s).
    pub(crate) async fn accepted(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let accepted: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.answered == 200)
                .collect();
            if accepted.len() >= n {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("fewer than {n} deliveries accepted: {:#?}", self.received());
    }
}

async fn hooked_app() -> TestApp {
    spawn_app_with(|s| {
        s.webhooks.allow_private_hosts = true;
        s.webhooks.poll_interval_ms = 50;
        s.webhooks.retry_base_seconds = 1;
        s.webhooks.retry_max_seconds = 1;
    })
    .await
}

async fn register(app: &TestApp, party: &Party, body: Value) -> Value {
    let area = party.area;
    let r = app
        .post(&format!("/api/v1/{area}/webhooks"), &party.token, body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// Checks a request's signature with the specification's reference crate, and by hand: HMAC-SHA256
/// of `id.timestamp.body` under the secret's bytes, base64, after `v1,`.
pub(crate) fn assert_signed(request: &Received, secret: &str) {
    let mut headers = http::HeaderMap::new();
    headers.insert("webhook-id", request.id.parse().unwrap());
    headers.insert("webhook-timestamp", request.timestamp.parse().unwrap());
    headers.insert("webhook-signature", request.signature.parse().unwrap());
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(request.raw.as_bytes(), &headers)
        .expect("a valid Standard Webhooks signature");
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", request.id, request.timestamp, request.raw).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(request.signature, format!("v1,{expected}"));
}

#[tokio::test]
async fn deliveries_are_signed_in_order_per_conversation_and_retried_until_accepted() {
    let app = hooked_app().await;
    let m = app.marketplace().await;
    // The receiver refuses at first: everything is retried.
    let platform = Receiver::start(503).await;
    let store = Receiver::start(200).await;
    let endpoint = register(
        &app,
        &m.admin,
        json!({"url": platform.url, "description": "Platform backend"}),
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(endpoint["events"], Value::Null);
    let store_endpoint = register(
        &app,
        &m.a1,
        json!({"url": store.url, "events": ["message.created"]}),
    )
    .await;
    assert_eq!(store_endpoint["store_id"], m.store_a);
    // The secret shows once.
    let listed: Value = app
        .get("/api/v1/admin/webhooks", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));

    let a = app.vendor_conversation(&m.a1, &m.ca, "Order A").await;
    let b = app.vendor_conversation(&m.b1, &m.cb, "Order B").await;
    for n in 0..3 {
        app.send(&m.ca, a, &format!("a{n}")).await;
        app.send(&m.cb, b, &format!("b{n}")).await;
    }
    // 2 conversations × (created, opening message, 3 messages) = 10 events.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        platform.received().len() >= 2,
        "attempted while refused: {:?}",
        platform.received().len()
    );
    platform.answer(200);
    let accepted = platform.accepted(10).await;
    let mut ids: Vec<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "each event accepted once");
    for request in platform.received() {
        assert_signed(&request, &secret);
        assert_eq!(request.id, format!("evt_{}", request.body["data"]["seq"]));
    }
    // In order per conversation: each conversation's accepted events in sequence order.
    for conversation in [a, b] {
        let seqs: Vec<i64> = accepted
            .iter()
            .filter(|r| r.body["data"]["conversation_id"] == conversation)
            .map(|r| r.body["data"]["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs.len(), 5);
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    }
    let first = &accepted
        .iter()
        .find(|r| r.body["data"]["conversation_id"] == a)
        .unwrap()
        .body;
    assert_eq!(first["type"], "conversation.created");
    assert_eq!(first["data"]["conversation_type"], "store_customer");
    assert_eq!(first["data"]["store_id"], m.store_a);
    assert!(first["timestamp"].as_str().unwrap().ends_with('Z'));

    // The store's endpoint got its own store's messages and nothing else.
    let mine = store.accepted(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mine_now = store.received();
    assert_eq!(mine_now.len(), 4, "{mine_now:#?}");
    assert!(
        mine.iter()
            .all(|r| r.body["type"] == "message.created" && r.body["data"]["conversation_id"] == a)
    );
    assert_signed(&mine[0], store_endpoint["secret"].as_str().unwrap());

    // The delivery log says what happened, retries included.
    let id = endpoint["id"].as_i64().unwrap();
    let log: Value = app
        .get(
            &format!("/api/v1/admin/webhooks/{id}/deliveries"),
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let log = log["deliveries"].as_array().unwrap();
    assert_eq!(log.len(), 10);
    assert!(
        log.iter()
            .all(|d| d["state"] == "delivered" && d["last_status"] == 200)
    );
    assert!(log.iter().any(|d| d["attempts"].as_i64().unwrap() >= 2));
    assert_eq!(log[0]["last_response"], "answered 200");

    // Another store's staff cannot see or touch this store's endpoint; customers have none.
    let theirs = store_endpoint["id"].as_i64().unwrap();
    for r in [
        app.get(
            &format!("/api/v1/vendor/webhooks/{theirs}/deliveries"),
            &m.b1.token,
        )
        .await,
        app.delete(&format!("/api/v1/vendor/webhooks/{theirs}"), &m.b1.token)
            .await,
        app.get(
            &format!("/api/v1/admin/webhooks/{theirs}/deliveries"),
            &m.admin.token,
        )
        .await,
    ] {
        assert_error(r, StatusCode::NOT_FOUND).await;
    }
    assert_eq!(
        app.get("/api/v1/shop/webhooks", &m.ca.token).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = app
        .delete(&format!("/api/v1/vendor/webhooks/{theirs}"), &m.a2.token)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://10.0.0.8/hook",
        "ftp://example.com/",
    ] {
        let r = app
            .post(
                "/api/v1/admin/webhooks",
                &m.admin.token,
                json!({"url": url}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::BAD_REQUEST).await,
            "validation_error",
            "{url}"
        );
    }
    let r = app
        .post(
            "/api/v1/vendor/webhooks",
            &m.a1.token,
            json!({"url": "https://127.0.0.1/x", "events": ["message.sent"]}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        app.query_i64("SELECT count(*) FROM webhook_endpoints", vec![])
            .await,
        0
    );
}

#[tokio::test]
async fn the_queue_survives_a_restart_and_a_failing_endpoint_is_disabled_with_an_alert() {
    let app = hooked_app().await;
    let m = app.marketplace().await;
    let receiver = Receiver::start(500).await;
    let endpoint = register(&app, &m.admin, json!({"url": receiver.url})).await;
    let id = endpoint["id"].as_i64().unwrap();
    let conversation = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Fees", "recipient_type": "store",
                   "recipient_id": m.a1.id, "initial_message": "Hi"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    // Refused: still queued when the appliance stops, and sent once it is back and the receiver
    // answers.
    for _ in 0..100 {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!receiver.received().is_empty());
    let app = app.restart().await;
    receiver.answer(200);
    let accepted = receiver.accepted(2).await;
    assert_eq!(accepted[0].body["type"], "conversation.created");
    assert_eq!(accepted[0].body["data"]["conversation_id"], conversation);
    assert_eq!(accepted[1].body["type"], "message.created");

    // Failing for longer than disable_after_hours (its start moved back): disabled, an alert.
    receiver.answer(500);
    app.send(&m.a1, conversation, "are you there?").await;
    for _ in 0..100 {
        if receiver
            .received()
            .iter()
            .any(|r| r.answered == 500 && r.body["type"] == "message.created")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.execute("UPDATE webhook_endpoints SET failing_since = '2000-01-01 00:00:00+00:00'")
        .await;
    let mut disabled = Value::Null;
    for _ in 0..100 {
        let list: Value = app
            .get("/api/v1/admin/webhooks", &m.admin.token)
            .await
            .json()
            .await
            .unwrap();
        disabled = list["webhooks"][0].clone();
        if disabled["is_active"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(disabled["is_active"], false, "{disabled}");
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("72 hours")
    );
    let alerts: Value = app
        .get("/api/v1/admin/notifications", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        alerts
            .to_string()
            .contains("A webhook endpoint was disabled"),
        "{alerts}"
    );
    let attempts = receiver.received().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.received().len(),
        attempts,
        "nothing sent while disabled"
    );

    // On again: what it held back goes out at once.
    receiver.answer(200);
    let r = app
        .patch(
            &format!("/api/v1/admin/webhooks/{id}"),
            &m.admin.token,
            json!({"is_active": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let accepted = receiver.accepted(3).await;
    assert_eq!(accepted[2].body["type"], "message.created");
}

#[tokio::test]
async fn a_delivery_refused_for_too_long_is_given_up_and_its_conversation_goes_on() {
    let app = hooked_app().await;
    let m = app.marketplace().await;
    let receiver = Receiver::start(500).await;
    let endpoint = register(
        &app,
        &m.admin,
        json!({"url": receiver.url, "events": ["message.created"]}),
    )
    .await;
    let id = endpoint["id"].as_i64().unwrap();
    let conversation = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Fees", "recipient_type": "store",
                   "recipient_id": m.a1.id, "initial_message": "Refused for ever"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    for _ in 0..100 {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Made long ago: the next refusal gives it up.
    app.execute("UPDATE webhook_deliveries SET created_at = '2000-01-01 00:00:00+00:00'")
        .await;
    let log = || async {
        app.get(
            &format!("/api/v1/admin/webhooks/{id}/deliveries"),
            &m.admin.token,
        )
        .await
        .json::<Value>()
        .await
        .unwrap()
    };
    let mut state = Value::Null;
    for _ in 0..100 {
        state = log().await["deliveries"][0]["state"].clone();
        if state == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "failed");
    // The conversation's next event is not held back behind it.
    receiver.answer(200);
    app.send(&m.a1, conversation, "and this one arrives").await;
    let accepted = receiver.accepted(1).await;
    assert_eq!(accepted[0].body["type"], "message.created");
    let deliveries = log().await;
    assert_eq!(deliveries["deliveries"][0]["state"], "delivered");
    assert_eq!(deliveries["deliveries"][1]["state"], "failed");
}

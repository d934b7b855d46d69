//! The platform end to end, against the real binary: it provisions a store, a staff member and
//! 1,000 customers by its own ids (twice: nothing doubles), signs a customer in by JWT, opens the
//! thread about an order, and learns of the customer's replies three ways that agree: its webhook
//! receiver (signed, in order), the customer's live stream across a reconnect, and the event log.

use futures_util::StreamExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{Served, parley};
use crate::webhooks_out::{Receiver, assert_signed};

const ISSUER: &str = "https://market.example.test";
const SECRET: &str = "the-platform-and-parley-share-this-secret";

struct Platform {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Platform {
    async fn put(&self, path: String, body: Value) -> StatusCode {
        self.client
            .put(format!("{}/api/v1/integration{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn events(&self, after: i64) -> Value {
        self.client
            .get(format!(
                "{}/api/v1/integration/events?after={after}&limit=500",
                self.base
            ))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn sso_token(sub: &str, jti: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": ISSUER, "aud": "parley", "sub": sub, "iat": now, "exp": now + 60,
                "jti": jti, "area": "shop", "store": "st-1", "email": format!("{sub}@buyers.test"),
                "name": "Carla Buyer", "language": "en"}),
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// The `id:` of each event a stream's text carries.
fn stream_ids(text: &str) -> Vec<i64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|id| id.parse().unwrap())
        .collect()
}

/// Reads a live stream until `until` holds for its text (or 10 s pass).
async fn read_stream(mut response: reqwest::Response, until: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !until(&text) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => panic!("the stream stopped short: {text}"),
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_plugs_in_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("parley.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[integration]
context_url_hosts = ["market.example.test"]
[webhooks]
allow_private_hosts = true
poll_interval_ms = 50
retry_base_seconds = 1
[sso]
issuer = "{ISSUER}"
hs256_secret = "{SECRET}"
"#
        ),
    )
    .unwrap();
    let admin = parley()
        .current_dir(dir.path())
        .args(["--config", config.to_str().unwrap()])
        .args([
            "create-admin",
            "--email",
            "ops@market.test",
            "--password",
            "long-enough-pw",
        ])
        .output()
        .unwrap();
    assert!(admin.status.success());
    let mut command = parley();
    command
        .current_dir(dir.path())
        .args(["--config", config.to_str().unwrap()]);
    let served = Served::start(command);
    let base = format!("http://127.0.0.1:{}", served.port);
    let client = crate::helpers::http_client();

    // The operator gives the platform a key and registers its webhook receiver.
    let admin: Value = client
        .post(format!("{base}/api/v1/admin/auth/login"))
        .json(&json!({"email": "ops@market.test", "password": "long-enough-pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin_token = admin["access_token"].as_str().unwrap().to_string();
    let unknown_scope = client
        .post(format!("{base}/api/v1/admin/api-keys"))
        .bearer_auth(&admin_token)
        .json(&json!({"name": "Backend", "scopes": ["provision", "everything"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_scope.status(), StatusCode::BAD_REQUEST);
    let key: Value = client
        .post(format!("{base}/api/v1/admin/api-keys"))
        .bearer_auth(&admin_token)
        .json(&json!({"name": "Backend", "scopes": ["provision", "conversations", "events"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let platform = Platform {
        client: client.clone(),
        base: base.clone(),
        key: key["key"].as_str().unwrap().to_string(),
    };
    let receiver = Receiver::start(200).await;
    let hook: Value = client
        .post(format!("{base}/api/v1/admin/webhooks"))
        .bearer_auth(&admin_token)
        .json(&json!({"url": receiver.url}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = hook["secret"].as_str().unwrap().to_string();

    // Provisioning, twice: the second pass finds everything (200) and makes nothing new.
    for pass in [StatusCode::CREATED, StatusCode::OK] {
        assert_eq!(
            platform
                .put(
                    "/stores/st-1".into(),
                    json!({"code": "north", "name": "North", "tier": "business"})
                )
                .await,
            pass
        );
        assert_eq!(
            platform
                .put(
                    "/stores/st-1/users/u-1".into(),
                    json!({"email": "lena@north.test", "full_name": "Lena"})
                )
                .await,
            pass
        );
        let statuses: Vec<StatusCode> = futures_util::stream::iter(0..1000)
            .map(|n| {
                platform.put(
                    format!("/stores/st-1/customers/c-{n}"),
                    json!({"email": format!("c-{n}@buyers.test"), "full_name": format!("Buyer {n}")}),
                )
            })
            .buffer_unordered(16)
            .collect()
            .await;
        assert!(statuses.iter().all(|s| *s == pass), "pass {pass}");
    }
    let customers: Value = client
        .get(format!("{base}/api/v1/admin/stores/1/customers?limit=1"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customers["total"], 1000);

    // The customer comes from the platform by single sign-on; the token works once.
    let token = sso_token("c-7", "jti-1");
    let signed_in: Value = client
        .post(format!("{base}/api/v1/shop/auth/sso"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let carla = signed_in["access_token"].as_str().unwrap().to_string();
    assert_eq!(signed_in["customer"]["full_name"], "Carla Buyer");
    let replayed = client
        .post(format!("{base}/api/v1/shop/auth/sso"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);

    // Carla's live stream is open when the platform opens the thread about her order.
    let stream = |last: Option<i64>| {
        let mut request = client
            .get(format!("{base}/api/v1/shop/messages/stream"))
            .bearer_auth(&carla);
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        request.send()
    };
    let first = stream(None).await.unwrap();
    let opened = client
        .post(format!("{base}/api/v1/integration/conversations"))
        .bearer_auth(&platform.key)
        .json(&json!({
            "store_external_id": "st-1", "customer_external_id": "c-7", "staff_external_id": "u-1",
            "subject": "Order #1042",
            "context": {"type": "order", "id": "1042", "label": "Order #1042",
                        "url": "https://market.example.test/orders/1042"},
            "initial_message": "Is my order on its way?"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    let id = opened.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let before_drop = read_stream(first, |t| stream_ids(t).len() >= 2).await;
    let seen = stream_ids(&before_drop);

    // Carla writes twice while her stream is away, then once more after it is back.
    for text in ["Hello?", "Any news?"] {
        let r = client
            .post(format!("{base}/api/v1/shop/messages/{id}/messages"))
            .bearer_auth(&carla)
            .json(&json!({"content": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let back = stream(Some(*seen.last().unwrap())).await.unwrap();
    let r = client
        .post(format!("{base}/api/v1/shop/messages/{id}/messages"))
        .bearer_auth(&carla)
        .json(&json!({"content": "Thanks!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let after = read_stream(back, |t| stream_ids(t).len() >= 3).await;
    let mut streamed = seen.clone();
    streamed.extend(stream_ids(&after));

    // The event log says the same, in the same order.
    let log = platform.events(0).await;
    let about: Vec<i64> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["conversation_id"] == id)
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        about.len(),
        5,
        "created, the opening message, three replies: {log}"
    );
    assert_eq!(
        streamed, about,
        "the stream missed nothing and repeated nothing"
    );
    let replay = platform.events(about[1]).await;
    let replayed: Vec<i64> = replay["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(replayed, about[2..].to_vec());

    // And so does the platform's webhook receiver: every event, signed, in order.
    let delivered = receiver.accepted(5).await;
    let delivered_seqs: Vec<i64> = delivered
        .iter()
        .map(|r| r.body["data"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(delivered_seqs, about);
    for request in &delivered {
        assert_signed(request, &secret);
    }
    assert_eq!(delivered[0].body["type"], "conversation.created");
    assert!(
        delivered[1..]
            .iter()
            .all(|r| r.body["type"] == "message.created")
    );
    served.stop();
}

//! Delivery tracking: signed provider webhooks move emails forward only; the SMTP open pixel and
//! click redirect; bounce-rate and disk-space alerts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{MailServer, TestApp, assert_count, assert_error, spawn_app_with};

fn signing_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).unwrap()
}

fn public_key_base64(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes())
}

async fn sendgrid_post(
    app: &TestApp,
    key: &SigningKey,
    timestamp: i64,
    events: Value,
) -> reqwest::Response {
    let body = events.to_string();
    let signed = format!("{timestamp}{body}");
    let signature: Signature = key.sign(signed.as_bytes());
    app.client
        .post(app.url("/api/v1/webhooks/email/sendgrid"))
        .header(
            "X-Twilio-Email-Event-Webhook-Signature",
            STANDARD.encode(signature.to_der().as_bytes()),
        )
        .header(
            "X-Twilio-Email-Event-Webhook-Timestamp",
            timestamp.to_string(),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// An email of store A marked as sent through `provider`, as if it had just gone out.
async fn sent_email(
    app: &TestApp,
    store_id: i64,
    provider: &'static str,
    recipient: &'static str,
) -> i64 {
    app.state
        .db
        .write(move |tx| {
            Ok::<i64, parley::error::AppError>(tx.query_row(
                "INSERT INTO email_logs (template_code, recipient_email, subject, from_email, status, provider, store_id, sent_at)
                 VALUES ('new_message', ?3, 'Hi', 'shop@a.example.test', 'sent', ?2, ?1, '2026-01-01 00:00:00+00:00')
                 RETURNING id",
                rusqlite::params![store_id, provider, recipient],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

async fn status(app: &TestApp, id: i64) -> String {
    app.state
        .db
        .read(move |c| {
            Ok::<String, parley::error::AppError>(c.query_row(
                "SELECT status FROM email_logs WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn sendgrid_events_are_verified_and_only_move_emails_forward() {
    let app = spawn_app_with(|_| {}).await;
    let m = app.marketplace().await;
    let key = signing_key();
    let r = app
        .put(
            "/api/v1/vendor/email-settings",
            &m.a1.token,
            json!({"from_email": "shop@a.example.test", "from_name": "A", "provider": "sendgrid", "sendgrid_api_key": "SG.x",
                   "sendgrid_webhook_public_key": public_key_base64(&key)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bad = app
        .put(
            "/api/v1/vendor/email-settings",
            &m.a1.token,
            json!({"sendgrid_webhook_public_key": "bm90IGEga2V5"}),
        )
        .await;
    assert_error(bad, StatusCode::BAD_REQUEST).await;
    let id = sent_email(&app, m.store_a, "sendgrid", "ca@example.test").await;
    let now = chrono::Utc::now().timestamp();

    let events = json!([
        {"email": "ca@example.test", "event": "delivered", "timestamp": now, "email_log_id": id.to_string()},
        {"email": "ca@example.test", "event": "open", "timestamp": now, "email_log_id": id.to_string()},
    ]);
    let r = sendgrid_post(&app, &key, now, events.clone()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["processed"], 2);
    assert_eq!(status(&app, id).await, "opened");
    // A late "delivered" does not move it back.
    sendgrid_post(
        &app,
        &key,
        now,
        json!([{"event": "delivered", "timestamp": now, "email_log_id": id}]),
    )
    .await;
    assert_eq!(status(&app, id).await, "opened");
    assert_eq!(app.query_i64("SELECT count(*) FROM email_logs WHERE id = ?1 AND delivered_at IS NOT NULL AND opened_at IS NOT NULL", vec![id]).await, 1);

    // A forged, altered or stale request changes nothing.
    let forger = SigningKey::from_slice(&[9u8; 32]).unwrap();
    let click = json!([{"event": "click", "timestamp": now, "email_log_id": id}]);
    assert_error(
        sendgrid_post(&app, &forger, now, click.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_error(
        sendgrid_post(&app, &key, now - 3600, click.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let r = app
        .client
        .post(app.url("/api/v1/webhooks/email/sendgrid"))
        .header("Content-Type", "application/json")
        .body(click.to_string())
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED).await;
    assert_eq!(status(&app, id).await, "opened");

    sendgrid_post(&app, &key, now, click).await;
    assert_eq!(status(&app, id).await, "clicked");
    // An event about another store's email is ignored, even with a good signature.
    let other = sent_email(&app, m.store_b, "sendgrid", "cb@example.test").await;
    let r = sendgrid_post(&app, &key, now, json!([{"event": "delivered", "email_log_id": id}, {"event": "bounce", "email_log_id": other}])).await;
    assert_eq!(r.json::<Value>().await.unwrap()["processed"], 1);
    assert_eq!(status(&app, other).await, "sent");
}

#[tokio::test]
async fn mailgun_events_need_the_stores_signing_key_and_bounces_stop_mail() {
    let app = spawn_app_with(|_| {}).await;
    let m = app.marketplace().await;
    let r = app
        .put(
            "/api/v1/vendor/email-settings",
            &m.a1.token,
            json!({"from_email": "shop@a.example.test", "from_name": "A", "provider": "mailgun", "mailgun_api_key": "k",
                   "mailgun_domain": "mg.a.test", "mailgun_webhook_signing_key": "whsec-SENTINEL"}),
        )
        .await;
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["mailgun_webhook_signing_key_set"], true);
    assert!(!view.to_string().contains("whsec-SENTINEL"));
    let id = sent_email(&app, m.store_a, "mailgun", "gone@example.test").await;
    let post = |key: &'static str, event: Value| {
        let app = &app;
        async move {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let token = "f3a1c0ffee";
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(format!("{timestamp}{token}").as_bytes());
            let signature = hex::encode(mac.finalize().into_bytes());
            app.client
                .post(app.url("/api/v1/webhooks/email/mailgun"))
                .json(&json!({"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": event}))
                .send()
                .await
                .unwrap()
        }
    };
    let delivered =
        json!({"event": "delivered", "user-variables": {"email_log_id": id.to_string()}});
    assert_error(
        post("wrong-key", delivered.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(status(&app, id).await, "sent");
    assert_eq!(
        post("whsec-SENTINEL", delivered).await.status(),
        StatusCode::OK
    );
    assert_eq!(status(&app, id).await, "delivered");
    let temporary =
        json!({"event": "failed", "severity": "temporary", "user-variables": {"email_log_id": id}});
    post("whsec-SENTINEL", temporary).await;
    assert_eq!(status(&app, id).await, "delivered");
    let permanent =
        json!({"event": "failed", "severity": "permanent", "user-variables": {"email_log_id": id}});
    post("whsec-SENTINEL", permanent).await;
    assert_eq!(status(&app, id).await, "bounced");
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM email_suppressions WHERE email = 'gone@example.test'",
            vec![]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn too_many_bounces_raise_one_store_alert() {
    let app = spawn_app_with(|_| {}).await;
    let m = app.marketplace().await;
    let key = signing_key();
    app.put(
        "/api/v1/vendor/email-settings",
        &m.a1.token,
        json!({"from_email": "shop@a.example.test", "from_name": "A", "provider": "sendgrid", "sendgrid_api_key": "SG.x",
               "sendgrid_webhook_public_key": public_key_base64(&key)}),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..25 {
        ids.push(sent_email(&app, m.store_a, "sendgrid", "someone@example.test").await);
    }
    let now = chrono::Utc::now().timestamp();
    let bounces: Vec<Value> = ids[..3]
        .iter()
        .map(|id| json!({"event": "bounce", "email_log_id": id}))
        .collect();
    sendgrid_post(&app, &key, now, Value::Array(bounces)).await;
    let alerts: Value = app
        .get(
            "/api/v1/admin/notifications?type=store_issue",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["total"], 1, "{alerts}");
    assert_eq!(
        alerts["notifications"][0]["title"],
        "A store's emails bounce too often"
    );
}

#[tokio::test]
async fn smtp_mail_can_carry_an_open_pixel_and_safe_click_redirects() {
    let mut relay = MailServer::start().await;
    let app = spawn_app_with(|s| {
        relay.configure(s);
        s.server.public_url = "http://parley.example.test".into();
    })
    .await;
    let m = app.marketplace().await;
    let r = app
        .put(
            "/api/v1/vendor/email-settings",
            &m.a1.token,
            json!({"from_email": "shop@a.example.test", "from_name": "A", "smtp_host": "mail.example.test", "track_opens": true, "track_clicks": true}),
        )
        .await;
    // Not verified (its host is not real), so mail goes through the platform relay, tracked.
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an unresolvable host is refused"
    );
    app.state
        .db
        .write(move |tx| {
            Ok::<_, parley::error::AppError>(tx.execute(
                "INSERT INTO store_email_settings (store_id, from_email, from_name, track_opens, track_clicks) VALUES (?1, 'shop@a.example.test', 'A', 1, 1)",
                [m.store_a],
            )?)
        })
        .await
        .unwrap();
    app.vendor_conversation(&m.a1, &m.ca, "Tracked").await;
    let email = relay
        .delivered_to(&app, "ca@example.test", "New message: Tracked")
        .await;
    let html = email["html"].as_str().unwrap().to_string();
    let pixel = html
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(
        pixel.starts_with("http://parley.example.test/t/o/"),
        "{html}"
    );
    let click = html
        .split("href=\"")
        .find(|h| h.contains("/t/c/"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(
        html.contains("/unsubscribe/"),
        "the unsubscribe link is left alone"
    );
    let id = app
        .query_i64(
            "SELECT id FROM email_logs WHERE template_code = 'new_message'",
            vec![],
        )
        .await;
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'sent'",
        vec![],
        1,
    )
    .await;

    let local = |url: &str| url.replace("http://parley.example.test", &app.address);
    let r = app.client.get(local(&pixel)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/gif");
    assert_eq!(status(&app, id).await, "opened");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects.get(local(&click)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        r.headers()["location"],
        format!(
            "http://parley.example.test/shop/account/messages/{}",
            app.query_i64("SELECT related_id FROM email_logs WHERE id = ?1", vec![id])
                .await
        )
    );
    assert_eq!(status(&app, id).await, "clicked");
    // Only the email's own links: other numbers and tokens lead nowhere.
    let token = click
        .split("/t/c/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let r = no_redirects
        .get(app.url(&format!("/t/c/{token}/99")))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;
    let r = no_redirects
        .get(app.url("/t/c/unknown/0"))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.client
            .get(app.url("/t/o/unknown"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn low_disk_space_raises_a_critical_alert() {
    let app = spawn_app_with(|s| s.storage.min_free_disk_mb = u64::MAX / (1024 * 1024)).await;
    let admin = app.admin("root@example.test").await;
    parley::jobs::check_disk_space(&app.state.db, &app.state.settings)
        .await
        .unwrap();
    parley::jobs::check_disk_space(&app.state.db, &app.state.settings)
        .await
        .unwrap();
    let alerts: Value = app
        .get(
            "/api/v1/admin/notifications?priority=critical",
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["total"], 1);
    assert_eq!(alerts["notifications"][0]["title"], "Low disk space");
}

/// A stand-in for SNS: serves the signing certificate and records subscription confirmations.
async fn sns_stub(pem: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let data = web::Data::new((pem, hits.clone()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |req: HttpRequest,
             data: web::Data<(String, std::sync::Arc<std::sync::Mutex<Vec<String>>>)>| async move {
                data.1.lock().unwrap().push(req.uri().to_string());
                if req.path() == "/cert.pem" {
                    HttpResponse::Ok().body(data.0.clone())
                } else {
                    HttpResponse::Ok().body("<ConfirmSubscriptionResponse/>")
                }
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/"), hits)
}

/// The test topic's signing key and certificate (RSA 2048, self-signed, valid until 2126), made
/// once with `openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=sns.test`.
const SNS_KEY: &str = include_str!("../fixtures/sns-test-key.pem");
const SNS_CERT: &str = include_str!("../fixtures/sns-test-cert.pem");

fn sns_signing_key() -> ring::signature::RsaKeyPair {
    let der: String = SNS_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    ring::signature::RsaKeyPair::from_pkcs8(&STANDARD.decode(der).unwrap()).unwrap()
}

fn sns_message(
    key: &ring::signature::RsaKeyPair,
    cert_url: &str,
    kind: &str,
    topic: &str,
    message: &str,
    subscribe_url: Option<&str>,
) -> Value {
    let mut m = parley::email::sns::SnsMessage {
        message_type: kind.into(),
        message_id: uuid::Uuid::new_v4().to_string(),
        topic_arn: topic.into(),
        subject: None,
        message: message.into(),
        timestamp: chrono::Utc::now().to_rfc3339(),
        signature_version: "2".into(),
        signature: String::new(),
        signing_cert_url: cert_url.into(),
        subscribe_url: subscribe_url.map(str::to_string),
        token: subscribe_url.map(|_| "token-1".to_string()),
    };
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        parley::email::sns::string_to_sign(&m).as_bytes(),
        &mut signature,
    )
    .unwrap();
    m.signature = STANDARD.encode(signature);
    json!({
        "Type": m.message_type, "MessageId": m.message_id, "TopicArn": m.topic_arn, "Message": m.message,
        "Timestamp": m.timestamp, "SignatureVersion": m.signature_version, "Signature": m.signature,
        "SigningCertURL": m.signing_cert_url, "SubscribeURL": m.subscribe_url, "Token": m.token,
    })
}

#[tokio::test]
async fn ses_events_arrive_as_signed_sns_messages_from_the_stores_topic() {
    let key = sns_signing_key();
    let (base, hits) = sns_stub(SNS_CERT.to_string()).await;
    let prefix = base.clone();
    let app = spawn_app_with(|s| s.email.sns_trusted_url_prefix = prefix).await;
    let m = app.marketplace().await;
    let topic = "arn:aws:sns:eu-west-1:123456789012:shop-a-ses";
    let r = app
        .put(
            "/api/v1/vendor/email-settings",
            &m.a1.token,
            json!({"from_email": "shop@a.example.test", "from_name": "A", "provider": "ses", "ses_access_key_id": "AKIAEXAMPLEKEY123456",
                   "ses_secret_access_key": "s", "ses_region": "eu-west-1", "ses_sns_topic_arn": topic}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = sent_email(&app, m.store_a, "ses", "ca@example.test").await;
    let cert_url = format!("{base}cert.pem");
    let post = |body: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/webhooks/email/ses"))
                .header("Content-Type", "text/plain; charset=UTF-8")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
        }
    };
    let delivery = json!({"eventType": "Delivery", "mail": {"messageId": "ses-1", "tags": {"email_log_id": [id.to_string()]}}}).to_string();

    let r = post(sns_message(
        &key,
        &cert_url,
        "Notification",
        topic,
        &delivery,
        None,
    ))
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["processed"], 1);
    assert_eq!(status(&app, id).await, "delivered");

    // Altered after signing, or signed elsewhere, or from a foreign topic: nothing changes.
    let bounce = json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent"}, "mail": {"tags": {"email_log_id": [id.to_string()]}}}).to_string();
    let mut altered = sns_message(&key, &cert_url, "Notification", topic, &delivery, None);
    altered["Message"] = json!(bounce);
    assert_error(post(altered).await, StatusCode::UNAUTHORIZED).await;
    let untrusted = sns_message(
        &key,
        "https://evil.test/cert.pem",
        "Notification",
        topic,
        &bounce,
        None,
    );
    assert_error(post(untrusted).await, StatusCode::UNAUTHORIZED).await;
    let foreign = sns_message(
        &key,
        &cert_url,
        "Notification",
        "arn:aws:sns:eu-west-1:999:other",
        &bounce,
        None,
    );
    assert_eq!(
        post(foreign).await.json::<Value>().await.unwrap()["processed"],
        0
    );
    assert_eq!(status(&app, id).await, "delivered");

    let r = post(sns_message(
        &key,
        &cert_url,
        "Notification",
        topic,
        &bounce,
        None,
    ))
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["processed"], 1);
    assert_eq!(status(&app, id).await, "bounced");

    // The store's topic subscription is confirmed, at the trusted SNS address only.
    let confirm_url = format!("{base}confirm?Token=token-1");
    let r = post(sns_message(
        &key,
        &cert_url,
        "SubscriptionConfirmation",
        topic,
        "You have chosen to subscribe",
        Some(&confirm_url),
    ))
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["confirmed"], true);
    assert!(
        hits.lock()
            .unwrap()
            .iter()
            .any(|h| h.starts_with("/confirm"))
    );
    let evil = sns_message(
        &key,
        &cert_url,
        "SubscriptionConfirmation",
        topic,
        "x",
        Some("http://169.254.169.254/latest"),
    );
    assert_error(post(evil).await, StatusCode::UNAUTHORIZED).await;
}

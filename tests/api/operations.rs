//! What operators call: `/metrics` (parsed as Prometheus reads it), `/health/ready`.

use reqwest::StatusCode;
use serde_json::json;

use crate::attachments::{file, upload};
use crate::helpers::{TestApp, png, spawn_app, spawn_app_with};

const TOKEN: &str = "scrape-token-0123456789";

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

async fn scrape(app: &TestApp) -> Exposition {
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("not the Prometheus text format ({e:?}):\n{text}"))
}

/// The value of the series of `family` whose labels include every pair of `labels` (a
/// histogram's count).
fn value(scrape: &Exposition, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    use openmetrics_parser::PrometheusValue;
    let family = scrape.families.get(family)?;
    family
        .iter_samples()
        .find(|sample| {
            let set = sample.get_labelset().unwrap();
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|sample| match &sample.value {
            PrometheusValue::Counter(c) => c.value.as_f64(),
            PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
            PrometheusValue::Histogram(h) => h.count.unwrap_or_default() as f64,
            PrometheusValue::Summary(_) => f64::NAN,
        })
}

#[tokio::test]
async fn metrics_are_off_unless_enabled() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_need_the_token_and_count_what_the_server_does() {
    let app = spawn_app_with(|s| {
        s.metrics.enabled = true;
        s.metrics.token = parley::config::Secret(TOKEN.into());
        s.auth.login_attempts_per_account_per_minute = 1;
    })
    .await;
    for token in [None, Some("wrong")] {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }

    let m = app.marketplace().await;
    let conversation = app.vendor_conversation(&m.a1, &m.ca, "Order 1").await;
    assert_eq!(
        app.send(&m.ca, conversation, "Where is it?").await.status(),
        StatusCode::CREATED
    );
    // A second wrong login within the minute is refused by the account limit.
    for _ in 0..2 {
        app.post_anon(
            "/api/v1/vendor/auth/login",
            json!({ "email": "a1@example.test", "password": "wrong-password-1" }),
        )
        .await;
    }
    let photo = file(png(40, 30), "photo.png", "image/png");
    let uploaded = upload(&app, "shop", &m.ca, conversation, "A photo", vec![photo]).await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let stream = app
        .client
        .get(app.url("/api/v1/shop/messages/stream"))
        .bearer_auth(&m.ca.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let scrape = scrape(&app).await;
    let sent = value(
        &scrape,
        "parley_http_requests_total",
        &[
            ("method", "POST"),
            ("route", "/api/v1/shop/messages/{id}/messages"),
            ("status", "201"),
        ],
    );
    assert!(sent >= Some(1.0), "{sent:?}");
    // The route, never the path: no series per conversation id.
    let requests = &scrape.families["parley_http_requests_total"];
    assert!(!requests.iter_samples().any(|s| {
        let set = s.get_labelset().unwrap();
        set.get_label_value("route")
            .is_some_and(|r| r.split('/').any(|part| part == conversation.to_string()))
    }));
    let latency = value(
        &scrape,
        "parley_http_request_duration_seconds",
        &[("route", "/api/v1/shop/messages/{id}/messages")],
    );
    assert!(latency >= Some(1.0), "{latency:?}");
    let refused = value(
        &scrape,
        "parley_rate_limited_total",
        &[("limit", "login_account")],
    );
    assert!(refused >= Some(1.0), "{refused:?}");
    assert!(value(&scrape, "parley_live_streams", &[("area", "shop")]) >= Some(1.0));
    assert!(value(&scrape, "parley_db_size_bytes", &[]) > Some(0.0));
    assert!(value(&scrape, "parley_db_wal_size_bytes", &[]).is_some());
    assert!(value(&scrape, "parley_disk_free_bytes", &[]) > Some(0.0));
    assert!(value(&scrape, "parley_db_writer_queue_depth", &[]).is_some());
    assert!(value(&scrape, "parley_email_queue", &[("state", "pending")]).is_some());
    assert!(value(&scrape, "parley_webhook_queue", &[("state", "failed")]).is_some());
    let batches = value(&scrape, "parley_db_write_batch_size", &[]);
    assert!(batches >= Some(1.0), "{batches:?}");
    let commits = value(&scrape, "parley_db_commit_duration_seconds", &[]);
    assert!(commits >= Some(1.0), "{commits:?}");
    // Every decode has ended: the gauge exists and is back to zero.
    assert_eq!(
        value(&scrape, "parley_image_decodes_in_flight", &[]),
        Some(0.0)
    );
    drop(stream);
}

#[tokio::test]
async fn ready_checks_the_database_the_disk_and_the_schema() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "status": "ready", "checks": {
            "database_writable": true, "disk_above_floor": true, "migrations_current": true } })
    );

    // A floor above any disk: not ready, and the body names the check.
    let app = spawn_app_with(|s| s.storage.min_free_disk_mb = u64::MAX / (2 << 20)).await;
    let response = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["disk_above_floor"], false);
    assert_eq!(body["checks"]["database_writable"], true);
}

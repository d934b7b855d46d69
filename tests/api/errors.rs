use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn unknown_routes_and_unparsable_ids_answer_json_404() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let r = app
        .client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
    let r = app.get("/api/v1/admin/stores/abc", &admin.token).await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
}

#[tokio::test]
async fn malformed_json_missing_and_mistyped_fields_are_400() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let send_raw = |body: &'static str| {
        app.client
            .post(app.url("/api/v1/admin/stores"))
            .bearer_auth(&admin.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let r = send_raw("{\"code\": ").await.unwrap();
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "malformed_json"
    );
    let r = send_raw("{\"code\": \"x\"}").await.unwrap();
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_body"
    );
    let r = send_raw("{\"code\": 5, \"name\": \"x\"}").await.unwrap();
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_body"
    );
    let r = send_raw("{\"code\": \"x\", \"name\": \"x\", \"is_admin\": true}")
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_body"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let r = app
        .client
        .post(app.url("/api/v1/admin/stores"))
        .bearer_auth(&admin.token)
        .header("Content-Type", "text/plain")
        .body("code=x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "unsupported_media_type"
    );
}

#[tokio::test]
async fn overlong_and_hostile_strings_are_400_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    for name in [
        "x".repeat(256),
        "Evil\r\nBcc: x@y.z".to_string(),
        "ad\u{200B}min".to_string(),
        "a\u{202E}b".to_string(),
    ] {
        let r = app
            .post(
                "/api/v1/admin/stores",
                &admin.token,
                json!({"code": "shop", "name": name}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::BAD_REQUEST).await,
            "validation_error"
        );
    }
    let stores: serde_json::Value = app
        .get("/api/v1/admin/stores", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stores["total"], 0);
    let store = app.create_store(&admin, "shop", "essential").await;
    let r = app
        .post(
            &format!("/api/v1/admin/stores/{store}/customers"),
            &admin.token,
            json!({"email": "not an email", "full_name": "X"}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    for query in ["limit=101", "limit=0", "skip=-1", "limit=abc"] {
        let r = app
            .get(&format!("/api/v1/admin/stores?{query}"), &admin.token)
            .await;
        assert_error(r, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn responses_carry_defensive_headers() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn an_oversized_webhook_body_answers_413_in_the_json_shape() {
    let app = spawn_app().await;
    for provider in ["sendgrid", "mailgun", "ses"] {
        let r = app
            .client
            .post(app.url(&format!("/api/v1/webhooks/email/{provider}")))
            .header("Content-Type", "application/json")
            .body(vec![b'a'; 400 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(
            assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await,
            "payload_too_large"
        );
    }
}

#[tokio::test]
async fn head_answers_as_get_would_without_a_body() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let get = app.client.get(app.url("/health")).send().await.unwrap();
    let head = app.client.head(app.url("/health")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-type"],
        get.headers()["content-type"]
    );
    assert_eq!(
        head.headers()["content-length"],
        get.headers()["content-length"]
    );
    assert!(head.bytes().await.unwrap().is_empty());

    let r = app
        .client
        .head(app.url("/api/v1/admin/messages"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .head(app.url("/api/v1/admin/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.client.head(app.url("/no/such")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/json");
}

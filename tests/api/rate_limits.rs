use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with};

#[tokio::test]
async fn logins_from_one_address_are_limited_with_retry_after() {
    let app = spawn_app_with(|s| s.auth.login_attempts_per_ip_per_minute = 3).await;
    let attempt = |email: &'static str| {
        app.client
            .post(app.url("/api/v1/admin/auth/login"))
            // Not trusted by default: a spoofed X-Forwarded-For must not give a fresh budget.
            .header("X-Forwarded-For", format!("10.0.0.{}", email.len()))
            .json(&json!({"email": email, "password": "wrong-password"}))
            .send()
    };
    for email in ["a@example.test", "bb@example.test", "ccc@example.test"] {
        assert_eq!(
            attempt(email).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = attempt("dddd@example.test").await.unwrap();
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        assert_error(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
    // Registration shares the per-address budget.
    let r = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "x", "email": "e@example.test", "password": "password1", "full_name": "E"}),
        )
        .await;
    assert_error(r, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn logins_to_one_account_are_limited_whatever_the_address() {
    let app = spawn_app_with(|s| {
        s.auth.login_attempts_per_ip_per_minute = 100;
        s.auth.login_attempts_per_account_per_minute = 2;
    })
    .await;
    for _ in 0..2 {
        let r = app
            .post_anon(
                "/api/v1/admin/auth/login",
                json!({"email": "victim@example.test", "password": "guess-one"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "Victim@Example.test", "password": "guess-two"}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
    // Another account is unaffected.
    let r = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "other@example.test", "password": "guess-one"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn one_account_cannot_flood_a_conversation() {
    let app = spawn_app_with(|s| s.auth.messages_per_minute = 5).await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Flood").await;
    for i in 0..5 {
        let r = app
            .send_message("shop", &m.ca, id, &format!("spam {i}"))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app.send_message("shop", &m.ca, id, "one too many").await;
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        assert_error(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
    // Others are not held back by it.
    assert_eq!(
        app.send_message("vendor", &m.a1, id, "reply")
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            vec![id]
        )
        .await,
        7
    );
}

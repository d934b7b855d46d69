use parley::error::AppError;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_error, spawn_app};

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn admin_login_gives_a_bearer_token_that_identifies_the_admin() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let me: Value = app
        .get("/api/v1/admin/auth/me", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "root@example.test");
    assert_eq!(me["user"]["role"], "admin");
    assert!(me["user"].get("password_hash").is_none());
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_identically() {
    let app = spawn_app().await;
    app.admin("root@example.test").await;
    let wrong = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "root@example.test", "password": "wrong-password"}),
        )
        .await;
    let unknown = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "nobody@example.test", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

#[tokio::test]
async fn each_area_only_logs_in_its_own_accounts() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "shop-a", "essential").await;
    app.staff(&admin, store, "staff@example.test").await;
    // An admin is not a vendor and a vendor is not an admin: both answer like an unknown account.
    let r = app
        .post_anon(
            "/api/v1/vendor/auth/login",
            json!({"email": "root@example.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
    let r = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "staff@example.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
    let body = app
        .login(
            "vendor",
            json!({"email": "STAFF@example.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(body["user"]["store_id"], store);
}

#[tokio::test]
async fn a_token_of_another_role_is_forbidden_and_no_token_is_unauthorized() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "shop-a", "essential").await;
    let staff = app.staff(&admin, store, "staff@example.test").await;
    let customer = app.customer("shop-a", "ann@example.test").await;

    for (token, path) in [
        (&staff.token, "/api/v1/admin/stores"),
        (&customer.token, "/api/v1/admin/stores"),
        (&customer.token, "/api/v1/vendor/customers"),
        (&admin.token, "/api/v1/vendor/customers"),
        (&admin.token, "/api/v1/shop/auth/me"),
        (&staff.token, "/api/v1/shop/auth/me"),
    ] {
        assert_eq!(
            assert_error(app.get(path, token).await, StatusCode::FORBIDDEN).await,
            "forbidden",
            "{path}"
        );
    }
    let r = app
        .client
        .get(app.url("/api/v1/admin/stores"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, StatusCode::UNAUTHORIZED).await,
        "unauthorized"
    );
    let r = app.get("/api/v1/admin/stores", "not-a-real-token").await;
    assert_eq!(
        assert_error(r, StatusCode::UNAUTHORIZED).await,
        "unauthorized"
    );
    let r = app
        .client
        .get(app.url("/api/v1/admin/stores"))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, StatusCode::UNAUTHORIZED).await,
        "unauthorized"
    );
}

#[tokio::test]
async fn customers_register_per_store_and_log_in_with_the_store_code() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    app.create_store(&admin, "shop-a", "essential").await;
    app.create_store(&admin, "shop-b", "essential").await;
    let a = app.customer("shop-a", "ann@example.test").await;
    // The same email may exist in another store.
    let b = app.customer("shop-b", "ann@example.test").await;
    assert_ne!(a.id, b.id);

    let again = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "shop-a", "email": "ann@example.test", "password": PASSWORD, "full_name": "Ann"}),
        )
        .await;
    assert_eq!(
        assert_error(again, StatusCode::CONFLICT).await,
        "email_taken"
    );

    let body = app
        .login(
            "shop",
            json!({"store_code": "shop-b", "email": "ann@example.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(body["customer"]["id"], b.id);
    assert_eq!(body["token_type"], "bearer");

    let unknown_store = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "nope", "email": "x@example.test", "password": PASSWORD, "full_name": "X"}),
        )
        .await;
    assert_error(unknown_store, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn registration_takes_a_language() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    app.create_store(&admin, "shop-a", "essential").await;
    let r = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "shop-a", "email": "de@example.test", "password": PASSWORD, "full_name": "D", "language": "de"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["customer"]["language"],
        "de"
    );
    let r = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "shop-a", "email": "xx@example.test", "password": PASSWORD, "full_name": "D", "language": "german"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let r = app
        .post("/api/v1/admin/auth/logout", &admin.token, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get("/api/v1/admin/auth/me", &admin.token).await;
    assert_error(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn password_change_ends_every_other_session() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "shop-a", "essential").await;
    let first = app.staff(&admin, store, "staff@example.test").await;
    let second = app
        .login(
            "vendor",
            json!({"email": "staff@example.test", "password": PASSWORD}),
        )
        .await;
    let second = second["access_token"].as_str().unwrap().to_string();

    let wrong = app
        .post(
            "/api/v1/vendor/auth/password",
            &first.token,
            json!({"current_password": "not-the-password", "new_password": "a-new-password"}),
        )
        .await;
    assert_eq!(
        assert_error(wrong, StatusCode::BAD_REQUEST).await,
        "wrong_password"
    );
    let short = app
        .post(
            "/api/v1/vendor/auth/password",
            &first.token,
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(
        assert_error(short, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );

    let r = app
        .post(
            "/api/v1/vendor/auth/password",
            &first.token,
            json!({"current_password": PASSWORD, "new_password": "a-new-password"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/vendor/auth/me", &first.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        app.get("/api/v1/vendor/auth/me", &second).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let old = app
        .post_anon(
            "/api/v1/vendor/auth/login",
            json!({"email": "staff@example.test", "password": PASSWORD}),
        )
        .await;
    assert_error(old, StatusCode::UNAUTHORIZED).await;
    app.login(
        "vendor",
        json!({"email": "staff@example.test", "password": "a-new-password"}),
    )
    .await;
}

#[tokio::test]
async fn disabling_a_user_or_their_store_refuses_the_very_next_request() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "shop-a", "essential").await;
    let staff = app.staff(&admin, store, "staff@example.test").await;
    let other = app.staff(&admin, store, "other@example.test").await;
    let customer = app.customer("shop-a", "ann@example.test").await;

    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{store}/users/{}", staff.id),
            &admin.token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_error(
        app.get("/api/v1/vendor/auth/me", &staff.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let relogin = app
        .post_anon(
            "/api/v1/vendor/auth/login",
            json!({"email": "staff@example.test", "password": PASSWORD}),
        )
        .await;
    assert_error(relogin, StatusCode::UNAUTHORIZED).await;

    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{store}"),
            &admin.token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_error(
        app.get("/api/v1/vendor/auth/me", &other.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_error(
        app.get("/api/v1/shop/auth/me", &customer.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{store}"),
            &admin.token,
            json!({"is_active": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/vendor/auth/me", &other.token)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    app.state
        .db
        .write(|tx| {
            Ok::<_, AppError>(tx.execute(
                "UPDATE sessions SET expires_at = '2000-01-01 00:00:00+00:00'",
                [],
            )?)
        })
        .await
        .unwrap();
    assert_error(
        app.get("/api/v1/admin/auth/me", &admin.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let token = admin.token.clone();
    let found: i64 = app
        .state
        .db
        .read(move |conn| {
            Ok::<_, AppError>(conn.query_row(
                "SELECT count(*) FROM sessions WHERE token_hash = ?1 OR CAST(token_hash AS TEXT) = ?1",
                [&token],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(found, 0);
}

#[tokio::test]
async fn cookie_sessions_are_http_only_and_need_the_csrf_token_to_change_state() {
    let app = spawn_app().await;
    app.admin("root@example.test").await;
    let r = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "root@example.test", "password": PASSWORD, "cookie": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.starts_with("parley_admin="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let body: Value = r.json().await.unwrap();
    assert!(
        body.get("access_token").is_none(),
        "cookie logins do not expose the token"
    );
    let csrf = body["csrf_token"].as_str().unwrap().to_string();

    // The client's cookie store sends the session cookie from here on.
    let me = app
        .client
        .get(app.url("/api/v1/admin/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap()["csrf_token"], csrf);

    let no_csrf = app
        .client
        .post(app.url("/api/v1/admin/stores"))
        .json(&json!({"code": "x", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(no_csrf, StatusCode::FORBIDDEN).await,
        "csrf_failed"
    );
    let bad_csrf = app
        .client
        .post(app.url("/api/v1/admin/stores"))
        .header("X-CSRF-Token", "guess")
        .json(&json!({"code": "x", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(bad_csrf, StatusCode::FORBIDDEN).await,
        "csrf_failed"
    );
    let ok = app
        .client
        .post(app.url("/api/v1/admin/stores"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"code": "x", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);

    let logout = app
        .client
        .post(app.url("/api/v1/admin/auth/logout"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let me = app
        .client
        .get(app.url("/api/v1/admin/auth/me"))
        .send()
        .await
        .unwrap();
    assert_error(me, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn passwords_must_be_8_to_1024_characters() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    app.create_store(&admin, "shop-a", "essential").await;
    for (password, ok) in [
        ("1234567", false),
        ("12345678", true),
        (&*"p".repeat(1024), true),
        (&*"p".repeat(1025), false),
    ] {
        let email = format!("len{}@example.test", password.len());
        let r = app
            .post_anon(
                "/api/v1/shop/auth/register",
                json!({"store_code": "shop-a", "email": email, "password": password, "full_name": "P"}),
            )
            .await;
        if ok {
            assert_eq!(r.status(), StatusCode::CREATED, "length {}", password.len());
        } else {
            assert_eq!(
                assert_error(r, StatusCode::BAD_REQUEST).await,
                "validation_error"
            );
        }
    }
    // A huge "password" is refused before any hashing.
    let r = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "root@example.test", "password": "x".repeat(5000)}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let r = app
        .post_anon(
            "/api/v1/admin/auth/login",
            json!({"email": "root@example.test", "password": "x".repeat(1 << 20)}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
}

/// The busiest reads (inbox, unread count, conversation detail) check the session inside their
/// own read: they must refuse exactly like every other route.
#[tokio::test]
async fn the_reads_that_check_the_session_themselves_refuse_like_every_route() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let conversation = app.vendor_conversation(&m.a1, &m.ca, "Order").await;
    let paths = |area: &str| {
        [
            format!("/api/v1/{area}/messages"),
            format!("/api/v1/{area}/messages?search=order"),
            format!("/api/v1/{area}/messages/unread-count"),
            format!("/api/v1/{area}/messages/{conversation}"),
        ]
    };
    for path in paths("vendor") {
        assert_eq!(
            app.get(&path, &m.a1.token).await.status(),
            StatusCode::OK,
            "{path}"
        );
        for token in [&m.admin.token, &m.ca.token] {
            assert_error(app.get(&path, token).await, StatusCode::FORBIDDEN).await;
        }
        assert_error(
            app.get(&path, "not-a-real-token").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
        assert_error(anonymous, StatusCode::UNAUTHORIZED).await;
    }
    // The credential is checked before the query: a bad token hears 401 even with a bad limit.
    for path in [
        "/api/v1/vendor/messages?limit=0".to_string(),
        format!("/api/v1/vendor/messages/{conversation}?limit=0"),
    ] {
        assert_error(
            app.get(&path, "not-a-real-token").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_error(app.get(&path, &m.a1.token).await, StatusCode::BAD_REQUEST).await;
    }
    for path in paths("shop") {
        assert_eq!(
            app.get(&path, &m.ca.token).await.status(),
            StatusCode::OK,
            "{path}"
        );
        assert_error(app.get(&path, &m.a1.token).await, StatusCode::FORBIDDEN).await;
    }
    // Another tenant's conversation is not found, and a disabled account is refused at once.
    let other = format!("/api/v1/vendor/messages/{conversation}");
    assert_error(app.get(&other, &m.b1.token).await, StatusCode::NOT_FOUND).await;
    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{}/users/{}", m.store_a, m.a1.id),
            &m.admin.token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for path in paths("vendor") {
        assert_error(app.get(&path, &m.a1.token).await, StatusCode::UNAUTHORIZED).await;
    }
    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{}", m.store_a),
            &m.admin.token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for path in paths("shop") {
        assert_error(app.get(&path, &m.ca.token).await, StatusCode::UNAUTHORIZED).await;
    }
}

//! The platform's backend: integration keys and provisioning by the platform's own ids.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Party, TestApp, assert_error, spawn_app};

async fn key(app: &TestApp, admin: &Party, scopes: &[&str]) -> (i64, String) {
    app.integration_key(admin, scopes).await
}

async fn put(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn admins_create_list_and_revoke_keys_whose_secret_shows_once() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let r = app
        .post(
            "/api/v1/admin/api-keys",
            &m.admin.token,
            json!({"name": "Backend", "scopes": ["provision", "events"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let secret = created["key"].as_str().unwrap();
    assert!(secret.starts_with("pk_") && secret.len() == 46, "{secret}");
    assert_eq!(created["scopes"], json!(["provision", "events"]));
    assert!(created["revoked_at"].is_null());

    let listed: Value = app
        .get("/api/v1/admin/api-keys", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let text = listed.to_string();
    assert!(
        !text.contains(secret) && text.contains(&secret[..9]),
        "{text}"
    );

    for (body, why) in [
        (
            json!({"name": "x", "scopes": ["everything"]}),
            "unknown scope",
        ),
        (json!({"name": "x", "scopes": []}), "at least one scope"),
        (json!({"name": "", "scopes": ["events"]}), "name"),
    ] {
        let r = app
            .post("/api/v1/admin/api-keys", &m.admin.token, body)
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let error: Value = r.json().await.unwrap();
        assert!(error.to_string().contains(why), "{error}");
    }
    assert_error(
        app.post(
            "/api/v1/vendor/api-keys",
            &m.a1.token,
            json!({"name": "x", "scopes": ["events"]}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/admin/api-keys",
            &m.a1.token,
            json!({"name": "x", "scopes": ["events"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The key works until it is revoked, and its use is recorded.
    let store = json!({"code": "north", "name": "North", "tier": "business"});
    let r = put(
        &app,
        secret,
        "/api/v1/integration/stores/st-1",
        store.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = created["id"].as_i64().unwrap();
    let listed: Value = app
        .get("/api/v1/admin/api-keys", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let mine = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap();
    assert!(mine["last_used_at"].is_string(), "{mine}");
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/admin/api-keys/{id}")))
        .bearer_auth(&m.admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_error(
        put(&app, secret, "/api/v1/integration/stores/st-1", store).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn keys_need_their_scope_and_people_cannot_use_the_integration_routes() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let (_, events_only) = key(&app, &m.admin, &["events"]).await;
    let store = json!({"code": "north", "name": "North", "tier": "business"});
    let r = put(
        &app,
        &events_only,
        "/api/v1/integration/stores/st-1",
        store.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let error: Value = r.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`provision` scope"),
        "{error}"
    );
    for bearer in [m.admin.token.as_str(), "pk_not-a-key", ""] {
        assert_error(
            put(
                &app,
                bearer,
                "/api/v1/integration/stores/st-1",
                store.clone(),
            )
            .await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test]
async fn provisioning_by_external_id_is_idempotent_adopts_what_exists_and_is_attributed() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let (key_id, key) = key(&app, &m.admin, &["provision"]).await;

    // A store: created, then the same PUT again changes nothing; another code clash is a 409.
    let body = json!({"code": "north", "name": "North", "tier": "business"});
    let r = put(&app, &key, "/api/v1/integration/stores/st-1", body.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let store: Value = r.json().await.unwrap();
    assert_eq!(store["external_id"], "st-1");
    let again = put(&app, &key, "/api/v1/integration/stores/st-1", body).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], store["id"]);
    assert_error(
        put(
            &app,
            &key,
            "/api/v1/integration/stores/st-2",
            json!({"code": "north", "name": "Clash", "tier": "essential"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    // A store Parley had before, without an id, is adopted by its code.
    let r = put(
        &app,
        &key,
        "/api/v1/integration/stores/st-a",
        json!({"code": "shop-a", "name": "Shop A", "tier": "business"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], m.store_a);

    // Staff: made without a password (they come through the platform), then updated.
    let staff = json!({"email": "Lena@North.test", "full_name": "Lena", "language": "de"});
    let r = put(
        &app,
        &key,
        "/api/v1/integration/stores/st-1/users/u-9",
        staff.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let lena: Value = r.json().await.unwrap();
    assert_eq!(
        (lena["email"].as_str(), lena["external_id"].as_str()),
        (Some("lena@north.test"), Some("u-9"))
    );
    let r = put(
        &app,
        &key,
        "/api/v1/integration/stores/st-1/users/u-9",
        staff,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let login = app
        .post_anon(
            "/api/v1/vendor/auth/login",
            json!({"email": "lena@north.test", "password": ""}),
        )
        .await;
    assert!(login.status().is_client_error());
    assert_error(
        put(
            &app,
            &key,
            "/api/v1/integration/stores/nowhere/users/u-1",
            json!({"email": "x@y.test", "full_name": "X"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        put(
            &app,
            &key,
            "/api/v1/integration/stores/st-1/users/u-10",
            json!({"email": "a1@example.test", "full_name": "Taken"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Customers: the same PUT twice makes one; a registered one is adopted by email; the
    // platform deactivating one ends their sessions.
    for _ in 0..2 {
        let r = put(
            &app,
            &key,
            "/api/v1/integration/stores/st-1/customers/c-1",
            json!({"email": "pia@example.test", "full_name": "Pia"}),
        )
        .await;
        assert!(r.status().is_success());
    }
    let customers: Value = app
        .get(
            &format!("/api/v1/admin/stores/{}/customers", store["id"]),
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(customers["total"], 1, "{customers}");
    let r = put(
        &app,
        &key,
        "/api/v1/integration/stores/st-a/customers/c-ca",
        json!({"email": "ca@example.test", "full_name": "Ca Renamed"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], m.ca.id);
    assert_eq!(
        app.get("/api/v1/shop/auth/me", &m.ca.token).await.status(),
        StatusCode::OK
    );
    let r = put(
        &app,
        &key,
        "/api/v1/integration/stores/st-a/customers/c-ca",
        json!({"email": "ca@example.test", "full_name": "Ca Renamed", "is_active": false}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_error(
        app.get("/api/v1/shop/auth/me", &m.ca.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_error(
        put(
            &app,
            &key,
            "/api/v1/integration/stores/st-1/customers/c-2",
            json!({"email": "not an email", "full_name": "X"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Everything the key did is recorded under its name.
    let conn = rusqlite::Connection::open(app.data_dir.path().join("parley.db")).unwrap();
    let actions: Vec<String> = conn
        .prepare("SELECT action FROM audit_log WHERE actor = ?1 ORDER BY id")
        .unwrap()
        .query_map([format!("key:{key_id}")], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        actions.contains(&"store.created".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"customer.updated".to_string()),
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "customer.created").count(),
        1,
        "{actions:?}"
    );
}

//! The platform's backend: integration keys and provisioning by the platform's own ids.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    MailServer, Party, TestApp, assert_count, assert_error, spawn_app, spawn_app_with,
};

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
    // Anyone can register with any address: the adopted customer's local password and sessions
    // go, so only the platform's person gets in (single sign-on, or a reset to the address).
    assert_eq!(
        app.get("/api/v1/shop/auth/me", &m.ca.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let login = app
        .post_anon(
            "/api/v1/shop/auth/login",
            json!({"store_code": "shop-a", "email": "ca@example.test", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    // Staff, whom only an admin makes, keep theirs when adopted; the platform deactivating one
    // ends their sessions.
    let adopt = |active: bool| {
        put(
            &app,
            &key,
            "/api/v1/integration/stores/st-a/users/u-a2",
            json!({"email": "a2@example.test", "full_name": "A2", "is_active": active}),
        )
    };
    assert_eq!(adopt(true).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/vendor/auth/me", &m.a2.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(adopt(false).await.status(), StatusCode::OK);
    assert_error(
        app.get("/api/v1/vendor/auth/me", &m.a2.token).await,
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

async fn post_key(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_platform_finds_or_opens_the_thread_about_an_order() {
    let mut mail = MailServer::start().await;
    let app = spawn_app_with(|s| {
        s.integration.context_url_hosts = vec!["shop.example.com".into()];
        mail.configure(s);
    })
    .await;
    let m = app.marketplace().await;
    let (_, key) = key(&app, &m.admin, &["provision", "conversations", "sso"]).await;
    // The platform adopts the store, a staff member and a customer Parley already has.
    for (path, body) in [
        (
            "/api/v1/integration/stores/st-a",
            json!({"code": "shop-a", "name": "Shop A", "tier": "business"}),
        ),
        (
            "/api/v1/integration/stores/st-a/users/u-a2",
            json!({"email": "a2@example.test", "full_name": "A2"}),
        ),
        (
            "/api/v1/integration/stores/st-a/customers/c-a",
            json!({"email": "ca@example.test", "full_name": "Carla"}),
        ),
    ] {
        assert_eq!(put(&app, &key, path, body).await.status(), StatusCode::OK);
    }
    let order = json!({
        "store_external_id": "st-a", "customer_external_id": "c-a", "staff_external_id": "u-a2",
        "subject": "Order #1042",
        "context": {"type": "order", "id": "1042", "label": "Order #1042",
                    "url": "https://shop.example.com/orders/1042"},
        "initial_message": "Where is my parcel?"
    });
    let r = post_key(
        &app,
        &key,
        "/api/v1/integration/conversations",
        order.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let opened: Value = r.json().await.unwrap();
    let id = opened["id"].as_i64().unwrap();
    assert_eq!(opened["context"], order["context"]);
    assert_eq!(opened["conversation_type"], "store_customer");
    assert_eq!(opened["messages"][0]["content"], "Where is my parcel?");
    assert_eq!(opened["messages"][0]["sender_type"], "customer");
    assert_eq!(opened["messages"][0]["sender_id"], m.ca.id);

    // Asked again (a retry, or the next click on "contact the seller"): the same thread, and the
    // message is not sent twice.
    let r = post_key(
        &app,
        &key,
        "/api/v1/integration/conversations",
        order.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["id"], id);
    assert_eq!(found["message_count"], 1);

    // The staff member named answers for the store: it is in their inbox, unread, and they got
    // an email; the customer sees it as theirs; both can find it by its order.
    assert_eq!(app.unread(&m.a2).await, 1);
    assert_eq!(app.unread(&m.a1).await, 0);
    let email = mail
        .delivered_to(&app, "a2@example.test", "Order #1042")
        .await;
    let text = email["text"].as_str().unwrap();
    assert!(
        text.contains("About: Order #1042 (https://shop.example.com/orders/1042)"),
        "{text}"
    );
    assert!(
        email["html"]
            .as_str()
            .unwrap()
            .contains("<a href=\"https://shop.example.com/orders/1042\">Order #1042</a>")
    );
    // The customer was adopted by email: anyone could have registered that address, so the
    // local password and sessions went; the platform signs her in now.
    assert_eq!(
        app.get("/api/v1/shop/auth/me", &m.ca.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let carla: Value = post_key(
        &app,
        &key,
        "/api/v1/integration/sessions",
        json!({"area": "shop", "external_id": "c-a", "store_external_id": "st-a"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let carla = carla["access_token"].as_str().unwrap().to_string();
    for (token, area) in [(&m.a1.token, "vendor"), (&carla, "shop")] {
        let list: Value = app
            .get(
                &format!("/api/v1/{area}/messages?context_type=order&context_id=1042"),
                token,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 1, "{area}");
        assert_eq!(list["conversations"][0]["context"]["label"], "Order #1042");
        let none: Value = app
            .get(
                &format!("/api/v1/{area}/messages?context_type=product&context_id=1042"),
                token,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(none["total"], 0);
    }
    assert_error(
        app.get("/api/v1/vendor/messages?context_type=parcel", &m.a1.token)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // The other store's staff never see it, whatever they filter by.
    let other: Value = app
        .get("/api/v1/vendor/messages?context_id=1042", &m.b1.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["total"], 0);

    // Another order is another thread; without a staff member named, the store's first answers.
    let mut second = order.clone();
    second["context"] = json!({"type": "order", "id": "1043"});
    second.as_object_mut().unwrap().remove("staff_external_id");
    second.as_object_mut().unwrap().remove("initial_message");
    let r = post_key(&app, &key, "/api/v1/integration/conversations", second).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second: Value = r.json().await.unwrap();
    assert_ne!(second["id"], id);
    assert_eq!(
        second["context"],
        json!({"type": "order", "id": "1043", "label": null, "url": null})
    );
    assert!(
        second["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["participant_type"] == "store" && p["participant_id"] == m.a1.id)
    );

    // Refused, and nothing made: a link elsewhere or over http, an unknown store or customer, a
    // missing context, a key without the scope.
    let before = app
        .query_i64("SELECT count(*) FROM conversations", vec![])
        .await;
    for (url, status) in [
        ("https://evil.test/orders/1", StatusCode::BAD_REQUEST),
        ("http://shop.example.com/orders/1", StatusCode::BAD_REQUEST),
    ] {
        let mut bad = order.clone();
        bad["context"]["id"] = json!("9");
        bad["context"]["url"] = json!(url);
        let r = post_key(&app, &key, "/api/v1/integration/conversations", bad).await;
        assert_eq!(assert_error(r, status).await, "validation_error");
    }
    let mut unknown = order.clone();
    unknown["store_external_id"] = json!("st-nowhere");
    assert_error(
        post_key(&app, &key, "/api/v1/integration/conversations", unknown).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let mut stranger = order.clone();
    stranger["customer_external_id"] = json!("c-nobody");
    assert_error(
        post_key(&app, &key, "/api/v1/integration/conversations", stranger).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let mut bare = order.clone();
    bare.as_object_mut().unwrap().remove("context");
    assert_error(
        post_key(&app, &key, "/api/v1/integration/conversations", bare).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let (_, events_only) = app.integration_key(&m.admin, &["events"]).await;
    assert_error(
        post_key(
            &app,
            &events_only,
            "/api/v1/integration/conversations",
            order,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        app.query_i64("SELECT count(*) FROM conversations", vec![])
            .await,
        before
    );
    assert_count(
        &app,
        "SELECT count(*) FROM audit_log WHERE action = 'conversation.created'",
        vec![],
        2,
    )
    .await;

    // Staff can say what a conversation they start is about, under the same rules.
    let started = app
        .start_conversation(
            "vendor",
            &m.a1,
            json!({"conversation_type": "store_customer", "subject": "Your return",
                   "recipient_type": "customer", "recipient_id": m.ca2.id,
                   "context": {"type": "return", "id": "R-7", "label": " Return R-7 "}}),
        )
        .await;
    assert_eq!(started["context"]["label"], "Return R-7");
    let r = app
        .post(
            "/api/v1/vendor/messages",
            &m.a1.token,
            json!({"conversation_type": "store_customer", "subject": "x",
                   "recipient_type": "customer", "recipient_id": m.ca2.id,
                   "context": {"type": "invoice", "id": "1"}}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;

    // The thread page shows what it is about, linking out safely, and lists its siblings.
    let client = crate::pages::signed_in(&app, "vendor", "a2@example.test").await;
    let page = crate::pages::page(&client, &app, &format!("/vendor/messages/{id}")).await;
    assert!(page.contains("class=\"context-panel\""), "{page}");
    assert!(page.contains(
        "href=\"https://shop.example.com/orders/1042\" target=\"_blank\" rel=\"noopener noreferrer\""
    ));
    assert!(page.contains("?context_type=order&amp;context_id=1042"));
}

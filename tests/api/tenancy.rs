use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn admins_create_and_list_stores_with_their_tier() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let r = app
        .post(
            "/api/v1/admin/stores",
            &admin.token,
            json!({"code": "shop-a", "name": "Shop A", "tier": "business"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let store: Value = r.json().await.unwrap();
    assert_eq!(store["tier"], "business");
    assert_eq!(store["is_active"], true);
    app.create_store(&admin, "shop-b", "essential").await;

    let list: Value = app
        .get("/api/v1/admin/stores?limit=1", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["stores"].as_array().unwrap().len(), 1);
    assert_eq!(list["stores"][0]["code"], "shop-a");
    let list: Value = app
        .get("/api/v1/admin/stores?skip=1&limit=1", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["stores"][0]["code"], "shop-b");

    let dup = app
        .post(
            "/api/v1/admin/stores",
            &admin.token,
            json!({"code": "shop-a", "name": "Again"}),
        )
        .await;
    assert_eq!(
        assert_error(dup, StatusCode::CONFLICT).await,
        "store_code_taken"
    );
    let bad_tier = app
        .post(
            "/api/v1/admin/stores",
            &admin.token,
            json!({"code": "shop-c", "name": "C", "tier": "gold"}),
        )
        .await;
    assert_error(bad_tier, StatusCode::BAD_REQUEST).await;
    let bad_code = app
        .post(
            "/api/v1/admin/stores",
            &admin.token,
            json!({"code": "Shop C!", "name": "C"}),
        )
        .await;
    assert_eq!(
        assert_error(bad_code, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );

    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{}", store["id"]),
            &admin.token,
            json!({"tier": "enterprise"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["tier"], "enterprise");
}

#[tokio::test]
async fn admins_create_staff_and_customers_of_a_store() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "shop-a", "essential").await;
    app.staff(&admin, store, "staff@example.test").await;
    let dup = app
        .post(
            &format!("/api/v1/admin/stores/{store}/users"),
            &admin.token,
            json!({"email": "Staff@Example.test", "password": "another-password", "full_name": "S"}),
        )
        .await;
    assert_eq!(assert_error(dup, StatusCode::CONFLICT).await, "email_taken");
    let users: Value = app
        .get(&format!("/api/v1/admin/stores/{store}/users"), &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["total"], 1);
    assert_eq!(users["users"][0]["role"], "store");

    let r = app
        .post(
            &format!("/api/v1/admin/stores/{store}/customers"),
            &admin.token,
            json!({"email": "bob@example.test", "full_name": "Bob"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let bob: Value = r.json().await.unwrap();
    assert_eq!(bob["can_log_in"], false);
    let customers: Value = app
        .get(
            &format!("/api/v1/admin/stores/{store}/customers"),
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(customers["total"], 1);

    // A customer without a password cannot log in, and answers like any wrong login.
    let r = app
        .post_anon(
            "/api/v1/shop/auth/login",
            json!({"store_code": "shop-a", "email": "bob@example.test", "password": "whatever-it-is"}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );

    for path in [
        "/api/v1/admin/stores/999",
        "/api/v1/admin/stores/999/users",
        "/api/v1/admin/stores/999/customers",
    ] {
        assert_eq!(
            assert_error(app.get(path, &admin.token).await, StatusCode::NOT_FOUND).await,
            "not_found"
        );
    }
    let r = app
        .post(
            "/api/v1/admin/stores/999/users",
            &admin.token,
            json!({"email": "ghost@example.test", "password": "a-long-password", "full_name": "G"}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn staff_manage_only_their_own_stores_customers() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let a = app.create_store(&admin, "shop-a", "essential").await;
    let b = app.create_store(&admin, "shop-b", "essential").await;
    let staff_a = app.staff(&admin, a, "a@example.test").await;
    let staff_b = app.staff(&admin, b, "b@example.test").await;
    app.customer("shop-b", "only-b@example.test").await;

    let r = app
        .post(
            "/api/v1/vendor/customers",
            &staff_a.token,
            json!({"email": "c@example.test", "full_name": "C"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["store_id"], a);

    // The store comes from the session, never from the body.
    let r = app
        .post(
            "/api/v1/vendor/customers",
            &staff_a.token,
            json!({"email": "d@example.test", "full_name": "D", "store_id": b}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_body"
    );

    let list_a: Value = app
        .get("/api/v1/vendor/customers", &staff_a.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list_a["total"], 1);
    assert_eq!(list_a["customers"][0]["email"], "c@example.test");
    let list_b: Value = app
        .get("/api/v1/vendor/customers", &staff_b.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list_b["total"], 1);
    assert_eq!(list_b["customers"][0]["email"], "only-b@example.test");

    // Staff cannot reach the admin's per-store routes, not even for their own store.
    let r = app
        .get(
            &format!("/api/v1/admin/stores/{a}/customers"),
            &staff_a.token,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_store_user_of_another_store_is_not_found_through_the_wrong_store_path() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let a = app.create_store(&admin, "shop-a", "essential").await;
    let b = app.create_store(&admin, "shop-b", "essential").await;
    let staff_b = app.staff(&admin, b, "b@example.test").await;
    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{a}/users/{}", staff_b.id),
            &admin.token,
            json!({"is_active": false}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.get("/api/v1/vendor/auth/me", &staff_b.token)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn staff_and_admins_disable_customers_of_that_store_only_and_the_next_request_fails() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let a = app.create_store(&admin, "shop-a", "essential").await;
    let b = app.create_store(&admin, "shop-b", "essential").await;
    let staff_a = app.staff(&admin, a, "a@example.test").await;
    let staff_b = app.staff(&admin, b, "b@example.test").await;
    let ann = app.customer("shop-a", "ann@example.test").await;

    // Another store's staff, and the admin through another store's path, find nothing.
    let path = format!("/api/v1/vendor/customers/{}", ann.id);
    assert_error(
        app.patch(&path, &staff_b.token, json!({"is_active": false}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let wrong = format!("/api/v1/admin/stores/{b}/customers/{}", ann.id);
    assert_error(
        app.patch(&wrong, &admin.token, json!({"is_active": false}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.get("/api/v1/shop/auth/me", &ann.token).await.status(),
        StatusCode::OK
    );
    assert_error(
        app.patch(&path, &staff_a.token, json!({"language": "klingon!"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let r = app
        .patch(&path, &staff_a.token, json!({"is_active": false}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["is_active"], false);
    assert_error(
        app.get("/api/v1/shop/auth/me", &ann.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let right = format!("/api/v1/admin/stores/{a}/customers/{}", ann.id);
    let r = app
        .patch(&right, &admin.token, json!({"is_active": true}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.login(
        "shop",
        json!({"store_code": "shop-a", "email": "ann@example.test", "password": crate::helpers::PASSWORD}),
    )
    .await;
}

#[tokio::test]
async fn everyone_changes_their_own_name_and_page_language_but_not_whether_they_are_active() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    for party in [&m.admin, &m.a1, &m.ca] {
        let path = format!("/api/v1/{}/auth/me", party.area);
        let r = app
            .patch(
                &path,
                &party.token,
                json!({"full_name": "New Name", "language": "de"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", party.area);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (body["full_name"].as_str(), body["language"].as_str()),
            (Some("New Name"), Some("de"))
        );
        assert_error(
            app.patch(&path, &party.token, json!({"is_active": false}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_error(
            app.patch(&path, &party.token, json!({"full_name": ""}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(app.get(&path, &party.token).await.status(), StatusCode::OK);
    }
}

//! The marketplace flows (issue: marketplace conversation flows): who may start what, with the
//! seed's limits as the default and each flow turned on by a platform setting.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_customer_asks_their_store_once_the_platform_allows_it() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let ask = json!({"subject": "Where is my parcel?", "initial_message": "Order 1042 has not arrived.",
                     "context": {"type": "order", "id": "1042", "label": "Order #1042"}});
    // The seed's rule is the default: customers start nothing.
    let r = app
        .post("/api/v1/shop/messages", &m.ca.token, ask.clone())
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    app.set_setting(&m.admin, "customers_may_start_conversations", json!(true))
        .await;

    let r = app
        .post("/api/v1/shop/messages", &m.ca.token, ask.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let detail = json_of(r).await;
    let id = detail["id"].as_i64().unwrap();
    assert_eq!(detail["conversation_type"], "store_customer");
    assert_eq!(detail["store_id"], m.store_a);
    assert_eq!(detail["context"]["id"], "1042");
    assert_eq!(detail["other_participant"]["type"], "store");
    // Every staff member of the store takes part and sees it unread; nobody else does.
    assert_eq!(app.unread(&m.a1).await, 1);
    assert_eq!(app.unread(&m.a2).await, 1);
    assert_eq!(app.unread(&m.b1).await, 0);
    assert_eq!(app.unread(&m.ca2).await, 0);
    assert_eq!(app.unread(&m.admin).await, 0);
    let list = json_of(app.get("/api/v1/shop/messages", &m.ca2.token).await).await;
    assert!(ids(&list).is_empty());
    // Either colleague answers, and the customer sees the answer.
    let r = app.send(&m.a2, id, "It left our warehouse today.").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.unread(&m.ca).await, 1);

    // Only with their own store, and without naming anyone.
    for body in [
        json!({"conversation_type": "admin_customer", "subject": "S", "initial_message": "x"}),
        json!({"conversation_type": "admin_store", "subject": "S", "initial_message": "x"}),
    ] {
        let r = app.post("/api/v1/shop/messages", &m.ca.token, body).await;
        assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    }
    let r = app
        .post(
            "/api/v1/shop/messages",
            &m.ca.token,
            json!({"subject": "S", "recipient_type": "store", "recipient_id": m.b1.id}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    assert_eq!(
        app.query_i64("SELECT count(*) FROM conversations", vec![])
            .await,
        1,
        "the refused ones wrote nothing"
    );

    // Turned off again, the seed's rule is back.
    app.set_setting(
        &m.admin,
        "customers_may_start_conversations",
        json!("false"),
    )
    .await;
    let r = app.post("/api/v1/shop/messages", &m.ca.token, ask).await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
}

#[tokio::test]
async fn a_customer_starts_a_few_conversations_an_hour_at_most() {
    let app = spawn_app_with(|s| s.auth.conversations_per_customer_per_hour = 2).await;
    let m = app.marketplace().await;
    app.set_setting(&m.admin, "customers_may_start_conversations", json!(true))
        .await;
    let ask = json!({"subject": "Question", "initial_message": "Hello"});
    for _ in 0..2 {
        let r = app
            .post("/api/v1/shop/messages", &m.ca.token, ask.clone())
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app
        .post("/api/v1/shop/messages", &m.ca.token, ask.clone())
        .await;
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        assert_error(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
    // The limit is the customer's own.
    let r = app.post("/api/v1/shop/messages", &m.ca2.token, ask).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_store_reaches_the_platform_team_once_the_platform_allows_it() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let second_admin = app.admin("ops@example.test").await;
    let ask = json!({"conversation_type": "admin_store", "subject": "Payout missing",
                     "initial_message": "Our payout for May did not arrive."});
    let r = app
        .post("/api/v1/vendor/messages", &m.a1.token, ask.clone())
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    app.set_setting(&m.admin, "stores_may_contact_operator", json!(true))
        .await;

    let r = app
        .post("/api/v1/vendor/messages", &m.a1.token, ask.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let detail = json_of(r).await;
    let id = detail["id"].as_i64().unwrap();
    assert_eq!(detail["conversation_type"], "admin_store");
    assert_eq!(detail["store_id"], m.store_a);
    assert_eq!(detail["other_participant"]["type"], "admin");
    // The whole platform team hears of it; the colleague sees it as their store's.
    assert_eq!(app.unread(&m.admin).await, 1);
    assert_eq!(app.unread(&second_admin).await, 1);
    let list = json_of(app.get("/api/v1/vendor/messages", &m.a2.token).await).await;
    assert_eq!(ids(&list), vec![id]);
    assert!(ids(&json_of(app.get("/api/v1/vendor/messages", &m.b1.token).await).await).is_empty());
    let r = app.send(&second_admin, id, "We are looking into it.").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.unread(&m.a1).await, 1);

    // Without a recipient: the team takes part.
    let mut named = ask.clone();
    named["recipient_type"] = json!("store");
    named["recipient_id"] = json!(m.a2.id);
    let r = app
        .post("/api/v1/vendor/messages", &m.a1.token, named)
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    // Still never with a customer of the platform's.
    let r = app
        .post(
            "/api/v1/vendor/messages",
            &m.a1.token,
            json!({"conversation_type": "admin_customer", "subject": "S", "recipient_type": "customer", "recipient_id": m.ca.id}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
}

#[tokio::test]
async fn a_customer_reads_and_answers_what_the_platform_writes_to_them() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let detail = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_customer", "subject": "Your account", "recipient_type": "customer",
                   "recipient_id": m.ca.id, "initial_message": "We need to confirm your address."}),
        )
        .await;
    let id = detail["id"].as_i64().unwrap();
    assert_eq!(app.unread(&m.ca).await, 1);
    let list = json_of(app.get("/api/v1/shop/messages", &m.ca.token).await).await;
    assert_eq!(ids(&list), vec![id]);
    assert_eq!(
        list["conversations"][0]["other_participant"]["type"],
        "admin"
    );
    let filtered = json_of(
        app.get(
            "/api/v1/shop/messages?conversation_type=admin_customer",
            &m.ca.token,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&filtered), vec![id]);
    let found = json_of(
        app.get("/api/v1/shop/messages?search=address", &m.ca.token)
            .await,
    )
    .await;
    assert_eq!(ids(&found), vec![id], "the customer finds it by its text");
    let r = app
        .get(&format!("/api/v1/shop/messages/{id}"), &m.ca.token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.send(&m.ca, id, "It is 1 Main Street.").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.unread(&m.admin).await, 1);

    // Nobody else: not the customer's neighbour, not the store, not another store's customer.
    for (area, party) in [("shop", &m.ca2), ("vendor", &m.a1), ("shop", &m.cb)] {
        let r = app
            .get(&format!("/api/v1/{area}/messages/{id}"), &party.token)
            .await;
        assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
        let found = json_of(
            app.get(
                &format!("/api/v1/{area}/messages?search=address"),
                &party.token,
            )
            .await,
        )
        .await;
        assert!(ids(&found).is_empty(), "{area}");
    }
}

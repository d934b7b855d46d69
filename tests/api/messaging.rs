use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_vendor_starts_a_conversation_and_unread_counts_follow_each_message() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let detail = app
        .start_conversation(
            "vendor",
            &m.a1,
            json!({"conversation_type": "store_customer", "subject": "Your order", "recipient_type": "customer",
                   "recipient_id": m.ca.id, "initial_message": "It shipped today."}),
        )
        .await;
    let id = detail["id"].as_i64().unwrap();
    assert_eq!(detail["store_id"], m.store_a);
    assert_eq!(detail["message_count"], 1);
    assert_eq!(
        detail["unread_count"], 0,
        "the sender's own message is not unread"
    );
    assert_eq!(detail["participants"].as_array().unwrap().len(), 2);
    assert_eq!(detail["messages"][0]["content"], "It shipped today.");
    assert_eq!(detail["messages"][0]["sender_type"], "store");
    assert_eq!(detail["other_participant"]["type"], "customer");

    assert_eq!(app.unread(&m.ca).await, 1);

    let r = app.send(&m.ca, id, "Thanks!").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let message = json_of(r).await;
    assert_eq!(message["sender_type"], "customer");
    assert_eq!(message["sender_name"], "Customer");
    let thread = json_of(
        app.get(&format!("/api/v1/vendor/messages/{id}"), &m.a1.token)
            .await,
    )
    .await;
    let senders: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sender_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        senders,
        ["Staff", "Customer"],
        "each message names its sender"
    );
    assert_eq!(app.unread(&m.a1).await, 1);
    assert_eq!(
        app.unread(&m.ca).await,
        1,
        "sending leaves the sender's count alone"
    );

    let read = app.read(&m.ca, id).await;
    assert_eq!(read, json!({"unread_count": 0, "total_unread": 0}));
    let list = json_of(app.get("/api/v1/shop/messages", &m.ca.token).await).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["total_unread"], 0);
    assert_eq!(list["conversations"][0]["last_message_preview"], "Thanks!");
    assert_eq!(
        list["conversations"][0]["other_participant"]["type"],
        "store"
    );
    // Detail has no side effects: the vendor's unread count survives a read of the thread.
    app.get(&format!("/api/v1/vendor/messages/{id}"), &m.a1.token)
        .await;
    assert_eq!(app.unread(&m.a1).await, 1);
}

#[tokio::test]
async fn a_colleague_or_another_admin_who_replies_becomes_a_participant() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Colleagues").await;
    assert_eq!(
        app.send_message("vendor", &m.a2, id, "I can help too")
            .await
            .status(),
        StatusCode::CREATED
    );
    let detail = json_of(
        app.get(&format!("/api/v1/vendor/messages/{id}"), &m.a2.token)
            .await,
    )
    .await;
    let participants = detail["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 3);
    let unread = |pid: i64, ptype: &str| {
        participants
            .iter()
            .find(|p| p["participant_id"] == pid && p["participant_type"] == ptype)
            .unwrap()["unread_count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(unread(m.a1.id, "store"), 1);
    assert_eq!(unread(m.ca.id, "customer"), 2);
    assert_eq!(unread(m.a2.id, "store"), 0);

    // Admins are one team: a second admin replying to an admin_store thread joins it.
    let admin2 = app.admin("second@example.test").await;
    let conv = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Fees", "recipient_type": "store",
                   "recipient_id": m.a1.id, "store_id": m.store_a}),
        )
        .await;
    let conv_id = conv["id"].as_i64().unwrap();
    assert_eq!(conv["message_count"], 0);
    assert_eq!(
        app.send_message("admin", &admin2, conv_id, "Following up")
            .await
            .status(),
        StatusCode::CREATED
    );
    let detail = json_of(
        app.get(&format!("/api/v1/admin/messages/{conv_id}"), &m.admin.token)
            .await,
    )
    .await;
    assert_eq!(detail["participants"].as_array().unwrap().len(), 3);
    assert_eq!(detail["unread_count"], 1);
}

#[tokio::test]
async fn each_area_sees_only_its_conversations() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let own = app
        .vendor_conversation(&m.a1, &m.ca, "Store A thread")
        .await;
    let other_customer = app
        .vendor_conversation(&m.a1, &m.ca2, "Another customer")
        .await;
    let foreign = app
        .vendor_conversation(&m.b1, &m.cb, "Store B thread")
        .await;
    let admin_store = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Platform news", "recipient_type": "store",
                   "recipient_id": m.a1.id, "initial_message": "Hi"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let admin_customer = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_customer", "subject": "Account", "recipient_type": "customer",
                   "recipient_id": m.ca.id, "initial_message": "Hello"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    let ids = |list: Value| -> Vec<i64> {
        let mut ids: Vec<i64> = list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<i64>| {
        v.sort();
        v
    };
    assert_eq!(
        ids(json_of(app.get("/api/v1/admin/messages", &m.admin.token).await).await),
        sorted(vec![admin_store, admin_customer])
    );
    assert_eq!(
        ids(json_of(app.get("/api/v1/vendor/messages", &m.a2.token).await).await),
        sorted(vec![own, other_customer, admin_store])
    );
    assert_eq!(
        ids(json_of(app.get("/api/v1/vendor/messages", &m.b1.token).await).await),
        vec![foreign]
    );
    // What the platform writes to a customer, the customer reads (the contract moved with the
    // marketplace flows: it used to be invisible to them).
    assert_eq!(
        ids(json_of(app.get("/api/v1/shop/messages", &m.ca.token).await).await),
        sorted(vec![own, admin_customer])
    );
    assert_eq!(
        ids(json_of(app.get("/api/v1/shop/messages", &m.ca2.token).await).await),
        vec![other_customer]
    );

    for (area, party, id) in [
        ("vendor", &m.b1, own),
        ("shop", &m.cb, own),
        ("shop", &m.ca2, own),
        ("shop", &m.ca2, admin_customer),
        ("vendor", &m.a1, admin_customer),
    ] {
        let r = app
            .get(&format!("/api/v1/{area}/messages/{id}"), &party.token)
            .await;
        assert_eq!(
            assert_error(r, StatusCode::NOT_FOUND).await,
            "not_found",
            "{area} {id}"
        );
    }
    // An admin reads a store's conversation through oversight (the default), without taking
    // part; turned off, it is as foreign to them as to anyone.
    let overseen = json_of(
        app.get(&format!("/api/v1/admin/messages/{own}"), &m.admin.token)
            .await,
    )
    .await;
    assert_eq!(overseen["read_only"], true);
    app.set_setting(&m.admin, "admin_oversight", json!(false))
        .await;
    let r = app
        .get(&format!("/api/v1/admin/messages/{own}"), &m.admin.token)
        .await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
    // Counts leak nothing either: the other store's staff have no unread from store A.
    assert_eq!(app.unread(&m.b1).await, 0);
}

#[tokio::test]
async fn who_may_create_what() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let create = |area: &'static str, token: String, body: Value| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/{area}/messages"), &token, body)
                .await
        }
    };
    let store_customer = |recipient: i64| json!({"conversation_type": "store_customer", "subject": "S", "recipient_type": "customer", "recipient_id": recipient});
    let admin_store = json!({"conversation_type": "admin_store", "subject": "S", "recipient_type": "store", "recipient_id": m.a1.id});

    let r = create("vendor", m.a1.token.clone(), admin_store.clone()).await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = create("shop", m.ca.token.clone(), store_customer(m.ca.id)).await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = create("admin", m.admin.token.clone(), store_customer(m.ca.id)).await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    // A customer of another store is no recipient for store A's staff.
    let r = create("vendor", m.a1.token.clone(), store_customer(m.cb.id)).await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "recipient_not_found"
    );
    let r = create("vendor", m.a1.token.clone(), store_customer(999_999)).await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "recipient_not_found"
    );
    // A store_id that is not the recipient's store is refused, not moved.
    let mut body = admin_store.clone();
    body["store_id"] = json!(m.store_b);
    let r = create("admin", m.admin.token.clone(), body).await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "recipient_not_found"
    );
    let r = create(
        "admin",
        m.admin.token.clone(),
        json!({"conversation_type": "admin_store", "subject": "S", "recipient_type": "customer", "recipient_id": m.ca.id}),
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let r = create(
        "admin",
        m.admin.token.clone(),
        json!({"conversation_type": "admin_vendor", "subject": "S", "recipient_type": "store", "recipient_id": m.a1.id}),
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_body"
    );
    let mut body = store_customer(m.ca.id);
    body["author_role"] = json!("admin");
    let r = create("vendor", m.a1.token.clone(), body).await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_body"
    );

    assert_eq!(
        app.query_i64("SELECT count(*) FROM conversations", vec![])
            .await,
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn closing_leaves_a_system_message_and_blocks_sending_until_reopened() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Returns").await;
    let r = app
        .post(
            &format!("/api/v1/shop/messages/{id}/close"),
            &m.ca.token,
            json!({}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");

    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/close"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let summary = json_of(r).await;
    assert_eq!(summary["is_closed"], true);
    assert!(summary["closed_at"].is_string());
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/close"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::CONFLICT).await,
        "conversation_closed"
    );

    let r = app.send_message("shop", &m.ca, id, "Hello?").await;
    assert_eq!(
        assert_error(r, StatusCode::CONFLICT).await,
        "conversation_closed"
    );
    let detail = json_of(
        app.get(&format!("/api/v1/shop/messages/{id}"), &m.ca.token)
            .await,
    )
    .await;
    let last = detail["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["is_system_message"], true);
    assert_eq!(last["content"], "Conversation closed by Staff");
    assert_eq!(detail["message_count"], 2);

    let list = json_of(
        app.get("/api/v1/vendor/messages?is_closed=true", &m.a1.token)
            .await,
    )
    .await;
    assert_eq!(list["total"], 1);
    let list = json_of(
        app.get("/api/v1/vendor/messages?is_closed=false", &m.a1.token)
            .await,
    )
    .await;
    assert_eq!(list["total"], 0);

    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/reopen"),
            &m.a2.token,
            json!({}),
        )
        .await;
    assert_eq!(json_of(r).await["is_closed"], false);
    assert_eq!(
        app.send_message("shop", &m.ca, id, "Hello?").await.status(),
        StatusCode::CREATED
    );
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/reopen"),
            &m.a2.token,
            json!({}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::CONFLICT).await,
        "conversation_open"
    );
}

#[tokio::test]
async fn lists_filter_paginate_and_put_the_newest_activity_first() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let first = app.vendor_conversation(&m.a1, &m.ca, "First").await;
    let second = app.vendor_conversation(&m.a1, &m.ca2, "Second").await;
    let third = app.vendor_conversation(&m.a1, &m.ca, "Third").await;
    app.send_message("shop", &m.ca, first, "bump").await;

    let list = json_of(
        app.get("/api/v1/vendor/messages?limit=2", &m.a1.token)
            .await,
    )
    .await;
    assert_eq!(list["total"], 3);
    assert_eq!(list["limit"], 2);
    let ids: Vec<i64> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![first, third]);
    let list = json_of(
        app.get("/api/v1/vendor/messages?limit=2&skip=2", &m.a1.token)
            .await,
    )
    .await;
    assert_eq!(list["conversations"][0]["id"], second);

    let list = json_of(
        app.get(
            "/api/v1/vendor/messages?conversation_type=admin_store",
            &m.a1.token,
        )
        .await,
    )
    .await;
    assert_eq!(list["total"], 0);
    for bad in [
        "conversation_type=chat",
        "is_closed=maybe",
        "limit=101",
        "sort=asc",
    ] {
        let r = app
            .get(&format!("/api/v1/vendor/messages?{bad}"), &m.a1.token)
            .await;
        assert_error(r, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn search_finds_subjects_and_text_within_what_the_caller_may_see() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let refund = app
        .vendor_conversation(&m.a1, &m.ca, "Refund request")
        .await;
    let parcel = app.vendor_conversation(&m.a1, &m.ca2, "Delivery").await;
    app.send_message(
        "shop",
        &m.ca2,
        parcel,
        "The parcel arrived damaged, café table",
    )
    .await;
    let foreign = app
        .vendor_conversation(&m.b1, &m.cb, "Refund elsewhere")
        .await;

    let found = |list: Value| -> Vec<i64> {
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        found(
            json_of(
                app.get("/api/v1/vendor/messages?search=refund", &m.a1.token)
                    .await
            )
            .await
        ),
        vec![refund]
    );
    assert_eq!(
        found(
            json_of(
                app.get("/api/v1/vendor/messages?search=damag", &m.a1.token)
                    .await
            )
            .await
        ),
        vec![parcel]
    );
    assert_eq!(
        found(
            json_of(
                app.get("/api/v1/vendor/messages?search=cafe", &m.a1.token)
                    .await
            )
            .await
        ),
        vec![parcel]
    );
    assert_eq!(
        found(
            json_of(
                app.get("/api/v1/vendor/messages?search=refund", &m.b1.token)
                    .await
            )
            .await
        ),
        vec![foreign]
    );
    assert_eq!(
        found(
            json_of(
                app.get("/api/v1/shop/messages?search=parcel", &m.ca.token)
                    .await
            )
            .await
        ),
        Vec::<i64>::new()
    );
    // FTS syntax in the input is just text.
    let r = app
        .get(
            "/api/v1/vendor/messages?search=%22NEAR(%20OR%20*",
            &m.a1.token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // A deleted message leaves the index.
    let detail = json_of(
        app.get(&format!("/api/v1/shop/messages/{parcel}"), &m.ca2.token)
            .await,
    )
    .await;
    let message_id = detail["messages"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .delete(
            &format!("/api/v1/shop/messages/{parcel}/messages/{message_id}"),
            &m.ca2.token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        found(
            json_of(
                app.get("/api/v1/vendor/messages?search=damaged", &m.a1.token)
                    .await
            )
            .await
        ),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn threads_page_backwards_with_before() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Long thread").await;
    for i in 0..7 {
        app.send_message("shop", &m.ca, id, &format!("message {i}"))
            .await;
    }
    let page = json_of(
        app.get(&format!("/api/v1/shop/messages/{id}?limit=3"), &m.ca.token)
            .await,
    )
    .await;
    let contents: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, vec!["message 4", "message 5", "message 6"]);
    assert_eq!(page["has_more"], true);
    let oldest = page["messages"][0]["id"].as_i64().unwrap();
    let page = json_of(
        app.get(
            &format!("/api/v1/shop/messages/{id}?limit=5&before={oldest}"),
            &m.ca.token,
        )
        .await,
    )
    .await;
    let contents: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        vec![
            "Hello about Long thread",
            "message 0",
            "message 1",
            "message 2",
            "message 3"
        ]
    );
    assert_eq!(page["has_more"], false);
    let r = app
        .get(&format!("/api/v1/shop/messages/{id}?limit=0"), &m.ca.token)
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn authors_and_admins_soft_delete_messages() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Delete").await;
    let customer_message = json_of(
        app.send_message("shop", &m.ca, id, "oops, my phone number")
            .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .delete(
            &format!("/api/v1/vendor/messages/{id}/messages/{customer_message}"),
            &m.a1.token,
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = app
        .delete(
            &format!("/api/v1/vendor/messages/{id}/messages/{customer_message}"),
            &m.b1.token,
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let r = app
        .delete(
            &format!("/api/v1/shop/messages/{id}/messages/{customer_message}"),
            &m.ca.token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let detail = json_of(
        app.get(&format!("/api/v1/vendor/messages/{id}"), &m.a1.token)
            .await,
    )
    .await;
    let deleted = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == customer_message)
        .unwrap()
        .clone();
    assert_eq!(deleted["is_deleted"], true);
    assert_eq!(deleted["content"], "");
    assert_eq!(
        detail["message_count"], 2,
        "the message stays in the thread"
    );
    // The inbox preview showed the deleted message; it shows nothing now, and the next one after.
    let preview = |list: Value| {
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["last_message_preview"]
            .clone()
    };
    let list = json_of(app.get("/api/v1/vendor/messages", &m.a1.token).await).await;
    assert_eq!(preview(list), Value::Null);
    app.send_message("vendor", &m.a1, id, "No worries, removed.")
        .await;
    let list = json_of(app.get("/api/v1/vendor/messages", &m.a1.token).await).await;
    assert_eq!(preview(list), "No worries, removed.");
    let r = app
        .delete(
            &format!("/api/v1/shop/messages/{id}/messages/999999"),
            &m.ca.token,
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;

    // Admins may delete any message in their conversations.
    let conv = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Mod", "recipient_type": "store", "recipient_id": m.a1.id}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let staff_message = json_of(app.send_message("vendor", &m.a1, conv, "rude words").await).await
        ["id"]
        .as_i64()
        .unwrap();
    app.send_message("vendor", &m.a1, conv, "Sorry about that.")
        .await;
    let r = app
        .delete(
            &format!("/api/v1/admin/messages/{conv}/messages/{staff_message}"),
            &m.admin.token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Deleting an older message leaves the preview of the newest one.
    let list = json_of(app.get("/api/v1/admin/messages", &m.admin.token).await).await;
    let row = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conv)
        .unwrap()
        .clone();
    assert_eq!(row["last_message_preview"], "Sorry about that.");
}

#[tokio::test]
async fn preferences_are_per_participant() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Prefs").await;
    let r = app
        .put(
            &format!("/api/v1/shop/messages/{id}/preferences"),
            &m.ca.token,
            json!({"email_notifications": false}),
        )
        .await;
    assert_eq!(
        json_of(r).await,
        json!({"conversation_id": id, "email_notifications": false, "muted": false})
    );
    let r = app
        .put(
            &format!("/api/v1/vendor/messages/{id}/preferences"),
            &m.a2.token,
            json!({"muted": true}),
        )
        .await;
    assert_eq!(json_of(r).await["muted"], true);
    let participants = json_of(
        app.get(&format!("/api/v1/vendor/messages/{id}"), &m.a1.token)
            .await,
    )
    .await["participants"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(participants, 3, "a colleague who subscribes takes part");
    let r = app
        .put(
            &format!("/api/v1/shop/messages/{id}/preferences"),
            &m.ca.token,
            json!({"muted": "yes"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn recipients_are_what_the_caller_may_write_to() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let r = json_of(
        app.get(
            "/api/v1/admin/messages/recipients?recipient_type=store",
            &m.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(r["total"], 3);
    assert_eq!(r["recipients"][0]["store_name"], "shop-a");
    let r = json_of(
        app.get(
            "/api/v1/admin/messages/recipients?recipient_type=customer&search=cb%40",
            &m.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(r["total"], 1);
    assert_eq!(r["recipients"][0]["id"], m.cb.id);
    let r = json_of(
        app.get(
            "/api/v1/vendor/messages/recipients?recipient_type=customer",
            &m.a1.token,
        )
        .await,
    )
    .await;
    assert_eq!(r["total"], 2, "only store A's customers");
    let r = app
        .get(
            "/api/v1/vendor/messages/recipients?recipient_type=store",
            &m.a1.token,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = app
        .get(
            "/api/v1/shop/messages/recipients?recipient_type=store",
            &m.ca.token,
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = app
        .get(
            "/api/v1/vendor/messages/recipients?recipient_type=customer&search=%25",
            &m.a1.token,
        )
        .await;
    assert_eq!(json_of(r).await["total"], 0, "LIKE wildcards are literal");
}

#[tokio::test]
async fn bad_messages_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Input").await;
    for (body, code) in [
        (json!({"content": ""}), "validation_error"),
        (json!({"content": "   \n "}), "validation_error"),
        (json!({"content": "x".repeat(10_001)}), "validation_error"),
        (json!({"content": "bad\u{0000}byte"}), "validation_error"),
        (json!({"content": 5}), "invalid_body"),
        (json!({"text": "hi"}), "invalid_body"),
    ] {
        let r = app
            .post(
                &format!("/api/v1/shop/messages/{id}/messages"),
                &m.ca.token,
                body,
            )
            .await;
        assert_eq!(assert_error(r, StatusCode::BAD_REQUEST).await, code);
    }
    let r = app
        .client
        .post(app.url(&format!("/api/v1/shop/messages/{id}/messages")))
        .bearer_auth(&m.ca.token)
        .header("Content-Type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(
        app.send_message("shop", &m.ca, id, &"x".repeat(10_000))
            .await
            .status(),
        StatusCode::CREATED
    );
    let r = app
        .post(
            "/api/v1/vendor/messages",
            &m.a1.token,
            json!({"conversation_type": "store_customer", "subject": "s".repeat(501), "recipient_type": "customer", "recipient_id": m.ca.id}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    assert_eq!(
        app.query_i64("SELECT count(*) FROM messages", vec![]).await,
        2
    );
    assert_eq!(
        app.query_i64("SELECT count(*) FROM conversations", vec![])
            .await,
        1
    );
}

#[tokio::test]
async fn counters_always_match_the_rows() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Counters").await;
    let texts: Vec<String> = (0..20).map(|i| format!("concurrent {i}")).collect();
    let mut sends = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let (area, party) = match i % 3 {
            0 => ("shop", &m.ca),
            1 => ("vendor", &m.a1),
            _ => ("vendor", &m.a2),
        };
        sends.push(app.send_message(area, party, id, text));
    }
    for r in futures_util::future::join_all(sends).await {
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let rows = app
        .query_i64(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            vec![id],
        )
        .await;
    let counter = app
        .query_i64(
            "SELECT message_count FROM conversations WHERE id = ?1",
            vec![id],
        )
        .await;
    assert_eq!(rows, 21);
    assert_eq!(counter, rows);
    // Each participant's unread count is the number of messages from others since they joined.
    let customer_unread = app
        .query_i64(
            "SELECT unread_count FROM conversation_participants WHERE conversation_id = ?1 AND participant_type = 'customer'",
            vec![id],
        )
        .await;
    let from_others = app
        .query_i64("SELECT count(*) FROM messages WHERE conversation_id = ?1 AND sender_type <> 'customer'", vec![id])
        .await;
    assert_eq!(customer_unread, from_others);
}

#[tokio::test]
async fn changes_are_published_on_the_event_bus_with_their_audience() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let mut events = app.state.events.subscribe_all();
    let id = app.vendor_conversation(&m.a1, &m.ca, "Events").await;
    let created = events.next_event().await.unwrap();
    assert_eq!(created.conversation_id, id);
    assert_eq!(created.store_id, Some(m.store_a));
    // The opening message is a message like any other.
    let opening = events.next_event().await.unwrap();
    assert_eq!(
        serde_json::to_value(&*opening).unwrap()["kind"],
        "message_sent"
    );
    assert!(opening.seq > created.seq);
    let message = json_of(app.send_message("shop", &m.ca, id, "ping").await).await;
    let sent = events.next_event().await.unwrap();
    assert_eq!(
        serde_json::to_value(&*sent).unwrap()["kind"],
        "message_sent"
    );
    assert_eq!(sent.message_id, message["id"].as_i64());
    assert_eq!(sent.participants.len(), 2);
    app.put(
        &format!("/api/v1/vendor/messages/{id}/read"),
        &m.a1.token,
        json!({}),
    )
    .await;
    assert_eq!(
        serde_json::to_value(&*events.next_event().await.unwrap()).unwrap()["kind"],
        "conversation_read"
    );
    app.post(
        &format!("/api/v1/vendor/messages/{id}/close"),
        &m.a1.token,
        json!({}),
    )
    .await;
    assert_eq!(
        serde_json::to_value(&*events.next_event().await.unwrap()).unwrap()["kind"],
        "conversation_closed"
    );
    app.post(
        &format!("/api/v1/vendor/messages/{id}/reopen"),
        &m.a1.token,
        json!({}),
    )
    .await;
    assert_eq!(
        serde_json::to_value(&*events.next_event().await.unwrap()).unwrap()["kind"],
        "conversation_reopened"
    );
}

#[tokio::test]
async fn lists_take_updated_since_for_an_incremental_sync() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let quiet = app.vendor_conversation(&m.a1, &m.ca, "Quiet").await;
    let busy = app.vendor_conversation(&m.a1, &m.ca, "Busy").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(
        app.send(&m.ca, busy, "any news?")
            .await
            .status()
            .is_success()
    );
    let new = app.vendor_conversation(&m.a1, &m.ca, "New").await;
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for party in [&m.a1, &m.ca] {
        let list: Value = app
            .client
            .get(app.url(&format!("/api/v1/{}/messages", party.area)))
            .query(&[("updated_since", since.as_str())])
            .bearer_auth(&party.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<i64> = list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![new, busy], "{}: {list}", party.area);
        assert_eq!(list["total"], 2);
        assert!(!ids.contains(&quiet));
    }
    let r = app
        .get(
            "/api/v1/vendor/messages?updated_since=yesterday",
            &m.a1.token,
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
}

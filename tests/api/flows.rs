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

async fn detail(app: &crate::helpers::TestApp, party: &crate::helpers::Party, id: i64) -> Value {
    let r = app
        .get(
            &format!("/api/v1/{}/messages/{id}", party.area),
            &party.token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    json_of(r).await
}

fn texts(detail: &Value) -> Vec<String> {
    detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_platform_steps_in_and_notes_stay_between_store_and_platform() {
    let app = spawn_app_with(|s| s.email.notification_window_seconds = 0).await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Broken lamp").await;
    let r = app.send(&m.ca, id, "The lamp arrived broken.").await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Internal notes need the platform in the conversation.
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/messages"),
            &m.a1.token,
            json!({"content": "too early", "internal": true}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::CONFLICT).await, "not_escalated");
    // The customer asks the platform to step in, with a reason.
    let r = app
        .post(
            &format!("/api/v1/shop/messages/{id}/escalate"),
            &m.ca.token,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let r = app
        .post(
            &format!("/api/v1/shop/messages/{id}/escalate"),
            &m.ca.token,
            json!({"reason": "The store does not answer about the refund."}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["escalated"], true);
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/escalate"),
            &m.a1.token,
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::CONFLICT).await,
        "already_escalated"
    );
    // Every area shows it escalated; the admin team takes part and got a high-priority alert.
    for party in [&m.ca, &m.a1, &m.admin] {
        let d = detail(&app, party, id).await;
        assert_eq!(d["escalated"], true, "{}", party.area);
        assert_eq!(d["read_only"], false, "{}", party.area);
    }
    let admin_view = detail(&app, &m.admin, id).await;
    assert!(
        admin_view["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["participant_type"] == "admin")
    );
    assert_eq!(
        admin_view["messages"].as_array().unwrap().last().unwrap()["system_event"],
        "escalated"
    );
    let alerts = json_of(app.get("/api/v1/admin/notifications", &m.admin.token).await).await;
    let alert = alerts["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "escalation")
        .cloned()
        .expect("an escalation alert");
    assert_eq!(alert["priority"], "high");
    assert_eq!(
        alert["action_url"],
        format!("/admin/messages/{id}").as_str()
    );
    let admin_list = json_of(app.get("/api/v1/admin/messages", &m.admin.token).await).await;
    assert_eq!(ids(&admin_list), vec![id], "in the admin's own inbox");

    // The admin answers everyone, then the admin and the store exchange notes.
    let before = detail(&app, &m.ca, id).await;
    let r = app.send(&m.admin, id, "We are looking into it.").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let note = app
        .post(
            &format!("/api/v1/admin/messages/{id}/messages"),
            &m.admin.token,
            json!({"content": "Zebranote: was the refund sent?", "internal": true}),
        )
        .await;
    assert_eq!(note.status(), StatusCode::CREATED);
    let note = json_of(note).await;
    assert_eq!(note["internal"], true);
    let reply = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/messages"),
            &m.a1.token,
            json!({"content": "Zebranote reply: tomorrow.", "internal": true}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let reply = json_of(reply).await;
    let r = app
        .post(
            &format!("/api/v1/shop/messages/{id}/messages"),
            &m.ca.token,
            json!({"content": "let me in", "internal": true}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");

    // The customer never sees them: not in the thread, the counts, the list, search, events
    // or email.
    let seen = detail(&app, &m.ca, id).await;
    assert!(texts(&seen).iter().all(|t| !t.contains("Zebranote")));
    assert_eq!(
        seen["message_count"],
        before["message_count"].as_i64().unwrap() + 1
    );
    assert_eq!(seen["last_message_preview"], "We are looking into it.");
    let list = json_of(app.get("/api/v1/shop/messages", &m.ca.token).await).await;
    assert_eq!(
        list["conversations"][0]["last_message_preview"],
        "We are looking into it."
    );
    assert_eq!(
        app.unread(&m.ca).await,
        2,
        "the store's greeting and the admin's answer"
    );
    let found = json_of(
        app.get("/api/v1/shop/messages?search=zebranote", &m.ca.token)
            .await,
    )
    .await;
    assert!(ids(&found).is_empty());
    for party in [&m.a1, &m.admin] {
        let found = json_of(
            app.get(
                &format!("/api/v1/{}/messages?search=zebranote", party.area),
                &party.token,
            )
            .await,
        )
        .await;
        assert_eq!(ids(&found), vec![id], "{} finds the notes", party.area);
        assert!(
            texts(&detail(&app, party, id).await)
                .iter()
                .any(|t| t.contains("Zebranote"))
        );
    }
    let note_ids = [note["id"].as_i64().unwrap(), reply["id"].as_i64().unwrap()];
    let events = json_of(app.get("/api/v1/shop/events", &m.ca.token).await).await;
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !note_ids.contains(&e["data"]["message_id"].as_i64().unwrap_or(0))),
        "{events}"
    );
    let events = json_of(app.get("/api/v1/vendor/events", &m.a1.token).await).await;
    let notes: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| note_ids.contains(&e["data"]["message_id"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|e| e["data"]["internal"] == true));
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "conversation.escalated")
    );
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM email_logs WHERE recipient_email = 'ca@example.test'
               AND coalesce(body_text, '') || coalesce(body_html, '') || coalesce(extra_data, '')
                   LIKE '%Zebranote%'",
            vec![]
        )
        .await,
        0
    );
    assert!(
        app.query_i64(
            "SELECT count(*) FROM email_logs WHERE recipient_email = 'a1@example.test'
               AND coalesce(body_text, '') || coalesce(extra_data, '') LIKE '%Zebranote%'",
            vec![]
        )
        .await
            > 0,
        "the store hears of the admin's note"
    );

    // The admin resolves it: no longer escalated anywhere, and no more notes.
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/resolve"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = app
        .post(
            &format!("/api/v1/admin/messages/{id}/resolve"),
            &m.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["escalated"], false);
    assert_eq!(detail(&app, &m.ca, id).await["escalated"], false);
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/messages"),
            &m.a1.token,
            json!({"content": "late note", "internal": true}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::CONFLICT).await, "not_escalated");
    // The notes stay hidden from the customer afterwards too.
    assert!(
        texts(&detail(&app, &m.ca, id).await)
            .iter()
            .all(|t| !t.contains("Zebranote"))
    );
}

#[tokio::test]
async fn admins_oversee_without_taking_part_and_every_read_is_audited() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a2, &m.ca2, "Sizes").await;
    let unread_before = (app.unread(&m.a2).await, app.unread(&m.ca2).await);
    // Not in the admin's own inbox, but in the oversight view of store conversations.
    let own = json_of(app.get("/api/v1/admin/messages", &m.admin.token).await).await;
    assert!(ids(&own).is_empty());
    let overseen = json_of(
        app.get(
            "/api/v1/admin/messages?conversation_type=store_customer",
            &m.admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&overseen), vec![id]);
    let d = detail(&app, &m.admin, id).await;
    assert_eq!(d["read_only"], true);
    assert_eq!(
        d["participants"].as_array().unwrap().len(),
        2,
        "the admin did not join"
    );
    let r = app.read(&m.admin, id).await;
    assert_eq!(r["total_unread"], 0);
    assert_eq!(
        (app.unread(&m.a2).await, app.unread(&m.ca2).await),
        unread_before,
        "nobody's counts moved"
    );
    // Reading is all: writing is refused until the team is asked in.
    let r = app.send(&m.admin, id, "hello").await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = app
        .put(
            &format!("/api/v1/admin/messages/{id}/preferences"),
            &m.admin.token,
            json!({"muted": true}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");

    let log = json_of(app.get("/api/v1/admin/audit-log", &m.admin.token).await).await;
    let entry = &log["entries"][0];
    assert_eq!(entry["action"], "conversation.read");
    assert_eq!(entry["conversation_id"], id);
    assert_eq!(entry["store_id"], m.store_a);
    assert_eq!(entry["actor"]["type"], "admin");
    assert_eq!(entry["actor"]["id"], m.admin.id);
    assert!(entry["created_at"].is_string());
    assert_eq!(log["total"], 1);
    // Staff cannot read the log.
    let r = app.get("/api/v1/vendor/audit-log", &m.a1.token).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // With oversight off, the admin sees nothing of it.
    app.set_setting(&m.admin, "admin_oversight", json!(false))
        .await;
    let r = app
        .get(&format!("/api/v1/admin/messages/{id}"), &m.admin.token)
        .await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
    let overseen = json_of(
        app.get(
            "/api/v1/admin/messages?conversation_type=store_customer",
            &m.admin.token,
        )
        .await,
    )
    .await;
    assert!(ids(&overseen).is_empty());
}

#[tokio::test]
async fn a_customer_asks_about_an_order_the_store_answers_late_and_the_admin_sees_it() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    app.set_setting(&m.admin, "customers_may_start_conversations", json!(true))
        .await;
    let r = app
        .post(
            "/api/v1/shop/messages",
            &m.ca.token,
            json!({"subject": "Order 1042", "initial_message": "Has it shipped?",
                   "context": {"type": "order", "id": "1042"}}),
        )
        .await;
    let asked = json_of(r).await;
    let id = asked["id"].as_i64().unwrap();
    assert_eq!(asked["waiting_since"]["party"], "store");
    let list = |query: &'static str| {
        let app = &app;
        let token = m.a1.token.clone();
        async move {
            ids(&json_of(
                app.get(&format!("/api/v1/vendor/messages?{query}"), &token)
                    .await,
            )
            .await)
        }
    };
    assert_eq!(list("waiting=store").await, vec![id]);
    assert!(list("waiting=customer").await.is_empty());
    assert!(list("overdue=true").await.is_empty());

    // A day and a quarter pass without an answer (the target is 24 h).
    app.execute(
        "UPDATE conversations SET waiting_since = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-30 hours')
         WHERE waiting_party = 'store'",
    )
    .await;
    assert_eq!(list("overdue=true").await, vec![id]);
    let figures = |party: &crate::helpers::Party, query: &'static str| {
        let app = &app;
        let path = format!("/api/v1/{}/response-times?{query}", party.area);
        let token = party.token.clone();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status(), StatusCode::OK);
            json_of(r).await
        }
    };
    let own = figures(&m.a1, "days=7").await;
    assert_eq!(own["target_hours"], 24);
    let store = &own["stores"][0];
    assert_eq!(
        own["stores"].as_array().unwrap().len(),
        1,
        "only the store's own"
    );
    assert_eq!(
        (store["waiting"].as_i64(), store["overdue"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(store["answered_within_target_percent"], 0.0);

    // The scheduler's pass raises one alert for the store, and not again the same day.
    assert_eq!(
        parley::messaging::alert_late_stores(&app.state.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        parley::messaging::alert_late_stores(&app.state.db)
            .await
            .unwrap(),
        0
    );
    let alerts = json_of(app.get("/api/v1/admin/notifications", &m.admin.token).await).await;
    let late: Vec<&Value> = alerts["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "late_replies")
        .collect();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0]["notification_metadata"]["store_id"], m.store_a);

    // The store answers, late: the wait turns into the customer's.
    let answered = json_of(app.send(&m.a1, id, "Sorry, it ships today.").await).await;
    assert!(answered["id"].is_i64());
    let d = detail(&app, &m.a1, id).await;
    assert_eq!(d["waiting_since"]["party"], "customer");
    let store = figures(&m.a1, "days=30").await["stores"][0].clone();
    let first = store["first_response_median_seconds"].as_i64().unwrap();
    assert!((30 * 3600 - 5..=30 * 3600 + 60).contains(&first), "{first}");
    assert_eq!(store["answered"], 1);
    assert_eq!(store["late"], 1);
    assert_eq!(store["waiting"], 0);

    // A thank-you needs no answer: the clock stops and nothing counts.
    let r = app.send(&m.ca, id, "Thanks!").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(list("waiting=store").await, vec![id]);
    let r = app
        .post(
            &format!("/api/v1/shop/messages/{id}/no-reply-needed"),
            &m.ca.token,
            json!({}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/no-reply-needed"),
            &m.a2.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(json_of(r).await["waiting_since"].is_null());
    assert!(list("waiting=store").await.is_empty());
    // A question answered at once: half the answers within the target.
    app.send(&m.ca, id, "One more question").await;
    app.send(&m.a2, id, "Yes?").await;
    let store = figures(&m.a1, "days=30").await["stores"][0].clone();
    assert_eq!(store["answered"], 2);
    assert_eq!(store["answered_within_target_percent"], 50.0);
    assert_eq!(
        store["first_response_median_seconds"].as_i64().unwrap(),
        first,
        "one first answer"
    );

    // The admin sees every store, worst first when asked.
    let all = figures(&m.admin, "days=7&sort=within_target").await;
    let stores = all["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 2);
    assert_eq!(stores[0]["store_id"], m.store_a);
    assert!(stores[1]["answered_within_target_percent"].is_null());
    let r = app
        .get("/api/v1/admin/response-times?days=5", &m.admin.token)
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let r = app
        .get("/api/v1/vendor/response-times?sort=fastest", &m.a1.token)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn topics_file_conversations_and_each_role_chooses_only_its_own() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    app.set_setting(&m.admin, "customers_may_start_conversations", json!(true))
        .await;
    let topic = |body: Value| {
        let app = &app;
        let token = m.admin.token.clone();
        async move { app.post("/api/v1/admin/topics", &token, body).await }
    };
    let delivery = json_of(
        topic(
            json!({"names": {"en": "Delivery", "de": "Lieferung"}, "roles": ["customer", "store"]}),
        )
        .await,
    )
    .await;
    let payout = json_of(
        topic(json!({"names": {"en": "Payout"}, "roles": ["store", "admin"], "position": 2})).await,
    )
    .await;
    let (delivery, payout) = (
        delivery["id"].as_i64().unwrap(),
        payout["id"].as_i64().unwrap(),
    );
    for bad in [
        json!({"names": {"de": "Rechnung"}, "roles": ["store"]}),
        json!({"names": {"en": "Invoice"}, "roles": []}),
        json!({"names": {"en": ""}, "roles": ["store"]}),
        json!({"names": {"en": "Invoice", "not a language!": "x"}, "roles": ["store"]}),
    ] {
        let r = topic(bad).await;
        assert_eq!(
            assert_error(r, StatusCode::BAD_REQUEST).await,
            "validation_error"
        );
    }
    let r = app
        .post(
            "/api/v1/vendor/topics",
            &m.a1.token,
            json!({"names": {"en": "X"}, "roles": ["store"]}),
        )
        .await;
    assert!(r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::METHOD_NOT_ALLOWED);

    // Customers see (and choose) only theirs.
    let shop_topics = json_of(app.get("/api/v1/shop/topics", &m.ca.token).await).await;
    assert_eq!(shop_topics["topics"].as_array().unwrap().len(), 1);
    assert_eq!(shop_topics["topics"][0]["names"]["de"], "Lieferung");
    let r = app
        .post(
            "/api/v1/shop/messages",
            &m.ca.token,
            json!({"subject": "S", "initial_message": "x", "topic_id": payout}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let asked = json_of(
        app.post(
            "/api/v1/shop/messages",
            &m.ca.token,
            json!({"subject": "Late parcel", "initial_message": "x", "topic_id": delivery}),
        )
        .await,
    )
    .await;
    let id = asked["id"].as_i64().unwrap();
    assert_eq!(asked["topic_id"], delivery);

    // Staff filter and count by topic, and refile.
    let by_topic = json_of(
        app.get(
            &format!("/api/v1/vendor/messages?topic_id={delivery}"),
            &m.a1.token,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&by_topic), vec![id]);
    let counts = json_of(app.get("/api/v1/vendor/topics", &m.a1.token).await).await;
    let count_of = |topics: &Value, topic: i64| {
        topics["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == topic)
            .unwrap()["conversation_count"]
            .clone()
    };
    assert_eq!(count_of(&counts, delivery), 1);
    assert_eq!(
        count_of(
            &json_of(app.get("/api/v1/vendor/topics", &m.b1.token).await).await,
            delivery
        ),
        0
    );
    let r = app
        .put(
            &format!("/api/v1/shop/messages/{id}/topic"),
            &m.ca.token,
            json!({"topic_id": payout}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = app
        .put(
            &format!("/api/v1/vendor/messages/{id}/topic"),
            &m.a2.token,
            json!({"topic_id": payout}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["topic_id"], payout);
    let r = app
        .put(
            &format!("/api/v1/vendor/messages/{id}/topic"),
            &m.a2.token,
            json!({"topic_id": 999}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );

    // A retired topic leaves the lists; its conversations keep it.
    let r = app
        .delete(&format!("/api/v1/admin/topics/{payout}"), &m.admin.token)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let admin_topics = json_of(app.get("/api/v1/admin/topics", &m.admin.token).await).await;
    assert_eq!(admin_topics["topics"].as_array().unwrap().len(), 1);
    assert_eq!(detail(&app, &m.a1, id).await["topic_id"], payout);
    let r = app
        .delete(&format!("/api/v1/admin/topics/{payout}"), &m.admin.token)
        .await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
}

#[tokio::test]
async fn saved_replies_fill_in_the_conversation_and_stay_with_their_store() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app
        .start_conversation(
            "vendor",
            &m.a1,
            json!({"conversation_type": "store_customer", "subject": "Order", "recipient_type": "customer",
                   "recipient_id": m.ca.id, "context": {"type": "order", "id": "1042", "label": "Order #1042"}}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let platform = app
        .post(
            "/api/v1/admin/saved-replies",
            &m.admin.token,
            json!({"title": "Thanks", "body": "Hello {{ customer_name }}, thanks for writing to {{ store_name | upper }}.",
                   "shared_with_stores": true}),
        )
        .await;
    assert_eq!(platform.status(), StatusCode::CREATED);
    let platform = json_of(platform).await["id"].as_i64().unwrap();
    for body in [
        "{{ secret_key }}",
        "{% include \"x\" %}",
        "{{ customer_name | safe }}",
    ] {
        let r = app
            .post(
                "/api/v1/vendor/saved-replies",
                &m.a1.token,
                json!({"title": "Bad", "body": body}),
            )
            .await;
        assert_eq!(
            assert_error(r, StatusCode::BAD_REQUEST).await,
            "validation_error",
            "{body}"
        );
    }
    let r = app
        .post(
            "/api/v1/vendor/saved-replies",
            &m.a1.token,
            json!({"title": "T", "body": "x", "shared_with_stores": true}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let own = json_of(
        app.post(
            "/api/v1/vendor/saved-replies",
            &m.a1.token,
            json!({"title": "Order status", "body": "About {{ context_label }}: {{ staff_name }} here."}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let titles = |v: Value| -> Vec<String> {
        v["saved_replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles(json_of(app.get("/api/v1/vendor/saved-replies", &m.a2.token).await).await),
        ["Order status", "Thanks"]
    );
    assert_eq!(
        titles(json_of(app.get("/api/v1/vendor/saved-replies", &m.b1.token).await).await),
        ["Thanks"]
    );
    assert_eq!(
        titles(json_of(app.get("/api/v1/admin/saved-replies", &m.admin.token).await).await),
        ["Thanks"]
    );

    let render = |party: &crate::helpers::Party, reply: i64, conversation: i64| {
        let app = &app;
        let path = format!(
            "/api/v1/{}/saved-replies/{reply}/render?conversation_id={conversation}",
            party.area
        );
        let token = party.token.clone();
        async move { app.get(&path, &token).await }
    };
    let r = render(&m.a2, own, id).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["text"], "About Order #1042: Staff here.");
    let r = render(&m.a1, platform, id).await;
    assert_eq!(
        json_of(r).await["text"],
        "Hello Customer, thanks for writing to SHOP-A."
    );
    // Another store's reply, or another store's conversation, is not found.
    assert_eq!(
        assert_error(render(&m.b1, own, id).await, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    assert_eq!(
        assert_error(render(&m.b1, platform, id).await, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let r = app
        .put(
            &format!("/api/v1/vendor/saved-replies/{own}"),
            &m.b1.token,
            json!({"title": "x", "body": "y"}),
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
    let r = app
        .delete(
            &format!("/api/v1/vendor/saved-replies/{platform}"),
            &m.a1.token,
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
    let r = app
        .put(
            &format!("/api/v1/vendor/saved-replies/{own}"),
            &m.a2.token,
            json!({"title": "Status", "body": "{{ staff_name }}"}),
        )
        .await;
    assert_eq!(json_of(r).await["title"], "Status");
    let r = app
        .delete(&format!("/api/v1/vendor/saved-replies/{own}"), &m.a2.token)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get("/api/v1/shop/saved-replies", &m.ca.token).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_conversation_is_assigned_to_one_staff_member() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Returns").await;
    let assign = |party: &crate::helpers::Party, user: Value| {
        let app = &app;
        let path = format!("/api/v1/{}/messages/{id}/assignee", party.area);
        let token = party.token.clone();
        async move { app.put(&path, &token, json!({ "user_id": user })).await }
    };
    let r = assign(&m.a1, json!(m.a2.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json_of(r).await["assignee_id"], m.a2.id);
    let d = detail(&app, &m.a2, id).await;
    assert_eq!(
        d["messages"].as_array().unwrap().last().unwrap()["system_event"],
        "assigned"
    );
    assert!(
        d["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["participant_id"] == m.a2.id)
    );
    let list = |party: &crate::helpers::Party, query: &'static str| {
        let app = &app;
        let token = party.token.clone();
        async move {
            ids(&json_of(
                app.get(&format!("/api/v1/vendor/messages?{query}"), &token)
                    .await,
            )
            .await)
        }
    };
    assert_eq!(list(&m.a2, "assignee=me").await, vec![id]);
    assert!(list(&m.a1, "assignee=me").await.is_empty());
    assert!(list(&m.a1, "assignee=none").await.is_empty());
    let r = app
        .get("/api/v1/vendor/messages?assignee=someone", &m.a1.token)
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );

    // Only a colleague, only by staff.
    let r = assign(&m.a1, json!(m.b1.id)).await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let r = assign(&m.admin, json!(m.a2.id)).await;
    assert_eq!(assert_error(r, StatusCode::FORBIDDEN).await, "forbidden");
    let r = assign(&m.b1, json!(m.b1.id)).await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");
    // Unassigning leaves a system message too; doing nothing leaves none.
    let r = assign(&m.a2, json!(null)).await;
    assert!(json_of(r).await["assignee_id"].is_null());
    let count = detail(&app, &m.a1, id).await["messages"]
        .as_array()
        .unwrap()
        .len();
    assign(&m.a2, json!(null)).await;
    assert_eq!(
        detail(&app, &m.a1, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        count
    );
    assert_eq!(list(&m.a1, "assignee=none").await, vec![id]);
}

#[tokio::test]
async fn an_announcement_reaches_each_store_as_its_own_conversation() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    app.create_store(&m.admin, "shop-empty", "business").await;
    let announce = |stores: Value| {
        let app = &app;
        let token = m.admin.token.clone();
        async move {
            app.post(
                "/api/v1/admin/announcements",
                &token,
                json!({"subject": "New fees", "message": "Fees change on 1 January.", "stores": stores}),
            )
            .await
        }
    };
    let r = announce(json!("all")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let all = json_of(r).await;
    assert_eq!(all["delivered"], 2, "the store without staff is skipped");
    assert_eq!(
        (
            app.unread(&m.a1).await,
            app.unread(&m.a2).await,
            app.unread(&m.b1).await
        ),
        (1, 1, 1)
    );
    let a_copy = ids(&json_of(app.get("/api/v1/vendor/messages", &m.a1.token).await).await);
    let b_copy = ids(&json_of(app.get("/api/v1/vendor/messages", &m.b1.token).await).await);
    assert_eq!((a_copy.len(), b_copy.len()), (1, 1));
    assert_ne!(a_copy, b_copy, "each store its own conversation");
    // A store's reply stays with it.
    app.send(&m.a1, a_copy[0], "Noted, thanks.").await;
    let r = app
        .get(
            &format!("/api/v1/vendor/messages/{}", a_copy[0]),
            &m.b1.token,
        )
        .await;
    assert_eq!(assert_error(r, StatusCode::NOT_FOUND).await, "not_found");

    assert_eq!(
        json_of(announce(json!({"tier": "business"})).await).await["delivered"],
        1
    );
    assert_eq!(
        json_of(announce(json!([m.store_b, 999])).await).await["delivered"],
        1
    );
    for bad in [json!([]), json!({"tier": "gold"}), json!("some")] {
        let r = announce(bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = app
        .post(
            "/api/v1/vendor/announcements",
            &m.a1.token,
            json!({"subject": "x", "message": "y", "stores": "all"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let listed = json_of(app.get("/api/v1/admin/announcements", &m.admin.token).await).await;
    let first = listed["announcements"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(first["id"], all["id"]);
    assert_eq!(first["stores"], "all");
    assert_eq!(
        (first["delivered"].as_i64(), first["read"].as_i64()),
        (Some(2), Some(0))
    );
    app.read(&m.a2, a_copy[0]).await;
    let listed = json_of(app.get("/api/v1/admin/announcements", &m.admin.token).await).await;
    assert_eq!(
        listed["announcements"].as_array().unwrap().last().unwrap()["read"],
        1
    );
}

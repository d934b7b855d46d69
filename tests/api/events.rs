//! The event log: each change a client can see, in commit order, read back by each caller as far
//! as they may see it (`GET /api/v1/{area}/events`), by the platform's keys in full
//! (`GET /api/v1/integration/events`), and gone for good past the retention (410).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Party, TestApp, assert_error, spawn_app};

async fn events(app: &TestApp, party: &Party, query: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/{}/events{query}", party.area),
            &party.token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json().await.unwrap()
}

async fn platform_events(app: &TestApp, key: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/integration/events{query}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// The events of a page as `(type, conversation_id)`.
fn kinds(page: &Value) -> Vec<(String, i64)> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["conversation_id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pair(kind: &str, conversation: i64) -> (String, i64) {
    (kind.to_string(), conversation)
}

#[tokio::test]
async fn each_caller_reads_the_events_it_may_see_in_commit_order() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let store_talk = app.vendor_conversation(&m.a1, &m.ca, "Order 1042").await;
    let other_store = app.vendor_conversation(&m.b1, &m.cb, "Elsewhere").await;
    let platform = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "Fees", "recipient_type": "store",
                   "recipient_id": m.a1.id, "initial_message": "Hi"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    // A colleague answering joins the conversation: participant.added, then message.created.
    let reply: Value = app
        .send_message("vendor", &m.a2, store_talk, "On its way")
        .await
        .json()
        .await
        .unwrap();
    app.read(&m.ca, store_talk).await;
    let closed = app
        .post(
            &format!("/api/v1/vendor/messages/{store_talk}/close"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);

    let customer = events(&app, &m.ca, "").await;
    assert_eq!(
        kinds(&customer),
        vec![
            pair("conversation.created", store_talk),
            pair("message.created", store_talk),
            pair("participant.added", store_talk),
            pair("message.created", store_talk),
            pair("conversation.read", store_talk),
            pair("conversation.closed", store_talk),
        ]
    );
    let created = &customer["events"][3];
    assert_eq!(created["data"]["message_id"], reply["id"]);
    assert_eq!(
        created["data"]["actor"],
        json!({"type": "store", "id": m.a2.id})
    );
    assert_eq!(created["data"]["conversation_type"], "store_customer");
    assert_eq!(created["store_id"], m.store_a);
    let seqs: Vec<i64> = customer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(customer["next_after"], json!(seqs.last().unwrap()));

    // The store sees its two conversations; the other store and its customer only theirs; the
    // other customer of the same store nothing; the admin only the platform's channel.
    let staff = kinds(&events(&app, &m.a2, "").await);
    assert!(staff.contains(&pair("message.created", store_talk)));
    assert!(staff.contains(&pair("conversation.created", platform)));
    assert!(!staff.iter().any(|(_, c)| *c == other_store));
    let elsewhere = kinds(&events(&app, &m.b1, "").await);
    assert_eq!(
        elsewhere,
        vec![
            pair("conversation.created", other_store),
            pair("message.created", other_store)
        ]
    );
    assert_eq!(kinds(&events(&app, &m.ca2, "").await), vec![]);
    assert_eq!(
        kinds(&events(&app, &m.admin, "").await),
        vec![
            pair("conversation.created", platform),
            pair("message.created", platform)
        ]
    );

    // A key with the events scope reads everything, a page at a time.
    let (_, key) = app.integration_key(&m.admin, &["events"]).await;
    let first: Value = platform_events(&app, &key, "?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let mut all = kinds(&first);
    let mut after = first["next_after"].as_i64().unwrap();
    loop {
        let page: Value = platform_events(&app, &key, &format!("?after={after}&limit=2"))
            .await
            .json()
            .await
            .unwrap();
        if page["events"].as_array().unwrap().is_empty() {
            assert_eq!(
                page["next_after"], after,
                "an empty page keeps the position"
            );
            break;
        }
        all.extend(kinds(&page));
        after = page["next_after"].as_i64().unwrap();
    }
    assert_eq!(all.len(), 10, "{all:?}");
    assert_eq!(all[2], pair("conversation.created", other_store));

    // Without the scope, or as a person, the platform's log is not open.
    let (_, provision_only) = app.integration_key(&m.admin, &["provision"]).await;
    assert_error(
        platform_events(&app, &provision_only, "").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        platform_events(&app, &m.admin.token, "").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn bad_positions_are_refused_and_pruned_ones_are_gone() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    for query in [
        "?after=-1",
        "?limit=0",
        "?limit=501",
        "?after=x",
        "?since=3",
    ] {
        let r = app
            .get(&format!("/api/v1/shop/events{query}"), &m.ca.token)
            .await;
        assert_error(r, StatusCode::BAD_REQUEST).await;
    }
    assert_error(
        app.client
            .get(app.url("/api/v1/shop/events"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Nothing yet: an empty page, also for a position ahead of the log.
    assert_eq!(events(&app, &m.ca, "?after=0").await["events"], json!([]));
    assert_eq!(events(&app, &m.ca, "?after=99").await["next_after"], 99);

    let id = app.vendor_conversation(&m.a1, &m.ca, "One").await;
    app.send(&m.a1, id, "two").await;
    app.send(&m.a1, id, "three").await;
    let all = events(&app, &m.ca, "").await;
    assert_eq!(all["events"].as_array().unwrap().len(), 4);
    let newest = all["next_after"].as_i64().unwrap();

    // The retention drops the oldest two: a reader who had seen only the first is one event short
    // for good (410); one who had seen the second still reads on.
    app.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT 2)")
        .await;
    let r = app.get("/api/v1/shop/events?after=0", &m.ca.token).await;
    assert_eq!(assert_error(r, StatusCode::GONE).await, "events_expired");
    let r = app
        .get(
            &format!("/api/v1/shop/events?after={}", newest - 3),
            &m.ca.token,
        )
        .await;
    assert_error(r, StatusCode::GONE).await;
    let rest = events(&app, &m.ca, &format!("?after={}", newest - 2)).await;
    assert_eq!(
        kinds(&rest),
        vec![pair("message.created", id), pair("message.created", id)]
    );

    // Everything but the newest pruned (the pruner never takes the newest, so a number is never
    // given twice): a reader at the end is still at the end, one just before it gets the newest,
    // one further back is told it missed events for good.
    app.execute("DELETE FROM events WHERE seq < (SELECT max(seq) FROM events)")
        .await;
    assert_eq!(
        events(&app, &m.ca, &format!("?after={newest}")).await["events"],
        json!([])
    );
    assert_eq!(
        kinds(&events(&app, &m.ca, &format!("?after={}", newest - 1)).await),
        vec![pair("message.created", id)]
    );
    let r = app
        .get(
            &format!("/api/v1/shop/events?after={}", newest - 2),
            &m.ca.token,
        )
        .await;
    assert_error(r, StatusCode::GONE).await;
    // A position the log never reached (a restored database): nothing yet, and it is kept.
    assert_eq!(
        events(&app, &m.ca, &format!("?after={}", newest + 50)).await["next_after"],
        newest + 50
    );
}

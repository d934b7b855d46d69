use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    MailServer, PASSWORD, Party, TestApp, assert_count, assert_error, spawn_app, spawn_app_with,
};

async fn mail_app() -> (TestApp, MailServer) {
    let mail = MailServer::start().await;
    let app = spawn_app_with(|s| mail.configure(s)).await;
    (app, mail)
}

async fn register(app: &TestApp, store_code: &str, email: &str, language: &str) -> Party {
    let r = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": store_code, "email": email, "password": PASSWORD, "full_name": "Greta", "language": language}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    Party {
        area: "shop",
        token: body["access_token"].as_str().unwrap().to_string(),
        id: body["customer"]["id"].as_i64().unwrap(),
    }
}

#[tokio::test]
async fn a_message_arrives_by_email_in_the_recipients_language_with_the_store_override() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    let greta = register(&app, "shop-a", "greta@example.test", "de").await;
    // The welcome email, in German.
    let welcome = mail
        .delivered_to(&app, "greta@example.test", "Willkommen")
        .await;
    assert_eq!(welcome["subject"], "Willkommen bei shop-a");

    let r = app
        .put(
            "/api/v1/vendor/email-templates/new_message/de",
            &m.a1.token,
            json!({"subject": "Shop A: {{ conversation_subject }}",
                   "body_html": "<p>{{ sender_name }} schreibt: {{ message_preview }}</p><a href=\"{{ unsubscribe_url }}\">x</a>",
                   "body_text": "{{ sender_name }} schreibt: {{ message_preview }} {{ conversation_url }}"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    let id = app
        .vendor_conversation(&m.a1, &greta, "Lieferung <b>bald</b>")
        .await;
    app.send_message("vendor", &m.a1, id, "second, inside the window")
        .await;
    let email = mail
        .delivered_to(&app, "greta@example.test", "Shop A")
        .await;
    assert_eq!(email["subject"], "Shop A: Lieferung <b>bald</b>");
    let text = email["text"].as_str().unwrap();
    assert!(
        text.contains("Staff schreibt: Hello about Lieferung <b>bald</b>"),
        "{text}"
    );
    assert!(
        text.contains(&format!("/shop/account/messages/{id}")),
        "{text}"
    );
    assert!(
        email["html"]
            .as_str()
            .unwrap()
            .contains("Lieferung &lt;b&gt;bald&lt;&#x2F;b&gt;")
            || email["html"]
                .as_str()
                .unwrap()
                .contains("Lieferung &lt;b&gt;bald&lt;/b&gt;")
    );
    let headers = email["headers"].as_object().unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str().unwrap().trim().to_string())
    };
    assert!(
        header("List-Unsubscribe")
            .unwrap()
            .contains("/unsubscribe/")
    );
    assert_eq!(
        header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert!(header("Message-ID").is_some());

    // One email per participant per conversation per window; the sender gets none.
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'sent'",
        vec![],
        1,
    )
    .await;
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM email_logs WHERE template_code = 'new_message'",
            vec![]
        )
        .await,
        1
    );
    let logs: Value = app
        .get(
            "/api/v1/vendor/email-logs?template_code=new_message",
            &m.a1.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(logs["total"], 1);
    assert_eq!(logs["logs"][0]["status"], "sent");
    assert_eq!(logs["logs"][0]["language"], "de");
    assert!(logs["logs"][0].get("body_html").is_none());
}

#[tokio::test]
async fn the_background_job_delivers_without_being_asked() {
    // The other tests deliver by calling the job's step; this one lets the job's timer run.
    let mut mail = MailServer::start().await;
    let app = spawn_app_with(|s| {
        mail.configure(s);
        s.email.poll_interval_ms = 50;
    })
    .await;
    let admin = app.admin("root@example.test").await;
    app.create_store(&admin, "shop-a", "essential").await;
    app.customer("shop-a", "ticker@example.test").await;
    let welcome = mail.wait_for_next(10).await;
    assert_eq!(
        welcome["envelope_recipients"],
        json!(["ticker@example.test"])
    );
}

#[tokio::test]
async fn languages_without_a_template_fall_back_to_english() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    let pierre = register(&app, "shop-a", "pierre@example.test", "fr").await;
    assert_eq!(
        mail.delivered_to(&app, "pierre@example.test", "Welcome")
            .await["subject"],
        "Welcome to shop-a"
    );
    app.vendor_conversation(&m.a1, &pierre, "Parcel").await;
    let email = mail
        .delivered_to(&app, "pierre@example.test", "New message")
        .await;
    assert_eq!(email["subject"], "New message: Parcel");
}

#[tokio::test]
async fn muted_unsubscribed_and_read_conversations_send_no_email() {
    let mut mail = MailServer::start().await;
    let app = spawn_app_with(|s| {
        mail.configure(s);
        s.email.notification_delay_seconds = 2;
        s.email.notification_window_seconds = 0;
    })
    .await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Quiet").await;
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM email_logs WHERE template_code = 'new_message'",
            vec![]
        )
        .await,
        1
    );
    // The customer reads before the delayed email goes out: it is dropped.
    app.put(
        &format!("/api/v1/shop/messages/{id}/read"),
        &m.ca.token,
        json!({}),
    )
    .await;
    app.deliver_pending_emails().await;
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message'",
        vec![],
        0,
    )
    .await;
    assert!(
        mail.received()
            .iter()
            .all(|e| e["envelope_recipients"][0] != "ca@example.test"
                || !e["subject"].as_str().unwrap().starts_with("New message")),
        "the read conversation's email was not sent"
    );

    app.put(
        &format!("/api/v1/shop/messages/{id}/preferences"),
        &m.ca.token,
        json!({"muted": true}),
    )
    .await;
    app.send_message("vendor", &m.a1, id, "muted").await;
    app.put(
        &format!("/api/v1/shop/messages/{id}/preferences"),
        &m.ca.token,
        json!({"muted": false, "email_notifications": false}),
    )
    .await;
    app.send_message("vendor", &m.a1, id, "notifications off")
        .await;
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM email_logs WHERE template_code = 'new_message'",
            vec![]
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_unsubscribe_link_turns_email_off_for_that_conversation() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    let id = app
        .vendor_conversation(&m.a1, &m.ca, "Newsletter? <script>")
        .await;
    let email = mail
        .delivered_to(&app, "ca@example.test", "New message")
        .await;
    let text = email["text"].as_str().unwrap();
    let url = text
        .split_whitespace()
        .find(|w| w.contains("/unsubscribe/"))
        .unwrap()
        .to_string();
    let path = url
        .split_once("/unsubscribe/")
        .map(|(_, t)| format!("/unsubscribe/{t}"))
        .unwrap();

    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Newsletter? &lt;script&gt;"), "{html}");
    assert_eq!(
        app.query_i64("SELECT email_notifications FROM conversation_participants WHERE participant_type = 'customer' AND conversation_id = ?1", vec![id]).await,
        1,
        "a GET changes nothing"
    );
    let done = app
        .client
        .post(app.url(&path))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        app.query_i64("SELECT email_notifications FROM conversation_participants WHERE participant_type = 'customer' AND conversation_id = ?1", vec![id]).await,
        0
    );
    let r = app
        .client
        .post(app.url("/unsubscribe/not-a-token"))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_smtp_outage_is_retried_until_the_server_accepts() {
    let mut mail = MailServer::down();
    let app = spawn_app_with(|s| mail.configure(s)).await;
    let m = app.marketplace().await;
    app.vendor_conversation(&m.a1, &m.ca, "Outage").await;
    app.deliver_emails().await;
    // Refused connections count as attempts and are retried with backoff.
    assert_count(&app, "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND retry_count >= 1 AND status = 'pending'", vec![], 1).await;
    let logs: Value = app
        .get("/api/v1/admin/email-logs?status=pending", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let pending = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["template_code"] == "new_message")
        .unwrap()
        .clone();
    assert!(pending["error_message"].as_str().unwrap().len() > 3);

    mail.listen().await;
    assert_eq!(
        app.deliver_emails().await,
        0,
        "the retry waits for its backoff"
    );
    app.make_emails_due().await;
    let email = mail
        .delivered_to(&app, "ca@example.test", "New message")
        .await;
    assert_eq!(email["subject"], "New message: Outage");
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'sent'",
        vec![],
        1,
    )
    .await;
}

#[tokio::test]
async fn a_restart_loses_no_queued_email() {
    let mut mail = MailServer::down();
    let app = spawn_app_with(|s| mail.configure(s)).await;
    let m = app.marketplace().await;
    app.vendor_conversation(&m.a1, &m.ca, "Before restart")
        .await;
    app.deliver_emails().await;
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND retry_count >= 1",
        vec![],
        1,
    )
    .await;
    let message_id = app
        .state
        .db
        .read(|c| {
            Ok::<String, parley::error::AppError>(c.query_row(
                "SELECT message_id FROM email_logs WHERE template_code = 'new_message'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();

    let app = app.restart().await;
    mail.listen().await;
    app.make_emails_due().await;
    let email = mail
        .delivered_to(&app, "ca@example.test", "Before restart")
        .await;
    let headers = email["headers"].as_object().unwrap();
    let sent_id = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("message-id"))
        .unwrap()
        .1
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sent_id.trim(),
        message_id,
        "the same Message-ID across attempts"
    );
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'sent'",
        vec![],
        1,
    )
    .await;
}

#[tokio::test]
async fn hostile_store_templates_are_refused_at_save() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let hostile = [
        "{{ get_env(name=\"PARLEY_EMAIL__SMTP_PASSWORD\") }}",
        "{{ __tera_context }}",
        "{% include \"body.html\" %}",
        "{% import \"x\" as x %}",
        "{% extends \"body.html\" %}",
        "{% macro m() %}{{ self::m() }}{% endmacro %}",
        "{% set_global s = \"a\" %}",
        "{% for i in range(end=4000000000) %}x{% endfor %}",
        "{{ sender_name | safe }}",
        &"{% if sender_name %}".repeat(50),
        &format!("{{{{ {} }}}}", "(".repeat(10_000)),
        &"x".repeat(40_000),
        "{{ sender_name",
        "{{ missing_variable }}",
    ];
    for body in hostile {
        let r = app
            .put(
                "/api/v1/vendor/email-templates/new_message/en",
                &m.a1.token,
                json!({"subject": "s", "body_html": body}),
            )
            .await;
        let status = r.status();
        let error: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:.60}: {error}");
        assert_eq!(error["error"]["code"], "template_refused", "{body:.60}");
        assert!(error["error"]["message"].as_str().unwrap().len() > 10);
    }
    // A required variable must be used or present: the platform's new_message requires the unsubscribe link.
    let r = app
        .put(
            "/api/v1/vendor/email-templates/password_reset/en",
            &m.a1.token,
            json!({"subject": "s", "body_html": "b"}),
        )
        .await;
    let error: Value = r.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("platform-only"),
        "{error}"
    );
    assert_eq!(
        app.query_i64("SELECT count(*) FROM store_email_templates", vec![])
            .await,
        0,
        "nothing stored"
    );
    // The server keeps serving.
    assert_eq!(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_store_template_that_fails_at_send_time_falls_back_to_the_platform_template() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    // A template written into the database directly (e.g. saved under older rules).
    app.state
        .db
        .write(move |tx| {
            Ok::<_, parley::error::AppError>(tx.execute(
                "INSERT INTO store_email_templates (store_id, template_code, language, subject, body_html)
                 VALUES (?1, 'new_message', 'en', 'Bomb', '{% for i in range(end=100000) %}{% for j in range(end=100000) %}x{% endfor %}{% endfor %}')",
                [m.store_a],
            )?)
        })
        .await
        .unwrap();
    app.vendor_conversation(&m.a1, &m.ca, "Fallback").await;
    let email = mail.delivered_to(&app, "ca@example.test", "Fallback").await;
    assert_eq!(
        email["subject"], "New message: Fallback",
        "the platform template was used"
    );
    let extra = app
        .state
        .db
        .read(|c| {
            Ok::<String, parley::error::AppError>(c.query_row(
                "SELECT extra_data FROM email_logs WHERE template_code = 'new_message'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!(extra.contains("store_template_error"), "{extra}");
    // The store is told, in its email log.
    let logs: Value = app
        .get(
            "/api/v1/vendor/email-logs?template_code=new_message",
            &m.a1.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        logs["logs"][0]["store_template_error"]
            .as_str()
            .unwrap()
            .contains("not a variable name"),
        "{logs}"
    );
}

#[tokio::test]
async fn admins_manage_platform_templates_and_preview_them() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let list: Value = app
        .get(
            "/api/v1/admin/email-templates?code=new_message",
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2, "English and German ship by default");
    let template = json!({
        "code": "order_shipped", "language": "en", "name": "Order shipped", "category": "orders",
        "subject": "Order {{ order_number }} shipped", "body_html": "<p>Hi {{ name }}</p>",
        "variables": ["order_number", "name"], "required_variables": ["order_number"],
    });
    let r = app
        .post(
            "/api/v1/admin/email-templates",
            &admin.token,
            template.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let again = app
        .post(
            "/api/v1/admin/email-templates",
            &admin.token,
            template.clone(),
        )
        .await;
    assert_eq!(
        assert_error(again, StatusCode::CONFLICT).await,
        "template_exists"
    );
    let mut undeclared = template.clone();
    undeclared["language"] = json!("de");
    undeclared["body_html"] = json!("{{ secret }}");
    let r = app
        .post("/api/v1/admin/email-templates", &admin.token, undeclared)
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_template"
    );
    let mut bad_category = template.clone();
    bad_category["category"] = json!("spam");
    bad_category["language"] = json!("fr");
    assert_error(
        app.post("/api/v1/admin/email-templates", &admin.token, bad_category)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let preview: Value = app
        .post(
            "/api/v1/admin/email-templates/preview",
            &admin.token,
            json!({"code": "order_shipped", "variables": {"order_number": "A-1", "name": "<Ann>"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["subject"], "Order A-1 shipped");
    assert_eq!(preview["body_html"], "<p>Hi &lt;Ann&gt;</p>");
    assert_eq!(preview["layer"], "platform");
    assert_eq!(preview["language"], "en");
    let draft: Value = app
        .post("/api/v1/admin/email-templates/preview", &admin.token, json!({"subject": "Hi {{ who }}", "body_html": "<b>{{ who }}</b>", "variables": {"who": "you"}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(draft["subject"], "Hi you");

    let id = created["id"].as_i64().unwrap();
    let mut update = template.clone();
    update["subject"] = json!("Shipped: {{ order_number }}");
    update["is_active"] = json!(false);
    let r = app
        .client
        .put(app.url(&format!("/api/v1/admin/email-templates/{id}")))
        .bearer_auth(&admin.token)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["is_active"], false);
    let r = app
        .get("/api/v1/admin/email-templates/preview", &admin.token)
        .await;
    assert!(r.status().is_client_error());
    assert_eq!(
        app.delete(&format!("/api/v1/admin/email-templates/{id}"), &admin.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete(&format!("/api/v1/admin/email-templates/{id}"), &admin.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn stores_see_their_overrides_and_preview_them_against_the_chain() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let list: Value = app
        .get("/api/v1/vendor/email-templates", &m.a1.token)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"new_message"));
    assert!(
        !codes.contains(&"password_reset"),
        "platform-only templates are not offered"
    );

    let r = app
        .put("/api/v1/vendor/email-templates/new_message/en", &m.a1.token, json!({"subject": "A: {{ conversation_subject }}", "body_html": "<script>alert(1)</script>{{ sender_name }}"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // English override, German requested: the platform's German template comes first.
    let de: Value = app
        .post(
            "/api/v1/vendor/email-templates/preview",
            &m.a1.token,
            json!({"code": "new_message", "language": "de"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(de["layer"], "platform");
    assert_eq!(de["language"], "de");
    // French: no platform French, so the store's English override.
    let fr: Value = app
        .post(
            "/api/v1/vendor/email-templates/preview",
            &m.a1.token,
            json!({"code": "new_message", "language": "fr"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fr["layer"], "store");
    assert_eq!(fr["language"], "en");
    assert_eq!(fr["subject"], "A: [conversation_subject]");
    // Store B has no override.
    let b: Value = app
        .post(
            "/api/v1/vendor/email-templates/preview",
            &m.b1.token,
            json!({"code": "new_message", "language": "en"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["layer"], "platform");
    let r = app
        .post(
            "/api/v1/vendor/email-templates/preview",
            &m.b1.token,
            json!({"code": "new_message", "store_id": m.store_a}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let r = app
        .post(
            "/api/v1/vendor/email-templates/preview",
            &m.a1.token,
            json!({"code": "new_message", "subject": "x", "body_html": "{% include \"x\" %}"}),
        )
        .await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "invalid_template"
    );

    let r = app
        .delete("/api/v1/vendor/email-templates/new_message/en", &m.a1.token)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let fr: Value = app
        .post(
            "/api/v1/vendor/email-templates/preview",
            &m.a1.token,
            json!({"code": "new_message", "language": "fr"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fr["layer"], "platform");
}

#[tokio::test]
async fn edited_default_templates_survive_a_restart() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let list: Value = app
        .get(
            "/api/v1/admin/email-templates?code=new_message&language=en",
            &admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut template = list["templates"][0].clone();
    let id = template["id"].as_i64().unwrap();
    template["subject"] = json!("Edited: {{ conversation_subject }}");
    for key in ["id", "created_at", "updated_at"] {
        template.as_object_mut().unwrap().remove(key);
    }
    let r = app
        .client
        .put(app.url(&format!("/api/v1/admin/email-templates/{id}")))
        .bearer_auth(&admin.token)
        .json(&template)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let app = app.restart().await;
    let subject = app
        .state
        .db
        .read(|c| Ok::<String, parley::error::AppError>(c.query_row("SELECT subject FROM email_templates WHERE code = 'new_message' AND language = 'en'", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(subject, "Edited: {{ conversation_subject }}");
}

#[tokio::test]
async fn email_logs_are_filtered_and_scoped_and_failed_emails_can_be_retried() {
    let app = spawn_app_with(|s| {
        // A relay that refuses, with a single attempt: the email fails at once.
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = crate::helpers::free_port();
        s.email.smtp_security = parley::config::SmtpSecurity::None;
        s.email.max_attempts = 1;
    })
    .await;
    let m = app.marketplace().await;
    app.vendor_conversation(&m.a1, &m.ca, "Logs").await;
    app.vendor_conversation(&m.b1, &m.cb, "Other store").await;
    app.deliver_emails().await;
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'failed'",
        vec![],
        2,
    )
    .await;

    let all: Value = app
        .get(
            "/api/v1/admin/email-logs?template_code=new_message&status=failed",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 2);
    let by_store: Value = app
        .get(
            &format!(
                "/api/v1/admin/email-logs?store_id={}&template_code=new_message",
                m.store_b
            ),
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_store["total"], 1);
    let by_recipient: Value = app
        .get(
            "/api/v1/admin/email-logs?recipient=ca%40example.test&template_code=new_message",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_recipient["total"], 1);
    let future: Value = app
        .get(
            "/api/v1/admin/email-logs?since=2999-01-01T00:00:00Z",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["total"], 0);
    let vendor: Value = app
        .get(
            "/api/v1/vendor/email-logs?template_code=new_message",
            &m.a1.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(vendor["total"], 1);
    assert_eq!(vendor["logs"][0]["recipient_email"], "ca@example.test");
    assert_error(
        app.get(
            &format!("/api/v1/vendor/email-logs?store_id={}", m.store_b),
            &m.a1.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/email-logs?status=lost", &m.admin.token)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let id = all["logs"][0]["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/email-logs/{id}/retry"),
            &m.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            "/api/v1/admin/email-logs/999999/retry",
            &m.admin.token,
            json!({}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let r = app
        .post(
            &format!("/api/v1/vendor/email-logs/{id}/retry"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
}

/// A real SMTP server (mailin) with a recipient policy: addresses starting with
/// "bounce" get 550 (mailbox unavailable: a hard bounce), with "busy" 451 (try again later);
/// everyone else is accepted.
#[derive(Clone)]
struct Policy;

impl mailin::Handler for Policy {
    fn rcpt(&mut self, to: &str) -> mailin::Response {
        if to.starts_with("bounce") {
            mailin::Response::custom(550, "5.1.1 No such user here".into())
        } else if to.starts_with("busy") {
            mailin::Response::custom(451, "4.3.0 Mailbox busy, try again later".into())
        } else {
            mailin::response::OK
        }
    }
}

struct PolicyServer {
    port: u16,
}

impl PolicyServer {
    async fn start() -> PolicyServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(crate::helpers::serve_smtp(listener, Policy));
        PolicyServer { port }
    }
}

#[tokio::test]
async fn a_hard_bounce_fails_at_once_and_stops_mail_to_that_address_while_4xx_is_retried() {
    let server = PolicyServer::start().await;
    let app = spawn_app_with(|s| {
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = server.port;
        s.email.smtp_security = parley::config::SmtpSecurity::None;
    })
    .await;
    let m = app.marketplace().await;
    // Created by staff, so no welcome email races the notifications below.
    let customer = |email: &'static str| {
        let app = &app;
        let token = m.a1.token.clone();
        async move {
            let r = app
                .post(
                    "/api/v1/vendor/customers",
                    &token,
                    json!({"email": email, "full_name": "R"}),
                )
                .await;
            Party {
                area: "shop",
                token: String::new(),
                id: r.json::<Value>().await.unwrap()["id"].as_i64().unwrap(),
            }
        }
    };
    let bouncer = customer("bounce@example.test").await;
    let busy = customer("busy@example.test").await;
    let first = app.vendor_conversation(&m.a1, &bouncer, "Bounce").await;
    app.vendor_conversation(&m.a1, &busy, "Busy").await;
    app.deliver_emails().await;

    assert_count(&app, "SELECT count(*) FROM email_logs WHERE recipient_email = 'bounce@example.test' AND template_code = 'new_message' AND status = 'bounced' AND retry_count = 1", vec![], 1).await;
    let error = app
        .state
        .db
        .read(|c| Ok::<String, parley::error::AppError>(c.query_row("SELECT error_message FROM email_logs WHERE recipient_email = 'bounce@example.test' AND template_code = 'new_message'", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert!(error.contains("No such user"), "{error}");
    assert_count(&app, "SELECT count(*) FROM email_logs WHERE recipient_email = 'busy@example.test' AND template_code = 'new_message' AND status = 'pending' AND retry_count >= 1", vec![], 1).await;

    // No more mail to the bounced address from this store.
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM email_suppressions WHERE email = 'bounce@example.test'",
            vec![]
        )
        .await,
        1
    );
    app.post(
        &format!("/api/v1/vendor/messages/{first}/close"),
        &m.a1.token,
        json!({}),
    )
    .await;
    assert_eq!(
        app.query_i64("SELECT count(*) FROM email_logs WHERE recipient_email = 'bounce@example.test' AND template_code = 'conversation_closed'", vec![]).await,
        0
    );
}

#[tokio::test]
async fn an_interrupted_notification_is_not_sent_twice_but_an_account_email_is() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    // Let the welcome emails of the cast go out first.
    app.deliver_emails().await;
    mail.received();
    // Two rows as a crash would leave them: an attempt started, its lease long expired.
    app.state
        .db
        .write(|tx| {
            for (code, at_most_once) in [("new_message", true), ("signup_welcome", false)] {
                tx.execute(
                    "INSERT INTO email_logs (template_code, recipient_email, recipient_name, subject, body_html, body_text,
                            from_email, status, next_attempt_at, locked_until, attempt_started_at, message_id, extra_data, language,
                            at_most_once)
                     VALUES (?1, 'crash@example.test', 'C', 'Subject ' || ?1, '<p>x</p>', 'x', 'noreply@parley.invalid',
                             'pending', '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00:00',
                             '2000-01-01 00:00:00+00:00', '<crash-' || ?1 || '@parley.invalid>', '{}', 'en', ?2)",
                    rusqlite::params![code, at_most_once],
                )?;
            }
            Ok::<_, parley::error::AppError>(())
        })
        .await
        .unwrap();
    let resent = mail
        .delivered_to(&app, "crash@example.test", "Subject")
        .await;
    assert_eq!(resent["subject"], "Subject signup_welcome");
    assert_count(&app, "SELECT count(*) FROM email_logs WHERE recipient_email = 'crash@example.test' AND template_code = 'new_message' AND status = 'failed' AND error_message LIKE 'interrupted%'", vec![], 1).await;
    app.deliver_pending_emails().await;
    assert!(
        mail.received()
            .iter()
            .all(|e| e["subject"] != "Subject new_message")
    );
    let _ = m;
}

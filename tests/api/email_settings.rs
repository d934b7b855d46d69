use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    MailServer, TestApp, assert_count, assert_error, free_port, spawn_app, spawn_app_with,
};

const SENTINEL: &str = "S3NT1NEL-smtp-password-7f3a";

async fn put_settings(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.put("/api/v1/vendor/email-settings", token, body).await
}

#[tokio::test]
async fn store_settings_keep_secrets_write_only_and_sealed() {
    let app = spawn_app_with(|s| s.email.allow_private_smtp_hosts = true).await;
    let m = app.marketplace().await;
    let defaults: Value = app
        .get("/api/v1/vendor/email-settings", &m.a1.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(defaults["is_configured"], false);
    assert_eq!(defaults["provider"], "smtp");
    let r = put_settings(&app, &m.a1.token, json!({"smtp_host": "mail.example.test"})).await;
    assert_eq!(
        assert_error(r, StatusCode::BAD_REQUEST).await,
        "validation_error",
        "the sender comes first"
    );

    let r = put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "shop@a.example.test", "from_name": "Shop A", "smtp_host": "127.0.0.1", "smtp_port": 2525,
               "smtp_username": "shop-a", "smtp_password": SENTINEL, "smtp_use_tls": false}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains(SENTINEL), "{text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["smtp_password_set"], true);
    assert_eq!(view["is_configured"], true);
    assert_eq!(view["is_verified"], false);
    let again = app
        .get("/api/v1/vendor/email-settings", &m.a1.token)
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains(SENTINEL));

    // At rest the password is sealed: no plaintext in the database file or its WAL.
    let mut stored = Vec::new();
    for name in ["parley.db", "parley.db-wal"] {
        stored.extend(std::fs::read(app.data_dir.path().join(name)).unwrap_or_default());
    }
    assert!(
        !stored
            .windows(SENTINEL.len())
            .any(|w| w == SENTINEL.as_bytes()),
        "plaintext secret on disk"
    );
    // Other stores see only their own (empty) settings.
    let b: Value = app
        .get("/api/v1/vendor/email-settings", &m.b1.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["smtp_password_set"], false);
    // An empty string clears a secret.
    let cleared: Value = put_settings(&app, &m.a1.token, json!({"smtp_password": ""}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["smtp_password_set"], false);
}

#[tokio::test]
async fn internal_smtp_hosts_and_api_providers_below_business_are_refused() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    for host in [
        "127.0.0.1",
        "localhost",
        "169.254.169.254",
        "10.0.0.8",
        "0x7f000001",
        "::ffff:127.0.0.1",
    ] {
        let r = put_settings(
            &app,
            &m.a1.token,
            json!({"from_email": "s@a.example.test", "from_name": "A", "smtp_host": host}),
        )
        .await;
        assert_eq!(
            assert_error(r, StatusCode::BAD_REQUEST).await,
            "smtp_host_refused",
            "{host}"
        );
    }
    // Store B is on the essential tier.
    let r = put_settings(
        &app,
        &m.b1.token,
        json!({"from_email": "s@b.example.test", "from_name": "B", "provider": "sendgrid"}),
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::FORBIDDEN).await,
        "tier_required"
    );
    let r = put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "s@a.example.test", "from_name": "A", "provider": "mailgun"}),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "business stores may use an API provider"
    );
    let r = put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "s@a.example.test", "from_name": "A", "provider": "pigeon"}),
    )
    .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    let r = put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "s@a.example.test", "from_name": "A\r\nBcc: x@y.z"}),
    )
    .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM store_email_settings WHERE store_id = ?1",
            vec![m.store_b]
        )
        .await,
        0
    );
    let r = app.get("/api/v1/vendor/email-settings", &m.ca.token).await;
    assert_error(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_verified_store_sends_through_its_own_relay_and_falls_back_when_unverified() {
    let mut platform = MailServer::start().await;
    let mut store_relay = MailServer::start().await;
    let app = spawn_app_with(|s| {
        platform.configure(s);
        s.email.allow_private_smtp_hosts = true;
    })
    .await;
    let m = app.marketplace().await;
    let r = put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "shop@a.example.test", "from_name": "Shop A", "reply_to_email": "help@a.example.test",
               "smtp_host": "127.0.0.1", "smtp_port": store_relay.port, "smtp_use_tls": false}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let verified: Value = app
        .post(
            "/api/v1/vendor/email-settings/verify",
            &m.a1.token,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        verified,
        json!({"is_verified": true, "verification_error": null})
    );
    let test = store_relay.next();
    assert_eq!(test["envelope_recipients"][0], "a1@example.test");
    let view: Value = app
        .get("/api/v1/vendor/email-settings", &m.a1.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(view["last_verified_at"].is_string());

    app.vendor_conversation(&m.a1, &m.ca, "Own relay").await;
    let email = store_relay
        .delivered_to(&app, "ca@example.test", "New message: Own relay")
        .await;
    assert_eq!(email["envelope_from"], "shop@a.example.test");
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'sent'",
        vec![],
        1,
    )
    .await;

    // Changing how mail leaves needs a new verification; meanwhile the platform sends.
    let changed: Value = put_settings(&app, &m.a1.token, json!({"smtp_port": free_port()}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["is_verified"], false);
    app.vendor_conversation(&m.a1, &m.ca2, "Platform again")
        .await;
    let email = platform
        .delivered_to(&app, "ca2@example.test", "New message: Platform again")
        .await;
    assert_eq!(email["envelope_from"], "noreply@parley.invalid");
}

#[tokio::test]
async fn a_failed_verification_is_recorded_and_raises_one_admin_alert() {
    let app = spawn_app_with(|s| s.email.allow_private_smtp_hosts = true).await;
    let m = app.marketplace().await;
    put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "shop@a.example.test", "from_name": "Shop A", "smtp_host": "127.0.0.1", "smtp_port": free_port(),
               "smtp_use_tls": false, "smtp_password": SENTINEL}),
    )
    .await;
    for _ in 0..2 {
        let r: Value = app
            .post(
                "/api/v1/vendor/email-settings/verify",
                &m.a1.token,
                json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["is_verified"], false);
        let error = r["verification_error"].as_str().unwrap();
        assert!(error.contains("could not reach"), "{error}");
        assert!(!error.contains(SENTINEL));
    }
    let alerts: Value = app
        .get(
            "/api/v1/admin/notifications?type=store_issue",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["total"], 1, "one open alert per cause: {alerts}");
    assert_eq!(
        alerts["notifications"][0]["notification_metadata"]["occurrences"],
        2
    );
    let count: Value = app
        .get("/api/v1/admin/notifications/unread-count", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count["unread_count"], 1);
    let id = alerts["notifications"][0]["id"].as_i64().unwrap();
    let r = app
        .put(
            &format!("/api/v1/admin/notifications/{id}/read"),
            &m.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let count: Value = app
        .get("/api/v1/admin/notifications/unread-count", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count["unread_count"], 0);
    // Once read, the same cause opens a new alert.
    app.post(
        "/api/v1/vendor/email-settings/verify",
        &m.a1.token,
        json!({}),
    )
    .await;
    let unread: Value = app
        .get("/api/v1/admin/notifications?is_read=false", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["total"], 1);
    let r: Value = app
        .put(
            "/api/v1/admin/notifications/read-all",
            &m.admin.token,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["marked_read"], 1);
    assert_error(
        app.put(
            "/api/v1/admin/notifications/99999/read",
            &m.admin.token,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/notifications", &m.a1.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn emails_that_exhaust_their_retries_raise_one_alert() {
    let app = spawn_app_with(|s| {
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = free_port();
        s.email.smtp_security = parley::config::SmtpSecurity::None;
        s.email.max_attempts = 1;
    })
    .await;
    let m = app.marketplace().await;
    app.vendor_conversation(&m.a1, &m.ca, "One").await;
    app.vendor_conversation(&m.a1, &m.ca2, "Two").await;
    app.deliver_emails().await;
    assert_count(
        &app,
        "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'failed'",
        vec![],
        2,
    )
    .await;
    let alerts: Value = app
        .get(
            "/api/v1/admin/notifications?type=system_alert",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["total"], 1, "{alerts}");
    assert_eq!(alerts["notifications"][0]["title"], "Emails are failing");
    assert_eq!(alerts["notifications"][0]["action_required"], true);
}

fn parley_cli(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .env("PARLEY_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_wrong_or_missing_key_stops_the_start_and_rotation_reseals_everything() {
    let app = spawn_app_with(|s| s.email.allow_private_smtp_hosts = true).await;
    let settings = app.settings();
    let m = app.marketplace().await;
    let r = put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "shop@a.example.test", "from_name": "A", "smtp_host": "127.0.0.1", "smtp_password": SENTINEL}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop.stop().await;
    let key_path = app.data_dir.path().join("secret.key");
    let original = std::fs::read(&key_path).unwrap();

    // A different key: refused, nothing replaced.
    std::fs::write(&key_path, [7u8; 32]).unwrap();
    let err = parley::Application::build(settings.clone())
        .await
        .err()
        .expect("a wrong key stops the start");
    assert!(format!("{err:#}").contains("does not match"), "{err:#}");
    assert_eq!(std::fs::read(&key_path).unwrap(), vec![7u8; 32]);
    // A missing key with sealed credentials: refused, no new key written.
    std::fs::remove_file(&key_path).unwrap();
    let err = parley::Application::build(settings.clone())
        .await
        .err()
        .expect("a missing key stops the start");
    assert!(format!("{err:#}").contains("missing"), "{err:#}");
    assert!(!key_path.exists());
    std::fs::write(&key_path, &original).unwrap();

    let out = parley_cli(&[
        "rotate-key".as_ref(),
        "--data-dir".as_ref(),
        app.data_dir.path().as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 credentials re-sealed"));
    let rotated = std::fs::read(&key_path).unwrap();
    assert_ne!(rotated, original);
    // The new key opens the credential; the old one does not.
    let key = parley::crypto::SecretKey::from_bytes(rotated.try_into().unwrap());
    let old = parley::crypto::SecretKey::from_bytes(original.try_into().unwrap());
    let conn = rusqlite::Connection::open(app.data_dir.path().join("parley.db")).unwrap();
    let (store_id, blob): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT store_id, smtp_password FROM store_email_settings",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let aad = parley::crypto::credential_aad("smtp_password", store_id);
    assert_eq!(key.open(&blob, &aad).unwrap(), SENTINEL);
    assert!(old.open(&blob, &aad).is_err());
    // And the server starts on the rotated key.
    parley::Application::build(settings)
        .await
        .expect("starts with the rotated key");
}

#[tokio::test]
async fn the_sentinel_secret_never_reaches_an_api_answer_or_the_email_log() {
    let app = spawn_app_with(|s| s.email.allow_private_smtp_hosts = true).await;
    let m = app.marketplace().await;
    put_settings(
        &app,
        &m.a1.token,
        json!({"from_email": "shop@a.example.test", "from_name": "A", "smtp_host": "127.0.0.1", "smtp_port": free_port(),
               "smtp_username": "user", "smtp_password": SENTINEL, "smtp_use_tls": false}),
    )
    .await;
    app.post(
        "/api/v1/vendor/email-settings/verify",
        &m.a1.token,
        json!({}),
    )
    .await;
    for path in [
        "/api/v1/vendor/email-settings",
        "/api/v1/vendor/email-logs",
        "/api/v1/vendor/email-templates",
    ] {
        let body = app.get(path, &m.a1.token).await.text().await.unwrap();
        assert!(!body.contains(SENTINEL), "{path}");
    }
    for path in ["/api/v1/admin/notifications", "/api/v1/admin/email-logs"] {
        let body = app.get(path, &m.admin.token).await.text().await.unwrap();
        assert!(!body.contains(SENTINEL), "{path}");
    }
    let leaked = app
        .query_i64(
            "SELECT count(*) FROM email_logs WHERE instr(coalesce(error_message, '') || coalesce(extra_data, '') || coalesce(body_text, ''), 'S3NT1NEL') > 0",
            vec![],
        )
        .await;
    assert_eq!(leaked, 0);
}

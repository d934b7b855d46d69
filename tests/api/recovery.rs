//! Local passwords and what users expect around them: a forgotten password reset by an emailed
//! single-use link (over a real SMTP server), and, when the platform asks for it, new customers
//! confirming their address before they can sign in.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{MailServer, PASSWORD, TestApp, assert_error, spawn_app_with};

async fn mail_app() -> (TestApp, MailServer) {
    let mail = MailServer::start().await;
    let app = spawn_app_with(|s| mail.configure(s)).await;
    (app, mail)
}

/// The link in an email's text that starts with `prefix`.
fn link(email: &Value, prefix: &str) -> String {
    let text = email["text"].as_str().unwrap();
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
        .to_string()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_through_the_emailed_link() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    let base = app.settings().server.public_url;

    // Unknown and known addresses get the same answer; only the known one gets a link.
    for email in ["nobody@example.test", "ca@example.test"] {
        let r = app
            .post_anon(
                "/api/v1/shop/auth/forgot-password",
                json!({"email": email, "store_code": "shop-a"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let email = mail.delivered_to(&app, "ca@example.test", "Reset").await;
    assert!(
        mail.received().is_empty(),
        "nothing for the unknown address"
    );
    let url = link(&email, &format!("{base}/shop/reset-password?"));
    assert!(url.contains("store=shop-a"), "{url}");
    let token = token_of(&url);

    // The stored copy of the email and its variables do not keep the link.
    let stored = app
        .query_i64(
            "SELECT count(*) FROM email_logs WHERE template_code = 'password_reset'
               AND instr(body_text, '[link removed]') > 0 AND instr(extra_data, 'reset_url') = 0",
            vec![],
        )
        .await;
    assert_eq!(stored, 1);

    // A token of the shop is not one of the store area's; a short password is refused and
    // spends nothing.
    let r = app
        .post_anon(
            "/api/v1/vendor/auth/reset-password",
            json!({"token": token, "new_password": "a-new-password"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    let mail_again = app
        .post_anon(
            "/api/v1/shop/auth/forgot-password",
            json!({"email": "ca@example.test", "store_code": "shop-a"}),
        )
        .await;
    assert_eq!(mail_again.status(), StatusCode::ACCEPTED);
    let email = mail.delivered_to(&app, "ca@example.test", "Reset").await;
    let token = token_of(&link(&email, &format!("{base}/shop/reset-password?")));
    let r = app
        .post_anon(
            "/api/v1/shop/auth/reset-password",
            json!({"token": token, "new_password": "short"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;

    // The new password works, the old one and every session end, the link works once.
    let r = app
        .post_anon(
            "/api/v1/shop/auth/reset-password",
            json!({"token": token, "new_password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/shop/auth/me", &m.ca.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let login = |password: &'static str| {
        app.post_anon(
            "/api/v1/shop/auth/login",
            json!({"store_code": "shop-a", "email": "ca@example.test", "password": password}),
        )
    };
    assert_eq!(login(PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login("a-brand-new-password").await.status(), StatusCode::OK);
    let again = app
        .post_anon(
            "/api/v1/shop/auth/reset-password",
            json!({"token": token, "new_password": "yet-another-password"}),
        )
        .await;
    assert_error(again, StatusCode::BAD_REQUEST).await;

    // An expired link is refused.
    app.post_anon(
        "/api/v1/vendor/auth/forgot-password",
        json!({"email": "a1@example.test"}),
    )
    .await;
    let email = mail.delivered_to(&app, "a1@example.test", "Reset").await;
    let token = token_of(&link(&email, &format!("{base}/vendor/reset-password?")));
    app.execute("UPDATE account_tokens SET expires_at = '2000-01-01 00:00:00+00:00'")
        .await;
    let r = app
        .post_anon(
            "/api/v1/vendor/auth/reset-password",
            json!({"token": token, "new_password": "a-brand-new-password"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;

    // Shop resets name their store; addresses must be addresses.
    for body in [
        json!({"email": "ca@example.test"}),
        json!({"email": "not-an-address", "store_code": "shop-a"}),
    ] {
        let r = app
            .post_anon("/api/v1/shop/auth/forgot-password", body)
            .await;
        assert_error(r, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn the_pages_reset_a_password_without_scripts() {
    let (app, mut mail) = mail_app().await;
    app.marketplace().await;
    let base = app.settings().server.public_url;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .get(app.url("/vendor/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("href=\"/vendor/forgot-password\""));
    let sent = client
        .post(app.url("/vendor/forgot-password"))
        .form(&[("email", "a2@example.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.unwrap().contains("is on its way"));
    let email = mail.delivered_to(&app, "a2@example.test", "Reset").await;
    let url = link(&email, &format!("{base}/vendor/reset-password?"));
    // Opening the link spends nothing (mail scanners open links): it shows the form.
    let path = url.trim_start_matches(&base).to_string();
    for _ in 0..2 {
        let form = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        assert!(form.text().await.unwrap().contains("name=\"new_password\""));
    }
    let token = token_of(&url);
    let done = client
        .post(app.url("/vendor/reset-password"))
        .form(&[
            ("token", token.as_str()),
            ("new_password", "a-page-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"],
        "/vendor/login?done=password-changed"
    );
    let page = client
        .get(app.url("/vendor/login?done=password-changed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your password is changed"));
    let signed_in = client
        .post(app.url("/vendor/login"))
        .form(&[
            ("email", "a2@example.test"),
            ("password", "a-page-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    // The spent link says so.
    let spent = client
        .post(app.url("/vendor/reset-password"))
        .form(&[
            ("token", token.as_str()),
            ("new_password", "another-one-here"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST);
    assert!(
        spent
            .text()
            .await
            .unwrap()
            .contains("invalid or has expired")
    );
}

#[tokio::test]
async fn with_the_email_check_on_new_customers_confirm_their_address_first() {
    let (app, mut mail) = mail_app().await;
    let m = app.marketplace().await;
    let base = app.settings().server.public_url;
    // Off by default: registration signs in at once (the seed's behaviour).
    let r = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "shop-a", "email": "early@example.test", "password": PASSWORD,
                   "full_name": "Early"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .put(
            "/api/v1/admin/settings/require_email_verification",
            &m.admin.token,
            json!({"value": "true"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .put(
            "/api/v1/admin/settings/require_email_verification",
            &m.admin.token,
            json!({"value": "maybe"}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;

    let r = app
        .post_anon(
            "/api/v1/shop/auth/register",
            json!({"store_code": "shop-a", "email": "greta@example.test", "password": PASSWORD,
                   "full_name": "Greta", "language": "de"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["verification_required"], true);
    assert!(body.get("access_token").is_none());
    let login = || {
        app.post_anon(
            "/api/v1/shop/auth/login",
            json!({"store_code": "shop-a", "email": "greta@example.test", "password": PASSWORD}),
        )
    };
    assert_eq!(
        assert_error(login().await, StatusCode::FORBIDDEN).await,
        "email_not_verified"
    );
    // A wrong password still hears only that it is wrong.
    let wrong = app
        .post_anon(
            "/api/v1/shop/auth/login",
            json!({"store_code": "shop-a", "email": "greta@example.test", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let email = mail
        .delivered_to(&app, "greta@example.test", "E-Mail")
        .await;
    let url = link(&email, &format!("{base}/shop/verify-email?"));
    let token = token_of(&url);
    let r = app
        .post_anon("/api/v1/shop/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["customer"]["email"], "greta@example.test");
    assert!(body["access_token"].is_string());
    assert_eq!(login().await.status(), StatusCode::OK);
    let twice = app
        .post_anon("/api/v1/shop/auth/verify-email", json!({"token": token}))
        .await;
    assert_error(twice, StatusCode::BAD_REQUEST).await;
}

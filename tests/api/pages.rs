//! The server-rendered pages over plain HTTP: sign-in, redirects, escaping, CSP.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

fn no_redirects() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn pages_need_a_session_and_the_form_login_gives_one() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app
        .vendor_conversation(&m.a1, &m.ca, "<script>alert(1)</script> order")
        .await;
    let client = no_redirects();

    let r = client
        .get(app.url("/shop/account/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/shop/login");

    let login = client
        .get(app.url("/shop/login?store=shop-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(login.text().await.unwrap().contains("value=\"shop-a\""));

    let wrong = client
        .post(app.url("/shop/login"))
        .form(&[
            ("store_code", "shop-a"),
            ("email", "ca@example.test"),
            ("password", "not-the-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The email or the password is wrong.")
    );

    let ok = client
        .post(app.url("/shop/login"))
        .form(&[
            ("store_code", "shop-a"),
            ("email", "ca@example.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/shop/account/messages");
    assert!(
        ok.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );

    let page = client
        .get(app.url(&format!("/shop/account/messages/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; order")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt; order")
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("name=\"csrf-token\" content=\""));
    // The cookie session cannot post without the page's CSRF token.
    let r = client
        .post(app.url(&format!("/api/v1/shop/messages/{id}/messages")))
        .json(&json!({"content": "forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Another customer's thread is not there.
    let other = app.vendor_conversation(&m.a1, &m.ca2, "Private").await;
    let r = client
        .get(app.url(&format!("/shop/account/messages/{other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .get(app.url("/assets/messages.js"))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
}

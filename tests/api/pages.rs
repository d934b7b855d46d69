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

/// A client signed in to `area`'s pages through the login form.
pub(crate) async fn signed_in(
    app: &crate::helpers::TestApp,
    area: &str,
    email: &str,
) -> reqwest::Client {
    let client = no_redirects();
    let r = client
        .post(app.url(&format!("/{area}/login")))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{area} sign-in");
    client
}

pub(crate) async fn page(
    client: &reqwest::Client,
    app: &crate::helpers::TestApp,
    path: &str,
) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn every_admin_and_store_page_renders_escapes_and_pages_its_tables() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    for i in 0..55 {
        let r = app
            .post(
                "/api/v1/admin/stores",
                &m.admin.token,
                json!({"code": format!("s{i:02}"), "name": format!("<b>Store {i}</b>"), "tier": "essential"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let admin = signed_in(&app, "admin", "root@example.test").await;
    let stores = page(&admin, &app, "/admin/stores").await;
    assert!(stores.contains("1–50 of 57 stores"), "{stores}");
    assert!(stores.contains("href=\"?skip=50\""));
    assert!(stores.contains("&lt;b&gt;Store 0&lt;/b&gt;") && !stores.contains("<b>Store"));
    let rest = page(&admin, &app, "/admin/stores?skip=50").await;
    assert!(rest.contains("51–57 of 57 stores") && rest.contains("href=\"?\""));

    let logs = page(
        &admin,
        &app,
        "/admin/email-logs?status=pending&recipient=ca%40example.test",
    )
    .await;
    assert!(logs.contains("1–1 of 1 email<"), "{logs}");
    assert!(logs.contains("<option value=\"pending\" selected>"));
    assert!(logs.contains("value=\"ca@example.test\""));
    for path in [
        "/admin/email-templates",
        "/admin/email-templates/1",
        "/admin/notifications",
        "/admin/messages",
    ] {
        page(&admin, &app, path).await;
    }
    let missing = admin
        .get(app.url("/admin/email-templates/999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let vendor = signed_in(&app, "vendor", "a1@example.test").await;
    for path in [
        "/vendor/email-templates",
        "/vendor/email-templates/new_message/en",
        "/vendor/email-settings",
        "/vendor/email-logs",
        "/vendor/messages",
    ] {
        page(&vendor, &app, path).await;
    }
    // A store sees its own emails only, and the platform's own templates are not offered.
    let own = page(&vendor, &app, "/vendor/email-logs").await;
    assert!(
        own.contains("ca@example.test") && !own.contains("cb@example.test"),
        "{own}"
    );
    let platform_only = vendor
        .get(app.url("/vendor/email-templates/password_reset/en"))
        .send()
        .await
        .unwrap();
    assert_eq!(platform_only.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn browsers_get_errors_as_pages_and_api_clients_as_json() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let other_store = app.vendor_conversation(&m.b1, &m.cb, "Not yours").await;
    let vendor = signed_in(&app, "vendor", "a1@example.test").await;
    let page = vendor
        .get(app.url(&format!("/vendor/messages/{other_store}")))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<h1>Not found</h1>") && html.contains("href=\"/vendor/messages\""),
        "{html}"
    );
    assert!(!html.contains("Not yours"));
    // The same address without asking for HTML, and any API route, answer in the JSON shape.
    let api = vendor
        .get(app.url(&format!("/vendor/messages/{other_store}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::assert_error(api, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let api = vendor
        .get(app.url(&format!("/api/v1/vendor/messages/{other_store}")))
        .header("Accept", "text/html")
        .bearer_auth(&m.a1.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::assert_error(api, StatusCode::NOT_FOUND).await,
        "not_found"
    );

    let icon = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn an_empty_inbox_says_what_to_do_and_a_search_names_its_term() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let vendor = signed_in(&app, "vendor", "a1@example.test").await;
    let empty = page(&vendor, &app, "/vendor/messages").await;
    assert!(
        empty.contains("No conversations yet. Start one with “New conversation”."),
        "{empty}"
    );
    app.vendor_conversation(&m.a1, &m.ca, "Lamp order").await;
    let inbox = page(&vendor, &app, "/vendor/messages").await;
    assert!(
        inbox.contains("<time class=\"when\" datetime=\""),
        "the list shows when"
    );
    let none = page(&vendor, &app, "/vendor/messages?search=%3Cb%3Ezebra").await;
    assert!(
        none.contains("No conversations match “&lt;b&gt;zebra”."),
        "{none}"
    );
    assert!(none.contains("Clear the search"));
}

#[tokio::test]
async fn a_page_with_its_scripts_and_styles_stays_under_60_kb() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Weight").await;
    let vendor = signed_in(&app, "vendor", "a1@example.test").await;
    for path in [
        format!("/vendor/messages/{id}"),
        "/vendor/email-settings".into(),
    ] {
        let html = page(&vendor, &app, &path).await;
        // Every asset the page names, and the modules those import.
        let mut queue: Vec<String> = html
            .split(['"', '\''])
            .filter(|s| s.starts_with("/assets/") && (s.ends_with(".js") || s.ends_with(".css")))
            .map(str::to_string)
            .collect();
        let (mut seen, mut bytes) = (std::collections::HashSet::new(), 0);
        while let Some(asset) = queue.pop() {
            if !seen.insert(asset.clone()) {
                continue;
            }
            let body = page(&vendor, &app, &asset).await;
            bytes += body.len();
            for import in body
                .split('\'')
                .filter(|s| s.starts_with("./") && s.ends_with(".js"))
            {
                queue.push(format!("/assets/{}", &import[2..]));
            }
        }
        assert!(seen.len() >= 3, "{path}: {seen:?}");
        assert!(
            bytes < 60 * 1024,
            "{path}: {bytes} bytes of scripts and styles"
        );
    }
}

#[tokio::test]
async fn pages_speak_the_accounts_language_else_the_browsers() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let anon = no_redirects();
    let german = |path: &str| {
        anon.get(app.url(path))
            .header("Accept-Language", "fr-CH, de-AT;q=0.9, en;q=0.5")
    };

    let login = german("/shop/login")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        login.contains("<html lang=\"de\" class=\"no-js\">") && login.contains("Anmeldung im Shop"),
        "{login}"
    );
    let english = page(&anon, &app, "/shop/login").await;
    assert!(
        english.contains("<html lang=\"en\" class=\"no-js\">")
            && english.contains("Sign in to the shop")
    );
    let missing = german("/admin/nothing-here")
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Nicht gefunden"));

    // The account's language wins over the browser's once someone is signed in.
    let vendor = signed_in(&app, "vendor", "a1@example.test").await;
    let r = vendor
        .get(app.url("/vendor/customers"))
        .header("Accept-Language", "de")
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(
        text.contains("<html lang=\"en\" class=\"no-js\">") && text.contains("Add a customer"),
        "{text}"
    );
    let r = app
        .patch(
            "/api/v1/vendor/auth/me",
            &m.a1.token,
            json!({"language": "de"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = page(&vendor, &app, "/vendor/customers").await;
    assert!(
        text.contains("<html lang=\"de\" class=\"no-js\">") && text.contains("Kunden anlegen"),
        "{text}"
    );
    // The numbers and the scripts' words come in German as well.
    assert!(
        text.contains("1–2 von 2 Kunden") || text.contains("von 2 Kunden"),
        "{text}"
    );
    assert!(
        text.contains("&quot;seen&quot;:&quot;Gesehen&quot;"),
        "{text}"
    );

    // System messages are said in the reader's language too; the API keeps its English content
    // and gives the event's code.
    let id = app.vendor_conversation(&m.a1, &m.ca, "Order 1042").await;
    let r = app
        .post(
            &format!("/api/v1/vendor/messages/{id}/close"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert!(r.status().is_success());
    let thread = page(&vendor, &app, &format!("/vendor/messages/{id}")).await;
    assert!(
        thread.contains("hat die Unterhaltung geschlossen"),
        "{thread}"
    );
    assert!(
        thread.contains("<span class=\"preview\">Unterhaltung geschlossen</span>"),
        "{thread}"
    );
    let detail: serde_json::Value = app
        .get(&format!("/api/v1/shop/messages/{id}"), &m.ca.token)
        .await
        .json()
        .await
        .unwrap();
    let system = detail["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(system["system_event"], "closed");
    assert!(
        system["content"]
            .as_str()
            .unwrap()
            .starts_with("Conversation closed by")
    );
}

/// The CSRF token a signed-in page carries for its forms.
fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf-token\" content=\"").unwrap() + 27;
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn without_scripts_the_thread_page_replies_and_closes_through_its_own_forms() {
    use reqwest::multipart::{Form, Part};
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "No scripts").await;
    let vendor = signed_in(&app, "vendor", "a1@example.test").await;
    let thread = page(&vendor, &app, &format!("/vendor/messages/{id}")).await;
    assert!(thread.contains(&format!("action=\"/vendor/messages/{id}/reply\"")));
    let csrf = csrf_of(&thread);
    let reply = |token: &str, text: &str| {
        let form = Form::new()
            .text("csrf_token", token.to_string())
            .text("content", text.to_string())
            .part(
                "files",
                Part::bytes(b"a plain note".to_vec())
                    .file_name("note.txt")
                    .mime_str("text/plain")
                    .unwrap(),
            );
        vendor
            .post(app.url(&format!("/vendor/messages/{id}/reply")))
            .multipart(form)
            .send()
    };

    // A forged form (no token, or another one) sends nothing and says why.
    for token in ["", "not-the-token"] {
        let r = reply(token, "forged").await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()["location"],
            format!("/vendor/messages/{id}?problem=csrf_failed").as_str()
        );
    }
    let r = reply(&csrf, "Sent by the form").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/vendor/messages/{id}").as_str()
    );
    let detail: serde_json::Value = app
        .get(&format!("/api/v1/shop/messages/{id}"), &m.ca.token)
        .await
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Sent by the form") && !texts.contains(&"forged"),
        "{texts:?}"
    );
    let last = detail["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(last["attachments"][0]["original_filename"], "note.txt");

    // Close through the form; a reply to a closed conversation comes back with the reason.
    let forged = vendor
        .post(app.url(&format!("/vendor/messages/{id}/close")))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert!(
        forged.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("problem=csrf_failed")
    );
    let r = vendor
        .post(app.url(&format!("/vendor/messages/{id}/close")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("/vendor/messages/{id}").as_str()
    );
    let r = reply(&csrf, "too late").await.unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("/vendor/messages/{id}?problem=conversation_closed").as_str()
    );
    let shown = page(
        &vendor,
        &app,
        &format!("/vendor/messages/{id}?problem=conversation_closed"),
    )
    .await;
    assert!(shown.contains("This conversation is closed."), "{shown}");

    // Another store's conversation and a signed-out browser get nowhere.
    let other = app.vendor_conversation(&m.b1, &m.cb, "Store B's").await;
    let r = vendor
        .post(app.url(&format!("/vendor/messages/{other}/close")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("problem=not_found")
    );
    let r = no_redirects()
        .post(app.url(&format!("/vendor/messages/{id}/reopen")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/vendor/login");

    // Signing out through the header's form needs the token too.
    let forged = vendor
        .post(app.url("/vendor/logout"))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    page(&vendor, &app, "/vendor/messages").await;
    let r = vendor
        .post(app.url("/vendor/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/vendor/login");
    let after = vendor
        .get(app.url("/vendor/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.headers()["location"], "/vendor/login");
}

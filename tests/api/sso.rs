//! Single sign-on: the platform (played here by jsonwebtoken and fixture keys) signs a token, the
//! API and the pages turn it into a session, creating or updating the account; every way a token
//! can be wrong is refused, and each token works once.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with};

const ISSUER: &str = "https://shop.example.test";
const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The claims of a fresh token for `area`, valid for two minutes.
fn claims(area: &str, sub: &str, store: Option<&str>) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": ISSUER, "aud": "parley", "sub": sub, "iat": now, "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(), "area": area,
        "email": format!("{sub}@people.test"), "name": format!("Person {sub}"), "language": "de",
    });
    if let Some(store) = store {
        claims["store"] = json!(store);
    }
    claims
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn sso_app() -> TestApp {
    spawn_app_with(|s| {
        s.sso.issuer = ISSUER.into();
        s.sso.hs256_secret = parley::config::Secret(SECRET.into());
    })
    .await
}

async fn exchange(app: &TestApp, area: &str, token: &str) -> reqwest::Response {
    app.post_anon(
        &format!("/api/v1/{area}/auth/sso"),
        json!({ "token": token }),
    )
    .await
}

/// Gives store A the platform's id `st-a` (as provisioning would).
async fn store_known_as_st_a(app: &TestApp) {
    app.execute("UPDATE stores SET external_id = 'st-a' WHERE code = 'shop-a'")
        .await;
}

#[tokio::test]
async fn a_platform_token_signs_people_in_and_keeps_their_account_up_to_date() {
    let app = sso_app().await;
    let m = app.marketplace().await;
    store_known_as_st_a(&app).await;

    // A customer Parley has never seen: created from the token, signed in.
    let first = claims("shop", "c-100", Some("st-a"));
    let r = exchange(&app, "shop", &hs256(&first)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(body["customer"]["external_id"], "c-100");
    assert_eq!(body["customer"]["full_name"], "Person c-100");
    assert_eq!(body["customer"]["language"], "de");
    assert_eq!(body["customer"]["store_id"], m.store_a);
    let me = app.get("/api/v1/shop/auth/me", &token).await;
    assert_eq!(me.status(), StatusCode::OK);

    // The same token twice: refused.
    let again = exchange(&app, "shop", &hs256(&first)).await;
    assert_eq!(
        assert_error(again, StatusCode::UNAUTHORIZED).await,
        "unauthorized"
    );

    // The next sign-in brings the account up to date: same customer, new name.
    let mut renamed = claims("shop", "c-100", Some("st-a"));
    renamed["name"] = json!("Nora Neu");
    let body: Value = exchange(&app, "shop", &hs256(&renamed))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["customer"]["full_name"], "Nora Neu");
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM customers WHERE external_id = 'c-100'",
            vec![]
        )
        .await,
        1
    );

    // Staff and admins the same way; staff land in the token's store.
    let staff: Value = exchange(
        &app,
        "vendor",
        &hs256(&claims("vendor", "u-7", Some("st-a"))),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(staff["user"]["role"], "store");
    assert_eq!(staff["user"]["store_id"], m.store_a);
    let admin: Value = exchange(&app, "admin", &hs256(&claims("admin", "ops-1", None)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin["user"]["role"], "admin");
    assert_eq!(admin["user"]["store_id"], Value::Null);
    let staff_token = staff["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/vendor/messages", staff_token)
            .await
            .status(),
        StatusCode::OK
    );
    // An audit trail of what single sign-on created.
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM audit_log WHERE actor LIKE 'sso:%' AND action LIKE '%.created'",
            vec![]
        )
        .await,
        3
    );

    // Every way a token can be wrong.
    let now = chrono::Utc::now().timestamp();
    let mut cases: Vec<(&str, String)> = Vec::new();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("shop", "c-200", Some("st-a"));
        change(&mut c);
        c
    };
    cases.push((
        "expired",
        hs256(&with(&|c| {
            c["iat"] = json!(now - 400);
            c["exp"] = json!(now - 200);
        })),
    ));
    cases.push((
        "lives longer than 5 minutes",
        hs256(&with(&|c| c["exp"] = json!(now + 600))),
    ));
    cases.push((
        "issued in the future",
        hs256(&with(&|c| {
            c["iat"] = json!(now + 200);
            c["exp"] = json!(now + 300);
        })),
    ));
    cases.push((
        "another issuer",
        hs256(&with(&|c| c["iss"] = json!("https://evil.test"))),
    ));
    cases.push((
        "another audience",
        hs256(&with(&|c| c["aud"] = json!("someone-else"))),
    ));
    cases.push((
        "no jti",
        hs256(&with(&|c| {
            c.as_object_mut().unwrap().remove("jti");
        })),
    ));
    cases.push((
        "another area",
        hs256(&with(&|c| c["area"] = json!("vendor"))),
    ));
    cases.push((
        "another secret",
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &with(&|_| {}),
            &EncodingKey::from_secret(b"not-the-shared-secret-not-the-shared").unwrap(),
        )
        .unwrap(),
    ));
    cases.push((
        "RS256 without a public key configured",
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &with(&|_| {}),
            &EncodingKey::from_rsa_pem(&std::fs::read(fixture("sso-rsa-private.pem")).unwrap())
                .unwrap(),
        )
        .unwrap(),
    ));
    // alg "none": a header and claims without a signature.
    let unsigned = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(with(&|_| {}).to_string())
        )
    };
    cases.push(("alg none", unsigned));
    cases.push(("not a JWT", "garbage".into()));
    for (case, token) in cases {
        let r = exchange(&app, "shop", &token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{case}");
    }
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM customers WHERE external_id = 'c-200'",
            vec![]
        )
        .await,
        0,
        "no refused token made an account"
    );
    // A store the platform never provisioned, or a person it disabled, gets no session.
    let r = exchange(&app, "shop", &hs256(&claims("shop", "c-300", Some("st-x")))).await;
    assert!(r.status().is_client_error());
    let key = app.integration_key(&m.admin, &["provision"]).await.1;
    let r = app
        .client
        .put(app.url("/api/v1/integration/stores/st-a/customers/c-100"))
        .bearer_auth(&key)
        .json(&json!({"email": "c-100@people.test", "full_name": "Nora", "is_active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = exchange(&app, "shop", &hs256(&claims("shop", "c-100", Some("st-a")))).await;
    assert_error(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_browser_route_opens_a_cookie_session_and_returns_only_to_parley() {
    let app = sso_app().await;
    let m = app.marketplace().await;
    store_known_as_st_a(&app).await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Your order").await;
    app.execute("UPDATE customers SET external_id = 'c-a' WHERE email = 'ca@example.test'")
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let go = |token: String, return_to: &str| {
        let url = app.url(&format!(
            "/sso/shop?token={token}&return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        ));
        client.get(url).send()
    };
    let to = format!("/shop/account/messages/{id}");
    let r = go(hs256(&claims("shop", "c-a", Some("st-a"))), &to)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], to.as_str());
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert!(r.headers().get("set-cookie").is_some());
    // The existing customer (adopted by email before) sees their conversation.
    let page = client.get(app.url(&to)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Your order"));

    // return_to elsewhere: the area's messages instead.
    for elsewhere in ["https://evil.test/", "//evil.test/", "/\\evil.test"] {
        let r = go(hs256(&claims("shop", "c-a", Some("st-a"))), elsewhere)
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()["location"],
            "/shop/account/messages",
            "{elsewhere}"
        );
    }
    // A bad token: an error, no session.
    let fresh = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = fresh
        .get(app.url("/sso/shop?token=garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn eddsa_and_rs256_tokens_verify_with_the_platforms_public_key() {
    for (public, private, alg) in [
        (
            "sso-ed25519-public.pem",
            "sso-ed25519-private.pem",
            Algorithm::EdDSA,
        ),
        (
            "sso-rsa-public.pem",
            "sso-rsa-private.pem",
            Algorithm::RS256,
        ),
    ] {
        let app = spawn_app_with(|s| {
            s.sso.issuer = ISSUER.into();
            s.sso.public_key_file = Some(fixture(public));
        })
        .await;
        app.marketplace().await;
        store_known_as_st_a(&app).await;
        let pem = std::fs::read(fixture(private)).unwrap();
        let key = match alg {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
            _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(alg),
            &claims("vendor", "u-1", Some("st-a")),
            &key,
        )
        .unwrap();
        let r = exchange(&app, "vendor", &token).await;
        assert_eq!(r.status(), StatusCode::OK, "{alg:?}");
        // No shared secret here: HS256 is refused, even signed with the public key's bytes.
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("vendor", "u-2", Some("st-a")),
            &EncodingKey::from_secret(&std::fs::read(fixture(public)).unwrap()).unwrap(),
        )
        .unwrap();
        assert_error(
            exchange(&app, "vendor", &forged).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test]
async fn without_single_sign_on_set_up_there_is_none() {
    let app = spawn_app().await;
    let r = exchange(&app, "shop", &hs256(&claims("shop", "c-1", Some("st-a")))).await;
    assert_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_platforms_backend_opens_sessions_for_its_own_apps_with_the_sso_scope() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    store_known_as_st_a(&app).await;
    app.execute(
        "UPDATE customers SET external_id = 'c-a' WHERE email = 'ca@example.test';
         UPDATE users SET external_id = 'u-a1' WHERE email = 'a1@example.test';
         UPDATE users SET external_id = 'ops' WHERE email = 'root@example.test';",
    )
    .await;
    let (key_id, key) = app.integration_key(&m.admin, &["sso"]).await;
    let open = |body: Value, key: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/integration/sessions"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    for (body, area, who) in [
        (
            json!({"area": "shop", "external_id": "c-a", "store_external_id": "st-a"}),
            "shop",
            "customer",
        ),
        (
            json!({"area": "vendor", "external_id": "u-a1", "store_external_id": "st-a"}),
            "vendor",
            "user",
        ),
    ] {
        let r = open(body, key.clone()).await;
        assert_eq!(r.status(), StatusCode::OK, "{area}");
        let session: Value = r.json().await.unwrap();
        assert!(session[who]["id"].is_i64());
        let token = session["access_token"].as_str().unwrap();
        let me = app.get(&format!("/api/v1/{area}/auth/me"), token).await;
        assert_eq!(me.status(), StatusCode::OK, "{area}");
    }
    // Each recorded against the key.
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM audit_log WHERE action = 'session.created' AND actor = 'key:' || ?1",
            vec![key_id]
        )
        .await,
        2
    );
    // A key is not a person: no admin session, which could make more keys.
    let r = open(json!({"area": "admin", "external_id": "ops"}), key.clone()).await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    // Unknown people, a missing store, another store's person, a disabled one, a key without
    // the scope: no session.
    for body in [
        json!({"area": "shop", "external_id": "nobody", "store_external_id": "st-a"}),
        json!({"area": "shop", "external_id": "c-a"}),
        json!({"area": "vendor", "external_id": "u-a1", "store_external_id": "st-b"}),
        json!({"area": "admin", "external_id": "u-a1"}),
    ] {
        let r = open(body.clone(), key.clone()).await;
        assert!(r.status().is_client_error(), "{body}");
    }
    app.execute("UPDATE customers SET is_active = 0 WHERE external_id = 'c-a'")
        .await;
    let r = open(
        json!({"area": "shop", "external_id": "c-a", "store_external_id": "st-a"}),
        key.clone(),
    )
    .await;
    assert_error(r, StatusCode::UNAUTHORIZED).await;
    let (_, events_only) = app.integration_key(&m.admin, &["events"]).await;
    let r = open(
        json!({"area": "shop", "external_id": "c-a", "store_external_id": "st-a"}),
        events_only,
    )
    .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
}

//! SendGrid, Mailgun and SES on their wire formats, against a local HTTP server that records and
//! checks every request (method, path, authentication, SigV4 signature, body).

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{NaiveDateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{MailServer, TestApp, assert_count, spawn_app_with};

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap()
    }
}

/// What the stub records, and the status it answers with.
type StubState = (Arc<Mutex<Vec<Recorded>>>, Arc<Mutex<u16>>);

const SES_SECRET: &str = "ses-secret-SENTINEL";

/// The stand-in provider: answers like the real API, and checks SES signatures itself.
struct Stub {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Status the stub answers with (to test refusals).
    status: Arc<Mutex<u16>>,
}

async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<StubState>) -> HttpResponse {
    let recorded = Recorded {
        method: req.method().to_string(),
        path: req.path().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: body.to_vec(),
    };
    state.0.lock().unwrap().push(recorded.clone());
    let status = *state.1.lock().unwrap();
    if status != 200 {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
            .body("{\"errors\":[{\"message\":\"refused\"}]}");
    }
    if recorded.path.ends_with("/v3/mail/send") {
        return HttpResponse::Accepted()
            .insert_header(("X-Message-Id", "sg-abc123"))
            .finish();
    }
    if recorded.path.ends_with("/messages") {
        return HttpResponse::Ok().json(
            json!({"id": "<20261122.mg-1@mg.shop-a.test>", "message": "Queued. Thank you."}),
        );
    }
    if recorded.path == "/v2/email/outbound-emails" {
        // Recompute the SigV4 signature from what arrived; a wrong one is refused as AWS would.
        let amz_date = recorded.header("x-amz-date").unwrap_or_default();
        let at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
            .map(|d| Utc.from_utc_datetime(&d));
        let expected = at.map(|at| {
            parley::email::providers::sign_v4(&parley::email::providers::SigningRequest {
                method: "POST",
                path: &recorded.path,
                host: recorded.header("host").unwrap_or_default(),
                content_type: recorded.header("content-type").unwrap_or_default(),
                payload: &recorded.body,
                region: "eu-west-1",
                service: "ses",
                access_key_id: "AKIAEXAMPLEKEY123456",
                secret_access_key: SES_SECRET,
                at,
            })
            .authorization
        });
        if expected.ok().as_deref() != recorded.header("authorization") {
            return HttpResponse::Forbidden().json(json!({"message": "SignatureDoesNotMatch"}));
        }
        return HttpResponse::Ok().json(json!({"MessageId": "ses-0100018b"}));
    }
    HttpResponse::NotFound().finish()
}

impl Stub {
    async fn start() -> Stub {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200u16));
        let data = web::Data::new((requests.clone(), status.clone()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(handle))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Stub {
            url: format!("http://127.0.0.1:{port}"),
            requests,
            status,
        }
    }

    fn taken(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }

    /// The first request whose body mentions `needle` (other emails, e.g. welcome emails of the
    /// store's customers, may go through the same provider). The stub records a request before
    /// it answers, so whatever a finished delivery sent is here.
    fn find(&self, needle: &str) -> Recorded {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .find(|r| {
                String::from_utf8_lossy(&r.body).contains(needle)
                    || r.form().iter().any(|(_, v)| v.contains(needle))
            })
            .cloned()
            .unwrap_or_else(|| panic!("the provider got no request about {needle}"))
    }

    /// Takes the requests received so far, which must be `count`.
    fn take(&self, count: usize) -> Vec<Recorded> {
        let taken = self.taken();
        assert_eq!(taken.len(), count, "requests to the provider");
        taken
    }
}

async fn setup() -> (TestApp, Stub, MailServer, crate::helpers::Marketplace) {
    let stub = Stub::start().await;
    let platform = MailServer::start().await;
    let url = stub.url.clone();
    let app = spawn_app_with(|s| {
        platform.configure(s);
        s.email.sendgrid_base_url = url.clone();
        s.email.mailgun_base_url_us = format!("{url}/us");
        s.email.mailgun_base_url_eu = format!("{url}/eu");
        s.email.ses_endpoint = url.clone();
    })
    .await;
    let m = app.marketplace().await;
    (app, stub, platform, m)
}

async fn configure(app: &TestApp, token: &str, body: Value) {
    let mut full = json!({"from_email": "shop@a.example.test", "from_name": "Shop A", "reply_to_email": "help@a.example.test"});
    full.as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    let r = app.put("/api/v1/vendor/email-settings", token, full).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let verified: Value = app
        .post("/api/v1/vendor/email-settings/verify", token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["is_verified"], true, "{verified}");
}

#[tokio::test]
async fn sendgrid_gets_its_v3_request_with_the_bearer_key() {
    let (app, stub, _platform, m) = setup().await;
    configure(
        &app,
        &m.a1.token,
        json!({"provider": "sendgrid", "sendgrid_api_key": "SG.key-SENTINEL"}),
    )
    .await;
    let verification = stub.take(1);
    assert_eq!(
        verification[0].json()["personalizations"][0]["to"][0]["email"],
        "a1@example.test"
    );

    app.vendor_conversation(&m.a1, &m.ca, "Via SendGrid").await;
    app.deliver_emails().await;
    let request = stub.find("New message: Via SendGrid");
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v3/mail/send");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer SG.key-SENTINEL")
    );
    assert!(
        request
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = request.json();
    assert_eq!(
        body["personalizations"][0]["to"][0],
        json!({"email": "ca@example.test", "name": "Customer"})
    );
    assert_eq!(
        body["from"],
        json!({"email": "shop@a.example.test", "name": "Shop A"})
    );
    assert_eq!(body["reply_to"], json!({"email": "help@a.example.test"}));
    assert_eq!(body["subject"], "New message: Via SendGrid");
    assert_eq!(body["content"][0]["type"], "text/plain");
    assert_eq!(body["content"][1]["type"], "text/html");
    assert!(
        body["headers"]["List-Unsubscribe"]
            .as_str()
            .unwrap()
            .contains("/unsubscribe/")
    );
    let log_id: i64 = body["personalizations"][0]["custom_args"]["email_log_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_count(&app, "SELECT count(*) FROM email_logs WHERE id = ?1 AND status = 'sent' AND provider = 'sendgrid' AND provider_message_id = 'sg-abc123'", vec![log_id], 1).await;
}

#[tokio::test]
async fn mailgun_gets_its_form_in_the_stores_region() {
    let (app, stub, _platform, m) = setup().await;
    configure(
        &app,
        &m.a1.token,
        json!({"provider": "mailgun", "mailgun_api_key": "mg-key-SENTINEL", "mailgun_domain": "mg.shop-a.test", "mailgun_region": "eu"}),
    )
    .await;
    stub.take(1);
    app.vendor_conversation(&m.a1, &m.ca, "Via Mailgun").await;
    app.deliver_emails().await;
    let request = stub.find("New message: Via Mailgun");
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path, "/eu/v3/mg.shop-a.test/messages",
        "the EU base URL"
    );
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("api:mg-key-SENTINEL")
    );
    assert_eq!(request.header("authorization"), Some(expected.as_str()));
    assert!(
        request
            .header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let form = request.form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(field("from"), "\"Shop A\" <shop@a.example.test>");
    assert_eq!(field("to"), "\"Customer\" <ca@example.test>");
    assert_eq!(field("subject"), "New message: Via Mailgun");
    assert!(field("text").contains("Hello about Via Mailgun"));
    assert!(field("html").contains("<p>"));
    assert_eq!(field("h:Reply-To"), "help@a.example.test");
    assert!(field("h:Message-Id").starts_with('<'));
    let log_id: i64 = field("v:email_log_id").parse().unwrap();
    assert_count(&app, "SELECT count(*) FROM email_logs WHERE id = ?1 AND status = 'sent' AND provider_message_id = '20261122.mg-1@mg.shop-a.test'", vec![log_id], 1).await;
}

#[tokio::test]
async fn ses_gets_a_sigv4_signed_v2_send_email() {
    let (app, stub, _platform, m) = setup().await;
    configure(
        &app,
        &m.a1.token,
        json!({"provider": "ses", "ses_access_key_id": "AKIAEXAMPLEKEY123456", "ses_secret_access_key": SES_SECRET, "ses_region": "eu-west-1"}),
    )
    .await;
    stub.take(1);
    app.vendor_conversation(&m.a1, &m.ca, "Via SES").await;
    app.deliver_emails().await;
    let request = stub.find("New message: Via SES");
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v2/email/outbound-emails");
    let auth = request.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY123456/"),
        "{auth}"
    );
    assert!(
        auth.contains(
            "/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
        ),
        "{auth}"
    );
    assert!(!auth.contains(SES_SECRET));
    let body = request.json();
    assert_eq!(body["FromEmailAddress"], "\"Shop A\" <shop@a.example.test>");
    assert_eq!(
        body["Destination"]["ToAddresses"][0],
        "\"Customer\" <ca@example.test>"
    );
    assert_eq!(body["ReplyToAddresses"][0], "help@a.example.test");
    assert_eq!(
        body["Content"]["Simple"]["Subject"]["Data"],
        "New message: Via SES"
    );
    assert_eq!(
        body["Content"]["Simple"]["Body"]["Html"]["Charset"],
        "UTF-8"
    );
    assert_eq!(body["EmailTags"][0]["Name"], "email_log_id");
    assert_count(&app, "SELECT count(*) FROM email_logs WHERE template_code = 'new_message' AND status = 'sent' AND provider = 'ses' AND provider_message_id = 'ses-0100018b'", vec![], 1).await;
}

#[tokio::test]
async fn a_store_whose_tier_drops_falls_back_to_the_platform_sender() {
    let (app, stub, mut platform, m) = setup().await;
    configure(
        &app,
        &m.a1.token,
        json!({"provider": "sendgrid", "sendgrid_api_key": "SG.key"}),
    )
    .await;
    stub.take(1);
    let r = app
        .patch(
            &format!("/api/v1/admin/stores/{}", m.store_a),
            &m.admin.token,
            json!({"tier": "professional"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let view: Value = app
        .get("/api/v1/vendor/email-settings", &m.a1.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["provider_allowed"], false);
    app.vendor_conversation(&m.a1, &m.ca, "After downgrade")
        .await;
    let email = platform
        .delivered_to(&app, "ca@example.test", "New message: After downgrade")
        .await;
    assert_eq!(email["envelope_from"], "noreply@parley.invalid");
    assert!(
        stub.taken()
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("After downgrade")),
        "SendGrid got nothing about it"
    );
}

#[tokio::test]
async fn a_provider_refusing_the_key_unverifies_the_store_and_raises_one_alert() {
    let (app, stub, mut platform, m) = setup().await;
    configure(
        &app,
        &m.a1.token,
        json!({"provider": "sendgrid", "sendgrid_api_key": "SG.revoked"}),
    )
    .await;
    stub.take(1);
    *stub.status.lock().unwrap() = 401;
    app.vendor_conversation(&m.a1, &m.ca, "Revoked key").await;
    app.deliver_emails().await;
    // The first email through the revoked key is refused with 401.
    assert_count(
        &app,
        "SELECT count(*) FROM store_email_settings WHERE is_verified = 0",
        vec![],
        1,
    )
    .await;
    let alerts: Value = app
        .get(
            "/api/v1/admin/notifications?type=store_issue",
            &m.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["total"], 1, "{alerts}");
    assert_eq!(
        alerts["notifications"][0]["title"],
        "Email credentials refused"
    );
    // The retry goes out through the platform's relay.
    app.make_emails_due().await;
    platform
        .delivered_to(&app, "ca@example.test", "New message: Revoked key")
        .await;
}

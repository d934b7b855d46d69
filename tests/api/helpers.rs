//! The test harness: a real application on 127.0.0.1 port 0 with a fresh temporary data
//! directory, a reqwest client, and typed helpers to arrange accounts.

use parley::{AppState, Application, Settings};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub address: String,
    pub data_dir: TempDir,
    pub state: actix_web::web::Data<AppState>,
    pub client: Client,
    pub stop: parley::app::StopHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    settings.server.workers = 2;
    settings.storage.data_dir = data_dir.to_path_buf();
    settings.storage.read_connections = 2;
    settings.sandbox_exe = Some(env!("CARGO_BIN_EXE_parley").into());
    settings.email.poll_interval_ms = 50;
    settings.email.notification_delay_seconds = 0;
    settings.email.retry_base_seconds = 1;
    settings
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data_dir.path());
    customize(&mut settings);
    let (address, state, stop) = start_app(settings).await;
    TestApp {
        address,
        data_dir,
        state,
        client: http_client(),
        stop,
    }
}

/// Starts an application on `settings` and returns its base URL and state.
pub async fn start(settings: Settings) -> (String, actix_web::web::Data<AppState>) {
    let (address, state, _) = start_app(settings).await;
    (address, state)
}

pub async fn start_app(
    settings: Settings,
) -> (
    String,
    actix_web::web::Data<AppState>,
    parley::app::StopHandle,
) {
    if std::env::var("TEST_LOG").is_ok() {
        parley::telemetry::init("debug");
    }
    let app = Application::build(settings)
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let stop = app.stop_handle();
    tokio::spawn(app.run_until_stopped());
    (address, state, stop)
}

/// A logged-in party: its bearer token and ids.
#[derive(Debug, Clone)]
pub struct Party {
    pub token: String,
    pub id: i64,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_anon(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates an admin directly in the database and logs in through the API.
    pub async fn admin(&self, email: &str) -> Party {
        let email_owned = email.to_string();
        let hash = parley::auth::password::hash_now(PASSWORD).unwrap();
        self.state
            .db
            .write(move |tx| parley::accounts::upsert_admin(tx, &email_owned, &hash, "Admin"))
            .await
            .unwrap();
        let body = self
            .login("admin", json!({"email": email, "password": PASSWORD}))
            .await;
        Party {
            token: body["access_token"].as_str().unwrap().to_string(),
            id: body["user"]["id"].as_i64().unwrap(),
        }
    }

    pub async fn login(&self, area: &str, body: Value) -> Value {
        let response = self
            .post_anon(&format!("/api/v1/{area}/auth/login"), body)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login failed");
        response.json().await.unwrap()
    }

    pub async fn create_store(&self, admin: &Party, code: &str, tier: &str) -> i64 {
        let response = self
            .post(
                "/api/v1/admin/stores",
                &admin.token,
                json!({"code": code, "name": code, "tier": tier}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a staff member of `store_id` through the admin API and logs them in.
    pub async fn staff(&self, admin: &Party, store_id: i64, email: &str) -> Party {
        let response = self
            .post(
                &format!("/api/v1/admin/stores/{store_id}/users"),
                &admin.token,
                json!({"email": email, "password": PASSWORD, "full_name": "Staff"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body = self
            .login("vendor", json!({"email": email, "password": PASSWORD}))
            .await;
        Party {
            token: body["access_token"].as_str().unwrap().to_string(),
            id: body["user"]["id"].as_i64().unwrap(),
        }
    }

    /// Registers a customer of the store `store_code` through the shop API.
    pub async fn customer(&self, store_code: &str, email: &str) -> Party {
        let response = self
            .post_anon(
                "/api/v1/shop/auth/register",
                json!({"store_code": store_code, "email": email, "password": PASSWORD, "full_name": "Customer"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        Party {
            token: body["access_token"].as_str().unwrap().to_string(),
            id: body["customer"]["id"].as_i64().unwrap(),
        }
    }
}

/// Asserts the status and the stable error shape, and returns the error code.
pub async fn assert_error(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    assert!(
        body["error"]["message"].is_string(),
        "error.message in {body}"
    );
    code
}

/// Two stores with staff and customers, and an admin: the cast of the messaging tests.
pub struct Marketplace {
    pub admin: Party,
    pub store_a: i64,
    pub store_b: i64,
    /// Staff of store A.
    pub a1: Party,
    pub a2: Party,
    /// Staff of store B.
    pub b1: Party,
    /// Customers of store A.
    pub ca: Party,
    pub ca2: Party,
    /// A customer of store B.
    pub cb: Party,
}

impl TestApp {
    pub async fn marketplace(&self) -> Marketplace {
        let admin = self.admin("root@example.test").await;
        let store_a = self.create_store(&admin, "shop-a", "business").await;
        let store_b = self.create_store(&admin, "shop-b", "essential").await;
        Marketplace {
            a1: self.staff(&admin, store_a, "a1@example.test").await,
            a2: self.staff(&admin, store_a, "a2@example.test").await,
            b1: self.staff(&admin, store_b, "b1@example.test").await,
            ca: self.customer("shop-a", "ca@example.test").await,
            ca2: self.customer("shop-a", "ca2@example.test").await,
            cb: self.customer("shop-b", "cb@example.test").await,
            admin,
            store_a,
            store_b,
        }
    }

    /// Starts a conversation through the API and returns its detail.
    pub async fn start_conversation(&self, area: &str, party: &Party, body: Value) -> Value {
        let response = self
            .post(&format!("/api/v1/{area}/messages"), &party.token, body)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "conversation not created"
        );
        response.json().await.unwrap()
    }

    /// A store_customer conversation from `staff` to `customer`, with an opening message.
    pub async fn vendor_conversation(&self, staff: &Party, customer: &Party, subject: &str) -> i64 {
        let body = json!({
            "conversation_type": "store_customer",
            "subject": subject,
            "recipient_type": "customer",
            "recipient_id": customer.id,
            "initial_message": format!("Hello about {subject}"),
        });
        self.start_conversation("vendor", staff, body).await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn send_message(
        &self,
        area: &str,
        party: &Party,
        conversation: i64,
        content: &str,
    ) -> Response {
        self.post(
            &format!("/api/v1/{area}/messages/{conversation}/messages"),
            &party.token,
            json!({ "content": content }),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs a query against the application's database.
    pub async fn query_i64(&self, sql: &'static str, params: Vec<i64>) -> i64 {
        self.state
            .db
            .read(move |conn| {
                Ok::<_, parley::error::AppError>(conn.query_row(
                    sql,
                    rusqlite::params_from_iter(params),
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap()
    }
}

/// A small PNG made in memory.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// An HTTP client for tests. reqwest is built without a default TLS crypto provider (the
/// appliance picks ring explicitly), so one is installed first.
pub fn http_client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().cookie_store(true).build().unwrap()
}

/// A child process killed when the test ends, even by a failed assertion.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real SMTP server (mailcrab) on a free loopback port.
pub struct MailServer {
    pub port: u16,
    pub handle: Option<mailcrab::TestMailServerHandle>,
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl MailServer {
    pub async fn start() -> MailServer {
        let mut server = MailServer {
            port: free_port(),
            handle: None,
        };
        server.listen().await;
        server
    }

    /// A port where nothing listens yet (connections are refused until `listen`).
    pub fn down() -> MailServer {
        MailServer {
            port: free_port(),
            handle: None,
        }
    }

    pub async fn listen(&mut self) {
        self.handle = Some(mailcrab::development_mail_server([127, 0, 0, 1], self.port).await);
        // Wait until it accepts connections.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("mail server did not start");
    }

    /// The next received email (as mailcrab's JSON), or a panic after `secs` seconds.
    pub async fn next(&mut self, secs: u64) -> Value {
        let rx = &mut self.handle.as_mut().expect("server is listening").rx;
        let message = tokio::time::timeout(std::time::Duration::from_secs(secs), rx.recv())
            .await
            .expect("an email arrives in time")
            .unwrap();
        serde_json::to_value(&message).unwrap()
    }

    /// Emails received within `secs` seconds.
    pub async fn drain(&mut self, secs: u64) -> Vec<Value> {
        let mut out = Vec::new();
        let rx = &mut self.handle.as_mut().expect("server is listening").rx;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        while let Ok(Ok(message)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            out.push(serde_json::to_value(&message).unwrap());
        }
        out
    }

    pub fn configure(&self, settings: &mut Settings) {
        settings.email.smtp_host = "127.0.0.1".into();
        settings.email.smtp_port = self.port;
        settings.email.smtp_security = parley::config::SmtpSecurity::None;
        settings.email.smtp_timeout_seconds = 5;
    }
}

/// Waits until `sql` (a count) returns `expected`, polling the database.
pub async fn eventually(app: &TestApp, sql: &'static str, params: Vec<i64>, expected: i64) {
    for _ in 0..200 {
        if app.query_i64(sql, params.clone()).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!(
        "{sql} never returned {expected} (last: {})",
        app.query_i64(sql, params).await
    );
}

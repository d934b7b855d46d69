//! The test harness shared by the API tests (tests/api) and the browser tests (tests/ui): a real
//! application on 127.0.0.1 port 0 with a fresh temporary data directory, a reqwest client, and
//! typed helpers to arrange accounts, deliver emails and read the database.

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
    // The tests deliver emails themselves (`TestApp::deliver_emails`) instead of waiting for the
    // background job, whose first pass comes one interval after the start: never, in a test.
    settings.email.poll_interval_ms = 3_600_000;
    settings.email.notification_delay_seconds = 0;
    settings.email.retry_base_seconds = 1;
    // The platform whose pages conversations may link to.
    settings.integration.context_url_hosts = vec!["shop.example.test".into()];
    settings
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap(), customize).await
}

/// An application on a data directory that may already hold data (made by the command line, or
/// by an earlier application).
pub async fn spawn_app_in(data_dir: TempDir, customize: impl FnOnce(&mut Settings)) -> TestApp {
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
        parley::telemetry::init("debug", parley::config::LogFormat::Text);
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
    /// The API area the party signs in to: "admin", "vendor" or "shop".
    pub area: &'static str,
    pub token: String,
    pub id: i64,
}

impl TestApp {
    /// The settings the application runs on.
    pub fn settings(&self) -> Settings {
        (*self.state.settings).clone()
    }

    /// Stops the application and starts it again on the same data directory and settings.
    pub async fn restart(self) -> TestApp {
        self.stop.stop().await;
        let (address, state, stop) = start_app(self.settings()).await;
        TestApp {
            address,
            data_dir: self.data_dir,
            state,
            client: http_client(),
            stop,
        }
    }

    /// Starts a stopped application again on the same port, data directory and settings, as a
    /// restarted server looks to a browser that stayed open.
    pub async fn start_again_on_the_same_port(self) -> TestApp {
        let mut settings = self.settings();
        let port = self
            .address
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap();
        settings.server.bind = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let (address, state, stop) = start_app(settings).await;
        TestApp {
            address,
            data_dir: self.data_dir,
            state,
            client: http_client(),
            stop,
        }
    }

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
            area: "admin",
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
        self.staff_named(admin, store_id, email, "Staff").await
    }

    pub async fn staff_named(
        &self,
        admin: &Party,
        store_id: i64,
        email: &str,
        name: &str,
    ) -> Party {
        let response = self
            .post(
                &format!("/api/v1/admin/stores/{store_id}/users"),
                &admin.token,
                json!({"email": email, "password": PASSWORD, "full_name": name}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body = self
            .login("vendor", json!({"email": email, "password": PASSWORD}))
            .await;
        Party {
            area: "vendor",
            token: body["access_token"].as_str().unwrap().to_string(),
            id: body["user"]["id"].as_i64().unwrap(),
        }
    }

    /// Registers a customer of the store `store_code` through the shop API.
    pub async fn customer(&self, store_code: &str, email: &str) -> Party {
        self.customer_named(store_code, email, "Customer").await
    }

    pub async fn customer_named(&self, store_code: &str, email: &str, name: &str) -> Party {
        let response = self
            .post_anon(
                "/api/v1/shop/auth/register",
                json!({"store_code": store_code, "email": email, "password": PASSWORD, "full_name": name}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        Party {
            area: "shop",
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

    /// `party` sends `content` in `conversation` from their own area.
    pub async fn send(&self, party: &Party, conversation: i64, content: &str) -> Response {
        self.send_message(party.area, party, conversation, content)
            .await
    }

    /// Sets a platform setting as an admin would.
    pub async fn set_setting(&self, admin: &Party, key: &str, value: Value) {
        let response = self
            .put(
                &format!("/api/v1/admin/settings/{key}"),
                &admin.token,
                json!({ "value": value }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "setting {key}");
    }

    /// `party`'s unread messages over all their conversations.
    pub async fn unread(&self, party: &Party) -> i64 {
        let response = self
            .get(
                &format!("/api/v1/{}/messages/unread-count", party.area),
                &party.token,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.unwrap()["total_unread"]
            .as_i64()
            .unwrap()
    }

    /// `party` marks `conversation` read; returns the answer's body.
    pub async fn read(&self, party: &Party, conversation: i64) -> Value {
        let response = self
            .put(
                &format!("/api/v1/{}/messages/{conversation}/read", party.area),
                &party.token,
                json!({}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
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

    /// Delivers every email that is due, as the background job's tick would, and returns how
    /// many were handled. When it returns, each accepted email is in the receiving server.
    pub async fn deliver_emails(&self) -> usize {
        parley::email::deliver_all_due(&self.state.email())
            .await
            .expect("delivery runs")
    }

    /// Makes every pending email due now: the retry schedule's clock, driven instead of waited for.
    pub async fn make_emails_due(&self) {
        self.state
            .db
            .write(|tx| {
                Ok::<_, parley::error::AppError>(tx.execute(
                    "UPDATE email_logs SET next_attempt_at = '2000-01-01 00:00:00+00:00' WHERE status = 'pending'",
                    [],
                )?)
            })
            .await
            .unwrap();
    }

    /// Delivers what is pending now, retries included.
    pub async fn deliver_pending_emails(&self) -> usize {
        self.make_emails_due().await;
        self.deliver_emails().await
    }

    /// An integration key with these scopes, made by `admin`: its id and the key itself.
    pub async fn integration_key(&self, admin: &Party, scopes: &[&str]) -> (i64, String) {
        let r = self
            .post(
                "/api/v1/admin/api-keys",
                &admin.token,
                json!({"name": "Shop backend", "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.unwrap();
        (
            body["id"].as_i64().unwrap(),
            body["key"].as_str().unwrap().to_string(),
        )
    }

    /// Runs statements against the application's database, through its writer.
    pub async fn execute(&self, sql: &'static str) {
        self.state
            .db
            .write(move |tx| Ok::<_, parley::error::AppError>(tx.execute_batch(sql)?))
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

/// A real SMTP server on a free loopback port: the `mailin` crate speaks SMTP, `serve_smtp` only
/// carries its lines over TCP (no TLS: mailin-embedded's would compile aws-lc). Each message is
/// parsed (mail-parser) into the JSON the tests read: envelope, subject, text, html, headers.
pub struct MailServer {
    pub port: u16,
    sent: tokio::sync::mpsc::UnboundedSender<Value>,
    received: tokio::sync::mpsc::UnboundedReceiver<Value>,
}

/// One SMTP session's state; the server clones it per connection.
#[derive(Clone)]
struct Inbox {
    sent: tokio::sync::mpsc::UnboundedSender<Value>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin::Handler for Inbox {
    fn data_start(&mut self, _: &str, from: &str, _: bool, to: &[String]) -> mailin::Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    /// Hands the message over before answering `250`, so a finished delivery has arrived.
    fn data_end(&mut self) -> mailin::Response {
        let parsed = mail_parser::MessageParser::default().parse(&self.data);
        let Some(message) = parsed else {
            return mailin::Response::custom(554, "5.6.0 unparseable message".into());
        };
        let headers: serde_json::Map<String, Value> = message
            .headers_raw()
            .map(|(name, value)| (name.to_string(), Value::String(value.trim().to_string())))
            .collect();
        let _ = self.sent.send(json!({
            "envelope_from": self.from,
            "envelope_recipients": self.to,
            "subject": message.subject(),
            "text": message.body_text(0),
            "html": message.body_html(0),
            "headers": headers,
        }));
        mailin::response::OK
    }
}

/// Serves SMTP on `listener` with `handler` deciding, one task per connection, until the test
/// ends.
pub async fn serve_smtp<H: mailin::Handler + Clone + Send + 'static>(
    listener: tokio::net::TcpListener,
    handler: H,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    while let Ok((stream, peer)) = listener.accept().await {
        let handler = handler.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut read = tokio::io::BufReader::new(read);
            let mut session = mailin::SessionBuilder::new("mail.test").build(peer.ip(), handler);
            let mut reply = Vec::new();
            session.greeting().write_to(&mut reply)?;
            write.write_all(&reply).await?;
            let mut line = Vec::new();
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok::<_, std::io::Error>(());
                }
                let response = session.process(&line);
                if response.action == mailin::Action::NoReply {
                    continue;
                }
                reply.clear();
                response.write_to(&mut reply)?;
                write.write_all(&reply).await?;
                if response.action != mailin::Action::Reply {
                    return Ok(());
                }
            }
        });
    }
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
        let mut server = MailServer::down();
        server.listen().await;
        server
    }

    /// A port where nothing listens yet (connections are refused until `listen`).
    pub fn down() -> MailServer {
        let (sent, received) = tokio::sync::mpsc::unbounded_channel();
        MailServer {
            port: free_port(),
            sent,
            received,
        }
    }

    /// Starts serving on the port, until the test ends.
    pub async fn listen(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let inbox = Inbox {
            sent: self.sent.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        tokio::spawn(serve_smtp(listener, inbox));
    }

    /// The next email, waiting up to `secs` for it: only for what the application sends on its
    /// own timer (the background job's own test).
    pub async fn wait_for_next(&mut self, secs: u64) -> Value {
        tokio::time::timeout(std::time::Duration::from_secs(secs), self.received.recv())
            .await
            .expect("an email arrives in time")
            .unwrap()
    }

    /// Every email received so far and not yet taken, as mailcrab's JSON. Mailcrab hands a
    /// message over before it answers `250` to its data, so once a delivery has returned, what
    /// it sent is here: nothing to wait for.
    pub fn received(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.received.try_recv().ok()).collect()
    }

    /// The next email received, which must be there already.
    pub fn next(&mut self) -> Value {
        self.received.try_recv().expect("an email was received")
    }

    /// Delivers what is due and returns the first email received to `to` whose subject contains
    /// `subject_contains`, skipping others (welcome emails to the rest of the cast, say).
    pub async fn delivered_to(&mut self, app: &TestApp, to: &str, subject_contains: &str) -> Value {
        app.deliver_emails().await;
        self.received()
            .into_iter()
            .find(|m| {
                m["envelope_recipients"][0] == to
                    && m["subject"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(subject_contains)
            })
            .unwrap_or_else(|| panic!("no email to {to} about {subject_contains}"))
    }

    pub fn configure(&self, settings: &mut Settings) {
        settings.email.smtp_host = "127.0.0.1".into();
        settings.email.smtp_port = self.port;
        settings.email.smtp_security = parley::config::SmtpSecurity::None;
        settings.email.smtp_timeout_seconds = 5;
    }
}

/// Asserts that `sql` (a count) returns `expected`.
pub async fn assert_count(app: &TestApp, sql: &'static str, params: Vec<i64>, expected: i64) {
    assert_eq!(app.query_i64(sql, params).await, expected, "{sql}");
}

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) fn parley() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
    cmd.env("PARLEY_LOG__LEVEL", "warn");
    cmd
}

/// The real binary serving on a free port with debug logging; its log is collected.
pub(crate) struct Served {
    child: crate::helpers::KillOnDrop,
    pub(crate) port: u16,
    lines: std::sync::mpsc::Receiver<String>,
    log: String,
}

impl Served {
    pub(crate) fn start(command: Command) -> Served {
        Served::start_with(command, "serve")
    }

    fn start_with(mut command: Command, subcommand: &str) -> Served {
        let mut child = command
            .args([subcommand, "--bind", "127.0.0.1:0"])
            .env("PARLEY_LOG__LEVEL", "debug")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let child = crate::helpers::KillOnDrop(child);
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                if lines_tx.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut log = String::new();
        let port = loop {
            let line = lines
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("server printed no port");
            log.push_str(&line);
            if let Some(rest) = line.split("port=").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .parse::<u16>()
                    .unwrap();
            }
        };
        Served {
            child,
            port,
            lines,
            log,
        }
    }

    /// Stops the server and returns everything it logged.
    pub(crate) fn stop(mut self) -> String {
        self.child.0.kill().unwrap();
        self.child.0.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(2)) {
            self.log.push_str(&line);
        }
        std::mem::take(&mut self.log)
    }
}

#[test]
fn migrate_and_create_admin_work_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = parley()
        .arg("migrate")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("parley.db").is_file());
    for _ in 0..2 {
        // The second run resets the password of the existing admin.
        let out = parley()
            .args([
                "create-admin",
                "--email",
                "ops@example.test",
                "--password",
                "long-enough-pw",
            ])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = parley()
        .args([
            "create-admin",
            "--email",
            "ops@example.test",
            "--password",
            "short",
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn an_unknown_or_bad_configuration_key_stops_the_start_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = parley()
        .arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .env("PARLEY_STORAGE__DATA_DIRR", "x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("data_dirr"));

    let config = dir.path().join("parley.toml");
    std::fs::write(&config, "[auth]\nsession_ttl_hours = \"soon\"\n").unwrap();
    let out = parley()
        .arg("check-config")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth.session_ttl_hours"));

    let out = parley()
        .arg("check-config")
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("parley.db");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let out = parley()
        .arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SQLite database"));
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[tokio::test]
async fn the_binary_serves_health_and_logins_on_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let out = parley()
        .current_dir(dir.path())
        .args([
            "create-admin",
            "--email",
            "ops@example.test",
            "--password",
            "long-enough-pw",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        dir.path().join("data/parley.db").is_file(),
        "the default data dir is ./data"
    );

    // Only the port differs from the defaults, so tests can run side by side. Debug logging, so
    // the check below that no secret reaches the log covers every line.
    let mut command = parley();
    command.current_dir(dir.path());
    let served = Served::start(command);
    let port = served.port;

    let client = crate::helpers::http_client();
    let health: Value = client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let login = client
        .post(format!("http://127.0.0.1:{port}/api/v1/admin/auth/login"))
        .json(&json!({"email": "ops@example.test", "password": "long-enough-pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = client
        .post(format!("http://127.0.0.1:{port}/api/v1/admin/auth/login"))
        .json(&json!({"email": "ops@example.test", "password": 12345678}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let me = client
        .get(format!("http://127.0.0.1:{port}/api/v1/admin/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // One-time tokens travel in query strings (reset links, single sign-on): the log keeps paths.
    let link = client
        .get(format!(
            "http://127.0.0.1:{port}/vendor/reset-password?token=ONE-TIME-TOKEN-1f3e"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::OK);
    let log = served.stop();
    assert!(log.contains("login"), "the log shows the login event");
    assert!(
        log.contains("/vendor/reset-password"),
        "the log shows the path"
    );
    for secret in [
        "long-enough-pw",
        "12345678",
        token.as_str(),
        "ONE-TIME-TOKEN-1f3e",
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}

#[tokio::test]
async fn provider_secrets_never_reach_the_log_or_the_disk_in_plaintext() {
    const SENTINEL: &str = "SENTINEL-9c1d-provider-secret";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = parley()
        .args([
            "create-admin",
            "--email",
            "ops@example.test",
            "--password",
            "long-enough-pw",
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut command = parley();
    command
        .arg("--data-dir")
        .arg(&data)
        .env("PARLEY_EMAIL__ALLOW_PRIVATE_SMTP_HOSTS", "true")
        .env("PARLEY_EMAIL__POLL_INTERVAL_MS", "50");
    let served = Served::start(command);
    let port = served.port;
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::http_client();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let admin: Value = post(
        "/api/v1/admin/auth/login",
        None,
        json!({"email": "ops@example.test", "password": "long-enough-pw"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let admin = admin["access_token"].as_str().unwrap().to_string();
    let store: Value = post(
        "/api/v1/admin/stores",
        Some(&admin),
        json!({"code": "s", "name": "S", "tier": "business"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let store_id = store["id"].as_i64().unwrap();
    post(
        &format!("/api/v1/admin/stores/{store_id}/users"),
        Some(&admin),
        json!({"email": "staff@example.test", "password": "long-enough-pw", "full_name": "Staff"}),
    )
    .await
    .unwrap();
    let staff: Value = post(
        "/api/v1/vendor/auth/login",
        None,
        json!({"email": "staff@example.test", "password": "long-enough-pw"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let staff = staff["access_token"].as_str().unwrap().to_string();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = client
        .put(format!("{base}/api/v1/vendor/email-settings"))
        .bearer_auth(&staff)
        .json(&json!({"from_email": "s@s.example.test", "from_name": "S", "smtp_host": "127.0.0.1", "smtp_port": closed_port,
                      "smtp_username": "user", "smtp_password": SENTINEL, "smtp_use_tls": false,
                      "sendgrid_api_key": SENTINEL, "mailgun_webhook_signing_key": SENTINEL}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::OK);
    assert!(!settings.text().await.unwrap().contains(SENTINEL));
    let verify = post(
        "/api/v1/vendor/email-settings/verify",
        Some(&staff),
        json!({}),
    )
    .await
    .unwrap();
    assert!(!verify.text().await.unwrap().contains(SENTINEL));
    for path in ["/api/v1/admin/notifications", "/api/v1/admin/email-logs"] {
        let body = client
            .get(format!("{base}{path}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains(SENTINEL), "{path}");
    }
    let log = served.stop();
    assert!(
        log.contains("store email settings updated"),
        "the log covers the change"
    );
    assert!(!log.contains(SENTINEL), "the secret reached the log");
    for file in ["parley.db", "parley.db-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        assert!(
            !bytes
                .windows(SENTINEL.len())
                .any(|w| w == SENTINEL.as_bytes()),
            "{file} holds the secret in plaintext"
        );
    }
}

#[tokio::test]
async fn parley_demo_serves_a_filled_data_directory_and_prints_working_logins() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = parley();
    command.arg("--data-dir").arg(dir.path());
    let served = Served::start_with(command, "demo");
    let base = format!("http://127.0.0.1:{}", served.port);
    // The logins are printed once the demo is seeded.
    let mut printed = String::new();
    while !printed.contains("password: parley-demo") || !printed.contains("emil@example.test") {
        let line = served
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the demo prints its logins");
        printed.push_str(&line);
        printed.push('\n');
    }
    let client = crate::helpers::http_client();
    for login in parley::demo::LOGINS {
        assert!(printed.contains(login.email), "{printed}");
        let mut body = json!({"email": login.email, "password": parley::demo::PASSWORD});
        if let Some(code) = login.store_code {
            body["store_code"] = json!(code);
        }
        let r = client
            .post(format!("{base}/api/v1/{}/auth/login", login.area))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", login.email);
        let token = r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let list: Value = client
            .get(format!("{base}/api/v1/{}/messages", login.area))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            list["total"].as_i64().unwrap() >= 1,
            "{} sees conversations",
            login.email
        );
        if login.email == "clara@example.test" {
            let first = list["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["subject"] == "Your order #1042 has shipped")
                .unwrap();
            let detail: Value = client
                .get(format!("{base}/api/v1/shop/messages/{}", first["id"]))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let with_files = detail["messages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| !m["attachments"].as_array().unwrap().is_empty())
                .unwrap();
            let image = &with_files["attachments"][0];
            assert_eq!(image["is_image"], true);
            let thumbnail = client
                .get(format!(
                    "{base}{}",
                    image["thumbnail_url"].as_str().unwrap()
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(thumbnail.status(), StatusCode::OK);
        }
        if login.area == "admin" {
            let logs: Value = client
                .get(format!("{base}/api/v1/admin/email-logs"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(logs["total"].as_i64().unwrap() >= 3);
            let types: Value = client
                .get(format!(
                    "{base}/api/v1/admin/messages?conversation_type=admin_customer"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(types["total"], 1);
        }
    }
    served.stop();

    // A second start on the same directory keeps the data and does not seed twice.
    let mut command = parley();
    command.arg("--data-dir").arg(dir.path());
    let again = Served::start_with(command, "demo");
    let mut printed = String::new();
    while !printed.contains("password: parley-demo") {
        printed.push_str(
            &again
                .lines
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap(),
        );
    }
    assert!(printed.contains("was not added again"), "{printed}");
    again.stop();
}

#[tokio::test]
async fn the_server_raises_its_open_files_limit_and_counts_malformed_requests_quietly() {
    let hard = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    // Started with the common soft limit of 1,024 (or the hard limit, if lower).
    let soft = hard.min(1024);
    let mut command = Command::new("bash");
    command
        .current_dir(dir.path())
        .env("PARLEY_LOG__LEVEL", "warn")
        .args(["-c", &format!("ulimit -Sn {soft} && exec \"$0\" \"$@\"")])
        .arg(env!("CARGO_BIN_EXE_parley"));
    let served = Served::start(command);
    assert!(
        served.log.contains(&format!("before={soft} now={hard}")),
        "{}",
        served.log
    );
    for garbage in [&b"GARBAGE\r\n\r\n"[..], b"\x16\x03\x01\x00\xa5\x01\x00"] {
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", served.port))
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut socket, garbage)
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut answer)
            .await
            .unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 400"));
    }
    let health = crate::helpers::http_client()
        .get(format!("http://127.0.0.1:{}/health", served.port))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let log = served.stop();
    assert!(!log.contains("ERROR"), "{log}");
    assert!(!log.contains("parse error"), "{log}");
}

/// `parley import` on a data directory: run twice it duplicates nothing, bad lines are reported
/// with their number and reason while the rest go in, and a run resumes after the lines an
/// earlier one finished.
#[test]
fn import_loads_a_shop_by_external_ids_idempotently_reports_bad_lines_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("shop.jsonl");
    let mut lines = vec![
        json!({"type": "store", "external_id": "st-1", "code": "north", "name": "North", "tier": "business"}),
        json!({"type": "user", "store": "st-1", "external_id": "u-1", "email": "lena@north.test", "full_name": "Lena"}),
        json!({"type": "customer", "store": "st-1", "external_id": "c-bad", "email": "not an email", "full_name": "X"}),
        json!({"type": "customer", "store": "nowhere", "external_id": "c-lost", "email": "lost@north.test", "full_name": "Lost"}),
    ];
    for i in 0..1000 {
        lines.push(json!({"type": "customer", "store": "st-1", "external_id": format!("c-{i}"),
                          "email": format!("c{i}@north.test"), "full_name": format!("Customer {i}"), "language": "de"}));
    }
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect::<String>() + "{broken\n";
    std::fs::write(&file, text).unwrap();
    let import = |extra: &[&str]| {
        let started = std::time::Instant::now();
        let out = parley()
            .arg("--data-dir")
            .arg(&data)
            .arg("import")
            .arg(&file)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (String::from_utf8(out.stdout).unwrap(), started.elapsed())
    };

    let (first, took) = import(&[]);
    assert!(
        first.contains("1002 created, 0 updated, 3 failed"),
        "{first}"
    );
    eprintln!("imported 1,005 lines in {took:?}");
    let report = std::fs::read_to_string(dir.path().join("shop.jsonl.errors.jsonl")).unwrap();
    let report: Vec<Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(report.len(), 3);
    assert_eq!(
        (
            report[0]["line"].as_i64(),
            report[0]["external_id"].as_str()
        ),
        (Some(3), Some("c-bad"))
    );
    assert!(
        report[0]["error"].as_str().unwrap().contains("email"),
        "{:?}",
        report[0]
    );
    assert_eq!(report[1]["line"], 4);
    assert_eq!(report[1]["error"], "not found");
    assert_eq!(report[2]["line"], 1005);
    assert!(
        report[2]["error"]
            .as_str()
            .unwrap()
            .contains("not a JSON object")
    );

    // Finished: a second run has nothing left; from the start it only updates.
    let (again, _) = import(&[]);
    assert!(
        again.contains("0 created, 0 updated, 0 failed (resumed after line 1005)"),
        "{again}"
    );
    let (restarted, _) = import(&["--restart"]);
    assert!(
        restarted.contains("0 created, 1002 updated, 3 failed"),
        "{restarted}"
    );
    // Interrupted after line 900: the next run does the last 105.
    std::fs::write(dir.path().join("shop.jsonl.progress"), "900").unwrap();
    let (resumed, _) = import(&[]);
    assert!(
        resumed.contains("0 created, 104 updated, 1 failed (resumed after line 900)"),
        "{resumed}"
    );

    let conn = rusqlite::Connection::open(data.join("parley.db")).unwrap();
    let (customers, users, audited): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM users WHERE external_id = 'u-1'),
                    (SELECT count(*) FROM audit_log WHERE actor = 'import:shop.jsonl')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((customers, users), (1000, 1));
    assert_eq!(audited, 1002 + 1002 + 104);
}

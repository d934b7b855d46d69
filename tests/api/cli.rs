use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

fn parley() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
    cmd.env("PARLEY_LOG__LEVEL", "warn");
    cmd
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
    let mut child = parley()
        .current_dir(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PARLEY_LOG__LEVEL", "debug")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if lines_tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut log = String::new();
    let port = loop {
        let line = lines_rx
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

    let client = reqwest::Client::new();
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
    child.kill().unwrap();
    child.wait().unwrap();
    while let Ok(line) = lines_rx.recv_timeout(std::time::Duration::from_secs(2)) {
        log.push_str(&line);
    }
    assert!(log.contains("login"), "the log shows the login event");
    for secret in ["long-enough-pw", "12345678", token.as_str()] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}

//! Continuous off-site backup with the real Litestream binary (installed by `.ci/tools`):
//! Parley runs with `storage.checkpoints = "external"` while Litestream replicates its database
//! to a file replica during a burst of sends; `litestream restore` then gives a database that
//! passes `integrity_check`, holds every acknowledged message, and serves them again.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app_with, start};

/// The Litestream on PATH (`bash .ci/test` puts the pinned one there).
fn litestream() -> &'static str {
    let found = std::process::Command::new("litestream")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "litestream is not on PATH: run the tests with `bash .ci/test`, which installs it (.ci/tools)"
    );
    "litestream"
}

fn config(dir: &Path, db: &Path, replica: &Path) -> std::path::PathBuf {
    let path = dir.join("litestream.yml");
    std::fs::write(
        &path,
        format!(
            "dbs:\n  - path: {}\n    replica:\n      type: file\n      path: {}\n      sync-interval: 200ms\n",
            db.display(),
            replica.display()
        ),
    )
    .unwrap();
    path
}

/// The message ids a restored database holds, if it passes the integrity check.
fn restored_messages(config: &Path, db: &Path, out: &Path) -> Option<Vec<i64>> {
    let _ = std::fs::remove_file(out);
    let restored = std::process::Command::new(litestream())
        .args(["restore", "-config"])
        .arg(config)
        .arg("-o")
        .arg(out)
        .arg(db)
        .output()
        .unwrap();
    if !restored.status.success() {
        return None;
    }
    let conn = rusqlite::Connection::open(out).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "a restored database must be sound");
    let mut ids = conn.prepare("SELECT id FROM messages").unwrap();
    let ids = ids
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<i64>, _>>()
        .unwrap();
    Some(ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litestream_restores_every_acknowledged_message_sent_while_it_replicated() {
    let app = spawn_app_with(|s| {
        s.storage.checkpoints = parley::config::Checkpoints::External;
        s.auth.messages_per_minute = 100_000;
    })
    .await;
    let m = app.marketplace().await;
    let conversation = app.vendor_conversation(&m.a1, &m.ca, "Order 7").await;

    let work = tempfile::tempdir().unwrap();
    let db = app.data_dir.path().join("parley.db");
    let replica = work.path().join("replica");
    let config = config(work.path(), &db, &replica);
    let mut replicating = tokio::process::Command::new(litestream())
        .args(["replicate", "-config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Eight senders, 1,500 messages: the WAL passes Litestream's checkpoint threshold (1,000
    // pages) several times, so its checkpoints and write locks happen between our commits.
    let app = std::sync::Arc::new(app);
    let mut senders = Vec::new();
    for sender in 0..8 {
        let app = app.clone();
        let (customer, staff) = (m.ca.clone(), m.a1.clone());
        senders.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..188 {
                let party = if n % 2 == 0 { &customer } else { &staff };
                let text = format!("message {sender}-{n} {}", "padding ".repeat(40));
                let response = app.send(party, conversation, &text).await;
                assert_eq!(response.status(), StatusCode::CREATED, "no write may fail");
                let body: Value = response.json().await.unwrap();
                acknowledged.push(body["id"].as_i64().unwrap());
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for sender in senders {
        acknowledged.extend(sender.await.unwrap());
    }
    assert_eq!(acknowledged.len(), 8 * 188);
    // Litestream, not Parley, copied the WAL back: it restarted at least once.
    let wal = std::fs::read(parley_wal(&db)).unwrap();
    let restarts = u32::from_be_bytes(wal[12..16].try_into().unwrap());
    assert!(
        restarts >= 1,
        "the WAL never restarted: nobody checkpointed"
    );

    // What the replica holds within a few sync intervals.
    let out = work.path().join("restored").join("parley.db");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut missing = acknowledged.clone();
    for _ in 0..60 {
        if let Some(ids) = restored_messages(&config, &db, &out) {
            let held: std::collections::HashSet<i64> = ids.into_iter().collect();
            missing.retain(|id| !held.contains(id));
            if missing.is_empty() {
                break;
            }
            missing = acknowledged.clone();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged messages are not in the replica",
        missing.len()
    );
    replicating.kill().await.unwrap();

    // The restored directory (database + the key file, kept with the backups) serves them.
    std::fs::copy(
        app.data_dir.path().join("secret.key"),
        out.parent().unwrap().join("secret.key"),
    )
    .unwrap();
    let settings = crate::helpers::test_settings(out.parent().unwrap());
    let (address, _state) = start(settings).await;
    let thread: Value = app
        .client
        .get(format!("{address}/api/v1/shop/messages/{conversation}"))
        .bearer_auth(&m.ca.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(thread["id"], conversation);
}

fn parley_wal(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

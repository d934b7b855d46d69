use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, start, test_settings};

fn parley(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .env("PARLEY_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_concurrent_writes_restores_into_a_working_server() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.test").await;
    let store = app.create_store(&admin, "shop-a", "essential").await;
    let attachment = app
        .data_dir
        .path()
        .join("uploads/messages/2026/11/1/5f0c.txt");
    std::fs::create_dir_all(attachment.parent().unwrap()).unwrap();
    std::fs::write(&attachment, b"attached").unwrap();

    // A writer keeps creating customers until the backup has finished; `created` counts them.
    let stop = Arc::new(AtomicBool::new(false));
    let (count, mut created) = tokio::sync::watch::channel(0usize);
    let writer = {
        let (client, url, token, stop) = (
            app.client.clone(),
            app.url(&format!("/api/v1/admin/stores/{store}/customers")),
            admin.token.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"email": format!("c{n}@example.test"), "full_name": "C"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                n += 1;
                count.send_replace(n);
            }
        })
    };
    // The backup starts while writes are under way and they go on after it.
    created.wait_for(|n| *n >= 5).await.unwrap();

    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("backup");
    let data_dir = app.data_dir.path().to_path_buf();
    let (dest_arg, data_arg) = (dest.clone(), data_dir.clone());
    let out = tokio::task::spawn_blocking(move || {
        parley(&[
            "backup".as_ref(),
            dest_arg.as_os_str(),
            "--data-dir".as_ref(),
            data_arg.as_os_str(),
        ])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let at_backup_end = *created.borrow();
    created.wait_for(|n| *n >= at_backup_end + 5).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    let restored = work.path().join("restored");
    let out = parley(&[
        "restore".as_ref(),
        dest.as_os_str(),
        "--data-dir".as_ref(),
        restored.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(restored.join("uploads/messages/2026/11/1/5f0c.txt")).unwrap(),
        b"attached"
    );
    assert_eq!(
        std::fs::read(restored.join("secret.key")).unwrap(),
        std::fs::read(data_dir.join("secret.key")).unwrap()
    );

    // A server on the restored copy serves the same accounts and a consistent snapshot.
    let (address, state) = start(test_settings(&restored)).await;
    let client = crate::helpers::http_client();
    let login = client
        .post(format!("{address}/api/v1/admin/auth/login"))
        .json(&json!({"email": "root@example.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let (restored_customers, integrity): (i64, String) = state
        .db
        .read(|conn| {
            Ok::<_, parley::error::AppError>((
                conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?,
                conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let created = *created.borrow();
    assert!(
        (5..=created as i64).contains(&restored_customers),
        "{restored_customers} of {created}: the backup holds what was committed before it"
    );
}

#[tokio::test]
async fn restore_refuses_a_data_directory_that_is_not_empty() {
    let app = spawn_app().await;
    app.admin("root@example.test").await;
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("backup");
    let out = parley(&[
        "backup".as_ref(),
        dest.as_os_str(),
        "--data-dir".as_ref(),
        app.data_dir.path().as_os_str(),
    ]);
    assert!(out.status.success());
    let out = parley(&[
        "restore".as_ref(),
        dest.as_os_str(),
        "--data-dir".as_ref(),
        app.data_dir.path().as_os_str(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    // And a second backup into the same destination is refused too.
    let out = parley(&[
        "backup".as_ref(),
        dest.as_os_str(),
        "--data-dir".as_ref(),
        app.data_dir.path().as_os_str(),
    ]);
    assert!(!out.status.success());
}

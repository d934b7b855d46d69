//! Attachments in an S3-compatible bucket, against a real S3 server started here (moto's server,
//! installed by `.ci/tools`): files and thumbnails land under the same key layout, never in the
//! data directory; downloads stream them back with the usual headers; a row that does not commit
//! leaves no object; `parley migrate-attachments` moves files both ways.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::attachments::{file, stored_files, upload};
use crate::cli::parley;
use crate::helpers::{KillOnDrop, Party, TestApp, free_port, png, spawn_app_in};

const BUCKET: &str = "parley-files";
const PREFIX: &str = "tenant-7";

/// A moto S3 server on a free port, with an empty bucket.
struct S3Server {
    _child: KillOnDrop,
    endpoint: String,
}

impl S3Server {
    async fn start() -> S3Server {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("moto_server ({e}): run the tests with `bash .ci/test`, which installs it (.ci/tools)")
            });
        let server = S3Server {
            _child: KillOnDrop(child),
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = crate::helpers::http_client();
        for _ in 0..100 {
            if client.get(&server.endpoint).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let created = client
            .put(format!("{}/{BUCKET}", server.endpoint))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
        server
    }

    /// The keys under `prefix` (the bucket listed as any S3 client would).
    async fn keys(&self) -> Vec<String> {
        let listing = crate::helpers::http_client()
            .get(format!(
                "{}/{BUCKET}?list-type=2&prefix={PREFIX}/",
                self.endpoint
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// The settings of the bucket, as the environment gives them to the command line.
    fn env(&self, command: &mut Command) {
        command
            .env("PARLEY_STORAGE__S3__ENDPOINT", &self.endpoint)
            .env("PARLEY_STORAGE__S3__BUCKET", BUCKET)
            .env("PARLEY_STORAGE__S3__PREFIX", PREFIX);
    }

    fn configure(&self, settings: &mut parley::Settings, new_files_in_bucket: bool) {
        settings.storage.s3.endpoint = self.endpoint.clone();
        settings.storage.s3.bucket = BUCKET.into();
        settings.storage.s3.prefix = PREFIX.into();
        if new_files_in_bucket {
            settings.storage.attachments = parley::config::AttachmentStore::S3;
        }
    }
}

/// Seals the bucket's credentials into the data directory, through the command line.
fn store_credentials(data_dir: &std::path::Path) {
    let out = parley()
        .args(["s3-credentials", "--access-key-id", "AKIATESTPARLEY"])
        .arg("--data-dir")
        .arg(data_dir)
        .env("AWS_SECRET_ACCESS_KEY", "moto-accepts-any-secret")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn download(
    app: &TestApp,
    party: &Party,
    conversation: i64,
    attachment: i64,
    what: &str,
) -> reqwest::Response {
    app.get(
        &format!(
            "/api/v1/{}/messages/{conversation}/attachments/{attachment}{what}",
            party.area
        ),
        &party.token,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_live_in_the_bucket_and_come_back_with_the_same_headers() {
    let s3 = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    store_credentials(dir.path());
    let app = spawn_app_in(dir, |s| s3.configure(s, true)).await;
    let m = app.marketplace().await;
    let conversation = app.vendor_conversation(&m.a1, &m.ca, "Broken lamp").await;

    let photo = png(64, 48);
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let sent = upload(
        &app,
        "shop",
        &m.ca,
        conversation,
        "Photos",
        vec![
            file(photo.clone(), "lamp.png", "image/png"),
            file(pdf.clone(), "receipt.pdf", "application/pdf"),
        ],
    )
    .await;
    assert_eq!(sent.status(), StatusCode::CREATED);
    let message: serde_json::Value = sent.json().await.unwrap();
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);

    // In the bucket, under the prefix and the usual layout; nothing left in the data directory.
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    let keys = s3.keys().await;
    assert_eq!(keys.len(), 3, "file, thumbnail and file: {keys:?}");
    let month = chrono::Utc::now().format("%Y/%m");
    for key in &keys {
        assert!(
            key.starts_with(&format!("{PREFIX}/messages/{month}/{conversation}/")),
            "{key}"
        );
    }
    assert!(keys.iter().any(|k| k.ends_with("_thumb.png")));

    // Streamed back through the server (never a bucket URL), as a download.
    let png_id = attachments
        .iter()
        .find(|a| a["mime_type"] == "image/png")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let got = download(&app, &m.a1, conversation, png_id, "").await;
    assert_eq!(got.status(), StatusCode::OK);
    let headers = got.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["content-length"], photo.len().to_string().as_str());
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert_eq!(got.bytes().await.unwrap().as_ref(), photo.as_slice());
    let thumb = download(&app, &m.a1, conversation, png_id, "/thumbnail").await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert!(thumb.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // Another store's staff: 404, as for local files.
    let foreign = download(&app, &m.b1, conversation, png_id, "").await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    // A message whose row does not commit (the conversation is closed) leaves no object.
    let closed = app
        .post(
            &format!("/api/v1/vendor/messages/{conversation}/close"),
            &m.a1.token,
            json!({}),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    let refused = upload(
        &app,
        "shop",
        &m.ca,
        conversation,
        "One more",
        vec![file(png(10, 10), "more.png", "image/png")],
    )
    .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert_eq!(s3.keys().await.len(), 3);
    assert!(stored_files(&app).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_attachments_moves_files_both_ways_and_downloads_follow() {
    let s3 = S3Server::start().await;
    // Files stored locally first.
    let app = spawn_app_in(tempfile::tempdir().unwrap(), |_| {}).await;
    let m = app.marketplace().await;
    let conversation = app.vendor_conversation(&m.a1, &m.ca, "Invoices").await;
    let mut sent = Vec::new();
    for n in 0..3 {
        let response = upload(
            &app,
            "shop",
            &m.ca,
            conversation,
            "file",
            vec![file(png(20 + n, 20), "scan.png", "image/png")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.unwrap();
        sent.push(body["attachments"][0]["id"].as_i64().unwrap());
    }
    assert_eq!(stored_files(&app).len(), 6);
    app.stop.stop().await;
    let dir = app.data_dir;
    store_credentials(dir.path());
    // A key rotation re-seals the bucket's secret with the rest (the moves below open it).
    let rotated = parley()
        .args(["rotate-key", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(rotated.status.success());
    let said = String::from_utf8_lossy(&rotated.stdout);
    assert!(said.contains("1 credentials re-sealed"), "{said}");

    let path = dir.path().to_path_buf();
    let migrate = |to: &str| {
        let mut command = parley();
        command
            .args(["migrate-attachments", "--to", to, "--data-dir"])
            .arg(&path);
        s3.env(&mut command);
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let said = migrate("s3");
    assert!(
        said.contains("3 attachments (6 files) moved to s3"),
        "{said}"
    );
    assert_eq!(s3.keys().await.len(), 6);
    // Run again: nothing left to move.
    assert!(migrate("s3").contains("0 attachments"));

    let app = spawn_app_in(dir, |s| s3.configure(s, true)).await;
    assert!(stored_files(&app).is_empty());
    for id in &sent {
        let got = download(&app, &m.ca, conversation, *id, "").await;
        assert_eq!(got.status(), StatusCode::OK);
        assert!(got.bytes().await.unwrap().starts_with(b"\x89PNG"));
    }
    app.stop.stop().await;
    let dir = app.data_dir;

    let said = migrate("local");
    assert!(
        said.contains("3 attachments (6 files) moved to local"),
        "{said}"
    );
    assert!(s3.keys().await.is_empty());
    let app = spawn_app_in(dir, |_| {}).await;
    assert_eq!(stored_files(&app).len(), 6);
    for id in &sent {
        let got = download(&app, &m.ca, conversation, *id, "/thumbnail").await;
        assert_eq!(got.status(), StatusCode::OK);
    }
}

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{Party, TestApp, assert_error, png, spawn_app};

pub(crate) fn file(bytes: Vec<u8>, name: &str, claimed_type: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(claimed_type)
        .unwrap()
}

pub(crate) async fn upload(
    app: &TestApp,
    area: &str,
    party: &Party,
    conversation: i64,
    content: &str,
    files: Vec<Part>,
) -> reqwest::Response {
    let mut form = Form::new().text("content", content.to_string());
    for part in files {
        form = form.part("files", part);
    }
    app.client
        .post(app.url(&format!("/api/v1/{area}/messages/{conversation}/messages")))
        .bearer_auth(&party.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Every regular file under `uploads/` except the temporary directory.
pub(crate) fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &app.state.settings.data_dir().join("uploads/messages"),
        &mut out,
    );
    out
}

fn temp_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.state.settings.data_dir().join("uploads/tmp"))
        .unwrap()
        .count()
}

/// A minimal PDF header is enough for the sniffer.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// The start of a ZIP whose first entry is `word/document.xml`: a DOCX to the sniffer.
fn docx() -> Vec<u8> {
    let name = b"word/document.xml";
    let mut bytes = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(&[0; 64]);
    bytes
}

#[tokio::test]
async fn images_are_stored_with_size_and_thumbnail_and_served_as_downloads() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Photos").await;
    let image = png(640, 480);
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "Here is the damage",
        vec![file(image.clone(), "damage photo.png", "image/png")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let message: Value = r.json().await.unwrap();
    let attachment = &message["attachments"][0];
    assert_eq!(attachment["original_filename"], "damage photo.png");
    assert_eq!(attachment["mime_type"], "image/png");
    assert_eq!(attachment["is_image"], true);
    assert_eq!(attachment["image_width"], 640);
    assert_eq!(attachment["image_height"], 480);
    assert_eq!(attachment["file_size"], image.len());

    let files = stored_files(&app);
    assert_eq!(files.len(), 2, "the file and its thumbnail: {files:?}");
    let relative = files
        .iter()
        .find(|f| !f.to_string_lossy().contains("_thumb"))
        .unwrap();
    let relative = relative
        .strip_prefix(app.data_dir.path())
        .unwrap()
        .to_string_lossy()
        .to_string();
    let parts: Vec<&str> = relative.split('/').collect();
    assert_eq!(parts[..2], ["uploads", "messages"]);
    assert_eq!(parts[2].len(), 4, "YYYY");
    assert_eq!(parts[3].len(), 2, "MM");
    assert_eq!(parts[4], id.to_string());
    assert!(
        parts[5].ends_with(".png") && parts[5].len() == 36,
        "<uuid>.png: {}",
        parts[5]
    );
    assert_eq!(temp_files(&app), 0);

    // The vendor downloads it: bytes intact, always as an attachment, never sniffed.
    let download = app
        .get(
            attachment["download_url"]
                .as_str()
                .unwrap()
                .replace("/shop/", "/vendor/")
                .as_str(),
            &m.a1.token,
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("damage photo.png"), "{disposition}");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert!(
        download.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), image);

    let thumbnail = app
        .get(attachment["thumbnail_url"].as_str().unwrap(), &m.ca.token)
        .await;
    assert_eq!(thumbnail.status(), StatusCode::OK);
    assert!(
        thumbnail.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let thumb = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
}

#[tokio::test]
async fn documents_text_and_csv_are_accepted_by_their_content() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Docs").await;
    let r = upload(
        &app,
        "vendor",
        &m.a1,
        id,
        "",
        vec![
            file(pdf(), "invoice", "application/octet-stream"),
            file(docx(), "letter.docx", "application/octet-stream"),
            file(b"id,total\n1,9.99\n".to_vec(), "orders.csv", "text/csv"),
            file(
                "Grüße\r\nline two\n".as_bytes().to_vec(),
                "notes.txt",
                "text/plain",
            ),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let message: Value = r.json().await.unwrap();
    let types: Vec<&str> = message["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["mime_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/csv",
            "text/plain"
        ]
    );
    assert_eq!(message["content"], "", "files alone make a message");
    assert!(message["attachments"][0]["thumbnail_url"].is_null());
}

#[tokio::test]
async fn hostile_files_are_refused_whatever_they_claim_and_nothing_is_left() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Hostile").await;
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            b"<html><script>alert(1)</script></html>".to_vec(),
            "x.png",
            "image/png",
        ),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            "x.svg",
            "image/svg+xml",
        ),
        (
            b"<?xml version=\"1.0\"?><svg/>".to_vec(),
            "x.txt",
            "text/plain",
        ),
        (
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
            "tool",
            "application/octet-stream",
        ),
        (vec![0u8, 1, 2, 3, 255, 254], "blob.txt", "text/plain"),
        (Vec::new(), "empty.txt", "text/plain"),
    ];
    for (bytes, name, claimed) in cases {
        // A good file first: it must be removed again when the second is refused.
        let r = upload(
            &app,
            "shop",
            &m.ca,
            id,
            "look",
            vec![
                file(png(8, 8), "ok.png", "image/png"),
                file(bytes, name, claimed),
            ],
        )
        .await;
        assert_eq!(
            assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
            "unsupported_media_type",
            "{name}"
        );
    }
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    assert_eq!(temp_files(&app), 0);
    assert_eq!(
        app.query_i64("SELECT count(*) FROM message_attachments", vec![])
            .await,
        0
    );
    assert_eq!(
        app.query_i64("SELECT count(*) FROM messages", vec![]).await,
        1
    );
}

#[tokio::test]
async fn client_filenames_are_display_text_only() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Names").await;
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "names",
        vec![
            file(png(4, 4), "../../../../etc/passwd.png", "image/png"),
            file(png(4, 4), "<svg onload=alert(1)>.png", "image/png"),
            file(png(4, 4), "Résumé \"final\".png", "image/png"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let message: Value = r.json().await.unwrap();
    assert_eq!(message["attachments"][0]["original_filename"], "passwd.png");
    assert_eq!(
        message["attachments"][1]["original_filename"],
        "<svg onload=alert(1)>.png"
    );
    for file in stored_files(&app) {
        assert!(file.starts_with(app.data_dir.path().join("uploads/messages")));
    }
    let download = app
        .get(
            message["attachments"][2]["download_url"].as_str().unwrap(),
            &m.ca.token,
        )
        .await;
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.png"),
        "{disposition}"
    );
    assert!(
        !disposition.contains("\"final\""),
        "quotes never break out of the header: {disposition}"
    );
}

#[tokio::test]
async fn size_and_count_limits_come_from_the_platform_setting() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Limits").await;
    let r = app
        .put(
            "/api/v1/admin/settings/message_attachment_max_size_mb",
            &m.admin.token,
            json!({"value": 1}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["value"], "1");
    let r = app
        .put(
            "/api/v1/admin/settings/message_attachment_max_size_mb",
            &m.admin.token,
            json!({"value": 0}),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    let r = app
        .put(
            "/api/v1/admin/settings/no_such_key",
            &m.admin.token,
            json!({"value": 1}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let r = app
        .put(
            "/api/v1/vendor/settings/message_attachment_max_size_mb",
            &m.a1.token,
            json!({"value": 50}),
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let settings: Value = app
        .get("/api/v1/admin/settings", &m.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings["settings"][0]["key"],
        "message_attachment_max_size_mb"
    );

    let big = "a".repeat(1024 * 1024 + 1).into_bytes();
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "big",
        vec![file(big, "big.txt", "text/plain")],
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
    let just = "a".repeat(1024 * 1024).into_bytes();
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "just fits",
        vec![file(just, "ok.txt", "text/plain")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let eleven = (0..11)
        .map(|i| file(b"small".to_vec(), &format!("{i}.txt"), "text/plain"))
        .collect();
    let r = upload(&app, "shop", &m.ca, id, "many", eleven).await;
    assert_eq!(
        assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
    let ten = (0..10)
        .map(|i| file(b"small".to_vec(), &format!("{i}.txt"), "text/plain"))
        .collect();
    let r = upload(&app, "shop", &m.ca, id, "ten", ten).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(temp_files(&app), 0);
    assert_eq!(
        app.query_i64("SELECT count(*) FROM message_attachments", vec![])
            .await,
        11
    );
}

/// A PNG header that declares 50,000 × 50,000 pixels (2.5 gigapixels) over a few bytes.
fn png_bomb() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(&ihdr);
    bytes.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // The start of the image data: a zlib header over nothing much, as a bomb would send.
    let idat = b"IDAT\x78\x9c".to_vec();
    bytes.extend_from_slice(&2u32.to_be_bytes());
    bytes.extend_from_slice(&idat);
    bytes.extend_from_slice(&crc32(&idat).to_be_bytes());
    bytes
}

#[tokio::test]
async fn decompression_bombs_are_refused_from_the_header() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Bomb").await;
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "bomb",
        vec![file(png_bomb(), "bomb.png", "image/png")],
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
    // A broken image (valid signature, no image data) is refused too.
    let mut broken = png(16, 16);
    broken.truncate(40);
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "broken",
        vec![file(broken, "broken.png", "image/png")],
    )
    .await;
    assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(stored_files(&app).is_empty());
}

#[tokio::test]
async fn attachments_are_only_served_to_those_who_may_see_the_conversation() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Private").await;
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "secret",
        vec![file(png(10, 10), "id-card.png", "image/png")],
    )
    .await;
    let message: Value = r.json().await.unwrap();
    let attachment = message["attachments"][0]["id"].as_i64().unwrap();
    let message_id = message["id"].as_i64().unwrap();

    let r = app
        .client
        .get(app.url(&format!(
            "/api/v1/shop/messages/{id}/attachments/{attachment}"
        )))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED).await;
    // Admins oversee stores' conversations by default (the marketplace flows): with oversight
    // off they are as foreign to them as to anyone.
    app.set_setting(&m.admin, "admin_oversight", serde_json::json!(false))
        .await;
    for (area, party) in [
        ("shop", &m.ca2),
        ("shop", &m.cb),
        ("vendor", &m.b1),
        ("admin", &m.admin),
    ] {
        for suffix in ["", "/thumbnail"] {
            let r = app
                .get(
                    &format!("/api/v1/{area}/messages/{id}/attachments/{attachment}{suffix}"),
                    &party.token,
                )
                .await;
            assert_error(r, StatusCode::NOT_FOUND).await;
        }
    }
    // The attachment id must belong to the conversation in the path.
    let other = app.vendor_conversation(&m.a1, &m.ca, "Other").await;
    let r = app
        .get(
            &format!("/api/v1/shop/messages/{other}/attachments/{attachment}"),
            &m.ca.token,
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    for probe in [
        "..%2f..%2fsecret.key",
        "..%2F..%2Fparley.db",
        "1%2f..%2f..%2fsecret.key",
    ] {
        let r = app
            .get(
                &format!("/api/v1/shop/messages/{id}/attachments/{probe}"),
                &m.ca.token,
            )
            .await;
        assert_error(r, StatusCode::NOT_FOUND).await;
    }
    // The thread lists the files of a live message only; a deleted message takes its files out of
    // reach.
    assert_eq!(thread_files(&app, &m.ca.token, id, message_id).await, 1);
    app.delete(
        &format!("/api/v1/shop/messages/{id}/messages/{message_id}"),
        &m.ca.token,
    )
    .await;
    let r = app
        .get(
            &format!("/api/v1/shop/messages/{id}/attachments/{attachment}"),
            &m.ca.token,
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    assert_eq!(thread_files(&app, &m.ca.token, id, message_id).await, 0);
}

/// How many files the customer's thread lists for one of its messages.
async fn thread_files(app: &TestApp, token: &str, conversation: i64, message: i64) -> usize {
    let detail: Value = app
        .get(&format!("/api/v1/shop/messages/{conversation}"), token)
        .await
        .json()
        .await
        .unwrap();
    let messages = detail["messages"].as_array().unwrap();
    let listed = messages.iter().find(|x| x["id"] == message).unwrap();
    listed["attachments"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_upload_to_a_closed_or_foreign_conversation_is_refused_before_reading_it() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Closed").await;
    app.post(
        &format!("/api/v1/vendor/messages/{id}/close"),
        &m.a1.token,
        json!({}),
    )
    .await;
    let r = upload(
        &app,
        "shop",
        &m.ca,
        id,
        "late",
        vec![file(png(8, 8), "late.png", "image/png")],
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::CONFLICT).await,
        "conversation_closed"
    );
    let r = upload(
        &app,
        "vendor",
        &m.b1,
        id,
        "foreign",
        vec![file(png(8, 8), "x.png", "image/png")],
    )
    .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    assert!(stored_files(&app).is_empty());
    assert_eq!(temp_files(&app), 0);
}

#[tokio::test]
async fn files_no_row_names_are_swept_once_they_are_an_hour_old() {
    let app = spawn_app().await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Photos").await;
    let r = upload(
        &app,
        "vendor",
        &m.a1,
        id,
        "photo",
        vec![file(png(40, 30), "p.png", "image/png")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let kept = stored_files(&app);
    assert_eq!(kept.len(), 2, "the photo and its thumbnail");
    // Files a crash left between their rename and their row's commit: beside the photo, and in
    // a conversation folder no row has yet; one of them still being written a moment ago.
    let folder = kept[0].parent().unwrap().to_path_buf();
    let orphan = folder.join("0191e2f0aaaa7bbb8ccc9ddd0eee1fff.pdf");
    let fresh_orphan = folder.join("0191e2f0aaaa7bbb8ccc9ddd0eee2fff.pdf");
    let other = folder.parent().unwrap().join("999999");
    std::fs::create_dir_all(&other).unwrap();
    let other_orphan = other.join("0191e2f0aaaa7bbb8ccc9ddd0eee3fff.png");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for path in [&orphan, &fresh_orphan, &other_orphan] {
        std::fs::write(path, pdf()).unwrap();
    }
    for path in kept.iter().chain([&orphan, &other_orphan]) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }

    let removed = parley::jobs::sweep_orphaned_attachments(&app.state.jobs())
        .await
        .unwrap();
    assert_eq!(removed, 2);
    assert!(!orphan.exists() && !other_orphan.exists());
    assert!(
        fresh_orphan.exists(),
        "a file younger than an hour may still get its row"
    );
    for path in &kept {
        assert!(path.exists(), "{} has a row", path.display());
    }
    // The files a row names still download.
    let detail: Value = app
        .get(&format!("/api/v1/vendor/messages/{id}"), &m.a1.token)
        .await
        .json()
        .await
        .unwrap();
    let url = detail["messages"][1]["attachments"][0]["download_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get(&url, &m.a1.token).await.status(), StatusCode::OK);
}

/// A small tmpfs mounted for one test, unmounted on drop. Mounting needs root (as CI runs) or
/// `sudo` without a password.
struct SmallDisk(tempfile::TempDir);

/// `mount`/`umount` as root: directly when we are, through `sudo -n` otherwise.
fn as_root(program: &str) -> std::process::Command {
    if rustix::process::geteuid().is_root() {
        std::process::Command::new(program)
    } else {
        let mut sudo = std::process::Command::new("sudo");
        sudo.args(["-n", program]);
        sudo
    }
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = as_root("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "the disk-full test mounts a tmpfs: run the tests as root or with passwordless sudo"
        );
        SmallDisk(dir)
    }

    fn free_bytes(&self) -> u64 {
        let stats = rustix::fs::statvfs(self.0.path()).unwrap();
        stats.f_bavail * stats.f_frsize
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = as_root("umount").arg("-l").arg(self.0.path()).status();
    }
}

/// A PNG of noise: it does not compress, so its size and its thumbnail's are predictable.
fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let image = image::RgbImage::from_fn(width, height, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [r, g, b, _] = seed.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

#[tokio::test]
async fn a_full_disk_answers_507_keeps_nothing_half_written_and_reads_go_on() {
    let disk = SmallDisk::mount(24);
    let app =
        crate::helpers::spawn_app_with(|s| s.storage.data_dir = disk.0.path().join("data")).await;
    let m = app.marketplace().await;
    let id = app.vendor_conversation(&m.a1, &m.ca, "Full").await;
    let photo = noise_png(600, 400);
    let messages_before = app
        .query_i64(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            vec![id],
        )
        .await;

    // Room for the upload itself but not for its thumbnail (about 200 KB of noise).
    let filler = disk.0.path().join("filler");
    let room = photo.len() as u64 + 48 * 1024;
    let fill = disk.free_bytes().saturating_sub(room);
    std::fs::write(&filler, vec![0u8; usize::try_from(fill).unwrap()]).unwrap();
    let r = upload(
        &app,
        "vendor",
        &m.a1,
        id,
        "photo",
        vec![file(photo.clone(), "p.png", "image/png")],
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::INSUFFICIENT_STORAGE).await,
        "insufficient_storage"
    );
    // Not even room for the upload.
    std::fs::write(
        disk.0.path().join("filler2"),
        vec![0u8; usize::try_from(disk.free_bytes().saturating_sub(4096)).unwrap()],
    )
    .unwrap();
    let r = upload(
        &app,
        "vendor",
        &m.a1,
        id,
        "photo",
        vec![file(photo.clone(), "p.png", "image/png")],
    )
    .await;
    assert_eq!(
        assert_error(r, StatusCode::INSUFFICIENT_STORAGE).await,
        "insufficient_storage"
    );
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    assert_eq!(temp_files(&app), 0);
    assert_eq!(
        app.query_i64(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            vec![id]
        )
        .await,
        messages_before
    );
    // Reads go on meanwhile.
    let r = app
        .get(&format!("/api/v1/shop/messages/{id}"), &m.ca.token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // With room again, the same upload goes through.
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(disk.0.path().join("filler2")).unwrap();
    let r = upload(
        &app,
        "vendor",
        &m.a1,
        id,
        "photo",
        vec![file(photo, "p.png", "image/png")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(stored_files(&app).len(), 2);
    app.stop.stop().await;
}

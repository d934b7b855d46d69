use super::*;

#[test]
fn migrations_apply_to_an_empty_file_and_create_every_seed_table() {
    let dir = tempfile::tempdir().unwrap();
    let conn = open_and_migrate(&dir.path().join("p.db")).unwrap();
    for table in [
        "stores",
        "users",
        "customers",
        "sessions",
        "platform_settings",
        "conversations",
        "conversation_participants",
        "messages",
        "message_attachments",
        "email_templates",
        "store_email_templates",
        "email_logs",
        "store_email_settings",
        "admin_notifications",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "missing table {table}");
    }
    // Enums are checked TEXT.
    conn.execute(
        "INSERT INTO stores (code, name, tier) VALUES ('a', 'A', 'business')",
        [],
    )
    .unwrap();
    assert!(
        conn.execute(
            "INSERT INTO stores (code, name, tier) VALUES ('b', 'B', 'gold')",
            []
        )
        .is_err()
    );
}

#[test]
fn reopening_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    drop(open_and_migrate(&path).unwrap());
    drop(open_and_migrate(&path).unwrap());
}

#[test]
fn clustering_messages_keeps_them_their_attachments_and_their_search() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("p.db")).unwrap();
    set_common_pragmas(&conn).unwrap();
    embedded::migrations::runner()
        .set_target(refinery::Target::Version(13))
        .run(&mut conn)
        .unwrap();
    conn.execute_batch(
        "INSERT INTO stores (id, code, name, tier) VALUES (1, 's', 'S', 'business');
         INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES
             (1, 'store_customer', 'first', 1), (2, 'store_customer', 'second', 1);
         INSERT INTO messages (conversation_id, sender_type, sender_id, content) VALUES
             (1, 'customer', 1, 'alpha'), (2, 'customer', 1, 'bravo'), (1, 'store', 1, 'charlie');
         INSERT INTO message_attachments (message_id, filename, original_filename, file_path, file_size, mime_type)
             VALUES (3, 'f', 'f.txt', 'uploads/f', 1, 'text/plain');",
    )
    .unwrap();
    embedded::migrations::runner().run(&mut conn).unwrap();

    let rows = |sql: &str| -> Vec<String> {
        let mut statement = conn.prepare(sql).unwrap();
        statement
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let messages =
        "SELECT id || ':' || conversation_id || ':' || content FROM messages ORDER BY id";
    assert_eq!(rows(messages), ["1:1:alpha", "2:2:bravo", "3:1:charlie"]);
    let attachments = "SELECT id || ':' || message_id FROM message_attachments";
    assert_eq!(rows(attachments), ["1:3"]);
    let found = "SELECT rowid & 1048575 FROM message_search WHERE message_search MATCH 'charlie'";
    assert_eq!(rows(&format!("SELECT CAST(({found}) AS TEXT)")), ["1"]);
    conn.execute_batch("INSERT INTO message_search (message_search) VALUES ('integrity-check');")
        .unwrap();
    // A new message continues the numbering, and a conversation still takes its messages and
    // their attachments along when it goes.
    let actor = crate::domain::Actor::Customer {
        customer_id: 1,
        store_id: 1,
    };
    let id = crate::messaging::messages::insert_message(
        &conn,
        &actor,
        2,
        "delta",
        crate::messaging::messages::Kind::Message,
    )
    .unwrap();
    assert_eq!(id, 4);
    conn.execute("DELETE FROM conversations WHERE id = 1", [])
        .unwrap();
    assert_eq!(rows(messages), ["2:2:bravo", "4:2:delta"]);
    assert!(rows(attachments).is_empty());
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
}

fn assert_refused_untouched(bytes: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    fs::write(&path, bytes).unwrap();
    let err = open_and_migrate(&path).unwrap_err().to_string();
    assert!(err.contains(expect), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert!(!dir.path().join("p.db-wal").exists());
}

#[test]
fn the_at_most_once_flag_moves_from_extra_data_to_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("p.db")).unwrap();
    set_common_pragmas(&conn).unwrap();
    embedded::migrations::runner()
        .set_target(refinery::Target::Version(17))
        .run(&mut conn)
        .unwrap();
    conn.execute_batch(
        r#"INSERT INTO email_logs (id, recipient_email, subject, from_email, extra_data) VALUES
             (1, 'a@x.test', '', 'n@x.test', '{"at_most_once":true,"variables":{"a":1}}'),
             (2, 'b@x.test', '', 'n@x.test', '{"at_most_once":false}'),
             (3, 'c@x.test', '', 'n@x.test', NULL);"#,
    )
    .unwrap();
    embedded::migrations::runner().run(&mut conn).unwrap();
    let rows: Vec<(i64, bool, Option<String>)> = conn
        .prepare("SELECT id, at_most_once, extra_data FROM email_logs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (1, true, Some(r#"{"variables":{"a":1}}"#.to_string())),
            (2, false, Some("{}".to_string())),
            (3, false, None),
        ]
    );
}

#[test]
fn random_zeroed_empty_files_are_refused_and_untouched() {
    assert_refused_untouched(b"", "empty");
    assert_refused_untouched(&[0u8; 8192], "no SQLite header");
    let noise: Vec<u8> = (0..9000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert_refused_untouched(&noise, "not a SQLite database");
}

#[test]
fn truncated_file_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let conn = open_and_migrate(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    let bytes = fs::read(&path).unwrap();
    assert_refused_untouched(&bytes[..bytes.len() / 2], "truncated");
}

#[test]
fn newer_schema_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let conn = open_and_migrate(&path).unwrap();
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (9999, 'future', '', '0')",
        [],
    )
    .unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    let bytes = fs::read(&path).unwrap();
    assert_refused_untouched(&bytes, "newer Parley");
}

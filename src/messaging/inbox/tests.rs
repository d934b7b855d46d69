//! The inbox's queries checked against their plans and against reading every row.

use super::*;
use crate::messaging::search::{Words, index_queued_messages, plan as search_plan, words};
use rusqlite::params;

/// EXPLAIN QUERY PLAN lines of `sql`.
fn plan(conn: &Connection, sql: &str, params: &Params) -> Vec<String> {
    conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(bind(params).as_slice(), |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The ids `sql` selects, in its order.
fn selected_ids(conn: &Connection, sql: &str, params: &Params) -> Vec<i64> {
    conn.prepare(sql)
        .unwrap()
        .query_map(bind(params).as_slice(), |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A full scan of a table (as opposed to a search, or a scan of an index).
fn full_scans(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| {
            l.starts_with("SCAN ")
                && !l.contains("USING")
                && !l.contains("VIRTUAL TABLE")
                && !l.starts_with("SCAN (subquery")
                && *l != "SCAN hits"
                && *l != "SCAN page"
        })
        .cloned()
        .collect()
}

#[test]
fn inbox_queries_never_scan_a_whole_table() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    let page = Page { skip: 0, limit: 20 };
    let actors = [
        Actor::Admin { user_id: 1 },
        Actor::Staff {
            user_id: 2,
            store_id: 1,
        },
        Actor::Customer {
            customer_id: 3,
            store_id: 1,
        },
    ];
    let filters = [
        ListFilter::default(),
        ListFilter {
            is_closed: Some(false),
            conversation_type: Some(ConversationType::StoreCustomer),
            search: None,
            ..Default::default()
        },
        ListFilter {
            search: Some("refund".into()),
            updated_since: None,
            ..Default::default()
        },
    ];
    for actor in &actors {
        for filter in &filters {
            let plans = match (&filter.search, actor) {
                (None, _) => vec![None],
                (Some(_), Actor::Staff { .. }) => {
                    vec![Some(SearchPlan::FromHits), Some(SearchPlan::NewestFirst)]
                }
                (Some(_), _) => vec![Some(SearchPlan::FromHits)],
            };
            for search in plans {
                let mut q = list_query(actor, filter, page, search, false, None);
                if search.is_some() {
                    let hits = Value::Text("[1,2,3]".into());
                    let page = if q.walk.is_some() { ":page" } else { ":hits" };
                    q.page_params.push((page, hits.clone()));
                    q.count_params.push((":hits", hits));
                }
                let mut statements = vec![
                    ("count", &q.count_sql, &q.count_params),
                    ("page", &q.page_sql, &q.page_params),
                ];
                if let Some((sql, params)) = &q.walk {
                    statements.push(("walk", sql, params));
                }
                for (which, sql, params) in statements {
                    let lines = plan(&conn, sql, params);
                    // Staff's and admins' pages come newest first from indexes: at most the
                    // page's own rows are sorted, after they are chosen.
                    if !matches!(actor, Actor::Customer { .. }) && search.is_none() {
                        let chosen = lines.iter().position(|l| l == "SCAN page");
                        assert!(
                            !lines[..chosen.unwrap_or(lines.len())]
                                .iter()
                                .any(|l| l.contains("TEMP B-TREE")),
                            "{actor:?} {filter:?} {which}: {lines:#?}"
                        );
                    }
                    if std::env::var("SHOW_PLANS").is_ok() {
                        eprintln!("{actor:?} {filter:?} {search:?}\n{}", lines.join("\n"));
                    }
                    assert!(
                        full_scans(&lines).is_empty(),
                        "{actor:?} {filter:?}: {lines:#?}"
                    );
                    let first = lines
                        .iter()
                        .find(|l| l.starts_with("SEARCH ") || l.starts_with("SCAN "))
                        .cloned()
                        .unwrap_or_default();
                    match (actor, search, which) {
                        // A customer's inbox starts from their own participant rows,
                        // whatever the size of the store; a search's few hits start from
                        // the conversation ids, and so does a page the walk chose.
                        (Actor::Customer { .. }, _, _)
                        | (Actor::Staff { .. }, Some(SearchPlan::FromHits), _)
                        | (_, Some(SearchPlan::NewestFirst), "page") => assert!(
                            first.contains("rowid=?") || first.contains("(id=?"),
                            "{actor:?} {filter:?} {which}: {lines:#?}"
                        ),
                        // Many hits: the store's conversations, newest first.
                        (_, Some(SearchPlan::NewestFirst), _) => assert!(
                            first.contains("ix_conversations_store_activity (store_id=?)"),
                            "{filter:?} {which}: {lines:#?}"
                        ),
                        _ => {}
                    }
                }
            }
        }
        let (unread, params) = unread_query(actor);
        let lines = plan(&conn, &unread, &params);
        assert!(
            full_scans(&lines).is_empty(),
            "unread {actor:?}: {lines:#?}"
        );
    }
}

#[test]
fn an_inbox_row_shows_the_first_participant_on_the_other_side() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A');
         INSERT INTO users (id, email, password_hash, full_name, role, store_id) VALUES
             (20, 's20@x.test', 'h', 'Staff 20', 'store', 1),
             (21, 's21@x.test', 'h', 'Staff 21', 'store', 1),
             (30, 'a30@x.test', 'h', 'Admin 30', 'admin', NULL),
             (31, 'a31@x.test', 'h', 'Admin 31', 'admin', NULL),
             (32, 'a32@x.test', 'h', 'Admin 32', 'admin', NULL);
         INSERT INTO customers (id, store_id, email, full_name) VALUES
             (10, 1, 'c10@x.test', 'Customer 10'), (11, 1, 'c11@x.test', 'Customer 11');
         INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES
             (1, 'store_customer', 's', 1), (2, 'store_customer', 's', 1),
             (3, 'admin_store', 's', 1), (4, 'admin_customer', 's', NULL),
             (5, 'store_customer', 's', 1);
         INSERT INTO conversation_participants (conversation_id, participant_type, participant_id)
         VALUES (1, 'customer', 10), (1, 'store', 20), (1, 'store', 21), (2, 'store', 21),
                (3, 'store', 20), (3, 'admin', 30), (3, 'admin', 31), (4, 'admin', 31),
                (4, 'customer', 11), (5, 'customer', 11), (5, 'store', 20);",
    )
    .unwrap();
    let actors = [
        Actor::Admin { user_id: 30 },
        Actor::Staff {
            user_id: 20,
            store_id: 1,
        },
        Actor::Customer {
            customer_id: 10,
            store_id: 1,
        },
        Actor::Customer {
            customer_id: 11,
            store_id: 1,
        },
    ];
    // Each row's other party against the definition (the earliest participant of another
    // type), and the stored columns against computing them again.
    let check = |step: &str| {
        for actor in &actors {
            let (me_type, _) = actor.participant();
            let list = list(
                &conn,
                actor,
                &ListFilter::default(),
                Page { skip: 0, limit: 50 },
            )
            .unwrap();
            for row in &list.conversations {
                let expected: Option<(ParticipantType, i64, String)> = conn
                    .query_row(
                        "SELECT p.participant_type, p.participant_id,
                                coalesce(u.full_name, c.full_name)
                         FROM conversation_participants p
                         LEFT JOIN users u ON p.participant_type <> 'customer' AND u.id = p.participant_id
                         LEFT JOIN customers c ON p.participant_type = 'customer' AND c.id = p.participant_id
                         WHERE p.conversation_id = ?1 AND p.participant_type <> ?2
                         ORDER BY p.id LIMIT 1",
                        params![row.id, me_type],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()
                    .unwrap();
                let shown = row
                    .other_participant
                    .as_ref()
                    .map(|o| (o.participant_type, o.id, o.name.clone()));
                assert_eq!(shown, expected, "{step}: {actor:?} conversation {}", row.id);
            }
        }
        let stale: i64 = conn
            .query_row(
                "SELECT count(*) FROM conversations c
                 JOIN conversation_first_parties f ON f.conversation_id = c.id
                 WHERE c.first_admin_id IS NOT f.admin_id OR c.first_staff_id IS NOT f.staff_id
                    OR c.first_customer_id IS NOT f.customer_id",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stale, 0, "{step}");
    };
    check("joined");
    let changes = [
        (
            "the first staff member leaves",
            "DELETE FROM conversation_participants WHERE conversation_id = 1 AND participant_id = 20",
        ),
        (
            "a customer joins a conversation without one",
            "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id) VALUES (2, 'customer', 10)",
        ),
        (
            "a participant moves to another conversation",
            "UPDATE conversation_participants SET conversation_id = 2 WHERE conversation_id = 5 AND participant_type = 'customer'",
        ),
        (
            "a participant is replaced",
            "UPDATE conversation_participants SET participant_id = 32 WHERE conversation_id = 3 AND participant_id = 30",
        ),
        (
            "the last admin leaves",
            "DELETE FROM conversation_participants WHERE conversation_id = 4 AND participant_type = 'admin'",
        ),
        (
            "a conversation goes",
            "DELETE FROM conversations WHERE id = 3",
        ),
    ];
    for (step, sql) in changes {
        conn.execute(sql, []).unwrap();
        check(step);
    }
}

#[test]
fn unread_totals_agree_with_summing_what_each_actor_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    // Conversations of every type in two stores, one moved to the other store and one
    // retyped after its participants joined: participation alone must not make them count.
    conn.execute_batch(
        "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');
         INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES
             (1, 'store_customer', 's', 1), (2, 'store_customer', 's', 1),
             (3, 'store_customer', 's', 2), (4, 'admin_store', 's', 1),
             (5, 'admin_customer', 's', NULL), (6, 'store_customer', 's', 1),
             (7, 'store_customer', 's', 1);
         INSERT INTO conversation_participants
             (conversation_id, participant_type, participant_id, unread_count) VALUES
             (1, 'customer', 10, 1), (1, 'store', 20, 2), (2, 'customer', 10, 4),
             (2, 'customer', 11, 8), (3, 'customer', 12, 16), (3, 'store', 21, 32),
             (4, 'store', 20, 64), (4, 'admin', 30, 128), (5, 'customer', 10, 256),
             (5, 'admin', 30, 512), (6, 'customer', 10, 1024), (6, 'store', 20, 2048),
             (7, 'customer', 10, 4096), (7, 'admin', 30, 8192);
         UPDATE conversations SET store_id = 2 WHERE id = 6;
         UPDATE conversations SET conversation_type = 'admin_customer', store_id = NULL
             WHERE id = 7;",
    )
    .unwrap();
    let actors = [
        Actor::Admin { user_id: 30 },
        Actor::Staff {
            user_id: 20,
            store_id: 1,
        },
        Actor::Staff {
            user_id: 21,
            store_id: 2,
        },
        Actor::Customer {
            customer_id: 10,
            store_id: 1,
        },
        Actor::Customer {
            customer_id: 12,
            store_id: 2,
        },
    ];
    // Each actor's badge against summing their participant rows over `visible`, and the
    // stored totals against adding them up again from the participant rows.
    let check = |step: &str| -> Vec<i64> {
        let mut totals = Vec::new();
        for actor in &actors {
            let mut params = me_params(actor);
            let sql = format!(
                "SELECT coalesce(sum(p.unread_count), 0) FROM conversation_participants p
                 JOIN conversations c ON c.id = p.conversation_id
                 WHERE p.participant_type = :me_type AND p.participant_id = :me_id AND {}",
                visible(actor, &mut params)
            );
            let expected: i64 = conn
                .query_row(&sql, bind(&params).as_slice(), |r| r.get(0))
                .unwrap();
            assert_eq!(
                total_unread(&conn, actor).unwrap(),
                expected,
                "{step}: {actor:?}"
            );
            totals.push(expected);
        }
        let groups = |sql: &str| -> Vec<(String, i64, i64, String, i64)> {
            let mut statement = conn.prepare(sql).unwrap();
            let rows = statement.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            });
            rows.unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(
            groups("SELECT * FROM participant_unread WHERE n <> 0 ORDER BY 1, 2, 3, 4"),
            groups(
                "SELECT p.participant_type, p.participant_id, coalesce(c.store_id, 0),
                        c.conversation_type, sum(p.unread_count)
                 FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
                 WHERE p.unread_count > 0 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            ),
            "{step}"
        );
        totals
    };
    // Admin: 4 and 7 (5 is admin_customer too); staff 20: 1 and 4, not 6 (moved away);
    // customer 10: 1 and 2, not 5 or 7 (admin_customer) nor 6 (moved).
    assert_eq!(check("start"), [128 + 512 + 8192, 2 + 64, 32, 1 + 4, 16]);

    // Whatever else changes a participant row or a conversation keeps the totals.
    let steps = [
        ("messages arrive", "UPDATE conversation_participants SET unread_count = unread_count + 3 WHERE participant_type <> 'customer'"),
        ("conversations are read", "UPDATE conversation_participants SET unread_count = 0 WHERE conversation_id IN (1, 5)"),
        ("a participant leaves", "DELETE FROM conversation_participants WHERE conversation_id = 3 AND participant_type = 'store'"),
        ("a conversation is deleted", "DELETE FROM conversations WHERE id = 2"),
        ("a conversation moves back", "UPDATE conversations SET store_id = 1 WHERE id = 6"),
        ("a conversation is retyped", "UPDATE conversations SET conversation_type = 'store_customer', store_id = 2 WHERE id = 7"),
        ("a row changes hands", "UPDATE conversation_participants SET participant_id = 11, conversation_id = 3 WHERE conversation_id = 7 AND participant_type = 'customer'"),
        ("a conversation starts", "INSERT INTO conversations (id, conversation_type, subject, store_id) VALUES (8, 'admin_store', 's', 2);
             INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, unread_count)
             VALUES (8, 'store', 21, 5), (8, 'admin', 30, 0)"),
    ];
    for (step, sql) in steps {
        conn.execute_batch(sql).unwrap();
        check(step);
    }
    assert_eq!(
        check("end"),
        [131 + 8195, 67 + 2051, 5, 1024, 16],
        "admin: 4, and 7 (now store_customer, but an admin takes part: the team joined it; 5 read); \
         staff 20: 4 and 6 (back), 1 read; \
         staff 21: 8 only (left 3); customer 10: 6 (back; 2 deleted, 7's row moved away)"
    );
}

#[test]
fn stored_counts_agree_with_counting_the_conversations() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    conn.execute_batch("INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');")
        .unwrap();
    let mut insert = conn
        .prepare(
            "INSERT INTO conversations (conversation_type, subject, store_id, is_closed)
             VALUES (?1, 's', ?2, ?3)",
        )
        .unwrap();
    let types = ["admin_store", "store_customer", "admin_customer"];
    for (n, (store, kind, closed)) in [Some(1), Some(2), None]
        .into_iter()
        .flat_map(|s| types.into_iter().map(move |t| (s, t)))
        .flat_map(|(s, t)| [0, 1].into_iter().map(move |c| (s, t, c)))
        .filter(|(s, t, _)| s.is_some() || *t == "admin_customer")
        .enumerate()
    {
        for _ in 0..=(n % 3) {
            insert.execute(params![kind, store, closed]).unwrap();
        }
    }
    // Every kind of change the triggers must follow.
    conn.execute_batch(
        "UPDATE conversations SET is_closed = 1 - is_closed WHERE id % 4 = 0;
         UPDATE conversations SET store_id = 2 WHERE id % 7 = 0 AND store_id = 1;
         UPDATE conversations SET conversation_type = 'admin_store' WHERE id % 9 = 0 AND store_id IS NOT NULL;
         DELETE FROM conversations WHERE id % 5 = 0;",
    )
    .unwrap();

    // Only staff see whole stores, which the counts are kept by (an admin also sees the
    // store_customer conversations the team joined, which the counts cannot tell).
    let actors = [
        Actor::Staff {
            user_id: 2,
            store_id: 1,
        },
        Actor::Staff {
            user_id: 3,
            store_id: 2,
        },
    ];
    assert!(counted_total(&Actor::Admin { user_id: 1 }, &ListFilter::default()).is_none());
    let mut filters = vec![ListFilter::default()];
    for closed in [false, true] {
        filters.push(ListFilter {
            is_closed: Some(closed),
            ..Default::default()
        });
    }
    for t in [
        ConversationType::AdminStore,
        ConversationType::StoreCustomer,
        ConversationType::AdminCustomer,
    ] {
        filters.push(ListFilter {
            conversation_type: Some(t),
            is_closed: Some(false),
            ..Default::default()
        });
    }
    let mut nonzero = 0;
    for actor in &actors {
        for filter in &filters {
            let (sql, params) = counted_total(actor, filter).unwrap();
            let counted: i64 = conn
                .query_row(&sql, bind(&params).as_slice(), |r| r.get(0))
                .unwrap();
            let mut params = Params::new();
            let mut sql = format!(
                "SELECT count(*) FROM conversations c WHERE {}",
                visible(actor, &mut params)
            );
            if let Some(t) = filter.conversation_type {
                sql += &format!(" AND c.conversation_type = '{}'", t.as_str());
            }
            if let Some(closed) = filter.is_closed {
                sql += &format!(" AND c.is_closed = {}", i64::from(closed));
            }
            let expected: i64 = conn
                .query_row(&sql, bind(&params).as_slice(), |r| r.get(0))
                .unwrap();
            assert_eq!(counted, expected, "{actor:?} {filter:?}");
            nonzero += usize::from(expected > 0);
        }
    }
    assert!(nonzero >= 10, "the data should make most counts non-zero");
    // Customers' conversations are counted over the conversations themselves.
    let customer = Actor::Customer {
        customer_id: 1,
        store_id: 1,
    };
    assert!(counted_total(&customer, &ListFilter::default()).is_none());
}

#[test]
fn search_finds_what_reading_every_text_finds() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');
         INSERT INTO customers (id, store_id, email, full_name) VALUES (1, 1, 'c@x.test', 'C');",
    )
    .unwrap();
    let words = ["alpha", "bravo", "charlie", "delta"];
    let types = ["admin_store", "store_customer", "admin_customer"];
    for id in 1..=60_i64 {
        let kind = types[(id % 3) as usize];
        let store = if id % 7 == 0 { None } else { Some(1 + id % 2) };
        let store = if kind == "admin_customer" {
            store
        } else {
            store.or(Some(1))
        };
        let subject = format!("about {}", words[(id % 4) as usize]);
        conn.execute(
            "INSERT INTO conversations (id, conversation_type, subject, store_id, is_closed)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, kind, subject, store, id % 5 == 0],
        )
        .unwrap();
        if id % 2 == 1 {
            conn.execute(
                "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, store_id)
                 VALUES (?1, 'customer', 1, ?2)",
                params![id, store],
            )
            .unwrap();
        }
        for n in 0..(id % 4) {
            let content = format!(
                "{} and {}",
                words[((id + n) % 4) as usize],
                words[((id * n) % 3) as usize]
            );
            conn.execute(
                "INSERT INTO messages (id, conversation_id, sender_type, sender_id, content, is_system_message)
                 VALUES ((SELECT coalesce(max(id), 0) + 1 FROM messages), ?1, 'store', 1, ?2, ?3)",
                params![id, content, n == 2 && id % 3 == 0],
            )
            .unwrap();
        }
        // The first half's messages are indexed, the second half's still queued, when
        // the changes below come.
        if id == 30 {
            index_queued_messages(&conn).unwrap();
        }
    }
    // Every change the index (and its queue) must follow: soft and hard deletes of messages,
    // deleted conversations (their messages go by cascade), moved or retyped or renamed ones.
    conn.execute_batch(
        "UPDATE messages SET is_deleted = 1 WHERE id % 5 = 0;
         DELETE FROM messages WHERE id % 7 = 0;
         DELETE FROM conversations WHERE id % 11 = 0;
         UPDATE conversations SET store_id = 2 WHERE id % 13 = 0 AND store_id = 1;
         UPDATE conversations SET conversation_type = 'admin_store' WHERE id % 17 = 0 AND store_id IS NOT NULL;
         UPDATE conversations SET subject = 'renamed delta' WHERE id % 19 = 0;
         INSERT INTO messages (id, conversation_id, sender_type, sender_id, content)
         SELECT (SELECT max(id) FROM messages) + row_number() OVER (ORDER BY id), id, 'store', 1,
                'bravo later'
         FROM conversations WHERE id % 3 = 1;",
    )
    .unwrap();
    index_queued_messages(&conn).unwrap();
    conn.execute_batch(
        "INSERT INTO message_search (message_search) VALUES ('integrity-check');
         INSERT INTO conversation_search (conversation_search) VALUES ('integrity-check');",
    )
    .unwrap();

    let actors = [
        Actor::Admin { user_id: 1 },
        Actor::Staff {
            user_id: 2,
            store_id: 1,
        },
        Actor::Staff {
            user_id: 3,
            store_id: 2,
        },
        Actor::Customer {
            customer_id: 1,
            store_id: 1,
        },
    ];
    let page = Page {
        skip: 0,
        limit: 100,
    };
    let mut found_any = 0;
    let mut walked = 0;
    for actor in &actors {
        for query in ["alpha", "brav", "charlie delta", "delta"] {
            for closed in [None, Some(false)] {
                let filter = ListFilter {
                    search: Some(query.into()),
                    updated_since: None,
                    is_closed: closed,
                    ..Default::default()
                };
                let listed = list(&conn, actor, &filter, page).unwrap();
                let mut ids: Vec<i64> = listed.conversations.iter().map(|c| c.id).collect();
                ids.sort_unstable();

                // Every word in the subject or in one live message, read from the tables.
                let mut params = Params::new();
                let mut sql = format!(
                    "SELECT c.id FROM conversations c WHERE {}",
                    visible(actor, &mut params)
                );
                if let Some(closed) = closed {
                    sql += &format!(" AND c.is_closed = {}", i64::from(closed));
                }
                let has = |text: &str| {
                    query
                        .split(' ')
                        .map(|w| format!("instr({text}, '{w}') > 0"))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                };
                sql += &format!(
                    " AND (({}) OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                           AND NOT m.is_deleted AND NOT m.is_system_message AND {})) ORDER BY c.id",
                    has("c.subject"),
                    has("m.content")
                );
                let expected = selected_ids(&conn, &sql, &params);
                assert_eq!(ids, expected, "{actor:?} {query:?} closed={closed:?}");
                assert_eq!(listed.total, expected.len() as i64, "{actor:?} {query:?}");
                // Past the last page the total is still counted.
                let beyond = Page {
                    skip: 500,
                    limit: 10,
                };
                let empty = list(&conn, actor, &filter, beyond).unwrap();
                assert!(empty.conversations.is_empty());
                assert_eq!(empty.total, expected.len() as i64, "{actor:?} {query:?}");
                found_any += usize::from(!expected.is_empty());

                // Small pages, where common words make staff walk newest first: the pages
                // together hold the same conversations, in the same order as one page.
                let mut paged = Vec::new();
                for skip in (0..expected.len() + 3).step_by(3) {
                    let page = Page {
                        skip: skip as u32,
                        limit: 3,
                    };
                    let part = list(&conn, actor, &filter, page).unwrap();
                    assert_eq!(part.total, expected.len() as i64, "{actor:?} {query:?}");
                    paged.extend(part.conversations.iter().map(|c| c.id));
                    // Unfiltered, the hits are what the caller sees of the search.
                    let visible: i64 = conn
                        .query_row(
                            &format!(
                                "SELECT count(*) FROM conversations c WHERE {}",
                                visible(actor, &mut Params::new())
                            ),
                            bind(&params).as_slice(),
                            |r| r.get(0),
                        )
                        .unwrap();
                    walked += usize::from(
                        closed.is_none()
                            && search_plan(actor, expected.len(), visible, page)
                                == SearchPlan::NewestFirst,
                    );
                }
                let whole: Vec<i64> = listed.conversations.iter().map(|c| c.id).collect();
                assert_eq!(paged, whole, "{actor:?} {query:?} closed={closed:?}");
            }
        }
    }
    assert!(
        found_any >= 24,
        "most searches should find something: {found_any}"
    );
    assert!(walked > 0, "some pages should walk newest first");
}

#[test]
fn search_input_never_reaches_fts5_as_syntax_and_prefixes_become_the_index_terms() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO message_search_queue (rowid, content) VALUES
             (1, 'Refund refunded, REFUNDS; the Café order'),
             (2, 'orders ordered a NEAR b');",
    )
    .unwrap();
    index_queued_messages(&conn).unwrap();
    let q = |input: &str| words(&conn, input).unwrap();
    assert_eq!(
        q("REFUND  order"),
        Some(Words {
            messages:
                r#"("order" OR "ordered" OR "orders") AND ("refund" OR "refunded" OR "refunds")"#
                    .into(),
            subjects: r#""order"* "refund"*"#.into(),
        })
    );
    // Folded as the index folds: case and diacritics.
    assert_eq!(q("CAFÉ").unwrap().messages, r#""cafe""#);
    assert_eq!(
        q("café ordere").unwrap().messages,
        r#""cafe" AND "ordered""#
    );
    // A word no term begins stays a prefix query, which finds nothing.
    assert_eq!(q("zebra").unwrap().messages, r#""zebra"*"#);
    // FTS5 syntax is only ever words.
    assert_eq!(
        q("\"NEAR(a b)\" OR *").unwrap().subjects,
        r#""a"* "b"* "near"* "or"*"#
    );
    assert_eq!(q("  -- ** "), None);
    // Every term the index holds is in the dictionary.
    conn.execute_batch("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, message_search, 'row')")
        .unwrap();
    let missing: i64 = conn
        .query_row(
            "SELECT count(*) FROM temp.v WHERE term NOT IN (SELECT term FROM search_terms)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, 0);
}

#[test]
fn merging_in_quiet_moments_leaves_one_segment_a_level_and_finds_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    // As after a bulk load, or a spell of commits FTS5 has not merged yet: one segment for each.
    conn.execute_batch(
        "INSERT INTO message_search (message_search, rank) VALUES ('automerge', 0);
         INSERT INTO message_search (message_search, rank) VALUES ('crisismerge', 100);",
    )
    .unwrap();
    for n in 1..=40_i64 {
        conn.execute(
            "INSERT INTO message_search_queue (rowid, content) VALUES (?1, ?2)",
            rusqlite::params![n, format!("refund number{n} lamp{}", n % 7)],
        )
        .unwrap();
        index_queued_messages(&conn).unwrap();
    }
    let segments = || -> i64 {
        conn.query_row(
            "SELECT count(DISTINCT segid) FROM message_search_idx",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let found = |query: &str| -> Vec<i64> {
        conn.prepare(
            "SELECT rowid FROM message_search WHERE message_search MATCH ?1 ORDER BY rowid",
        )
        .unwrap()
        .query_map([query], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    assert_eq!(segments(), 40);
    let before = (found("refund"), found("lamp3"), found("number17"));
    let mut steps = 0;
    while crate::messaging::search::merge_step(&conn).unwrap() {
        steps += 1;
        assert!(steps < 100, "merging should end");
    }
    assert!(steps > 0);
    // 40 segments merged two by two: one a level at most (40 = 0b101000: 2).
    assert!(segments() <= 2, "{} segments left", segments());
    assert_eq!((found("refund"), found("lamp3"), found("number17")), before);
    assert_eq!(before.0.len(), 40);
    // Nothing left: the next step merges nothing.
    assert!(!crate::messaging::search::merge_step(&conn).unwrap());
}

#[test]
fn an_inbox_lists_what_its_actor_sees_newest_first_in_any_page_size() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::db::open_and_migrate(&dir.path().join("p.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO stores (id, code, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');
         INSERT INTO customers (id, store_id, email, full_name) VALUES (1, 1, 'c@x.test', 'C');",
    )
    .unwrap();
    let types = ["admin_store", "store_customer", "admin_customer"];
    for id in 1..=90_i64 {
        let kind = types[(id % 3) as usize];
        let store = if kind == "admin_customer" && id % 4 == 0 {
            None
        } else {
            Some(1 + id % 2)
        };
        conn.execute(
            "INSERT INTO conversations (id, conversation_type, subject, store_id, is_closed)
             VALUES (?1, ?2, 'about', ?3, ?4)",
            params![id, kind, store, id % 5 == 0],
        )
        .unwrap();
        // The admin team joined some stores' conversations; a customer takes part in some.
        if kind == "store_customer" && id % 4 == 1 {
            conn.execute(
                "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id)
                 VALUES (?1, 'admin', 1)",
                [id],
            )
            .unwrap();
        }
        if kind != "admin_store" && id % 2 == 1 {
            conn.execute(
                "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, store_id)
                 VALUES (?1, 'customer', 1, ?2)",
                params![id, store],
            )
            .unwrap();
        }
    }
    // Times that tie in runs of three, in an order unrelated to the ids.
    conn.execute_batch(
        "UPDATE conversations SET last_activity_at =
             '2026-01-01 00:00:' || printf('%02d', (id * 7 % 90) / 3) || '.000000000+00:00';",
    )
    .unwrap();

    let actors = [
        Actor::Admin { user_id: 1 },
        Actor::Staff {
            user_id: 2,
            store_id: 1,
        },
        Actor::Customer {
            customer_id: 1,
            store_id: 1,
        },
    ];
    let types = [
        None,
        Some(ConversationType::AdminStore),
        Some(ConversationType::StoreCustomer),
        Some(ConversationType::AdminCustomer),
    ];
    let mut listed_any = 0;
    for (actor, oversight) in actors.iter().flat_map(|a| [(a, "true"), (a, "false")]) {
        crate::platform::set(&conn, crate::platform::ADMIN_OVERSIGHT, oversight).unwrap();
        for conversation_type in types {
            for closed in [None, Some(true)] {
                let filter = ListFilter {
                    conversation_type,
                    is_closed: closed,
                    ..Default::default()
                };
                let mut params = Params::new();
                let stores_conversations =
                    conversation_type == Some(ConversationType::StoreCustomer);
                let mut sql = format!(
                    "SELECT c.id FROM conversations c NOT INDEXED WHERE {}",
                    if stores_conversations {
                        readable(&conn, actor, &mut params).unwrap()
                    } else {
                        visible(actor, &mut params).to_string()
                    }
                );
                if let Some(t) = conversation_type {
                    sql += &format!(" AND c.conversation_type = '{}'", t.as_str());
                }
                if let Some(closed) = closed {
                    sql += &format!(" AND c.is_closed = {}", i64::from(closed));
                }
                sql += " ORDER BY c.last_activity_at DESC, c.id DESC";
                let expected = selected_ids(&conn, &sql, &params);
                listed_any += usize::from(!expected.is_empty());
                let mut paged = Vec::new();
                for skip in (0..expected.len() + 4).step_by(4) {
                    let page = Page {
                        skip: skip as u32,
                        limit: 4,
                    };
                    let part = list(&conn, actor, &filter, page).unwrap();
                    assert_eq!(part.total, expected.len() as i64, "{actor:?} {filter:?}");
                    paged.extend(part.conversations.iter().map(|c| c.id));
                }
                assert_eq!(paged, expected, "{actor:?} {filter:?}");
            }
        }
    }
    assert!(listed_any >= 12, "most inboxes should list something");
}

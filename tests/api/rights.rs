//! The rights table: every messaging route × every role × the caller's own conversation or another
//! tenant's. The route list comes from the application itself, and `expected` matches on the
//! route's operation without a wildcard, so a new route cannot go untested.

use parley::{MESSAGING_ROUTES, Op};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{Marketplace, Party, TestApp, png, spawn_app};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Vendor,
    Customer,
}

/// The status each role gets on its own conversation and on a foreign one. An admin's foreign
/// conversation is another store's with its customer: with oversight (the default) the admin
/// reads it but writes nothing to it.
fn expected(op: Op, role: Role, own: bool) -> u16 {
    use Role::*;
    match (op, role, own) {
        (Op::Detail | Op::Read | Op::Attachment | Op::Thumbnail, Admin, false) => return 200,
        (Op::Send | Op::Close | Op::Reopen | Op::Preferences | Op::DeleteMessage, Admin, false) => {
            return 403;
        }
        _ => {}
    }
    match op {
        Op::List | Op::UnreadCount | Op::Stream => 200,
        Op::Create => match (role, own) {
            (Customer, _) => 403,
            (Admin, true) | (Vendor, true) => 201,
            // Admins may not open store_customer; staff may not write to another store's customer.
            (Admin, false) => 403,
            (Vendor, false) => 400,
        },
        Op::Recipients => match role {
            Customer => 403,
            _ => 200,
        },
        Op::Close | Op::Reopen => match (role, own) {
            (Customer, _) => 403,
            (_, true) => 200,
            (_, false) => 404,
        },
        Op::Send => {
            if own {
                201
            } else {
                404
            }
        }
        Op::DeleteMessage => {
            if own {
                204
            } else {
                404
            }
        }
        Op::Detail | Op::Read | Op::Preferences | Op::Attachment | Op::Thumbnail => {
            if own {
                200
            } else {
                404
            }
        }
        // The parties ask the platform in; in the table's order the store asks first.
        Op::Escalate => match (role, own) {
            (Admin, _) => 403,
            (Vendor, true) => 200,
            (Customer, true) => 409,
            (_, false) => 404,
        },
        // Staff decide what needs their reply.
        Op::NoReplyNeeded => match (role, own) {
            (Vendor, true) => 200,
            (Vendor, false) => 404,
            _ => 403,
        },
        // A store's staff assign its conversations.
        Op::Assign => match (role, own) {
            (Vendor, true) => 200,
            (Vendor, false) => 404,
            _ => 403,
        },
        // Staff and admins file conversations by topic; the admin's foreign one is overseen.
        Op::Topic => match (role, own) {
            (Customer, _) => 403,
            (_, true) => 200,
            (Admin, false) => 403,
            (Vendor, false) => 404,
        },
        // Admins resolve; the admins' own thread was never escalated.
        Op::Resolve => match (role, own) {
            (Admin, true) => 409,
            (Admin, false) => 403,
            _ => 403,
        },
    }
}

/// A conversation as the table uses it: its id, one message the caller wrote (to delete), and
/// one image attachment.
#[derive(Debug, Clone, Copy)]
struct Target {
    id: i64,
    own_message: i64,
    attachment: i64,
}

async fn with_image(app: &TestApp, area: &str, party: &Party, conversation: i64) -> i64 {
    let form = Form::new().text("content", "photo").part(
        "files",
        Part::bytes(png(32, 32))
            .file_name("p.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/{area}/messages/{conversation}/messages")))
        .bearer_auth(&party.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["attachments"][0]["id"]
        .as_i64()
        .unwrap()
}

async fn message_id(
    app: &TestApp,
    area: &str,
    party: &Party,
    conversation: i64,
    text: &str,
) -> i64 {
    app.send_message(area, party, conversation, text)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// A fingerprint of everything a write could change in a conversation.
async fn fingerprint(app: &TestApp, conversation: i64) -> String {
    app.state
        .db
        .read(move |conn| {
            Ok::<_, parley::error::AppError>(conn.query_row(
                "SELECT c.is_closed || '/' || c.message_count || '/' || c.store_id || '/' ||
                        (SELECT group_concat(participant_type || participant_id || ':' || unread_count || ':' ||
                                email_notifications || ':' || muted, ',') FROM conversation_participants
                         WHERE conversation_id = c.id) || '/' ||
                        (SELECT group_concat(id || ':' || is_deleted, ',') FROM messages WHERE conversation_id = c.id)
                 FROM conversations c WHERE c.id = ?1",
                [conversation],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

fn create_body(m: &Marketplace, role: Role, own: bool) -> Value {
    match (role, own) {
        (Role::Admin, true) => {
            json!({"conversation_type": "admin_store", "subject": "Table", "recipient_type": "store", "recipient_id": m.a1.id})
        }
        (Role::Admin, false) => {
            json!({"conversation_type": "store_customer", "subject": "Table", "recipient_type": "customer", "recipient_id": m.ca.id})
        }
        (_, true) => {
            json!({"conversation_type": "store_customer", "subject": "Table", "recipient_type": "customer", "recipient_id": m.ca.id})
        }
        (_, false) => {
            json!({"conversation_type": "store_customer", "subject": "Table", "recipient_type": "customer", "recipient_id": m.cb.id})
        }
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_rights_table_says() {
    let app = spawn_app().await;
    let m = app.marketplace().await;

    // Store A's thread between a1 and the customer ca.
    let y = app.vendor_conversation(&m.a1, &m.ca, "Y").await;
    let y_attachment = with_image(&app, "shop", &m.ca, y).await;
    let y_vendor_message = message_id(&app, "vendor", &m.a1, y, "from a1").await;
    let y_customer_message = message_id(&app, "shop", &m.ca, y, "from ca").await;
    // Store B's thread: foreign to store A's staff and customers.
    let z = app.vendor_conversation(&m.b1, &m.cb, "Z").await;
    let z_attachment = with_image(&app, "shop", &m.cb, z).await;
    let z_message = message_id(&app, "shop", &m.cb, z, "from cb").await;
    // The admins' thread with store A.
    let x = app
        .start_conversation(
            "admin",
            &m.admin,
            json!({"conversation_type": "admin_store", "subject": "X", "recipient_type": "store", "recipient_id": m.a1.id}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let x_attachment = with_image(&app, "vendor", &m.a1, x).await;
    let x_admin_message = message_id(&app, "admin", &m.admin, x, "from admin").await;

    let cast = [
        (
            Role::Admin,
            "admin",
            &m.admin,
            Target {
                id: x,
                own_message: x_admin_message,
                attachment: x_attachment,
            },
            Target {
                id: z,
                own_message: z_message,
                attachment: z_attachment,
            },
        ),
        (
            Role::Vendor,
            "vendor",
            &m.a1,
            Target {
                id: y,
                own_message: y_vendor_message,
                attachment: y_attachment,
            },
            Target {
                id: z,
                own_message: z_message,
                attachment: z_attachment,
            },
        ),
        (
            Role::Customer,
            "shop",
            &m.ca,
            Target {
                id: y,
                own_message: y_customer_message,
                attachment: y_attachment,
            },
            Target {
                id: z,
                own_message: z_message,
                attachment: z_attachment,
            },
        ),
    ];

    let mut failures = Vec::new();
    let mut checked = 0;
    for spec in MESSAGING_ROUTES {
        for (role, area, party, own_target, foreign_target) in &cast {
            for own in [false, true] {
                let target = if own { own_target } else { foreign_target };
                let path = spec
                    .path
                    .replace("{id}", &target.id.to_string())
                    .replace("{message_id}", &target.own_message.to_string())
                    .replace("{attachment_id}", &target.attachment.to_string());
                let url = app.url(&format!("/api/v1/{area}/messages{path}"));
                let query: &[(&str, &str)] = match spec.op {
                    Op::Recipients if *role == Role::Admin => &[("recipient_type", "store")],
                    Op::Recipients => &[("recipient_type", "customer")],
                    _ => &[],
                };
                let body = match spec.op {
                    Op::Create => create_body(&m, *role, own),
                    Op::Send => json!({"content": format!("table {role:?} {own}")}),
                    Op::Preferences => json!({"muted": true, "email_notifications": false}),
                    Op::Escalate => json!({"reason": "the table asks"}),
                    Op::Assign => json!({"user_id": null}),
                    Op::Topic => json!({"topic_id": null}),
                    _ => json!({}),
                };
                let before = if own {
                    None
                } else {
                    Some(fingerprint(&app, target.id).await)
                };
                let request = match spec.method {
                    "GET" => app.client.get(&url),
                    "POST" => app.client.post(&url).json(&body),
                    "PUT" => app.client.put(&url).json(&body),
                    "DELETE" => app.client.delete(&url),
                    other => panic!("no method {other} in the table"),
                };
                let status = request
                    .bearer_auth(&party.token)
                    .query(query)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                let want = expected(spec.op, *role, own);
                if status != want {
                    failures.push(format!(
                        "{} {area}{path} as {role:?} (own: {own}): got {status}, want {want}",
                        spec.method
                    ));
                }
                if let Some(before) = before {
                    let after = fingerprint(&app, target.id).await;
                    if before != after {
                        failures.push(format!(
                            "{} {area}{path} as {role:?} changed a foreign conversation",
                            spec.method
                        ));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, MESSAGING_ROUTES.len() * 6);
}

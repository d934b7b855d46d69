//! `parley demo`: a data directory filled with two stores, their staff and customers,
//! conversations on all three channels (with attachments), a store template override and email log
//! entries, so a newcomer can explore every page within a minute. Seeding runs only when the
//! database has no store yet; the logins are the same every time.

use std::io::Write;

use chrono::Duration;
use rusqlite::params;

use crate::accounts::service::{self as accounts_service, Context as AccountsContext, PersonInput};
use crate::accounts::{self};
use crate::attachments::{self, Upload};
use crate::auth::password::hash_now;
use crate::domain::{Actor, ConversationType, ParticipantType, Tier};
use crate::email::notify;
use crate::email::templates::{self, OverrideFields};
use crate::error::AppError;
use crate::messaging::Context;
use crate::messaging::service::{self, StartConversation};

pub const PASSWORD: &str = "parley-demo";

/// A demo conversation: who starts it, its channel and subject, the recipient, and its messages.
type Thread = (
    Actor,
    ConversationType,
    &'static str,
    ParticipantType,
    i64,
    Vec<(Actor, &'static str)>,
);

/// A login to print.
pub struct DemoLogin {
    pub area: &'static str,
    pub email: &'static str,
    pub store_code: Option<&'static str>,
}

pub const LOGINS: &[DemoLogin] = &[
    DemoLogin {
        area: "admin",
        email: "admin@demo.parley.test",
        store_code: None,
    },
    DemoLogin {
        area: "vendor",
        email: "anna@lumen.demo.test",
        store_code: None,
    },
    DemoLogin {
        area: "vendor",
        email: "gita@greenthumb.demo.test",
        store_code: None,
    },
    DemoLogin {
        area: "shop",
        email: "clara@example.test",
        store_code: Some("lumen"),
    },
    DemoLogin {
        area: "shop",
        email: "dieter@example.test",
        store_code: Some("lumen"),
    },
    DemoLogin {
        area: "shop",
        email: "emil@example.test",
        store_code: Some("greenthumb"),
    },
];

/// The demo's people: created through the same use cases as the admin API's, so with checked
/// details and their own password hashes.
async fn people(accounts_ctx: &AccountsContext) -> Result<[i64; 9], AppError> {
    let hash = tokio::task::spawn_blocking(|| hash_now(PASSWORD))
        .await
        .map_err(AppError::internal)??;
    let (admin, lumen, green) = accounts_ctx
        .db
        .write(move |tx| {
            let admin = accounts::upsert_admin(tx, "admin@demo.parley.test", &hash, "Ada Admin")?;
            let lumen = accounts::insert_store(tx, "lumen", "Lumen Lighting", Tier::Business)?;
            let green =
                accounts::insert_store(tx, "greenthumb", "Green Thumb Garden", Tier::Essential)?;
            Ok::<_, AppError>((admin.id, lumen.id, green.id))
        })
        .await?;
    let person = |email: &str, name: &str, language: &str| PersonInput {
        email: email.into(),
        password: Some(PASSWORD.into()),
        full_name: name.into(),
        language: Some(language.into()),
    };
    let staff = |store, email, name| {
        accounts_service::create_store_user(accounts_ctx, store, person(email, name, "en"))
    };
    let anna = staff(lumen, "anna@lumen.demo.test", "Anna (Lumen)")
        .await?
        .id;
    let ben = staff(lumen, "ben@lumen.demo.test", "Ben (Lumen)").await?.id;
    let gita = staff(green, "gita@greenthumb.demo.test", "Gita (Green Thumb)")
        .await?
        .id;
    let customer = |store, email, name, language| {
        accounts_service::create_customer(accounts_ctx, store, person(email, name, language))
    };
    let clara = customer(lumen, "clara@example.test", "Clara Jones", "en")
        .await?
        .id;
    let dieter = customer(lumen, "dieter@example.test", "Dieter Braun", "de")
        .await?
        .id;
    let emil = customer(green, "emil@example.test", "Emil Novak", "en")
        .await?
        .id;
    Ok([admin, lumen, green, anna, ben, gita, clara, dieter, emil])
}

/// Fills an empty database with the demo; returns false when there was data already.
pub(crate) async fn seed(ctx: &Context, accounts_ctx: &AccountsContext) -> Result<bool, AppError> {
    let has_stores = ctx
        .db
        .read(|conn| {
            Ok::<_, AppError>(
                conn.query_row("SELECT count(*) FROM stores", [], |r| r.get::<_, i64>(0))? > 0,
            )
        })
        .await?;
    if has_stores {
        return Ok(false);
    }
    let [admin, lumen, green, anna, ben, gita, clara, dieter, emil] = people(accounts_ctx).await?;
    // Lumen writes its own new-message email (the store templates page shows it).
    ctx.db
        .write(move |tx| {
            templates::put_override(
                tx,
                lumen,
                notify::NEW_MESSAGE,
                "en",
                &OverrideFields {
                    name: Some("Lumen style".into()),
                    subject: "Lumen Lighting: {{ conversation_subject }}".into(),
                    body_html: "<p>Hi {{ recipient_name }},</p><p>{{ sender_name }} wrote: {{ message_preview }}</p>\
                                <p><a href=\"{{ conversation_url }}\">Reply</a> · <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>"
                        .into(),
                    body_text: None,
                    is_active: true,
                },
            )
        })
        .await?;
    let a = |user_id| Actor::Admin { user_id };
    let s = |user_id, store_id| Actor::Staff { user_id, store_id };
    let c = |customer_id, store_id| Actor::Customer {
        customer_id,
        store_id,
    };

    let threads: Vec<Thread> = vec![
        (
            s(anna, lumen),
            ConversationType::StoreCustomer,
            "Your order #1042 has shipped",
            ParticipantType::Customer,
            clara,
            vec![
                (
                    s(anna, lumen),
                    "Hi Clara, your pendant lamp left our warehouse today. Tracking: https://tracking.example.test/1042",
                ),
                (
                    c(clara, lumen),
                    "Great, thank you! Will it need a special bulb?",
                ),
                (
                    s(ben, lumen),
                    "Any E27 LED bulb works. We included one in the box.",
                ),
            ],
        ),
        (
            s(anna, lumen),
            ConversationType::StoreCustomer,
            "Lieferung nach Berlin",
            ParticipantType::Customer,
            dieter,
            vec![
                (
                    s(anna, lumen),
                    "Hallo Dieter, wir liefern Ihre Stehlampe am Donnerstag.",
                ),
                (c(dieter, lumen), "Perfekt, danke!"),
            ],
        ),
        (
            s(gita, green),
            ConversationType::StoreCustomer,
            "Tomato seedlings",
            ParticipantType::Customer,
            emil,
            vec![(
                c(emil, green),
                "Hello! Are the heirloom tomato seedlings back in stock?",
            )],
        ),
        (
            a(admin),
            ConversationType::AdminStore,
            "Welcome to the marketplace",
            ParticipantType::Store,
            anna,
            vec![
                (
                    a(admin),
                    "Welcome aboard! Please upload your return policy by Friday.",
                ),
                (s(anna, lumen), "Done — it is on our store page now."),
            ],
        ),
        (
            a(admin),
            ConversationType::AdminStore,
            "Tier upgrade",
            ParticipantType::Store,
            gita,
            vec![(
                a(admin),
                "Green Thumb qualifies for the Business tier. Interested?",
            )],
        ),
        (
            a(admin),
            ConversationType::AdminCustomer,
            "About your refund request",
            ParticipantType::Customer,
            clara,
            vec![(
                a(admin),
                "Hi Clara, the platform team is looking into your refund with the store.",
            )],
        ),
    ];
    // Every conversation and message goes through the use cases, as a user's would.
    let mut first = None;
    for (starter, kind, subject, recipient_type, recipient_id, thread) in threads {
        let start = StartConversation {
            conversation_type: kind,
            subject: subject.to_string(),
            recipient: Some((recipient_type, recipient_id)),
            store_id: None,
            initial_message: None,
            context: None,
            topic_id: None,
        };
        let id = service::start_conversation(ctx, starter, start)
            .await?
            .value
            .summary
            .id;
        for (sender, text) in thread {
            let _ = service::send_message(ctx, sender, id, message(text, Vec::new())).await?;
        }
        first.get_or_insert(id);
    }

    // Attachments on the first thread: a photo and a spreadsheet, uploaded like any other.
    let conversation = first.unwrap_or_default();
    let uploads = demo_uploads(ctx.settings.data_dir())?;
    let note = "Here is a photo of the packed lamp and your invoice.";
    let _ =
        service::send_message(ctx, s(anna, lumen), conversation, message(note, uploads)).await?;
    // A closed thread.
    let start = StartConversation {
        conversation_type: ConversationType::StoreCustomer,
        subject: "Delivery window".into(),
        recipient: Some((ParticipantType::Customer, emil)),
        store_id: None,
        initial_message: Some("We deliver between 8 and 12. All set!".into()),
        context: None,
        topic_id: None,
    };
    let closed = service::start_conversation(ctx, s(gita, green), start).await?;
    let _ = service::close_conversation(ctx, s(gita, green), closed.value.summary.id).await?;
    // The operator's topics and a saved reply offered to stores, for the composer and filters.
    ctx.db
        .write(move |tx| {
            use crate::messaging::topics::{self, TopicInput};
            for (en, de, roles) in [
                ("Delivery", "Lieferung", "customer store"),
                ("Return", "Rücksendung", "customer store"),
                ("Invoice", "Rechnung", "customer store admin"),
                ("Payout", "Auszahlung", "store admin"),
            ] {
                let input = TopicInput {
                    names: [("en".to_string(), en.to_string()), ("de".to_string(), de.to_string())]
                        .into(),
                    roles: roles.split(' ').filter_map(|r| r.parse().ok()).collect(),
                    position: 0,
                };
                topics::create(tx, &input)?;
            }
            tx.execute(
                "INSERT INTO saved_replies (store_id, title, body, shared_with_stores, created_by)
                 VALUES (NULL, 'Thanks for waiting', ?1, 1, ?2)",
                params![
                    "Thank you for your patience, {{ customer_name }}. {{ store_name }} will get back to you within a day.",
                    admin
                ],
            )?;
            Ok::<_, AppError>(())
        })
        .await?;
    // Email log entries in each state, for the log pages.
    ctx.db
        .write(move |tx| {
            for (status, error) in [("sent", None), ("delivered", None), ("failed", Some("550 5.1.1 mailbox unavailable"))] {
                tx.execute(
                    "INSERT INTO email_logs (template_code, recipient_email, recipient_name, subject, body_text, from_email,
                            status, store_id, sent_at, error_message, retry_count, provider, language, created_at)
                     VALUES ('new_message', 'clara@example.test', 'Clara Jones', 'Lumen Lighting: Your order #1042 has shipped',
                             'Anna wrote: your lamp shipped', 'noreply@parley.invalid', ?1, ?2, ?3, ?4, 1, 'smtp', 'en', ?3)",
                    params![status, lumen, chrono::Utc::now() - Duration::hours(2), error],
                )?;
            }
            Ok::<_, AppError>(())
        })
        .await?;
    Ok(true)
}

/// The lines `parley demo` prints.
pub(crate) fn describe(base_url: &str) -> String {
    let mut out = format!(
        "\nParley demo is running at {base_url}\nEvery demo login uses the password: {PASSWORD}\n"
    );
    for login in LOGINS {
        let store = login
            .store_code
            .map(|c| format!(" (store code: {c})"))
            .unwrap_or_default();
        out.push_str(&format!("  {:<6} {}{store}\n", login.area, login.email));
    }
    out
}

/// A photo and a spreadsheet, as if just received from a browser.
fn demo_uploads(data_dir: &std::path::Path) -> Result<Vec<Upload>, AppError> {
    let image = image::RgbImage::from_fn(480, 320, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 180])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(AppError::internal)?;
    let csv = b"item,quantity,price\npendant lamp,1,129.00\nE27 LED bulb,1,6.50\n".to_vec();
    let mut uploads = Vec::new();
    for (name, bytes) in [
        ("lamp-photo.png", png.into_inner()),
        ("invoice-1042.csv", csv),
    ] {
        let mut temp = tempfile::NamedTempFile::new_in(attachments::temp_dir(data_dir))
            .map_err(AppError::internal)?;
        temp.write_all(&bytes).map_err(AppError::internal)?;
        uploads.push(Upload {
            temp,
            original_filename: name.into(),
            size: bytes.len() as u64,
            head: bytes[..bytes.len().min(attachments::SNIFF_BYTES)].to_vec(),
        });
    }
    Ok(uploads)
}

/// A message of the demo data, as its sender would write it.
fn message(text: &str, uploads: Vec<crate::attachments::Upload>) -> service::NewMessage {
    service::NewMessage {
        content: text.to_string(),
        uploads,
        internal: false,
    }
}

//! The messaging use cases, one function each: start a conversation, send a message (files
//! included), close, reopen, mark read, set preferences, delete a message. Each takes the actor,
//! plain data and a [`Context`]; owns its transaction, the notifications it queues in it and the
//! files it must take away again if the commit fails; and returns its result with the events to
//! publish once committed. HTTP handlers, the CLI, the demo seeder and the tests all call these.

use std::sync::Arc;

use tracing::instrument;

use super::commands::{self, NewConversation};
use super::error::MessagingError;
use super::events::{Event, EventBus, EventKind};
use super::participants::actor_name;
use super::{
    CONTENT_MAX, ConversationContext, ConversationDetail, ConversationSummary, Message,
    Preferences, SUBJECT_MAX, access, inbox, messages,
};
use crate::attachments::{self, Upload};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::{self, Actor, ConversationType, Invalid, ParticipantType};
use crate::email::notify;
use crate::platform;

/// What the use cases need of the running appliance.
#[derive(Clone)]
pub(crate) struct Context {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub files: attachments::Files,
}

/// A use case's result and the events it caused, to publish once it has committed.
#[must_use]
pub(crate) struct Outcome<T> {
    pub value: T,
    pub events: Vec<Event>,
}

impl<T> Outcome<T> {
    fn new(value: T, event: Option<Event>) -> Outcome<T> {
        Outcome {
            value,
            events: event.into_iter().collect(),
        }
    }

    /// Publishes the events to the live views and hands back the result.
    pub(crate) fn publish(self, bus: &EventBus) -> T {
        for event in self.events {
            bus.publish(event);
        }
        self.value
    }
}

/// A new conversation as the caller asked for it, not yet checked.
#[derive(Debug, Clone)]
pub(crate) struct StartConversation {
    pub conversation_type: ConversationType,
    pub subject: String,
    /// Who it is with (type and id); none where the other side is a team.
    pub recipient: Option<(ParticipantType, i64)>,
    pub store_id: Option<i64>,
    pub initial_message: Option<String>,
    pub context: Option<ConversationContext>,
    pub topic_id: Option<i64>,
}

/// The messages a thread view shows with a new conversation.
const FIRST_PAGE: u32 = 50;
/// How much of a message a notification quotes.
const NOTIFICATION_PREVIEW_CHARS: usize = 200;

/// Starts a conversation (with its first message, if any, and that message's notifications).
#[instrument(skip_all)]
pub(crate) async fn start_conversation(
    ctx: &Context,
    actor: Actor,
    start: StartConversation,
) -> Result<Outcome<ConversationDetail>, MessagingError> {
    let new = NewConversation {
        conversation_type: start.conversation_type,
        subject: domain::clean_line("subject", &start.subject, SUBJECT_MAX)?,
        recipient: start.recipient,
        store_id: start.store_id,
        initial_message: start
            .initial_message
            .map(|m| domain::clean_text("initial_message", &m, CONTENT_MAX))
            .transpose()?
            .filter(|m| !m.is_empty()),
        context: start
            .context
            .map(|c| c.checked(&ctx.settings.integration.context_url_hosts))
            .transpose()?,
        topic_id: start.topic_id,
    };
    let settings = ctx.settings.clone();
    let (detail, events) = ctx
        .db
        .write(move |tx| {
            let (id, first_message) = commands::create(tx, &actor, &new)?;
            let mut events = vec![Event::record(
                tx,
                id,
                EventKind::ConversationCreated,
                &actor,
                None,
            )?];
            if let (Some(first), Some(message_id)) = (&new.initial_message, first_message) {
                let name = actor_name(tx, &actor)?;
                let preview = quote(first, 0);
                notify::new_message(tx, &settings, id, &actor, &name, &preview, false)?;
                events.push(Event::record(
                    tx,
                    id,
                    EventKind::MessageSent,
                    &actor,
                    Some(message_id),
                )?);
            }
            let detail = inbox::detail(tx, &actor, id, FIRST_PAGE, None)?;
            Ok::<_, MessagingError>((detail, events))
        })
        .await?;
    tracing::info!(conversation_id = detail.summary.id, "conversation created");
    Ok(Outcome {
        value: detail,
        events,
    })
}

/// The conversation a platform's backend asks for: between a store and a customer (and a staff
/// member, optionally) by the platform's ids, about one thing.
#[derive(Debug, Clone)]
pub(crate) struct PlatformConversation {
    pub store_external_id: String,
    pub customer_external_id: String,
    pub staff_external_id: Option<String>,
    pub subject: String,
    pub context: ConversationContext,
    pub initial_message: Option<String>,
}

/// Finds the `store_customer` conversation of this store and customer about this context, or
/// opens it (the customer starting it, with `initial_message` as their first message; ignored
/// when it already exists, so a retried call sends nothing twice). Answers it as the customer
/// sees it, and whether it was created. `by` is the key, for the audit log.
#[instrument(skip_all)]
pub(crate) async fn find_or_open_for_platform(
    ctx: &Context,
    by: String,
    asked: PlatformConversation,
) -> Result<Outcome<(ConversationDetail, bool)>, MessagingError> {
    let new = NewConversation {
        conversation_type: ConversationType::StoreCustomer,
        subject: domain::clean_line("subject", &asked.subject, SUBJECT_MAX)?,
        recipient: None,
        store_id: None,
        initial_message: asked
            .initial_message
            .map(|m| domain::clean_text("initial_message", &m, CONTENT_MAX))
            .transpose()?
            .filter(|m| !m.is_empty()),
        context: None,
        topic_id: None,
    };
    let about = asked
        .context
        .checked(&ctx.settings.integration.context_url_hosts)?;
    let new = NewConversation {
        context: Some(about.clone()),
        ..new
    };
    let settings = ctx.settings.clone();
    ctx.db
        .write(move |tx| {
            let parties = commands::PlatformParties::resolve(
                tx,
                &asked.store_external_id,
                &asked.customer_external_id,
                asked.staff_external_id.as_deref(),
            )?;
            let customer = Actor::Customer {
                customer_id: parties.customer_id,
                store_id: parties.store_id,
            };
            if let Some(id) = commands::find_about(tx, &parties, &about)? {
                let detail = inbox::detail(tx, &customer, id, FIRST_PAGE, None)?;
                return Ok(Outcome::new((detail, false), None));
            }
            let (id, first_message) = commands::open_for_platform(tx, &parties, &new)?;
            crate::audit::record(
                tx,
                &by,
                "conversation.created",
                &format!("conversation:{id}"),
            )?;
            let mut events = vec![Event::record(
                tx,
                id,
                EventKind::ConversationCreated,
                &customer,
                None,
            )?];
            if let (Some(first), Some(message_id)) = (&new.initial_message, first_message) {
                let name = actor_name(tx, &customer)?;
                notify::new_message(tx, &settings, id, &customer, &name, &quote(first, 0), false)?;
                events.push(Event::record(
                    tx,
                    id,
                    EventKind::MessageSent,
                    &customer,
                    Some(message_id),
                )?);
            }
            let detail = inbox::detail(tx, &customer, id, FIRST_PAGE, None)?;
            tracing::info!(conversation_id = id, "conversation opened for the platform");
            Ok(Outcome {
                value: (detail, true),
                events,
            })
        })
        .await
}

/// Checks that `actor` may send to conversation `id` now, before any upload is read, and answers
/// the largest file accepted (in bytes).
pub(crate) async fn check_send(
    ctx: &Context,
    actor: Actor,
    id: i64,
) -> Result<u64, MessagingError> {
    ctx.db
        .read(move |conn| {
            if access::load_visible(conn, &actor, id)?.is_closed {
                return Err(MessagingError::Closed);
            }
            Ok(platform::attachment_max_bytes(conn)?)
        })
        .await
}

/// A message as its sender wrote it, not yet checked.
pub(crate) struct NewMessage {
    pub content: String,
    pub uploads: Vec<Upload>,
    /// An internal note (store ↔ platform, in an escalated conversation).
    pub internal: bool,
}

/// Sends a message with its files: the files are checked and stored under their final names,
/// then the message, its attachment rows and its notifications commit together; if the commit
/// fails, the files are removed again.
#[instrument(skip_all, fields(conversation_id = id))]
pub(crate) async fn send_message(
    ctx: &Context,
    actor: Actor,
    id: i64,
    new: NewMessage,
) -> Result<Outcome<Message>, MessagingError> {
    let NewMessage {
        content,
        uploads,
        internal,
    } = new;
    let content = domain::clean_text("content", &content, CONTENT_MAX)?;
    if content.is_empty() && uploads.is_empty() {
        return Err(Invalid::new("content", "must not be empty without attachments").into());
    }
    // Files go to disk on a blocking thread (and then to the bucket); a message without any
    // needs no trip there.
    let stored = if uploads.is_empty() {
        Vec::new()
    } else {
        ctx.files.store_all(id, uploads).await?
    };
    let files = stored.clone();
    let settings = ctx.settings.clone();
    let committed = ctx
        .db
        .write(move |tx| {
            let appended = messages::append(tx, &actor, id, &content, &files, internal)?;
            let message = appended.message;
            let preview = quote(&message.content, message.attachments.len());
            let name = &message.sender_name;
            notify::new_message(tx, &settings, id, &actor, name, &preview, internal)?;
            let mut events = Vec::with_capacity(2);
            if appended.joined {
                events.push(Event::record(
                    tx,
                    id,
                    EventKind::ParticipantAdded,
                    &actor,
                    None,
                )?);
            }
            events.push(Event::record_note(
                tx,
                id,
                EventKind::MessageSent,
                &actor,
                Some(message.id),
                internal,
            )?);
            Ok::<_, MessagingError>((message, events))
        })
        .await;
    match committed {
        Ok((message, events)) => {
            tracing::info!(
                message_id = message.id,
                files = stored.len(),
                "message sent"
            );
            Ok(Outcome {
                value: message,
                events,
            })
        }
        Err(e) => {
            // The rows did not commit: the files go too.
            ctx.files.remove(stored).await;
            Err(e)
        }
    }
}

/// The text a notification quotes: the start of the message, or what it carries.
fn quote(content: &str, attachments: usize) -> String {
    let text: String = content.chars().take(NOTIFICATION_PREVIEW_CHARS).collect();
    match (text.is_empty(), attachments) {
        (false, _) if content.chars().count() > NOTIFICATION_PREVIEW_CHARS => format!("{text}…"),
        (false, _) => text,
        (true, 1) => "[1 attachment]".to_string(),
        (true, n) => format!("[{n} attachments]"),
    }
}

/// Closes a conversation: a system message says who did, the others get an email.
pub(crate) async fn close_conversation(
    ctx: &Context,
    actor: Actor,
    id: i64,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    set_closed(ctx, actor, id, true).await
}

/// Reopens a closed conversation, with a system message saying who did.
pub(crate) async fn reopen_conversation(
    ctx: &Context,
    actor: Actor,
    id: i64,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    set_closed(ctx, actor, id, false).await
}

#[instrument(skip_all, fields(conversation_id = id))]
async fn set_closed(
    ctx: &Context,
    actor: Actor,
    id: i64,
    close: bool,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    let settings = ctx.settings.clone();
    let (summary, event) = ctx
        .db
        .write(move |tx| {
            commands::set_closed(tx, &actor, id, close)?;
            let kind = if close {
                let name = actor_name(tx, &actor)?;
                notify::conversation_closed(tx, &settings, id, &actor, &name)?;
                EventKind::ConversationClosed
            } else {
                EventKind::ConversationReopened
            };
            let event = Event::record(tx, id, kind, &actor, None)?;
            Ok::<_, MessagingError>((inbox::summary(tx, &actor, id)?, event))
        })
        .await?;
    Ok(Outcome::new(summary, Some(event)))
}

/// Asks the platform to step into a conversation (its customer or its store's staff), with a
/// reason; see [`commands::escalate`].
#[instrument(skip_all, fields(conversation_id = id))]
pub(crate) async fn escalate(
    ctx: &Context,
    actor: Actor,
    id: i64,
    reason: &str,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    let reason = domain::clean_text("reason", reason, 1000)?;
    if reason.is_empty() {
        return Err(Invalid::new("reason", "must say why the platform should step in").into());
    }
    let (summary, event) = ctx
        .db
        .write(move |tx| {
            commands::escalate(tx, &actor, id, &reason)?;
            let event = Event::record(tx, id, EventKind::ConversationEscalated, &actor, None)?;
            Ok::<_, MessagingError>((inbox::summary(tx, &actor, id)?, event))
        })
        .await?;
    tracing::info!("conversation escalated");
    Ok(Outcome::new(summary, Some(event)))
}

/// Ends an escalation (an admin who takes part).
#[instrument(skip_all, fields(conversation_id = id))]
pub(crate) async fn resolve(
    ctx: &Context,
    actor: Actor,
    id: i64,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    let (summary, event) = ctx
        .db
        .write(move |tx| {
            commands::resolve(tx, &actor, id)?;
            let event = Event::record(tx, id, EventKind::ConversationResolved, &actor, None)?;
            Ok::<_, MessagingError>((inbox::summary(tx, &actor, id)?, event))
        })
        .await?;
    Ok(Outcome::new(summary, Some(event)))
}

/// Stops the store's clock on a conversation whose last customer message needs no answer.
pub(crate) async fn no_reply_needed(
    ctx: &Context,
    actor: Actor,
    id: i64,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    let summary = ctx
        .db
        .write(move |tx| {
            commands::no_reply_needed(tx, &actor, id)?;
            inbox::summary(tx, &actor, id)
        })
        .await?;
    Ok(Outcome::new(summary, None))
}

/// Raises the late-replies alerts that are due (the scheduler's pass, every ten minutes).
pub async fn alert_late_stores(db: &Db) -> Result<usize, crate::error::AppError> {
    let raised = db
        .write(|tx| super::response_times::alert_late_stores(tx, chrono::Utc::now()))
        .await?;
    if raised > 0 {
        tracing::info!(raised, "late-replies alerts raised");
    }
    Ok(raised)
}

/// Assigns a store conversation to a staff member, or to nobody (store staff).
pub(crate) async fn assign(
    ctx: &Context,
    actor: Actor,
    id: i64,
    user_id: Option<i64>,
) -> Result<Outcome<ConversationSummary>, MessagingError> {
    ctx.db
        .write(move |tx| {
            let event = commands::assign(tx, &actor, id, user_id)?
                .map(|message| Event::record(tx, id, EventKind::MessageSent, &actor, Some(message)))
                .transpose()?;
            Ok(Outcome::new(inbox::summary(tx, &actor, id)?, event))
        })
        .await
}

/// Files a conversation under a topic, or under none (staff and admins who take part).
pub(crate) async fn set_topic(
    ctx: &Context,
    actor: Actor,
    id: i64,
    topic_id: Option<i64>,
) -> Result<ConversationSummary, MessagingError> {
    ctx.db
        .write(move |tx| {
            super::topics::set_topic(tx, &actor, id, topic_id)?;
            inbox::summary(tx, &actor, id)
        })
        .await
}

/// What an admin announces, not yet checked.
pub(crate) struct NewAnnouncement {
    pub subject: String,
    pub message: String,
    pub stores: super::announcements::Audience,
}

/// Sends an announcement: one `admin_store` conversation per store it reaches, each with its
/// notifications. Answers its id and how many stores got it.
#[instrument(skip_all)]
pub(crate) async fn announce(
    ctx: &Context,
    admin: Actor,
    new: NewAnnouncement,
) -> Result<Outcome<(i64, usize)>, MessagingError> {
    let subject = domain::clean_line("subject", &new.subject, SUBJECT_MAX)?;
    let message = domain::clean_text("message", &new.message, CONTENT_MAX)?;
    if subject.is_empty() || message.is_empty() {
        return Err(
            Invalid::new("message", "an announcement needs a subject and a message").into(),
        );
    }
    let settings = ctx.settings.clone();
    let outcome = ctx
        .db
        .write(move |tx| {
            let (id, created) =
                super::announcements::announce(tx, &admin, &subject, &message, &new.stores)?;
            let name = actor_name(tx, &admin)?;
            let preview = quote(&message, 0);
            let mut events = Vec::with_capacity(created.len() * 2);
            for (conversation, first) in &created {
                notify::new_message(tx, &settings, *conversation, &admin, &name, &preview, false)?;
                events.push(Event::record(
                    tx,
                    *conversation,
                    EventKind::ConversationCreated,
                    &admin,
                    None,
                )?);
                events.push(Event::record(
                    tx,
                    *conversation,
                    EventKind::MessageSent,
                    &admin,
                    *first,
                )?);
            }
            Ok::<_, MessagingError>(Outcome {
                value: (id, created.len()),
                events,
            })
        })
        .await?;
    tracing::info!(
        announcement_id = outcome.value.0,
        stores = outcome.value.1,
        "announcement sent"
    );
    Ok(outcome)
}

/// Records an admin's read of a conversation they do not take part in (oversight): who, what,
/// when, in the audit log. Nothing else changes: no unread count, no participant.
pub(crate) async fn audit_oversight(
    ctx: &Context,
    actor: Actor,
    summary: &ConversationSummary,
) -> Result<(), MessagingError> {
    let (id, store_id) = (summary.id, summary.store_id);
    ctx.db
        .write(move |tx| {
            crate::audit::record_oversight(tx, &actor, id, store_id)?;
            Ok::<_, MessagingError>(())
        })
        .await
}

/// Marks a conversation read for the caller and answers their new unread total. Reading what was
/// already read changes nothing and publishes nothing.
pub(crate) async fn mark_read(
    ctx: &Context,
    actor: Actor,
    id: i64,
) -> Result<Outcome<i64>, MessagingError> {
    ctx.db
        .write(move |tx| {
            let read = commands::mark_read(tx, &actor, id)?;
            let event = read
                .changed
                .then(|| Event::record(tx, id, EventKind::ConversationRead, &actor, None))
                .transpose()?;
            Ok(Outcome::new(read.total_unread, event))
        })
        .await
}

/// Changes the caller's notification preferences for one conversation (joining it, for an admin
/// or a colleague who was not a participant yet).
pub(crate) async fn set_preferences(
    ctx: &Context,
    actor: Actor,
    id: i64,
    email_notifications: Option<bool>,
    muted: Option<bool>,
) -> Result<Outcome<Preferences>, MessagingError> {
    ctx.db
        .write(move |tx| {
            let (preferences, joined) =
                commands::set_preferences(tx, &actor, id, email_notifications, muted)?;
            let event = joined
                .then(|| Event::record(tx, id, EventKind::ParticipantAdded, &actor, None))
                .transpose()?;
            Ok(Outcome::new(preferences, event))
        })
        .await
}

/// Soft-deletes a message: its author may, and so may an admin.
pub(crate) async fn delete_message(
    ctx: &Context,
    actor: Actor,
    id: i64,
    message_id: i64,
) -> Result<Outcome<()>, MessagingError> {
    let event = ctx
        .db
        .write(move |tx| {
            let internal = messages::delete(tx, &actor, id, message_id)?;
            Ok::<_, MessagingError>(Event::record_note(
                tx,
                id,
                EventKind::MessageDeleted,
                &actor,
                Some(message_id),
                internal,
            )?)
        })
        .await?;
    Ok(Outcome::new((), Some(event)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_quotes_the_start_or_names_the_files() {
        assert_eq!(quote("hello", 0), "hello");
        assert_eq!(quote(&"x".repeat(201), 0), format!("{}…", "x".repeat(200)));
        assert_eq!(quote("", 1), "[1 attachment]");
        assert_eq!(quote("", 3), "[3 attachments]");
    }
}

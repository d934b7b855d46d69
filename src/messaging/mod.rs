//! Conversations between admins, store staff and customers (seed: MessagingService).
//!
//! - `service`: the use cases, one function each, called by HTTP, the CLI, the demo and tests;
//! - `commands`, `messages`, `participants`: their SQL, inside the caller's transaction;
//! - `inbox`, `search`: the reads (lists, badge, thread view, full-text search);
//! - `access`: who may see which conversation, one rule per kind of actor;
//! - `events`, `event_log`: what changed, recorded with each change, for the live views, the
//!   events API and webhooks.

pub(crate) mod access;
pub(crate) mod announcements;
pub(crate) mod commands;
pub(crate) mod context;
mod error;
pub(crate) mod event_log;
pub(crate) mod events;
pub(crate) mod inbox;
pub(crate) mod messages;
pub(crate) mod participants;
pub(crate) mod response_times;
pub(crate) mod saved_replies;
pub mod search;
pub(crate) mod service;
pub(crate) mod topics;

use crate::db::Timestamp;
use serde::Serialize;

use crate::domain::{ConversationType, ParticipantType, SystemEvent};

pub(crate) use context::ConversationContext;
pub(crate) use error::MessagingError;
pub use events::{Event, EventBus, EventKind};
pub(crate) use service::Context;
pub use service::alert_late_stores;

pub(crate) const SUBJECT_MAX: usize = 500;
pub(crate) const CONTENT_MAX: usize = 10_000;
/// The length of `last_message_preview` (also written in migration V9, which backfilled it).
pub const PREVIEW_CHARS: i64 = 140;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct OtherParticipant {
    #[serde(rename = "type")]
    pub participant_type: ParticipantType,
    pub id: i64,
    pub name: String,
}

/// A conversation as one inbox line, from one viewer's side (their unread count, the other party).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ConversationSummary {
    pub id: i64,
    pub conversation_type: ConversationType,
    pub subject: String,
    pub store_id: Option<i64>,
    pub is_closed: bool,
    pub closed_at: Option<Timestamp>,
    pub last_message_at: Option<Timestamp>,
    pub message_count: i64,
    pub unread_count: i64,
    pub other_participant: Option<OtherParticipant>,
    pub last_message_preview: Option<String>,
    /// Set when the newest message is a system message: what it records.
    pub last_message_event: Option<SystemEvent>,
    /// What the conversation is about on the platform (an order, a product …), if anything.
    pub context: Option<ConversationContext>,
    /// A party asked the platform to step in, and no admin has resolved it yet.
    pub escalated: bool,
    /// Why the platform was asked in (while escalated); every party reads it.
    pub escalation_reason: Option<String>,
    /// Whose reply the conversation waits for, and since when (the oldest unanswered message of
    /// the other side); null when nobody owes one (answered, closed, "no reply needed").
    pub waiting_since: Option<Waiting>,
    /// The operator's topic it is filed under.
    pub topic_id: Option<i64>,
    /// The store's staff member it is assigned to.
    pub assignee_id: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Waiting {
    /// Who owes the reply: `store` or `customer`.
    pub party: ParticipantType,
    pub since: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Participant {
    pub participant_type: ParticipantType,
    pub participant_id: i64,
    pub name: String,
    pub unread_count: i64,
    pub last_read_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ConversationDetail {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    pub participants: Vec<Participant>,
    pub messages: Vec<Message>,
    pub has_more: bool,
    /// Read by an admin through oversight, without taking part: nothing can be written.
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Attachment {
    pub id: i64,
    pub original_filename: String,
    pub file_size: i64,
    pub mime_type: String,
    pub is_image: bool,
    pub image_width: Option<i64>,
    pub image_height: Option<i64>,
    pub download_url: String,
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub sender_type: ParticipantType,
    pub sender_id: i64,
    pub sender_name: String,
    /// Empty when the message was deleted.
    pub content: String,
    pub is_system_message: bool,
    /// What a system message records (`closed`, `reopened`, `escalated` …); null for people's
    /// messages.
    pub system_event: Option<SystemEvent>,
    /// An internal note between the store and the platform: never shown to the customer.
    pub internal: bool,
    pub is_deleted: bool,
    pub created_at: Timestamp,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Preferences {
    pub conversation_id: i64,
    pub email_notifications: bool,
    pub muted: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Recipient {
    pub id: i64,
    #[serde(rename = "type")]
    pub recipient_type: ParticipantType,
    pub name: String,
    pub email: String,
    pub store_id: i64,
    pub store_name: String,
}

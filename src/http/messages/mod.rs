//! The messaging API, mounted under `/api/v1/{admin,vendor,shop}/messages`: the route table here,
//! the handlers by concern beside it (`conversations`, `send`, `attachments`). Handlers are
//! written once, generic over the area's extractor; they parse, call one use case of
//! `messaging::service` (or one read), and shape the answer.

mod attachments;
mod conversations;
pub(crate) mod send;

use actix_web::{Route, web};

use super::openapi::{Doc, Table, doc};
use crate::auth::extract::AreaUser;

/// What a messaging route does; the route table below is the one list of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Create,
    UnreadCount,
    Recipients,
    Detail,
    Send,
    Close,
    Reopen,
    Read,
    Preferences,
    DeleteMessage,
    Attachment,
    Thumbnail,
    Stream,
    Escalate,
    Resolve,
    NoReplyNeeded,
    Assign,
    Topic,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// Relative to `/api/v1/{area}/messages`.
    pub path: &'static str,
    pub op: Op,
}

impl RouteSpec {
    /// The method as actix names it.
    fn http_method(&self) -> actix_web::http::Method {
        use actix_web::http::Method;
        match self.method {
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            _ => Method::GET,
        }
    }
}

/// Every messaging route, in matching order (fixed paths before `{id}`). All three areas mount all
/// of them; what a caller may do is decided per actor (a customer creating or closing gets 403).
pub const MESSAGING_ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "",
        op: Op::List,
    },
    RouteSpec {
        method: "POST",
        path: "",
        op: Op::Create,
    },
    RouteSpec {
        method: "GET",
        path: "/unread-count",
        op: Op::UnreadCount,
    },
    RouteSpec {
        method: "GET",
        path: "/recipients",
        op: Op::Recipients,
    },
    RouteSpec {
        method: "GET",
        path: "/stream",
        op: Op::Stream,
    },
    RouteSpec {
        method: "GET",
        path: "/{id}",
        op: Op::Detail,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/messages",
        op: Op::Send,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/close",
        op: Op::Close,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/reopen",
        op: Op::Reopen,
    },
    RouteSpec {
        method: "PUT",
        path: "/{id}/read",
        op: Op::Read,
    },
    RouteSpec {
        method: "PUT",
        path: "/{id}/preferences",
        op: Op::Preferences,
    },
    RouteSpec {
        method: "DELETE",
        path: "/{id}/messages/{message_id}",
        op: Op::DeleteMessage,
    },
    RouteSpec {
        method: "GET",
        path: "/{id}/attachments/{attachment_id}",
        op: Op::Attachment,
    },
    RouteSpec {
        method: "GET",
        path: "/{id}/attachments/{attachment_id}/thumbnail",
        op: Op::Thumbnail,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/escalate",
        op: Op::Escalate,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/resolve",
        op: Op::Resolve,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/no-reply-needed",
        op: Op::NoReplyNeeded,
    },
    RouteSpec {
        method: "PUT",
        path: "/{id}/assignee",
        op: Op::Assign,
    },
    RouteSpec {
        method: "PUT",
        path: "/{id}/topic",
        op: Op::Topic,
    },
];

fn handler<U: AreaUser>(op: Op) -> Route {
    match op {
        Op::List => web::get().to(conversations::list::<U>),
        Op::Create => web::post().to(conversations::create::<U>),
        Op::UnreadCount => web::get().to(conversations::unread_count::<U>),
        Op::Recipients => web::get().to(conversations::recipients::<U>),
        Op::Detail => web::get().to(conversations::detail::<U>),
        Op::Send => web::post().to(send::send::<U>),
        Op::Close => web::post().to(conversations::close::<U>),
        Op::Reopen => web::post().to(conversations::reopen::<U>),
        Op::Read => web::put().to(conversations::read::<U>),
        Op::Preferences => web::put().to(conversations::preferences::<U>),
        Op::DeleteMessage => web::delete().to(conversations::delete_message::<U>),
        Op::Attachment => web::get().to(attachments::attachment::<U>),
        Op::Thumbnail => web::get().to(attachments::thumbnail::<U>),
        Op::Stream => web::get().to(super::stream::stream::<U>),
        Op::Escalate => web::post().to(conversations::escalate::<U>),
        Op::Resolve => web::post().to(conversations::resolve::<U>),
        Op::NoReplyNeeded => web::post().to(conversations::no_reply_needed::<U>),
        Op::Assign => web::put().to(conversations::assign::<U>),
        Op::Topic => web::put().to(conversations::set_topic::<U>),
    }
}

/// What a messaging route does, for the API document.
fn doc_of(op: Op) -> Doc {
    use crate::messaging::{ConversationDetail, ConversationSummary, Message, Preferences};
    use conversations::{
        CreateRequest, DetailQuery, EscalateRequest, ListAnswer, ListQuery, PreferencesRequest,
        ReadAnswer, RecipientList, RecipientsQuery, UnreadAnswer,
    };
    match op {
        Op::List => doc("The caller's conversations, newest activity first")
            .query::<ListQuery>()
            .answers::<ListAnswer>(),
        Op::Create => doc("Start a conversation (customers, and staff with the platform, where the platform settings allow)")
            .takes::<CreateRequest>()
            .answers_with::<ConversationDetail>(201),
        Op::UnreadCount => doc("The caller's unread messages").answers::<UnreadAnswer>(),
        Op::Recipients => doc("People the caller can start a conversation with")
            .query::<RecipientsQuery>()
            .answers::<RecipientList>(),
        Op::Detail => doc("A conversation with a page of its messages")
            .query::<DetailQuery>()
            .answers::<ConversationDetail>(),
        Op::Send => doc("Send a message, with files as multipart/form-data")
            .takes_message::<send::SendJson>()
            .answers_with::<Message>(201),
        Op::Close => {
            doc("Close a conversation (admins and staff)").answers::<ConversationSummary>()
        }
        Op::Reopen => {
            doc("Reopen a closed conversation (admins and staff)").answers::<ConversationSummary>()
        }
        Op::Read => doc("Mark a conversation read").answers::<ReadAnswer>(),
        Op::Preferences => doc("The caller's email and mute settings for a conversation")
            .takes::<PreferencesRequest>()
            .answers::<Preferences>(),
        Op::DeleteMessage => doc("Delete a message (its author, or an admin)").empty(204),
        Op::Attachment => doc("An attachment, as a download").file(),
        Op::Thumbnail => doc("An image attachment's thumbnail").file(),
        Op::Escalate => doc("Ask the platform to step in (the customer or the store's staff)")
            .takes::<EscalateRequest>()
            .answers::<ConversationSummary>(),
        Op::Resolve => doc("End an escalation (admins)").answers::<ConversationSummary>(),
        Op::NoReplyNeeded => doc("Stop waiting for the store's reply (staff)")
            .answers::<ConversationSummary>(),
        Op::Assign => doc("Assign the conversation to a staff member, or to nobody (staff)")
            .takes::<conversations::AssignRequest>()
            .answers::<ConversationSummary>(),
        Op::Topic => doc("File the conversation under a topic, or none (staff and admins)")
            .takes::<conversations::TopicRequest>()
            .answers::<ConversationSummary>(),
        Op::Stream => {
            doc("Live events the caller may see (Server-Sent Events; resume with Last-Event-ID)")
                .query::<super::stream::StreamQuery>()
                .stream()
        }
    }
}

/// The messaging routes of one area, under `/messages`.
pub(crate) fn table<U: AreaUser, T: Table>(t: &mut T) {
    t.scope("/messages", |t| {
        for spec in MESSAGING_ROUTES {
            t.route_built(
                spec.http_method(),
                spec.path,
                handler::<U>(spec.op),
                doc_of(spec.op),
            );
        }
    });
}

//! The messaging API, mounted under `/api/v1/{admin,vendor,shop}/messages`: the route table here,
//! the handlers by concern beside it (`conversations`, `send`, `attachments`). Handlers are
//! written once, generic over the area's extractor; they parse, call one use case of
//! `messaging::service` (or one read), and shape the answer.

mod attachments;
mod conversations;
pub(crate) mod send;

use actix_web::{Route, web};

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
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// Relative to `/api/v1/{area}/messages`.
    pub path: &'static str,
    pub op: Op,
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
    }
}

/// Mounts the messaging routes for one area.
pub(crate) fn scope<U: AreaUser>() -> actix_web::Scope {
    MESSAGING_ROUTES
        .iter()
        .fold(web::scope("/messages"), |scope, spec| {
            scope.route(spec.path, handler::<U>(spec.op))
        })
}

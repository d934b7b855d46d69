//! Unsubscribing from a conversation's emails: public, authorised by the token in the link.

use actix_web::{HttpResponse, web};

use crate::email::notify;
use crate::error::AppError;
use crate::state::AppState;

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{title}</title><style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}\
             button{{font:inherit;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>",
            title = escape_text(title),
        ))
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The confirmation page (a GET never changes anything: mail scanners follow links).
pub(crate) async fn unsubscribe_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let lookup = token.clone();
    let subject = state
        .db
        .read(move |conn| notify::unsubscribe_subject(conn, &lookup))
        .await?;
    Ok(page(
        "Stop these emails?",
        &format!(
            "<p>You will no longer get emails about “{}”. You can still read it after signing in.</p>\
             <form method=\"post\"><button type=\"submit\">Stop emails</button></form>",
            escape_text(&subject)
        ),
    ))
}

/// The unsubscribe itself (RFC 8058 one-click POST, or the page's button).
pub(crate) async fn unsubscribe(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let subject = state
        .db
        .write(move |tx| notify::unsubscribe(tx, &token))
        .await?;
    Ok(page(
        "Unsubscribed",
        &format!(
            "<p>You will no longer get emails about “{}”.</p>",
            escape_text(&subject)
        ),
    ))
}

//! The last word on every error answer, whoever wrote it: the JSON shape for clients, a page in
//! the site's layout for a browser.

use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::{ErrorBody, ErrorDetail};

/// Makes every error answer carry the JSON shape, also those written by actix itself before any
/// handler ran (an oversized body on a `Bytes` extractor, a malformed request line): a plain-text
/// or empty error body becomes `{"error": {code, message}}` with the same status and headers.
/// A browser asking for a page (`Accept: text/html`, outside `/api/`) gets the error as a page.
pub(crate) fn error_shapes<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(into_error_shape)
}

/// A browser navigating to a page, not a client of the API.
fn wants_page(req: &HttpRequest) -> bool {
    let accepts_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    accepts_html && !req.path().starts_with("/api/")
}

fn into_error_shape<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if wants_page(res.request())
        && let Some(page) = super::pages::error_page(res.request(), res.status())
    {
        let (req, _) = res.into_parts();
        return Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, page).map_into_right_body(),
        ));
    }
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, res) = res.into_parts();
    let status = res.status();
    let reason = status.canonical_reason().unwrap_or("Error");
    let code = reason.to_ascii_lowercase().replace([' ', '-'], "_");
    let mut answer = HttpResponse::build(status);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.insert_header((name.clone(), value.clone()));
        }
    }
    let answer = answer.json(ErrorBody {
        error: ErrorDetail {
            code: &code,
            message: reason.to_string(),
        },
    });
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, answer).map_into_right_body(),
    ))
}

//! The root span of each request: method, route, client address, request id, and one event at
//! the end with the status. Client errors are logged by status alone, because their messages may
//! quote what the client sent.

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// Root span per request: method, route, client address, request id; one event at the end with
/// the status. The cause of a 5xx is logged once, by `AppError::error_response`.
pub(crate) struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The path without its query: links from emails and the platform carry one-time tokens
        // there (`?token=`), which must not reach the log.
        let route = request.match_pattern().unwrap_or_default();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let client = request
            .connection_info()
            .realip_remote_addr()
            .unwrap_or("")
            .to_string();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.client_ip = %client,
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        let code = i32::from(status.as_u16());
        span.record("http.status_code", code);
        span.record(
            "otel.status_code",
            if status.is_server_error() {
                "ERROR"
            } else {
                "OK"
            },
        );
        span.in_scope(|| {
            if status.is_server_error() {
                tracing::warn!(status = code, "request finished");
            } else {
                tracing::debug!(status = code, "request finished");
            }
        });
    }
}

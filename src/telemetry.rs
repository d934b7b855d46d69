//! Logging: one tracing subscriber for the process. Each request gets a root span with a request
//! id; fields are ids only, never bodies, addresses, passwords or tokens. Client errors are logged
//! by status alone, because their messages may quote what the client sent.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{RootSpanBuilder, root_span};
use tracing_subscriber::EnvFilter;

/// Installs the subscriber; a second call (tests) is a no-op. Migration chatter is kept at warn
/// unless the filter names refinery.
pub fn init(filter: &str) {
    let directives = if filter.contains("refinery") {
        filter.to_string()
    } else {
        format!("{filter},refinery_core=warn")
    };
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

/// Root span per request: method, route, client address, request id; one event at the end with
/// the status. The cause of a 5xx is logged once, by `AppError::error_response`.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        root_span!(level = tracing::Level::INFO, request)
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

//! Logging: one tracing subscriber for the process; each request's root span is built at the
//! HTTP edge (`http::request_span`). Fields are ids only, never bodies, addresses, passwords or
//! tokens.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{Metadata, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Installs the subscriber; a second call (tests) is a no-op.
pub fn init(filter: &str, format: LogFormat) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = subscriber(filter, format, ansi, std::io::stdout).try_init();
}

/// The log to `writer` through `filter`. Migration chatter is kept at warn unless the filter names
/// refinery. Requests that are not HTTP at all never reach a handler, and actix logs each at
/// ERROR: those are counted instead ([`take_malformed_requests`]), so a client sending garbage
/// cannot flood the log. Both filters give a level hint, so every callsite above the configured
/// level stays off without being asked.
/// In `json`, each line is one object: `timestamp`, `level`, `fields` (the message among them)
/// and the request's span (`span`, `spans`), as log shippers read it.
fn subscriber<W>(
    filter: &str,
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let mut directives = if filter.contains("refinery") {
        filter.to_string()
    } else {
        format!("{filter},refinery_core=warn")
    };
    directives.push_str(",actix_http::h1=off");
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let log: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_target(false)
            .with_writer(writer)
            .boxed(),
    };
    let log = log.with_filter(filter);
    let malformed = filter_fn(is_malformed_request).with_max_level_hint(LevelFilter::ERROR);
    tracing_subscriber::registry()
        .with(log)
        .with(MalformedRequests.with_filter(malformed))
}

/// actix-http's report of a request it could not parse (a client's mistake, not ours).
fn is_malformed_request(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("actix_http::h1") && *metadata.level() == tracing::Level::ERROR
}

static MALFORMED_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Counts malformed requests in place of logging each.
struct MalformedRequests;

impl<S: Subscriber> Layer<S> for MalformedRequests {
    fn on_event(&self, _event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        MALFORMED_REQUESTS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The malformed requests counted since the last call; the cleanup job logs them once a minute.
pub(crate) fn take_malformed_requests() -> u64 {
    MALFORMED_REQUESTS.swap(0, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_requests_are_counted_not_logged() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let writer = log.clone();
        let subscriber = subscriber("info", LogFormat::Text, false, move || {
            TestWriter(writer.clone())
        });
        take_malformed_requests();
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..3 {
                tracing::error!(target: "actix_http::h1::dispatcher", "stream error: request parse error");
            }
            tracing::error!(target: "parley::app", "a real error");
            tracing::debug!(target: "parley::app", "below the level");
        });
        assert_eq!(take_malformed_requests(), 3);
        let written = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        assert!(!written.contains("request parse error"), "{written}");
        assert!(written.contains("a real error"), "{written}");
        assert!(!written.contains("below the level"), "{written}");
    }

    #[test]
    fn json_logs_are_one_object_per_line() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let writer = log.clone();
        let subscriber = subscriber("info", LogFormat::Json, false, move || {
            TestWriter(writer.clone())
        });
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "r-1");
            span.in_scope(|| tracing::warn!(store_id = 7, "a \"quoted\" event"));
        });
        let written = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(written.trim()).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["message"], "a \"quoted\" event");
        assert_eq!(line["fields"]["store_id"], 7);
        assert_eq!(line["span"]["request_id"], "r-1");
        assert!(line["timestamp"].is_string());
    }

    struct TestWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for TestWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}

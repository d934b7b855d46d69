//! Operational metrics in the Prometheus text format (`GET /metrics`, off unless `metrics.enabled`).
//!
//! Events are counted where they happen through the `metrics` facade (a no-op until a recorder is
//! installed, so a server without metrics pays nothing); figures that are states rather than events
//! (queue depths, file sizes, free disk) are read when Prometheus scrapes
//! (`health::metrics_exposition`).

use std::sync::OnceLock;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The metric names, in one place so the README's alert rules and the code agree.
pub mod name {
    pub const HTTP_REQUESTS: &str = "parley_http_requests_total";
    pub const HTTP_DURATION: &str = "parley_http_request_duration_seconds";
    pub const WRITER_QUEUE: &str = "parley_db_writer_queue_depth";
    pub const WRITE_BATCH: &str = "parley_db_write_batch_size";
    pub const COMMIT_DURATION: &str = "parley_db_commit_duration_seconds";
    pub const CHECKPOINT_DURATION: &str = "parley_db_checkpoint_duration_seconds";
    pub const DB_SIZE: &str = "parley_db_size_bytes";
    pub const WAL_SIZE: &str = "parley_db_wal_size_bytes";
    pub const DISK_FREE: &str = "parley_disk_free_bytes";
    pub const EMAIL_QUEUE: &str = "parley_email_queue";
    pub const WEBHOOK_QUEUE: &str = "parley_webhook_queue";
    pub const LIVE_STREAMS: &str = "parley_live_streams";
    pub const RATE_LIMITED: &str = "parley_rate_limited_total";
    pub const IMAGE_DECODES: &str = "parley_image_decodes_in_flight";
}

/// Request latencies from 1 ms to 10 s; commit and checkpoint durations share them.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle). Until then every
/// count below is dropped at its call site.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(name::WRITE_BATCH.into()), BATCH_BUCKETS)
            })
            .map(|b| b.build_recorder())
            // The bucket lists above are constants and not empty: building cannot fail.
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        name::HTTP_REQUESTS,
        "HTTP requests answered, by method, route and status"
    );
    describe_histogram!(
        name::HTTP_DURATION,
        Unit::Seconds,
        "Time to answer a request (to its first byte for streams), by route"
    );
    describe_gauge!(name::WRITER_QUEUE, "Writes waiting for the writer thread");
    describe_histogram!(name::WRITE_BATCH, "Writes sharing one commit");
    describe_histogram!(
        name::COMMIT_DURATION,
        Unit::Seconds,
        "Time from BEGIN to the end of COMMIT of a group of writes"
    );
    describe_histogram!(
        name::CHECKPOINT_DURATION,
        Unit::Seconds,
        "Time of one checkpoint pass (WAL pages copied into the database)"
    );
    describe_gauge!(name::DB_SIZE, Unit::Bytes, "Size of parley.db");
    describe_gauge!(name::WAL_SIZE, Unit::Bytes, "Size of parley.db-wal");
    describe_gauge!(
        name::DISK_FREE,
        Unit::Bytes,
        "Free space of the data directory's file system"
    );
    describe_gauge!(name::EMAIL_QUEUE, "Emails in the outbox, by state");
    describe_gauge!(name::WEBHOOK_QUEUE, "Webhook deliveries, by state");
    describe_gauge!(name::LIVE_STREAMS, "Open live event streams, by area");
    describe_counter!(
        name::RATE_LIMITED,
        "Requests refused by a rate limit (login_ip, login_account, send, new_conversation)"
    );
    describe_gauge!(name::IMAGE_DECODES, "Images being decoded for thumbnails");
}

/// The exposition of everything recorded so far (empty until [`install`]).
pub(crate) fn render() -> Option<String> {
    let handle = HANDLE.get()?;
    handle.run_upkeep();
    Some(handle.render())
}

/// Drains recorded histogram values into their buckets; the metrics job calls it every few
/// seconds so values recorded between scrapes do not pile up.
pub(crate) fn upkeep() {
    if let Some(handle) = HANDLE.get() {
        handle.run_upkeep();
    }
}

/// One answered HTTP request. `route` is the matched pattern (`/api/v1/admin/messages/{id}`),
/// never the path itself, so the number of series stays fixed.
pub(crate) fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    counter!(name::HTTP_REQUESTS, "method" => method.to_owned(), "route" => route.to_owned(),
        "status" => status.to_string())
    .increment(1);
    histogram!(name::HTTP_DURATION, "route" => route.to_owned()).record(seconds);
}

pub(crate) fn write_batch(writes: usize, seconds: f64) {
    histogram!(name::WRITE_BATCH).record(writes as f64);
    histogram!(name::COMMIT_DURATION).record(seconds);
}

pub(crate) fn checkpoint(seconds: f64) {
    histogram!(name::CHECKPOINT_DURATION).record(seconds);
}

/// A request refused by the rate limit named `limit`.
pub(crate) fn rate_limited(limit: &'static str) {
    counter!(name::RATE_LIMITED, "limit" => limit).increment(1);
}

/// A live stream of `area` opened (`+1`) or ended (`-1`).
pub(crate) fn live_streams(area: &'static str, change: f64) {
    gauge!(name::LIVE_STREAMS, "area" => area).increment(change);
}

/// An image decode started (`+1`) or ended (`-1`).
pub(crate) fn image_decodes(change: f64) {
    gauge!(name::IMAGE_DECODES).increment(change);
}

//! Settings: one tree, layered as built-in defaults → optional TOML file → `PARLEY_*` environment →
//! command-line flags, validated once at start. An unknown key or a bad value stops the start and
//! names the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::db::Checkpoints;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub auth: AuthSettings,
    pub security: SecuritySettings,
    pub email: EmailSettings,
    pub integration: IntegrationSettings,
    pub webhooks: WebhookSettings,
    pub sso: SsoSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    /// The executable that renders store templates in a sandbox (`parley render-sandbox`).
    /// Not configurable: the running binary itself; tests point it at the built binary.
    #[serde(skip)]
    pub sandbox_exe: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Base of links in emails and pages; `https://…` turns on `Secure` cookies.
    pub public_url: String,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Seconds between keep-alive comments on live event streams (the session is re-checked then).
    pub sse_keepalive_seconds: u64,
    /// Live event streams at once; 0 = what the open-files limit allows, less a reserve that
    /// keeps ordinary requests answered.
    pub max_streams: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            workers: 0,
            trust_forwarded_for: false,
            sse_keepalive_seconds: 15,
            max_streams: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// Everything Parley writes lives here: parley.db, uploads/, secret.key.
    pub data_dir: PathBuf,
    /// Read-only SQLite connections kept open for queries.
    pub read_connections: usize,
    /// Below this much free space in the data directory (in MiB) the admins get an alert.
    pub min_free_disk_mb: u64,
    /// Who checkpoints the WAL: Parley itself, or an external tool (Litestream) that must own
    /// checkpoints.
    pub checkpoints: Checkpoints,
    /// With external checkpoints, the admins get an alert once the WAL is larger than this (MiB):
    /// the tool that should checkpoint it has stopped.
    pub wal_alert_mb: u64,
    /// Where new attachment files go: the data directory, or the bucket of `storage.s3`.
    pub attachments: AttachmentStore,
    pub s3: S3Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentStore {
    Local,
    S3,
}

/// An S3-compatible bucket. The credentials are not settings: `parley s3-credentials` seals them
/// into the database with the data directory's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// The service's URL, e.g. `https://s3.eu-west-1.amazonaws.com` or a MinIO/Garage/R2 URL.
    /// Empty: AWS for `region`.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Keys start with this (then `messages/YYYY/MM/<conversation_id>/<uuid>.<ext>`).
    pub prefix: String,
    /// Bucket in the URL path (`endpoint/bucket/key`), as MinIO and most non-AWS services want.
    pub path_style: bool,
    /// Seconds to wait for the service on each request.
    pub timeout_seconds: u64,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            prefix: String::new(),
            path_style: true,
            timeout_seconds: 30,
        }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            read_connections: 4,
            min_free_disk_mb: 512,
            checkpoints: Checkpoints::Parley,
            wal_alert_mb: 1024,
            attachments: AttachmentStore::Local,
            s3: S3Settings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Lifetime of a bearer token or cookie session.
    pub session_ttl_hours: u32,
    /// Login and registration attempts per client address per minute.
    pub login_attempts_per_ip_per_minute: u32,
    /// Login attempts per account (area + email) per minute.
    pub login_attempts_per_account_per_minute: u32,
    /// Messages one account may send per minute (then 429 with Retry-After).
    pub messages_per_minute: u32,
    /// Conversations one customer may start per hour (where customers may start them).
    pub conversations_per_customer_per_hour: u32,
    /// Password hashes computed at once (each takes ~19 MiB and one core for ~20 ms).
    pub hash_concurrency: usize,
    /// Password checks allowed to wait for a slot before new ones get 503.
    pub hash_queue: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_ttl_hours: 24,
            login_attempts_per_ip_per_minute: 30,
            login_attempts_per_account_per_minute: 10,
            messages_per_minute: 60,
            conversations_per_customer_per_hour: 10,
            hash_concurrency: 2,
            hash_queue: 64,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// The key that seals stored credentials, as 64 hex digits. Empty: the key lives in
    /// `secret.key` in the data directory (created on first start).
    pub secret_key: Secret,
}

/// How to reach the SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same machine or network).
    None,
    /// SMTP upgraded with STARTTLS (usually port 587).
    Starttls,
    /// Implicit TLS (usually port 465).
    Tls,
}

/// A secret setting: printed and debugged as `***`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "***" })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// The platform's sender, used unless a store has its own.
    pub from_email: String,
    pub from_name: String,
    /// The platform's SMTP relay. Empty: emails are queued (and kept) but not sent.
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_username: String,
    pub smtp_password: Secret,
    pub smtp_security: SmtpSecurity,
    /// Seconds to wait for the relay before an attempt counts as failed (and is retried).
    pub smtp_timeout_seconds: u64,
    /// At most one new-message email per participant per conversation in this many seconds.
    pub notification_window_seconds: u64,
    /// A new-message email waits this long, and is dropped if the conversation is read meanwhile.
    pub notification_delay_seconds: u64,
    /// Attempts before an email is marked failed.
    pub max_attempts: u32,
    /// First retry delay; each further one doubles (with jitter), up to an hour.
    pub retry_base_seconds: u64,
    /// How often the delivery job looks for due emails, in milliseconds.
    pub poll_interval_ms: u64,
    /// Allow stores to use SMTP hosts on loopback, private or link-local addresses.
    pub allow_private_smtp_hosts: bool,
    /// Seconds to wait for an HTTP email provider (SendGrid, Mailgun, SES).
    pub provider_timeout_seconds: u64,
    /// API base URLs of the HTTP providers (changed only for tests or proxies).
    pub sendgrid_base_url: String,
    pub mailgun_base_url_us: String,
    pub mailgun_base_url_eu: String,
    /// `{region}` is replaced by the store's SES region.
    pub ses_endpoint: String,
    /// Webhook events older than this many seconds are refused (replay protection).
    pub webhook_max_age_seconds: i64,
    /// Where SNS certificates and subscription confirmations may come from. Empty: only
    /// `https://sns.<region>.amazonaws.com/`; set a prefix only for tests.
    pub sns_trusted_url_prefix: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            from_email: "noreply@parley.invalid".into(),
            from_name: "Parley".into(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            smtp_security: SmtpSecurity::Starttls,
            smtp_timeout_seconds: 30,
            notification_window_seconds: 300,
            notification_delay_seconds: 60,
            max_attempts: 8,
            retry_base_seconds: 30,
            poll_interval_ms: 1000,
            allow_private_smtp_hosts: false,
            provider_timeout_seconds: 30,
            sendgrid_base_url: "https://api.sendgrid.com".into(),
            mailgun_base_url_us: "https://api.mailgun.net".into(),
            mailgun_base_url_eu: "https://api.eu.mailgun.net".into(),
            ses_endpoint: "https://email.{region}.amazonaws.com".into(),
            webhook_max_age_seconds: 600,
            sns_trusted_url_prefix: String::new(),
        }
    }
}

/// How the platform around Parley plugs in (integration keys, events, conversation context).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrationSettings {
    /// Days the event log keeps events; a reader further behind gets 410 `events_expired`.
    pub event_retention_days: u32,
    /// Hosts a conversation's context link may point to (`https` only); empty refuses links.
    pub context_url_hosts: Vec<String>,
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        Self {
            event_retention_days: 30,
            context_url_hosts: Vec::new(),
        }
    }
}

/// Outgoing webhooks (the platform's and the stores' endpoints).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Allow endpoints on loopback, private, link-local or metadata addresses, and plain http
    /// (local development only).
    pub allow_private_hosts: bool,
    /// The first retry waits this long; each further one twice as long, up to `retry_max_seconds`.
    pub retry_base_seconds: u64,
    pub retry_max_seconds: u64,
    /// How long a receiver has to answer.
    pub timeout_seconds: u64,
    /// How often the delivery job looks for work.
    pub poll_interval_ms: u64,
    /// An endpoint whose every attempt has failed for this long is disabled (with an alert).
    pub disable_after_hours: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_hosts: false,
            retry_base_seconds: 30,
            retry_max_seconds: 3600,
            timeout_seconds: 10,
            poll_interval_ms: 1000,
            disable_after_hours: 72,
        }
    }
}

/// Single sign-on: the platform signs a short-lived JWT naming the person, Parley verifies it and
/// opens a session. Off until `issuer` and a key are set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoSettings {
    /// The `iss` every token must carry (the platform's URL or name); empty turns SSO off.
    pub issuer: String,
    /// The `aud` every token must carry.
    pub audience: String,
    /// A shared secret for HS256 tokens (at least 32 bytes); empty: HS256 is refused.
    pub hs256_secret: Secret,
    /// A PEM public key (Ed25519 for EdDSA, or RSA for RS256) for tokens signed by the platform's
    /// private key.
    pub public_key_file: Option<PathBuf>,
    /// Seconds of clock difference tolerated on `exp` and `iat`.
    pub leeway_seconds: u64,
}

impl Default for SsoSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            audience: "parley".into(),
            hs256_secret: Secret::default(),
            public_key_file: None,
            leeway_seconds: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// A tracing filter, e.g. "info" or "parley=debug,info".
    pub level: String,
    /// `text` for people, `json` (one object per line) for log shippers.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Serve `GET /metrics` in the Prometheus text format.
    pub enabled: bool,
    /// If set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub token: Secret,
}

/// Values given on the command line (or their dedicated environment variables).
#[derive(Debug, Default, Clone)]
pub(crate) struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub bind: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads the layered configuration. `env` is the process environment (passed in so tests can
    /// supply their own).
    pub(crate) fn load(
        overrides: &Overrides,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = &overrides.config_file {
            if !file.is_file() {
                return Err(ConfigError::MissingFile(file.clone()));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(env_provider(env));
        if let Some(dir) = &overrides.data_dir {
            figment = figment.merge(Serialized::default("storage.data_dir", dir));
        }
        if let Some(bind) = &overrides.bind {
            figment = figment.merge(Serialized::default("server.bind", bind.to_string()));
        }
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError::Invalid(format!("{key}: {why}")));
        let url = &self.server.public_url;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return bad("server.public_url", "must be an http:// or https:// URL");
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            return bad("storage.data_dir", "must not be empty");
        }
        if !(1..=64).contains(&self.storage.read_connections) {
            return bad("storage.read_connections", "must be between 1 and 64");
        }
        let s3 = &self.storage.s3;
        if self.storage.attachments == AttachmentStore::S3 && s3.bucket.is_empty() {
            return bad(
                "storage.s3.bucket",
                "is needed with storage.attachments = \"s3\"",
            );
        }
        let endpoint = &s3.endpoint;
        let is_url = endpoint.starts_with("http://") || endpoint.starts_with("https://");
        if !endpoint.is_empty() && !is_url {
            return bad("storage.s3.endpoint", "must be an http:// or https:// URL");
        }
        if !(1..=600).contains(&s3.timeout_seconds) {
            return bad("storage.s3.timeout_seconds", "must be between 1 and 600");
        }
        let auth = &self.auth;
        if auth.session_ttl_hours == 0 {
            return bad("auth.session_ttl_hours", "must be at least 1");
        }
        if auth.login_attempts_per_ip_per_minute == 0 {
            return bad(
                "auth.login_attempts_per_ip_per_minute",
                "must be at least 1",
            );
        }
        if auth.messages_per_minute == 0 {
            return bad("auth.messages_per_minute", "must be at least 1");
        }
        if auth.conversations_per_customer_per_hour == 0 {
            return bad(
                "auth.conversations_per_customer_per_hour",
                "must be at least 1",
            );
        }
        if auth.login_attempts_per_account_per_minute == 0 {
            return bad(
                "auth.login_attempts_per_account_per_minute",
                "must be at least 1",
            );
        }
        if !(1..=64).contains(&auth.hash_concurrency) {
            return bad("auth.hash_concurrency", "must be between 1 and 64");
        }
        let hooks = &self.webhooks;
        if !(1..=300).contains(&hooks.timeout_seconds) {
            return bad("webhooks.timeout_seconds", "must be between 1 and 300");
        }
        if hooks.retry_base_seconds == 0 || hooks.retry_max_seconds < hooks.retry_base_seconds {
            return bad(
                "webhooks.retry_base_seconds",
                "must be at least 1 and at most webhooks.retry_max_seconds",
            );
        }
        if hooks.poll_interval_ms < 10 || hooks.disable_after_hours == 0 {
            return bad(
                "webhooks.poll_interval_ms",
                "must be at least 10 (and disable_after_hours at least 1)",
            );
        }
        let sso = &self.sso;
        if !sso.hs256_secret.0.is_empty() && sso.hs256_secret.0.len() < 32 {
            return bad("sso.hs256_secret", "must be at least 32 bytes");
        }
        if !sso.issuer.is_empty() && sso.hs256_secret.0.is_empty() && sso.public_key_file.is_none()
        {
            return bad(
                "sso.issuer",
                "needs sso.hs256_secret or sso.public_key_file to verify tokens",
            );
        }
        if sso.leeway_seconds > 300 {
            return bad("sso.leeway_seconds", "must be at most 300");
        }
        if self.integration.event_retention_days == 0 {
            return bad("integration.event_retention_days", "must be at least 1");
        }
        if self
            .log
            .level
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            return bad("log.level", "is not a valid tracing filter");
        }
        Ok(())
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.storage.data_dir.join(crate::db::DB_FILE)
    }

    pub fn data_dir(&self) -> &Path {
        &self.storage.data_dir
    }

    /// Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https.
    pub(crate) fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }
}

/// `PARLEY_SECTION__KEY=value` → `section.key`. The flat variables that mirror CLI flags
/// (`PARLEY_CONFIG`, `PARLEY_DATA_DIR`, `PARLEY_BIND`) are read by the CLI instead.
fn env_provider(env: impl IntoIterator<Item = (String, String)>) -> Serialized<toml::Table> {
    let mut table = toml::Table::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("PARLEY_") else {
            continue;
        };
        if matches!(rest, "CONFIG" | "DATA_DIR" | "BIND") {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        insert_path(&mut table, &path, parse_env_value(&value));
    }
    Serialized::defaults(table)
}

fn insert_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// Environment values are typed the way TOML would read them (`8080` is a number, `true` a
/// bool); anything else is a string.
fn parse_env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if key.is_empty() {
                e.kind.to_string()
            } else {
                format!("{key}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;

//! Startup as a library function: `Application::build` opens the database, builds the shared
//! state, binds the listener (port 0 in tests) and spawns the background jobs; `run_until_stopped`
//! serves until SIGINT/SIGTERM and then stops the jobs.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::middleware::{Condition, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;

use crate::auth::{Hasher, LoginLimiter};
use crate::config::Settings;
use crate::crypto::{self, SecretKey};
use crate::db::Db;
use crate::email::settings as email_settings;
use crate::email::smtp::{RelayConfig, SmtpRelay};
use crate::email::templates;
use crate::http::request_span::RequestSpan;
use crate::messaging::EventBus;
use crate::state::{AppState, StreamSlots};
use crate::{error, http, jobs};

#[derive(Clone)]
pub struct StopHandle {
    server: actix_web::dev::ServerHandle,
    shutdown: CancellationToken,
}

impl StopHandle {
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.server.stop(true).await;
    }
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    state: web::Data<AppState>,
    shutdown: CancellationToken,
}

/// Opens the data directory: database (migrated) and key. Used by the server and the CLI.
pub(crate) fn open_data_dir(settings: &Settings) -> anyhow::Result<(Db, SecretKey)> {
    std::fs::create_dir_all(settings.data_dir()).with_context(|| {
        format!(
            "while creating data directory {}",
            settings.data_dir().display()
        )
    })?;
    let db = Db::open(
        &settings.db_path(),
        settings.storage.read_connections,
        settings.storage.checkpoints,
        crate::messaging::search::index_queued_messages,
    )?;
    let temp = crate::attachments::temp_dir(settings.data_dir());
    std::fs::create_dir_all(&temp).with_context(|| format!("while creating {}", temp.display()))?;
    let conn = rusqlite::Connection::open(settings.db_path())?;
    let key = load_key(settings, &conn)?;
    Ok((db, key))
}

/// The key that seals credentials: from configuration, or the key file (created on first start).
/// It must open the database's key check; a key that does not stops the start, and a missing key
/// is never replaced while sealed values exist.
fn load_key(settings: &Settings, conn: &rusqlite::Connection) -> anyhow::Result<SecretKey> {
    let data_dir = settings.data_dir();
    let configured = &settings.security.secret_key.0;
    let key = if !configured.is_empty() {
        crypto::key_from_hex(configured).context("security.secret_key: must be 64 hex digits")?
    } else {
        finish_interrupted_rotation(data_dir, conn)?;
        let has_check =
            email_settings::key_matches(conn, &SecretKey::from_bytes([0; 32]))?.is_some();
        crypto::load_or_create_key(data_dir, has_check || has_sealed_credentials(conn)?)?
    };
    match email_settings::key_matches(conn, &key)? {
        Some(true) => {}
        Some(false) => anyhow::bail!(
            "the secret key does not match this database (its sealed credentials would not open); restore the \
             key file that belongs to this data directory, or the matching security.secret_key"
        ),
        None => email_settings::write_key_check(conn, &key)?,
    }
    Ok(key)
}

/// A rotation writes the next key to `secret.key.new`, re-seals in one transaction, then renames.
/// If the process stopped in between, the database tells which key is current.
fn finish_interrupted_rotation(
    data_dir: &std::path::Path,
    conn: &rusqlite::Connection,
) -> anyhow::Result<()> {
    let next_path = data_dir.join(crypto::NEXT_KEY_FILE);
    let Ok(bytes) = std::fs::read(&next_path) else {
        return Ok(());
    };
    let next = <[u8; 32]>::try_from(bytes).map(SecretKey::from_bytes).ok();
    if next.is_some_and(|k| matches!(email_settings::key_matches(conn, &k), Ok(Some(true)))) {
        std::fs::rename(&next_path, data_dir.join(crypto::KEY_FILE))
            .context("while finishing a key rotation")?;
        tracing::warn!("finished an interrupted key rotation");
    } else {
        std::fs::remove_file(&next_path).context("while discarding an unfinished key rotation")?;
    }
    Ok(())
}

fn has_sealed_credentials(conn: &rusqlite::Connection) -> anyhow::Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM store_email_settings WHERE smtp_password IS NOT NULL
            OR sendgrid_api_key IS NOT NULL OR mailgun_api_key IS NOT NULL OR ses_secret_access_key IS NOT NULL
            OR mailgun_webhook_signing_key IS NOT NULL)
         + (SELECT count(*) FROM storage_credentials)",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// `parley rotate-key`: a new key file, every credential re-sealed under it. Run it with the server
/// stopped (a running server keeps using the key it started with).
pub(crate) async fn rotate_key(settings: &Settings) -> anyhow::Result<usize> {
    if !settings.security.secret_key.0.is_empty() {
        anyhow::bail!(
            "the key comes from security.secret_key: rotate it in the configuration, not here"
        );
    }
    let settings_for_open = settings.clone();
    let (db, old) =
        tokio::task::spawn_blocking(move || open_data_dir(&settings_for_open)).await??;
    let new = SecretKey::generate()?;
    let next_path = settings.data_dir().join(crypto::NEXT_KEY_FILE);
    let _ = std::fs::remove_file(&next_path);
    crypto::write_private_file(&next_path, new.bytes()).context("while writing the new key")?;
    let resealed = db
        .write(move |tx| {
            let credentials = email_settings::reseal_all(tx, &old, &new)?;
            let storage = crate::attachments::reseal(tx, &old, &new)
                .map_err(crate::email::EmailError::internal)?;
            Ok::<_, crate::email::EmailError>(credentials + storage)
        })
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing failed, nothing changed: {e}"))?;
    std::fs::rename(&next_path, settings.data_dir().join(crypto::KEY_FILE))
        .context("while installing the new key")?;
    Ok(resealed)
}

/// Descriptors kept for everything but live streams: requests, the database and its WAL,
/// uploads, outgoing mail.
const RESERVED_DESCRIPTORS: u64 = 256;

/// How many live streams may be open: the configured figure, or what the open-files limit
/// (raised first to the hard limit) leaves after the reserve.
fn stream_capacity(settings: &Settings) -> usize {
    let open_files = raise_open_files_limit();
    match settings.server.max_streams {
        0 => {
            let reserve = RESERVED_DESCRIPTORS.max(open_files / 10);
            usize::try_from(open_files.saturating_sub(reserve)).unwrap_or(usize::MAX)
        }
        configured => configured,
    }
}

/// Raises the soft open-files limit to the hard one: every live stream holds a descriptor, and
/// the common default of 1,024 would stop the server, `/health` included, near a thousand viewers.
fn raise_open_files_limit() -> u64 {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft);
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(now) => {
            tracing::info!(before, now, "open files limit");
            now
        }
        Err(e) => {
            tracing::warn!(before, error = %e, "cannot raise the open files limit");
            before
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let settings = Arc::new(settings);
        let opened = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || open_data_dir(&settings)).await?
        };
        let (db, key) = opened?;
        let files = {
            let (settings, key) = (settings.clone(), key.clone());
            db.read_pooled(move |conn| crate::attachments::open_files(&settings, conn, &key))
                .await?
        };
        let seeded = db.write(templates::seed_defaults).await?;
        if seeded > 0 {
            tracing::info!(seeded, "default email templates added");
        }
        let mailer = match RelayConfig::platform(&settings.email) {
            Some(config) => {
                Some(SmtpRelay::new(&config).map_err(|e| anyhow::anyhow!("email.smtp_host: {e}"))?)
            }
            None => {
                tracing::warn!("email.smtp_host is empty: emails are queued but not sent");
                None
            }
        };
        let sandbox_exe = match &settings.sandbox_exe {
            Some(exe) => exe.clone(),
            None => std::env::current_exe().context("while locating the parley executable")?,
        };
        let state = web::Data::new(AppState {
            hasher: Hasher::new(settings.auth.hash_concurrency, settings.auth.hash_queue)
                .context("while starting the password hashing threads")?,
            login_limiter: Arc::new(LoginLimiter::new(&settings.auth)),
            settings: settings.clone(),
            db,
            key,
            events: EventBus::new(1024),
            mailer,
            sandbox_exe,
            http: crate::email::providers::http_client(std::time::Duration::from_secs(
                settings.email.provider_timeout_seconds,
            ))
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?,
            webhook_http: crate::integration::deliveries::http_client(&settings.webhooks)
                .map_err(|e| anyhow::anyhow!("cannot build the webhook HTTP client: {e}"))?,
            sns_certificates: Default::default(),
            pages: crate::views::Pages::load()?,
            streams: StreamSlots::new(stream_capacity(&settings)),
            files,
            sso: crate::accounts::sso::Verifier::from_settings(&settings.sso)?.map(Arc::new),
        });

        let metrics = settings.metrics.enabled;
        if metrics {
            crate::metrics::install();
        }
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("while binding {}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let server_state = state.clone();
        let mut server = HttpServer::new(move || {
            // Runs once on each worker thread as it starts.
            if let Err(e) = server_state.db.attach_local_reader() {
                tracing::warn!(error = %e, "worker uses the shared read connections");
            }
            App::new()
                .wrap(crate::http::error_shapes::error_shapes())
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(Condition::new(
                    metrics,
                    from_fn(http::operations::record_request),
                ))
                .wrap_fn(http::head_as_get)
                .app_data(server_state.clone())
                .configure(error::configure_extractors)
                .configure(http::routes)
                .default_service(web::to(error::not_found))
        })
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();

        let shutdown = CancellationToken::new();
        jobs::spawn_all(state.jobs(), shutdown.clone());
        tracing::info!(port, data_dir = %settings.data_dir().display(), "parley is serving");
        Ok(Application {
            port,
            server,
            state,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle that stops the server and its jobs (graceful: requests in flight finish).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            server: self.server.handle(),
            shutdown: self.shutdown.clone(),
        }
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.shutdown.cancel();
        result
    }
}

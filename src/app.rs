//! Startup as a library function: `Application::build` opens the database, builds the shared
//! state, binds the listener (port 0 in tests) and spawns the background jobs; `run_until_stopped`
//! serves until SIGINT/SIGTERM and then stops the jobs.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;

use crate::auth::{Hasher, LoginLimiter};
use crate::config::Settings;
use crate::crypto::{self, SecretKey};
use crate::db::Db;
use crate::email::smtp::{RelayConfig, SmtpRelay};
use crate::email::templates;
use crate::messaging::EventBus;
use crate::telemetry::RequestSpan;
use crate::{error, http, jobs};

/// What every handler and job shares.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub hasher: Hasher,
    pub login_limiter: LoginLimiter,
    pub key: SecretKey,
    pub events: EventBus,
    /// The platform's SMTP relay; None when `email.smtp_host` is empty.
    pub mailer: Option<SmtpRelay>,
    /// The executable that renders store templates in a sandbox.
    pub sandbox_exe: PathBuf,
}

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
pub fn open_data_dir(settings: &Settings) -> anyhow::Result<(Db, SecretKey)> {
    std::fs::create_dir_all(settings.data_dir()).with_context(|| {
        format!(
            "while creating data directory {}",
            settings.data_dir().display()
        )
    })?;
    let db = Db::open(&settings.db_path(), settings.storage.read_connections)?;
    let temp = crate::attachments::temp_dir(settings.data_dir());
    std::fs::create_dir_all(&temp).with_context(|| format!("while creating {}", temp.display()))?;
    let has_sealed = has_sealed_credentials(&settings.db_path())?;
    let key = crypto::load_or_create_key(settings.data_dir(), has_sealed)?;
    Ok((db, key))
}

fn has_sealed_credentials(path: &std::path::Path) -> anyhow::Result<bool> {
    let conn = rusqlite::Connection::open(path)?;
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM store_email_settings WHERE smtp_password IS NOT NULL
            OR sendgrid_api_key IS NOT NULL OR mailgun_api_key IS NOT NULL OR ses_secret_access_key IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let settings = Arc::new(settings);
        let opened = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || open_data_dir(&settings)).await?
        };
        let (db, key) = opened?;
        let seeded = db.write(|tx| templates::seed_defaults(tx)).await?;
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
            hasher: Hasher::new(settings.auth.hash_concurrency, settings.auth.hash_queue),
            login_limiter: LoginLimiter::new(&settings.auth),
            settings: settings.clone(),
            db,
            key,
            events: EventBus::new(1024),
            mailer,
            sandbox_exe,
        });

        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("while binding {}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let server_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                .wrap(TracingLogger::<RequestSpan>::new())
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
        jobs::spawn_all(state.clone().into_inner(), shutdown.clone());
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

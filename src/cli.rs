//! The command line: `parley [serve]`, `migrate`, `create-admin`, `backup`, `restore`,
//! `check-config`. Global flags override the configuration file and environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};
use crate::db::backup;
use crate::{accounts, app, auth, domain, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "parley",
    version,
    about = "Self-hosted messaging appliance for online marketplaces"
)]
pub struct Cli {
    /// TOML configuration file (every key is optional; see config.example.toml).
    #[arg(long, global = true, env = "PARLEY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (database, uploads, key). Default: ./data
    #[arg(long, global = true, env = "PARLEY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on. Default: 127.0.0.1:8080
    #[arg(long, global = true, env = "PARLEY_BIND", value_name = "ADDR:PORT")]
    pub bind: Option<SocketAddr>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance (the default).
    Serve {
        /// Fill an empty data directory with demo stores, people and conversations first.
        #[arg(long)]
        demo: bool,
    },
    /// Run the appliance with demo data (same as `serve --demo`); prints the logins.
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a platform admin, or reset an existing admin's password.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Copy the data directory of a (possibly running) instance into DEST.
    Backup { dest: PathBuf },
    /// Fill an empty data directory from the backup SRC.
    Restore { src: PathBuf },
    /// Import stores, staff and customers by the platform's ids from a JSON-lines FILE
    /// (resumable; failed lines go to FILE.errors.jsonl).
    Import {
        file: PathBuf,
        /// Start from the first line even if an earlier run got further.
        #[arg(long)]
        restart: bool,
    },
    /// Load and validate the configuration, print it (secrets redacted) and exit.
    CheckConfig,
    /// Print the schema after every migration (docs/schema.sql is this output).
    Schema,
    /// Generate a new secret key and re-seal every stored credential under it (server stopped).
    RotateKey,
    /// Internal: render one store template from stdin under resource limits.
    #[command(hide = true)]
    RenderSandbox,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let overrides = Overrides {
        config_file: cli.config,
        data_dir: cli.data_dir,
        bind: cli.bind,
    };
    let settings = Settings::load(&overrides, std::env::vars())?;
    telemetry::init(&settings.log.level, settings.log.format);
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo: false } => {
            let application = app::Application::build(settings).await?;
            application.run_until_stopped().await?;
        }
        Command::Serve { demo: true } | Command::Demo => {
            let bind_ip = settings.server.bind.ip();
            let application = app::Application::build(settings).await?;
            let state = application.state();
            let seeded = crate::demo::seed(&state.messaging(), &state.accounts()).await?;
            if !seeded {
                println!(
                    "(the data directory already had stores; the demo data was not added again)"
                );
            }
            let base = format!("http://{bind_ip}:{}", application.port());
            println!("{}", crate::demo::describe(&base));
            application.run_until_stopped().await?;
        }
        Command::Migrate => {
            let path = settings.db_path();
            tokio::task::spawn_blocking(move || crate::db::open_and_migrate(&path)).await??;
            println!("migrations applied to {}", settings.db_path().display());
        }
        Command::CreateAdmin {
            email,
            password,
            name,
        } => {
            let email = domain::clean_email("email", &email)?.to_ascii_lowercase();
            domain::check_password("password", &password)?;
            let name = domain::clean_line("name", &name, 255)?;
            let (db, _key) =
                tokio::task::spawn_blocking(move || app::open_data_dir(&settings)).await??;
            let hash = auth::password::hash_now(&password)?;
            let user = db
                .write(move |tx| accounts::upsert_admin(tx, &email, &hash, &name))
                .await?;
            println!("admin {} (id {}) is ready", user.email, user.id);
        }
        Command::Backup { dest } => {
            let data_dir = settings.storage.data_dir.clone();
            let report = tokio::task::spawn_blocking(move || backup::backup(&data_dir, &dest))
                .await?
                .context("backup failed")?;
            println!(
                "backup complete: database {} bytes, {} attachment files",
                report.database_bytes, report.files
            );
        }
        Command::Restore { src } => {
            let data_dir = settings.storage.data_dir.clone();
            let report = tokio::task::spawn_blocking(move || backup::restore(&src, &data_dir))
                .await?
                .context("restore failed")?;
            println!(
                "restore complete: database {} bytes, {} attachment files into {}",
                report.database_bytes,
                report.files,
                settings.storage.data_dir.display()
            );
        }
        Command::Import { file, restart } => {
            let (db, _key) =
                tokio::task::spawn_blocking(move || app::open_data_dir(&settings)).await??;
            let report = crate::import::run(&db, &file, restart).await?;
            println!(
                "imported {}: {} created, {} updated, {} failed{}",
                file.display(),
                report.created,
                report.updated,
                report.failed,
                if report.resumed_after > 0 {
                    format!(" (resumed after line {})", report.resumed_after)
                } else {
                    String::new()
                }
            );
            if let Some(errors) = report.errors_file {
                println!("the failed lines and why: {}", errors.display());
            }
        }
        Command::CheckConfig => {
            println!("{}", toml::to_string_pretty(&settings)?);
        }
        Command::Schema => {
            let dir = tempfile::tempdir()?;
            let conn = crate::db::open_and_migrate(&dir.path().join(crate::db::DB_FILE))?;
            print!("{}", crate::db::schema::dump(&conn)?);
        }
        Command::RotateKey => {
            let resealed = app::rotate_key(&settings).await?;
            println!("new key in place; {resealed} credentials re-sealed");
        }
        Command::RenderSandbox => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

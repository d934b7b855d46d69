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
    /// Store the S3 bucket's access key, sealed with the data directory's key. The secret is read
    /// from AWS_SECRET_ACCESS_KEY, or else from the first line of stdin.
    S3Credentials {
        #[arg(long)]
        access_key_id: String,
    },
    /// Move every attachment's files to the S3 bucket (`--to s3`) or back into the data directory
    /// (`--to local`), one at a time; resumable, and the server may run meanwhile.
    MigrateAttachments {
        #[arg(long, value_parser = ["s3", "local"])]
        to: String,
    },
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
            if !settings.storage.s3.bucket.is_empty() {
                println!(
                    "attachments in the S3 bucket {:?} were not copied: the bucket keeps them (turn on its \
                     versioning or replication); the backup's database names them and a restore on the same \
                     storage.s3 settings serves them",
                    settings.storage.s3.bucket
                );
            }
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
            if !settings.storage.s3.bucket.is_empty() {
                println!(
                    "attachments in the S3 bucket {:?} were not touched: the restored database reads them \
                     there (its sealed S3 credentials open with the restored key)",
                    settings.storage.s3.bucket
                );
            }
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
        Command::S3Credentials { access_key_id } => {
            let secret_access_key = match std::env::var("AWS_SECRET_ACCESS_KEY") {
                Ok(secret) => secret,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            if access_key_id.trim().is_empty() || secret_access_key.is_empty() {
                anyhow::bail!("both the access key id and the secret access key are needed");
            }
            let (db, key) =
                tokio::task::spawn_blocking(move || app::open_data_dir(&settings)).await??;
            let credentials = crate::attachments::Credentials {
                access_key_id,
                secret_access_key,
            };
            db.write(move |tx| {
                crate::attachments::save_credentials(tx, &key, &credentials)
                    .map_err(crate::db::DbError::from)
            })
            .await?;
            println!("S3 credentials stored (sealed); restart the server to use them");
        }
        Command::MigrateAttachments { to } => {
            let to = crate::attachments::Location::parse(&to);
            let opened = settings.clone();
            let (db, key) =
                tokio::task::spawn_blocking(move || app::open_data_dir(&opened)).await??;
            if settings.storage.s3.bucket.is_empty() {
                anyhow::bail!(
                    "storage.s3.bucket is not set: there is no bucket to move files to or from"
                );
            }
            let files = {
                let settings = settings.clone();
                db.read_pooled(move |conn| crate::attachments::open_files(&settings, conn, &key))
                    .await?
            };
            let moved = crate::attachments::migrate::migrate(&db, &files, to).await?;
            println!(
                "{} attachments ({} files) moved to {}{}",
                moved.attachments,
                moved.files,
                to.as_str(),
                if moved.missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} had no file at the source and were left as they were (ids {:?})",
                        moved.missing.len(),
                        moved.missing
                    )
                }
            );
        }
        Command::RenderSandbox => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

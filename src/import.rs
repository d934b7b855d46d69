//! `parley import FILE`: the first sync of an existing shop. Each line of FILE is a store, a
//! staff member or a customer by the platform's ids, applied as its integration PUT would be
//! (idempotent, so running a file twice duplicates nothing). Lines go to the single writer 64 at
//! a time, in file order, so they share commits; a line that fails is written with its reason
//! to `FILE.errors.jsonl` and the rest go on. `FILE.progress` holds how many lines are done, so an
//! interrupted import resumes where it stopped.

use std::path::{Path, PathBuf};

use anyhow::Context;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::accounts::provision::{self, ImportLine, Upserted};
use crate::db::Db;

/// Lines in flight at once: enough for them to share the writer's commits.
const IN_FLIGHT: usize = 64;
/// How often (in lines) the progress file is brought up to date.
const PROGRESS_EVERY: u64 = 500;

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Lines skipped because an earlier run had done them.
    pub resumed_after: u64,
    pub created: u64,
    pub updated: u64,
    pub failed: u64,
    pub errors_file: Option<PathBuf>,
}

fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

async fn save_progress(path: &Path, done: u64) -> anyhow::Result<()> {
    let temp = beside(path, ".tmp");
    tokio::fs::write(&temp, done.to_string()).await?;
    tokio::fs::rename(&temp, path).await?;
    Ok(())
}

/// Imports `file` into `db`; `restart` ignores the progress of an earlier run.
pub async fn run(db: &Db, file: &Path, restart: bool) -> anyhow::Result<Report> {
    let progress_path = beside(file, ".progress");
    let errors_path = beside(file, ".errors.jsonl");
    let resumed_after: u64 = if restart {
        0
    } else {
        match tokio::fs::read_to_string(&progress_path).await {
            Ok(text) => text.trim().parse().unwrap_or(0),
            Err(_) => 0,
        }
    };
    let total = {
        let text = tokio::fs::read(file)
            .await
            .with_context(|| format!("while reading {}", file.display()))?;
        text.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64
    };
    let mut errors = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed_after > 0)
        .truncate(resumed_after == 0)
        .open(&errors_path)
        .await
        .with_context(|| format!("while opening {}", errors_path.display()))?;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} lines  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(resumed_after.min(total));

    let by = format!(
        "import:{}",
        file.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    // The file is read as it goes, never whole: numbered non-empty lines, after the done ones.
    let reader = tokio::io::BufReader::new(tokio::fs::File::open(file).await?);
    let lines =
        futures_util::stream::unfold((reader.lines(), 0u64), |(mut lines, mut n)| async move {
            loop {
                match lines.next_line().await {
                    Ok(Some(text)) if text.trim().is_empty() => continue,
                    Ok(Some(text)) => {
                        n += 1;
                        return Some((Ok((n, text)), (lines, n)));
                    }
                    Ok(None) => return None,
                    Err(e) => return Some((Err(e), (lines, n))),
                }
            }
        });
    let results = lines
        .filter(|line| std::future::ready(!matches!(line, Ok((n, _)) if *n <= resumed_after)))
        .map(|line| {
            let (db, by) = (db.clone(), by.clone());
            async move {
                let (number, text) = line?;
                let outcome = match ImportLine::parse(&text) {
                    Ok(line) => {
                        let external_id = line.external_id().to_string();
                        provision::import_line(&db, by, line)
                            .await
                            .map_err(|e| (external_id, e.to_string()))
                    }
                    Err(why) => Err((String::new(), why)),
                };
                Ok::<_, std::io::Error>((number, outcome))
            }
        })
        .buffered(IN_FLIGHT);
    let mut results = std::pin::pin!(results);

    let mut report = Report {
        resumed_after,
        ..Report::default()
    };
    let mut done = resumed_after;
    while let Some(result) = results.next().await {
        let (number, outcome) = result.context("while reading the import file")?;
        done = number;
        match outcome {
            Ok(Upserted::Created) => report.created += 1,
            Ok(Upserted::Updated) => report.updated += 1,
            Err((external_id, error)) => {
                report.failed += 1;
                let line =
                    serde_json::json!({"line": number, "external_id": external_id, "error": error});
                errors.write_all(format!("{line}\n").as_bytes()).await?;
            }
        }
        bar.inc(1);
        if number % PROGRESS_EVERY == 0 {
            errors.flush().await?;
            save_progress(&progress_path, number).await?;
        }
    }
    errors.flush().await?;
    save_progress(&progress_path, done).await?;
    bar.finish_and_clear();
    if report.failed > 0 {
        report.errors_file = Some(errors_path);
    } else {
        drop(errors);
        let _ = tokio::fs::remove_file(&errors_path).await;
    }
    Ok(report)
}

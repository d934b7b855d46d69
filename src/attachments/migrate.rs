//! `parley migrate-attachments --to s3|local`: moves every attachment's files (and thumbnails)
//! between the data directory and the bucket, one attachment at a time: copy, then record the new
//! place in its row, then remove the old copy. Each row says where its files are, so a run that
//! stops (or is stopped) resumes where it was, and the server may serve downloads meanwhile.

use indicatif::{ProgressBar, ProgressStyle};
use rusqlite::params;

use super::{AttachmentError, Files, Location};
use crate::db::{Db, DbError};

/// Attachments read from the database at a time.
const BATCH: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("attachment {id}: {source}")]
    File { id: i64, source: AttachmentError },
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Db(e.into())
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Moved {
    pub attachments: u64,
    pub files: u64,
    /// Rows whose file was already missing at the source (left as they were, and reported).
    pub missing: Vec<i64>,
}

pub async fn migrate(db: &Db, files: &Files, to: Location) -> Result<Moved, MigrateError> {
    let from = match to {
        Location::S3 => Location::Local,
        Location::Local => Location::S3,
    };
    let total: i64 = db
        .read_pooled(move |conn| {
            Ok::<_, MigrateError>(conn.query_row(
                "SELECT count(*) FROM message_attachments WHERE stored_in = ?1",
                [from.as_str()],
                |r| r.get(0),
            )?)
        })
        .await?;
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or_default()).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} attachments moved, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut moved = Moved::default();
    let mut after = 0_i64;
    loop {
        let batch: Vec<(i64, Vec<String>)> = db
            .read_pooled(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT id, file_path, thumbnail_path FROM message_attachments
                     WHERE stored_in = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                )?;
                let rows = statement.query_map(params![from.as_str(), after, BATCH], |r| {
                    let mut paths = vec![r.get::<_, String>(1)?];
                    paths.extend(r.get::<_, Option<String>>(2)?);
                    Ok((r.get(0)?, paths))
                })?;
                Ok::<_, MigrateError>(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        let Some((last, _)) = batch.last() else { break };
        after = *last;
        for (id, paths) in batch {
            match files.copy(&paths, from, to).await {
                Ok(()) => {}
                Err(AttachmentError::Missing) => {
                    bar.println(format!(
                        "attachment {id}: its file is missing, left as it was"
                    ));
                    moved.missing.push(id);
                    bar.inc(1);
                    continue;
                }
                Err(source) => return Err(MigrateError::File { id, source }),
            }
            db.write(move |tx| {
                tx.execute(
                    "UPDATE message_attachments SET stored_in = ?2 WHERE id = ?1 AND stored_in = ?3",
                    params![id, to.as_str(), from.as_str()],
                )?;
                Ok::<_, MigrateError>(())
            })
            .await?;
            files
                .forget(&paths, from)
                .await
                .map_err(|source| MigrateError::File { id, source })?;
            moved.attachments += 1;
            moved.files += paths.len() as u64;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(moved)
}

//! Where attachment files live: the data directory, or an S3-compatible bucket
//! (`storage.attachments = "s3"`). Every file is first placed and checked in the data directory
//! (type, size, thumbnail); in S3 mode it is then uploaded under the same layout
//! (`<prefix>messages/YYYY/MM/<conversation_id>/<uuid>.<ext>`) and the local copy removed, all
//! before the row that names it commits. Each row records where its file is (`stored_in`), so
//! downloads work while `parley migrate-attachments` moves files, and the move can resume.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::buffered::BufWriter;
use object_store::client::{HttpClient, HttpConnector};
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::io::AsyncWriteExt;

use super::{AttachmentError, StoredFile};
use crate::config::S3Settings;
use crate::crypto::SecretKey;

/// Where one attachment's files are (`message_attachments.stored_in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Local,
    S3,
}

impl Location {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Location::Local => "local",
            Location::S3 => "s3",
        }
    }

    pub(crate) fn parse(text: &str) -> Location {
        if text == "s3" {
            Location::S3
        } else {
            Location::Local
        }
    }
}

/// A file's bytes on their way to a client.
pub(crate) struct Download {
    pub size: u64,
    pub body: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

/// The attachment files of one data directory, and the bucket when there is one.
#[derive(Clone)]
pub struct Files {
    data_dir: PathBuf,
    bucket: Option<Arc<Bucket>>,
    /// Where new files go.
    target: Location,
}

impl Files {
    pub(crate) fn local(data_dir: &Path) -> Files {
        Files {
            data_dir: data_dir.to_path_buf(),
            bucket: None,
            target: Location::Local,
        }
    }

    /// The files of `data_dir`; with a bucket, new files go there (`s3_target`) or stay local
    /// (a bucket kept only to serve and move files already in it).
    pub(crate) fn with_bucket(data_dir: &Path, bucket: Bucket, s3_target: bool) -> Files {
        Files {
            data_dir: data_dir.to_path_buf(),
            bucket: Some(Arc::new(bucket)),
            target: if s3_target {
                Location::S3
            } else {
                Location::Local
            },
        }
    }

    fn bucket(&self) -> Result<&Bucket, AttachmentError> {
        self.bucket.as_deref().ok_or_else(|| {
            AttachmentError::Io(std::io::Error::other(
                "this attachment is in the S3 bucket, and storage.s3 is not configured",
            ))
        })
    }

    /// Validates and places every upload (or none), in the bucket when that is where new files go.
    pub(crate) async fn store_all(
        &self,
        conversation_id: i64,
        uploads: Vec<super::Upload>,
    ) -> Result<Vec<StoredFile>, AttachmentError> {
        let data_dir = self.data_dir.clone();
        let mut stored = tokio::task::spawn_blocking(move || {
            super::store_all(&data_dir, conversation_id, uploads)
        })
        .await
        .map_err(|e| AttachmentError::Io(std::io::Error::other(e)))??;
        if self.target == Location::S3 {
            let bucket = self.bucket()?;
            let uploaded = async {
                for file in &stored {
                    for path in file.paths() {
                        bucket.upload(&self.data_dir.join(path), path).await?;
                    }
                }
                Ok::<_, AttachmentError>(())
            }
            .await;
            // Either way the local copies go: the bucket has them, or nobody will.
            let local = stored.clone();
            let data_dir = self.data_dir.clone();
            let _ = tokio::task::spawn_blocking(move || super::remove(&data_dir, &local)).await;
            for file in &mut stored {
                file.stored_in = Location::S3;
            }
            if let Err(e) = uploaded {
                self.remove(stored).await;
                return Err(e);
            }
        }
        Ok(stored)
    }

    /// Removes files whose rows did not commit.
    pub(crate) async fn remove(&self, stored: Vec<StoredFile>) {
        if stored.is_empty() {
            return;
        }
        let (in_bucket, local): (Vec<_>, Vec<_>) = stored
            .into_iter()
            .partition(|f| f.stored_in == Location::S3);
        if let Some(bucket) = &self.bucket {
            for path in in_bucket.iter().flat_map(StoredFile::paths) {
                if let Err(e) = bucket.delete(path).await {
                    tracing::warn!(error = %e, "could not remove an orphaned attachment object");
                }
            }
        }
        let data_dir = self.data_dir.clone();
        let _ = tokio::task::spawn_blocking(move || super::remove(&data_dir, &local)).await;
    }

    /// Opens a stored file (`path` as its row names it) for download.
    pub(crate) async fn open(
        &self,
        location: Location,
        path: &str,
    ) -> Result<Download, AttachmentError> {
        match location {
            Location::Local => {
                let file = tokio::fs::File::open(self.data_dir.join(path))
                    .await
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => AttachmentError::Missing,
                        _ => AttachmentError::Io(e),
                    })?;
                let size = file.metadata().await?.len();
                Ok(Download {
                    size,
                    body: tokio_util::io::ReaderStream::new(file).boxed(),
                })
            }
            Location::S3 => self.bucket()?.download(path).await,
        }
    }

    /// Moves one attachment's files to `to` (from wherever its row says they are): copy, then the
    /// caller updates the row, then [`Files::forget`] removes the source. Blocking work (local file
    /// writes) runs on the blocking pool.
    pub(crate) async fn copy(
        &self,
        paths: &[String],
        from: Location,
        to: Location,
    ) -> Result<(), AttachmentError> {
        let bucket = self.bucket()?;
        for path in paths {
            match (from, to) {
                (Location::Local, Location::S3) => {
                    bucket.upload(&self.data_dir.join(path), path).await?;
                }
                (Location::S3, Location::Local) => {
                    bucket.download_to(path, &self.data_dir.join(path)).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes the files at `paths` from `location` (after a move).
    pub(crate) async fn forget(
        &self,
        paths: &[String],
        location: Location,
    ) -> Result<(), AttachmentError> {
        for path in paths {
            match location {
                Location::S3 => self.bucket()?.delete(path).await?,
                Location::Local => match tokio::fs::remove_file(self.data_dir.join(path)).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                },
            }
        }
        Ok(())
    }

    /// Removes objects under this and last month's keys, older than `age`, that no row names
    /// (left by a crash between an upload and its row's commit). `named(conversation_id)` gives
    /// the paths a conversation's rows name.
    pub(crate) async fn sweep_bucket<E, F, Fut>(
        &self,
        age: Duration,
        mut named: F,
    ) -> Result<usize, E>
    where
        E: From<AttachmentError>,
        F: FnMut(i64) -> Fut,
        Fut: Future<Output = Result<std::collections::HashSet<String>, E>>,
    {
        let Some(bucket) = &self.bucket else {
            return Ok(0);
        };
        use chrono::Datelike;
        let now = chrono::Utc::now();
        let last_month = now - chrono::Duration::days(i64::from(now.day()));
        let cutoff = now - chrono::Duration::from_std(age).unwrap_or_default();
        let mut removed = 0;
        for month in [now, last_month] {
            let folder = format!("uploads/messages/{:04}/{:02}", month.year(), month.month());
            let objects = bucket.list(&folder).await?;
            let mut by_conversation: std::collections::BTreeMap<i64, Vec<String>> =
                Default::default();
            for (path, modified) in objects {
                let conversation = path
                    .strip_prefix(&format!("{folder}/"))
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|id| id.parse().ok());
                if let Some(conversation) = conversation.filter(|_| modified < cutoff) {
                    by_conversation.entry(conversation).or_default().push(path);
                }
            }
            for (conversation, paths) in by_conversation {
                let kept = named(conversation).await?;
                for path in paths.iter().filter(|p| !kept.contains(*p)) {
                    bucket.delete(path).await?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

impl StoredFile {
    /// The file and its thumbnail, as the row names them.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.file_path).chain(self.thumbnail_path.as_ref())
    }
}

/// An S3-compatible bucket. Keys are the rows' paths with `uploads/` replaced by the prefix.
pub(crate) struct Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
}

/// The part of the paths that the prefix replaces in keys.
const LOCAL_ROOT: &str = "uploads/";

/// Upload parts and download buffers: a file never sits whole in memory.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Connects the S3 client through our own reqwest client (rustls with ring, compiled-in roots,
/// no redirects), like every other call out.
#[derive(Debug)]
struct ParleyConnector {
    timeout: Duration,
}

impl HttpConnector for ParleyConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = crate::net::http_client(self.timeout, None).map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: e.into(),
            }
        })?;
        Ok(HttpClient::new(client))
    }
}

impl Bucket {
    pub(crate) fn new(
        settings: &S3Settings,
        credentials: &Credentials,
    ) -> Result<Bucket, AttachmentError> {
        let mut builder = AmazonS3Builder::new()
            .with_region(&settings.region)
            .with_bucket_name(&settings.bucket)
            .with_access_key_id(&credentials.access_key_id)
            .with_secret_access_key(&credentials.secret_access_key)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_http_connector(ParleyConnector {
                timeout: Duration::from_secs(settings.timeout_seconds),
            });
        if !settings.endpoint.is_empty() {
            builder = builder
                .with_endpoint(&settings.endpoint)
                .with_allow_http(settings.endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(s3_error)?;
        let mut prefix = settings.prefix.trim_matches('/').to_string();
        if !prefix.is_empty() {
            prefix.push('/');
        }
        Ok(Bucket {
            store: Arc::new(store),
            prefix,
        })
    }

    fn key(&self, path: &str) -> Key {
        let rest = path.strip_prefix(LOCAL_ROOT).unwrap_or(path);
        Key::from(format!("{}{rest}", self.prefix))
    }

    /// The row path of a key (the inverse of [`Bucket::key`]).
    fn path(&self, key: &Key) -> Option<String> {
        key.as_ref()
            .strip_prefix(&self.prefix)
            .map(|rest| format!("{LOCAL_ROOT}{rest}"))
    }

    /// Streams the local file at `from` to the object for `path` (one request for small files,
    /// a multipart upload for large ones).
    async fn upload(&self, from: &Path, path: &str) -> Result<(), AttachmentError> {
        let mut file = tokio::fs::File::open(from).await?;
        let mut writer = BufWriter::with_capacity(self.store.clone(), self.key(path), PART_BYTES);
        let copied = tokio::io::copy(&mut file, &mut writer).await;
        match copied {
            Ok(_) => writer.shutdown().await.map_err(AttachmentError::Io),
            Err(e) => {
                let _ = writer.abort().await;
                Err(AttachmentError::Io(e))
            }
        }
    }

    async fn download(&self, path: &str) -> Result<Download, AttachmentError> {
        let got = self.store.get(&self.key(path)).await.map_err(s3_error)?;
        let size = got.meta.size;
        let body = got
            .into_stream()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .boxed();
        Ok(Download { size, body })
    }

    /// Copies the object for `path` into the local file `to` (written whole, then renamed).
    async fn download_to(&self, path: &str, to: &Path) -> Result<(), AttachmentError> {
        let Download { mut body, .. } = self.download(path).await?;
        let dir = to.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await?;
        let partial = to.with_extension("partial");
        let mut file = tokio::fs::File::create(&partial).await?;
        while let Some(chunk) = body.next().await {
            file.write_all(&chunk?).await?;
        }
        file.sync_all().await?;
        tokio::fs::rename(&partial, to).await?;
        Ok(())
    }

    async fn delete(&self, path: &str) -> Result<(), AttachmentError> {
        match self.store.delete(&self.key(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_error(e)),
        }
    }

    /// The objects under `folder` (a row path), as row paths with their last change.
    async fn list(
        &self,
        folder: &str,
    ) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, AttachmentError> {
        let objects: Vec<_> = self
            .store
            .list(Some(&self.key(folder)))
            .try_collect()
            .await
            .map_err(s3_error)?;
        Ok(objects
            .into_iter()
            .filter_map(|o| self.path(&o.location).map(|p| (p, o.last_modified)))
            .collect())
    }
}

fn s3_error(e: object_store::Error) -> AttachmentError {
    match e {
        object_store::Error::NotFound { .. } => AttachmentError::Missing,
        other => AttachmentError::Io(std::io::Error::other(format!("S3: {other}"))),
    }
}

/// The attachment files as the settings describe them. With a bucket configured
/// (`storage.s3.bucket`) it is opened with the credentials sealed in the database, and new files
/// go there if `storage.attachments = "s3"`; a bucket without that setting still serves the files
/// already in it (and is where `parley migrate-attachments --to local` takes them from).
pub(crate) fn open_files(
    settings: &crate::config::Settings,
    conn: &Connection,
    key: &SecretKey,
) -> anyhow::Result<Files> {
    let s3 = &settings.storage.s3;
    if s3.bucket.is_empty() {
        return Ok(Files::local(settings.data_dir()));
    }
    let credentials = load_credentials(conn, key)?.ok_or_else(|| {
        anyhow::anyhow!(
            "storage.s3.bucket is set but no S3 credentials are stored: run `parley s3-credentials --access-key-id …`"
        )
    })?;
    let bucket = Bucket::new(s3, &credentials).map_err(|e| anyhow::anyhow!("storage.s3: {e}"))?;
    let target = settings.storage.attachments == crate::config::AttachmentStore::S3;
    Ok(Files::with_bucket(settings.data_dir(), bucket, target))
}

/// The bucket's access key, kept sealed in the database.
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

const CREDENTIAL_AAD: &str = "storage_credentials.secret_access_key";

/// Seals and stores the bucket's credentials (`parley s3-credentials`).
pub fn save_credentials(
    conn: &Connection,
    key: &SecretKey,
    credentials: &Credentials,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO storage_credentials (id, access_key_id, secret_access_key, updated_at)
         VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET access_key_id = excluded.access_key_id,
             secret_access_key = excluded.secret_access_key, updated_at = excluded.updated_at",
        params![
            credentials.access_key_id,
            key.seal(&credentials.secret_access_key, CREDENTIAL_AAD),
            chrono::Utc::now()
        ],
    )?;
    Ok(())
}

/// The stored credentials, opened with `key`; None when none were saved.
pub(crate) fn load_credentials(
    conn: &Connection,
    key: &SecretKey,
) -> anyhow::Result<Option<Credentials>> {
    let row: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT access_key_id, secret_access_key FROM storage_credentials WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(access_key_id, sealed)| {
        let secret_access_key = key
            .open(&sealed, CREDENTIAL_AAD)
            .map_err(|e| anyhow::anyhow!("the stored S3 secret does not open: {e}"))?;
        Ok(Credentials {
            access_key_id,
            secret_access_key,
        })
    })
    .transpose()
}

/// Re-seals the stored S3 secret under `new` (`parley rotate-key`). Returns 1 if there was one.
pub(crate) fn reseal(conn: &Connection, old: &SecretKey, new: &SecretKey) -> anyhow::Result<usize> {
    let Some(credentials) = load_credentials(conn, old)? else {
        return Ok(0);
    };
    save_credentials(conn, new, &credentials)?;
    Ok(1)
}

//! The instance's secret key: 32 random bytes in `secret.key` inside the data directory, readable
//! only by the owner. It seals provider credentials at rest; losing it makes them unreadable, so it
//! is part of every backup and is never replaced silently.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "secret.key";
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {0} is damaged (expected {KEY_LEN} bytes); restore it from a backup")]
    Damaged(PathBuf),
    #[error(
        "key file {0} is missing but the database holds sealed credentials; restore the key from \
         a backup (a new key would not open them)"
    )]
    MissingWithSecrets(PathBuf),
    #[error("cannot generate a key: {0}")]
    Random(String),
}

/// The key, redacted in Debug output.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Loads the key, or creates it when it is missing and `has_sealed_data` is false.
pub fn load_or_create_key(data_dir: &Path, has_sealed_data: bool) -> Result<SecretKey, KeyError> {
    let path = data_dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            let key: [u8; KEY_LEN] = bytes
                .try_into()
                .map_err(|_| KeyError::Damaged(path.clone()))?;
            Ok(SecretKey(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if has_sealed_data {
                return Err(KeyError::MissingWithSecrets(path));
            }
            let mut key = [0u8; KEY_LEN];
            getrandom::fill(&mut key).map_err(|e| KeyError::Random(e.to_string()))?;
            write_private_file(&path, &key).map_err(|source| KeyError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(SecretKey(key))
        }
        Err(source) => Err(KeyError::Read { path, source }),
    }
}

/// Writes a file readable and writable by the owner only (0600), refusing to overwrite one.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_key(dir.path(), false).unwrap();
        let again = load_or_create_key(dir.path(), true).unwrap();
        assert_eq!(first.bytes(), again.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{first:?}"), "SecretKey(***)");
    }

    #[test]
    fn missing_key_with_sealed_data_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_or_create_key(dir.path(), true),
            Err(KeyError::MissingWithSecrets(_))
        ));
        assert!(!dir.path().join(KEY_FILE).exists());
    }

    #[test]
    fn damaged_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(matches!(
            load_or_create_key(dir.path(), false),
            Err(KeyError::Damaged(_))
        ));
    }
}

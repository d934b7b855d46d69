//! The instance's secret key and the sealing of credentials at rest. The key is 32 random bytes in
//! `secret.key` inside the data directory, readable only by the owner (or given in configuration).
//! Losing it makes the sealed credentials unreadable, so it is part of every backup and is never
//! replaced silently. Each value is sealed with XChaCha20-Poly1305 under a fresh random 24-byte
//! nonce, with associated data naming the table, column and store, so a sealed value copied to
//! another row or store does not open.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

pub(crate) const KEY_FILE: &str = "secret.key";
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
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
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A fresh random key.
    pub(crate) fn generate() -> Result<SecretKey, KeyError> {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SecretKey(key))
    }

    /// A short public fingerprint of the key, stored in each sealed value so a value sealed under
    /// another key is recognised as such.
    pub(crate) fn id(&self) -> [u8; 4] {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(self.0);
        [digest[0], digest[1], digest[2], digest[3]]
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Seals `plaintext` for the place named by `aad`: version 1 ‖ key id ‖ nonce ‖ ciphertext.
    pub(crate) fn seal(&self, plaintext: &str, aad: &str) -> Vec<u8> {
        let nonce = XNonce::generate();
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = Vec::with_capacity(1 + 4 + nonce.len() + sealed.len());
        blob.push(SEAL_VERSION);
        blob.extend_from_slice(&self.id());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        blob
    }

    /// Opens a value sealed by [`SecretKey::seal`] for the same `aad`.
    pub fn open(&self, blob: &[u8], aad: &str) -> Result<String, SealError> {
        if blob.len() < 1 + 4 + 24 + 16 || blob[0] != SEAL_VERSION {
            return Err(SealError::Malformed);
        }
        if blob[1..5] != self.id() {
            return Err(SealError::OtherKey);
        }
        let nonce = XNonce::try_from(&blob[5..29]).map_err(|_| SealError::Malformed)?;
        let plain = self
            .cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: &blob[29..],
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::Tampered)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

const SEAL_VERSION: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the value was sealed under another key")]
    OtherKey,
    #[error("the sealed value does not belong here or was altered")]
    Tampered,
}

/// The associated data that binds a sealed credential to its place.
pub fn credential_aad(column: &str, store_id: i64) -> String {
    format!("parley/store_email_settings/{column}/{store_id}")
}

/// A known value sealed under the key and kept in the database: opening it at start proves the
/// key file belongs to this database.
pub(crate) const KEY_CHECK_AAD: &str = "parley/secret_key_check";
pub(crate) const KEY_CHECK_PLAINTEXT: &str = "parley key check v1";

/// The key given in configuration (64 hex digits).
pub(crate) fn key_from_hex(hex: &str) -> Option<SecretKey> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    Some(SecretKey(bytes.try_into().ok()?))
}

/// Where a rotation writes the next key before the database switches to it.
pub(crate) const NEXT_KEY_FILE: &str = "secret.key.new";

/// Loads the key, or creates it when it is missing and `has_sealed_data` is false.
pub(crate) fn load_or_create_key(
    data_dir: &Path,
    has_sealed_data: bool,
) -> Result<SecretKey, KeyError> {
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
            let key = SecretKey::generate()?;
            write_private_file(&path, &key.0).map_err(|source| KeyError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(key)
        }
        Err(source) => Err(KeyError::Read { path, source }),
    }
}

/// Writes a file readable and writable by the owner only (0600), refusing to overwrite one.
pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
    fn sealed_values_open_only_in_their_place_and_under_their_key() {
        let key = SecretKey::generate().unwrap();
        let a = key.seal("hunter2", &credential_aad("smtp_password", 1));
        let b = key.seal("hunter2", &credential_aad("smtp_password", 1));
        assert_ne!(a, b, "a fresh nonce every time");
        assert!(!a.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            key.open(&a, &credential_aad("smtp_password", 1)).unwrap(),
            "hunter2"
        );
        assert_eq!(
            key.open(&a, &credential_aad("smtp_password", 2)),
            Err(SealError::Tampered)
        );
        assert_eq!(
            key.open(&a, &credential_aad("sendgrid_api_key", 1)),
            Err(SealError::Tampered)
        );
        let mut flipped = a.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            key.open(&flipped, &credential_aad("smtp_password", 1)),
            Err(SealError::Tampered)
        );
        let other = SecretKey::generate().unwrap();
        assert_eq!(
            other.open(&a, &credential_aad("smtp_password", 1)),
            Err(SealError::OtherKey)
        );
        assert_eq!(key.open(b"short", "x"), Err(SealError::Malformed));
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

//! argon2id password hashing off the async threads, with bounded concurrency: at most
//! `hash_concurrency` hashes run at once and at most `hash_queue` wait; beyond that callers get
//! `Overloaded` (503) instead of piling up memory (each hash takes ~19 MiB).

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, Params, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::AppError;

#[derive(Clone)]
pub struct Hasher {
    running: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

/// A hash whose parameters exceed these was not written by us; refuse to spend on it.
const MAX_M_COST_KIB: u32 = 256 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

impl Hasher {
    pub fn new(concurrency: usize, queue: usize) -> Hasher {
        Hasher {
            running: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(Semaphore::new(concurrency + queue)),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`. With no stored hash (unknown account, or a customer
    /// without a password) it checks against a dummy hash, so both cases take the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move || match stored {
            Some(hash) => verify_now(&password, &hash),
            None => {
                let _ = verify_now(&password, dummy_hash());
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _queued = self
            .waiting
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded)?;
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Overloaded)?;
        let span = tracing::Span::current();
        // The permit moves into the blocking task, so it is held exactly as long as the hash runs.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(f)
        })
        .await
        .map_err(AppError::internal)
    }
}

pub fn hash_now(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("argon2 hash failed: {e}")))
}

fn verify_now(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    match Params::try_from(&parsed) {
        Ok(p)
            if p.m_cost() <= MAX_M_COST_KIB
                && p.t_cost() <= MAX_T_COST
                && p.p_cost() <= MAX_P_COST => {}
        _ => {
            tracing::warn!("refused a stored password hash with out-of-range parameters");
            return false;
        }
    }
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("parley-dummy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_now("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_now("correct horse", &h));
        assert!(!verify_now("wrong horse", &h));
        assert!(!verify_now("x", "not a hash"));
    }

    #[test]
    fn absurd_parameters_are_refused_without_hashing() {
        let tampered = "$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";
        assert!(!verify_now("anything", tampered));
    }

    #[tokio::test]
    async fn unknown_account_is_checked_against_a_dummy_hash() {
        let hasher = Hasher::new(1, 1);
        assert!(!hasher.verify("password".into(), None).await.unwrap());
    }
}

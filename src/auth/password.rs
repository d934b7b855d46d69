//! argon2id password hashing off the async threads, with bounded concurrency: the hashes run on
//! `hash_concurrency` threads of their own, and at most `hash_queue` wait; beyond that callers
//! get `Overloaded` (503) instead of piling up memory.
//!
//! Each hash takes a 19 MiB buffer. On the shared blocking pool every new thread's buffer landed
//! in a malloc arena of its own and stayed there: 100 logins took the server from 20 to 629 MB.
//! On a fixed set of threads each keeps reusing its one buffer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, Params, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::AppError;

type HashJob = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Hasher {
    jobs: crossbeam_channel::Sender<HashJob>,
    waiting: Arc<Semaphore>,
}

/// A hash whose parameters exceed these was not written by us; refuse to spend on it.
const MAX_M_COST_KIB: u32 = 256 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

impl Hasher {
    /// Starts `concurrency` hashing threads; they end when the last `Hasher` clone is dropped.
    pub fn new(concurrency: usize, queue: usize) -> std::io::Result<Hasher> {
        let (jobs, received) = crossbeam_channel::unbounded::<HashJob>();
        for n in 0..concurrency.max(1) {
            let received = received.clone();
            std::thread::Builder::new()
                .name(format!("parley-argon2-{n}"))
                .spawn(move || {
                    for job in received {
                        // A panicking job drops its answer channel; the thread carries on.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Hasher {
            jobs,
            waiting: Arc::new(Semaphore::new(concurrency.max(1) + queue)),
        })
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
        // The permit moves into the job, so it is held until the hash has run (or the job
        // panicked and dropped it).
        let permit = self
            .waiting
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded)?;
        let span = tracing::Span::current();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let hashed = span.in_scope(f);
            // Free before answering, so the caller's next hash finds the place.
            drop(permit);
            let _ = answer.send(hashed);
        });
        self.jobs
            .send(job)
            .map_err(|_| AppError::internal(anyhow::anyhow!("the hashing threads have stopped")))?;
        answered
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a password hash panicked")))
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

    #[tokio::test]
    async fn hashes_run_on_the_hashers_own_threads_and_a_full_queue_is_refused() {
        let hasher = Hasher::new(1, 0).unwrap();
        let thread = hasher
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert_eq!(thread.as_deref(), Some("parley-argon2-0"));
        // One slot, no queue: while a job holds it, the next is refused at once.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.run(move || hold.recv().ok()).await })
        };
        while hasher.waiting.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(hasher.run(|| ()).await, Err(AppError::Overloaded)));
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert!(hasher.run(|| 1).await.is_ok());
    }

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
        let hasher = Hasher::new(1, 1).unwrap();
        assert!(!hasher.verify("password".into(), None).await.unwrap());
    }
}

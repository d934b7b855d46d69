//! argon2id password hashing off the async threads, with bounded concurrency: the hashes run on
//! `hash_concurrency` threads of their own, and at most `hash_queue` wait; beyond that callers
//! get `Overloaded` (503) instead of piling up memory.
//!
//! Each hash fills 19 MiB of working memory. Allocated by argon2 itself, that memory landed in
//! whichever malloc arena the thread was using and stayed there (glibc keeps freed blocks below
//! its mmap threshold, which rises to the size of each large block freed): 100 customer
//! creations and 100 logins took the server from 20 to 629 MB and it stayed there. Here the
//! working memory is allocated above the threshold's ceiling, so it is mapped for one hash and
//! given back to the system when the hash ends ([`working_memory`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing thread is busy and the queue is full: the caller should retry shortly.
    #[error("the server is busy; retry shortly")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

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
    pub(crate) fn new(concurrency: usize, queue: usize) -> std::io::Result<Hasher> {
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

    pub(crate) async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`. With no stored hash (unknown account, or a customer
    /// without a password) it checks against a dummy hash, so both cases take the same time.
    pub(crate) async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        // An account made by the platform (through its API key) has no password: an empty hash,
        // verified like a missing one so the answer takes as long either way.
        self.run(move || match stored.filter(|hash| !hash.is_empty()) {
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
    ) -> Result<T, HashError> {
        // The permit moves into the job, so it is held until the hash has run (or the job
        // panicked and dropped it).
        let permit = self
            .waiting
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
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
            .map_err(|_| HashError::Failed("the hashing threads have stopped".into()))?;
        answered
            .await
            .map_err(|_| HashError::Failed("a password hash panicked".into()))
    }
}

/// glibc serves an allocation this large by mmap whatever its dynamic threshold (that threshold
/// never rises above 32 MiB on 64-bit systems, mallopt(3)), so freeing it unmaps it.
const ALWAYS_MAPPED_BYTES: usize = 32 * 1024 * 1024 + 4096;

/// The working memory of one hash: `blocks` blocks in use inside an allocation large enough to be
/// mapped (the unused tail is never touched, so it takes no memory).
fn working_memory(blocks: usize) -> Vec<Block> {
    let mapped = ALWAYS_MAPPED_BYTES.div_ceil(std::mem::size_of::<Block>());
    let mut memory = Vec::with_capacity(blocks.max(mapped));
    memory.resize(blocks, Block::default());
    memory
}

/// argon2 of `password` and `salt` into `out`, in working memory of its own.
fn argon2_into(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let mut memory = working_memory(argon.params().block_count());
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory[..])
        .is_ok()
}

pub fn hash_now(password: &str) -> Result<String, HashError> {
    let failed = |why: &dyn std::fmt::Display| HashError::Failed(why.to_string());
    let argon = Argon2::default();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !argon2_into(&argon, password.as_bytes(), &salt, &mut out) {
        return Err(failed(&"the parameters were refused"));
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_now(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let params = match Params::try_from(&parsed) {
        Ok(p)
            if p.m_cost() <= MAX_M_COST_KIB
                && p.t_cost() <= MAX_T_COST
                && p.p_cost() <= MAX_P_COST =>
        {
            p
        }
        _ => {
            tracing::warn!("refused a stored password hash with out-of-range parameters");
            return false;
        }
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    // `Output`'s equality is constant-time.
    argon2_into(&argon, password.as_bytes(), salt, &mut out)
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
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
        assert!(matches!(hasher.run(|| ()).await, Err(HashError::Busy)));
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert!(hasher.run(|| 1).await.is_ok());
    }

    #[test]
    fn our_hashes_verify_with_the_library_and_the_librarys_with_ours() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let ours = hash_now("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
        let theirs = Argon2::default()
            .hash_password(b"battery staple")
            .unwrap()
            .to_string();
        assert!(verify_now("battery staple", &theirs));
        assert!(!verify_now("battery stapler", &theirs));
    }

    #[test]
    fn working_memory_is_large_enough_to_be_mapped_and_holds_the_blocks() {
        let memory = working_memory(Params::DEFAULT_M_COST as usize);
        assert_eq!(memory.len(), 19 * 1024);
        assert!(memory.capacity() * std::mem::size_of::<Block>() >= ALWAYS_MAPPED_BYTES);
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

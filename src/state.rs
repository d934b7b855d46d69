//! The state every handler shares, built once by `Application::build`, and the narrower contexts
//! it hands to the use cases and the background jobs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::auth::{Hasher, LoginLimiter};
use crate::config::Settings;
use crate::crypto::SecretKey;
use crate::db::Db;
use crate::email::smtp::SmtpRelay;
use crate::jobs;
use crate::messaging::EventBus;

/// What every handler and job shares.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub hasher: Hasher,
    pub login_limiter: Arc<LoginLimiter>,
    pub key: SecretKey,
    pub events: EventBus,
    /// The platform's SMTP relay; None when `email.smtp_host` is empty.
    pub mailer: Option<SmtpRelay>,
    /// The executable that renders store templates in a sandbox.
    pub sandbox_exe: PathBuf,
    /// The HTTP client of the email providers (rustls, ring, compiled-in roots).
    pub http: reqwest::Client,
    /// The HTTP client of outgoing webhooks (public addresses only, unless allowed).
    pub webhook_http: reqwest::Client,
    /// The page templates (autoescaped), once per language.
    pub(crate) pages: crate::views::Pages,
    /// SNS signing certificates by URL (they are long-lived).
    pub sns_certificates: crate::email::feedback::SnsCertificates,
    /// Live event streams, against their limit.
    pub streams: Arc<StreamSlots>,
    /// Where attachment files are kept (the data directory, or an S3 bucket).
    pub files: crate::attachments::Files,
    /// Checks single sign-on tokens; None when single sign-on is off.
    pub(crate) sso: Option<Arc<crate::accounts::sso::Verifier>>,
}

impl AppState {
    /// What the email use cases and the delivery step need.
    pub fn email(&self) -> crate::email::Context {
        crate::email::Context {
            db: self.db.clone(),
            settings: self.settings.clone(),
            key: self.key.clone(),
            http: self.http.clone(),
            mailer: self.mailer.clone(),
            sandbox_exe: self.sandbox_exe.clone(),
            sns_certificates: self.sns_certificates.clone(),
        }
    }

    /// What the background jobs need.
    pub fn jobs(&self) -> jobs::Context {
        jobs::Context {
            db: self.db.clone(),
            settings: self.settings.clone(),
            login_limiter: self.login_limiter.clone(),
            email: self.email(),
            webhooks: self.webhooks(),
            files: self.files.clone(),
        }
    }

    /// What the webhook delivery job needs.
    pub(crate) fn webhooks(&self) -> crate::integration::deliveries::Context {
        crate::integration::deliveries::Context {
            db: self.db.clone(),
            key: self.key.clone(),
            settings: self.settings.webhooks.clone(),
            client: self.webhook_http.clone(),
        }
    }

    /// What the account use cases need.
    pub(crate) fn accounts(&self) -> crate::accounts::service::Context {
        crate::accounts::service::Context {
            db: self.db.clone(),
            settings: self.settings.clone(),
            hasher: self.hasher.clone(),
        }
    }

    /// What the messaging use cases need.
    pub(crate) fn messaging(&self) -> crate::messaging::Context {
        crate::messaging::Context {
            db: self.db.clone(),
            settings: self.settings.clone(),
            files: self.files.clone(),
        }
    }
}

/// Counts the live event streams: each holds a connection, so a descriptor, for as long as it
/// lives. Beyond `max` a new stream is refused, so ordinary requests still find descriptors.
pub struct StreamSlots {
    live: AtomicUsize,
    max: usize,
}

/// One stream's place; dropping it (the stream ended or its client left) frees the place.
pub struct StreamSlot(Arc<StreamSlots>, &'static str);

impl StreamSlots {
    pub(crate) fn new(max: usize) -> Arc<StreamSlots> {
        Arc::new(StreamSlots {
            live: AtomicUsize::new(0),
            max,
        })
    }

    /// A place for one more stream of `area`, if there is one.
    pub(crate) fn take(self: &Arc<Self>, area: &'static str) -> Option<StreamSlot> {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live < self.max).then_some(live + 1)
            })
            .ok()
            .map(|_| {
                crate::metrics::live_streams(area, 1.0);
                StreamSlot(self.clone(), area)
            })
    }

    #[cfg(test)]
    fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
        crate::metrics::live_streams(self.1, -1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_beyond_the_limit_are_refused_until_one_ends() {
        let slots = StreamSlots::new(2);
        let first = slots.take("shop").unwrap();
        let _second = slots.take("shop").unwrap();
        assert!(slots.take("shop").is_none());
        drop(first);
        assert_eq!(slots.live(), 1);
        assert!(slots.take("shop").is_some());
    }
}

//! Login and registration rate limits, per client address and per account, in memory (one
//! process serves everything). Keys that went quiet are dropped by the cleanup job.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::AuthSettings;
use crate::error::AppError;

pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    /// Messages sent per account: posting is cheap, and every message can cause emails.
    per_sender: DefaultKeyedRateLimiter<(crate::domain::ParticipantType, i64)>,
    /// Conversations started per customer: each reaches every staff member of the store.
    per_starter: DefaultKeyedRateLimiter<(crate::domain::ParticipantType, i64)>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    pub(crate) fn new(settings: &AuthSettings) -> LoginLimiter {
        LoginLimiter {
            per_ip: RateLimiter::keyed(per_minute(settings.login_attempts_per_ip_per_minute)),
            per_account: RateLimiter::keyed(per_minute(
                settings.login_attempts_per_account_per_minute,
            )),
            per_sender: RateLimiter::keyed(per_minute(settings.messages_per_minute)),
            per_starter: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(settings.conversations_per_customer_per_hour)
                    .unwrap_or(NonZeroU32::MIN),
            )),
            clock: DefaultClock::default(),
        }
    }

    pub(crate) fn check_ip(&self, ip: IpAddr) -> Result<(), AppError> {
        self.per_ip
            .check_key(&ip)
            .map_err(|not_until| self.limited("login_ip", not_until))
    }

    /// `account` is the area plus the lower-cased login name, e.g. `shop:my-store:ann@x.test`.
    pub(crate) fn check_account(&self, account: String) -> Result<(), AppError> {
        self.per_account
            .check_key(&account)
            .map_err(|not_until| self.limited("login_account", not_until))
    }

    /// The refusal by the limit named `limit` (counted for the metrics).
    fn limited(
        &self,
        limit: &'static str,
        not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>,
    ) -> AppError {
        crate::metrics::rate_limited(limit);
        let wait = not_until.wait_time_from(self.clock.now());
        AppError::RateLimited {
            retry_after_secs: wait.as_secs() + 1,
        }
    }

    /// Checks that `actor` may send one more message now.
    pub(crate) fn check_sender(&self, actor: &crate::domain::Actor) -> Result<(), AppError> {
        self.per_sender
            .check_key(&actor.participant())
            .map_err(|not_until| self.limited("send", not_until))
    }

    /// Checks that `actor` may start one more conversation now.
    pub(crate) fn check_new_conversation(
        &self,
        actor: &crate::domain::Actor,
    ) -> Result<(), AppError> {
        self.per_starter
            .check_key(&actor.participant())
            .map_err(|not_until| self.limited("new_conversation", not_until))
    }

    /// Forgets keys whose limits are fully replenished (called periodically).
    pub(crate) fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
        self.per_sender.retain_recent();
        self.per_starter.retain_recent();
    }
}

//! Authentication: password hashing, sessions (bearer tokens and cookie sessions), CSRF, login
//! rate limits, and the request extractors that turn a request into a typed [`Actor`].
//!
//! [`Actor`]: crate::domain::Actor

pub(crate) mod extract;
pub mod password;
pub(crate) mod ratelimit;
pub mod session;

pub(crate) use extract::{AdminUser, CustomerUser, VendorUser};
pub(crate) use password::{HashError, Hasher};
pub(crate) use ratelimit::LoginLimiter;

//! Authentication: password hashing, sessions (bearer tokens and cookie sessions), CSRF, login
//! rate limits, and the request extractors that turn a request into a typed [`Actor`].
//!
//! [`Actor`]: crate::domain::Actor

pub mod extract;
pub mod password;
pub mod ratelimit;
pub mod session;

pub use extract::{AdminUser, Authenticated, CustomerUser, VendorUser};
pub use password::Hasher;
pub use ratelimit::LoginLimiter;

//! One integration test binary: every test starts the real application on loopback.

mod attachments;
mod auth;
mod backup;
mod cli;
mod email;
mod email_settings;
mod errors;
mod events;
mod flows;
// Shared with the browser tests; not every helper is used here.
#[allow(dead_code)]
#[path = "../helpers/mod.rs"]
mod helpers;
mod integration;
mod litestream;
mod messaging;
mod object_storage;
mod openapi;
mod operations;
mod pages;
mod platform;
mod providers;
mod rate_limits;
mod recovery;
mod rights;
mod sso;
mod stream;
mod tenancy;
mod tracking;
mod webhooks_out;

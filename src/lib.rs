//! Parley: a self-hosted messaging appliance for online marketplaces.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(clippy::await_holding_lock)]

pub mod accounts;
pub mod alerts;
pub mod app;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod email;
pub mod error;
pub mod health;
mod http;
pub mod i18n;
pub mod import;
pub mod integration;
pub mod jobs;
pub mod messaging;
pub mod metrics;
pub mod net;
pub mod platform;
pub mod state;
pub mod telemetry;
pub mod views;

pub use app::Application;
pub use config::Settings;
pub use http::messages::{MESSAGING_ROUTES, Op, RouteSpec};
pub use state::AppState;

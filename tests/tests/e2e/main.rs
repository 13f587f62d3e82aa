//! End-to-end tests: one binary, many modules, each test with its own database.

mod access;
mod api_accounts;
mod api_profiles;
mod api_support;
mod auth;
mod bench;
mod browser;
mod callbacks;
mod campaign_pulls;
mod campaigns;
mod canary;
mod cli;
mod connect;
mod connect_page;
mod docs;
mod durable_jobs;
mod events;
mod fidelity;
mod fixtures;
mod foundation;
mod graphiql;
mod harness;
mod hostile;
mod jobs;
mod privacy;
mod pulls;
mod refresh;
mod refresh_processes;
mod schema;
mod seed;
mod trust;
mod vault;
mod webhooks;

use std::path::PathBuf;

/// The `creatorlink` binary built for these tests (the same code as the shipped one).
pub fn creatorlink_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_creatorlink-under-test"))
}

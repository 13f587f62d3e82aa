//! End-to-end tests: one binary, many modules, each test with its own database.

mod bench;
mod canary;
mod cli;
mod connect;
mod events;
mod foundation;
mod harness;
mod jobs;
mod refresh;
mod schema;
mod vault;
mod webhooks;

use std::path::PathBuf;

/// The `creatorlink` binary built for these tests (the same code as the shipped one).
pub fn creatorlink_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_creatorlink-under-test"))
}

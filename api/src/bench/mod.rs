//! `creatorlink bench <scenario>`: measured figures anyone can reproduce. Each scenario is one
//! file, takes its sizes as flags (CI runs them tiny, `docs/benchmarks.md` records full sizes),
//! drives the real program (a `creatorlink serve` child process, real sockets) with an embedded
//! load generator, and prints one table.

mod child;
mod embedded_start;
mod expiry_sweep;
mod fanout;
mod nested_read;
mod refresh;
mod report;

use clap::Subcommand;

pub use child::ChildServer;
pub use report::Report;

/// The scenarios.
#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// `serve` on a fresh data directory: time from spawn to `/readyz` 200, and idle RSS.
    EmbeddedStart(embedded_start::Args),
    /// Many `graphql-transport-ws` subscribers on one API process while events are written at a
    /// steady rate: event-to-client latency.
    Fanout(fanout::Args),
    /// One day of expiry-sweep transitions over `--links` links on PostgreSQL: wall time and
    /// events written.
    ExpirySweep(expiry_sweep::Args),
    /// The nested profile list (page sizes 10/50/100) and a profile's detail over HTTP with an
    /// API key on PostgreSQL: requests/s, p50/p99, and SQL statements per request.
    NestedRead(nested_read::Args),
    /// N TikTok links due at once, refreshed by `creatorlink worker` processes on Redis against
    /// the sandbox on loopback: refreshes/s per worker-process count and double refreshes.
    Refresh(refresh::Args),
}

/// Runs one scenario and prints its table on stdout.
pub async fn run(scenario: Scenario) -> anyhow::Result<()> {
    let report = match scenario {
        Scenario::EmbeddedStart(args) => embedded_start::run(args).await?,
        Scenario::Fanout(args) => fanout::run(args).await?,
        Scenario::ExpirySweep(args) => expiry_sweep::run(args).await?,
        Scenario::NestedRead(args) => nested_read::run(args).await?,
        Scenario::Refresh(args) => refresh::run(args).await?,
    };
    print!("{report}");
    Ok(())
}

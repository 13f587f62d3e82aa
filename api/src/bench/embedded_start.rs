//! `bench embedded-start`: `creatorlink serve` on a fresh data directory (create the SQLite file,
//! migrate, create the vault key, bind) until `/readyz` answers 200, then its RSS once idle.

use std::time::Duration;

use anyhow::ensure;

use super::child::ChildServer;
use super::report::{duration_ms, micros_histogram, Report};

/// Sizes of the embedded-start scenario.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many cold starts to time (each on a new data directory).
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// How long the server idles after ready before its RSS is read.
    #[arg(long, default_value_t = 2.0)]
    pub idle_seconds: f64,
}

pub async fn run(args: Args) -> anyhow::Result<super::Report> {
    ensure!(args.runs > 0, "--runs must be at least 1");
    let mut ready = micros_histogram();
    let mut rss = Vec::new();
    let mut peak = Vec::new();
    for _ in 0..args.runs {
        let mut server = ChildServer::spawn(&[])?;
        let took = server.wait_ready(Duration::from_secs(60)).await?;
        ready.record(took.as_micros().max(1) as u64)?;
        tokio::time::sleep(Duration::from_secs_f64(args.idle_seconds.max(0.0))).await;
        let memory = server.memory_kib()?;
        rss.push(memory.rss_kib);
        peak.push(memory.peak_kib);
        server.stop().await?;
    }
    rss.sort_unstable();
    peak.sort_unstable();
    let mut report = Report::new(format!(
        "embedded-start: {} cold start(s) of `creatorlink serve` on SQLite",
        args.runs
    ));
    report
        .row("runs", args.runs)
        .row(
            "ready min (ms)",
            duration_ms(Duration::from_micros(ready.min())),
        )
        .row(
            "ready median (ms)",
            duration_ms(Duration::from_micros(ready.value_at_quantile(0.5))),
        )
        .row(
            "ready max (ms)",
            duration_ms(Duration::from_micros(ready.max())),
        )
        .row("idle RSS median (MiB)", mib(rss[rss.len() / 2]))
        .row("idle RSS max (MiB)", mib(rss[rss.len() - 1]))
        .row("peak RSS max (MiB)", mib(peak[peak.len() - 1]));
    Ok(report)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

//! Glue between the application and the `jobs` crate: opening the queue, building the jobs'
//! context, and running workers in `serve` (in-process) or `worker` (workers only).

use std::future::Future;

use jobs::{Clock, JobContext, JobMetrics, Platforms, Queue};
use sea_orm::DatabaseConnection;

use crate::app::StartError;
use crate::config::Config;

/// Connects to the configured queue (Redis, or `jobs.db` beside the database).
pub async fn open_queue(config: &Config) -> Result<Queue, StartError> {
    Queue::connect(&config.queue_backend(), config.queue_liveness())
        .await
        .map_err(|e| StartError::Queue(e.to_string()))
}

/// The name this process's workers register under.
pub fn instance_name(config: &Config) -> String {
    config
        .jobs
        .worker_name
        .clone()
        .unwrap_or_else(jobs::runtime::default_instance_name)
}

/// Everything a job handler may use.
pub fn job_context(
    config: &Config,
    db: DatabaseConnection,
    queue: Queue,
    metrics: JobMetrics,
    platforms: Platforms,
    keyring: Option<std::sync::Arc<domain::vault::Keyring>>,
    clock: domain::clock::SharedClock,
) -> JobContext {
    JobContext::new(
        db,
        queue,
        platforms,
        keyring,
        Clock::shared(clock),
        metrics,
        config.job_settings(),
        instance_name(config),
    )
}

/// Runs the workers and schedules until `shutdown` resolves, then drains gracefully.
pub async fn run(ctx: JobContext, shutdown: impl Future<Output = ()> + Send + 'static) {
    let instance = ctx.worker_id().to_owned();
    if let Err(e) = jobs::run_workers(ctx, instance, true, shutdown).await {
        tracing::error!(error = %e, "job workers stopped with an error");
    }
}

/// Resolves on SIGTERM or ctrl-c.
pub async fn termination() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

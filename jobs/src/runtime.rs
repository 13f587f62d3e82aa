//! Running jobs: the attempt loop (timeout, retry with exponential backoff and jitter, dead
//! letters, metrics), apalis workers per job type on either backend, and graceful shutdown.

use std::future::Future;
use std::time::Instant;

use apalis::prelude::{BoxDynError, Data, Monitor, WorkerBuilder, WorkerBuilderExt};
use futures::FutureExt;

use crate::dead;
use crate::job::{Job, JobContext, JobError};
use crate::queue::Queue;

/// How one job ended after all its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Gave up; recorded in `dead_job`.
    Dead {
        error: String,
        attempts: u32,
    },
}

/// Runs `job` to its end in this task: attempts under the timeout, retries retryable failures
/// after a jittered exponential backoff (never sooner than the error asks), and records a job
/// that gives up as dead. Workers call this; tests call it to drain a job in-process.
#[tracing::instrument(skip_all, fields(job = J::NAME))]
pub async fn execute<J: Job>(job: &J, ctx: &JobContext) -> Outcome {
    let settings = ctx.settings();
    let metrics = ctx.metrics();
    let mut attempt: u32 = 1;
    loop {
        let started = Instant::now();
        let run = std::panic::AssertUnwindSafe(job.run(ctx)).catch_unwind();
        let result = match tokio::time::timeout(settings.timeout, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(_panic)) => Err(JobError::permanent("the job panicked")),
            Err(_) => Err(JobError::retry(format!(
                "timed out after {} s",
                settings.timeout.as_secs()
            ))),
        };
        metrics
            .duration
            .with_label_values(&[J::NAME])
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                metrics.processed.with_label_values(&[J::NAME]).inc();
                return Outcome::Done;
            }
            Err(JobError::Retry { message, after }) if attempt < settings.max_attempts => {
                metrics.retried.with_label_values(&[J::NAME]).inc();
                let wait = settings.backoff(attempt).max(after.unwrap_or_default());
                tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %message, "job attempt failed; retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => {
                metrics.failed.with_label_values(&[J::NAME]).inc();
                let error = e.to_string();
                tracing::error!(attempt, error = %error, "job gave up");
                if let Err(db) = dead::record(
                    ctx.db(),
                    J::NAME,
                    job,
                    job.subject(),
                    &error,
                    attempt,
                    ctx.now(),
                )
                .await
                {
                    tracing::error!(error = %db, "cannot record the dead job");
                }
                return Outcome::Dead {
                    error,
                    attempts: attempt,
                };
            }
        }
    }
}

/// The apalis handler: decode, execute, acknowledge. The job is acknowledged only after
/// [`execute`] returns, i.e. after its effects are committed; a worker killed before that leaves
/// the job in flight, and apalis hands it to another worker once this one misses its heartbeats.
///
/// The job runs in a task of its own, so it finishes even when apalis drops this future — as it
/// does to the jobs in hand of a worker restarted after its backend failed (Redis went away). A
/// refresh cut off between the platform's answer and its write would lose the refresh token the
/// platform just rotated; run to its end, it writes it, and only the acknowledgement is lost (the
/// job runs again and finds nothing to do).
async fn handle<J: Job>(job: J, ctx: Data<JobContext>) -> Result<(), BoxDynError> {
    let ctx: JobContext = (*ctx).clone();
    tokio::spawn(async move { execute(&job, &ctx).await })
        .await
        .map_err(|e| Box::new(e) as BoxDynError)?;
    Ok(())
}

/// Adds a worker for job type `J` to `monitor`.
///
/// The worker is named `{instance}:{job}`: names must be unique across the cluster, since apalis
/// tracks in-flight jobs per worker name. A worker restarted after its backend failed takes a new
/// name (`{instance}:{job}#{restarts}`): the jobs the old one had in hand are then those of a
/// worker whose heartbeats stopped, and go back to the queue like a dead process's.
pub fn register<J: Job>(monitor: Monitor, ctx: &JobContext, instance: &str) -> Monitor {
    let base = format!("{instance}:{}", J::NAME);
    let name = move |restarts: usize| {
        if restarts == 0 {
            base.clone()
        } else {
            format!("{base}#{restarts}")
        }
    };
    let concurrency = ctx.settings().concurrency.max(1);
    let queue = ctx.queue().clone();
    let ctx = ctx.clone();
    match &queue {
        Queue::Redis { conn, .. } => {
            let storage = queue.redis_storage::<J>(conn, J::NAME);
            monitor.register(move |restarts| {
                WorkerBuilder::new(name(restarts))
                    .backend(storage.clone())
                    .data(ctx.clone())
                    .concurrency(concurrency)
                    .build(handle::<J>)
            })
        }
        Queue::Sqlite { pool, .. } => {
            let storage = queue.sqlite_storage::<J>(pool, J::NAME);
            monitor.register(move |restarts| {
                WorkerBuilder::new(name(restarts))
                    .backend(storage.clone())
                    .data(ctx.clone())
                    .concurrency(concurrency)
                    .build(handle::<J>)
            })
        }
    }
}

/// Runs every registered job's worker and every schedule until `shutdown` resolves, then stops
/// fetching, lets the jobs in hand finish for up to `jobs.shutdown_timeout`, and returns. Jobs
/// still running then are abandoned in flight and re-enqueued by the queue once this worker's
/// heartbeats stop.
pub async fn run_workers(
    ctx: JobContext,
    instance: String,
    with_schedules: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxDynError> {
    let mut monitor = Monitor::new().shutdown_timeout(ctx.settings().shutdown_timeout);
    monitor = crate::registry::register_all(monitor, &ctx, &instance);
    // A worker whose backend failed (Redis went away) is started again; the connection manager
    // reconnects underneath it.
    monitor = monitor.should_restart(|worker, error| {
        tracing::warn!(worker = worker.name(), %error, "job worker stopped with an error; restarting");
        true
    });
    let mut schedules = if with_schedules {
        crate::schedule::spawn_all(&ctx)
    } else {
        Vec::new()
    };
    schedules.extend(spawn_promoter(ctx.queue().clone()));
    tracing::info!(instance = %instance, backend = ctx.queue().backend_name(), "job workers started");
    let result = monitor
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await;
    for s in schedules {
        s.abort();
    }
    tracing::info!(instance = %instance, "job workers stopped");
    result.map_err(|e| Box::new(e) as BoxDynError)
}

/// How often a worker process moves due jobs to the active lists (see [`Queue::promote_due`]).
const PROMOTE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// On Redis, keeps every job type's due jobs moving to its active list in bounded chunks, so no
/// fetch meets more due jobs than apalis-redis can move at once.
fn spawn_promoter(queue: Queue) -> Option<tokio::task::JoinHandle<()>> {
    if !matches!(queue, Queue::Redis { .. }) {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            for name in crate::registry::JOB_NAMES {
                match queue.promote_due(name).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(job = name, moved = n, "due jobs promoted"),
                    // Redis away: the workers report it; try again at the next round.
                    Err(e) => tracing::debug!(job = name, error = %e, "promoting due jobs failed"),
                }
            }
            tokio::time::sleep(PROMOTE_EVERY).await;
        }
    }))
}

/// A name for this process's workers: `CREATORLINK_JOBS_WORKER_NAME`'s value when configured,
/// otherwise `{hostname}-{pid}`, unique per process on a host.
pub fn default_instance_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

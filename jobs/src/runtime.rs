//! Running jobs: the attempt loop (timeout, retry with exponential backoff and jitter, dead
//! letters, metrics), apalis workers per job type on either backend, and graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// The worker is stopping: no (further) attempt was started; the job goes back to the queue.
    HandedBack,
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
        if ctx.drain().is_stopping() {
            return Outcome::HandedBack;
        }
        // An attempt that must finish holds the worker's exit until it has.
        let finishing = J::FINISH_ONCE_STARTED.then(|| ctx.drain().enter());
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
        drop(finishing);
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
///
/// A job the worker did not start because it is stopping ends in an error: apalis then records it
/// as failed, and the queue hands it to the next worker at once (it is not counted against the
/// job's own attempts, which [`execute`] keeps).
async fn handle<J: Job>(job: J, ctx: Data<JobContext>) -> Result<(), BoxDynError> {
    let ctx: JobContext = (*ctx).clone();
    let outcome = tokio::spawn(async move { execute(&job, &ctx).await })
        .await
        .map_err(|e| Box::new(e) as BoxDynError)?;
    match outcome {
        Outcome::HandedBack => Err("the worker is stopping; job handed back to the queue".into()),
        Outcome::Done | Outcome::Dead { .. } => Ok(()),
    }
}

/// The names this process's workers are registered under right now, by job type, for the
/// heartbeat task (a worker restarted after its backend failed takes a new name).
#[derive(Clone, Default)]
pub(crate) struct WorkerNames(Arc<Mutex<HashMap<&'static str, String>>>);

impl WorkerNames {
    fn set(&self, job: &'static str, name: String) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job, name);
    }

    fn all(&self) -> Vec<(&'static str, String)> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(job, name)| (*job, name.clone()))
            .collect()
    }
}

/// Adds a worker for job type `J` to `monitor`.
///
/// The worker is named `{instance}:{job}`: names must be unique across the cluster, since apalis
/// tracks in-flight jobs per worker name. A worker restarted after its backend failed takes a new
/// name (`{instance}:{job}#{restarts}`): the jobs the old one had in hand are then those of a
/// worker whose heartbeats stopped, and go back to the queue like a dead process's.
pub(crate) fn register<J: Job>(
    monitor: Monitor,
    ctx: &JobContext,
    instance: &str,
    names: &WorkerNames,
) -> Monitor {
    let base = format!("{instance}:{}", J::NAME);
    let names = names.clone();
    let name = move |restarts: usize| {
        let name = if restarts == 0 {
            base.clone()
        } else {
            format!("{base}#{restarts}")
        };
        names.set(J::NAME, name.clone());
        name
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
/// fetching, starts no further attempt (jobs waiting for a retry go back to the queue), lets the
/// jobs in hand finish for up to `jobs.shutdown_timeout`, and returns. Jobs still running then
/// are abandoned in flight and re-enqueued by the queue once this worker's heartbeats stop —
/// except attempts that must finish ([`Job::FINISH_ONCE_STARTED`]: refreshes), which are waited
/// for up to the platform timeout (plus [`FINISH_GRACE`] for their write) whatever
/// `shutdown_timeout` says.
pub async fn run_workers(
    ctx: JobContext,
    instance: String,
    with_schedules: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxDynError> {
    let mut monitor = Monitor::new().shutdown_timeout(ctx.settings().shutdown_timeout);
    let names = WorkerNames::default();
    monitor = crate::registry::register_all(monitor, &ctx, &instance, &names);
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
    schedules.push(spawn_maintenance(ctx.queue().clone()));
    schedules.push(spawn_heartbeat(ctx.queue().clone(), names));
    tracing::info!(instance = %instance, backend = ctx.queue().backend_name(), "job workers started");
    let drain = ctx.drain().clone();
    let result = monitor
        .run_with_signal(async move {
            shutdown.await;
            tracing::info!("stopping: no new job or attempt starts");
            drain.stop();
            Ok(())
        })
        .await;
    for s in schedules {
        s.abort();
    }
    let drain = ctx.drain();
    if drain.running() > 0 {
        tracing::info!(
            running = drain.running(),
            "waiting for refreshes in flight to finish and store their result"
        );
        let left = drain
            .finished(ctx.settings().platform_timeout + FINISH_GRACE)
            .await;
        if left > 0 {
            tracing::error!(
                left,
                "refreshes still running at exit; their result may be lost"
            );
        }
    }
    tracing::info!(instance = %instance, "job workers stopped");
    result.map_err(|e| Box::new(e) as BoxDynError)
}

/// Beyond the platform timeout, how long a refresh may take to store its result on SIGTERM.
pub const FINISH_GRACE: Duration = Duration::from_secs(5);

/// How often a worker process moves due jobs to the active lists (see [`Queue::promote_due`]).
const PROMOTE_EVERY: Duration = Duration::from_millis(200);

/// Every this many promotion rounds, finished jobs are swept (see [`Queue::sweep_finished`]).
const SWEEP_EVERY_ROUNDS: u32 = 25;

/// The queue's upkeep, in one place, for what apalis 1.0 leaves undone: on Redis, every job
/// type's due jobs keep moving to its active list in bounded chunks (so no fetch meets more due
/// jobs than apalis-redis can move at once); on both backends, finished jobs are forgotten.
fn spawn_maintenance(queue: Queue) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut round: u32 = 0;
        loop {
            for name in crate::registry::JOB_NAMES {
                match queue.promote_due(name).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(job = name, moved = n, "due jobs promoted"),
                    // Redis away: the workers report it; try again at the next round.
                    Err(e) => tracing::debug!(job = name, error = %e, "promoting due jobs failed"),
                }
                if round % SWEEP_EVERY_ROUNDS == 0 {
                    match queue.sweep_finished(name).await {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(job = name, forgotten = n, "finished jobs swept"),
                        Err(e) => {
                            tracing::debug!(job = name, error = %e, "sweeping finished jobs failed")
                        }
                    }
                }
            }
            round = round.wrapping_add(1);
            tokio::time::sleep(PROMOTE_EVERY).await;
        }
    })
}

/// Beats for every worker of this process at the liveness interval, from a task of its own, so
/// a worker whose every slot is busy still proves it is alive (see [`Queue::heartbeat`]).
fn spawn_heartbeat(queue: Queue, names: WorkerNames) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = queue.liveness().heartbeat;
        loop {
            tokio::time::sleep(every).await;
            let mut by_job: HashMap<&'static str, Vec<String>> = HashMap::new();
            for (job, name) in names.all() {
                by_job.entry(job).or_default().push(name);
            }
            for (job, names) in by_job {
                if let Err(e) = queue.heartbeat(job, &names).await {
                    tracing::debug!(job, error = %e, "heartbeat failed");
                }
            }
        }
    })
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

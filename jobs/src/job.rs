//! What a job is: a small serde struct of ids plus an async handler, with the context every
//! handler receives. A new job type implements [`Job`] and is added to [`crate::registry`].

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::platforms::PlatformClient;
use domain::vault::Keyring;
use domain::webhooks::WebhookSender;
use domain::Provider;
use sea_orm::DatabaseConnection;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::metrics::JobMetrics;
use crate::queue::{Queue, QueueError};
use crate::settings::JobSettings;

/// One kind of background work. The struct is the payload: ids only, never tokens or data.
///
/// Handlers must be idempotent: a worker may die after doing the work and before the queue
/// records it, and the job then runs again.
pub trait Job:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + Unpin + 'static
{
    /// The job's name: its queue, its metrics label, its worker name.
    const NAME: &'static str;

    /// Does the work once. `Err(JobError::Retry)` asks for another attempt after a backoff;
    /// `Err(JobError::Permanent)` gives up at once and records the job as dead.
    fn run(&self, ctx: &JobContext) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Whether an attempt already started must be let finish on SIGTERM, whatever
    /// `jobs.shutdown_timeout` says (up to the platform timeout): a refresh whose call the platform
    /// may already have answered with a rotated refresh token must store it. No new attempt of any
    /// job starts once the worker is stopping.
    const FINISH_ONCE_STARTED: bool = false;

    /// The row the job works on, so that a job that gives up is listed for that row's
    /// organization (`failedJobs`). `None` (the default) for jobs of no single organization,
    /// such as the scans: those are for operators (`creatorlink jobs`).
    fn subject(&self) -> Option<Subject> {
        None
    }
}

/// The row a job works on (see [`Job::subject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Link(uuid::Uuid),
    Account(uuid::Uuid),
    WebhookDelivery(uuid::Uuid),
}

/// Why an attempt failed, and whether another one can help.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again after a backoff (not before `after` when given).
    #[error("{message}")]
    Retry {
        message: String,
        after: Option<Duration>,
    },
    /// Trying again cannot help.
    #[error("{message}")]
    Permanent { message: String },
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError::Retry {
            message: message.into(),
            after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        JobError::Permanent {
            message: message.into(),
        }
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(e: sea_orm::DbErr) -> Self {
        // A database hiccup (busy, connection lost) is worth another attempt.
        JobError::retry(format!("database: {e}"))
    }
}

impl From<domain::DomainError> for JobError {
    fn from(e: domain::DomainError) -> Self {
        match e {
            domain::DomainError::Database(e) => e.into(),
            domain::DomainError::Upstream {
                retryable: true,
                message,
            } => JobError::retry(message),
            other => JobError::permanent(other.to_string()),
        }
    }
}

impl From<QueueError> for JobError {
    fn from(e: QueueError) -> Self {
        JobError::retry(e.to_string())
    }
}

/// The time source of the jobs; tests and the sandbox move it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(Arc::new(Utc::now))
    }

    /// The application's clock (`domain::clock`): in sandbox mode the sandbox's, so workers
    /// follow `POST /sandbox/control/clock` like the API does.
    pub fn shared(clock: domain::clock::SharedClock) -> Self {
        Clock(Arc::new(move || clock.now()))
    }

    /// A clock reading `f`.
    pub fn from_fn(f: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The platform clients by provider; a provider without a client is not configured.
pub type Platforms = HashMap<Provider, Arc<dyn PlatformClient>>;

/// What every handler may use. Cheap to clone.
#[derive(Clone)]
pub struct JobContext(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    db: DatabaseConnection,
    queue: Queue,
    platforms: Platforms,
    keyring: Option<Arc<Keyring>>,
    clock: Clock,
    metrics: JobMetrics,
    settings: JobSettings,
    worker_id: String,
    webhook_sender: Option<WebhookSender>,
    drain: Arc<Drain>,
}

/// A worker process's shutdown state: whether it is stopping, and how many attempts that must
/// finish ([`Job::FINISH_ONCE_STARTED`]) are running.
#[derive(Debug)]
pub struct Drain {
    stopping: std::sync::atomic::AtomicBool,
    running: tokio::sync::watch::Sender<usize>,
}

impl Default for Drain {
    fn default() -> Self {
        Drain {
            stopping: std::sync::atomic::AtomicBool::new(false),
            running: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Drain {
    /// From now on no attempt starts.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts an attempt that must finish until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> DrainGuard {
        self.running.send_modify(|n| *n += 1);
        DrainGuard(self.clone())
    }

    /// Attempts that must finish, running now.
    pub fn running(&self) -> usize {
        *self.running.borrow()
    }

    /// Waits until no attempt that must finish is running, at most `limit`; returns how many
    /// still run.
    pub async fn finished(&self, limit: Duration) -> usize {
        let mut rx = self.running.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
        self.running()
    }
}

/// See [`Drain::enter`].
pub(crate) struct DrainGuard(Arc<Drain>);

impl Drop for DrainGuard {
    fn drop(&mut self) {
        self.0.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl JobContext {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: DatabaseConnection,
        queue: Queue,
        platforms: Platforms,
        keyring: Option<Arc<Keyring>>,
        clock: Clock,
        metrics: JobMetrics,
        settings: JobSettings,
        worker_id: String,
    ) -> Self {
        JobContext(Arc::new(Inner {
            db,
            queue,
            platforms,
            keyring,
            clock,
            metrics,
            settings,
            worker_id,
            webhook_sender: None,
            drain: Arc::new(Drain::default()),
        }))
    }

    /// The same context with the HTTP client webhook deliveries go out with.
    pub fn with_webhook_sender(&self, sender: WebhookSender) -> Self {
        let mut inner = (*self.0).clone();
        inner.webhook_sender = Some(sender);
        JobContext(Arc::new(inner))
    }

    /// The same context acting as another worker (another lease owner): several workers of one
    /// process, in tests and benchmarks.
    pub fn with_worker_id(&self, worker_id: impl Into<String>) -> Self {
        let mut inner = (*self.0).clone();
        inner.worker_id = worker_id.into();
        JobContext(Arc::new(inner))
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }
    pub fn queue(&self) -> &Queue {
        &self.0.queue
    }
    pub fn platform(&self, provider: Provider) -> Option<Arc<dyn PlatformClient>> {
        self.0.platforms.get(&provider).cloned()
    }
    pub fn keyring(&self) -> Option<&Keyring> {
        self.0.keyring.as_deref()
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }
    pub fn metrics(&self) -> &JobMetrics {
        &self.0.metrics
    }
    pub fn settings(&self) -> &JobSettings {
        &self.0.settings
    }
    /// The webhook HTTP client; `None` where webhooks are not delivered.
    pub fn webhook_sender(&self) -> Option<&WebhookSender> {
        self.0.webhook_sender.as_ref()
    }
    /// This process's shutdown state.
    pub fn drain(&self) -> &Arc<Drain> {
        &self.0.drain
    }
    /// This process's worker identity, used as the refresh lease owner.
    pub fn worker_id(&self) -> &str {
        &self.0.worker_id
    }

    /// Enqueues `job` now.
    pub async fn enqueue<J: Job>(&self, job: J) -> Result<(), QueueError> {
        self.0.queue.push_named(J::NAME, job, None, None).await
    }
}

/// Enqueues `job` on `queue` (for callers outside a handler: GraphQL mutations, the CLI).
pub async fn enqueue<J: Job>(queue: &Queue, job: J) -> Result<(), QueueError> {
    queue.push_named(J::NAME, job, None, None).await
}

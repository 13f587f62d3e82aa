//! creatorlink's background jobs on apalis: the queue (Redis or SQLite), the workers, the
//! schedules, and one module per job. Depends on `domain` only.
//!
//! A job is a small serde struct of ids implementing [`Job`]; [`registry`] lists them and
//! [`schedule`] ticks the scans. [`runtime::run_workers`] runs them all until shutdown.

pub mod campaigns;
pub mod dead;
pub mod expire;
pub mod job;
pub mod metrics;
pub mod queue;
pub mod refresh;
pub mod registry;
pub mod revoke;
pub mod runtime;
pub mod schedule;
pub mod settings;
pub mod sync;
pub mod webhooks;

pub use job::{enqueue, Clock, Job, JobContext, JobError, Platforms, Subject};
pub use metrics::JobMetrics;
pub use queue::{Liveness, Queue, QueueBackendConfig, QueueError};
pub use runtime::{execute, run_workers, Outcome};
pub use settings::{JobSettings, Schedules};

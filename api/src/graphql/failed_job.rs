//! Failed jobs: background jobs of the caller's organization that gave up (a permanent error, or
//! their retries ran out), and re-enqueueing one. Jobs of no single organization (the scans) are
//! not listed here; operators see every dead job with `creatorlink jobs`.

use async_graphql::{Context, ErrorExtensions, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::entities::dead_job;
use jobs::dead::{self, RetryError};
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::error::{codes, to_graphql};
use super::user_error::UserError;
use super::ApiContext;

/// One job that gave up. Its payload is ids only and is not shown; `job` and `error` say what
/// failed and why (errors never carry tokens).
pub struct FailedJob(dead_job::Model);

#[Object]
impl FailedJob {
    /// The failed job's id (for `retryJob`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The job type, e.g. `refresh_link`, `pull_media`, `deliver_webhook`.
    async fn job(&self) -> &str {
        &self.0.job
    }
    /// The last error.
    async fn error(&self) -> &str {
        &self.0.error
    }
    /// Attempts made before it gave up.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn failed_at(&self) -> DateTime<Utc> {
        self.0.failed_at
    }
    /// When it was re-enqueued (`retryJob` or the CLI); null while it is still dead.
    async fn retried_at(&self) -> Option<DateTime<Utc>> {
        self.0.retried_at
    }
}

#[derive(Default)]
pub struct FailedJobQuery;

#[Object]
impl FailedJobQuery {
    /// The organization's failed jobs, newest first (retried ones too, with `retriedAt`).
    /// Access: role admin; no API keys; no creators.
    async fn failed_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100).", default = 20)] first: i32,
        #[graphql(desc = "Continue after this failed job's id (the last of the previous page).")]
        after: Option<ID>,
    ) -> Result<Vec<FailedJob>> {
        let api = ctx.api();
        let after = match after {
            Some(id) => match Uuid::parse_str(&id) {
                Ok(id) => Some(id),
                Err(_) => {
                    return Err(async_graphql::Error::new("`after` is not a failed job id")
                        .extend_with(|_, e| e.set("code", codes::BAD_USER_INPUT)))
                }
            },
            None => None,
        };
        let rows = dead::list_for_org(
            api.db(),
            api.org().uuid(),
            after,
            first.clamp(0, 100) as u64,
        )
        .await
        .map_err(|e| to_graphql(e.into(), api.request_id()))?;
        Ok(rows.into_iter().map(FailedJob).collect())
    }
}

/// Which failed job to run again.
#[derive(InputObject)]
pub struct RetryJobInput {
    /// The failed job's id (from `failedJobs`).
    pub id: ID,
}

/// The result of `retryJob`.
#[derive(SimpleObject, Default)]
pub struct RetryJobPayload {
    /// The failed job, now marked retried; the job itself is queued again with its payload.
    pub job: Option<FailedJob>,
    /// Why it was not queued: `NOT_FOUND`, `ALREADY_RETRIED`.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct FailedJobMutation;

#[Object]
impl FailedJobMutation {
    /// Queues a failed job again with its original payload (once: a second retry of the same
    /// failed job is refused; if it fails again it is listed anew).
    /// Access: role admin; no API keys; no creators.
    async fn retry_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The failed job to run again.")] input: RetryJobInput,
    ) -> Result<RetryJobPayload> {
        let api = ctx.api();
        let not_found = || RetryJobPayload {
            user_errors: vec![UserError::not_found("id", "failed job")],
            ..Default::default()
        };
        let Ok(id) = Uuid::parse_str(&input.id) else {
            return Ok(not_found());
        };
        let queue = &api.services().queue;
        match dead::retry_in(api.db(), queue, id, Some(api.org().uuid()), Utc::now()).await {
            Ok(()) => {
                let row = dead_job::Entity::find_by_id(id)
                    .one(api.db())
                    .await
                    .map_err(|e| to_graphql(e.into(), api.request_id()))?;
                Ok(RetryJobPayload {
                    job: row.map(FailedJob),
                    user_errors: Vec::new(),
                })
            }
            Err(RetryError::NotFound(_)) => Ok(not_found()),
            Err(RetryError::AlreadyRetried(_)) => Ok(RetryJobPayload {
                user_errors: vec![UserError::new(
                    "ALREADY_RETRIED",
                    Some("id"),
                    "this failed job was already queued again",
                )],
                ..Default::default()
            }),
            Err(e) => {
                tracing::error!(error = %e, failed_job = %id, "cannot retry a failed job");
                Err(
                    async_graphql::Error::new("the job could not be queued again")
                        .extend_with(|_, ext| ext.set("code", codes::INTERNAL)),
                )
            }
        }
    }
}

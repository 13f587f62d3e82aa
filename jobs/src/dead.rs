//! Dead jobs: jobs that gave up, kept in `dead_job` for operators (the admin query lists them,
//! `creatorlink jobs retry <id>` / `--failed` re-enqueues them).

use chrono::{DateTime, Utc};
use domain::entities::{dead_job, link, social_account, webhook_delivery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use uuid::Uuid;

use crate::job::Subject;
use crate::queue::{Queue, QueueError};

/// Records that `job` gave up, attributed to the organization of the row it worked on.
pub async fn record<J: Serialize>(
    db: &impl ConnectionTrait,
    name: &str,
    job: &J,
    subject: Option<Subject>,
    error: &str,
    attempts: u32,
    at: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let payload = serde_json::to_string(job).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    let organization_id = match subject {
        Some(subject) => organization_of(db, subject).await?,
        None => None,
    };
    dead_job::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        job: Set(name.to_owned()),
        payload: Set(payload),
        error: Set(error.to_owned()),
        attempts: Set(attempts as i32),
        failed_at: Set(at),
        retried_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The organization owning a job's subject (`None` when the row is gone).
async fn organization_of(
    db: &impl ConnectionTrait,
    subject: Subject,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(match subject {
        Subject::Link(id) => link::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|l| l.organization_id),
        Subject::Account(id) => social_account::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|a| a.organization_id),
        Subject::WebhookDelivery(id) => webhook_delivery::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.organization_id),
    })
}

/// The dead jobs of one organization, newest first, `limit` after the cursor `before` (the id of
/// the last row of the previous page); retried ones included (with `retried_at`).
pub async fn list_for_org(
    db: &impl ConnectionTrait,
    org: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<dead_job::Model>, sea_orm::DbErr> {
    let mut query = dead_job::Entity::find().filter(dead_job::Column::OrganizationId.eq(org));
    if let Some(before) = before {
        // Ids are UUIDv7: their order is the order of failure.
        query = query.filter(dead_job::Column::Id.lt(before));
    }
    query
        .order_by_desc(dead_job::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Dead jobs not yet retried, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<dead_job::Model>, sea_orm::DbErr> {
    dead_job::Entity::find()
        .filter(dead_job::Column::RetriedAt.is_null())
        .order_by_desc(dead_job::Column::FailedAt)
        .order_by_desc(dead_job::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Why a retry did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no dead job with id {0}")]
    NotFound(Uuid),
    #[error("dead job {0} was already retried")]
    AlreadyRetried(Uuid),
    #[error("unknown job type `{0}`")]
    UnknownJob(String),
    #[error("{0}")]
    Queue(#[from] QueueError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Re-enqueues dead job `id` with its original payload and marks it retried. The mark is a
/// conditional update, so two operators retrying the same job enqueue it once.
pub async fn retry(
    db: &impl ConnectionTrait,
    queue: &Queue,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), RetryError> {
    retry_in(db, queue, id, None, now).await
}

/// As [`retry`], for a job of organization `org` only (`Some`): another organization's job is
/// [`RetryError::NotFound`], as if it did not exist.
pub async fn retry_in(
    db: &impl ConnectionTrait,
    queue: &Queue,
    id: Uuid,
    org: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), RetryError> {
    let row = dead_job::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| org.is_none() || row.organization_id == org)
        .ok_or(RetryError::NotFound(id))?;
    if !crate::registry::JOB_NAMES.contains(&row.job.as_str()) {
        return Err(RetryError::UnknownJob(row.job));
    }
    let claimed = dead_job::Entity::update_many()
        .col_expr(
            dead_job::Column::RetriedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(dead_job::Column::Id.eq(id))
        .filter(dead_job::Column::RetriedAt.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(RetryError::AlreadyRetried(id));
    }
    let payload: serde_json::Value =
        serde_json::from_str(&row.payload).map_err(QueueError::from)?;
    queue.push_named(&row.job, payload, None, None).await?;
    Ok(())
}

/// Re-enqueues every dead job not yet retried; returns how many.
pub async fn retry_all(
    db: &impl ConnectionTrait,
    queue: &Queue,
    now: DateTime<Utc>,
) -> Result<usize, RetryError> {
    let mut n = 0;
    loop {
        let batch = list(db, 100).await?;
        if batch.is_empty() {
            return Ok(n);
        }
        for row in batch {
            match retry(db, queue, row.id, now).await {
                Ok(()) => n += 1,
                Err(RetryError::AlreadyRetried(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

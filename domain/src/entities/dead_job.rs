//! `dead_job`: a background job that gave up (a permanent error, or its retries exhausted), kept
//! for operators to inspect and re-enqueue (`creatorlink jobs retry`).

use sea_orm::entity::prelude::*;

/// One job that gave up. Payloads are ids only (jobs never carry tokens), so they are safe to keep.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dead_job")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organization the job worked for; `None` for jobs of no single organization (scans).
    pub organization_id: Option<Uuid>,
    /// The job type (`refresh_link`, `revoke_upstream`, …).
    pub job: String,
    /// The job's JSON payload.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// The last error, scrubbed of secrets by the platform clients.
    #[sea_orm(column_type = "Text")]
    pub error: String,
    pub attempts: i32,
    pub failed_at: DateTimeUtc,
    /// When an operator re-enqueued it; `None` while it is still dead.
    pub retried_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

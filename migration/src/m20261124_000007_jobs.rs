//! The jobs' own bookkeeping: `dead_job` (jobs that gave up, for operators to inspect and retry)
//! and `sync_state.requested_at` (rate limit of on-demand syncs).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeadJob {
    Table,
    Id,
    Job,
    Payload,
    Error,
    Attempts,
    FailedAt,
    RetriedAt,
}

#[derive(DeriveIden)]
enum SyncState {
    Table,
    RequestedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeadJob::Table)
                    .col(uuid(DeadJob::Id).primary_key())
                    .col(string_len(DeadJob::Job, 64))
                    .col(text(DeadJob::Payload))
                    .col(text(DeadJob::Error))
                    .col(integer(DeadJob::Attempts))
                    .col(timestamp_with_time_zone(DeadJob::FailedAt))
                    .col(timestamp_with_time_zone_null(DeadJob::RetriedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_dead_job_failed_at")
                    .table(DeadJob::Table)
                    .col(DeadJob::FailedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SyncState::Table)
                    .add_column(timestamp_with_time_zone_null(SyncState::RequestedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SyncState::Table)
                    .drop_column(SyncState::RequestedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DeadJob::Table).to_owned())
            .await
    }
}

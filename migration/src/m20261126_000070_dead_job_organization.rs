//! `dead_job.organization_id`: the organization a dead job worked for (its link, account or
//! webhook delivery), so organization admins see their own failed jobs and no one else's. Null
//! for jobs of no single organization (the scans) — those are for operators (the CLI).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeadJob {
    Table,
    OrganizationId,
    FailedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DeadJob::Table)
                    .add_column(uuid_null(DeadJob::OrganizationId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_dead_job_organization_id_failed_at")
                    .table(DeadJob::Table)
                    .col(DeadJob::OrganizationId)
                    .col(DeadJob::FailedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_dead_job_organization_id_failed_at")
                    .table(DeadJob::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DeadJob::Table)
                    .drop_column(DeadJob::OrganizationId)
                    .to_owned(),
            )
            .await
    }
}

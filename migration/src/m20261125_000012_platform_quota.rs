//! `platform_quota`: units of a platform's daily quota spent per quota day (YouTube Data API:
//! 10,000 units a day per Cloud project, reset at midnight Pacific). Shared by every worker, so
//! the budget holds across processes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlatformQuota {
    Table,
    Provider,
    Purpose,
    Day,
    UnitsSpent,
    RefusedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlatformQuota::Table)
                    .if_not_exists()
                    .col(string_len(PlatformQuota::Provider, 16))
                    .col(string_len(PlatformQuota::Purpose, 32))
                    .col(date(PlatformQuota::Day))
                    .col(big_integer(PlatformQuota::UnitsSpent).default(0))
                    .col(timestamp_with_time_zone_null(PlatformQuota::RefusedAt))
                    .col(timestamp_with_time_zone(PlatformQuota::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(PlatformQuota::Provider)
                            .col(PlatformQuota::Purpose)
                            .col(PlatformQuota::Day),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlatformQuota::Table).to_owned())
            .await
    }
}

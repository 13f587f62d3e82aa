//! What platform callbacks and privacy requests need: the platform user who granted each link
//! (`link.provider_user_id`, so a deauthorize callback naming that user finds its links) and
//! `deletion_request`, the progress of a Meta data-deletion request behind its status URL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Link {
    Table,
    ProviderUserId,
}

#[derive(DeriveIden)]
enum DeletionRequest {
    Table,
    Id,
    Provider,
    ProviderUserId,
    ConfirmationCode,
    Status,
    AccountsAffected,
    RequestedAt,
    CompletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Link::Table)
                    .add_column(string_null(Link::ProviderUserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_provider_user_id")
                    .table(Link::Table)
                    .col(Link::ProviderUserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeletionRequest::Table)
                    .col(uuid(DeletionRequest::Id).primary_key())
                    .col(string_len(DeletionRequest::Provider, 16))
                    .col(string(DeletionRequest::ProviderUserId))
                    .col(string_len_uniq(DeletionRequest::ConfirmationCode, 64))
                    .col(string_len(DeletionRequest::Status, 16))
                    .col(integer(DeletionRequest::AccountsAffected))
                    .col(timestamp_with_time_zone(DeletionRequest::RequestedAt))
                    .col(timestamp_with_time_zone_null(DeletionRequest::CompletedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeletionRequest::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_link_provider_user_id")
                    .table(Link::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Link::Table)
                    .drop_column(Link::ProviderUserId)
                    .to_owned(),
            )
            .await
    }
}

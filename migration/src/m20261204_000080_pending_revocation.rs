//! `pending_revocation`: a revoke the platform did not confirm while the creator unlinked, removed
//! or erased an account. The link's tokens are gone already; this row keeps only the one token
//! the platform's revoke endpoint takes, sealed (bound to this row's id), until the
//! `revoke_upstream` job gets an answer or gives up, and is then deleted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PendingRevocation {
    Table,
    Id,
    OrganizationId,
    AccountId,
    Provider,
    TokenKind,
    Token,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PendingRevocation::Table)
                    .if_not_exists()
                    .col(uuid(PendingRevocation::Id).primary_key())
                    .col(uuid(PendingRevocation::OrganizationId))
                    // No foreign key: an erased account is deleted while its revoke is pending.
                    .col(uuid_null(PendingRevocation::AccountId))
                    .col(string_len(PendingRevocation::Provider, 16))
                    .col(string_len(PendingRevocation::TokenKind, 16))
                    .col(text(PendingRevocation::Token))
                    .col(integer(PendingRevocation::Attempts).default(0))
                    .col(timestamp_with_time_zone(PendingRevocation::NextAttemptAt))
                    .col(text_null(PendingRevocation::LastError))
                    .col(timestamp_with_time_zone(PendingRevocation::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pending_revocation_next_attempt_at")
                    .table(PendingRevocation::Table)
                    .col(PendingRevocation::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PendingRevocation::Table).to_owned())
            .await
    }
}

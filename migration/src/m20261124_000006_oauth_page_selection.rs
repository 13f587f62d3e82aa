//! `oauth_state.pending_grant` and `oauth_state.selection_hash`: when a Meta login reaches several
//! Pages, the callback keeps the sealed grant on the state row until the creator picks one Page,
//! and the selection form proves itself with a single-use token stored hashed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthState {
    Table,
    PendingGrant,
    SelectionHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(OauthState::Table)
                    .add_column(text_null(OauthState::PendingGrant))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthState::Table)
                    .add_column(string_null(OauthState::SelectionHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_oauth_state_selection_hash")
                    .table(OauthState::Table)
                    .col(OauthState::SelectionHash)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_oauth_state_selection_hash")
                    .table(OauthState::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthState::Table)
                    .drop_column(OauthState::SelectionHash)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthState::Table)
                    .drop_column(OauthState::PendingGrant)
                    .to_owned(),
            )
            .await
    }
}

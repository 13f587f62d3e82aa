//! Where a creator goes back to after the Connect flow: `organization.connect_return_origins`
//! (the origins, one per line, an admin allows as return URLs) and `connect_invite.return_url`
//! (the checked URL an invite's page offers as "Back to <app>").

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organization {
    Table,
    ConnectReturnOrigins,
}

#[derive(DeriveIden)]
enum ConnectInvite {
    Table,
    ReturnUrl,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organization::Table)
                    .add_column(text_null(Organization::ConnectReturnOrigins))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConnectInvite::Table)
                    .add_column(text_null(ConnectInvite::ReturnUrl))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConnectInvite::Table)
                    .drop_column(ConnectInvite::ReturnUrl)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organization::Table)
                    .drop_column(Organization::ConnectReturnOrigins)
                    .to_owned(),
            )
            .await
    }
}

//! `social_account.followers_hidden`: the creator hides their follower count (YouTube
//! `hiddenSubscriberCount`). The count is then shown as hidden, not as the last one seen.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SocialAccount {
    Table,
    FollowersHidden,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SocialAccount::Table)
                    .add_column(boolean(SocialAccount::FollowersHidden).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SocialAccount::Table)
                    .drop_column(SocialAccount::FollowersHidden)
                    .to_owned(),
            )
            .await
    }
}

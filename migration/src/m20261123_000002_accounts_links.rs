//! Social accounts and their authorizations: `social_account`, `link`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CreatorProfile {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SocialAccount {
    Table,
    Id,
    OrganizationId,
    ProfileId,
    Platform,
    Handle,
    HandleLower,
    Url,
    PlatformUserId,
    DisplayName,
    AvatarUrl,
    Followers,
    PairedAccountId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Link {
    Table,
    Id,
    OrganizationId,
    AccountId,
    Status,
    InvalidReason,
    AuthenticatedAt,
    ExpiresAt,
    ExpiryCause,
    AccessToken,
    RefreshToken,
    AccessTokenExpiresAt,
    RefreshTokenExpiresAt,
    DataAccessExpiresAt,
    RequestedScopes,
    GrantedScopes,
    LastRefreshedAt,
    LastSyncedAt,
    LastError,
    LastErrorAt,
    RefreshFailures,
    NextRefreshAt,
    WarnedAt,
    Version,
    LeaseOwner,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SocialAccount::Table)
                    .col(uuid(SocialAccount::Id).primary_key())
                    .col(uuid(SocialAccount::OrganizationId))
                    .col(uuid_null(SocialAccount::ProfileId))
                    .col(string_len(SocialAccount::Platform, 16))
                    .col(string(SocialAccount::Handle))
                    .col(string(SocialAccount::HandleLower))
                    .col(string(SocialAccount::Url))
                    .col(string_null(SocialAccount::PlatformUserId))
                    .col(string_null(SocialAccount::DisplayName))
                    .col(text_null(SocialAccount::AvatarUrl))
                    .col(big_integer_null(SocialAccount::Followers))
                    .col(uuid_null(SocialAccount::PairedAccountId))
                    .col(timestamp_with_time_zone(SocialAccount::CreatedAt))
                    .col(timestamp_with_time_zone(SocialAccount::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_social_account_organization_id")
                            .from(SocialAccount::Table, SocialAccount::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_social_account_profile_id")
                            .from(SocialAccount::Table, SocialAccount::ProfileId)
                            .to(CreatorProfile::Table, CreatorProfile::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_social_account_paired_account_id")
                            .from(SocialAccount::Table, SocialAccount::PairedAccountId)
                            .to(SocialAccount::Table, SocialAccount::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_social_account_platform_user_id")
                    .table(SocialAccount::Table)
                    .col(SocialAccount::OrganizationId)
                    .col(SocialAccount::Platform)
                    .col(SocialAccount::PlatformUserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_social_account_handle_lower")
                    .table(SocialAccount::Table)
                    .col(SocialAccount::OrganizationId)
                    .col(SocialAccount::Platform)
                    .col(SocialAccount::HandleLower)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_social_account_profile_id")
                    .table(SocialAccount::Table)
                    .col(SocialAccount::ProfileId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Link::Table)
                    .col(uuid(Link::Id).primary_key())
                    .col(uuid(Link::OrganizationId))
                    .col(uuid(Link::AccountId))
                    .col(string_len(Link::Status, 16))
                    .col(string_len_null(Link::InvalidReason, 32))
                    .col(timestamp_with_time_zone_null(Link::AuthenticatedAt))
                    .col(timestamp_with_time_zone_null(Link::ExpiresAt))
                    .col(string_len_null(Link::ExpiryCause, 16))
                    .col(text_null(Link::AccessToken))
                    .col(text_null(Link::RefreshToken))
                    .col(timestamp_with_time_zone_null(Link::AccessTokenExpiresAt))
                    .col(timestamp_with_time_zone_null(Link::RefreshTokenExpiresAt))
                    .col(timestamp_with_time_zone_null(Link::DataAccessExpiresAt))
                    .col(text(Link::RequestedScopes).default(""))
                    .col(text(Link::GrantedScopes).default(""))
                    .col(timestamp_with_time_zone_null(Link::LastRefreshedAt))
                    .col(timestamp_with_time_zone_null(Link::LastSyncedAt))
                    .col(text_null(Link::LastError))
                    .col(timestamp_with_time_zone_null(Link::LastErrorAt))
                    .col(integer(Link::RefreshFailures).default(0))
                    .col(timestamp_with_time_zone_null(Link::NextRefreshAt))
                    .col(timestamp_with_time_zone_null(Link::WarnedAt))
                    .col(big_integer(Link::Version).default(0))
                    .col(string_null(Link::LeaseOwner))
                    .col(timestamp_with_time_zone_null(Link::LeaseUntil))
                    .col(timestamp_with_time_zone(Link::CreatedAt))
                    .col(timestamp_with_time_zone(Link::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_link_organization_id")
                            .from(Link::Table, Link::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_link_account_id")
                            .from(Link::Table, Link::AccountId)
                            .to(SocialAccount::Table, SocialAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_link_account_id")
                    .table(Link::Table)
                    .col(Link::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_status_expires_at")
                    .table(Link::Table)
                    .col(Link::Status)
                    .col(Link::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_access_token_expires_at")
                    .table(Link::Table)
                    .col(Link::AccessTokenExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_organization_id_status")
                    .table(Link::Table)
                    .col(Link::OrganizationId)
                    .col(Link::Status)
                    .to_owned(),
            )
            .await
    }

    // Dropping a table drops its indexes with it.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Link::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SocialAccount::Table).to_owned())
            .await
    }
}

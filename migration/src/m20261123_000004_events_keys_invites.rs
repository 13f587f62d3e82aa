//! The audit log and outbox, and the ways in: `link_event`, `api_key`, `connect_invite`,
//! `oauth_state`.

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
}

#[derive(DeriveIden)]
enum LinkEvent {
    Table,
    Id,
    OrganizationId,
    AccountId,
    ProfileId,
    Platform,
    Kind,
    FromStatus,
    ToStatus,
    Reason,
    Actor,
    Detail,
    OccurredAt,
}

#[derive(DeriveIden)]
enum ApiKey {
    Table,
    Id,
    OrganizationId,
    Name,
    Prefix,
    SecretHash,
    Scopes,
    CampaignIds,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ConnectInvite {
    Table,
    Id,
    OrganizationId,
    ProfileId,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastOpenedAt,
}

#[derive(DeriveIden)]
enum OauthState {
    Table,
    Id,
    OrganizationId,
    StateHash,
    Provider,
    Platform,
    ProfileId,
    AccountId,
    InviteId,
    PkceVerifier,
    RedirectTo,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

/// `organization_id` → `organization.id`, cascading, as every tenant-owned table has it.
fn fk_organization(table: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(table)
        .from_col(Alias::new("organization_id"))
        .to(Organization::Table, Organization::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // BIGINT auto-increment: `bigserial` on PostgreSQL; on SQLite sea-query writes
        // `integer PRIMARY KEY AUTOINCREMENT`, the rowid alias, so ids never go backwards.
        manager
            .create_table(
                Table::create()
                    .table(LinkEvent::Table)
                    .col(big_pk_auto(LinkEvent::Id))
                    .col(uuid(LinkEvent::OrganizationId))
                    .col(uuid_null(LinkEvent::AccountId))
                    .col(uuid_null(LinkEvent::ProfileId))
                    .col(string_len_null(LinkEvent::Platform, 16))
                    .col(string_len(LinkEvent::Kind, 32))
                    .col(string_len_null(LinkEvent::FromStatus, 16))
                    .col(string_len_null(LinkEvent::ToStatus, 16))
                    .col(string_null(LinkEvent::Reason))
                    .col(string(LinkEvent::Actor))
                    .col(json_binary_null(LinkEvent::Detail))
                    .col(timestamp_with_time_zone(LinkEvent::OccurredAt))
                    .foreign_key(&mut fk_organization(
                        LinkEvent::Table,
                        "fk_link_event_organization_id",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_link_event_account_id")
                            .from(LinkEvent::Table, LinkEvent::AccountId)
                            .to(SocialAccount::Table, SocialAccount::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_link_event_profile_id")
                            .from(LinkEvent::Table, LinkEvent::ProfileId)
                            .to(CreatorProfile::Table, CreatorProfile::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_event_organization_id_id")
                    .table(LinkEvent::Table)
                    .col(LinkEvent::OrganizationId)
                    .col(LinkEvent::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_event_account_id_id")
                    .table(LinkEvent::Table)
                    .col(LinkEvent::AccountId)
                    .col(LinkEvent::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKey::Table)
                    .col(uuid(ApiKey::Id).primary_key())
                    .col(uuid(ApiKey::OrganizationId))
                    .col(string(ApiKey::Name))
                    .col(string_len(ApiKey::Prefix, 32))
                    .col(string(ApiKey::SecretHash))
                    .col(text(ApiKey::Scopes))
                    .col(json_binary_null(ApiKey::CampaignIds))
                    .col(string_null(ApiKey::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKey::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKey::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKey::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKey::RevokedAt))
                    .foreign_key(&mut fk_organization(
                        ApiKey::Table,
                        "fk_api_key_organization_id",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_api_key_prefix")
                    .table(ApiKey::Table)
                    .col(ApiKey::Prefix)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConnectInvite::Table)
                    .col(uuid(ConnectInvite::Id).primary_key())
                    .col(uuid(ConnectInvite::OrganizationId))
                    .col(uuid(ConnectInvite::ProfileId))
                    .col(string(ConnectInvite::TokenHash))
                    .col(string_null(ConnectInvite::CreatedBy))
                    .col(timestamp_with_time_zone(ConnectInvite::CreatedAt))
                    .col(timestamp_with_time_zone(ConnectInvite::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ConnectInvite::RevokedAt))
                    .col(timestamp_with_time_zone_null(ConnectInvite::LastOpenedAt))
                    .foreign_key(&mut fk_organization(
                        ConnectInvite::Table,
                        "fk_connect_invite_organization_id",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_connect_invite_profile_id")
                            .from(ConnectInvite::Table, ConnectInvite::ProfileId)
                            .to(CreatorProfile::Table, CreatorProfile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_connect_invite_token_hash")
                    .table(ConnectInvite::Table)
                    .col(ConnectInvite::TokenHash)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthState::Table)
                    .col(uuid(OauthState::Id).primary_key())
                    .col(uuid(OauthState::OrganizationId))
                    .col(string(OauthState::StateHash))
                    .col(string_len(OauthState::Provider, 16))
                    .col(string_len_null(OauthState::Platform, 16))
                    .col(uuid(OauthState::ProfileId))
                    .col(uuid_null(OauthState::AccountId))
                    .col(uuid_null(OauthState::InviteId))
                    .col(text_null(OauthState::PkceVerifier))
                    .col(text_null(OauthState::RedirectTo))
                    .col(timestamp_with_time_zone(OauthState::CreatedAt))
                    .col(timestamp_with_time_zone(OauthState::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthState::UsedAt))
                    .foreign_key(&mut fk_organization(
                        OauthState::Table,
                        "fk_oauth_state_organization_id",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_state_profile_id")
                            .from(OauthState::Table, OauthState::ProfileId)
                            .to(CreatorProfile::Table, CreatorProfile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_state_account_id")
                            .from(OauthState::Table, OauthState::AccountId)
                            .to(SocialAccount::Table, SocialAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_state_invite_id")
                            .from(OauthState::Table, OauthState::InviteId)
                            .to(ConnectInvite::Table, ConnectInvite::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_oauth_state_state_hash")
                    .table(OauthState::Table)
                    .col(OauthState::StateHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_oauth_state_expires_at")
                    .table(OauthState::Table)
                    .col(OauthState::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    // Dropping a table drops its indexes with it.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OauthState::Table.into_iden(),
            ConnectInvite::Table.into_iden(),
            ApiKey::Table.into_iden(),
            LinkEvent::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

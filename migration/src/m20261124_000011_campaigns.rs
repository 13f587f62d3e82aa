//! Campaigns (issue 10): `campaign`, `campaign_profile` (who takes part), `campaign_post_url`
//! (explicit post links, a tracking rule of their own) and `campaign_content` (the media a rule
//! matched, once per campaign, with removals kept for audit and the pull schedule).

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
enum Media {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    OrganizationId,
    Name,
    Brand,
    StartsAt,
    EndsAt,
    Status,
    Hashtags,
    Mentions,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CampaignProfile {
    Table,
    OrganizationId,
    CampaignId,
    ProfileId,
    AddedAt,
}

#[derive(DeriveIden)]
enum CampaignPostUrl {
    Table,
    Id,
    OrganizationId,
    CampaignId,
    Platform,
    MediaKey,
    Url,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden)]
enum CampaignContent {
    Table,
    Id,
    OrganizationId,
    CampaignId,
    MediaId,
    AccountId,
    ProfileId,
    MatchedBy,
    MatchedRule,
    MatchedAt,
    RemovedAt,
    RemovedBy,
    LastPulledAt,
    NextPullAt,
}

fn fk(
    name: &str,
    from_table: impl IntoIden + 'static,
    from_col: &str,
    to_table: impl IntoIden + 'static,
    to_col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(from_table)
        .from_col(Alias::new(from_col))
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .col(uuid(Campaign::Id).primary_key())
                    .col(uuid(Campaign::OrganizationId))
                    .col(text(Campaign::Name))
                    .col(text(Campaign::Brand))
                    .col(timestamp_with_time_zone(Campaign::StartsAt))
                    .col(timestamp_with_time_zone(Campaign::EndsAt))
                    .col(string_len(Campaign::Status, 16))
                    .col(text(Campaign::Hashtags))
                    .col(text(Campaign::Mentions))
                    .col(timestamp_with_time_zone(Campaign::CreatedAt))
                    .col(timestamp_with_time_zone(Campaign::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_campaign_organization_id",
                        Campaign::Table,
                        "organization_id",
                        Organization::Table,
                        Organization::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_campaign_organization_id_status")
                    .table(Campaign::Table)
                    .col(Campaign::OrganizationId)
                    .col(Campaign::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignProfile::Table)
                    .col(uuid(CampaignProfile::OrganizationId))
                    .col(uuid(CampaignProfile::CampaignId))
                    .col(uuid(CampaignProfile::ProfileId))
                    .col(timestamp_with_time_zone(CampaignProfile::AddedAt))
                    .primary_key(
                        Index::create()
                            .col(CampaignProfile::CampaignId)
                            .col(CampaignProfile::ProfileId),
                    )
                    .foreign_key(&mut fk(
                        "fk_campaign_profile_organization_id",
                        CampaignProfile::Table,
                        "organization_id",
                        Organization::Table,
                        Organization::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_profile_campaign_id",
                        CampaignProfile::Table,
                        "campaign_id",
                        Campaign::Table,
                        Campaign::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_profile_profile_id",
                        CampaignProfile::Table,
                        "profile_id",
                        CreatorProfile::Table,
                        CreatorProfile::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_campaign_profile_profile_id")
                    .table(CampaignProfile::Table)
                    .col(CampaignProfile::ProfileId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignPostUrl::Table)
                    .col(uuid(CampaignPostUrl::Id).primary_key())
                    .col(uuid(CampaignPostUrl::OrganizationId))
                    .col(uuid(CampaignPostUrl::CampaignId))
                    .col(string_len(CampaignPostUrl::Platform, 16))
                    .col(string(CampaignPostUrl::MediaKey))
                    .col(text(CampaignPostUrl::Url))
                    .col(string(CampaignPostUrl::AddedBy))
                    .col(timestamp_with_time_zone(CampaignPostUrl::AddedAt))
                    .foreign_key(&mut fk(
                        "fk_campaign_post_url_organization_id",
                        CampaignPostUrl::Table,
                        "organization_id",
                        Organization::Table,
                        Organization::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_post_url_campaign_id",
                        CampaignPostUrl::Table,
                        "campaign_id",
                        Campaign::Table,
                        Campaign::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_campaign_post_url_campaign_platform_key")
                    .table(CampaignPostUrl::Table)
                    .col(CampaignPostUrl::CampaignId)
                    .col(CampaignPostUrl::Platform)
                    .col(CampaignPostUrl::MediaKey)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignContent::Table)
                    .col(uuid(CampaignContent::Id).primary_key())
                    .col(uuid(CampaignContent::OrganizationId))
                    .col(uuid(CampaignContent::CampaignId))
                    .col(uuid(CampaignContent::MediaId))
                    .col(uuid(CampaignContent::AccountId))
                    .col(uuid_null(CampaignContent::ProfileId))
                    .col(string_len(CampaignContent::MatchedBy, 16))
                    .col(text_null(CampaignContent::MatchedRule))
                    .col(timestamp_with_time_zone(CampaignContent::MatchedAt))
                    .col(timestamp_with_time_zone_null(CampaignContent::RemovedAt))
                    .col(string_null(CampaignContent::RemovedBy))
                    .col(timestamp_with_time_zone_null(CampaignContent::LastPulledAt))
                    .col(timestamp_with_time_zone_null(CampaignContent::NextPullAt))
                    .foreign_key(&mut fk(
                        "fk_campaign_content_organization_id",
                        CampaignContent::Table,
                        "organization_id",
                        Organization::Table,
                        Organization::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_content_campaign_id",
                        CampaignContent::Table,
                        "campaign_id",
                        Campaign::Table,
                        Campaign::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_content_media_id",
                        CampaignContent::Table,
                        "media_id",
                        Media::Table,
                        Media::Id,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaign_content_account_id",
                        CampaignContent::Table,
                        "account_id",
                        SocialAccount::Table,
                        SocialAccount::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_campaign_content_campaign_id_media_id")
                    .table(CampaignContent::Table)
                    .col(CampaignContent::CampaignId)
                    .col(CampaignContent::MediaId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_campaign_content_next_pull_at")
                    .table(CampaignContent::Table)
                    .col(CampaignContent::NextPullAt)
                    .to_owned(),
            )
            .await
    }

    // Dropping a table drops its indexes with it; children first.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CampaignContent::Table.into_iden(),
            CampaignPostUrl::Table.into_iden(),
            CampaignProfile::Table.into_iden(),
            Campaign::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! What the pulls bring back and how they went: `metric_snapshot`, `media`, `media_metric`,
//! `audience`, `sync_state`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SocialAccount {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MetricSnapshot {
    Table,
    Id,
    OrganizationId,
    AccountId,
    Day,
    Followers,
    Views,
    Reach,
    Engagements,
    VideoViews,
    Likes,
    Comments,
    Shares,
    Saves,
    Extra,
    FetchedAt,
}

// `MediaUrl` names the column `media.media_url`.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
    OrganizationId,
    AccountId,
    PlatformMediaId,
    Kind,
    Caption,
    Permalink,
    MediaUrl,
    ThumbnailUrl,
    TakenAt,
    ExpiresAt,
    FirstSeenAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MediaMetric {
    Table,
    Id,
    OrganizationId,
    MediaId,
    CapturedAt,
    Views,
    Reach,
    Likes,
    Comments,
    Shares,
    Saves,
    Engagements,
    VideoViews,
    Replies,
    Extra,
}

#[derive(DeriveIden)]
enum Audience {
    Table,
    Id,
    OrganizationId,
    AccountId,
    UnavailableReason,
    Age,
    Gender,
    Country,
    FetchedAt,
}

#[derive(DeriveIden)]
enum SyncState {
    Table,
    OrganizationId,
    AccountId,
    Resource,
    LastSuccessAt,
    LastErrorAt,
    LastError,
    ConsecutiveFailures,
    NextRunAt,
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

/// `account_id` → `social_account.id`, cascading.
fn fk_account(table: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(table)
        .from_col(Alias::new("account_id"))
        .to(SocialAccount::Table, SocialAccount::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MetricSnapshot::Table)
                    .col(uuid(MetricSnapshot::Id).primary_key())
                    .col(uuid(MetricSnapshot::OrganizationId))
                    .col(uuid(MetricSnapshot::AccountId))
                    .col(date(MetricSnapshot::Day))
                    .col(big_integer_null(MetricSnapshot::Followers))
                    .col(big_integer_null(MetricSnapshot::Views))
                    .col(big_integer_null(MetricSnapshot::Reach))
                    .col(big_integer_null(MetricSnapshot::Engagements))
                    .col(big_integer_null(MetricSnapshot::VideoViews))
                    .col(big_integer_null(MetricSnapshot::Likes))
                    .col(big_integer_null(MetricSnapshot::Comments))
                    .col(big_integer_null(MetricSnapshot::Shares))
                    .col(big_integer_null(MetricSnapshot::Saves))
                    .col(json_binary_null(MetricSnapshot::Extra))
                    .col(timestamp_with_time_zone(MetricSnapshot::FetchedAt))
                    .foreign_key(&mut fk_organization(
                        MetricSnapshot::Table,
                        "fk_metric_snapshot_organization_id",
                    ))
                    .foreign_key(&mut fk_account(
                        MetricSnapshot::Table,
                        "fk_metric_snapshot_account_id",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_metric_snapshot_account_id_day")
                    .table(MetricSnapshot::Table)
                    .col(MetricSnapshot::AccountId)
                    .col(MetricSnapshot::Day)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(uuid(Media::Id).primary_key())
                    .col(uuid(Media::OrganizationId))
                    .col(uuid(Media::AccountId))
                    .col(string(Media::PlatformMediaId))
                    .col(string_len(Media::Kind, 16))
                    .col(text_null(Media::Caption))
                    .col(text_null(Media::Permalink))
                    .col(text_null(Media::MediaUrl))
                    .col(text_null(Media::ThumbnailUrl))
                    .col(timestamp_with_time_zone(Media::TakenAt))
                    .col(timestamp_with_time_zone_null(Media::ExpiresAt))
                    .col(timestamp_with_time_zone(Media::FirstSeenAt))
                    .col(timestamp_with_time_zone(Media::UpdatedAt))
                    .foreign_key(&mut fk_organization(
                        Media::Table,
                        "fk_media_organization_id",
                    ))
                    .foreign_key(&mut fk_account(Media::Table, "fk_media_account_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_media_account_id_platform_media_id")
                    .table(Media::Table)
                    .col(Media::AccountId)
                    .col(Media::PlatformMediaId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_media_account_id_taken_at")
                    .table(Media::Table)
                    .col(Media::AccountId)
                    .col(Media::TakenAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_media_kind_expires_at")
                    .table(Media::Table)
                    .col(Media::Kind)
                    .col(Media::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MediaMetric::Table)
                    .col(uuid(MediaMetric::Id).primary_key())
                    .col(uuid(MediaMetric::OrganizationId))
                    .col(uuid(MediaMetric::MediaId))
                    .col(timestamp_with_time_zone(MediaMetric::CapturedAt))
                    .col(big_integer_null(MediaMetric::Views))
                    .col(big_integer_null(MediaMetric::Reach))
                    .col(big_integer_null(MediaMetric::Likes))
                    .col(big_integer_null(MediaMetric::Comments))
                    .col(big_integer_null(MediaMetric::Shares))
                    .col(big_integer_null(MediaMetric::Saves))
                    .col(big_integer_null(MediaMetric::Engagements))
                    .col(big_integer_null(MediaMetric::VideoViews))
                    .col(big_integer_null(MediaMetric::Replies))
                    .col(json_binary_null(MediaMetric::Extra))
                    .foreign_key(&mut fk_organization(
                        MediaMetric::Table,
                        "fk_media_metric_organization_id",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_metric_media_id")
                            .from(MediaMetric::Table, MediaMetric::MediaId)
                            .to(Media::Table, Media::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_media_metric_media_id_captured_at")
                    .table(MediaMetric::Table)
                    .col(MediaMetric::MediaId)
                    .col(MediaMetric::CapturedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Audience::Table)
                    .col(uuid(Audience::Id).primary_key())
                    .col(uuid(Audience::OrganizationId))
                    .col(uuid(Audience::AccountId))
                    .col(text_null(Audience::UnavailableReason))
                    .col(json_binary_null(Audience::Age))
                    .col(json_binary_null(Audience::Gender))
                    .col(json_binary_null(Audience::Country))
                    .col(timestamp_with_time_zone(Audience::FetchedAt))
                    .foreign_key(&mut fk_organization(
                        Audience::Table,
                        "fk_audience_organization_id",
                    ))
                    .foreign_key(&mut fk_account(Audience::Table, "fk_audience_account_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .unique()
                    .name("ux_audience_account_id")
                    .table(Audience::Table)
                    .col(Audience::AccountId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SyncState::Table)
                    .col(uuid(SyncState::OrganizationId))
                    .col(uuid(SyncState::AccountId))
                    .col(string_len(SyncState::Resource, 16))
                    .col(timestamp_with_time_zone_null(SyncState::LastSuccessAt))
                    .col(timestamp_with_time_zone_null(SyncState::LastErrorAt))
                    .col(text_null(SyncState::LastError))
                    .col(integer(SyncState::ConsecutiveFailures).default(0))
                    .col(timestamp_with_time_zone_null(SyncState::NextRunAt))
                    .primary_key(
                        Index::create()
                            .col(SyncState::AccountId)
                            .col(SyncState::Resource),
                    )
                    .foreign_key(&mut fk_organization(
                        SyncState::Table,
                        "fk_sync_state_organization_id",
                    ))
                    .foreign_key(&mut fk_account(
                        SyncState::Table,
                        "fk_sync_state_account_id",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sync_state_resource_next_run_at")
                    .table(SyncState::Table)
                    .col(SyncState::Resource)
                    .col(SyncState::NextRunAt)
                    .to_owned(),
            )
            .await
    }

    // Dropping a table drops its indexes with it.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SyncState::Table.into_iden(),
            Audience::Table.into_iden(),
            MediaMetric::Table.into_iden(),
            Media::Table.into_iden(),
            MetricSnapshot::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

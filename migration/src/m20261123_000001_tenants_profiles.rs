//! Tenants and creator profiles: `organization`, `creator_profile`, `creator_profile_member`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CreatorProfile {
    Table,
    Id,
    OrganizationId,
    Kind,
    Name,
    Email,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CreatorProfileMember {
    Table,
    OrganizationId,
    GroupId,
    MemberId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organization::Table)
                    .col(uuid(Organization::Id).primary_key())
                    .col(string(Organization::Name))
                    .col(timestamp_with_time_zone(Organization::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CreatorProfile::Table)
                    .col(uuid(CreatorProfile::Id).primary_key())
                    .col(uuid(CreatorProfile::OrganizationId))
                    .col(string_len(CreatorProfile::Kind, 16))
                    .col(string(CreatorProfile::Name))
                    .col(string_null(CreatorProfile::Email))
                    .col(text_null(CreatorProfile::Notes))
                    .col(timestamp_with_time_zone(CreatorProfile::CreatedAt))
                    .col(timestamp_with_time_zone(CreatorProfile::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_creator_profile_organization_id")
                            .from(CreatorProfile::Table, CreatorProfile::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_creator_profile_organization_id_name")
                    .table(CreatorProfile::Table)
                    .col(CreatorProfile::OrganizationId)
                    .col(CreatorProfile::Name)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CreatorProfileMember::Table)
                    .col(uuid(CreatorProfileMember::OrganizationId))
                    .col(uuid(CreatorProfileMember::GroupId))
                    .col(uuid(CreatorProfileMember::MemberId))
                    .col(timestamp_with_time_zone(CreatorProfileMember::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CreatorProfileMember::GroupId)
                            .col(CreatorProfileMember::MemberId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_creator_profile_member_organization_id")
                            .from(
                                CreatorProfileMember::Table,
                                CreatorProfileMember::OrganizationId,
                            )
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_creator_profile_member_group_id")
                            .from(CreatorProfileMember::Table, CreatorProfileMember::GroupId)
                            .to(CreatorProfile::Table, CreatorProfile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_creator_profile_member_member_id")
                            .from(CreatorProfileMember::Table, CreatorProfileMember::MemberId)
                            .to(CreatorProfile::Table, CreatorProfile::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_creator_profile_member_member_id")
                    .table(CreatorProfileMember::Table)
                    .col(CreatorProfileMember::MemberId)
                    .to_owned(),
            )
            .await
    }

    // Dropping a table drops its indexes with it.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CreatorProfileMember::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CreatorProfile::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organization::Table).to_owned())
            .await
    }
}

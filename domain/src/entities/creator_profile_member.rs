//! `creator_profile_member`: which profiles a GROUP profile lists.

use sea_orm::entity::prelude::*;

/// One membership of `member_id` in the group profile `group_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "creator_profile_member")]
pub struct Model {
    pub organization_id: Uuid,
    /// The GROUP profile.
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    /// The member profile (usually INDIVIDUAL).
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    #[sea_orm(
        belongs_to = "super::creator_profile::Entity",
        from = "Column::GroupId",
        to = "super::creator_profile::Column::Id",
        on_delete = "Cascade"
    )]
    Group,
    #[sea_orm(
        belongs_to = "super::creator_profile::Entity",
        from = "Column::MemberId",
        to = "super::creator_profile::Column::Id",
        on_delete = "Cascade"
    )]
    Member,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

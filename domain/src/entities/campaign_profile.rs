//! `campaign_profile`: the creator profiles taking part in a campaign.

use sea_orm::entity::prelude::*;

/// One participating profile of one campaign.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_profile")]
pub struct Model {
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::campaign::Entity",
        from = "Column::CampaignId",
        to = "super::campaign::Column::Id",
        on_delete = "Cascade"
    )]
    Campaign,
    #[sea_orm(
        belongs_to = "super::creator_profile::Entity",
        from = "Column::ProfileId",
        to = "super::creator_profile::Column::Id",
        on_delete = "Cascade"
    )]
    CreatorProfile,
}

impl Related<super::campaign::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl Related<super::creator_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatorProfile.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

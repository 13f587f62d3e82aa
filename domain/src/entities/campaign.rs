//! `campaign`: a brand's campaign in one organization, with its dates, status and caption rules.

use sea_orm::entity::prelude::*;

use crate::kinds::CampaignStatus;

/// A campaign. `hashtags` and `mentions` are space-separated, lower-cased, without `#`/`@`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub brand: String,
    /// Content taken at or after this instant can match.
    pub starts_at: DateTimeUtc,
    /// Content taken at or before this instant can match.
    pub ends_at: DateTimeUtc,
    pub status: CampaignStatus,
    #[sea_orm(column_type = "Text")]
    pub hashtags: String,
    #[sea_orm(column_type = "Text")]
    pub mentions: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
    #[sea_orm(has_many = "super::campaign_profile::Entity")]
    CampaignProfile,
    #[sea_orm(has_many = "super::campaign_content::Entity")]
    CampaignContent,
    #[sea_orm(has_many = "super::campaign_post_url::Entity")]
    CampaignPostUrl,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::campaign_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CampaignProfile.def()
    }
}

impl Related<super::campaign_content::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CampaignContent.def()
    }
}

impl Related<super::campaign_post_url::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CampaignPostUrl.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! `campaign_post_url`: posts added to a campaign by their link, kept as a rule so that a post
//! not pulled yet is matched as soon as it is.

use sea_orm::entity::prelude::*;

use crate::kinds::Platform;

/// One explicit post link of a campaign, unique per (campaign, platform, media key).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_post_url")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub platform: Platform,
    /// The shortcode (Instagram) or id (TikTok, YouTube, Facebook) the link names.
    pub media_key: String,
    /// The canonical link.
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// Who added it (an actor label).
    pub added_by: String,
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
}

impl Related<super::campaign::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

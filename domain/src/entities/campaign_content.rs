//! `campaign_content`: a media item a campaign tracks, recorded once per (campaign, media).

use sea_orm::entity::prelude::*;

use crate::kinds::MatchedBy;

/// A match of a media item by a campaign rule. Removing it sets `removed_at`/`removed_by` instead
/// of deleting the row, so the removal is audited and the rules never match the item again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_content")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub media_id: Uuid,
    pub account_id: Uuid,
    /// The participating profile holding the account when the match was made.
    pub profile_id: Option<Uuid>,
    pub matched_by: MatchedBy,
    /// The hashtag, mention or link that matched.
    #[sea_orm(column_type = "Text", nullable)]
    pub matched_rule: Option<String>,
    pub matched_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
    /// Who removed it (an actor label).
    pub removed_by: Option<String>,
    /// When the metrics job last pulled this item's metrics for the campaign.
    pub last_pulled_at: Option<DateTimeUtc>,
    /// When the next pull is due (`campaigns::cadence`); `None` once tracking is over.
    pub next_pull_at: Option<DateTimeUtc>,
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
        belongs_to = "super::media::Entity",
        from = "Column::MediaId",
        to = "super::media::Column::Id",
        on_delete = "Cascade"
    )]
    Media,
    #[sea_orm(
        belongs_to = "super::social_account::Entity",
        from = "Column::AccountId",
        to = "super::social_account::Column::Id",
        on_delete = "Cascade"
    )]
    SocialAccount,
}

impl Related<super::campaign::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl Related<super::media::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Media.def()
    }
}

impl Related<super::social_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SocialAccount.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

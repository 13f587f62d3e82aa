//! `media`: posts, reels, videos and stories, one row per (account_id, platform_media_id).

use sea_orm::entity::prelude::*;

use crate::kinds::MediaKind;

/// A piece of content an account published. Re-pulls update the row, never duplicate it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub account_id: Uuid,
    /// The platform's id for the item.
    pub platform_media_id: String,
    pub kind: MediaKind,
    #[sea_orm(column_type = "Text", nullable)]
    pub caption: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub permalink: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub media_url: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub thumbnail_url: Option<String>,
    pub taken_at: DateTimeUtc,
    /// Stories only: taken_at + 24 h, when the platform stops serving the story and its insights.
    pub expires_at: Option<DateTimeUtc>,
    pub first_seen_at: DateTimeUtc,
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
    #[sea_orm(
        belongs_to = "super::social_account::Entity",
        from = "Column::AccountId",
        to = "super::social_account::Column::Id",
        on_delete = "Cascade"
    )]
    SocialAccount,
    #[sea_orm(has_many = "super::media_metric::Entity")]
    MediaMetric,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::social_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SocialAccount.def()
    }
}

impl Related<super::media_metric::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MediaMetric.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

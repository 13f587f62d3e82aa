//! `social_account`: one account on one platform, held by at most one profile of an organization.

use sea_orm::entity::prelude::*;

use crate::kinds::Platform;

/// An Instagram, Facebook, TikTok or YouTube account. Unique per organization on
/// (platform, platform_user_id) and on (platform, handle_lower), so an account cannot sit on two
/// profiles at once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "social_account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The holding profile; `None` once the account is detached (removed from its profile).
    pub profile_id: Option<Uuid>,
    pub platform: Platform,
    /// The handle in its canonical display form (no `@`, platform casing).
    pub handle: String,
    /// `handle` lower-cased: the uniqueness and lookup key.
    pub handle_lower: String,
    /// The canonical profile URL.
    pub url: String,
    /// The platform's own id for the account, known once it has been connected or looked up.
    pub platform_user_id: Option<String>,
    pub display_name: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub avatar_url: Option<String>,
    pub followers: Option<i64>,
    /// The creator hides the count (YouTube `hiddenSubscriberCount`): `followers` is then null
    /// and shown as hidden, never as the last count seen.
    pub followers_hidden: bool,
    /// The other half of a Facebook Page / Instagram professional account pair linked in one
    /// Meta connect.
    pub paired_account_id: Option<Uuid>,
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
    #[sea_orm(
        belongs_to = "super::creator_profile::Entity",
        from = "Column::ProfileId",
        to = "super::creator_profile::Column::Id",
        on_delete = "SetNull"
    )]
    CreatorProfile,
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::PairedAccountId",
        to = "Column::Id",
        on_delete = "SetNull"
    )]
    PairedAccount,
    #[sea_orm(has_one = "super::link::Entity")]
    Link,
    #[sea_orm(has_one = "super::audience::Entity")]
    Audience,
    #[sea_orm(has_many = "super::media::Entity")]
    Media,
    #[sea_orm(has_many = "super::metric_snapshot::Entity")]
    MetricSnapshot,
    #[sea_orm(has_many = "super::sync_state::Entity")]
    SyncState,
    #[sea_orm(has_many = "super::link_event::Entity")]
    LinkEvent,
    #[sea_orm(has_many = "super::oauth_state::Entity")]
    OauthState,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::creator_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatorProfile.def()
    }
}

impl Related<super::link::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Link.def()
    }
}

impl Related<super::audience::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Audience.def()
    }
}

impl Related<super::media::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Media.def()
    }
}

impl Related<super::metric_snapshot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MetricSnapshot.def()
    }
}

impl Related<super::sync_state::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SyncState.def()
    }
}

impl Related<super::link_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LinkEvent.def()
    }
}

impl Related<super::oauth_state::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OauthState.def()
    }
}

/// From an account to its Page/Instagram pair (`account.find_linked(PairedAccount)`).
#[derive(Debug, Clone, Copy)]
pub struct PairedAccount;

impl Linked for PairedAccount {
    type FromEntity = Entity;
    type ToEntity = Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::PairedAccount.def()]
    }
}

impl ActiveModelBehavior for ActiveModel {}

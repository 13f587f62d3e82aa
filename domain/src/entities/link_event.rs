//! `link_event`: the append-only audit log that doubles as the outbox for subscriptions and
//! webhooks.

use sea_orm::entity::prelude::*;

use crate::kinds::{LinkStatus, Platform};

/// One recorded change, written in the same transaction as the change itself. `id` is
/// database-assigned and increasing, so consumers page through the outbox by it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link_event")]
pub struct Model {
    /// BIGINT auto-increment: leave it `NotSet` on insert and read it back from the result.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: Uuid,
    /// `None` once the account is deleted; the event stays.
    pub account_id: Option<Uuid>,
    /// The profile holding the account when the event happened.
    pub profile_id: Option<Uuid>,
    pub platform: Option<Platform>,
    /// `STATUS_CHANGED`, `EXPIRING_SOON_WARNING`, `FRESHNESS`, …
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub kind: String,
    pub from_status: Option<LinkStatus>,
    pub to_status: Option<LinkStatus>,
    /// Why, e.g. an `InvalidReason` name.
    pub reason: Option<String>,
    /// Who caused it: `user:<sub>`, `key:<prefix>`, `system:<job>`.
    pub actor: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub detail: Option<Json>,
    pub occurred_at: DateTimeUtc,
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
        on_delete = "SetNull"
    )]
    SocialAccount,
    #[sea_orm(
        belongs_to = "super::creator_profile::Entity",
        from = "Column::ProfileId",
        to = "super::creator_profile::Column::Id",
        on_delete = "SetNull"
    )]
    CreatorProfile,
    #[sea_orm(has_many = "super::webhook_delivery::Entity")]
    WebhookDelivery,
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

impl Related<super::creator_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatorProfile.def()
    }
}

impl Related<super::webhook_delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookDelivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! `audience`: an account's latest audience breakdown, one row per account.

use sea_orm::entity::prelude::*;

/// Age, gender and country shares of an account's audience, or why the platform withholds them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audience")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    #[sea_orm(unique)]
    pub account_id: Uuid,
    /// Why there is no breakdown (e.g. a YouTube channel under 1K subscribers); `None` when the
    /// shares are present.
    #[sea_orm(column_type = "Text", nullable)]
    pub unavailable_reason: Option<String>,
    /// Shares by age bucket, e.g. `{"18-24": 0.31, …}`.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub age: Option<Json>,
    /// Shares by gender, e.g. `{"F": 0.62, "M": 0.36, "U": 0.02}`.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub gender: Option<Json>,
    /// Shares by ISO 3166-1 alpha-2 country code.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub country: Option<Json>,
    pub fetched_at: DateTimeUtc,
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

impl ActiveModelBehavior for ActiveModel {}

//! `organization`: a tenant, the brand or agency workspace. Every other row carries its id.

use sea_orm::entity::prelude::*;

/// A tenant. No query may cross from one organization into another.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTimeUtc,
    /// Origins (`https://app.example`), one per line, allowed as return URLs of the Connect
    /// flow (`returnUrl` of `startConnect` and invites).
    pub connect_return_origins: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::creator_profile::Entity")]
    CreatorProfile,
    #[sea_orm(has_many = "super::social_account::Entity")]
    SocialAccount,
    #[sea_orm(has_many = "super::api_key::Entity")]
    ApiKey,
    #[sea_orm(has_many = "super::webhook_endpoint::Entity")]
    WebhookEndpoint,
}

impl Related<super::creator_profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatorProfile.def()
    }
}

impl Related<super::social_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SocialAccount.def()
    }
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl Related<super::webhook_endpoint::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WebhookEndpoint.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! `connect_invite`: a signed, expiring link to the hosted Connect page for one profile.

use sea_orm::entity::prelude::*;

/// An invite to connect accounts to a profile. Only the token's hash is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connect_invite")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub profile_id: Uuid,
    /// Hex SHA-256 of the invite token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The actor that created the invite.
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_opened_at: Option<DateTimeUtc>,
    /// Where the page's "Back to <app>" goes: a URL on an origin the organization allows.
    pub return_url: Option<String>,
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
        on_delete = "Cascade"
    )]
    CreatorProfile,
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

impl Related<super::oauth_state::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OauthState.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

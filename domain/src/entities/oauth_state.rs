//! `oauth_state`: one started OAuth authorization, random, single use and short-lived.

use sea_orm::entity::prelude::*;

use crate::kinds::Platform;

/// The server side of an OAuth `state` parameter: what the callback is allowed to do.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Hex SHA-256 of the `state` value sent to the provider.
    #[sea_orm(unique)]
    pub state_hash: String,
    /// `meta`, `tiktok` or `google` (`Provider::as_str`).
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub provider: String,
    /// The platform the user asked to connect, when one was chosen.
    pub platform: Option<Platform>,
    pub profile_id: Uuid,
    /// Set when reconnecting an existing account.
    pub account_id: Option<Uuid>,
    /// Set when the flow started from a Connect invite.
    pub invite_id: Option<Uuid>,
    /// The PKCE code verifier, sealed by the token vault.
    #[sea_orm(column_type = "Text", nullable)]
    pub pkce_verifier: Option<String>,
    /// Where to send the user afterwards (checked against the allow list).
    #[sea_orm(column_type = "Text", nullable)]
    pub redirect_to: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when the callback consumed the state; a second use is refused.
    pub used_at: Option<DateTimeUtc>,
    /// A Meta grant waiting for the creator to pick a Page: the token set as JSON, sealed by the
    /// vault (kind `access`, bound to this row). Cleared when a Page is picked.
    #[sea_orm(column_type = "Text", nullable)]
    pub pending_grant: Option<String>,
    /// SHA-256 (hex) of the single-use token the Page selection form carries.
    #[sea_orm(unique)]
    pub selection_hash: Option<String>,
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
    #[sea_orm(
        belongs_to = "super::social_account::Entity",
        from = "Column::AccountId",
        to = "super::social_account::Column::Id",
        on_delete = "Cascade"
    )]
    SocialAccount,
    #[sea_orm(
        belongs_to = "super::connect_invite::Entity",
        from = "Column::InviteId",
        to = "super::connect_invite::Column::Id",
        on_delete = "Cascade"
    )]
    ConnectInvite,
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

impl Related<super::social_account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SocialAccount.def()
    }
}

impl Related<super::connect_invite::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ConnectInvite.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

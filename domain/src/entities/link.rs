//! `link`: the authorization of one social account (design §4), one row per account.

use sea_orm::entity::prelude::*;

use crate::kinds::{InvalidReason, LinkStatus};

/// The authorization of one account: status, the 90-day window, sealed tokens and their expiries,
/// scopes, refresh bookkeeping and the refresh lease.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    #[sea_orm(unique)]
    pub account_id: Uuid,
    /// The last materialized status; readers derive the current one from this row and the clock.
    pub status: LinkStatus,
    /// Why the link is INVALID; `None` otherwise.
    pub invalid_reason: Option<InvalidReason>,
    pub authenticated_at: Option<DateTimeUtc>,
    /// The earliest of authenticated_at + 90 days, Meta's data-access expiry and the refresh
    /// token's expiry.
    pub expires_at: Option<DateTimeUtc>,
    /// Which bound set `expires_at`: `NINETY_DAYS`, `DATA_ACCESS` or `REFRESH_TOKEN`.
    #[sea_orm(column_type = "String(StringLen::N(16))", nullable)]
    pub expiry_cause: Option<String>,
    /// Sealed by the token vault (base64); never the plain token.
    #[sea_orm(column_type = "Text", nullable)]
    pub access_token: Option<String>,
    /// Sealed by the token vault (base64); never the plain token.
    #[sea_orm(column_type = "Text", nullable)]
    pub refresh_token: Option<String>,
    pub access_token_expires_at: Option<DateTimeUtc>,
    pub refresh_token_expires_at: Option<DateTimeUtc>,
    /// Meta's data-access expiry (90 days after the user last used the app with us).
    pub data_access_expires_at: Option<DateTimeUtc>,
    /// Space-separated scopes asked for in the last connect.
    #[sea_orm(column_type = "Text")]
    pub requested_scopes: String,
    /// Space-separated scopes the platform granted.
    #[sea_orm(column_type = "Text")]
    pub granted_scopes: String,
    /// The platform's id for the user who granted this link (Meta app-scoped user id, TikTok
    /// `open_id`, Google subject): how a deauthorize callback naming a user finds its links.
    pub provider_user_id: Option<String>,
    pub last_refreshed_at: Option<DateTimeUtc>,
    pub last_synced_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTimeUtc>,
    /// Transient refresh failures in a row; reset by a successful refresh.
    pub refresh_failures: i32,
    pub next_refresh_at: Option<DateTimeUtc>,
    /// When the expiring-soon warning was last emitted, so each warning is emitted once.
    pub warned_at: Option<DateTimeUtc>,
    /// Bumped on every token write; refreshes compare-and-set on it.
    pub version: i64,
    /// The worker holding the refresh lease.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
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

impl ActiveModel {
    /// A new NOT_LINKED link of account `account_id`, created at `at`: no tokens, no
    /// authentication, version 0. Connecting (or a seed) sets the rest.
    pub fn not_linked(organization_id: Uuid, account_id: Uuid, at: DateTimeUtc) -> ActiveModel {
        use sea_orm::Set;
        ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            account_id: Set(account_id),
            provider_user_id: Set(None),
            status: Set(LinkStatus::NotLinked),
            invalid_reason: Set(None),
            authenticated_at: Set(None),
            expires_at: Set(None),
            expiry_cause: Set(None),
            access_token: Set(None),
            refresh_token: Set(None),
            access_token_expires_at: Set(None),
            refresh_token_expires_at: Set(None),
            data_access_expires_at: Set(None),
            requested_scopes: Set(String::new()),
            granted_scopes: Set(String::new()),
            last_refreshed_at: Set(None),
            last_synced_at: Set(None),
            last_error: Set(None),
            last_error_at: Set(None),
            refresh_failures: Set(0),
            next_refresh_at: Set(None),
            warned_at: Set(None),
            version: Set(0),
            lease_owner: Set(None),
            lease_until: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        }
    }
}

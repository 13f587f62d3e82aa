//! The closed vocabularies of the model: platforms, profile kinds, link statuses and reasons,
//! media kinds. Stored as short upper-case strings so both SQLite and PostgreSQL read them the same.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A social platform an account lives on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Platform {
    #[sea_orm(string_value = "INSTAGRAM")]
    Instagram,
    #[sea_orm(string_value = "FACEBOOK")]
    Facebook,
    #[sea_orm(string_value = "TIKTOK")]
    Tiktok,
    #[sea_orm(string_value = "YOUTUBE")]
    Youtube,
}

impl Platform {
    /// The stored and wire name, e.g. `INSTAGRAM`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Instagram => "INSTAGRAM",
            Platform::Facebook => "FACEBOOK",
            Platform::Tiktok => "TIKTOK",
            Platform::Youtube => "YOUTUBE",
        }
    }

    /// The OAuth provider that authorizes this platform: Instagram and Facebook share Meta's.
    pub fn provider(self) -> Provider {
        match self {
            Platform::Instagram | Platform::Facebook => Provider::Meta,
            Platform::Tiktok => Provider::Tiktok,
            Platform::Youtube => Provider::Google,
        }
    }
}

/// The company whose OAuth server grants a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Meta,
    Tiktok,
    Google,
}

impl Provider {
    /// The path segment used in `/oauth/{provider}/…` and `/sandbox/{provider}/…`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Meta => "meta",
            Provider::Tiktok => "tiktok",
            Provider::Google => "google",
        }
    }
}

/// Whether a creator profile is one person or a group of member profiles.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProfileKind {
    #[sea_orm(string_value = "INDIVIDUAL")]
    Individual,
    #[sea_orm(string_value = "GROUP")]
    Group,
}

/// The status of a link as design §4 defines it. The stored value is the last materialized one;
/// readers derive the current one from stored state and the clock (`link::status`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkStatus {
    #[sea_orm(string_value = "NOT_LINKED")]
    NotLinked,
    #[sea_orm(string_value = "LINKED")]
    Linked,
    #[sea_orm(string_value = "EXPIRING_SOON")]
    ExpiringSoon,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    #[sea_orm(string_value = "INVALID")]
    Invalid,
}

impl LinkStatus {
    /// The stored and wire name, e.g. `EXPIRING_SOON`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::NotLinked => "NOT_LINKED",
            LinkStatus::Linked => "LINKED",
            LinkStatus::ExpiringSoon => "EXPIRING_SOON",
            LinkStatus::Expired => "EXPIRED",
            LinkStatus::Invalid => "INVALID",
        }
    }
}

/// Why a link became unusable before its 90 days ran out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvalidReason {
    /// The creator unlinked the account.
    #[sea_orm(string_value = "UNLINKED")]
    Unlinked,
    /// The account was removed from its profile.
    #[sea_orm(string_value = "REMOVED")]
    Removed,
    /// The platform says the password changed (Meta 190/460).
    #[sea_orm(string_value = "PASSWORD_CHANGED")]
    PasswordChanged,
    /// The platform invalidated the session or token (Meta 190/463/467, `invalid_grant`).
    #[sea_orm(string_value = "SESSION_INVALIDATED")]
    SessionInvalidated,
    /// Access was revoked on the platform (deauthorize callback, Meta 458, TikTok `authorization.removed`).
    #[sea_orm(string_value = "PERMISSIONS_REVOKED")]
    PermissionsRevoked,
    /// A permission the product needs was not granted.
    #[sea_orm(string_value = "SCOPES_MISSING")]
    ScopesMissing,
    /// The account cannot be linked (e.g. Instagram not professional or not attached to a Page).
    #[sea_orm(string_value = "ACCOUNT_NOT_ELIGIBLE")]
    AccountNotEligible,
    /// The platform requires the user to act on the platform first (Meta 459/464).
    #[sea_orm(string_value = "USER_ACTION_REQUIRED")]
    UserActionRequired,
    /// The creator's data was erased on request.
    #[sea_orm(string_value = "ERASED")]
    Erased,
    /// A refresh's result was lost: the worker stopped (killed, power lost) after the platform
    /// had answered with a rotated refresh token and before it was stored, so the stored one no
    /// longer works. The creator must reconnect.
    #[sea_orm(string_value = "REFRESH_RESULT_LOST")]
    RefreshResultLost,
}

impl InvalidReason {
    /// The stored and wire name, e.g. `PASSWORD_CHANGED`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidReason::Unlinked => "UNLINKED",
            InvalidReason::Removed => "REMOVED",
            InvalidReason::PasswordChanged => "PASSWORD_CHANGED",
            InvalidReason::SessionInvalidated => "SESSION_INVALIDATED",
            InvalidReason::PermissionsRevoked => "PERMISSIONS_REVOKED",
            InvalidReason::ScopesMissing => "SCOPES_MISSING",
            InvalidReason::AccountNotEligible => "ACCOUNT_NOT_ELIGIBLE",
            InvalidReason::UserActionRequired => "USER_ACTION_REQUIRED",
            InvalidReason::Erased => "ERASED",
            InvalidReason::RefreshResultLost => "REFRESH_RESULT_LOST",
        }
    }
}

/// What kind of content a media item is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaKind {
    #[sea_orm(string_value = "POST")]
    Post,
    #[sea_orm(string_value = "REEL")]
    Reel,
    #[sea_orm(string_value = "VIDEO")]
    Video,
    #[sea_orm(string_value = "STORY")]
    Story,
}

/// Where a campaign is in its life: rules match new content only while it is ACTIVE.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatus {
    /// Being prepared: nothing is matched yet.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Running: new and existing content in the dates is matched and pulled often.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Over: nothing new is matched; tracked content keeps being pulled until end + 30 days.
    #[sea_orm(string_value = "FINISHED")]
    Finished,
}

impl CampaignStatus {
    /// The stored and wire name, e.g. `ACTIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "DRAFT",
            CampaignStatus::Active => "ACTIVE",
            CampaignStatus::Finished => "FINISHED",
        }
    }
}

/// Which tracking rule made a media item campaign content.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchedBy {
    /// The caption carries one of the campaign's hashtags.
    #[sea_orm(string_value = "HASHTAG")]
    Hashtag,
    /// The caption mentions one of the campaign's accounts (`@brand`).
    #[sea_orm(string_value = "MENTION")]
    Mention,
    /// Someone added the post by its link.
    #[sea_orm(string_value = "URL")]
    Url,
}

impl MatchedBy {
    /// The stored and wire name, e.g. `HASHTAG`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Hashtag => "HASHTAG",
            MatchedBy::Mention => "MENTION",
            MatchedBy::Url => "URL",
        }
    }
}

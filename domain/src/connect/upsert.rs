//! The identity-checked upsert of an account a platform just vouched for (design §4, platforms.md
//! §4): the same account found by platform user id or handle is updated and attached; one held by
//! another profile is the conflict `ACCOUNT_ALREADY_ASSOCIATED`; a reconnect must be the same
//! platform identity as the account being reconnected.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::accounts::handle::parse_account;
use crate::entities::{creator_profile, social_account};
use crate::error::{DomainError, DomainResult};
use crate::kinds::Platform;
use crate::platforms::Profile;
use crate::tenant::OrgId;

/// The conflict code when another profile holds the account (seed 001's "already associated").
pub const ALREADY_ASSOCIATED: &str = "ACCOUNT_ALREADY_ASSOCIATED";
/// The conflict code when a reconnect logged in as a different platform user.
pub const ACCOUNT_MISMATCH: &str = "ACCOUNT_MISMATCH";

/// Handle, lowercase key and canonical URL of a platform profile, in the same canonical form as
/// accounts added by handle or URL, so the two meet.
pub(crate) fn canonical(p: &Profile) -> (String, String, String) {
    let parsed = match p.platform {
        Platform::Facebook => parse_account(&p.platform_user_id, Some(Platform::Facebook)).ok(),
        Platform::Youtube => p
            .handle
            .as_deref()
            .and_then(|h| parse_account(h, Some(Platform::Youtube)).ok())
            .or_else(|| {
                parse_account(
                    &format!("https://www.youtube.com/channel/{}", p.platform_user_id),
                    Some(Platform::Youtube),
                )
                .ok()
            }),
        Platform::Instagram | Platform::Tiktok => p
            .handle
            .as_deref()
            .and_then(|h| parse_account(h, Some(p.platform)).ok()),
    };
    match parsed {
        Some(r) => (r.handle().to_owned(), r.handle_lower(), r.url().to_owned()),
        None => {
            let handle = p
                .handle
                .clone()
                .unwrap_or_else(|| p.platform_user_id.clone());
            let url = match p.platform {
                Platform::Instagram => format!("https://www.instagram.com/{handle}/"),
                Platform::Facebook => format!("https://www.facebook.com/{}", p.platform_user_id),
                Platform::Tiktok => format!("https://www.tiktok.com/@{handle}"),
                Platform::Youtube => {
                    format!("https://www.youtube.com/channel/{}", p.platform_user_id)
                }
            };
            (handle.clone(), handle.to_ascii_lowercase(), url)
        }
    }
}

async fn profile_name(db: &impl ConnectionTrait, id: Option<Uuid>) -> String {
    match id {
        Some(id) => creator_profile::Entity::find_by_id(id)
            .one(db)
            .await
            .ok()
            .flatten()
            .map(|p| p.name)
            .unwrap_or_else(|| "another profile".to_owned()),
        None => "another profile".to_owned(),
    }
}

async fn conflict(
    db: &impl ConnectionTrait,
    p: &Profile,
    handle: &str,
    holder: Option<Uuid>,
) -> DomainError {
    let name = profile_name(db, holder).await;
    DomainError::Conflict {
        code: ALREADY_ASSOCIATED,
        message: format!(
            "The {} account {handle} is already associated with another profile (\u{201c}{name}\u{201d}). \
             Search for the profile by the account's URL, then remove the account there or merge the two profiles.",
            platform_name(p.platform)
        ),
    }
}

pub(crate) fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Instagram => "Instagram",
        Platform::Facebook => "Facebook",
        Platform::Tiktok => "TikTok",
        Platform::Youtube => "YouTube",
    }
}

/// Finds or creates the account `p` describes on `profile_id`, refusing (and writing nothing)
/// when another profile holds it or when a reconnect of `reconnect` logged in as someone else.
pub(crate) async fn upsert_account(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
    reconnect: Option<&social_account::Model>,
    p: &Profile,
    now: DateTime<Utc>,
) -> DomainResult<social_account::Model> {
    let (handle, handle_lower, url) = canonical(p);
    let in_org = || {
        social_account::Entity::find()
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::Platform.eq(p.platform))
    };
    let by_id = in_org()
        .filter(social_account::Column::PlatformUserId.eq(p.platform_user_id.as_str()))
        .one(db)
        .await?;
    let target = if let Some(target) = reconnect.filter(|a| a.platform == p.platform) {
        if target
            .platform_user_id
            .as_deref()
            .is_some_and(|id| id != p.platform_user_id)
        {
            return Err(DomainError::Conflict {
                code: ACCOUNT_MISMATCH,
                message: format!(
                    "You signed in as {handle}, but the account being reconnected is {}. \
                     Sign in to {} as {} instead.",
                    target.handle,
                    platform_name(p.platform),
                    target.handle
                ),
            });
        }
        if let Some(other) = by_id.filter(|a| a.id != target.id) {
            return Err(conflict(db, p, &handle, other.profile_id).await);
        }
        Some(target.clone())
    } else if let Some(found) = by_id {
        if found.profile_id.is_some_and(|holder| holder != profile_id) {
            return Err(conflict(db, p, &handle, found.profile_id).await);
        }
        Some(found)
    } else {
        let by_handle = in_org()
            .filter(social_account::Column::HandleLower.eq(handle_lower.as_str()))
            .one(db)
            .await?;
        match by_handle {
            Some(found) if found.profile_id.is_some_and(|holder| holder != profile_id) => {
                return Err(conflict(db, p, &handle, found.profile_id).await);
            }
            // The handle now belongs to another platform identity than the one stored.
            Some(found) if found.platform_user_id.is_some() => {
                return Err(conflict(db, p, &handle, found.profile_id).await);
            }
            other => other,
        }
    };
    // The handle of the identity may have changed; only take the new one if no other row has it.
    let handle_free = in_org()
        .filter(social_account::Column::HandleLower.eq(handle_lower.as_str()))
        .one(db)
        .await?
        .is_none_or(|a| target.as_ref().is_some_and(|t| t.id == a.id));
    match target {
        Some(existing) => {
            let mut active: social_account::ActiveModel = existing.into();
            active.profile_id = Set(Some(profile_id));
            active.platform_user_id = Set(Some(p.platform_user_id.clone()));
            if handle_free {
                active.handle = Set(handle);
                active.handle_lower = Set(handle_lower);
                active.url = Set(url);
            }
            if p.display_name.is_some() {
                active.display_name = Set(p.display_name.clone());
            }
            if p.avatar_url.is_some() {
                active.avatar_url = Set(p.avatar_url.clone());
            }
            // A count the platform did not send keeps the stored one; a count the creator hid is
            // shown as hidden, not as the last one seen.
            if p.followers.is_some() || p.followers_hidden {
                active.followers = Set(p.followers);
                active.followers_hidden = Set(p.followers_hidden);
            }
            active.updated_at = Set(now);
            Ok(active.update(db).await?)
        }
        None => Ok(social_account::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org.uuid()),
            profile_id: Set(Some(profile_id)),
            platform: Set(p.platform),
            handle: Set(handle),
            handle_lower: Set(handle_lower),
            url: Set(url),
            platform_user_id: Set(Some(p.platform_user_id.clone())),
            display_name: Set(p.display_name.clone()),
            avatar_url: Set(p.avatar_url.clone()),
            followers: Set(p.followers),
            followers_hidden: Set(p.followers_hidden),
            paired_account_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?),
    }
}

//! Platforms telling us a user took their authorization back: Meta's deauthorize and
//! data-deletion callbacks (`signed_request`) and TikTok's `authorization.removed` webhook.
//!
//! The platform speaks for its user, whose links may sit in several organizations, so these are
//! the only services that look across tenants: they find links by the platform's user id
//! (`link.provider_user_id`, or the account's own id where the platform uses one id for both, as
//! TikTok's `open_id`). Each affected link becomes INVALID / PERMISSIONS_REVOKED with its tokens
//! erased and one link event, in one transaction. Running a callback twice changes nothing more.

pub mod signatures;

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{deletion_request, link, social_account};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, NewEvent};
use crate::kinds::{InvalidReason, LinkStatus, Platform, Provider};
use crate::link::status::{derive, LinkState, DEFAULT_EXPIRING_WINDOW};
use crate::privacy;

pub use signatures::{
    sign_request, tiktok_signature, verify_signed_request, verify_tiktok_signature, SignatureError,
    SignedRequest,
};

/// The platforms whose links `provider` grants.
fn platforms_of(provider: Provider) -> Vec<Platform> {
    [
        Platform::Instagram,
        Platform::Facebook,
        Platform::Tiktok,
        Platform::Youtube,
    ]
    .into_iter()
    .filter(|p| p.provider() == provider)
    .collect()
}

/// The accounts (with their links) that `provider_user_id` authorized on `provider`, in every
/// organization.
async fn links_of_user(
    db: &impl ConnectionTrait,
    provider: Provider,
    provider_user_id: &str,
) -> DomainResult<Vec<(social_account::Model, link::Model)>> {
    let rows = social_account::Entity::find()
        .find_also_related(link::Entity)
        .filter(social_account::Column::Platform.is_in(platforms_of(provider)))
        .filter(
            Condition::any()
                .add(link::Column::ProviderUserId.eq(provider_user_id))
                .add(social_account::Column::PlatformUserId.eq(provider_user_id)),
        )
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(account, link)| link.map(|l| (account, l)))
        .collect())
}

/// What a platform said about why access ended, kept in the event's detail.
#[derive(Debug, Clone)]
pub struct Removal {
    /// Which platform called.
    pub provider: Provider,
    /// The platform's id for the user.
    pub provider_user_id: String,
    /// The platform's own words, e.g. `{"tiktokReason": 2}`; stored as the event detail.
    pub detail: serde_json::Value,
}

/// Marks every link `removal` names INVALID / PERMISSIONS_REVOKED and erases its tokens. Returns
/// how many links changed; links already revoked are left alone, so a repeated callback is
/// harmless.
#[tracing::instrument(skip(db, removal), fields(provider = removal.provider.as_str()))]
pub async fn revoke_user(
    db: &(impl ConnectionTrait + TransactionTrait),
    removal: &Removal,
    now: DateTime<Utc>,
) -> DomainResult<usize> {
    let txn = db.begin().await?;
    let mut changed = 0;
    for (account, link) in links_of_user(&txn, removal.provider, &removal.provider_user_id).await? {
        if invalidate(
            &txn,
            &account,
            &link,
            InvalidReason::PermissionsRevoked,
            removal,
            now,
        )
        .await?
        {
            changed += 1;
        }
    }
    txn.commit().await?;
    tracing::info!(links = changed, "platform revoked authorization");
    Ok(changed)
}

/// The status a reader saw just before `now`.
fn current_status(link: &link::Model, now: DateTime<Utc>) -> LinkStatus {
    derive(
        &LinkState {
            stored: link.status,
            invalid_reason: link.invalid_reason,
            authenticated_at: link.authenticated_at,
            expires_at: link.expires_at,
        },
        now,
        DEFAULT_EXPIRING_WINDOW,
    )
    .status
}

/// Sets one link INVALID with `reason`, tokens erased, plus its event. False when it already was
/// INVALID for that reason with no tokens left.
async fn invalidate(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    link: &link::Model,
    reason: InvalidReason,
    removal: &Removal,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let from = current_status(link, now);
    let has_tokens = link.access_token.is_some() || link.refresh_token.is_some();
    if from == LinkStatus::Invalid && link.invalid_reason == Some(reason) && !has_tokens {
        return Ok(false);
    }
    link::ActiveModel {
        id: Set(link.id),
        status: Set(LinkStatus::Invalid),
        invalid_reason: Set(Some(reason)),
        access_token: Set(None),
        refresh_token: Set(None),
        access_token_expires_at: Set(None),
        refresh_token_expires_at: Set(None),
        next_refresh_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        version: Set(link.version + 1),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    if from != LinkStatus::Invalid || link.invalid_reason != Some(reason) {
        let mut event = NewEvent::status_changed(
            account,
            from,
            LinkStatus::Invalid,
            Some(reason.as_str().to_owned()),
            Actor::Platform(removal.provider.as_str().to_owned()),
            now,
        );
        event.detail = Some(removal.detail.clone());
        let actor = event.actor.clone();
        events::record(db, event).await?;
        crate::campaigns::content::account_broke(
            db,
            account,
            LinkStatus::Invalid,
            Some(reason.as_str().to_owned()),
            &actor,
            now,
        )
        .await?;
    }
    Ok(true)
}

/// Progress of a data-deletion request, as its status URL reports it.
pub mod deletion_status {
    /// Received; nothing deleted yet.
    pub const PENDING: &str = "PENDING";
    /// Deleting.
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    /// Everything we held from the platform about the user is gone.
    pub const COMPLETED: &str = "COMPLETED";
}

fn confirmation_code() -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Handles a data-deletion request: records it (so its status URL answers), revokes the user's
/// links as [`revoke_user`] does, deletes the data we pulled for their accounts (media and their
/// metrics, daily metrics, audience, freshness, and the profile details the platform gave us),
/// and marks the request COMPLETED. The social account rows stay, as the organization added
/// them, now without anything the platform provided.
#[tracing::instrument(skip(db, removal), fields(provider = removal.provider.as_str()))]
pub async fn delete_user_data(
    db: &(impl ConnectionTrait + TransactionTrait),
    removal: &Removal,
    now: DateTime<Utc>,
) -> DomainResult<deletion_request::Model> {
    let request = deletion_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        provider: Set(removal.provider.as_str().to_owned()),
        provider_user_id: Set(removal.provider_user_id.clone()),
        confirmation_code: Set(confirmation_code()),
        status: Set(deletion_status::IN_PROGRESS.to_owned()),
        accounts_affected: Set(0),
        requested_at: Set(now),
        completed_at: Set(None),
    }
    .insert(db)
    .await?;

    let txn = db.begin().await?;
    let rows = links_of_user(&txn, removal.provider, &removal.provider_user_id).await?;
    let mut detail = removal.detail.clone();
    if let Some(map) = detail.as_object_mut() {
        map.insert("dataDeleted".into(), json!(true));
        map.insert("confirmationCode".into(), json!(request.confirmation_code));
    }
    let with_detail = Removal {
        detail,
        ..removal.clone()
    };
    for (account, link) in &rows {
        invalidate(
            &txn,
            account,
            link,
            InvalidReason::PermissionsRevoked,
            &with_detail,
            now,
        )
        .await?;
        privacy::delete_pulled_data(&txn, account.id).await?;
        social_account::ActiveModel {
            id: Set(account.id),
            display_name: Set(None),
            avatar_url: Set(None),
            followers: Set(None),
            followers_hidden: Set(false),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    let done = deletion_request::ActiveModel {
        id: Set(request.id),
        status: Set(deletion_status::COMPLETED.to_owned()),
        accounts_affected: Set(rows.len() as i32),
        completed_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(accounts = rows.len(), request_id = %done.id, "platform data deletion completed");
    Ok(done)
}

/// A data-deletion request by its confirmation code.
pub async fn deletion_request(
    db: &impl ConnectionTrait,
    confirmation_code: &str,
) -> DomainResult<deletion_request::Model> {
    deletion_request::Entity::find()
        .filter(deletion_request::Column::ConfirmationCode.eq(confirmation_code))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("deletion request"))
}

/// A TikTok webhook body: `{"client_key","event","create_time","user_openid","content":"<JSON>"}`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TiktokEvent {
    /// Our app's client key; an event for another app is refused.
    pub client_key: String,
    /// e.g. `authorization.removed`.
    pub event: String,
    /// When TikTok created it (Unix seconds).
    #[serde(default)]
    pub create_time: Option<i64>,
    /// The user it is about.
    pub user_openid: String,
    /// Event-specific JSON, serialized as a string.
    #[serde(default)]
    pub content: Option<String>,
}

impl TiktokEvent {
    /// `content.reason` of `authorization.removed`: 0 unknown, 1 user disconnected, 2 account
    /// deleted, 3 age changed, 4 account banned, 5 developer revoked.
    pub fn reason(&self) -> Option<i64> {
        let content: serde_json::Value = serde_json::from_str(self.content.as_deref()?).ok()?;
        content.get("reason")?.as_i64()
    }
}

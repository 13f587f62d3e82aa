//! A creator's privacy rights (seed 002): see everything we store about them, and have it erased.
//!
//! [`export`] builds one JSON document from every table that holds data about a profile, field by
//! field, so a new column is never exported by accident: tokens, PKCE verifiers, invite token
//! hashes and refresh leases are left out on purpose. [`erase`] revokes each authorization at its
//! platform, then deletes the profile and everything hanging off it, keeping one `DATA_ERASED`
//! link event as the audit tombstone (who, when, how much; no personal data).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionSession, TransactionTrait,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{
    audience, connect_invite, creator_profile, creator_profile_member, link, link_event, media,
    media_metric, metric_snapshot, oauth_state, social_account, sync_state,
};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, NewEvent};
use crate::link::revoke::Revoked;
use crate::tenant::OrgId;

/// The link event kind of an erasure tombstone.
pub const DATA_ERASED: &str = "DATA_ERASED";

/// Revokes an authorization at its platform. The API layer provides it (it holds the vault and
/// the platform clients); the domain only decides when to call it.
#[async_trait]
pub trait UpstreamRevoker: Send + Sync {
    /// Revokes `link` of `account` at its platform, retrying briefly.
    async fn revoke(
        &self,
        account: &social_account::Model,
        link: &link::Model,
    ) -> crate::link::revoke::Attempted;

    /// The vault a revoke to retry is kept sealed with.
    fn keyring(&self) -> &crate::vault::Keyring;
}

fn ts(t: DateTime<Utc>) -> Value {
    json!(t.to_rfc3339())
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Value {
    t.map(ts).unwrap_or(Value::Null)
}

fn split_scopes(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

async fn profile_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
) -> DomainResult<creator_profile::Model> {
    creator_profile::Entity::find_by_id(profile_id)
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("creator profile"))
}

async fn accounts_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
) -> DomainResult<Vec<(social_account::Model, Option<link::Model>)>> {
    Ok(social_account::Entity::find()
        .find_also_related(link::Entity)
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::ProfileId.eq(profile_id))
        .order_by_asc(social_account::Column::CreatedAt)
        .all(db)
        .await?)
}

fn link_json(l: &link::Model) -> Value {
    json!({
        "status": l.status.as_str(),
        "invalidReason": l.invalid_reason.map(|r| r.as_str()),
        "authenticatedAt": opt_ts(l.authenticated_at),
        "expiresAt": opt_ts(l.expires_at),
        "expiryCause": l.expiry_cause,
        "accessTokenExpiresAt": opt_ts(l.access_token_expires_at),
        "refreshTokenExpiresAt": opt_ts(l.refresh_token_expires_at),
        "dataAccessExpiresAt": opt_ts(l.data_access_expires_at),
        "requestedScopes": split_scopes(&l.requested_scopes),
        "grantedScopes": split_scopes(&l.granted_scopes),
        "platformUserId": l.provider_user_id,
        "lastRefreshedAt": opt_ts(l.last_refreshed_at),
        "lastSyncedAt": opt_ts(l.last_synced_at),
        "lastError": l.last_error,
        "lastErrorAt": opt_ts(l.last_error_at),
        "createdAt": ts(l.created_at),
        "updatedAt": ts(l.updated_at),
    })
}

/// Everything stored about `profile_id` of `org`, secrets excepted, as one JSON document.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn export(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
) -> DomainResult<Value> {
    let profile = profile_of(db, org, profile_id).await?;
    let mut accounts = Vec::new();
    for (account, link) in accounts_of(db, org, profile_id).await? {
        let media_rows = media::Entity::find()
            .filter(media::Column::AccountId.eq(account.id))
            .order_by_asc(media::Column::TakenAt)
            .all(db)
            .await?;
        let mut media_json = Vec::new();
        for m in media_rows {
            let metrics = media_metric::Entity::find()
                .filter(media_metric::Column::MediaId.eq(m.id))
                .order_by_asc(media_metric::Column::CapturedAt)
                .all(db)
                .await?;
            media_json.push(json!({
                "id": m.id,
                "platformMediaId": m.platform_media_id,
                "kind": m.kind,
                "caption": m.caption,
                "permalink": m.permalink,
                "mediaUrl": m.media_url,
                "thumbnailUrl": m.thumbnail_url,
                "takenAt": ts(m.taken_at),
                "expiresAt": opt_ts(m.expires_at),
                "firstSeenAt": ts(m.first_seen_at),
                "updatedAt": ts(m.updated_at),
                "metrics": metrics.iter().map(|x| json!({
                    "capturedAt": ts(x.captured_at),
                    "views": x.views, "reach": x.reach, "likes": x.likes,
                    "comments": x.comments, "shares": x.shares, "saves": x.saves,
                    "engagements": x.engagements, "videoViews": x.video_views,
                    "replies": x.replies, "extra": x.extra,
                })).collect::<Vec<_>>(),
            }));
        }
        let snapshots = metric_snapshot::Entity::find()
            .filter(metric_snapshot::Column::AccountId.eq(account.id))
            .order_by_asc(metric_snapshot::Column::Day)
            .all(db)
            .await?;
        let audience = audience::Entity::find()
            .filter(audience::Column::AccountId.eq(account.id))
            .one(db)
            .await?;
        let freshness = sync_state::Entity::find()
            .filter(sync_state::Column::AccountId.eq(account.id))
            .all(db)
            .await?;
        accounts.push(json!({
            "id": account.id,
            "platform": account.platform.as_str(),
            "handle": account.handle,
            "url": account.url,
            "platformUserId": account.platform_user_id,
            "displayName": account.display_name,
            "avatarUrl": account.avatar_url,
            "followers": account.followers,
            "pairedAccountId": account.paired_account_id,
            "createdAt": ts(account.created_at),
            "updatedAt": ts(account.updated_at),
            "link": link.as_ref().map(link_json),
            "media": media_json,
            "dailyMetrics": snapshots.iter().map(|s| json!({
                "day": s.day.to_string(),
                "followers": s.followers, "views": s.views, "reach": s.reach,
                "engagements": s.engagements, "videoViews": s.video_views,
                "likes": s.likes, "comments": s.comments, "shares": s.shares,
                "saves": s.saves, "extra": s.extra, "fetchedAt": ts(s.fetched_at),
            })).collect::<Vec<_>>(),
            "audience": audience.map(|a| json!({
                "unavailableReason": a.unavailable_reason,
                "age": a.age, "gender": a.gender, "country": a.country,
                "fetchedAt": ts(a.fetched_at),
            })),
            "freshness": freshness.iter().map(|f| json!({
                "resource": f.resource,
                "lastSuccessAt": opt_ts(f.last_success_at),
                "lastErrorAt": opt_ts(f.last_error_at),
                "lastError": f.last_error,
            })).collect::<Vec<_>>(),
        }));
    }
    let account_ids: Vec<Uuid> = accounts
        .iter()
        .filter_map(|a| a["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()))
        .collect();
    let events = link_event::Entity::find()
        .filter(link_event::Column::OrganizationId.eq(org.uuid()))
        .filter(
            Condition::any()
                .add(link_event::Column::ProfileId.eq(profile_id))
                .add(link_event::Column::AccountId.is_in(account_ids)),
        )
        .order_by_asc(link_event::Column::Id)
        .all(db)
        .await?;
    let groups = creator_profile_member::Entity::find()
        .filter(creator_profile_member::Column::OrganizationId.eq(org.uuid()))
        .filter(
            Condition::any()
                .add(creator_profile_member::Column::GroupId.eq(profile_id))
                .add(creator_profile_member::Column::MemberId.eq(profile_id)),
        )
        .all(db)
        .await?;
    let invites = connect_invite::Entity::find()
        .filter(connect_invite::Column::OrganizationId.eq(org.uuid()))
        .filter(connect_invite::Column::ProfileId.eq(profile_id))
        .order_by_asc(connect_invite::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(json!({
        "exportedAt": ts(Utc::now()),
        "profile": {
            "id": profile.id,
            "kind": profile.kind,
            "name": profile.name,
            "email": profile.email,
            "notes": profile.notes,
            "createdAt": ts(profile.created_at),
            "updatedAt": ts(profile.updated_at),
            "groupMembers": groups.iter().filter(|g| g.group_id == profile_id).map(|g| g.member_id).collect::<Vec<_>>(),
            "memberOfGroups": groups.iter().filter(|g| g.member_id == profile_id).map(|g| g.group_id).collect::<Vec<_>>(),
        },
        "accounts": accounts,
        "events": events.iter().map(|e| json!({
            "id": e.id,
            "accountId": e.account_id,
            "platform": e.platform.map(|p| p.as_str()),
            "kind": e.kind,
            "from": e.from_status.map(|s| s.as_str()),
            "to": e.to_status.map(|s| s.as_str()),
            "reason": e.reason,
            "actor": e.actor,
            "detail": e.detail,
            "occurredAt": ts(e.occurred_at),
        })).collect::<Vec<_>>(),
        "connectInvites": invites.iter().map(|i| json!({
            "id": i.id,
            "createdBy": i.created_by,
            "createdAt": ts(i.created_at),
            "expiresAt": ts(i.expires_at),
            "revokedAt": opt_ts(i.revoked_at),
            "lastOpenedAt": opt_ts(i.last_opened_at),
        })).collect::<Vec<_>>(),
    }))
}

/// How many rows [`delete_pulled_data`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    pub media: u64,
    pub media_metrics: u64,
    pub daily_metrics: u64,
    pub audience: u64,
}

/// Deletes what we pulled from the platform for one account: media with their metrics, daily
/// metrics, audience and freshness records.
pub async fn delete_pulled_data(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> DomainResult<Deleted> {
    let media_ids: Vec<Uuid> = media::Entity::find()
        .filter(media::Column::AccountId.eq(account_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let media_metrics = media_metric::Entity::delete_many()
        .filter(media_metric::Column::MediaId.is_in(media_ids))
        .exec(db)
        .await?
        .rows_affected;
    let media = media::Entity::delete_many()
        .filter(media::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected;
    let daily_metrics = metric_snapshot::Entity::delete_many()
        .filter(metric_snapshot::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected;
    let audience = audience::Entity::delete_many()
        .filter(audience::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected;
    sync_state::Entity::delete_many()
        .filter(sync_state::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(Deleted {
        media,
        media_metrics,
        daily_metrics,
        audience,
    })
}

/// What an erasure did, as the tombstone records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The tombstone event's id.
    pub tombstone_id: i64,
    /// Accounts deleted.
    pub accounts: usize,
    /// Authorizations revoked at their platform.
    pub revoked_upstream: usize,
    /// Authorizations whose platform revoke failed; their tokens are deleted all the same.
    pub revoke_failures: usize,
}

/// Erases `profile_id` of `org`: revokes each authorization at its platform through `revoker`
/// (a failure is logged and counted; the tokens are deleted regardless), then deletes, in one
/// transaction, the tokens and links, media and metrics, audience, freshness, events, invites,
/// started OAuth flows, group memberships, accounts and the profile, and writes the one
/// `DATA_ERASED` tombstone event.
#[tracing::instrument(skip(db, revoker), fields(org = %org))]
pub async fn erase(
    db: &(impl ConnectionTrait + TransactionTrait),
    org: OrgId,
    profile_id: Uuid,
    actor: &Actor,
    revoker: &dyn UpstreamRevoker,
) -> DomainResult<Erasure> {
    profile_of(db, org, profile_id).await?;
    let accounts = accounts_of(db, org, profile_id).await?;
    let (mut revoked, mut failed) = (0, 0);
    let mut retries = Vec::new();
    for (account, link) in &accounts {
        let Some(link) = link else { continue };
        if link.access_token.is_none() && link.refresh_token.is_none() {
            continue;
        }
        let attempted = revoker.revoke(account, link).await;
        match attempted.revoked {
            Revoked::Yes | Revoked::AlreadyGone => revoked += 1,
            other => {
                failed += 1;
                tracing::warn!(account_id = %account.id, outcome = ?other, "upstream revoke not confirmed during erasure; deleting the tokens anyway");
            }
        }
        retries.push((account, attempted));
    }

    let txn = db.begin().await?;
    // A revoke the platform kept failing is tried again by the `revoke_upstream` job.
    for (account, attempted) in &retries {
        attempted
            .keep_for_retry(&txn, revoker.keyring(), account)
            .await?;
    }
    let mut platforms: Vec<&str> = Vec::new();
    let mut totals = Deleted::default();
    let account_ids: Vec<Uuid> = accounts.iter().map(|(a, _)| a.id).collect();
    for (account, _) in &accounts {
        let d = delete_pulled_data(&txn, account.id).await?;
        totals.media += d.media;
        totals.media_metrics += d.media_metrics;
        totals.daily_metrics += d.daily_metrics;
        totals.audience += d.audience;
        if !platforms.contains(&account.platform.as_str()) {
            platforms.push(account.platform.as_str());
        }
    }
    link_event::Entity::delete_many()
        .filter(link_event::Column::OrganizationId.eq(org.uuid()))
        .filter(
            Condition::any()
                .add(link_event::Column::ProfileId.eq(profile_id))
                .add(link_event::Column::AccountId.is_in(account_ids.clone())),
        )
        .exec(&txn)
        .await?;
    oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::OrganizationId.eq(org.uuid()))
        .filter(
            Condition::any()
                .add(oauth_state::Column::ProfileId.eq(profile_id))
                .add(oauth_state::Column::AccountId.is_in(account_ids.clone())),
        )
        .exec(&txn)
        .await?;
    link::Entity::delete_many()
        .filter(link::Column::AccountId.is_in(account_ids.clone()))
        .exec(&txn)
        .await?;
    // Another profile's account paired with one of these keeps its row, without the pairing.
    social_account::Entity::update_many()
        .col_expr(
            social_account::Column::PairedAccountId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .filter(social_account::Column::PairedAccountId.is_in(account_ids.clone()))
        .exec(&txn)
        .await?;
    social_account::Entity::delete_many()
        .filter(social_account::Column::Id.is_in(account_ids))
        .exec(&txn)
        .await?;
    connect_invite::Entity::delete_many()
        .filter(connect_invite::Column::ProfileId.eq(profile_id))
        .exec(&txn)
        .await?;
    creator_profile_member::Entity::delete_many()
        .filter(
            Condition::any()
                .add(creator_profile_member::Column::GroupId.eq(profile_id))
                .add(creator_profile_member::Column::MemberId.eq(profile_id)),
        )
        .exec(&txn)
        .await?;
    creator_profile::Entity::delete_by_id(profile_id)
        .exec(&txn)
        .await?;
    let tombstone = events::record(
        &txn,
        NewEvent {
            org,
            account_id: None,
            profile_id: None,
            platform: None,
            kind: DATA_ERASED,
            from: None,
            to: None,
            reason: Some("ERASED".into()),
            actor: actor.clone(),
            detail: Some(json!({
                "profileId": profile_id,
                "accounts": accounts.len(),
                "platforms": platforms,
                "media": totals.media,
                "mediaMetrics": totals.media_metrics,
                "dailyMetrics": totals.daily_metrics,
                "audiences": totals.audience,
                "revokedUpstream": revoked,
                "revokeFailures": failed,
            })),
            occurred_at: Utc::now(),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(profile_id = %profile_id, accounts = accounts.len(), revoked, failed, "creator data erased");
    Ok(Erasure {
        tombstone_id: tombstone.id,
        accounts: accounts.len(),
        revoked_upstream: revoked,
        revoke_failures: failed,
    })
}

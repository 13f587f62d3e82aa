//! Pulling campaign content on its own cadence ([`super::cadence`]): the content due now is
//! claimed (so concurrent scans hand out disjoint work), grouped by account, and each account's
//! items are read in one `media_insights` call and stored as `media_metric` rows. YouTube units
//! are budgeted per day across workers ([`crate::quota`]); when the budget is spent the items wait
//! for the next quota day and the campaign shows `slowedByQuota`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::content::record_pull;
use crate::entities::{campaign_content, link, media, social_account};
use crate::error::{DomainError, DomainResult};
use crate::kinds::{LinkStatus, Provider};
use crate::platforms::{next_pacific_midnight, PlatformClient, PlatformError};
use crate::quota;
use crate::sync::policy::{self, Action, Renewed, Renewer};
use crate::vault::Keyring;

/// Claims up to `limit` content items due at `now` by pushing their `next_pull_at` to
/// `now + claim_for` (a conditional update, so two scans never claim the same item), and
/// returns them grouped by account. A claimed item whose pull never happens is due again when the
/// claim runs out.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    claim_for: Duration,
    limit: u64,
) -> DomainResult<BTreeMap<Uuid, Vec<Uuid>>> {
    let due: Vec<Uuid> = campaign_content::Entity::find()
        .select_only()
        .column(campaign_content::Column::Id)
        .filter(campaign_content::Column::RemovedAt.is_null())
        .filter(campaign_content::Column::NextPullAt.lte(now))
        .order_by_asc(campaign_content::Column::NextPullAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(BTreeMap::new());
    }
    let claimed = campaign_content::Entity::update_many()
        .col_expr(
            campaign_content::Column::NextPullAt,
            Expr::value(Some(now + claim_for)),
        )
        .filter(campaign_content::Column::Id.is_in(due.iter().copied()))
        .filter(campaign_content::Column::NextPullAt.lte(now))
        .filter(campaign_content::Column::RemovedAt.is_null())
        .exec_with_returning(db)
        .await?;
    let mut by_account: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for row in claimed {
        by_account.entry(row.account_id).or_default().push(row.id);
    }
    Ok(by_account)
}

/// What one account's pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    /// Metrics were stored for `stored` of `items` items (the others are gone from the platform).
    Pulled { items: usize, stored: usize },
    /// The account's link is not usable: the items are rescheduled without a call (the report
    /// shows their last numbers as stale).
    NotLinked,
    /// The platform's quota or our daily budget is spent, the platform rate-limits us, or the
    /// token could not be renewed: the items wait until `until`.
    Deferred { until: DateTime<Utc> },
    /// The platform refused for good: the link is now INVALID with this reason (one event) and
    /// the items are rescheduled without calls, like any unlinked account's.
    Invalidated(crate::kinds::InvalidReason),
}

/// How long items wait when their account's token was refused and could not be renewed, or the
/// platform refused our request as such.
const REFUSED_WAIT: Duration = Duration::minutes(30);

/// The knobs of a pull.
#[derive(Debug, Clone, Copy)]
pub struct PullSettings {
    /// YouTube Data API units campaign pulls may spend per Pacific day.
    pub youtube_daily_units: i64,
}

/// Pulls the metrics of `content_ids` (all of `account_id`) with `client`, stores a
/// `media_metric` row per item the platform still serves, and schedules each item's next pull.
/// Platform failures that retrying can fix come back as `Err` (the job retries; the claim keeps
/// the items from being handed out twice meanwhile).
#[tracing::instrument(skip_all, fields(account_id = %account_id, items = content_ids.len()))]
#[allow(clippy::too_many_arguments)]
pub async fn pull_account(
    db: &DatabaseConnection,
    client: &dyn PlatformClient,
    keyring: &Keyring,
    renewer: Renewer<'_>,
    account_id: Uuid,
    content_ids: &[Uuid],
    settings: PullSettings,
    now: DateTime<Utc>,
) -> DomainResult<PullOutcome> {
    let rows = campaign_content::Entity::find()
        .filter(campaign_content::Column::AccountId.eq(account_id))
        .filter(campaign_content::Column::Id.is_in(content_ids.iter().copied()))
        .filter(campaign_content::Column::RemovedAt.is_null())
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(PullOutcome::Pulled {
            items: 0,
            stored: 0,
        });
    }
    let account = social_account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(DomainError::not_found("social account"))?;
    let media_rows = media::Entity::find()
        .filter(media::Column::Id.is_in(rows.iter().map(|r| r.media_id)))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let reschedule = |at: DateTime<Utc>| {
        let ids = ids.clone();
        async move {
            for id in ids {
                record_pull(db, id, at).await?;
            }
            Ok::<(), DomainError>(())
        }
    };
    let link_row = link::Entity::find()
        .filter(link::Column::AccountId.eq(account_id))
        .one(db)
        .await?;
    let usable = link_row.as_ref().filter(|l| {
        matches!(l.status, LinkStatus::Linked | LinkStatus::ExpiringSoon)
            && l.expires_at.is_none_or(|e| e > now)
    });
    let (Some(l), Some(platform_user_id)) = (usable, account.platform_user_id.as_deref()) else {
        reschedule(now).await?;
        return Ok(PullOutcome::NotLinked);
    };
    let Ok(Some(mut token)) = policy::open_token(keyring, l) else {
        reschedule(now).await?;
        return Ok(PullOutcome::NotLinked);
    };
    let mut l = l.clone();
    let mut renewed = false;
    if l.access_token_expires_at.is_some_and(|e| e <= now) {
        // Ran out before the refresh scan renewed it: renew it now, as a refused one.
        renewed = true;
        match policy::renew(db, client, keyring, renewer, &l, now).await? {
            Renewed::Retry(fresh, t) => (l, token) = (*fresh, t),
            Renewed::Invalidated(reason) => {
                reschedule(now).await?;
                return Ok(PullOutcome::Invalidated(reason));
            }
            Renewed::Failed(e) => return act_on(db, &l, &rows, e, now).await,
        }
    }
    let provider = account.platform.provider();
    if provider == Provider::Google {
        let units = quota::YOUTUBE_VIDEOS_LIST * ((media_rows.len() as i64 + 49) / 50);
        if !quota::try_spend(
            db,
            Provider::Google,
            quota::CAMPAIGN_CONTENT,
            units,
            settings.youtube_daily_units,
            now,
        )
        .await?
        {
            let until = next_pacific_midnight(now);
            defer(db, &rows, until).await?;
            return Ok(PullOutcome::Deferred { until });
        }
    }
    let wanted: Vec<(String, crate::kinds::MediaKind)> = media_rows
        .iter()
        .map(|m| (m.platform_media_id.clone(), m.kind))
        .collect();
    let fetched = loop {
        let error = match client
            .media_insights(&token, platform_user_id, &wanted)
            .await
        {
            Ok(items) => break items,
            Err(e) => e,
        };
        match policy::decide(&error) {
            Action::RenewAndRetry if !renewed => {
                renewed = true;
                match policy::renew(db, client, keyring, renewer, &l, now).await? {
                    Renewed::Retry(fresh, t) => {
                        (l, token) = (*fresh, t);
                        continue;
                    }
                    Renewed::Invalidated(reason) => {
                        reschedule(now).await?;
                        return Ok(PullOutcome::Invalidated(reason));
                    }
                    Renewed::Failed(e) => return act_on(db, &l, &rows, e, now).await,
                }
            }
            Action::ConfirmThenInvalidate(_) => {
                let error =
                    match policy::confirm_gone(client, &token, platform_user_id, &error).await {
                        Ok(()) => error,
                        Err(other) => other,
                    };
                return act_on(db, &l, &rows, error, now).await;
            }
            _ => return act_on(db, &l, &rows, error, now).await,
        }
    };
    let mut stored = 0;
    for m in &media_rows {
        if let Some(item) = fetched
            .iter()
            .find(|i| i.platform_media_id == m.platform_media_id)
        {
            crate::sync::store::capture(db, m, item, now).await?;
            stored += 1;
        }
    }
    reschedule(now).await?;
    tracing::info!(stored, "campaign content pulled");
    Ok(PullOutcome::Pulled {
        items: media_rows.len(),
        stored,
    })
}

/// The pull policy's action on `error` for the items `rows` of link `l` (a reply to confirm was
/// confirmed already).
async fn act_on(
    db: &DatabaseConnection,
    l: &link::Model,
    rows: &[campaign_content::Model],
    error: PlatformError,
    now: DateTime<Utc>,
) -> DomainResult<PullOutcome> {
    match policy::decide(&error) {
        Action::Invalidate(reason) | Action::ConfirmThenInvalidate(reason) => {
            crate::link::refresh::invalidate_as(
                db,
                l,
                reason,
                &error.to_string(),
                now,
                crate::actor::Actor::system("campaign-pull"),
            )
            .await?;
            for row in rows {
                record_pull(db, row.id, now).await?;
            }
            Ok(PullOutcome::Invalidated(reason))
        }
        Action::Wait { until, quota } => {
            if quota {
                quota::mark_refused(db, Provider::Google, quota::CAMPAIGN_CONTENT, now).await?;
            }
            defer(db, rows, until).await?;
            Ok(PullOutcome::Deferred { until })
        }
        Action::RenewAndRetry | Action::Refused => {
            // Still refused after a renewal, or our request refused as such: no quick retry.
            tracing::warn!(error = %error, "campaign pull refused; items wait");
            let until = now + REFUSED_WAIT;
            defer(db, rows, until).await?;
            Ok(PullOutcome::Deferred { until })
        }
        Action::Retry { .. } => Err(DomainError::Upstream {
            retryable: true,
            message: error.to_string(),
        }),
    }
}

async fn defer(
    db: &impl ConnectionTrait,
    rows: &[campaign_content::Model],
    until: DateTime<Utc>,
) -> DomainResult<()> {
    campaign_content::Entity::update_many()
        .col_expr(
            campaign_content::Column::NextPullAt,
            Expr::value(Some(until)),
        )
        .filter(campaign_content::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .exec(db)
        .await?;
    Ok(())
}

/// How the daily YouTube budget affects a campaign now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaStatus {
    /// The campaign has YouTube content and today's budget (or YouTube's own quota) ran out:
    /// that content waits for the next quota day.
    pub slowed: bool,
    /// Units campaign pulls spent today (all campaigns share the budget).
    pub youtube_units_spent_today: i64,
}

/// [`QuotaStatus`] of campaign `campaign_id` of `org` at `now`.
pub async fn quota_status(
    db: &impl ConnectionTrait,
    org: crate::tenant::OrgId,
    campaign_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<QuotaStatus> {
    let usage = quota::usage(db, Provider::Google, quota::CAMPAIGN_CONTENT, now).await?;
    let slowed = if usage.refused_at.is_some() {
        let accounts: Vec<Uuid> = campaign_content::Entity::find()
            .select_only()
            .column(campaign_content::Column::AccountId)
            .filter(campaign_content::Column::OrganizationId.eq(org.uuid()))
            .filter(campaign_content::Column::CampaignId.eq(campaign_id))
            .filter(campaign_content::Column::RemovedAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        social_account::Entity::find()
            .filter(social_account::Column::Id.is_in(accounts))
            .filter(social_account::Column::Platform.eq(crate::kinds::Platform::Youtube))
            .one(db)
            .await?
            .is_some()
    } else {
        false
    };
    Ok(QuotaStatus {
        slowed,
        youtube_units_spent_today: usage.units_spent,
    })
}

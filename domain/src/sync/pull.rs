//! One pull of one resource of one account: open the token, ask the platform, store, match new
//! media against campaigns, and keep `sync_state` honest.
//!
//! Errors are handled like the token refresh handles them: a permanently invalid grant (revoked
//! user, changed password, dead token, missing scope) makes the link INVALID with its reason
//! and one event through [`crate::link::refresh::invalidate_as`]; a rate limit or a transient
//! failure backs this resource of this account off on its own (exponential, jittered, never
//! sooner than the platform asked), so other accounts and resources keep their schedule.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::policy::{self, Action, Renewed, Renewer};
use super::state;
use super::store::{self, STORY_LIFETIME};
use super::SyncResource;
use crate::actor::Actor;
use crate::entities::{link, media, media_metric, social_account};
use crate::events::{self, kind, NewEvent};
use crate::kinds::{InvalidReason, LinkStatus, MediaKind};
use crate::platforms::{PlatformClient, PlatformError};
use crate::secret::Secret;
use crate::tenant::OrgId;
use crate::vault::Keyring;
use crate::DomainError;

/// How often each resource is pulled, and how far back.
#[derive(Debug, Clone)]
pub struct Cadence {
    /// Stories (their 24 hours must never pass between two pulls).
    pub stories_every: Duration,
    /// Recent media.
    pub media_every: Duration,
    /// Daily snapshots and the whole media window.
    pub metrics_every: Duration,
    /// Audience demographics.
    pub audience_every: Duration,
    /// The recent-media pull reads media newer than this.
    pub recent_media: Duration,
    /// The metrics pull follows media this far back.
    pub media_window: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            stories_every: Duration::hours(2),
            media_every: Duration::hours(1),
            metrics_every: Duration::hours(6),
            audience_every: Duration::days(7),
            recent_media: Duration::hours(48),
            media_window: Duration::days(30),
        }
    }
}

impl Cadence {
    /// The regular interval of `resource`.
    pub fn every(&self, resource: SyncResource) -> Duration {
        match resource {
            SyncResource::Stories => self.stories_every,
            SyncResource::Media => self.media_every,
            SyncResource::Metrics => self.metrics_every,
            SyncResource::Audience => self.audience_every,
        }
    }
}

/// After this many failed pulls in a row, a `FRESHNESS` event tells the organization.
pub const FAILURES_BEFORE_EVENT: i32 = 3;

/// Longest backoff of a failing resource (stories: never longer than their interval).
const MAX_BACKOFF: Duration = Duration::hours(6);

/// What one pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    Pulled(PullReport),
    /// Nothing to do: the account is gone, not on a platform with this resource, or its link is
    /// not usable (it becomes due again at once when relinked).
    Skipped(&'static str),
    /// The platform refused for good: the link is INVALID with this reason.
    Invalidated(InvalidReason),
    /// A failure recorded in `sync_state`; the resource is due again at `next_run_at`.
    /// `retry_soon` is set when the job may try again right away (a short Retry-After, a 5xx or
    /// a timeout) rather than waiting for the next scan.
    Failed {
        message: String,
        next_run_at: DateTime<Utc>,
        retry_soon: Option<std::time::Duration>,
    },
}

/// What a successful pull stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullReport {
    /// Media or stories upserted.
    pub media: usize,
    /// Of those, first seen now.
    pub new_media: usize,
    /// Stories first seen now.
    pub new_stories: usize,
    /// Stories that ran out since the previous pull without a capture near their end.
    pub stories_expired_uncaptured: usize,
    /// Daily snapshots upserted.
    pub snapshots: usize,
    /// Campaign content rows created from the pulled media.
    pub matched: usize,
}

/// Pulls `resource` of `account_id` at `now`; platform errors are handled by the one pull policy
/// ([`super::policy`]): a refused token is renewed (by `renewer`) and the pull tried once more.
#[allow(clippy::too_many_arguments)]
pub async fn pull(
    db: &DatabaseConnection,
    client: &dyn PlatformClient,
    keyring: &Keyring,
    renewer: Renewer<'_>,
    account_id: Uuid,
    resource: SyncResource,
    cadence: &Cadence,
    now: DateTime<Utc>,
) -> Result<PullOutcome, DomainError> {
    let Some(account) = social_account::Entity::find_by_id(account_id)
        .one(db)
        .await?
    else {
        return Ok(PullOutcome::Skipped("the account no longer exists"));
    };
    if !resource.applies_to(account.platform) {
        return Ok(PullOutcome::Skipped("not pulled on this platform"));
    }
    let Some(link) = link::Entity::find()
        .filter(link::Column::AccountId.eq(account.id))
        .one(db)
        .await?
    else {
        return Ok(PullOutcome::Skipped("the account has no link"));
    };
    let usable = matches!(link.status, LinkStatus::Linked | LinkStatus::ExpiringSoon)
        && link.expires_at.is_none_or(|e| e > now);
    let (true, Some(mut token)) = (usable, policy::open_token(keyring, &link)?) else {
        state::reset_due(db, account.id, resource).await?;
        return Ok(PullOutcome::Skipped("the link is not usable"));
    };
    let Some(uid) = account.platform_user_id.clone() else {
        state::reset_due(db, account.id, resource).await?;
        return Ok(PullOutcome::Skipped("the account has no platform id yet"));
    };
    let previous = state::get_or_create(db, account.organization_id, account.id, resource).await?;
    let mut link = link;
    let mut renewed = false;
    let result = loop {
        let result = fetch_and_store(
            db, client, &token, &account, &uid, resource, cadence, &previous, now,
        )
        .await;
        let Err(Failure::Platform(error)) = result else {
            break result;
        };
        match policy::decide(&error) {
            Action::RenewAndRetry if !renewed => {
                renewed = true;
                match policy::renew(db, client, keyring, renewer, &link, now).await? {
                    Renewed::Retry(l, t) => {
                        (link, token) = (*l, t);
                        continue;
                    }
                    Renewed::Invalidated(reason) => {
                        state::record_failure(
                            db,
                            account.id,
                            resource,
                            now,
                            &error.to_string(),
                            None,
                        )
                        .await?;
                        return Ok(PullOutcome::Invalidated(reason));
                    }
                    Renewed::Failed(e) => break Err(Failure::Platform(e)),
                }
            }
            Action::ConfirmThenInvalidate(_) => {
                break match policy::confirm_gone(client, &token, &uid, &error).await {
                    Ok(()) => Err(Failure::Platform(error)),
                    Err(other) => Err(Failure::Platform(other)),
                };
            }
            _ => break Err(Failure::Platform(error)),
        }
    };
    match result {
        Ok(report) => {
            state::record_success(db, account.id, resource, now, now + cadence.every(resource))
                .await?;
            link::Entity::update_many()
                .col_expr(link::Column::LastSyncedAt, Expr::value(Some(now)))
                .filter(link::Column::Id.eq(link.id))
                .exec(db)
                .await?;
            Ok(PullOutcome::Pulled(report))
        }
        Err(Failure::Db(e)) => Err(e.into()),
        Err(Failure::Platform(e)) => failed(db, &account, &link, resource, cadence, e, now).await,
    }
}

enum Failure {
    Platform(PlatformError),
    Db(sea_orm::DbErr),
}

impl From<PlatformError> for Failure {
    fn from(e: PlatformError) -> Self {
        Failure::Platform(e)
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(e: sea_orm::DbErr) -> Self {
        Failure::Db(e)
    }
}

impl From<DomainError> for Failure {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Database(e) => Failure::Db(e),
            other => Failure::Db(sea_orm::DbErr::Custom(other.to_string())),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn fetch_and_store(
    db: &DatabaseConnection,
    client: &dyn PlatformClient,
    token: &Secret,
    account: &social_account::Model,
    uid: &str,
    resource: SyncResource,
    cadence: &Cadence,
    previous: &crate::entities::sync_state::Model,
    now: DateTime<Utc>,
) -> Result<PullReport, Failure> {
    let mut report = PullReport::default();
    let mut stored_ids = Vec::new();
    match resource {
        SyncResource::Stories => {
            let items = client.stories(token, uid).await?;
            for item in &items {
                let stored = store::upsert_media(db, account, item, now).await?;
                report.media += 1;
                if stored.new {
                    report.new_media += 1;
                    report.new_stories += 1;
                }
                stored_ids.push(stored.media.id);
            }
            report.stories_expired_uncaptured =
                stories_expired_uncaptured(db, account, cadence, previous, now).await?;
        }
        SyncResource::Media => {
            let items = client
                .media(token, uid, Some(now - cadence.recent_media))
                .await?;
            store_media(db, account, &items, now, &mut report, &mut stored_ids).await?;
        }
        SyncResource::Metrics => {
            let today = now.date_naive();
            // The first pull reads the whole window; later ones re-read the last days, which
            // platforms still revise.
            let from = match previous.last_success_at {
                Some(at) => at.date_naive() - Duration::days(2),
                None => today - cadence.media_window + Duration::days(1),
            };
            let days = client.daily_metrics(token, uid, from, today).await?;
            for day in &days {
                store::upsert_snapshot(db, account, day, now).await?;
                report.snapshots += 1;
            }
            // Platforms without a followers series: today's snapshot takes the profile's total.
            if let Some(p) = client
                .profile(token)
                .await?
                .into_iter()
                .find(|p| p.platform_user_id == uid)
            {
                if let Some(f) = p.followers {
                    store::set_followers_today(db, account, today, f, now).await?;
                }
                // A count the reply does not carry keeps the stored one; a count the creator hid
                // is shown as hidden (today's snapshot stays without followers), not stale.
                if p.followers.is_some() || p.followers_hidden {
                    social_account::Entity::update_many()
                        .col_expr(social_account::Column::Followers, Expr::value(p.followers))
                        .col_expr(
                            social_account::Column::FollowersHidden,
                            Expr::value(p.followers_hidden),
                        )
                        .filter(social_account::Column::Id.eq(account.id))
                        .exec(db)
                        .await?;
                }
            }
            let items = client
                .media(token, uid, Some(now - cadence.media_window))
                .await?;
            store_media(db, account, &items, now, &mut report, &mut stored_ids).await?;
        }
        SyncResource::Audience => {
            let audience = client.audience(token, uid, now).await?;
            store::upsert_audience(db, account, &audience, now).await?;
        }
    }
    if !stored_ids.is_empty() {
        let matched = crate::campaigns::content::match_new_media(
            db,
            OrgId::new(account.organization_id),
            &stored_ids,
            now,
        )
        .await?;
        report.matched = matched.len();
    }
    if report.stories_expired_uncaptured > 0 {
        freshness_event(
            db,
            account,
            json!({
                "resource": resource.as_str(),
                "problem": "STORIES_EXPIRED_UNCAPTURED",
                "count": report.stories_expired_uncaptured,
            }),
            now,
        )
        .await?;
    }
    Ok(report)
}

async fn store_media(
    db: &DatabaseConnection,
    account: &social_account::Model,
    items: &[crate::platforms::MediaItem],
    now: DateTime<Utc>,
    report: &mut PullReport,
    ids: &mut Vec<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    for item in items {
        let stored = store::upsert_media(db, account, item, now).await?;
        report.media += 1;
        if stored.new {
            report.new_media += 1;
        }
        ids.push(stored.media.id);
    }
    Ok(())
}

/// Stories of `account` whose 24 hours ended after the previous successful pull and up to
/// `now` (so each expired story is judged by exactly one pull), whose last capture came more than
/// one and a half story intervals before their end: their final numbers were missed. When the
/// previous success is older than a story's lifetime, stories may have come and gone unseen;
/// that gap counts as one.
async fn stories_expired_uncaptured(
    db: &DatabaseConnection,
    account: &social_account::Model,
    cadence: &Cadence,
    previous: &crate::entities::sync_state::Model,
    now: DateTime<Utc>,
) -> Result<usize, sea_orm::DbErr> {
    let Some(since) = previous.last_success_at else {
        return Ok(0);
    };
    let ended = media::Entity::find()
        .filter(media::Column::AccountId.eq(account.id))
        .filter(media::Column::Kind.eq(MediaKind::Story))
        .filter(media::Column::ExpiresAt.gt(since))
        .filter(media::Column::ExpiresAt.lte(now))
        .all(db)
        .await?;
    let threshold = cadence.stories_every + cadence.stories_every / 2;
    let mut missed = 0;
    for story in ended {
        let Some(expires) = story.expires_at else {
            continue;
        };
        let late = media_metric::Entity::find()
            .filter(media_metric::Column::MediaId.eq(story.id))
            .filter(media_metric::Column::CapturedAt.gte(expires - threshold))
            .one(db)
            .await?;
        if late.is_none() {
            missed += 1;
        }
    }
    if now - since > STORY_LIFETIME {
        missed += 1;
    }
    Ok(missed)
}

async fn freshness_event(
    db: &DatabaseConnection,
    account: &social_account::Model,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    events::record(
        db,
        NewEvent {
            org: OrgId::new(account.organization_id),
            account_id: Some(account.id),
            profile_id: account.profile_id,
            platform: Some(account.platform),
            kind: kind::FRESHNESS,
            from: None,
            to: None,
            reason: detail
                .get("problem")
                .and_then(|p| p.as_str())
                .map(str::to_owned),
            actor: Actor::system("sync"),
            detail: Some(detail),
            occurred_at: now,
        },
    )
    .await?;
    Ok(())
}

/// The backoff of a resource after `failures` failed pulls in a row: 5 minutes doubling, capped
/// (stories at their interval, so a flapping platform still sees every story), with jitter.
fn backoff(failures: i32, cap: Duration) -> Duration {
    let exp = Duration::minutes(5)
        .checked_mul(1i32 << failures.clamp(1, 10).saturating_sub(1))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
        .min(cap);
    let half = exp / 2;
    let jitter = rand::thread_rng().gen_range(0..=half.num_seconds().max(1));
    half + Duration::seconds(jitter)
}

async fn failed(
    db: &DatabaseConnection,
    account: &social_account::Model,
    link: &link::Model,
    resource: SyncResource,
    cadence: &Cadence,
    error: PlatformError,
    now: DateTime<Utc>,
) -> Result<PullOutcome, DomainError> {
    let message = error.to_string();
    let action = policy::decide(&error);
    if let Action::Invalidate(reason) | Action::ConfirmThenInvalidate(reason) = action {
        // (A reply to confirm was confirmed before this: see `pull`.)
        crate::link::refresh::invalidate_as(db, link, reason, &message, now, Actor::system("sync"))
            .await?;
        state::record_failure(db, account.id, resource, now, &message, None).await?;
        return Ok(PullOutcome::Invalidated(reason));
    }
    if action == Action::RenewAndRetry {
        // Still refused after a renewal.
        // The grant may live on: make the token due for refresh now (the refresh scan takes it),
        // unless a refresh changed the link meanwhile.
        link::Entity::update_many()
            .col_expr(link::Column::AccessTokenExpiresAt, Expr::value(Some(now)))
            .filter(link::Column::Id.eq(link.id))
            .filter(link::Column::Version.eq(link.version))
            .exec(db)
            .await?;
    }
    let previous = state::get_or_create(db, account.organization_id, account.id, resource).await?;
    let failures = previous.consecutive_failures.saturating_add(1);
    let cap = if resource == SyncResource::Stories {
        cadence.stories_every
    } else {
        MAX_BACKOFF
    };
    let backoff_until = now + backoff(failures, cap);
    let retry_at = error.retry_at(now);
    let next = retry_at.map_or(backoff_until, |at| at.max(backoff_until));
    let failures =
        state::record_failure(db, account.id, resource, now, &message, Some(next)).await?;
    if failures == FAILURES_BEFORE_EVENT {
        freshness_event(
            db,
            account,
            json!({
                "resource": resource.as_str(),
                "problem": "PULL_FAILING",
                "consecutiveFailures": failures,
                "lastError": message,
            }),
            now,
        )
        .await?;
    }
    // A transient failure or a short wait is worth another attempt by the job itself; a long
    // rate-limit window or a refused request waits for the next scan after `next`.
    let retry_soon = match (&action, retry_at) {
        (_, Some(at)) if at - now <= Duration::seconds(60) => {
            Some((at - now).to_std().unwrap_or_default())
        }
        (_, Some(_)) => None,
        (Action::Retry { .. }, None) => Some(std::time::Duration::ZERO),
        _ => None,
    };
    Ok(PullOutcome::Failed {
        message,
        next_run_at: next,
        retry_soon,
    })
}

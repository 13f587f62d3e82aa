//! The campaign report: totals and per-creator, per-platform and per-content rows of views,
//! reach, engagements, video views, engagement rates, story count and story reach, and a time
//! series per day. Content whose account is not linked any more is flagged: its numbers are the
//! last ones seen, with their date, so the brand knows whom to ask to reconnect.
//!
//! Definitions, the same on every platform as far as each one reports them:
//! - views: the platform's views (Instagram `views`, TikTok `view_count`, YouTube `viewCount`);
//! - engagements: likes + comments + shares + saves, each counted where the platform has it
//!   (TikTok has no saves, YouTube neither shares nor saves); a platform that gives only a total
//!   (`total_interactions`) is taken at its total;
//! - video views: the platform's video views, else the views of a video or reel;
//! - engagement rate by reach: engagements / reach; by followers: engagements / the followers of
//!   the accounts that posted. Rates are `None` when the denominator is unknown or zero.
//!
//! Only metrics captured up to the end of tracking (campaign end + 30 days) count.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{cadence, content, get, CampaignAccess};
use crate::entities::{
    campaign, campaign_content, creator_profile, link, media, media_metric, social_account,
};
use crate::error::DomainResult;
use crate::kinds::{LinkStatus, MediaKind, Platform};
use crate::link::status::{derive, LinkState};
use crate::tenant::OrgId;

/// One content item's counters at one moment; what a platform does not report is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    pub engagements: Option<i64>,
    pub video_views: Option<i64>,
}

impl Counters {
    /// The counters of a stored metric row for a media item of `kind`.
    pub fn of(m: &media_metric::Model, kind: MediaKind) -> Counters {
        let parts = [m.likes, m.comments, m.shares, m.saves];
        let engagements = if parts.iter().any(Option::is_some) {
            Some(parts.iter().flatten().sum())
        } else {
            m.engagements
        };
        let video_views = m.video_views.or(match kind {
            MediaKind::Video | MediaKind::Reel => m.views,
            MediaKind::Post | MediaKind::Story => None,
        });
        Counters {
            views: m.views,
            reach: m.reach,
            likes: m.likes,
            comments: m.comments,
            shares: m.shares,
            saves: m.saves,
            engagements,
            video_views,
        }
    }
}

/// Sums over a set of content items.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub content_count: i64,
    pub views: i64,
    pub reach: i64,
    pub engagements: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub saves: i64,
    pub video_views: i64,
    pub story_count: i64,
    pub story_reach: i64,
    /// The followers of the distinct accounts whose content is counted.
    pub followers: i64,
    pub engagement_rate_by_reach: Option<f64>,
    pub engagement_rate_by_followers: Option<f64>,
}

fn rate(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Adds items up: `items` are (account id, followers, kind, counters).
fn sum<'a>(
    items: impl IntoIterator<Item = (Uuid, Option<i64>, MediaKind, &'a Counters)>,
) -> Totals {
    let mut t = Totals::default();
    let mut accounts: BTreeMap<Uuid, i64> = BTreeMap::new();
    for (account, followers, kind, c) in items {
        t.content_count += 1;
        t.views += c.views.unwrap_or(0);
        t.reach += c.reach.unwrap_or(0);
        t.engagements += c.engagements.unwrap_or(0);
        t.likes += c.likes.unwrap_or(0);
        t.comments += c.comments.unwrap_or(0);
        t.shares += c.shares.unwrap_or(0);
        t.saves += c.saves.unwrap_or(0);
        t.video_views += c.video_views.unwrap_or(0);
        if kind == MediaKind::Story {
            t.story_count += 1;
            t.story_reach += c.reach.unwrap_or(0);
        }
        accounts.insert(account, followers.unwrap_or(0));
    }
    t.followers = accounts.values().sum();
    t.engagement_rate_by_reach = rate(t.engagements, t.reach);
    t.engagement_rate_by_followers = rate(t.engagements, t.followers);
    t
}

/// One content item of the report.
#[derive(Debug, Clone)]
pub struct ContentRow {
    pub content_id: Uuid,
    pub media_id: Uuid,
    pub kind: MediaKind,
    pub platform: Platform,
    pub account_id: Uuid,
    pub handle: String,
    pub profile_id: Option<Uuid>,
    pub profile_name: Option<String>,
    pub permalink: Option<String>,
    pub caption: Option<String>,
    pub taken_at: DateTime<Utc>,
    pub matched_by: crate::kinds::MatchedBy,
    pub matched_rule: Option<String>,
    pub followers: Option<i64>,
    pub counters: Counters,
    pub engagement_rate_by_reach: Option<f64>,
    pub engagement_rate_by_followers: Option<f64>,
    /// When the counters were captured; `None` when none were yet.
    pub metrics_as_of: Option<DateTime<Utc>>,
    /// The account's link status now.
    pub account_status: LinkStatus,
    /// True when the account is not linked (NOT_LINKED, EXPIRED, INVALID): the counters are the
    /// last ones seen and will not move until the creator reconnects.
    pub stale: bool,
}

/// A creator's part of the report.
#[derive(Debug, Clone)]
pub struct CreatorRow {
    pub profile_id: Option<Uuid>,
    pub profile_name: Option<String>,
    pub totals: Totals,
    /// Handles of this creator's accounts with stale content: whom to ask to reconnect.
    pub stale_accounts: Vec<String>,
}

/// A platform's part of the report.
#[derive(Debug, Clone)]
pub struct PlatformRow {
    pub platform: Platform,
    pub totals: Totals,
}

/// The totals as of the end of one day (UTC), each item at its latest counters by then.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub day: NaiveDate,
    pub totals: Totals,
}

/// A campaign's report at one moment.
#[derive(Debug, Clone)]
pub struct Report {
    pub campaign: campaign::Model,
    pub generated_at: DateTime<Utc>,
    pub totals: Totals,
    pub creators: Vec<CreatorRow>,
    pub platforms: Vec<PlatformRow>,
    pub content: Vec<ContentRow>,
    pub days: Vec<DayRow>,
}

/// What the report is built from, loaded by [`load`].
pub struct Inputs {
    pub campaign: campaign::Model,
    pub content: Vec<(campaign_content::Model, media::Model)>,
    pub accounts: HashMap<Uuid, social_account::Model>,
    pub links: HashMap<Uuid, link::Model>,
    pub profiles: HashMap<Uuid, creator_profile::Model>,
    /// Every metric row of the content's media, any order.
    pub metrics: Vec<media_metric::Model>,
}

/// The campaign's report, as the caller may see it.
pub async fn load(
    db: &impl ConnectionTrait,
    org: OrgId,
    access: &CampaignAccess,
    campaign_id: Uuid,
    now: DateTime<Utc>,
    expiring_window: Duration,
) -> DomainResult<Report> {
    let campaign = get(db, org, access, campaign_id).await?;
    let items = content::list(db, org, access, campaign_id, false).await?;
    let account_ids: BTreeSet<Uuid> = items.iter().map(|(c, _)| c.account_id).collect();
    let accounts: HashMap<Uuid, social_account::Model> = social_account::Entity::find()
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::Id.is_in(account_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let links: HashMap<Uuid, link::Model> = link::Entity::find()
        .filter(link::Column::OrganizationId.eq(org.uuid()))
        .filter(link::Column::AccountId.is_in(account_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.account_id, l))
        .collect();
    let profile_ids: BTreeSet<Uuid> = items.iter().filter_map(|(c, _)| c.profile_id).collect();
    let profiles: HashMap<Uuid, creator_profile::Model> = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile::Column::Id.is_in(profile_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let metrics = media_metric::Entity::find()
        .filter(media_metric::Column::OrganizationId.eq(org.uuid()))
        .filter(media_metric::Column::MediaId.is_in(items.iter().map(|(_, m)| m.id)))
        .filter(media_metric::Column::CapturedAt.lte(campaign.ends_at + cadence::AFTER_END))
        .order_by_asc(media_metric::Column::CapturedAt)
        .all(db)
        .await?;
    Ok(build(
        Inputs {
            campaign,
            content: items,
            accounts,
            links,
            profiles,
            metrics,
        },
        now,
        expiring_window,
    ))
}

/// Builds the report from loaded rows (pure: no database, no clock but `now`).
pub fn build(inputs: Inputs, now: DateTime<Utc>, expiring_window: Duration) -> Report {
    let mut by_media: HashMap<Uuid, Vec<&media_metric::Model>> = HashMap::new();
    for m in &inputs.metrics {
        by_media.entry(m.media_id).or_default().push(m);
    }
    for series in by_media.values_mut() {
        series.sort_by_key(|m| m.captured_at);
    }
    let mut content = Vec::new();
    for (c, m) in &inputs.content {
        let Some(account) = inputs.accounts.get(&c.account_id) else {
            continue;
        };
        let latest = by_media.get(&m.id).and_then(|s| s.last().copied());
        let counters = latest.map(|l| Counters::of(l, m.kind)).unwrap_or_default();
        let account_status = inputs
            .links
            .get(&account.id)
            .map(|l| {
                derive(
                    &LinkState {
                        stored: l.status,
                        invalid_reason: l.invalid_reason,
                        authenticated_at: l.authenticated_at,
                        expires_at: l.expires_at,
                    },
                    now,
                    expiring_window,
                )
                .status
            })
            .unwrap_or(LinkStatus::NotLinked);
        let engagements = counters.engagements.unwrap_or(0);
        content.push(ContentRow {
            content_id: c.id,
            media_id: m.id,
            kind: m.kind,
            platform: account.platform,
            account_id: account.id,
            handle: account.handle.clone(),
            profile_id: c.profile_id,
            profile_name: c
                .profile_id
                .and_then(|p| inputs.profiles.get(&p))
                .map(|p| p.name.clone()),
            permalink: m.permalink.clone(),
            caption: m.caption.clone(),
            taken_at: m.taken_at,
            matched_by: c.matched_by,
            matched_rule: c.matched_rule.clone(),
            followers: account.followers,
            counters,
            engagement_rate_by_reach: rate(engagements, counters.reach.unwrap_or(0)),
            engagement_rate_by_followers: rate(engagements, account.followers.unwrap_or(0)),
            metrics_as_of: latest.map(|l| l.captured_at),
            account_status,
            stale: !matches!(
                account_status,
                LinkStatus::Linked | LinkStatus::ExpiringSoon
            ),
        });
    }
    let of_rows = |rows: &[&ContentRow]| {
        sum(rows
            .iter()
            .map(|r| (r.account_id, r.followers, r.kind, &r.counters)))
    };
    let all: Vec<&ContentRow> = content.iter().collect();
    let totals = of_rows(&all);

    let mut creator_keys: Vec<Option<Uuid>> = Vec::new();
    for r in &content {
        if !creator_keys.contains(&r.profile_id) {
            creator_keys.push(r.profile_id);
        }
    }
    let creators = creator_keys
        .into_iter()
        .map(|key| {
            let rows: Vec<&ContentRow> = content.iter().filter(|r| r.profile_id == key).collect();
            let stale_accounts: BTreeSet<String> = rows
                .iter()
                .filter(|r| r.stale)
                .map(|r| r.handle.clone())
                .collect();
            CreatorRow {
                profile_id: key,
                profile_name: rows.first().and_then(|r| r.profile_name.clone()),
                totals: of_rows(&rows),
                stale_accounts: stale_accounts.into_iter().collect(),
            }
        })
        .collect();

    let platforms_present: BTreeSet<&str> = content.iter().map(|r| r.platform.as_str()).collect();
    let platforms = [
        Platform::Instagram,
        Platform::Facebook,
        Platform::Tiktok,
        Platform::Youtube,
    ]
    .into_iter()
    .filter(|p| platforms_present.contains(p.as_str()))
    .map(|platform| {
        let rows: Vec<&ContentRow> = content.iter().filter(|r| r.platform == platform).collect();
        PlatformRow {
            platform,
            totals: of_rows(&rows),
        }
    })
    .collect();

    let days = time_series(&inputs, &by_media);
    Report {
        campaign: inputs.campaign,
        generated_at: now,
        totals,
        creators,
        platforms,
        content,
        days,
    }
}

/// One row per day from the first capture to the last, each item at its latest counters by the
/// end of that day (an item not captured yet counts nothing).
fn time_series(
    inputs: &Inputs,
    by_media: &HashMap<Uuid, Vec<&media_metric::Model>>,
) -> Vec<DayRow> {
    let captured = inputs.metrics.iter().map(|m| m.captured_at.date_naive());
    let (Some(first), Some(last)) = (captured.clone().min(), captured.max()) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    let mut day = first;
    while day <= last {
        let Some(end_of_day) = day.succ_opt() else {
            break;
        };
        let end_of_day = end_of_day.and_time(chrono::NaiveTime::MIN).and_utc();
        let mut items = Vec::new();
        for (c, m) in &inputs.content {
            let Some(account) = inputs.accounts.get(&c.account_id) else {
                continue;
            };
            let latest = by_media
                .get(&m.id)
                .and_then(|s| s.iter().rev().find(|x| x.captured_at < end_of_day));
            if let Some(l) = latest {
                items.push((
                    account.id,
                    account.followers,
                    m.kind,
                    Counters::of(l, m.kind),
                ));
            }
        }
        rows.push(DayRow {
            day,
            totals: sum(items.iter().map(|(a, f, k, c)| (*a, *f, *k, c))),
        });
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    rows
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;

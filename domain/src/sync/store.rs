//! Storing what a pull brought: media (and stories) upserted by (account, platform id), one
//! counters capture per item and pull, daily snapshots upserted by (account, day), and the
//! audience row upserted by account. Re-pulls update rows; the unique keys make duplicates
//! impossible even when two pulls race.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::entities::{audience, media, media_metric, metric_snapshot, social_account};
use crate::kinds::MediaKind;
use crate::platforms::{Audience, DailyMetrics, MediaItem};

/// How long a story is served when the platform gives no expiry (Instagram: 24 hours).
pub const STORY_LIFETIME: Duration = Duration::hours(24);

/// One stored media item.
#[derive(Debug, Clone)]
pub struct Stored {
    pub media: media::Model,
    /// First seen by this pull.
    pub new: bool,
}

/// Upserts `item` of `account` and records its counters as captured at `now` (once per `now`).
pub async fn upsert_media(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    item: &MediaItem,
    now: DateTime<Utc>,
) -> Result<Stored, sea_orm::DbErr> {
    let taken_at = item.taken_at.unwrap_or(now);
    let expires_at = (item.kind == MediaKind::Story).then(|| taken_at + STORY_LIFETIME);
    let row = media::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(account.organization_id),
        account_id: Set(account.id),
        platform_media_id: Set(item.platform_media_id.clone()),
        kind: Set(item.kind),
        caption: Set(item.caption.clone()),
        permalink: Set(item.permalink.clone()),
        media_url: Set(item.media_url.clone()),
        thumbnail_url: Set(item.thumbnail_url.clone()),
        taken_at: Set(taken_at),
        expires_at: Set(expires_at),
        first_seen_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = media::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([media::Column::AccountId, media::Column::PlatformMediaId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let existing = media::Entity::find()
        .filter(media::Column::AccountId.eq(account.id))
        .filter(media::Column::PlatformMediaId.eq(item.platform_media_id.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("media".into()))?;
    let new = inserted == 1;
    let stored = if new {
        existing
    } else {
        // Captions get edited and CDN URLs rotate: keep the latest; keep what the platform no
        // longer sends (an expired story's URL stays as captured).
        let mut active: media::ActiveModel = existing.clone().into();
        active.kind = Set(item.kind);
        if item.caption.is_some() {
            active.caption = Set(item.caption.clone());
        }
        if item.permalink.is_some() {
            active.permalink = Set(item.permalink.clone());
        }
        if item.media_url.is_some() {
            active.media_url = Set(item.media_url.clone());
        }
        if item.thumbnail_url.is_some() {
            active.thumbnail_url = Set(item.thumbnail_url.clone());
        }
        active.updated_at = Set(now);
        active.update(db).await?
    };
    capture(db, &stored, item, now).await?;
    Ok(Stored { media: stored, new })
}

/// Records `item`'s counters as captured at `now`, unless this pull did already.
async fn capture(
    db: &impl ConnectionTrait,
    m: &media::Model,
    item: &MediaItem,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let already = media_metric::Entity::find()
        .filter(media_metric::Column::MediaId.eq(m.id))
        .filter(media_metric::Column::CapturedAt.eq(now))
        .one(db)
        .await?;
    if already.is_some() {
        return Ok(());
    }
    let c = &item.metrics;
    media_metric::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(m.organization_id),
        media_id: Set(m.id),
        captured_at: Set(now),
        views: Set(c.views),
        reach: Set(c.reach),
        likes: Set(c.likes),
        comments: Set(c.comments),
        shares: Set(c.shares),
        saves: Set(c.saves),
        engagements: Set(c.engagements),
        video_views: Set(c.video_views),
        replies: Set(c.replies),
        extra: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Upserts one day's account counters by (account, day).
pub async fn upsert_snapshot(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    day: &DailyMetrics,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut extra = Map::new();
    for (key, value) in [
        ("followersGained", day.followers_gained),
        ("accountsEngaged", day.accounts_engaged),
        ("minutesWatched", day.minutes_watched),
    ] {
        if let Some(v) = value {
            extra.insert(key.to_owned(), json!(v));
        }
    }
    let row = metric_snapshot::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(account.organization_id),
        account_id: Set(account.id),
        day: Set(day.day),
        followers: Set(day.followers),
        views: Set(day.views),
        reach: Set(day.reach),
        engagements: Set(day.engagements),
        video_views: Set(day.video_views),
        likes: Set(None),
        comments: Set(None),
        shares: Set(None),
        saves: Set(None),
        extra: Set((!extra.is_empty()).then_some(Value::Object(extra))),
        fetched_at: Set(now),
    };
    metric_snapshot::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                metric_snapshot::Column::AccountId,
                metric_snapshot::Column::Day,
            ])
            .update_columns([
                metric_snapshot::Column::Followers,
                metric_snapshot::Column::Views,
                metric_snapshot::Column::Reach,
                metric_snapshot::Column::Engagements,
                metric_snapshot::Column::VideoViews,
                metric_snapshot::Column::Extra,
                metric_snapshot::Column::FetchedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The account's follower count on `day`'s snapshot when the platform's daily series has none
/// (Instagram and TikTok report only the current total): today's snapshot gets the profile's.
pub async fn set_followers_today(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    day: chrono::NaiveDate,
    followers: i64,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let existing = metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::AccountId.eq(account.id))
        .filter(metric_snapshot::Column::Day.eq(day))
        .one(db)
        .await?;
    match existing {
        Some(row) if row.followers.is_none() => {
            let mut active: metric_snapshot::ActiveModel = row.into();
            active.followers = Set(Some(followers));
            active.update(db).await?;
        }
        Some(_) => {}
        None => {
            let mut empty = DailyMetrics::empty(day);
            empty.followers = Some(followers);
            upsert_snapshot(db, account, &empty, now).await?;
        }
    }
    Ok(())
}

fn shares_json(shares: &[(String, f64)]) -> Option<Value> {
    if shares.is_empty() {
        return None;
    }
    Some(Value::Object(
        shares.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
    ))
}

/// Upserts the account's audience row: the shares, or the platform's reason for having none.
pub async fn upsert_audience(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    value: &Audience,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let (reason, age, gender, country) = match value {
        Audience::Available {
            age,
            gender,
            country,
        } => (
            None,
            shares_json(age),
            shares_json(gender),
            shares_json(country),
        ),
        Audience::Unavailable { reason } => (Some(reason.clone()), None, None, None),
    };
    let row = audience::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(account.organization_id),
        account_id: Set(account.id),
        unavailable_reason: Set(reason),
        age: Set(age),
        gender: Set(gender),
        country: Set(country),
        fetched_at: Set(now),
    };
    audience::Entity::insert(row)
        .on_conflict(
            OnConflict::column(audience::Column::AccountId)
                .update_columns([
                    audience::Column::UnavailableReason,
                    audience::Column::Age,
                    audience::Column::Gender,
                    audience::Column::Country,
                    audience::Column::FetchedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

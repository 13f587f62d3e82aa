//! Storing what a pull brought: media (and stories) upserted by (account, platform id), one
//! counters capture per item and pull, daily snapshots upserted by (account, day), and the
//! audience row upserted by account. Re-pulls update rows; the unique keys make duplicates
//! impossible even when two pulls race.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
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

/// Records `item`'s counters as captured at `now`, unless this pull did already (the sync pulls
/// and the campaign pulls both capture through here). A counter the reply does not carry (a
/// private video has no `statistics`, a creator hid the like count) keeps its last captured
/// value: NULL means "not sent", never "zero" or "erase". A reply with no counter at all records
/// nothing.
pub async fn capture(
    db: &impl ConnectionTrait,
    m: &media::Model,
    item: &MediaItem,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let c = &item.metrics;
    let sent = [
        c.views,
        c.reach,
        c.likes,
        c.comments,
        c.shares,
        c.saves,
        c.engagements,
        c.video_views,
        c.replies,
    ];
    if sent.iter().all(Option::is_none) {
        return Ok(false);
    }
    let already = media_metric::Entity::find()
        .filter(media_metric::Column::MediaId.eq(m.id))
        .filter(media_metric::Column::CapturedAt.eq(now))
        .one(db)
        .await?;
    if already.is_some() {
        return Ok(false);
    }
    let last = media_metric::Entity::find()
        .filter(media_metric::Column::MediaId.eq(m.id))
        .filter(media_metric::Column::CapturedAt.lt(now))
        .order_by_desc(media_metric::Column::CapturedAt)
        .one(db)
        .await?;
    let or_last = |value: Option<i64>, stored: fn(&media_metric::Model) -> Option<i64>| {
        value.or_else(|| last.as_ref().and_then(stored))
    };
    media_metric::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(m.organization_id),
        media_id: Set(m.id),
        captured_at: Set(now),
        views: Set(or_last(c.views, |l| l.views)),
        reach: Set(or_last(c.reach, |l| l.reach)),
        likes: Set(or_last(c.likes, |l| l.likes)),
        comments: Set(or_last(c.comments, |l| l.comments)),
        shares: Set(or_last(c.shares, |l| l.shares)),
        saves: Set(or_last(c.saves, |l| l.saves)),
        engagements: Set(or_last(c.engagements, |l| l.engagements)),
        video_views: Set(or_last(c.video_views, |l| l.video_views)),
        replies: Set(or_last(c.replies, |l| l.replies)),
        extra: Set(last.as_ref().and_then(|l| l.extra.clone())),
    }
    .insert(db)
    .await?;
    Ok(true)
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
    // A re-read day keeps what this reply does not carry: YouTube's daily rows have no follower
    // count, and a platform may drop a metric for a day it revised. NULL means "not sent".
    let keep = |col: &str| {
        Expr::cust(format!(
            "COALESCE(\"excluded\".\"{col}\", \"metric_snapshot\".\"{col}\")"
        ))
    };
    let mut on_conflict = OnConflict::columns([
        metric_snapshot::Column::AccountId,
        metric_snapshot::Column::Day,
    ]);
    on_conflict
        .value(metric_snapshot::Column::Followers, keep("followers"))
        .value(metric_snapshot::Column::Views, keep("views"))
        .value(metric_snapshot::Column::Reach, keep("reach"))
        .value(metric_snapshot::Column::Engagements, keep("engagements"))
        .value(metric_snapshot::Column::VideoViews, keep("video_views"))
        .value(
            metric_snapshot::Column::Extra,
            merge_json(db.get_database_backend(), "metric_snapshot", "extra"),
        )
        .update_column(metric_snapshot::Column::FetchedAt);
    metric_snapshot::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The stored JSON object `table.col` with the keys of the incoming one laid over it: keys the
/// reply did not send keep their stored values.
fn merge_json(backend: DbBackend, table: &str, col: &str) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!(
            "COALESCE(\"{table}\".\"{col}\", '{{}}'::jsonb) || COALESCE(\"excluded\".\"{col}\", '{{}}'::jsonb)"
        )),
        _ => Expr::cust(format!(
            "json_patch(COALESCE(\"{table}\".\"{col}\", '{{}}'), COALESCE(\"excluded\".\"{col}\", '{{}}'))"
        )),
    }
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

/// A breakdown column on re-pull: when the platform says the audience is unavailable (a
/// statement, not an omission) the shares go; otherwise a breakdown this reply lacks keeps the
/// stored one.
fn shares_or_stored(unavailable: bool, col: &str) -> Expr {
    if unavailable {
        Expr::cust(format!("\"excluded\".\"{col}\""))
    } else {
        Expr::cust(format!(
            "COALESCE(\"excluded\".\"{col}\", \"audience\".\"{col}\")"
        ))
    }
}

/// Upserts the account's audience row: the shares, or the platform's reason for having none.
pub async fn upsert_audience(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    value: &Audience,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let (reason, age, gender, country): (Option<String>, _, _, _) = match value {
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
    let unavailable = reason.is_some();
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
                    audience::Column::FetchedAt,
                ])
                .values([
                    (audience::Column::Age, shares_or_stored(unavailable, "age")),
                    (
                        audience::Column::Gender,
                        shares_or_stored(unavailable, "gender"),
                    ),
                    (
                        audience::Column::Country,
                        shares_or_stored(unavailable, "country"),
                    ),
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

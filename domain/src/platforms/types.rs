//! The values the platform clients hand back, the same for every platform.

use crate::kinds::{MediaKind, Platform};
use crate::secret::Secret;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The tokens a platform granted, with absolute expiry times computed from its relative
/// `expires_in` values and the `now` the caller passed (lifetimes are never assumed).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSet {
    /// The bearer token for API calls.
    pub access_token: Secret,
    /// When the access token stops working, if the platform said.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// The refresh token, when the platform issued one in this response. `None` after a Google
    /// refresh (Google keeps the old one valid) and always for Meta (no refresh tokens): the caller
    /// keeps its stored refresh token and never overwrites it with nothing.
    pub refresh_token: Option<Secret>,
    /// When the refresh token stops working, if the platform said (TikTok `refresh_expires_in`).
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Meta's `data_access_expires_at`: permission-gated reads fail after it until the user logs in again.
    pub data_access_expires_at: Option<DateTime<Utc>>,
    /// The scopes the user actually granted (may be a subset of those requested).
    pub granted_scopes: Vec<String>,
    /// The platform's id for the user who granted (Meta app-scoped user id, TikTok `open_id`),
    /// when the token response carries it.
    pub provider_user_id: Option<String>,
}

/// `now + seconds`, or `None` for a missing, zero or negative lifetime.
pub(crate) fn expires_at(now: DateTime<Utc>, seconds: Option<i64>) -> Option<DateTime<Utc>> {
    seconds
        .filter(|s| *s > 0)
        .and_then(|s| now.checked_add_signed(Duration::seconds(s)))
}

/// A Unix timestamp as a time, `None` for 0 (Meta's "never") or out of range.
pub(crate) fn from_unix(seconds: Option<i64>) -> Option<DateTime<Utc>> {
    seconds
        .filter(|s| *s > 0)
        .and_then(|s| DateTime::from_timestamp(s, 0))
}

/// What the caller holds when asking for fresh tokens.
#[derive(Debug, Clone)]
pub struct RefreshInput {
    /// The current access token (Meta re-exchanges it; it must still be valid).
    pub access_token: Secret,
    /// The stored refresh token (TikTok, Google). Without one those platforms cannot refresh and
    /// the link needs a new login.
    pub refresh_token: Option<Secret>,
}

/// One account as the platform describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Which platform the account is on.
    pub platform: Platform,
    /// The platform's id for the account: Instagram user id, Facebook Page id, TikTok `open_id`,
    /// YouTube channel id. This is the `account_id` the read methods take.
    pub platform_user_id: String,
    /// The public handle (`ana.travels`, `@anatravels`), when there is one.
    pub handle: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// The avatar URL (often a short-lived CDN link).
    pub avatar_url: Option<String>,
    /// Followers or subscribers, when visible.
    pub followers: Option<i64>,
    /// The creator hides the count (YouTube `hiddenSubscriberCount`): `followers` is `None` by
    /// choice, and a stored count must not be shown as current.
    pub followers_hidden: bool,
    /// Platform-specific extras (bio, counts, uploads playlist, owning Page, …) as JSON.
    pub extra: serde_json::Value,
}

/// The Instagram professional account attached to a Facebook Page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstagramAccount {
    /// The Instagram user id (`1784…`).
    pub id: String,
    /// The Instagram username, when Meta included it.
    pub username: Option<String>,
}

/// A Facebook Page the user manages, from `/me/accounts`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaPage {
    /// The Page id.
    pub page_id: String,
    /// The Page name.
    pub name: Option<String>,
    /// The Page access token (no time expiry when obtained with a long-lived user token).
    pub page_access_token: Secret,
    /// The Instagram professional account linked to the Page, if any.
    pub instagram: Option<InstagramAccount>,
}

/// Per-item counters. `None` means the platform did not report it (not zero).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaMetrics {
    /// Views (Instagram `views`, TikTok `view_count`, YouTube `viewCount`).
    pub views: Option<i64>,
    /// Accounts reached (Instagram only).
    pub reach: Option<i64>,
    /// Likes.
    pub likes: Option<i64>,
    /// Comments.
    pub comments: Option<i64>,
    /// Shares.
    pub shares: Option<i64>,
    /// Saves (Instagram `saved`).
    pub saves: Option<i64>,
    /// Total interactions (Instagram `total_interactions`).
    pub engagements: Option<i64>,
    /// Video views where the platform distinguishes them (TikTok and YouTube: same as `views`).
    pub video_views: Option<i64>,
    /// Story replies (Instagram; 0 in EU/Japan privacy regions).
    pub replies: Option<i64>,
}

/// A post, reel, video or story with its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaItem {
    /// The platform's id for the item.
    pub platform_media_id: String,
    /// What kind of content it is.
    pub kind: MediaKind,
    /// Caption, description or title.
    pub caption: Option<String>,
    /// The public link.
    pub permalink: Option<String>,
    /// The media file URL (short-lived CDN link).
    pub media_url: Option<String>,
    /// A thumbnail or cover URL.
    pub thumbnail_url: Option<String>,
    /// When it was published.
    pub taken_at: Option<DateTime<Utc>>,
    /// Its counters at fetch time.
    pub metrics: MediaMetrics,
}

/// Account-level counters for one day. `None` means not reported.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyMetrics {
    /// The day (UTC for Meta, the channel's reporting day for YouTube).
    pub day: NaiveDate,
    /// Total followers at the end of the day, when the platform reports it.
    pub followers: Option<i64>,
    /// New followers or subscribers that day (Instagram `follower_count`, YouTube `subscribersGained`).
    pub followers_gained: Option<i64>,
    /// Views.
    pub views: Option<i64>,
    /// Accounts reached (Instagram).
    pub reach: Option<i64>,
    /// Interactions (Instagram `total_interactions`; YouTube likes + comments + shares).
    pub engagements: Option<i64>,
    /// Accounts engaged (Instagram).
    pub accounts_engaged: Option<i64>,
    /// Video views (YouTube: same as `views`).
    pub video_views: Option<i64>,
    /// Minutes watched (YouTube `estimatedMinutesWatched`).
    pub minutes_watched: Option<i64>,
}

impl DailyMetrics {
    /// A day with nothing reported yet.
    pub fn empty(day: NaiveDate) -> Self {
        DailyMetrics {
            day,
            followers: None,
            followers_gained: None,
            views: None,
            reach: None,
            engagements: None,
            accounts_engaged: None,
            video_views: None,
            minutes_watched: None,
        }
    }
}

/// Who follows or watches an account. Shares are percentages (0–100) of the audience.
#[derive(Debug, Clone, PartialEq)]
pub enum Audience {
    /// Demographics as (bucket, percent) pairs, largest first.
    Available {
        /// Age buckets (`18-24`, `25-34`, …).
        age: Vec<(String, f64)>,
        /// Gender buckets (`female`, `male`, `unknown`/`user_specified`).
        gender: Vec<(String, f64)>,
        /// ISO country codes.
        country: Vec<(String, f64)>,
    },
    /// The platform gives no demographics for this account, and why (shown to users).
    Unavailable {
        /// A sentence a creator can read, e.g. "channel has under 1,000 subscribers".
        reason: String,
    },
}

/// Turns (bucket, weight) pairs into percentages of their total, merging equal buckets, largest
/// first. An empty or all-zero input gives an empty list.
pub(crate) fn shares(pairs: impl IntoIterator<Item = (String, f64)>) -> Vec<(String, f64)> {
    let mut merged: Vec<(String, f64)> = Vec::new();
    for (key, value) in pairs {
        if !value.is_finite() || value < 0.0 {
            continue;
        }
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v += value,
            None => merged.push((key, value)),
        }
    }
    let total: f64 = merged.iter().map(|(_, v)| v).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let mut out: Vec<(String, f64)> = merged
        .into_iter()
        .map(|(k, v)| (k, v * 100.0 / total))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

//! Parsers for Graph API bodies. Every field is optional and unknown fields are ignored; only a
//! body that is not JSON of the expected outline is [`PlatformError::Malformed`].

use crate::kinds::{MediaKind, Platform};
use crate::platforms::error::PlatformError;
use crate::platforms::http::{de, parse_json};
use crate::platforms::types::{expires_at, from_unix};
use crate::platforms::{InstagramAccount, MediaItem, MediaMetrics, MetaPage, Profile, TokenSet};
use crate::secret::Secret;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `/oauth/access_token` (code exchange or `fb_exchange_token`).
#[derive(Debug, Deserialize)]
pub(crate) struct AccessToken {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    pub expires_in: Option<i64>,
}

pub(crate) fn parse_access_token(body: &str) -> Result<(Secret, Option<i64>), PlatformError> {
    let t: AccessToken = parse_json(body, "Meta access token")?;
    let token = t
        .access_token
        .filter(|a| !a.is_empty())
        .ok_or_else(|| PlatformError::malformed("Meta token response has no access_token"))?;
    Ok((Secret::new(token), t.expires_in))
}

/// The parts of `/debug_token` we keep.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DebugToken {
    #[serde(default)]
    pub is_valid: Option<bool>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    pub expires_at: Option<i64>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    pub data_access_expires_at: Option<i64>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::lenient_string")]
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
struct DebugEnvelope {
    #[serde(default)]
    data: Option<DebugToken>,
}

pub(crate) fn parse_debug_token(body: &str) -> Result<DebugToken, PlatformError> {
    let envelope: DebugEnvelope = parse_json(body, "Meta debug_token")?;
    envelope
        .data
        .ok_or_else(|| PlatformError::malformed("Meta debug_token has no data"))
}

/// A long-lived user token with what `/debug_token` said about it. `expires_at` from
/// `debug_token` wins over `expires_in` (0 there means "never"); both are relative to nothing we
/// assume.
pub(crate) fn token_set(
    access_token: Secret,
    expires_in: Option<i64>,
    debug: &DebugToken,
    now: DateTime<Utc>,
) -> TokenSet {
    TokenSet {
        access_token,
        access_expires_at: from_unix(debug.expires_at).or_else(|| expires_at(now, expires_in)),
        refresh_token: None,
        refresh_expires_at: None,
        data_access_expires_at: from_unix(debug.data_access_expires_at),
        granted_scopes: debug.scopes.clone().unwrap_or_default(),
        provider_user_id: debug.user_id.clone().filter(|u| !u.is_empty()),
    }
}

/// Graph list envelopes: `data` plus `paging.cursors.after`, meaningful only with `paging.next`.
#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    paging: Option<Value>,
}

impl<T> List<T> {
    fn after(&self) -> Option<String> {
        let paging = self.paging.as_ref()?;
        paging.get("next")?;
        paging
            .pointer("/cursors/after")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

#[derive(Deserialize)]
struct PageRow {
    #[serde(default, deserialize_with = "de::lenient_string")]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    instagram_business_account: Option<IgRef>,
}

#[derive(Deserialize)]
struct IgRef {
    #[serde(default, deserialize_with = "de::lenient_string")]
    id: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

/// `/me/accounts`: Pages with their tokens and linked Instagram account (absent when none), and
/// the cursor of the next page. Rows without an id or token are skipped.
pub(crate) fn parse_pages(body: &str) -> Result<(Vec<MetaPage>, Option<String>), PlatformError> {
    let list: List<PageRow> = parse_json(body, "Meta /me/accounts")?;
    let after = list.after();
    let pages = list
        .data
        .into_iter()
        .filter_map(|row| {
            Some(MetaPage {
                page_id: row.id.filter(|i| !i.is_empty())?,
                name: row.name,
                page_access_token: Secret::new(row.access_token.filter(|t| !t.is_empty())?),
                instagram: row.instagram_business_account.and_then(|ig| {
                    Some(InstagramAccount {
                        id: ig.id.filter(|i| !i.is_empty())?,
                        username: ig.username,
                    })
                }),
            })
        })
        .collect();
    Ok((pages, after))
}

/// A Facebook Page as a profile.
pub(crate) fn page_profile(page: &MetaPage) -> Profile {
    Profile {
        platform: Platform::Facebook,
        platform_user_id: page.page_id.clone(),
        handle: None,
        display_name: page.name.clone(),
        avatar_url: None,
        followers: None,
        followers_hidden: false,
        extra: json!({ "instagram_id": page.instagram.as_ref().map(|ig| ig.id.clone()) }),
    }
}

/// `/{ig-user-id}?fields=…` as a profile; `page_id` is the Page it hangs from.
pub(crate) fn parse_ig_user(body: &str, page_id: &str) -> Result<Profile, PlatformError> {
    let user: Value = parse_json(body, "Meta Instagram user")?;
    let text = |k: &str| {
        user.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let number = |k: &str| user.get(k).and_then(de::value_i64);
    let id = user
        .get("id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
        .ok_or_else(|| PlatformError::malformed("Meta Instagram user has no id"))?;
    Ok(Profile {
        platform: Platform::Instagram,
        platform_user_id: id,
        handle: text("username"),
        display_name: text("name"),
        avatar_url: text("profile_picture_url"),
        followers: number("followers_count"),
        followers_hidden: false,
        extra: json!({
            "page_id": page_id,
            "biography": text("biography"),
            "website": text("website"),
            "follows_count": number("follows_count"),
            "media_count": number("media_count"),
        }),
    })
}

#[derive(Deserialize)]
struct MediaRow {
    #[serde(default, deserialize_with = "de::lenient_string")]
    id: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    media_product_type: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    media_url: Option<String>,
    #[serde(default)]
    thumbnail_url: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    like_count: Option<i64>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    comments_count: Option<i64>,
}

/// Graph timestamps look like `2026-11-20T07:14:22+0000` (no colon in the offset).
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `/{ig-user-id}/media` or `/stories`: items (counts from the list, insights added later) and the
/// next cursor. `media_product_type` decides the kind: REELS, STORY, else a post.
pub(crate) fn parse_media_page(
    body: &str,
) -> Result<(Vec<MediaItem>, Option<String>), PlatformError> {
    let list: List<MediaRow> = parse_json(body, "Meta media list")?;
    let after = list.after();
    let items = list
        .data
        .into_iter()
        .filter_map(|row| {
            let kind = match row.media_product_type.as_deref() {
                Some("REELS") => MediaKind::Reel,
                Some("STORY") => MediaKind::Story,
                _ => MediaKind::Post,
            };
            Some(MediaItem {
                platform_media_id: row.id.filter(|i| !i.is_empty())?,
                kind,
                caption: row.caption,
                permalink: row.permalink,
                media_url: row.media_url,
                thumbnail_url: row.thumbnail_url,
                taken_at: row.timestamp.as_deref().and_then(parse_time),
                metrics: MediaMetrics {
                    likes: row.like_count,
                    comments: row.comments_count,
                    ..MediaMetrics::default()
                },
            })
        })
        .collect();
    Ok((items, after))
}

/// Insight name → value, from `values[0].value` (media insights, time series) or
/// `total_value.value` (account insights with `metric_type=total_value`). Missing data is absent,
/// not zero.
pub(crate) fn parse_insight_values(body: &str) -> Result<HashMap<String, i64>, PlatformError> {
    let list: List<Value> = parse_json(body, "Meta insights")?;
    Ok(list
        .data
        .iter()
        .filter_map(|metric| {
            let name = metric.get("name")?.as_str()?.to_owned();
            let value = metric
                .pointer("/total_value/value")
                .or_else(|| metric.pointer("/values/0/value"))
                .and_then(de::value_i64)?;
            Some((name, value))
        })
        .collect())
}

/// Folds media or story insights into `metrics`; insights win over the list's counts.
pub(crate) fn apply_insights(metrics: &mut MediaMetrics, values: &HashMap<String, i64>) {
    let get = |k: &str| values.get(k).copied();
    metrics.reach = get("reach").or(metrics.reach);
    metrics.views = get("views").or(metrics.views);
    metrics.likes = get("likes").or(metrics.likes);
    metrics.comments = get("comments").or(metrics.comments);
    metrics.shares = get("shares").or(metrics.shares);
    metrics.saves = get("saved").or(metrics.saves);
    metrics.engagements = get("total_interactions").or(metrics.engagements);
    metrics.replies = get("replies").or(metrics.replies);
}

/// A `period=day` time series (`values: [{value, end_time}]`) as (day, value). `end_time` marks
/// the end of the day it counts, so the day is the one before it.
pub(crate) fn parse_daily_series(
    body: &str,
    metric: &str,
) -> Result<Vec<(NaiveDate, i64)>, PlatformError> {
    let list: List<Value> = parse_json(body, "Meta insights series")?;
    Ok(list
        .data
        .iter()
        .filter(|m| m.get("name").and_then(Value::as_str) == Some(metric))
        .filter_map(|m| m.get("values").and_then(Value::as_array))
        .flatten()
        .filter_map(|point| {
            let end = parse_time(point.get("end_time")?.as_str()?)?;
            Some((
                (end - Duration::days(1)).date_naive(),
                de::value_i64(point.get("value")?)?,
            ))
        })
        .collect())
}

/// `follower_demographics` with one breakdown: (bucket, follower count) pairs. Gender letters
/// become words.
pub(crate) fn parse_demographics(body: &str) -> Result<Vec<(String, f64)>, PlatformError> {
    let list: List<Value> = parse_json(body, "Meta demographics")?;
    Ok(list
        .data
        .iter()
        .filter_map(|m| {
            m.pointer("/total_value/breakdowns")
                .and_then(Value::as_array)
        })
        .flatten()
        .filter_map(|b| b.get("results").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| {
            let key = r.pointer("/dimension_values/0")?.as_str()?;
            let key = match key {
                "F" => "female",
                "M" => "male",
                "U" => "unknown",
                other => other,
            };
            Some((key.to_owned(), de::value_f64(r.get("value")?)?))
        })
        .collect())
}

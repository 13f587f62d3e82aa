//! Parsers for Google token responses, YouTube Data API and YouTube Analytics bodies. Counts
//! arrive as strings; fields and lists may be missing.

use crate::kinds::{MediaKind, Platform};
use crate::platforms::error::PlatformError;
use crate::platforms::http::{de, parse_json};
use crate::platforms::tiktok::split_scopes;
use crate::platforms::types::expires_at;
use crate::platforms::{MediaItem, MediaMetrics, Profile, TokenSet};
use crate::secret::Secret;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    refresh_token_expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// A Google token response. A refresh usually has no `refresh_token`: the result then has `None`
/// and the caller keeps the one it stored.
pub(crate) fn parse_token(body: &str, now: DateTime<Utc>) -> Result<TokenSet, PlatformError> {
    let t: TokenBody = parse_json(body, "Google token response")?;
    let access_token = t
        .access_token
        .filter(|a| !a.is_empty())
        .ok_or_else(|| PlatformError::malformed("Google token response has no access_token"))?;
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        access_expires_at: expires_at(now, t.expires_in),
        refresh_token: t.refresh_token.filter(|r| !r.is_empty()).map(Secret::new),
        refresh_expires_at: expires_at(now, t.refresh_token_expires_in),
        data_access_expires_at: None,
        granted_scopes: split_scopes(t.scope.as_deref().unwrap_or_default(), ' '),
        provider_user_id: None,
    })
}

/// What `channels.list` tells us about the one channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Channel {
    pub profile: Profile,
    pub uploads_playlist: Option<String>,
    pub subscribers: Option<i64>,
}

fn best_thumbnail(thumbnails: Option<&Value>) -> Option<String> {
    let thumbnails = thumbnails?;
    ["high", "medium", "default"]
        .iter()
        .find_map(|size| {
            thumbnails
                .pointer(&format!("/{size}/url"))
                .and_then(Value::as_str)
        })
        .map(str::to_owned)
}

/// `channels.list`: the first channel, or [`PlatformError::NoChannel`] when `items` is empty or
/// missing (a Google account without a YouTube channel).
pub(crate) fn parse_channel(body: &str) -> Result<Channel, PlatformError> {
    let list: Value = parse_json(body, "YouTube channels")?;
    let Some(item) = list
        .get("items")
        .and_then(Value::as_array)
        .and_then(|items| items.first())
    else {
        return Err(PlatformError::NoChannel);
    };
    let id = item
        .get("id")
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| PlatformError::malformed("YouTube channel has no id"))?;
    let text = |pointer: &str| {
        item.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let number = |pointer: &str| item.pointer(pointer).and_then(de::value_i64);
    let hidden = item
        .pointer("/statistics/hiddenSubscriberCount")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let subscribers = number("/statistics/subscriberCount").filter(|_| !hidden);
    let uploads_playlist = text("/contentDetails/relatedPlaylists/uploads");
    Ok(Channel {
        profile: Profile {
            platform: Platform::Youtube,
            platform_user_id: id.to_owned(),
            handle: text("/snippet/customUrl"),
            display_name: text("/snippet/title"),
            avatar_url: best_thumbnail(item.pointer("/snippet/thumbnails")),
            followers: subscribers,
            followers_hidden: hidden,
            extra: json!({
                "uploads_playlist": uploads_playlist,
                "view_count": number("/statistics/viewCount"),
                "video_count": number("/statistics/videoCount"),
                "hidden_subscriber_count": hidden,
                "description": text("/snippet/description"),
            }),
        },
        uploads_playlist,
        subscribers,
    })
}

/// `playlistItems.list`: (video id, published at) pairs and the next page token.
pub(crate) type PlaylistPage = (Vec<(String, Option<DateTime<Utc>>)>, Option<String>);

pub(crate) fn parse_playlist_items(body: &str) -> Result<PlaylistPage, PlatformError> {
    let page: Value = parse_json(body, "YouTube playlist items")?;
    let ids = page
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let id = item
                        .pointer("/contentDetails/videoId")
                        .and_then(Value::as_str)?
                        .to_owned();
                    let published = item
                        .pointer("/contentDetails/videoPublishedAt")
                        .and_then(Value::as_str)
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| t.with_timezone(&Utc));
                    Some((id, published))
                })
                .collect()
        })
        .unwrap_or_default();
    let next = page
        .get("nextPageToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok((ids, next))
}

/// `videos.list` items as media; counts are strings and `dislikeCount` is private. The caption
/// is the title, then the description after a blank line when there is one: creators put their
/// hashtags and mentions in the description, and campaigns match on them.
pub(crate) fn parse_videos(body: &str) -> Result<Vec<MediaItem>, PlatformError> {
    let list: Value = parse_json(body, "YouTube videos")?;
    let Some(items) = list.get("items").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    Ok(items
        .iter()
        .filter_map(|item| {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())?;
            let text = |p: &str| {
                item.pointer(p)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let number = |p: &str| item.pointer(p).and_then(de::value_i64);
            let views = number("/statistics/viewCount");
            Some(MediaItem {
                platform_media_id: id.to_owned(),
                kind: MediaKind::Video,
                caption: match (text("/snippet/title"), text("/snippet/description")) {
                    (Some(title), Some(description)) => Some(format!("{title}\n\n{description}")),
                    (title, description) => title.or(description),
                },
                permalink: Some(format!("https://www.youtube.com/watch?v={id}")),
                media_url: None,
                thumbnail_url: best_thumbnail(item.pointer("/snippet/thumbnails")),
                taken_at: text("/snippet/publishedAt")
                    .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                    .map(|t| t.with_timezone(&Utc)),
                metrics: MediaMetrics {
                    views,
                    likes: number("/statistics/likeCount"),
                    comments: number("/statistics/commentCount"),
                    video_views: views,
                    ..MediaMetrics::default()
                },
            })
        })
        .collect())
}

/// An Analytics `resultTable`: each row as column name → cell. Rows shorter than the headers
/// simply lack the trailing columns; no rows is an empty report.
pub(crate) fn parse_report(body: &str) -> Result<Vec<HashMap<String, Value>>, PlatformError> {
    let table: Value = parse_json(body, "YouTube Analytics report")?;
    let names: Vec<String> = table
        .get("columnHeaders")
        .and_then(Value::as_array)
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    h.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = table
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter_map(|row| match row {
            Value::Array(cells) => Some(names.iter().cloned().zip(cells).collect()),
            _ => None,
        })
        .collect())
}

/// The integer in a report cell.
pub(crate) fn cell_i64(row: &HashMap<String, Value>, column: &str) -> Option<i64> {
    row.get(column).and_then(de::value_i64)
}

/// The float in a report cell.
pub(crate) fn cell_f64(row: &HashMap<String, Value>, column: &str) -> Option<f64> {
    row.get(column).and_then(de::value_f64)
}

/// The text in a report cell.
pub(crate) fn cell_str<'a>(row: &'a HashMap<String, Value>, column: &str) -> Option<&'a str> {
    row.get(column).and_then(Value::as_str)
}

/// The day of a `dimensions=day` row.
pub(crate) fn cell_day(row: &HashMap<String, Value>) -> Option<NaiveDate> {
    cell_str(row, "day").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

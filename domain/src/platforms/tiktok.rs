//! TikTok Login Kit (OAuth v2) and Display API v2 (`platforms.md` §2).
//!
//! Token calls are hand-written form posts rather than oauth2's typed client: TikTok names the
//! client id `client_key`, can answer errors with HTTP 200, and we need the raw status and headers
//! (`Retry-After`) to classify failures the same way for every endpoint.

use super::error::{classify_tiktok, PlatformError};
use super::http::{de, endpoint, parse_json, secret_values, send, HttpReply};
use super::types::expires_at;
use super::{
    Audience, DailyMetrics, MediaItem, MediaMetrics, PlatformClient, PlatformConfig, Profile,
    RefreshInput, TokenSet,
};
use crate::kinds::{InvalidReason, MediaKind, Platform, Provider};
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::RequestBuilder;
use serde::Deserialize;
use serde_json::json;
use url::Url;

/// The scopes we ask for.
pub const REQUESTED: &[&str] = &[
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
];
/// Without these a TikTok link cannot show followers and videos.
const REQUIRED: &[&str] = &["user.info.basic", "user.info.stats", "video.list"];
/// User fields needing `user.info.basic` only; used when the richer request lacks a scope.
const BASIC_USER_FIELDS: &str = "open_id,union_id,avatar_url,display_name";
const USER_FIELDS: &str =
    "open_id,union_id,avatar_url,display_name,username,is_verified,follower_count,following_count,likes_count,video_count";
const VIDEO_FIELDS: &str =
    "id,create_time,title,video_description,duration,cover_image_url,share_url,view_count,like_count,comment_count,share_count";
/// The largest page `/v2/video/list/` accepts.
const VIDEO_PAGE_SIZE: u32 = 20;
/// Pages read per `media` call (200 videos), so one account cannot monopolize the rate budget.
const MAX_VIDEO_PAGES: usize = 10;

/// The TikTok client.
#[derive(Debug, Clone)]
pub struct TiktokClient {
    http: reqwest::Client,
    config: PlatformConfig,
}

impl TiktokClient {
    /// A client over a shared `reqwest::Client` (build it with [`super::http_client`] for the timeout).
    pub fn new(http: reqwest::Client, config: PlatformConfig) -> Result<Self, super::ConfigError> {
        config.validate()?;
        Ok(TiktokClient { http, config })
    }

    async fn call(
        &self,
        request: RequestBuilder,
        secrets: &[&str],
    ) -> Result<HttpReply, PlatformError> {
        let reply = send(request, secrets).await?;
        classify_tiktok(&reply, self.config.clock.now()).map_err(|e| e.redacted(secrets))?;
        Ok(reply)
    }

    async fn token_request(
        &self,
        form: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let url = endpoint(&self.config.token_base, &["v2", "oauth", "token", ""]);
        let secrets = secret_values(form);
        let reply = self.call(self.http.post(url).form(form), &secrets).await?;
        parse_token(&reply.body, now)
    }

    async fn user_info(&self, token: &Secret, fields: &str) -> Result<HttpReply, PlatformError> {
        let url = endpoint(&self.config.api_base, &["v2", "user", "info", ""]);
        let request = self
            .http
            .get(url)
            .query(&[("fields", fields)])
            .bearer_auth(token.expose());
        self.call(request, &[token.expose()]).await
    }
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    refresh_expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    open_id: Option<String>,
}

/// Reads a token response: comma-separated `scope`, lifetimes from `expires_in` and
/// `refresh_expires_in` (2 h/180 d or 24 h/365 d depending on the docs' age; never assumed).
pub(crate) fn parse_token(body: &str, now: DateTime<Utc>) -> Result<TokenSet, PlatformError> {
    let t: TokenBody = parse_json(body, "TikTok token response")?;
    let access_token = t
        .access_token
        .filter(|a| !a.is_empty())
        .ok_or_else(|| PlatformError::malformed("TikTok token response has no access_token"))?;
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        access_expires_at: expires_at(now, t.expires_in),
        refresh_token: t.refresh_token.filter(|r| !r.is_empty()).map(Secret::new),
        refresh_expires_at: expires_at(now, t.refresh_expires_in),
        data_access_expires_at: None,
        granted_scopes: split_scopes(t.scope.as_deref().unwrap_or_default(), ','),
        provider_user_id: t.open_id.filter(|o| !o.is_empty()),
    })
}

/// Splits a scope string on `separator` (TikTok and Meta: commas; Google: spaces).
pub(crate) fn split_scopes(scopes: &str, separator: char) -> Vec<String> {
    scopes
        .split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Deserialize)]
struct UserEnvelope {
    #[serde(default)]
    data: Option<UserData>,
}

#[derive(Deserialize)]
struct UserData {
    #[serde(default)]
    user: Option<serde_json::Value>,
}

/// Reads `/v2/user/info/`; fields the granted scopes did not cover are simply absent.
pub(crate) fn parse_user(body: &str) -> Result<Profile, PlatformError> {
    let envelope: UserEnvelope = parse_json(body, "TikTok user info")?;
    let user = envelope.data.and_then(|d| d.user).unwrap_or_default();
    let text = |k: &str| {
        user.get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let number = |k: &str| user.get(k).and_then(de::value_i64);
    let open_id = text("open_id")
        .ok_or_else(|| PlatformError::malformed("TikTok user info has no open_id"))?;
    Ok(Profile {
        platform: Platform::Tiktok,
        platform_user_id: open_id,
        handle: text("username"),
        display_name: text("display_name"),
        avatar_url: text("avatar_url"),
        followers: number("follower_count"),
        followers_hidden: false,
        extra: json!({
            "union_id": text("union_id"),
            "is_verified": user.get("is_verified").and_then(serde_json::Value::as_bool),
            "following_count": number("following_count"),
            "likes_count": number("likes_count"),
            "video_count": number("video_count"),
        }),
    })
}

#[derive(Deserialize)]
struct VideoEnvelope {
    #[serde(default)]
    data: Option<VideoPage>,
}

#[derive(Deserialize, Default)]
struct VideoPage {
    #[serde(default)]
    videos: Vec<Video>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    cursor: Option<i64>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct Video {
    #[serde(default, deserialize_with = "de::lenient_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    create_time: Option<i64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    video_description: Option<String>,
    #[serde(default)]
    cover_image_url: Option<String>,
    #[serde(default)]
    share_url: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    view_count: Option<i64>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    like_count: Option<i64>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    comment_count: Option<i64>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    share_count: Option<i64>,
}

/// One `/v2/video/list/` page: its items, and the cursor for the next page when there is one.
pub(crate) fn parse_video_page(body: &str) -> Result<(Vec<MediaItem>, Option<i64>), PlatformError> {
    let envelope: VideoEnvelope = parse_json(body, "TikTok video list")?;
    let page = envelope.data.unwrap_or_default();
    let items = page
        .videos
        .into_iter()
        .filter_map(|v| {
            let id = v.id.filter(|i| !i.is_empty())?;
            let caption = v
                .video_description
                .filter(|d| !d.is_empty())
                .or(v.title.filter(|t| !t.is_empty()));
            Some(MediaItem {
                platform_media_id: id,
                kind: MediaKind::Video,
                caption,
                permalink: v.share_url,
                media_url: None,
                thumbnail_url: v.cover_image_url,
                taken_at: super::types::from_unix(v.create_time),
                metrics: MediaMetrics {
                    views: v.view_count,
                    likes: v.like_count,
                    comments: v.comment_count,
                    shares: v.share_count,
                    video_views: v.view_count,
                    ..MediaMetrics::default()
                },
            })
        })
        .collect();
    Ok((items, page.cursor.filter(|_| page.has_more)))
}

#[async_trait]
impl PlatformClient for TiktokClient {
    fn provider(&self) -> Provider {
        Provider::Tiktok
    }

    /// TikTok's web flow authenticates the server with `client_secret`; PKCE is for mobile and
    /// desktop apps (and its challenge encoding is disputed), so no challenge is sent.
    fn authorize_url(&self, state: &str, _pkce_challenge: Option<&str>) -> Url {
        let mut url = endpoint(&self.config.auth_base, &["v2", "auth", "authorize", ""]);
        url.query_pairs_mut()
            .append_pair("client_key", &self.config.client_id)
            .append_pair("scope", &REQUESTED.join(","))
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", self.config.redirect_uri.as_str())
            .append_pair("state", state);
        url
    }

    fn requested_scopes(&self) -> &'static [&'static str] {
        REQUESTED
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        REQUIRED
    }

    fn supports_pkce(&self) -> bool {
        false
    }

    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let mut form = vec![
            ("client_key", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", self.config.redirect_uri.as_str()),
        ];
        if let Some(verifier) = pkce_verifier {
            form.push(("code_verifier", verifier.expose()));
        }
        self.token_request(&form, now).await
    }

    /// The response carries a new refresh token (the old one dies): persist it with the new
    /// access token in one write.
    async fn refresh(
        &self,
        input: &RefreshInput,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let refresh_token = input.refresh_token.as_ref().ok_or_else(|| {
            PlatformError::invalid(
                InvalidReason::SessionInvalidated,
                "no TikTok refresh token is stored",
            )
        })?;
        let form = [
            ("client_key", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        self.token_request(&form, now).await
    }

    async fn revoke(&self, token: &Secret) -> Result<(), PlatformError> {
        let url = endpoint(&self.config.token_base, &["v2", "oauth", "revoke", ""]);
        let form = [
            ("client_key", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("token", token.expose()),
        ];
        self.call(
            self.http.post(url).form(&form),
            &[token.expose(), self.config.client_secret.expose()],
        )
        .await?;
        Ok(())
    }

    /// Asks for every profile field; if the user withheld `user.info.profile` or `.stats`, falls
    /// back to the basic fields so the link still identifies the account.
    async fn profile(&self, token: &Secret) -> Result<Vec<Profile>, PlatformError> {
        let reply = match self.user_info(token, USER_FIELDS).await {
            Err(PlatformError::ScopeMissing { .. }) => {
                self.user_info(token, BASIC_USER_FIELDS).await?
            }
            other => other?,
        };
        Ok(vec![parse_user(&reply.body)?])
    }

    /// The token owner's public videos (the token names the account, so `account_id` is unused),
    /// 20 per page following `cursor` while `has_more`, up to [`MAX_VIDEO_PAGES`].
    async fn media(
        &self,
        token: &Secret,
        _account_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let url = endpoint(&self.config.api_base, &["v2", "video", "list", ""]);
        let mut items = Vec::new();
        let mut cursor: Option<i64> = None;
        for _ in 0..MAX_VIDEO_PAGES {
            let mut body = json!({ "max_count": VIDEO_PAGE_SIZE });
            if let Some(c) = cursor {
                body["cursor"] = json!(c);
            }
            let request = self
                .http
                .post(url.clone())
                .query(&[("fields", VIDEO_FIELDS)])
                .bearer_auth(token.expose())
                .json(&body);
            let reply = self.call(request, &[token.expose()]).await?;
            let (page, next) = parse_video_page(&reply.body)?;
            let reached_since =
                since.is_some_and(|s| page.iter().any(|m| m.taken_at.is_some_and(|t| t < s)));
            items.extend(
                page.into_iter()
                    .filter(|m| since.is_none_or(|s| m.taken_at.is_none_or(|t| t >= s))),
            );
            match next {
                Some(next) if !reached_since => cursor = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }

    /// `/v2/video/query/` with the ids, 20 per request (the API's maximum).
    async fn media_insights(
        &self,
        token: &Secret,
        _account_id: &str,
        items: &[(String, MediaKind)],
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let url = endpoint(&self.config.api_base, &["v2", "video", "query", ""]);
        let mut out = Vec::new();
        for chunk in items.chunks(20) {
            let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
            let request = self
                .http
                .post(url.clone())
                .query(&[("fields", VIDEO_FIELDS)])
                .bearer_auth(token.expose())
                .json(&json!({ "filters": { "video_ids": ids } }));
            let reply = self.call(request, &[token.expose()]).await?;
            out.extend(parse_video_page(&reply.body)?.0);
        }
        Ok(out)
    }

    /// The Display API keeps no per-day history; callers snapshot [`Profile::followers`] instead.
    async fn daily_metrics(
        &self,
        _token: &Secret,
        _account_id: &str,
        _from: NaiveDate,
        _to: NaiveDate,
    ) -> Result<Vec<DailyMetrics>, PlatformError> {
        Ok(Vec::new())
    }

    async fn audience(
        &self,
        _token: &Secret,
        _account_id: &str,
        _now: DateTime<Utc>,
    ) -> Result<Audience, PlatformError> {
        Ok(Audience::Unavailable {
            reason: "TikTok's Display API provides no audience demographics".to_owned(),
        })
    }
}

#[cfg(test)]
#[path = "tiktok_tests.rs"]
mod tests;

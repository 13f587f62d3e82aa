//! Google OAuth 2.0 + YouTube Data API v3 + YouTube Analytics API v2 (`platforms.md` §3).
//!
//! The authorize URL is built with the `oauth2` crate. Token calls are plain form posts: oauth2's
//! typed client hides the HTTP status and `Retry-After` we classify on, and reports a refresh
//! without `refresh_token` the same way; one hand-written path keeps classification identical for
//! every Google endpoint.

mod parse;
#[cfg(test)]
mod tests;

use self::parse::*;
use super::error::{classify_google, PlatformError};
use super::http::{endpoint, secret_values, send, HttpReply};
use super::types::shares;
use super::{
    Audience, DailyMetrics, MediaItem, PlatformClient, PlatformConfig, Profile, RefreshInput,
    TokenSet,
};
use crate::kinds::{InvalidReason, Provider};
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, RedirectUrl, Scope};
use reqwest::RequestBuilder;
use url::Url;

/// The scopes a connect asks for.
pub const REQUESTED: &[&str] = &[
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/yt-analytics.readonly",
];
const REQUIRED: &[&str] = REQUESTED;
/// Playlist pages read per `media` call (50 videos each).
const MAX_PAGES: usize = 4;
const DAILY_METRICS: &str =
    "views,estimatedMinutesWatched,averageViewDuration,subscribersGained,subscribersLost,likes,comments,shares";

/// Audience data is shown only for channels with more subscribers than this (seed 000).
pub const AUDIENCE_MIN_SUBSCRIBERS: i64 = 1_000;
/// … and more views than this in the last 30 days.
pub const AUDIENCE_MIN_VIEWS_30_DAYS: i64 = 10_000;

/// Why a channel gets no audience data by its subscriber count, if it does not: the rule needs
/// strictly more than 1,000 subscribers; a hidden or unknown count cannot pass.
pub fn subscriber_ineligibility(subscribers: Option<i64>) -> Option<String> {
    match subscribers {
        Some(s) if s > AUDIENCE_MIN_SUBSCRIBERS => None,
        Some(_) => Some("channel has under 1,000 subscribers".to_owned()),
        None => Some(
            "channel's subscriber count is hidden, so it cannot be shown to exceed 1,000"
                .to_owned(),
        ),
    }
}

/// Why a channel gets no audience data by its last 30 days of views, if it does not: strictly
/// more than 10,000 are needed; no data counts as none.
pub fn views_ineligibility(views_last_30_days: Option<i64>) -> Option<String> {
    match views_last_30_days {
        Some(v) if v > AUDIENCE_MIN_VIEWS_30_DAYS => None,
        _ => Some("channel has under 10,000 views in the last 30 days".to_owned()),
    }
}

/// The YouTube client.
#[derive(Debug, Clone)]
pub struct YoutubeClient {
    http: reqwest::Client,
    config: PlatformConfig,
}

impl YoutubeClient {
    /// A client over a shared `reqwest::Client` (build it with [`super::http_client`] for the timeout).
    pub fn new(http: reqwest::Client, config: PlatformConfig) -> Result<Self, super::ConfigError> {
        config.validate()?;
        Ok(YoutubeClient { http, config })
    }

    async fn call(
        &self,
        request: RequestBuilder,
        secrets: &[&str],
    ) -> Result<HttpReply, PlatformError> {
        let reply = send(request, secrets).await?;
        classify_google(&reply, self.config.clock.now()).map_err(|e| e.redacted(secrets))?;
        Ok(reply)
    }

    async fn token_request(
        &self,
        form: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let url = endpoint(&self.config.token_base, &["token"]);
        let secrets = secret_values(form);
        let reply = self.call(self.http.post(url).form(form), &secrets).await?;
        parse_token(&reply.body, now)
    }

    async fn data_api(
        &self,
        token: &Secret,
        resource: &str,
        query: &[(&str, &str)],
    ) -> Result<HttpReply, PlatformError> {
        let url = endpoint(&self.config.api_base, &["youtube", "v3", resource]);
        self.call(
            self.http.get(url).query(query).bearer_auth(token.expose()),
            &[token.expose()],
        )
        .await
    }

    async fn report(
        &self,
        token: &Secret,
        channel_id: &str,
        (from, to): (NaiveDate, NaiveDate),
        extra: &[(&str, &str)],
    ) -> Result<Vec<std::collections::HashMap<String, serde_json::Value>>, PlatformError> {
        let url = endpoint(&self.config.analytics_base, &["v2", "reports"]);
        let ids = format!("channel=={channel_id}");
        let (start, end) = (
            from.format("%Y-%m-%d").to_string(),
            to.format("%Y-%m-%d").to_string(),
        );
        let request = self
            .http
            .get(url)
            .query(&[
                ("ids", ids.as_str()),
                ("startDate", start.as_str()),
                ("endDate", end.as_str()),
            ])
            .query(extra)
            .bearer_auth(token.expose());
        parse_report(&self.call(request, &[token.expose()]).await?.body)
    }

    async fn channel(
        &self,
        token: &Secret,
        channel_id: &str,
        parts: &str,
    ) -> Result<Channel, PlatformError> {
        parse_channel(
            &self
                .data_api(token, "channels", &[("part", parts), ("id", channel_id)])
                .await?
                .body,
        )
    }
}

#[async_trait]
impl PlatformClient for YoutubeClient {
    fn provider(&self) -> Provider {
        Provider::Google
    }

    /// Offline access (a refresh token), forced consent (a fresh refresh token on every re-link),
    /// incremental scopes, and the PKCE challenge (S256) when given.
    fn authorize_url(&self, state: &str, pkce_challenge: Option<&str>) -> Url {
        let auth_url = AuthUrl::from_url(endpoint(
            &self.config.auth_base,
            &["o", "oauth2", "v2", "auth"],
        ));
        let client = BasicClient::new(ClientId::new(self.config.client_id.clone()))
            .set_auth_uri(auth_url)
            .set_redirect_uri(RedirectUrl::from_url(self.config.redirect_uri.clone()));
        let mut request = client
            .authorize_url(|| CsrfToken::new(state.to_owned()))
            .add_scopes(REQUESTED.iter().map(|s| Scope::new((*s).to_owned())))
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .add_extra_param("include_granted_scopes", "true");
        if let Some(challenge) = pkce_challenge {
            request = request
                .add_extra_param("code_challenge", challenge.to_owned())
                .add_extra_param("code_challenge_method", "S256");
        }
        request.url().0
    }

    fn requested_scopes(&self) -> &'static [&'static str] {
        REQUESTED
    }

    fn required_scopes(&self) -> &'static [&'static str] {
        REQUIRED
    }

    fn supports_pkce(&self) -> bool {
        true
    }

    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let mut form = vec![
            ("code", code),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("grant_type", "authorization_code"),
        ];
        if let Some(verifier) = pkce_verifier {
            form.push(("code_verifier", verifier.expose()));
        }
        self.token_request(&form, now).await
    }

    /// Google normally returns no new refresh token: the result's `refresh_token` is then `None`
    /// and the caller keeps the stored one (never overwriting it with nothing).
    async fn refresh(
        &self,
        input: &RefreshInput,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let refresh_token = input.refresh_token.as_ref().ok_or_else(|| {
            PlatformError::invalid(
                InvalidReason::SessionInvalidated,
                "no Google refresh token is stored",
            )
        })?;
        let form = [
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        self.token_request(&form, now).await
    }

    /// Revokes the grant (access or refresh token), sent in the form body rather than the URL.
    async fn revoke(&self, token: &Secret) -> Result<(), PlatformError> {
        let url = endpoint(&self.config.token_base, &["revoke"]);
        self.call(
            self.http.post(url).form(&[("token", token.expose())]),
            &[token.expose()],
        )
        .await?;
        Ok(())
    }

    /// The token's channel; [`PlatformError::NoChannel`] when the Google account has none.
    async fn profile(&self, token: &Secret) -> Result<Vec<Profile>, PlatformError> {
        let reply = self
            .data_api(
                token,
                "channels",
                &[
                    ("part", "snippet,statistics,contentDetails"),
                    ("mine", "true"),
                ],
            )
            .await?;
        Ok(vec![parse_channel(&reply.body)?.profile])
    }

    /// Uploads playlist → `videos.list` in batches of 50 (1 quota unit per page; no `search.list`).
    async fn media(
        &self,
        token: &Secret,
        channel_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let Some(uploads) = self
            .channel(token, channel_id, "contentDetails")
            .await?
            .uploads_playlist
        else {
            return Ok(Vec::new());
        };
        let mut items = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("part", "contentDetails"),
                ("playlistId", uploads.as_str()),
                ("maxResults", "50"),
            ];
            if let Some(t) = page_token.as_deref() {
                query.push(("pageToken", t));
            }
            let (entries, next) =
                parse_playlist_items(&self.data_api(token, "playlistItems", &query).await?.body)?;
            let reached_since =
                since.is_some_and(|s| entries.iter().any(|(_, p)| p.is_some_and(|p| p < s)));
            let ids: Vec<String> = entries
                .into_iter()
                .filter(|(_, p)| since.is_none_or(|s| p.is_none_or(|p| p >= s)))
                .map(|(id, _)| id)
                .collect();
            if !ids.is_empty() {
                let ids = ids.join(",");
                let query = [
                    ("part", "statistics,snippet,contentDetails"),
                    ("id", ids.as_str()),
                    ("maxResults", "50"),
                ];
                items.extend(parse_videos(
                    &self.data_api(token, "videos", &query).await?.body,
                )?);
            }
            match next {
                Some(next) if !reached_since => page_token = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }

    /// `videos.list` by id, 50 per request (1 quota unit each).
    async fn media_insights(
        &self,
        token: &Secret,
        _channel_id: &str,
        items: &[(String, crate::kinds::MediaKind)],
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let mut out = Vec::new();
        for chunk in items.chunks(50) {
            let ids = chunk
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let query = [
                ("part", "statistics,snippet,contentDetails"),
                ("id", ids.as_str()),
                ("maxResults", "50"),
            ];
            out.extend(parse_videos(
                &self.data_api(token, "videos", &query).await?.body,
            )?);
        }
        Ok(out)
    }

    /// One Analytics report with `dimensions=day`; engagements are likes + comments + shares.
    async fn daily_metrics(
        &self,
        token: &Secret,
        channel_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyMetrics>, PlatformError> {
        if to < from {
            return Ok(Vec::new());
        }
        let rows = self
            .report(
                token,
                channel_id,
                (from, to),
                &[
                    ("metrics", DAILY_METRICS),
                    ("dimensions", "day"),
                    ("sort", "day"),
                ],
            )
            .await?;
        Ok(rows.iter().filter_map(daily_from_row).collect())
    }

    /// Applies the eligibility rule first (over 1,000 subscribers, then over 10,000 views in the
    /// 30 days ending on `now`'s UTC date) and asks for demographics only when it holds.
    async fn audience(
        &self,
        token: &Secret,
        channel_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Audience, PlatformError> {
        let channel = self.channel(token, channel_id, "statistics").await?;
        if let Some(reason) = subscriber_ineligibility(channel.subscribers) {
            return Ok(Audience::Unavailable { reason });
        }
        let today = now.date_naive();
        let window = (today - Duration::days(29), today);
        let views = self
            .report(token, channel_id, window, &[("metrics", "views")])
            .await?;
        if let Some(reason) =
            views_ineligibility(views.first().and_then(|row| cell_i64(row, "views")))
        {
            return Ok(Audience::Unavailable { reason });
        }
        let by_age_gender = self
            .report(
                token,
                channel_id,
                window,
                &[
                    ("metrics", "viewerPercentage"),
                    ("dimensions", "ageGroup,gender"),
                ],
            )
            .await?;
        let by_country = self
            .report(
                token,
                channel_id,
                window,
                &[
                    ("metrics", "views"),
                    ("dimensions", "country"),
                    ("sort", "-views"),
                ],
            )
            .await?;
        Ok(audience_from_reports(&by_age_gender, &by_country))
    }
}

/// A `dimensions=day` row as daily metrics.
fn daily_from_row(
    row: &std::collections::HashMap<String, serde_json::Value>,
) -> Option<DailyMetrics> {
    let mut metrics = DailyMetrics::empty(cell_day(row)?);
    metrics.views = cell_i64(row, "views");
    metrics.video_views = metrics.views;
    metrics.minutes_watched = cell_i64(row, "estimatedMinutesWatched");
    metrics.followers_gained = cell_i64(row, "subscribersGained");
    let parts: Vec<i64> = ["likes", "comments", "shares"]
        .iter()
        .filter_map(|c| cell_i64(row, c))
        .collect();
    metrics.engagements = (!parts.is_empty()).then(|| parts.iter().sum());
    Some(metrics)
}

/// Age and gender shares from `viewerPercentage` by (ageGroup, gender), country shares from views.
fn audience_from_reports(
    by_age_gender: &[std::collections::HashMap<String, serde_json::Value>],
    by_country: &[std::collections::HashMap<String, serde_json::Value>],
) -> Audience {
    let cells = |dimension: &'static str| {
        by_age_gender.iter().filter_map(move |row| {
            let key = cell_str(row, dimension)?;
            let key = key.strip_prefix("age").unwrap_or(key).to_owned();
            Some((key, cell_f64(row, "viewerPercentage")?))
        })
    };
    let age = shares(cells("ageGroup"));
    let gender = shares(cells("gender"));
    let country = shares(by_country.iter().filter_map(|row| {
        Some((
            cell_str(row, "country")?.to_owned(),
            cell_f64(row, "views")?,
        ))
    }));
    if age.is_empty() && gender.is_empty() && country.is_empty() {
        return Audience::Unavailable {
            reason: "YouTube has no demographic data for this channel yet".to_owned(),
        };
    }
    Audience::Available {
        age,
        gender,
        country,
    }
}

//! Meta: Facebook Login for Business + Instagram Graph API (`platforms.md` §1).
//!
//! Token calls are hand-written rather than oauth2's typed client: Meta's token endpoint is a GET
//! with query parameters, the long-lived exchange uses a non-standard grant
//! (`fb_exchange_token`), and expiry and scopes come from `/debug_token`, not the token response.
//! Graph takes `access_token` in the query string; every error message is scrubbed of it.

mod parse;
#[cfg(test)]
mod tests;

use self::parse::*;
use super::error::{classify_meta, PlatformError};
use super::http::{endpoint, secret_values, send, HttpReply};
use super::types::shares;
use super::{
    Audience, DailyMetrics, MediaItem, MetaPage, PlatformClient, PlatformConfig, Profile,
    RefreshInput, TokenSet,
};
use crate::kinds::{InvalidReason, Provider};
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;
use url::Url;

/// The scopes a connect asks for.
pub const REQUESTED: &[&str] = &[
    "instagram_basic",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
];
const REQUIRED: &[&str] = &[
    "instagram_basic",
    "pages_show_list",
    "pages_read_engagement",
];
const IG_USER_FIELDS: &str = "id,username,name,biography,followers_count,follows_count,media_count,profile_picture_url,website";
const MEDIA_FIELDS: &str =
    "id,caption,media_type,media_product_type,permalink,media_url,thumbnail_url,timestamp,like_count,comments_count";
const STORY_FIELDS: &str =
    "id,caption,media_type,media_product_type,permalink,media_url,thumbnail_url,timestamp";
/// Post and reel insights (not the deprecated `impressions`, `plays`, `video_views`).
const MEDIA_METRICS: &str = "reach,views,likes,comments,shares,saved,total_interactions";
const STORY_METRICS: &str = "reach,views,replies,shares,total_interactions";
const ACCOUNT_METRICS: &str = "reach,views,accounts_engaged,total_interactions";
/// Items per page and pages per call, so one account cannot spend the whole BUC budget.
const PAGE_SIZE: &str = "50";
const MAX_PAGES: usize = 4;
/// Insight requests in flight at once for one account.
const INSIGHT_CONCURRENCY: usize = 4;
/// Days per `daily_metrics` call (one request per day).
const MAX_DAYS: i64 = 30;
/// Instagram gives demographics only from this many followers.
const DEMOGRAPHICS_MIN_FOLLOWERS: i64 = 100;

/// The Meta client.
#[derive(Debug, Clone)]
pub struct MetaClient {
    http: reqwest::Client,
    config: PlatformConfig,
}

impl MetaClient {
    /// A client over a shared `reqwest::Client` (build it with [`super::http_client`] for the timeout).
    pub fn new(http: reqwest::Client, config: PlatformConfig) -> Result<Self, super::ConfigError> {
        config.validate()?;
        Ok(MetaClient { http, config })
    }

    fn graph(&self, segments: &[&str]) -> Url {
        let mut all = vec![self.config.api_version.as_str()];
        all.extend_from_slice(segments);
        endpoint(&self.config.api_base, &all)
    }

    /// GET on the Graph API with `access_token` in the query, classified and scrubbed.
    async fn get(
        &self,
        url: Url,
        token: &str,
        query: &[(&str, &str)],
    ) -> Result<HttpReply, PlatformError> {
        let request = self
            .http
            .get(url)
            .query(query)
            .query(&[("access_token", token)]);
        let reply = send(request, &[token, self.config.client_secret.expose()]).await?;
        classify_meta(&reply, self.config.clock.now())
            .map_err(|e| e.redacted(&[token, self.config.client_secret.expose()]))?;
        Ok(reply)
    }

    /// `/oauth/access_token` with `query` (code exchange or `fb_exchange_token`).
    async fn token_call(
        &self,
        query: &[(&str, &str)],
    ) -> Result<(Secret, Option<i64>), PlatformError> {
        let url = endpoint(
            &self.config.token_base,
            &[self.config.api_version.as_str(), "oauth", "access_token"],
        );
        let secrets = secret_values(query);
        let reply = send(self.http.get(url).query(query), &secrets).await?;
        classify_meta(&reply, self.config.clock.now()).map_err(|e| e.redacted(&secrets))?;
        parse_access_token(&reply.body)
    }

    /// Short-lived (or still-valid long-lived) token → long-lived token, then `/debug_token` for
    /// expiry, data-access expiry, scopes and user id.
    async fn long_lived(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let (long, expires_in) = self
            .token_call(&[
                ("grant_type", "fb_exchange_token"),
                ("client_id", &self.config.client_id),
                ("client_secret", self.config.client_secret.expose()),
                ("fb_exchange_token", token.expose()),
            ])
            .await?;
        let app_token = format!(
            "{}|{}",
            self.config.client_id,
            self.config.client_secret.expose()
        );
        let reply = self
            .get(
                self.graph(&["debug_token"]),
                &app_token,
                &[("input_token", long.expose())],
            )
            .await;
        let reply = reply.map_err(|e| e.redacted(&[long.expose()]))?;
        let debug = parse_debug_token(&reply.body)?;
        if debug.is_valid == Some(false) {
            return Err(PlatformError::invalid(
                InvalidReason::SessionInvalidated,
                "Meta says the new token is not valid",
            ));
        }
        Ok(token_set(long, expires_in, &debug, now))
    }

    /// Reads a media or stories edge page by page (up to [`MAX_PAGES`]), newest first, stopping
    /// at the first page that reaches items older than `since`.
    async fn media_list(
        &self,
        url: Url,
        token: &Secret,
        fields: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("fields", fields), ("limit", PAGE_SIZE)];
            if let Some(cursor) = after.as_deref() {
                query.push(("after", cursor));
            }
            let reply = self.get(url.clone(), token.expose(), &query).await?;
            let (page, next) = parse_media_page(&reply.body)?;
            let reached_since =
                since.is_some_and(|s| page.iter().any(|m| m.taken_at.is_some_and(|t| t < s)));
            items.extend(
                page.into_iter()
                    .filter(|m| since.is_none_or(|s| m.taken_at.is_none_or(|t| t >= s))),
            );
            match next {
                Some(next) if !reached_since => after = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }

    /// Adds insights to each item. An item whose insights are refused as unsupported or not
    /// permitted (carousel children, too few viewers, `instagram_manage_insights` not granted)
    /// keeps its list counts; throttling and dead tokens stop the whole call.
    async fn with_insights(
        &self,
        token: &Secret,
        items: Vec<MediaItem>,
        metrics: &str,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        stream::iter(items)
            .map(|mut item| async move {
                let url = self.graph(&[item.platform_media_id.as_str(), "insights"]);
                match self.get(url, token.expose(), &[("metric", metrics)]).await {
                    Ok(reply) => {
                        apply_insights(&mut item.metrics, &parse_insight_values(&reply.body)?)
                    }
                    Err(PlatformError::BadRequest { .. } | PlatformError::ScopeMissing { .. }) => {}
                    Err(other) => return Err(other),
                }
                Ok(item)
            })
            .buffered(INSIGHT_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn demographics(
        &self,
        token: &Secret,
        account_id: &str,
        breakdown: &str,
    ) -> Result<Vec<(String, f64)>, PlatformError> {
        let query = [
            ("metric", "follower_demographics"),
            ("period", "lifetime"),
            ("metric_type", "total_value"),
            ("breakdown", breakdown),
        ];
        let reply = self
            .get(
                self.graph(&[account_id, "insights"]),
                token.expose(),
                &query,
            )
            .await?;
        Ok(shares(parse_demographics(&reply.body)?))
    }
}

fn unix_midnight(day: NaiveDate) -> String {
    day.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp()
        .to_string()
}

#[async_trait]
impl PlatformClient for MetaClient {
    fn provider(&self) -> Provider {
        Provider::Meta
    }

    /// `{auth_base}/{version}/dialog/oauth` with comma-separated scopes and the PKCE challenge
    /// (S256) when given: the manually built login flow takes `code_challenge` and the code
    /// exchange its `code_verifier` (docs/platforms-security.md), which binds each code to the
    /// flow that asked for it.
    fn authorize_url(&self, state: &str, pkce_challenge: Option<&str>) -> Url {
        let mut url = endpoint(
            &self.config.auth_base,
            &[self.config.api_version.as_str(), "dialog", "oauth"],
        );
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", self.config.redirect_uri.as_str())
            .append_pair("state", state)
            .append_pair("response_type", "code")
            .append_pair("scope", &REQUESTED.join(","));
        if let Some(challenge) = pkce_challenge {
            url.query_pairs_mut()
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        url
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

    /// Code → short-lived token → long-lived token (~60 days) → `/debug_token`.
    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        let mut query = vec![
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("code", code),
        ];
        if let Some(verifier) = pkce_verifier {
            query.push(("code_verifier", verifier.expose()));
        }
        let (short, _) = self.token_call(&query).await?;
        self.long_lived(&short, now)
            .await
            .map_err(|e| e.redacted(&[short.expose()]))
    }

    /// Meta has no refresh tokens: re-exchanges the still-valid access token for a new
    /// long-lived one. Best effort — an expired token fails with a 190 (the link needs a login).
    async fn refresh(
        &self,
        input: &RefreshInput,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        self.long_lived(&input.access_token, now).await
    }

    /// `DELETE /me/permissions`: removes every permission, i.e. the app from the user's account.
    async fn revoke(&self, token: &Secret) -> Result<(), PlatformError> {
        let request = self
            .http
            .delete(self.graph(&["me", "permissions"]))
            .query(&[("access_token", token.expose())]);
        let reply = send(request, &[token.expose()]).await?;
        classify_meta(&reply, self.config.clock.now()).map_err(|e| e.redacted(&[token.expose()]))
    }

    /// Every Page and every Instagram professional account attached to one. No Page at all is
    /// [`PlatformError::NotEligible`].
    async fn profile(&self, token: &Secret) -> Result<Vec<Profile>, PlatformError> {
        let pages = self.pages(token).await?;
        if pages.is_empty() {
            return Err(PlatformError::NotEligible {
                message: "the Facebook user manages no Page".to_owned(),
            });
        }
        let mut profiles = Vec::new();
        for page in &pages {
            profiles.push(page_profile(page));
            if let Some(ig) = &page.instagram {
                let reply = self
                    .get(
                        self.graph(&[ig.id.as_str()]),
                        token.expose(),
                        &[("fields", IG_USER_FIELDS)],
                    )
                    .await?;
                profiles.push(parse_ig_user(&reply.body, &page.page_id)?);
            }
        }
        Ok(profiles)
    }

    async fn pages(&self, token: &Secret) -> Result<Vec<MetaPage>, PlatformError> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                (
                    "fields",
                    "id,name,access_token,instagram_business_account{id,username}",
                ),
                ("limit", "100"),
            ];
            if let Some(cursor) = after.as_deref() {
                query.push(("after", cursor));
            }
            let reply = self
                .get(self.graph(&["me", "accounts"]), token.expose(), &query)
                .await?;
            let (page, next) = parse_pages(&reply.body)?;
            pages.extend(page);
            match next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(pages)
    }

    async fn media(
        &self,
        token: &Secret,
        account_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let items = self
            .media_list(
                self.graph(&[account_id, "media"]),
                token,
                MEDIA_FIELDS,
                since,
            )
            .await?;
        self.with_insights(token, items, MEDIA_METRICS).await
    }

    /// Insights of each item by id (stories with the story metrics). An item the platform does
    /// not serve any more (deleted, or a story past its window) is left out.
    async fn media_insights(
        &self,
        token: &Secret,
        _account_id: &str,
        items: &[(String, crate::kinds::MediaKind)],
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let wanted = |story: bool| {
            items
                .iter()
                .filter(|(_, k)| (*k == crate::kinds::MediaKind::Story) == story)
                .map(|(id, kind)| MediaItem {
                    platform_media_id: id.clone(),
                    kind: *kind,
                    caption: None,
                    permalink: None,
                    media_url: None,
                    thumbnail_url: None,
                    taken_at: None,
                    metrics: super::MediaMetrics::default(),
                })
                .collect::<Vec<_>>()
        };
        let mut out = Vec::new();
        for (story, metrics) in [(false, MEDIA_METRICS), (true, STORY_METRICS)] {
            let list = wanted(story);
            if list.is_empty() {
                continue;
            }
            let fetched: Vec<Option<MediaItem>> = stream::iter(list)
                .map(|mut item| async move {
                    let url = self.graph(&[item.platform_media_id.as_str(), "insights"]);
                    match self.get(url, token.expose(), &[("metric", metrics)]).await {
                        Ok(reply) => {
                            apply_insights(&mut item.metrics, &parse_insight_values(&reply.body)?);
                            Ok(Some(item))
                        }
                        // Meta answers an id it does not serve (deleted, a closed story) with 100.
                        Err(PlatformError::BadRequest { .. }) => Ok(None),
                        Err(other) => Err(other),
                    }
                })
                .buffered(INSIGHT_CONCURRENCY)
                .try_collect()
                .await?;
            out.extend(fetched.into_iter().flatten());
        }
        Ok(out)
    }

    /// The stories live now (24 hours) with their insights; poll often enough not to miss any.
    async fn stories(
        &self,
        token: &Secret,
        account_id: &str,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        let items = self
            .media_list(
                self.graph(&[account_id, "stories"]),
                token,
                STORY_FIELDS,
                None,
            )
            .await?;
        self.with_insights(token, items, STORY_METRICS).await
    }

    /// One `metric_type=total_value` request per day (UTC days, at most [`MAX_DAYS`] from `from`),
    /// plus the `follower_count` series for new followers (Meta keeps it 30 days; refused ranges
    /// leave it empty).
    async fn daily_metrics(
        &self,
        token: &Secret,
        account_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyMetrics>, PlatformError> {
        let last = to.min(from + Duration::days(MAX_DAYS - 1));
        let url = self.graph(&[account_id, "insights"]);
        let mut days = Vec::new();
        let mut day = from;
        while day <= last {
            let (since, until) = (unix_midnight(day), unix_midnight(day + Duration::days(1)));
            let query = [
                ("metric", ACCOUNT_METRICS),
                ("period", "day"),
                ("metric_type", "total_value"),
                ("since", since.as_str()),
                ("until", until.as_str()),
            ];
            let values =
                parse_insight_values(&self.get(url.clone(), token.expose(), &query).await?.body)?;
            let mut metrics = DailyMetrics::empty(day);
            metrics.reach = values.get("reach").copied();
            metrics.views = values.get("views").copied();
            metrics.accounts_engaged = values.get("accounts_engaged").copied();
            metrics.engagements = values.get("total_interactions").copied();
            days.push(metrics);
            day += Duration::days(1);
        }
        if days.is_empty() {
            return Ok(days);
        }
        let (since, until) = (unix_midnight(from), unix_midnight(last + Duration::days(1)));
        let query = [
            ("metric", "follower_count"),
            ("period", "day"),
            ("since", since.as_str()),
            ("until", until.as_str()),
        ];
        let gained: HashMap<NaiveDate, i64> = match self.get(url, token.expose(), &query).await {
            Ok(reply) => parse_daily_series(&reply.body, "follower_count")?
                .into_iter()
                .collect(),
            Err(PlatformError::BadRequest { .. }) => HashMap::new(),
            Err(other) => return Err(other),
        };
        for metrics in &mut days {
            metrics.followers_gained = gained.get(&metrics.day).copied();
        }
        Ok(days)
    }

    /// `follower_demographics` by age, gender and country, as percentages. Accounts under 100
    /// followers get none from Instagram, so they are answered without asking.
    async fn audience(
        &self,
        token: &Secret,
        account_id: &str,
        _now: DateTime<Utc>,
    ) -> Result<Audience, PlatformError> {
        let reply = self
            .get(
                self.graph(&[account_id]),
                token.expose(),
                &[("fields", "id,followers_count")],
            )
            .await?;
        let followers = parse_ig_user(&reply.body, "")?.followers;
        if followers.is_some_and(|f| f < DEMOGRAPHICS_MIN_FOLLOWERS) {
            return Ok(Audience::Unavailable {
                reason: "account has under 100 followers".to_owned(),
            });
        }
        let age = self.demographics(token, account_id, "age").await?;
        let gender = self.demographics(token, account_id, "gender").await?;
        let country = self.demographics(token, account_id, "country").await?;
        if age.is_empty() && gender.is_empty() && country.is_empty() {
            return Ok(Audience::Unavailable {
                reason: "Instagram has no demographic data for this account yet".to_owned(),
            });
        }
        Ok(Audience::Available {
            age,
            gender,
            country,
        })
    }
}

//! Platform clients: one object-safe trait, [`PlatformClient`], implemented for Meta
//! (Instagram/Facebook), TikTok and Google (YouTube). The application holds one
//! `Arc<dyn PlatformClient>` per [`Provider`]; base URLs come from configuration so the same
//! clients talk to the real platforms or to the sandbox.
//!
//! The facts these clients follow are in `platforms.md`; errors are classified into
//! [`PlatformError`] so callers can tell "retry later" from "rate limited until" from
//! "permanently invalid" from "scope missing".

pub mod error;
#[cfg(test)]
mod fixtures;
mod http;
pub mod meta;
mod registry;
#[cfg(test)]
mod test_server;
pub mod tiktok;
mod types;
pub mod youtube;

pub use error::{next_pacific_midnight, pacific_offset_hours, scrub, PlatformError};
pub use http::http_client;
pub use meta::MetaClient;
pub use registry::Clients;
pub use tiktok::TiktokClient;
pub use types::{
    Audience, DailyMetrics, InstagramAccount, MediaItem, MediaMetrics, MetaPage, Profile,
    RefreshInput, TokenSet,
};
pub use youtube::YoutubeClient;

use crate::kinds::Provider;
use crate::secret::Secret;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use url::Url;

/// What one provider's client needs from configuration. Every URL is a base (scheme, host and an
/// optional path prefix such as `/sandbox/meta`); the clients append the documented paths.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// The app's client id (Meta app id, TikTok `client_key`, Google client id).
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: Secret,
    /// Where the platform sends the browser back with `code` and `state`.
    pub redirect_uri: Url,
    /// Base of the consent page the browser is sent to (`https://www.facebook.com`,
    /// `https://www.tiktok.com`, `https://accounts.google.com`).
    pub auth_base: Url,
    /// Base of the token, refresh and revoke endpoints (`https://graph.facebook.com`,
    /// `https://open.tiktokapis.com`, `https://oauth2.googleapis.com`).
    pub token_base: Url,
    /// Base of the read APIs (`https://graph.facebook.com`, `https://open.tiktokapis.com`,
    /// `https://www.googleapis.com`).
    pub api_base: Url,
    /// Base of the analytics API (`https://youtubeanalytics.googleapis.com`; Meta and TikTok
    /// ignore it).
    pub analytics_base: Url,
    /// The API version path segment (Meta Graph `v25.0`; TikTok and Google ignore it).
    pub api_version: String,
    /// "Now" for reading a reply: when a `Retry-After` ends, when a token expires. The
    /// application's clock (the sandbox's, when it moves time); the system clock by default.
    pub clock: crate::clock::SharedClock,
}

/// A configuration value that cannot work, named so the operator can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A URL setting does not parse or cannot take a path.
    #[error("platform setting `{setting}` is not a usable http(s) URL: {message}")]
    BadUrl {
        /// The setting's name.
        setting: &'static str,
        /// Why.
        message: String,
    },
    /// A required setting is empty.
    #[error("platform setting `{setting}` is empty")]
    Empty {
        /// The setting's name.
        setting: &'static str,
    },
}

/// The Meta Graph API version the clients are written against.
pub const META_GRAPH_VERSION: &str = "v25.0";

fn parse_url(setting: &'static str, value: &str) -> Result<Url, ConfigError> {
    Url::parse(value).map_err(|e| ConfigError::BadUrl {
        setting,
        message: e.to_string(),
    })
}

impl PlatformConfig {
    /// The real platform endpoints for `provider`.
    pub fn production(
        provider: Provider,
        client_id: impl Into<String>,
        client_secret: Secret,
        redirect_uri: Url,
    ) -> Result<Self, ConfigError> {
        let (auth, token, api, analytics) = match provider {
            Provider::Meta => (
                "https://www.facebook.com",
                "https://graph.facebook.com",
                "https://graph.facebook.com",
                "https://graph.facebook.com",
            ),
            Provider::Tiktok => (
                "https://www.tiktok.com",
                "https://open.tiktokapis.com",
                "https://open.tiktokapis.com",
                "https://open.tiktokapis.com",
            ),
            Provider::Google => (
                "https://accounts.google.com",
                "https://oauth2.googleapis.com",
                "https://www.googleapis.com",
                "https://youtubeanalytics.googleapis.com",
            ),
        };
        let config = PlatformConfig {
            client_id: client_id.into(),
            client_secret,
            redirect_uri,
            auth_base: parse_url("auth_base", auth)?,
            token_base: parse_url("token_base", token)?,
            api_base: parse_url("api_base", api)?,
            analytics_base: parse_url("analytics_base", analytics)?,
            api_version: META_GRAPH_VERSION.to_owned(),
            clock: std::sync::Arc::new(crate::clock::SystemClock),
        };
        config.validate()?;
        Ok(config)
    }

    /// Every endpoint under one base, as the sandbox serves them (e.g.
    /// `http://127.0.0.1:8080/sandbox/google`); the providers' paths do not collide.
    pub fn single_base(
        base: Url,
        client_id: impl Into<String>,
        client_secret: Secret,
        redirect_uri: Url,
    ) -> Result<Self, ConfigError> {
        let config = PlatformConfig {
            client_id: client_id.into(),
            client_secret,
            redirect_uri,
            auth_base: base.clone(),
            token_base: base.clone(),
            api_base: base.clone(),
            analytics_base: base,
            api_version: META_GRAPH_VERSION.to_owned(),
            clock: std::sync::Arc::new(crate::clock::SystemClock),
        };
        config.validate()?;
        Ok(config)
    }

    /// The same configuration reading replies by `clock`.
    pub fn with_clock(mut self, clock: crate::clock::SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks every setting; the client constructors call it so a bad value fails at start.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::Empty {
                setting: "client_id",
            });
        }
        if self.client_secret.expose().is_empty() {
            return Err(ConfigError::Empty {
                setting: "client_secret",
            });
        }
        if self.api_version.trim().is_empty() {
            return Err(ConfigError::Empty {
                setting: "api_version",
            });
        }
        for (setting, url) in [
            ("redirect_uri", &self.redirect_uri),
            ("auth_base", &self.auth_base),
            ("token_base", &self.token_base),
            ("api_base", &self.api_base),
            ("analytics_base", &self.analytics_base),
        ] {
            if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
                return Err(ConfigError::BadUrl {
                    setting,
                    message: format!("`{url}` is not an http(s) base"),
                });
            }
        }
        Ok(())
    }
}

/// A PKCE pair: send `challenge` (S256, base64url) on the authorize URL, keep `verifier` secret
/// with the login attempt and send it on the code exchange.
#[derive(Debug, Clone)]
pub struct PkcePair {
    /// The S256 code challenge.
    pub challenge: String,
    /// The code verifier.
    pub verifier: Secret,
}

/// A fresh random PKCE pair (oauth2's `PkceCodeChallenge::new_random_sha256`).
pub fn new_pkce() -> PkcePair {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    PkcePair {
        challenge: challenge.as_str().to_owned(),
        verifier: Secret::new(verifier.secret().as_str()),
    }
}

/// The S256 challenge for a stored verifier, for callers that keep only the verifier.
pub fn pkce_challenge_for(verifier: &Secret) -> String {
    let verifier = PkceCodeVerifier::new(verifier.expose().to_owned());
    PkceCodeChallenge::from_code_verifier_sha256(&verifier)
        .as_str()
        .to_owned()
}

/// The required scopes that `granted` lacks.
pub fn missing_scopes(required: &[&str], granted: &[String]) -> Vec<String> {
    required
        .iter()
        .filter(|r| !granted.iter().any(|g| g == *r))
        .map(|r| (*r).to_owned())
        .collect()
}

/// One platform's OAuth flow and reads. Object safe: the app holds `Arc<dyn PlatformClient>`.
///
/// Read methods take the `account_id` that [`Profile::platform_user_id`] gave (Instagram user id,
/// TikTok `open_id`, YouTube channel id). Every method returns a classified [`PlatformError`].
#[async_trait]
pub trait PlatformClient: Send + Sync {
    /// Which OAuth provider this client speaks to.
    fn provider(&self) -> Provider;

    /// The consent-page URL to send the browser to, carrying `state` (and the PKCE challenge when
    /// [`Self::supports_pkce`] and one is given).
    fn authorize_url(&self, state: &str, pkce_challenge: Option<&str>) -> Url;

    /// The scopes the authorize URL asks for.
    fn requested_scopes(&self) -> &'static [&'static str];

    /// The scopes without which the link cannot work; compare with [`TokenSet::granted_scopes`].
    fn required_scopes(&self) -> &'static [&'static str];

    /// Whether the flow uses PKCE (the caller then stores a verifier with the login attempt).
    fn supports_pkce(&self) -> bool;

    /// Trades the authorization `code` for tokens; expiries are computed relative to `now`.
    async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError>;

    /// Gets fresh tokens. TikTok rotates the refresh token (persist the new one atomically);
    /// Google usually returns none (keep the old one); Meta re-exchanges a still-valid access token.
    async fn refresh(
        &self,
        input: &RefreshInput,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError>;

    /// Revokes the grant on the platform (the app disappears from the user's connected apps).
    async fn revoke(&self, token: &Secret) -> Result<(), PlatformError>;

    /// The accounts this token reaches: one for TikTok and YouTube; for Meta each Page and each
    /// Instagram professional account attached to one.
    async fn profile(&self, token: &Secret) -> Result<Vec<Profile>, PlatformError>;

    /// Meta's Pages with their Page tokens and linked Instagram accounts; empty elsewhere.
    async fn pages(&self, _token: &Secret) -> Result<Vec<MetaPage>, PlatformError> {
        Ok(Vec::new())
    }

    /// Posts, reels and videos, newest first, published at or after `since` when given (the
    /// clients also cap the number of pages read per call).
    async fn media(
        &self,
        token: &Secret,
        account_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<MediaItem>, PlatformError>;

    /// Live stories with their insights (Instagram only; they vanish after 24 hours).
    async fn stories(
        &self,
        _token: &Secret,
        _account_id: &str,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        Ok(Vec::new())
    }

    /// Fresh counters of some items already known (campaign content pulled on its own cadence):
    /// one item per id the platform still serves, with its kind as given and its metrics now.
    /// Meta: one insights request per item; TikTok: one `video/query` per 20 ids; YouTube: one
    /// `videos.list` (1 quota unit) per 50 ids. Items the platform no longer serves are left out.
    async fn media_insights(
        &self,
        token: &Secret,
        account_id: &str,
        items: &[(String, crate::kinds::MediaKind)],
    ) -> Result<Vec<MediaItem>, PlatformError>;

    /// Account counters per day for `from..=to`. Empty where the platform keeps no history (TikTok).
    async fn daily_metrics(
        &self,
        token: &Secret,
        account_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyMetrics>, PlatformError>;

    /// The account's audience demographics, or why there are none. `now` anchors "last 30 days".
    async fn audience(
        &self,
        token: &Secret,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Audience, PlatformError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn config(provider: Provider) -> PlatformConfig {
        let redirect = Url::parse("https://app.example/oauth/callback").unwrap();
        PlatformConfig::production(provider, "client-1", Secret::new("s3cret"), redirect).unwrap()
    }

    #[test]
    fn the_app_can_hold_every_client_behind_one_trait_object() {
        let http = http_client(std::time::Duration::from_secs(5)).unwrap();
        let clients: Vec<Arc<dyn PlatformClient>> = vec![
            Arc::new(MetaClient::new(http.clone(), config(Provider::Meta)).unwrap()),
            Arc::new(TiktokClient::new(http.clone(), config(Provider::Tiktok)).unwrap()),
            Arc::new(YoutubeClient::new(http, config(Provider::Google)).unwrap()),
        ];
        let providers: Vec<Provider> = clients.iter().map(|c| c.provider()).collect();
        assert_eq!(
            providers,
            [Provider::Meta, Provider::Tiktok, Provider::Google]
        );
    }

    #[test]
    fn bad_configuration_is_refused_with_the_setting_named() {
        let mut c = config(Provider::Google);
        c.client_id = " ".into();
        assert_eq!(
            c.validate(),
            Err(ConfigError::Empty {
                setting: "client_id"
            })
        );
        let mut c = config(Provider::Google);
        c.api_base = Url::parse("mailto:ops@example.com").unwrap();
        assert!(matches!(
            c.validate(),
            Err(ConfigError::BadUrl {
                setting: "api_base",
                ..
            })
        ));
    }

    #[test]
    fn a_pkce_challenge_can_be_recomputed_from_its_verifier() {
        let pair = new_pkce();
        assert_eq!(pkce_challenge_for(&pair.verifier), pair.challenge);
        assert!(pair.challenge.len() >= 43 && !pair.challenge.contains('='));
        assert_eq!(format!("{:?}", pair.verifier), "[redacted]");
    }

    #[test]
    fn missing_scopes_lists_what_was_not_granted() {
        let granted = vec!["a".to_owned(), "c".to_owned()];
        assert_eq!(
            missing_scopes(&["a", "b", "c"], &granted),
            vec!["b".to_owned()]
        );
    }

    #[test]
    fn shares_become_percentages_largest_first() {
        let s = types::shares([
            ("x".to_owned(), 1.0),
            ("y".to_owned(), 3.0),
            ("x".to_owned(), 0.0),
        ]);
        assert_eq!(s, vec![("y".to_owned(), 75.0), ("x".to_owned(), 25.0)]);
        assert!(types::shares(Vec::new()).is_empty());
    }
}

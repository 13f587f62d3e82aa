//! Typed configuration: defaults (the embedded mode), then an optional TOML file, then environment
//! variables. Everything is validated once at start; an error names the setting that is wrong.
//!
//! Environment variables are `CREATORLINK_<SECTION>_<KEY>` (e.g. `CREATORLINK_HTTP_PORT`,
//! `CREATORLINK_GRAPHQL_MAX_DEPTH`), plus the conventional `DATABASE_URL` and `REDIS_URL`.
//! The first `_` after the prefix separates the section from the key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use domain::secret::Secret;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The largest `jobs.sweep_batch`.
pub const MAX_SWEEP_BATCH: u64 = 10_000;

/// The whole configuration of one `creatorlink` process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `development` (the default: sandbox providers, generated vault key, HS256 tokens allowed)
    /// or `production` (real secrets required).
    pub mode: Mode,
    /// Where the embedded mode keeps its SQLite file and key file.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub log: LogConfig,
    pub graphql: GraphqlConfig,
    pub links: LinksConfig,
    pub auth: AuthConfig,
    pub vault: VaultConfig,
    pub platforms: PlatformsConfig,
    pub sandbox: SandboxConfig,
    pub events: EventsConfig,
    pub webhooks: WebhooksConfig,
    pub callbacks: CallbacksConfig,
    pub jobs: JobsConfig,
}

/// Background jobs: where they run, how hard they try, when the scans tick.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    /// `serve` also runs the job workers and schedules in-process (turn off when separate
    /// `creatorlink worker` processes do the work).
    pub in_process: bool,
    /// This process's worker name; defaults to `{hostname}-{pid}`. Must be unique in the cluster.
    pub worker_name: Option<String>,
    /// Jobs of one type one process runs at once.
    pub concurrency: usize,
    /// Longest one attempt may take, in seconds.
    pub timeout_secs: u64,
    /// Attempts before a failing job is recorded as dead.
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles per attempt, with jitter.
    pub backoff_base_ms: u64,
    /// Longest retry delay in seconds.
    pub backoff_max_secs: u64,
    /// On SIGTERM, how long jobs in hand may take to finish, in seconds.
    pub shutdown_timeout_secs: u64,
    /// Seconds between worker heartbeats.
    pub heartbeat_secs: u64,
    /// Heartbeats a worker may miss before its in-flight jobs go to other workers.
    pub missed_heartbeats: usize,
    /// Seconds a refresh lease is held before another worker may take it over.
    pub lease_ttl_secs: u64,
    /// Links one sweep statement moves at most (1 to [`MAX_SWEEP_BATCH`]).
    pub sweep_batch: u64,
    /// Seconds between two `requestSync` of the same account.
    pub sync_cooldown_secs: u64,
    /// Cron expressions (with seconds); `off` disables a schedule.
    pub expire_links_schedule: String,
    pub refresh_schedule: String,
    pub stories_schedule: String,
    pub metrics_schedule: String,
    pub media_schedule: String,
    pub audience_schedule: String,
    /// Re-enqueues webhook deliveries due for over a minute without a job (a lost enqueue).
    pub webhook_scan_schedule: String,
    /// Cron of the scan for platform revokes to try again.
    pub revoke_schedule: String,
    /// When campaign content due for its metrics is looked for (every minute by default).
    pub campaign_content_schedule: String,
    /// YouTube Data API units campaign content pulls may spend per Pacific day (of the
    /// project's 10,000); when spent, YouTube campaign content waits for the next quota day
    /// and its campaigns show `slowedByQuota`.
    pub campaign_youtube_daily_units: i64,
    /// Hours between two story pulls of one account (stories live 24 hours).
    pub stories_every_hours: u32,
}

/// How strict the process is about secrets and targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

/// The HTTP listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub host: IpAddr,
    /// 0 picks a free port (tests do this).
    pub port: u16,
    /// The externally visible base URL, used in OAuth redirect URIs and invite links.
    /// Defaults to `http://{host}:{port}`.
    pub public_url: Option<String>,
    /// Worker threads of the HTTP server; 0 means one per core.
    pub workers: usize,
}

/// The relational database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path?mode=rwc` or `postgres://…`. Defaults to `creatorlink.db` in `data_dir`.
    pub url: Option<String>,
    pub max_connections: u32,
    /// Run pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

/// Redis: when set, the job queue, rate limits and live events use it (production mode).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    pub url: Option<String>,
    /// Prefix of every key this process writes, so several deployments (or tests) share one Redis.
    pub prefix: String,
}

/// Structured logs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for a terminal, `json` for log shippers.
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `api=debug,sea_orm=warn`.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Limits and switches of the GraphQL endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphqlConfig {
    pub introspection: bool,
    pub graphiql: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_page_size: usize,
    /// The most seconds one HTTP GraphQL request may run; past it the caller gets `TIMEOUT`.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_seconds: u64,
}

fn default_request_timeout() -> u64 {
    30
}

/// Link lifecycle settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfig {
    /// How many days before `expires_at` a link shows as EXPIRING_SOON.
    pub expiring_window_days: u32,
}

/// How callers authenticate (JWT for users, API keys for brand clients) and how fast they may go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Shared secret for HS256 user tokens (development only; at least 32 bytes). Also what
    /// `creatorlink token issue` signs with. Never serialized or printed.
    #[serde(default, skip_serializing)]
    pub jwt_hs256_secret: Option<Secret>,
    /// A PEM file with the identity provider's RSA or EC (P-256) public key: RS256 / ES256 tokens.
    pub jwt_public_key_file: Option<PathBuf>,
    /// The identity provider's JWKS URL: RS256 / ES256 tokens whose `kid` names a key there.
    pub jwks_url: Option<String>,
    /// How long fetched JWKS keys are trusted before they are fetched again.
    pub jwks_cache_seconds: u64,
    /// A token with an unknown `kid` triggers a refetch at most this often.
    pub jwks_min_refetch_seconds: u64,
    /// The `iss` every token must carry.
    pub jwt_issuer: String,
    /// The `aud` every token must carry.
    pub jwt_audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub jwt_leeway_seconds: u64,
    /// Requests per minute per user or API key (sustained rate).
    pub rate_limit_per_minute: u32,
    /// Requests a caller may make at once above the sustained rate.
    pub rate_limit_burst: u32,
}

/// A secret setting: `Debug` prints `[redacted]` so a configuration dump never shows it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigSecret(String);

impl ConfigSecret {
    pub fn new(value: impl Into<String>) -> Self {
        ConfigSecret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ConfigSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The token vault's keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// `id:base64key[,id:base64key…]`, the active (sealing) key first. Required in production.
    pub keys: Option<ConfigSecret>,
    /// Without `keys`: the key file, created (0600) with a fresh key on first start.
    /// Defaults to `vault.key` in `data_dir`.
    pub key_file: Option<PathBuf>,
}

/// OAuth apps and endpoints. A provider without a client id uses the built-in sandbox at
/// `{public_url}/sandbox/{provider}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformsConfig {
    #[serde(deserialize_with = "string_or_number")]
    pub meta_client_id: Option<String>,
    pub meta_client_secret: Option<ConfigSecret>,
    /// Serve every Meta endpoint from this base instead of facebook.com / graph.facebook.com.
    pub meta_base_url: Option<String>,
    #[serde(deserialize_with = "string_or_number")]
    pub tiktok_client_id: Option<String>,
    pub tiktok_client_secret: Option<ConfigSecret>,
    pub tiktok_base_url: Option<String>,
    #[serde(deserialize_with = "string_or_number")]
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<ConfigSecret>,
    pub google_base_url: Option<String>,
    /// Whole-request timeout of every platform call, in seconds.
    pub timeout_seconds: u64,
}

/// The built-in sandbox providers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// Every token the sandbox issues starts with this text (tests search for it).
    pub token_marker: String,
    /// Overrides every access token lifetime (realistic per-provider values otherwise).
    pub access_token_ttl_seconds: Option<u64>,
    /// Overrides every refresh token lifetime (TikTok and Google).
    pub refresh_token_ttl_seconds: Option<u64>,
    /// Let the sandbox stand in for providers without a configured app. Unset: yes in
    /// development, no in production (where a provider without an app then refuses to start).
    pub enabled: Option<bool>,
    /// The base URL of the one process that serves the sandbox, for every other process of a
    /// deployment (API replicas, workers). The sandbox's state (codes, tokens, users, clock) lives
    /// in the memory of the process serving it, so replicas must share one; a process with this
    /// set serves no sandbox of its own. Unset: this process serves it at `{public_url}/sandbox`.
    pub public_url: Option<String>,
    /// Where this process itself calls the sandbox (code exchange, refresh, reads), when that
    /// differs from where browsers reach it: in containers the browser-facing URL
    /// (`http://localhost:8080`) is not reachable from inside, the proxy (`http://proxy:80`) is.
    /// Unset: the same base as the consent page (`sandbox.public_url`, else `{public_url}`).
    pub internal_url: Option<String>,
}

impl Default for PlatformsConfig {
    fn default() -> Self {
        PlatformsConfig {
            meta_client_id: None,
            meta_client_secret: None,
            meta_base_url: None,
            tiktok_client_id: None,
            tiktok_client_secret: None,
            tiktok_base_url: None,
            google_client_id: None,
            google_client_secret: None,
            google_base_url: None,
            timeout_seconds: 20,
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            token_marker: "sandbox".into(),
            access_token_ttl_seconds: None,
            refresh_token_ttl_seconds: None,
            enabled: None,
            public_url: None,
            internal_url: None,
        }
    }
}

impl PlatformsConfig {
    /// The configured app of `provider`: client id, secret and optional base URL.
    pub fn app(
        &self,
        provider: domain::Provider,
    ) -> (Option<&str>, Option<&ConfigSecret>, Option<&str>) {
        let (id, secret, base) = match provider {
            domain::Provider::Meta => (
                &self.meta_client_id,
                &self.meta_client_secret,
                &self.meta_base_url,
            ),
            domain::Provider::Tiktok => (
                &self.tiktok_client_id,
                &self.tiktok_client_secret,
                &self.tiktok_base_url,
            ),
            domain::Provider::Google => (
                &self.google_client_id,
                &self.google_client_secret,
                &self.google_base_url,
            ),
        };
        (
            id.as_deref().filter(|v| !v.is_empty()),
            secret.as_ref().filter(|v| !v.expose().is_empty()),
            base.as_deref().filter(|v| !v.is_empty()),
        )
    }

    /// True when `provider` has no configured app, so the sandbox stands in.
    pub fn uses_sandbox(&self, provider: domain::Provider) -> bool {
        self.app(provider).0.is_none()
    }

    /// The client id and secret `provider`'s app signs its callbacks with: the configured app's,
    /// else the sandbox app's.
    fn signing_app(&self, provider: domain::Provider) -> (String, String) {
        match self.app(provider) {
            (Some(id), Some(secret), _) => (id.to_owned(), secret.expose().to_owned()),
            _ => {
                let (id, secret) = crate::sandbox::SandboxApp::credentials(provider);
                (id.to_owned(), secret.to_owned())
            }
        }
    }
}

impl Config {
    /// The key Meta's `signed_request` is verified with: `callbacks.meta_app_secret`, else the
    /// Meta app secret in use.
    pub fn meta_callback_secret(&self) -> String {
        non_empty(&self.callbacks.meta_app_secret)
            .unwrap_or_else(|| self.platforms.signing_app(domain::Provider::Meta).1)
    }

    /// The `client_key` TikTok events must name and the secret their signature is verified
    /// with: the `callbacks.tiktok_*` overrides, else the TikTok app in use.
    pub fn tiktok_callback_app(&self) -> (String, String) {
        let (key, secret) = self.platforms.signing_app(domain::Provider::Tiktok);
        (
            non_empty(&self.callbacks.tiktok_client_key).unwrap_or(key),
            non_empty(&self.callbacks.tiktok_client_secret).unwrap_or(secret),
        )
    }
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
}

/// Live link events: the outbox dispatcher and GraphQL subscriptions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// How often the dispatcher looks for new rows in the event log, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a hole in the event ids may stay open before it is taken for a rolled-back
    /// transaction and skipped, in milliseconds (PostgreSQL assigns ids before commit).
    pub gap_grace_ms: u64,
    /// The most subscriptions one websocket connection may hold at once.
    pub max_subscriptions_per_connection: usize,
}

/// Outbound webhooks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow targets on loopback, private and link-local addresses (tests, closed networks).
    /// Off by default: a webhook URL must not reach into the server's own network (SSRF).
    pub allow_private_targets: bool,
    /// HTTP timeout of one delivery attempt, in seconds.
    pub timeout_secs: u64,
    /// Attempts before a delivery is given up (DEAD); with the backoff doubling from 30 s up to
    /// 4 h, the default 15 spans about 24 hours.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in seconds; doubled after each further failure.
    pub retry_base_secs: u64,
    /// The longest wait between two attempts, in seconds.
    pub retry_max_secs: u64,
}

/// Optional overrides of what platforms sign their callbacks with (deauthorize, data deletion,
/// `authorization.removed`). Platforms sign with the app's own secret, so by default these are
/// the `[platforms]` app's (Meta app secret, TikTok `client_key`/`client_secret`), or the
/// sandbox app's when the sandbox stands in; set them only to verify with something else.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksConfig {
    /// Overrides the Meta app secret as the key of `signed_request`'s HMAC-SHA256.
    pub meta_app_secret: Option<String>,
    /// Overrides the TikTok `client_key` webhook events must name.
    pub tiktok_client_key: Option<String>,
    /// Overrides the TikTok `client_secret` as the key of the `TikTok-Signature` HMAC-SHA256.
    pub tiktok_client_secret: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Development,
            data_dir: PathBuf::from("."),
            http: HttpConfig {
                host: IpAddr::from([127, 0, 0, 1]),
                port: 8080,
                public_url: None,
                workers: 0,
            },
            database: DatabaseConfig {
                url: None,
                max_connections: 10,
                migrate_on_start: true,
            },
            redis: RedisConfig {
                url: None,
                prefix: "creatorlink".into(),
            },
            log: LogConfig {
                format: LogFormat::Pretty,
                level: "info".into(),
            },
            graphql: GraphqlConfig {
                introspection: true,
                graphiql: true,
                max_depth: 12,
                max_complexity: 2_000,
                max_page_size: 100,
                request_timeout_seconds: default_request_timeout(),
            },
            links: LinksConfig {
                expiring_window_days: 14,
            },
            auth: AuthConfig {
                jwt_hs256_secret: None,
                jwt_public_key_file: None,
                jwks_url: None,
                jwks_cache_seconds: 300,
                jwks_min_refetch_seconds: 10,
                jwt_issuer: "creatorlink".into(),
                jwt_audience: "creatorlink".into(),
                jwt_leeway_seconds: 30,
                rate_limit_per_minute: 600,
                rate_limit_burst: 100,
            },
            vault: VaultConfig::default(),
            platforms: PlatformsConfig::default(),
            sandbox: SandboxConfig::default(),
            events: EventsConfig {
                poll_interval_ms: 250,
                gap_grace_ms: 5_000,
                max_subscriptions_per_connection: 20,
            },
            webhooks: WebhooksConfig {
                allow_private_targets: false,
                timeout_secs: 10,
                max_attempts: 15,
                retry_base_secs: 30,
                retry_max_secs: 4 * 3600,
            },
            callbacks: CallbacksConfig::default(),
            jobs: JobsConfig {
                in_process: true,
                worker_name: None,
                concurrency: 4,
                timeout_secs: 120,
                max_attempts: 5,
                backoff_base_ms: 2_000,
                backoff_max_secs: 300,
                shutdown_timeout_secs: 30,
                // An idle apalis worker looks at its queue only at its heartbeat (a job pushed by
                // another process or worker type does not wake it): keep it short. A worker's
                // jobs go to others after ten missed beats.
                heartbeat_secs: 1,
                missed_heartbeats: 10,
                lease_ttl_secs: 120,
                sweep_batch: 500,
                sync_cooldown_secs: 300,
                expire_links_schedule: "0 */5 * * * *".into(),
                refresh_schedule: "30 * * * * *".into(),
                stories_schedule: "0 */10 * * * *".into(),
                metrics_schedule: "0 15 * * * *".into(),
                media_schedule: "0 */30 * * * *".into(),
                audience_schedule: "0 45 * * * *".into(),
                webhook_scan_schedule: "20 * * * * *".into(),
                revoke_schedule: "40 * * * * *".into(),
                campaign_content_schedule: "0 * * * * *".into(),
                campaign_youtube_daily_units: 2_000,
                stories_every_hours: 2,
            },
        }
    }
}

/// A configuration that cannot be used; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid setting {0}")]
    Invalid(String),
}

/// Variables with the prefix that are not settings: the config file's own path, and the test
/// harness's switch that turns a missing PostgreSQL/Redis into a failure.
const NOT_SETTINGS: &[&str] = &["CONFIG", "REQUIRE_SERVICES"];

/// Client ids are often all digits (Meta app ids), which the environment reader takes for a
/// number; read either as text.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Raw>::deserialize(d)?.map(|raw| match raw {
        Raw::Text(t) => t,
        Raw::Number(n) => n.to_string(),
    }))
}

/// Top-level keys that contain an underscore, so the section split must leave them alone.
const TOP_LEVEL_KEYS: &[&str] = &["mode", "data_dir"];

impl Config {
    /// Loads defaults, then `file` (if given), then the environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Config::load`], with the environment given explicitly (tests use this).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            // figment's `Toml::file` silently ignores a missing file; a file the operator named
            // must exist, so read it ourselves.
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(Toml::string(&text));
        }
        let env: Vec<(String, String)> = env.into_iter().collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let prefixed: Vec<(String, String)> = env
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix("CREATORLINK_")?;
                (!NOT_SETTINGS.contains(&rest) && !rest.is_empty())
                    .then(|| (env_key(rest), v.clone()))
            })
            .collect();
        for (key, value) in prefixed {
            figment = figment.merge(Serialized::default(&key, parse_env_value(&value)));
        }
        if let Some(url) = lookup("DATABASE_URL").filter(|v| !v.is_empty()) {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        if let Some(url) = lookup("REDIS_URL").filter(|v| !v.is_empty()) {
            figment = figment.merge(Serialized::default("redis.url", url));
        }
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database.url {
            let scheme = url.split(':').next().unwrap_or_default();
            if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
                return Err(ConfigError::Invalid(format!(
                    "database.url (DATABASE_URL): unsupported scheme `{scheme}`; use sqlite:// or postgres://"
                )));
            }
        }
        if let Some(url) = &self.redis.url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid(
                    "redis.url (REDIS_URL): must start with redis:// or rediss://".into(),
                ));
            }
        }
        if let Some(url) = &self.http.public_url {
            if url::Url::parse(url).is_err() {
                return Err(ConfigError::Invalid(
                    "http.public_url (CREATORLINK_HTTP_PUBLIC_URL): not an absolute URL".into(),
                ));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database.max_connections (CREATORLINK_DATABASE_MAX_CONNECTIONS): must be at least 1"
                    .into(),
            ));
        }
        if self.graphql.max_page_size == 0 {
            return Err(ConfigError::Invalid(
                "graphql.max_page_size (CREATORLINK_GRAPHQL_MAX_PAGE_SIZE): must be at least 1"
                    .into(),
            ));
        }
        if self.links.expiring_window_days >= 90 {
            return Err(ConfigError::Invalid(
                "links.expiring_window_days (CREATORLINK_LINKS_EXPIRING_WINDOW_DAYS): must be under 90"
                    .into(),
            ));
        }
        self.validate_auth()?;
        match &self.vault.keys {
            Some(keys) => {
                domain::vault::Keyring::from_config(keys.expose()).map_err(|e| {
                    ConfigError::Invalid(format!("vault.keys (CREATORLINK_VAULT_KEYS): {e}"))
                })?;
            }
            None if self.mode == Mode::Production => {
                return Err(ConfigError::Invalid(
                    "vault.keys (CREATORLINK_VAULT_KEYS): production mode requires configured keys \
                     (`id:base64key`; generate one with `creatorlink vault keygen`)"
                        .into(),
                ));
            }
            None => {}
        }
        for provider in [
            domain::Provider::Meta,
            domain::Provider::Tiktok,
            domain::Provider::Google,
        ] {
            let name = provider.as_str();
            let upper = name.to_ascii_uppercase();
            let (id, secret, base) = self.platforms.app(provider);
            if id.is_some() && secret.is_none() {
                return Err(ConfigError::Invalid(format!(
                    "platforms.{name}_client_secret (CREATORLINK_PLATFORMS_{upper}_CLIENT_SECRET): \
                     required with platforms.{name}_client_id"
                )));
            }
            if let Some(base) = base {
                let ok = url::Url::parse(base)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base());
                if !ok {
                    return Err(ConfigError::Invalid(format!(
                        "platforms.{name}_base_url (CREATORLINK_PLATFORMS_{upper}_BASE_URL): not an http(s) URL"
                    )));
                }
            }
        }
        // The sandbox's control endpoints move the application clock and its apps' secrets are in
        // the source, so a production process never serves it (README, "Production").
        if self.mode == Mode::Production && self.sandbox.enabled == Some(true) {
            return Err(ConfigError::Invalid(
                "sandbox.enabled (CREATORLINK_SANDBOX_ENABLED): production never serves the \
                 sandbox (anyone could move its clock and sign callbacks with its public secrets); \
                 configure every platform app, or try the sandbox in development mode"
                    .into(),
            ));
        }
        if !self.sandbox_enabled() {
            let missing = [
                domain::Provider::Meta,
                domain::Provider::Tiktok,
                domain::Provider::Google,
            ]
            .into_iter()
            .find(|p| self.platforms.uses_sandbox(*p));
            if let Some(provider) = missing {
                let name = provider.as_str();
                let upper = name.to_ascii_uppercase();
                let instead = if self.mode == Mode::Production {
                    "production serves no sandbox (CREATORLINK_SANDBOX_ENABLED is for development)"
                        .to_owned()
                } else {
                    format!(
                        "or sandbox.enabled = true (CREATORLINK_SANDBOX_ENABLED) to serve the fake \
                         {name} in its place"
                    )
                };
                return Err(ConfigError::Invalid(format!(
                    "platforms.{name}_client_id (CREATORLINK_PLATFORMS_{upper}_CLIENT_ID): no {name} app \
                     configured; set it and its secret; {instead}"
                )));
            }
        }
        for (url, setting) in [
            (
                &self.sandbox.public_url,
                "sandbox.public_url (CREATORLINK_SANDBOX_PUBLIC_URL)",
            ),
            (
                &self.sandbox.internal_url,
                "sandbox.internal_url (CREATORLINK_SANDBOX_INTERNAL_URL)",
            ),
        ] {
            let ok = url.as_ref().is_none_or(|url| {
                url::Url::parse(url)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            });
            if !ok {
                return Err(ConfigError::Invalid(format!(
                    "{setting}: not an http(s) URL"
                )));
            }
        }
        if self.platforms.timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "platforms.timeout_seconds (CREATORLINK_PLATFORMS_TIMEOUT_SECONDS): must be at least 1"
                    .into(),
            ));
        }
        let marker_ok = !self.sandbox.token_marker.is_empty()
            && self.sandbox.token_marker.len() <= 64
            && self
                .sandbox
                .token_marker
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !marker_ok {
            return Err(ConfigError::Invalid(
                "sandbox.token_marker (CREATORLINK_SANDBOX_TOKEN_MARKER): 1 to 64 ASCII letters, digits, `-` or `_`"
                    .into(),
            ));
        }
        self.validate_jobs()?;
        if self.events.poll_interval_ms == 0 {
            return Err(ConfigError::Invalid(
                "events.poll_interval_ms (CREATORLINK_EVENTS_POLL_INTERVAL_MS): must be at least 1"
                    .into(),
            ));
        }
        if self.events.max_subscriptions_per_connection == 0 {
            return Err(ConfigError::Invalid(
                "events.max_subscriptions_per_connection (CREATORLINK_EVENTS_MAX_SUBSCRIPTIONS_PER_CONNECTION): must be at least 1"
                    .into(),
            ));
        }
        if !(1..=60).contains(&self.webhooks.timeout_secs) {
            return Err(ConfigError::Invalid(
                "webhooks.timeout_secs (CREATORLINK_WEBHOOKS_TIMEOUT_SECS): must be between 1 and 60"
                    .into(),
            ));
        }
        if self.webhooks.max_attempts == 0 || self.webhooks.max_attempts > 50 {
            return Err(ConfigError::Invalid(
                "webhooks.max_attempts (CREATORLINK_WEBHOOKS_MAX_ATTEMPTS): must be between 1 and 50"
                    .into(),
            ));
        }
        if self.webhooks.retry_base_secs == 0
            || self.webhooks.retry_max_secs < self.webhooks.retry_base_secs
            || self.webhooks.retry_max_secs > 7 * 24 * 3600
        {
            return Err(ConfigError::Invalid(
                "webhooks.retry_base_secs / retry_max_secs (CREATORLINK_WEBHOOKS_RETRY_BASE_SECS / _RETRY_MAX_SECS): the base must be at least 1, the maximum at least the base and at most a week (604800)"
                    .into(),
            ));
        }
        if self.mode == Mode::Production && self.webhooks.allow_private_targets {
            tracing::warn!("webhooks.allow_private_targets is on in production: webhook URLs may reach internal addresses");
        }
        let empty = |v: &Option<String>| v.as_deref().is_some_and(|s| s.trim().is_empty());
        if empty(&self.callbacks.meta_app_secret) {
            return Err(ConfigError::Invalid(
                "callbacks.meta_app_secret (CREATORLINK_CALLBACKS_META_APP_SECRET): must not be empty".into(),
            ));
        }
        if empty(&self.callbacks.tiktok_client_secret) {
            return Err(ConfigError::Invalid(
                "callbacks.tiktok_client_secret (CREATORLINK_CALLBACKS_TIKTOK_CLIENT_SECRET): must not be empty".into(),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError::Invalid(format!("log.level (CREATORLINK_LOG_LEVEL): {e}")))?;
        Ok(())
    }

    fn validate_jobs(&self) -> Result<(), ConfigError> {
        let j = &self.jobs;
        let positive = [
            ("concurrency", j.concurrency as u64),
            ("timeout_secs", j.timeout_secs),
            ("max_attempts", u64::from(j.max_attempts)),
            ("heartbeat_secs", j.heartbeat_secs),
            ("lease_ttl_secs", j.lease_ttl_secs),
            ("sweep_batch", j.sweep_batch),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid(format!(
                    "jobs.{key} (CREATORLINK_JOBS_{}): must be at least 1",
                    key.to_ascii_uppercase()
                )));
            }
        }
        if j.sweep_batch > MAX_SWEEP_BATCH {
            return Err(ConfigError::Invalid(format!(
                "jobs.sweep_batch (CREATORLINK_JOBS_SWEEP_BATCH): at most {MAX_SWEEP_BATCH} (the accounts of a batch are read with one statement, and SQLite binds at most 32,766 values)"
            )));
        }
        if j.missed_heartbeats < 2 {
            return Err(ConfigError::Invalid(
                "jobs.missed_heartbeats (CREATORLINK_JOBS_MISSED_HEARTBEATS): must be at least 2"
                    .into(),
            ));
        }
        if !(1..=23).contains(&j.stories_every_hours) {
            return Err(ConfigError::Invalid(
                "jobs.stories_every_hours (CREATORLINK_JOBS_STORIES_EVERY_HOURS): must be 1 to 23 so no 24-hour story is missed"
                    .into(),
            ));
        }
        for (key, expr) in [
            ("expire_links_schedule", &j.expire_links_schedule),
            ("refresh_schedule", &j.refresh_schedule),
            ("stories_schedule", &j.stories_schedule),
            ("metrics_schedule", &j.metrics_schedule),
            ("media_schedule", &j.media_schedule),
            ("audience_schedule", &j.audience_schedule),
            ("webhook_scan_schedule", &j.webhook_scan_schedule),
            ("revoke_schedule", &j.revoke_schedule),
            ("campaign_content_schedule", &j.campaign_content_schedule),
        ] {
            if expr != "off" {
                jobs::schedule::parse(expr).map_err(|e| {
                    ConfigError::Invalid(format!(
                        "jobs.{key} (CREATORLINK_JOBS_{}): not a cron expression with seconds (or `off`): {e}",
                        key.to_ascii_uppercase()
                    ))
                })?;
            }
        }
        Ok(())
    }

    /// The job system's settings.
    pub fn job_settings(&self) -> jobs::JobSettings {
        use std::time::Duration;
        let j = &self.jobs;
        let schedule = |expr: &String| (expr != "off").then(|| expr.clone());
        jobs::JobSettings {
            concurrency: j.concurrency,
            timeout: Duration::from_secs(j.timeout_secs),
            max_attempts: j.max_attempts,
            backoff_base: Duration::from_millis(j.backoff_base_ms),
            backoff_max: Duration::from_secs(j.backoff_max_secs),
            shutdown_timeout: Duration::from_secs(j.shutdown_timeout_secs),
            platform_timeout: Duration::from_secs(self.platforms.timeout_seconds),
            schedules: jobs::Schedules {
                expire_links: schedule(&j.expire_links_schedule),
                refresh_scan: schedule(&j.refresh_schedule),
                stories_scan: schedule(&j.stories_schedule),
                metrics_scan: schedule(&j.metrics_schedule),
                media_scan: schedule(&j.media_schedule),
                audience_scan: schedule(&j.audience_schedule),
                webhook_scan: schedule(&j.webhook_scan_schedule),
                revoke_scan: schedule(&j.revoke_schedule),
                campaign_content_scan: schedule(&j.campaign_content_schedule),
                queue_metrics: Some("*/15 * * * * *".into()),
            },
            expiring_window: chrono::Duration::days(i64::from(self.links.expiring_window_days)),
            sweep_batch: j.sweep_batch,
            lease_ttl: chrono::Duration::seconds(j.lease_ttl_secs as i64),
            stories_every: chrono::Duration::hours(i64::from(j.stories_every_hours)),
            media_every: chrono::Duration::hours(1),
            metrics_every: chrono::Duration::hours(6),
            audience_every: chrono::Duration::days(7),
            recent_media: chrono::Duration::hours(48),
            media_window: chrono::Duration::days(30),
            sync_request_cooldown: chrono::Duration::seconds(j.sync_cooldown_secs as i64),
            campaign_youtube_daily_units: j.campaign_youtube_daily_units,
        }
    }

    /// Where the job queue lives: Redis when configured, else `jobs.db` in `data_dir`.
    pub fn queue_backend(&self) -> jobs::QueueBackendConfig {
        match &self.redis.url {
            Some(url) => jobs::QueueBackendConfig::Redis {
                url: url.clone(),
                prefix: self.redis.prefix.clone(),
            },
            None => jobs::QueueBackendConfig::Sqlite {
                path: self.data_dir.join("jobs.db"),
            },
        }
    }

    /// Worker heartbeat settings. A worker is declared dead only after longer than the longest
    /// platform call (see [`jobs::Liveness::outlasting`]).
    pub fn queue_liveness(&self) -> jobs::Liveness {
        jobs::Liveness {
            heartbeat: std::time::Duration::from_secs(self.jobs.heartbeat_secs),
            missed_heartbeats: self.jobs.missed_heartbeats,
        }
        .outlasting(std::time::Duration::from_secs(
            self.platforms.timeout_seconds,
        ))
    }

    fn validate_auth(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if let Some(secret) = &auth.jwt_hs256_secret {
            if self.mode == Mode::Production {
                return Err(ConfigError::Invalid(
                    "auth.jwt_hs256_secret (CREATORLINK_AUTH_JWT_HS256_SECRET): HS256 tokens are for development; production verifies RS256/ES256 tokens (auth.jwks_url or auth.jwt_public_key_file)".into(),
                ));
            }
            if secret.expose().len() < 32 {
                return Err(ConfigError::Invalid(
                    "auth.jwt_hs256_secret (CREATORLINK_AUTH_JWT_HS256_SECRET): must be at least 32 bytes".into(),
                ));
            }
        }
        if let Some(url) = &auth.jwks_url {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "https" | "http") => {}
                _ => {
                    return Err(ConfigError::Invalid(
                        "auth.jwks_url (CREATORLINK_AUTH_JWKS_URL): not an http(s) URL".into(),
                    ))
                }
            }
        }
        if self.mode == Mode::Production
            && auth.jwks_url.is_none()
            && auth.jwt_public_key_file.is_none()
        {
            tracing::warn!(
                "no auth.jwks_url or auth.jwt_public_key_file: only API keys can authenticate"
            );
        }
        if auth.jwt_issuer.is_empty() || auth.jwt_audience.is_empty() {
            return Err(ConfigError::Invalid(
                "auth.jwt_issuer / auth.jwt_audience (CREATORLINK_AUTH_JWT_ISSUER / CREATORLINK_AUTH_JWT_AUDIENCE): must not be empty".into(),
            ));
        }
        if auth.rate_limit_per_minute == 0 || auth.rate_limit_burst == 0 {
            return Err(ConfigError::Invalid(
                "auth.rate_limit_per_minute / auth.rate_limit_burst (CREATORLINK_AUTH_RATE_LIMIT_PER_MINUTE / CREATORLINK_AUTH_RATE_LIMIT_BURST): must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Whether the sandbox may stand in for providers without an app: `sandbox.enabled`, by
    /// default on in development and off in production.
    pub fn sandbox_enabled(&self) -> bool {
        self.sandbox
            .enabled
            .unwrap_or(self.mode == Mode::Development)
    }

    /// Whether this process serves the sandbox itself (some provider uses it and no other
    /// process was named to serve it).
    pub fn serves_sandbox(&self) -> bool {
        self.sandbox.public_url.is_none()
            && [
                domain::Provider::Meta,
                domain::Provider::Tiktok,
                domain::Provider::Google,
            ]
            .into_iter()
            .any(|p| self.platforms.uses_sandbox(p))
    }

    /// The base URL of the sandbox: the process named by `sandbox.public_url`, else this one.
    pub fn sandbox_base(&self, public_url: &str) -> String {
        match &self.sandbox.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => public_url.to_owned(),
        }
    }

    /// The base URL this process's own calls to the sandbox go to: `sandbox.internal_url`, else
    /// the browser-facing [`Config::sandbox_base`].
    pub fn sandbox_internal_base(&self, public_url: &str) -> String {
        match &self.sandbox.internal_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => self.sandbox_base(public_url),
        }
    }

    /// The database URL in effect: the configured one, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("creatorlink.db").display()
            ),
        }
    }

    /// The vault key file of the embedded default.
    pub fn vault_key_file(&self) -> PathBuf {
        self.vault
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("vault.key"))
    }

    /// The webhook delivery rules this configuration asks for.
    pub fn webhook_policy(&self) -> domain::webhooks::DeliveryPolicy {
        domain::webhooks::DeliveryPolicy {
            target: domain::webhooks::TargetPolicy {
                allow_http: self.mode == Mode::Development,
                allow_private: self.webhooks.allow_private_targets,
            },
            max_attempts: self.webhooks.max_attempts as i32,
            timeout: std::time::Duration::from_secs(self.webhooks.timeout_secs),
            first_retry: chrono::Duration::seconds(self.webhooks.retry_base_secs as i64),
            max_retry: chrono::Duration::seconds(self.webhooks.retry_max_secs as i64),
        }
    }

    /// The base URL the outside world reaches this process at.
    pub fn public_url(&self, bound_port: u16) -> String {
        match &self.http.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}:{}", self.http.host, bound_port),
        }
    }
}

/// `HTTP_PORT` → `http.port`; `DATA_DIR` → `data_dir`.
fn env_key(rest: &str) -> String {
    let lower = rest.to_ascii_lowercase();
    if TOP_LEVEL_KEYS.contains(&lower.as_str()) {
        return lower;
    }
    lower.replacen('_', ".", 1)
}

/// Environment values are strings; numbers and booleans are read as such so that
/// `CREATORLINK_HTTP_PORT=8081` fills a `u16`.
fn parse_env_value(value: &str) -> figment::value::Value {
    use figment::value::Value;
    if let Ok(b) = value.parse::<bool>() {
        return Value::from(b);
    }
    if let Ok(n) = value.parse::<i64>() {
        return Value::from(n);
    }
    Value::from(value.to_owned())
}

/// One line that names the setting and what is wrong with it.
fn describe(error: figment::Error) -> String {
    let mut lines = Vec::new();
    for e in error {
        let key = e.path.join(".");
        let env = if key.is_empty() {
            String::new()
        } else {
            format!(
                " (CREATORLINK_{})",
                key.replacen('.', "_", 1).to_ascii_uppercase()
            )
        };
        let key = if key.is_empty() {
            "configuration".into()
        } else {
            key
        };
        lines.push(format!("{key}{env}: {}", e.kind));
    }
    lines.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_give_the_embedded_mode() {
        let c = Config::load_from(None, env(&[])).expect("defaults are valid");
        assert_eq!(c.http.port, 8080);
        assert!(c.database_url().starts_with("sqlite://"));
        assert!(c.database_url().contains("creatorlink.db"));
        assert!(c.redis.url.is_none());
    }

    #[test]
    fn environment_variables_fill_nested_settings() {
        let c = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_HTTP_PORT", "9001"),
                ("CREATORLINK_GRAPHQL_MAX_PAGE_SIZE", "50"),
                ("CREATORLINK_GRAPHQL_INTROSPECTION", "false"),
                ("CREATORLINK_DATA_DIR", "/tmp/x"),
                ("DATABASE_URL", "postgres://u@h/db"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.http.port, 9001);
        assert_eq!(c.graphql.max_page_size, 50);
        assert!(!c.graphql.introspection);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.database_url(), "postgres://u@h/db");
    }

    #[test]
    fn a_bad_port_names_the_setting() {
        let e = Config::load_from(None, env(&[("CREATORLINK_HTTP_PORT", "99999")]))
            .expect_err("out of range");
        let msg = e.to_string();
        assert!(msg.contains("http.port"), "{msg}");
        assert!(msg.contains("CREATORLINK_HTTP_PORT"), "{msg}");
    }

    #[test]
    fn a_bad_database_scheme_names_the_setting() {
        let e = Config::load_from(None, env(&[("DATABASE_URL", "mysql://x")])).expect_err("bad");
        assert!(e.to_string().contains("DATABASE_URL"), "{e}");
    }

    #[test]
    fn auth_settings_come_from_the_environment_and_are_checked() {
        let c = Config::load_from(
            None,
            env(&[
                (
                    "CREATORLINK_AUTH_JWT_HS256_SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
                ("CREATORLINK_AUTH_RATE_LIMIT_PER_MINUTE", "5"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.auth.rate_limit_per_minute, 5);
        assert!(c.auth.jwt_hs256_secret.is_some());
        assert!(!format!("{c:?}").contains("0123456789abcdef"));

        let e = Config::load_from(None, env(&[("CREATORLINK_AUTH_JWT_HS256_SECRET", "short")]))
            .expect_err("too short");
        assert!(
            e.to_string().contains("CREATORLINK_AUTH_JWT_HS256_SECRET"),
            "{e}"
        );
        let e = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_MODE", "production"),
                (
                    "CREATORLINK_AUTH_JWT_HS256_SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
            ]),
        )
        .expect_err("no HS256 in production");
        assert!(e.to_string().contains("auth.jwt_hs256_secret"), "{e}");
    }

    #[test]
    fn an_unknown_setting_is_refused() {
        let e = Config::load_from(None, env(&[("CREATORLINK_HTTP_PROT", "1")])).expect_err("bad");
        assert!(e.to_string().contains("prot"), "{e}");
    }

    #[test]
    fn production_without_vault_keys_refuses_to_start() {
        let e = Config::load_from(None, env(&[("CREATORLINK_MODE", "production")]))
            .expect_err("no keys");
        assert!(e.to_string().contains("CREATORLINK_VAULT_KEYS"), "{e}");
        let key = domain::vault::generate_key();
        let c = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_MODE", "production"),
                ("CREATORLINK_VAULT_KEYS", &format!("k1:{key}")),
                // Production never runs the sandbox: every platform has its app.
                ("CREATORLINK_PLATFORMS_META_CLIENT_ID", "123"),
                ("CREATORLINK_PLATFORMS_META_CLIENT_SECRET", "meta-secret"),
                ("CREATORLINK_PLATFORMS_TIKTOK_CLIENT_ID", "ck"),
                ("CREATORLINK_PLATFORMS_TIKTOK_CLIENT_SECRET", "cs"),
                ("CREATORLINK_PLATFORMS_GOOGLE_CLIENT_ID", "g"),
                ("CREATORLINK_PLATFORMS_GOOGLE_CLIENT_SECRET", "gs"),
            ]),
        )
        .expect("keys given");
        assert!(format!("{c:?}").contains("[redacted]"));
        assert!(!format!("{c:?}").contains(&key));
    }

    #[test]
    fn callbacks_are_verified_with_the_app_secret_unless_overridden() {
        let c = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_PLATFORMS_META_CLIENT_ID", "123"),
                ("CREATORLINK_PLATFORMS_META_CLIENT_SECRET", "meta-secret"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.meta_callback_secret(), "meta-secret");
        let sandbox = crate::sandbox::SandboxApp::credentials(domain::Provider::Tiktok);
        assert_eq!(
            c.tiktok_callback_app(),
            (sandbox.0.to_owned(), sandbox.1.to_owned()),
            "without a TikTok app the sandbox app signs"
        );
        let c = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_PLATFORMS_META_CLIENT_ID", "123"),
                ("CREATORLINK_PLATFORMS_META_CLIENT_SECRET", "meta-secret"),
                ("CREATORLINK_CALLBACKS_META_APP_SECRET", "override"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.meta_callback_secret(), "override");
    }

    #[test]
    fn production_needs_every_platform_app_and_never_serves_the_sandbox() {
        let key = format!("k1:{}", domain::vault::generate_key());
        let e = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_MODE", "production"),
                ("CREATORLINK_VAULT_KEYS", &key),
            ]),
        )
        .expect_err("no apps");
        assert!(
            e.to_string()
                .contains("CREATORLINK_PLATFORMS_META_CLIENT_ID"),
            "{e}"
        );
        let e = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_MODE", "production"),
                ("CREATORLINK_VAULT_KEYS", &key),
                ("CREATORLINK_SANDBOX_ENABLED", "true"),
            ]),
        )
        .expect_err("no sandbox in production");
        assert!(e.to_string().contains("CREATORLINK_SANDBOX_ENABLED"), "{e}");
    }

    #[test]
    fn bad_vault_keys_are_refused_without_echoing_them() {
        let e = Config::load_from(None, env(&[("CREATORLINK_VAULT_KEYS", "k1:not-base64!")]))
            .expect_err("bad key");
        assert!(e.to_string().contains("vault.keys"), "{e}");
        assert!(!e.to_string().contains("not-base64!"), "{e}");
    }

    #[test]
    fn a_platform_client_id_needs_its_secret() {
        let e = Config::load_from(
            None,
            env(&[("CREATORLINK_PLATFORMS_META_CLIENT_ID", "123")]),
        )
        .expect_err("no secret");
        assert!(
            e.to_string()
                .contains("CREATORLINK_PLATFORMS_META_CLIENT_SECRET"),
            "{e}"
        );
        let c = Config::load_from(
            None,
            env(&[
                ("CREATORLINK_PLATFORMS_TIKTOK_CLIENT_ID", "ck"),
                ("CREATORLINK_PLATFORMS_TIKTOK_CLIENT_SECRET", "cs"),
            ]),
        )
        .expect("valid");
        assert!(!c.platforms.uses_sandbox(domain::Provider::Tiktok));
        assert!(c.platforms.uses_sandbox(domain::Provider::Meta));
    }

    #[test]
    fn a_missing_config_file_is_an_error_naming_it() {
        let e = Config::load_from(Some(Path::new("/nonexistent/creatorlink.toml")), env(&[]))
            .expect_err("missing");
        assert!(
            e.to_string().contains("/nonexistent/creatorlink.toml"),
            "{e}"
        );
    }
}

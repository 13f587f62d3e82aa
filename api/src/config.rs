//! Typed configuration: defaults (the embedded mode), then an optional TOML file, then environment
//! variables. Everything is validated once at start; an error names the setting that is wrong.
//!
//! Environment variables are `CREATORLINK_<SECTION>_<KEY>` (e.g. `CREATORLINK_HTTP_PORT`,
//! `CREATORLINK_GRAPHQL_MAX_DEPTH`), plus the conventional `DATABASE_URL` and `REDIS_URL`.
//! The first `_` after the prefix separates the section from the key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

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
    pub tenant: TenantConfig,
    pub events: EventsConfig,
    pub webhooks: WebhooksConfig,
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
}

/// Link lifecycle settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfig {
    /// How many days before `expires_at` a link shows as EXPIRING_SOON.
    pub expiring_window_days: u32,
}

/// The organization every operation runs in until callers authenticate (the access-control work
/// replaces this with the caller's organization).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Name of the organization created on first start when none exists.
    pub default_organization: String,
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
            },
            links: LinksConfig {
                expiring_window_days: 14,
            },
            tenant: TenantConfig {
                default_organization: "Default organization".into(),
            },
            events: EventsConfig {
                poll_interval_ms: 250,
                gap_grace_ms: 5_000,
                max_subscriptions_per_connection: 20,
            },
            webhooks: WebhooksConfig {
                allow_private_targets: false,
                timeout_secs: 10,
                max_attempts: 15,
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
        if self.mode == Mode::Production && self.webhooks.allow_private_targets {
            tracing::warn!("webhooks.allow_private_targets is on in production: webhook URLs may reach internal addresses");
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError::Invalid(format!("log.level (CREATORLINK_LOG_LEVEL): {e}")))?;
        Ok(())
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

    /// The webhook delivery rules this configuration asks for.
    pub fn webhook_policy(&self) -> domain::webhooks::DeliveryPolicy {
        domain::webhooks::DeliveryPolicy {
            target: domain::webhooks::TargetPolicy {
                allow_http: self.mode == Mode::Development,
                allow_private: self.webhooks.allow_private_targets,
            },
            max_attempts: self.webhooks.max_attempts as i32,
            timeout: std::time::Duration::from_secs(self.webhooks.timeout_secs),
            ..domain::webhooks::DeliveryPolicy::default()
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
    fn an_unknown_setting_is_refused() {
        let e = Config::load_from(None, env(&[("CREATORLINK_HTTP_PROT", "1")])).expect_err("bad");
        assert!(e.to_string().contains("prot"), "{e}");
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

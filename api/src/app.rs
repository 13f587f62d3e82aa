//! Building and running the HTTP application. `main` and the tests share this path:
//! `Application::build(config)` → `port()` → `run_until_stopped()`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::{web, App, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use domain::clock::{ManualClock, SharedClock, SystemClock};
use domain::platforms::{
    http_client, Clients, MetaClient, PlatformClient, PlatformConfig, TiktokClient, YoutubeClient,
};
use domain::secret::Secret;
use domain::vault::Keyring;
use domain::Provider;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use url::Url;

use crate::auth::jwt::JwtVerifier;
use crate::auth::rate_limit::RateLimiter;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::graphql::{build_schema, AppSchema, Live};
use crate::http;
use crate::live::{self, webhooks::WebhookRuntime, Bus, Tasks};
use crate::sandbox::{Sandbox, SandboxApp};

/// What the connect flow and token handling need: the vault keyring, one platform client per
/// provider, and the clock (the sandbox's when the sandbox is in use).
pub struct Services {
    pub keyring: Arc<Keyring>,
    pub clients: Clients,
    /// The base URL the outside world reaches this process at (no trailing slash).
    pub public_url: String,
    /// The job queue, for mutations that enqueue work now (`requestSync`).
    pub queue: jobs::Queue,
    /// The job settings (pull cadence, `requestSync` cooldown).
    pub job_settings: jobs::JobSettings,
}

impl Services {
    pub fn clock(&self) -> &SharedClock {
        self.clients.clock()
    }
}

/// What every request handler may use.
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub schema: AppSchema,
    /// The job queue (Redis or the SQLite queue file).
    pub queue: jobs::Queue,
    /// What job handlers use; the in-process workers run with it.
    pub jobs: jobs::JobContext,
    /// Turns credentials into callers and keeps them within their budgets.
    pub auth: Authenticator,
    /// Live link events of this process.
    pub bus: Bus,
    pub services: Arc<Services>,
    /// The sandbox providers, when at least one provider has no configured app.
    pub sandbox: Option<web::Data<Sandbox>>,
    /// The JSON GraphiQL's headers editor starts with: only `creatorlink demo` sets it.
    pub graphiql_headers: Option<String>,
}

/// Start options that are not settings: what `creatorlink demo` adds to a normal start.
#[derive(Default)]
pub struct StartOptions {
    /// The JSON GraphiQL's headers editor starts with (the demo's admin token).
    pub graphiql_headers: Option<String>,
}

/// Why the application could not start. Each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database (database.url / DATABASE_URL): {0}")]
    Database(sea_orm::DbErr),
    #[error("cannot migrate the database: {0}")]
    Migrate(sea_orm::DbErr),
    #[error("cannot set up authentication: {0}")]
    Auth(String),
    #[error("cannot connect to Redis (redis.url / REDIS_URL): {0}")]
    Redis(String),
    #[error("cannot listen on {addr} (http.host/http.port): {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("cannot open the job queue (redis.url / REDIS_URL, or jobs.db in data_dir): {0}")]
    Queue(String),
    #[error("cannot open the token vault (vault.keys / vault.key_file): {0}")]
    Vault(domain::vault::VaultError),
    #[error("invalid platform setting for {provider}: {message}")]
    Platform {
        provider: &'static str,
        message: String,
    },
    #[error("cannot start live events: {0}")]
    Live(#[from] live::LiveError),
    #[error("cannot build the webhook HTTP client: {0}")]
    WebhookClient(String),
}

/// The keyring from `vault.keys`, or the embedded default's key file (created on first start).
pub fn open_keyring(config: &Config) -> Result<Keyring, StartError> {
    if let Some(keys) = &config.vault.keys {
        // Validated with the configuration; a failure here is the same message.
        return Keyring::from_config(keys.expose()).map_err(|e| StartError::Platform {
            provider: "vault",
            message: e.to_string(),
        });
    }
    let path = config.vault_key_file();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StartError::DataDir {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let (keyring, created) =
        domain::vault::load_or_create_key_file(&path).map_err(StartError::Vault)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "created a new token vault key file; back it up: without it stored tokens cannot be read"
        );
    }
    Ok(keyring)
}

/// The platform clients keyed by provider, as the job handlers take them.
pub fn job_platforms(clients: &Clients) -> jobs::Platforms {
    [Provider::Meta, Provider::Tiktok, Provider::Google]
        .into_iter()
        .map(|p| (p, clients.get(p).clone()))
        .collect()
}

/// The path segment of each provider's OAuth callback (`/oauth/{segment}/callback`).
pub fn callback_segment(provider: Provider) -> &'static str {
    match provider {
        Provider::Meta => "facebook",
        Provider::Tiktok => "tiktok",
        Provider::Google => "youtube",
    }
}

/// One client per provider: the configured app (real endpoints, or `{provider}_base_url`), or the
/// sandbox app at `{public_url}/sandbox/{provider}`.
pub fn build_clients(
    config: &Config,
    public_url: &str,
    clock: SharedClock,
) -> Result<Clients, StartError> {
    let http = http_client(std::time::Duration::from_secs(
        config.platforms.timeout_seconds,
    ))
    .map_err(|e| StartError::Platform {
        provider: "http",
        message: e.to_string(),
    })?;
    let mut clients: Vec<Arc<dyn PlatformClient>> = Vec::new();
    for provider in [Provider::Meta, Provider::Tiktok, Provider::Google] {
        let bad = |message: String| StartError::Platform {
            provider: provider.as_str(),
            message,
        };
        let redirect = Url::parse(&format!(
            "{public_url}/oauth/{}/callback",
            callback_segment(provider)
        ))
        .map_err(|e| bad(e.to_string()))?;
        let (id, secret, base) = config.platforms.app(provider);
        let platform_config = match (id, secret) {
            (Some(id), Some(secret)) => {
                let secret = Secret::new(secret.expose());
                match base {
                    Some(base) => {
                        let base = Url::parse(base).map_err(|e| bad(e.to_string()))?;
                        PlatformConfig::single_base(base, id, secret, redirect)
                    }
                    None => PlatformConfig::production(provider, id, secret, redirect),
                }
            }
            _ => {
                let (id, secret) = SandboxApp::credentials(provider);
                let at = |base: String| {
                    Url::parse(&format!("{base}/sandbox/{}", provider.as_str()))
                        .map_err(|e| bad(e.to_string()))
                };
                // Browsers open the consent page at the public base; this process calls the
                // token and read endpoints at its internal base (the same unless configured).
                let internal = at(config.sandbox_internal_base(public_url))?;
                let consent = at(config.sandbox_base(public_url))?;
                PlatformConfig::single_base(internal, id, Secret::new(secret), redirect).and_then(
                    |mut platform| {
                        platform.auth_base = consent;
                        platform.validate()?;
                        Ok(platform)
                    },
                )
            }
        }
        .map_err(|e| bad(e.to_string()))?
        .with_clock(clock.clone());
        let client: Arc<dyn PlatformClient> = match provider {
            Provider::Meta => Arc::new(
                MetaClient::new(http.clone(), platform_config).map_err(|e| bad(e.to_string()))?,
            ),
            Provider::Tiktok => Arc::new(
                TiktokClient::new(http.clone(), platform_config).map_err(|e| bad(e.to_string()))?,
            ),
            Provider::Google => Arc::new(
                YoutubeClient::new(http.clone(), platform_config)
                    .map_err(|e| bad(e.to_string()))?,
            ),
        };
        clients.push(client);
    }
    let google = clients.pop();
    let tiktok = clients.pop();
    let meta = clients.pop();
    match (meta, tiktok, google) {
        (Some(meta), Some(tiktok), Some(google)) => Ok(Clients::new(meta, tiktok, google, clock)),
        _ => Err(StartError::Platform {
            provider: "all",
            message: "client construction".into(),
        }),
    }
}

/// A bound, not yet running, HTTP application.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// The event dispatcher and webhook loops; they stop with the application.
    tasks: Tasks,
}

/// Opens the configured database, creating the embedded data directory first.
pub async fn open_database(config: &Config) -> Result<DatabaseConnection, StartError> {
    if config.database.url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
    }
    domain::db::connect(&config.database_url(), config.database.max_connections)
        .await
        .map_err(StartError::Database)
}

/// The JWT verifier and the rate limiter (in Redis when configured, so replicas share budgets).
pub async fn build_authenticator(config: &Config) -> Result<Authenticator, StartError> {
    let jwt = JwtVerifier::from_config(&config.auth).map_err(StartError::Auth)?;
    let (per_minute, burst) = (
        config.auth.rate_limit_per_minute,
        config.auth.rate_limit_burst,
    );
    let limiter = match &config.redis.url {
        Some(url) => {
            let client =
                redis::Client::open(url.as_str()).map_err(|e| StartError::Redis(e.to_string()))?;
            let conn = client
                .get_connection_manager()
                .await
                .map_err(|e| StartError::Redis(e.to_string()))?;
            RateLimiter::redis(conn, &config.redis.prefix, per_minute, burst)
        }
        None => RateLimiter::memory(per_minute, burst),
    };
    Ok(Authenticator::new(jwt, limiter))
}

impl Application {
    /// Connects, migrates (unless told not to), binds the listener and prepares the server.
    pub async fn build(config: Config) -> Result<Application, StartError> {
        Self::build_with(config, StartOptions::default()).await
    }

    /// [`Application::build`] with [`StartOptions`].
    pub async fn build_with(
        config: Config,
        options: StartOptions,
    ) -> Result<Application, StartError> {
        let mut db = open_database(&config).await?;
        crate::sql_stats::install(&mut db);
        if config.database.migrate_on_start {
            Migrator::up(&db, None).await.map_err(StartError::Migrate)?;
        }
        let auth = build_authenticator(&config).await?;
        let keyring = Arc::new(open_keyring(&config)?);
        let keyring_for_jobs = keyring.clone();
        let policy = config.webhook_policy();
        let sender = domain::webhooks::WebhookSender::new(policy)
            .map_err(|e| StartError::WebhookClient(e.to_string()))?;
        let queue = crate::workers::open_queue(&config).await?;
        let (bus, tasks) = live::start(
            db.clone(),
            &config,
            WebhookRuntime {
                queue: queue.clone(),
            },
        )
        .await?;
        let addr = format!("{}:{}", config.http.host, config.http.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?
            .port();

        let public_url = config.public_url(port);
        // In sandbox mode the application's clock is the sandbox's, so tests can move time for
        // both sides at once with `POST /sandbox/control/clock`. A process using another
        // process's sandbox (`sandbox.public_url`) keeps the system clock: that clock is not
        // shared.
        let (clock, sandbox): (SharedClock, _) = if config.serves_sandbox() {
            if config.mode == crate::config::Mode::Production {
                tracing::warn!(
                    "sandbox.enabled: a platform has no configured app: serving the sandbox provider for it"
                );
            }
            let clock = ManualClock::following_system();
            let sandbox = web::Data::new(Sandbox::new(config.sandbox.clone(), clock.clone()));
            (Arc::new(clock), Some(sandbox))
        } else {
            (Arc::new(SystemClock), None)
        };
        let clients = build_clients(&config, &public_url, clock.clone())?;
        let services = Arc::new(Services {
            keyring: keyring.clone(),
            clients,
            public_url,
            queue: queue.clone(),
            job_settings: config.job_settings(),
        });
        let schema = build_schema(
            db.clone(),
            &config.graphql,
            &config.links,
            Some(Live {
                bus: bus.clone(),
                keyring,
                webhook_targets: policy.target,
                queue: queue.clone(),
            }),
            services.clone(),
        );

        let registry = prometheus::Registry::new();
        let job_metrics = jobs::JobMetrics::register(&registry)
            .map_err(|e| StartError::Metrics(e.to_string()))?;
        let jobs = crate::workers::job_context(
            &config,
            db.clone(),
            queue.clone(),
            job_metrics,
            job_platforms(&services.clients),
            Some(keyring_for_jobs),
            clock,
        )
        .with_webhook_sender(sender);

        let metrics = PrometheusMetricsBuilder::new("creatorlink")
            .registry(registry)
            .endpoint("/metrics")
            // Label by route pattern, never by raw path: invite links and ids would explode
            // the label cardinality.
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| StartError::Metrics(e.to_string()))?;

        let workers = config.http.workers;
        let state = web::Data::new(AppState {
            db,
            config: Arc::new(config),
            schema,
            auth,
            services,
            sandbox: sandbox.clone(),
            queue,
            jobs,
            bus,
            graphiql_headers: options.graphiql_headers,
        });
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let sandbox = sandbox.clone();
            App::new()
                .wrap(metrics.clone())
                .wrap_fn(|req, srv| {
                    // One line per request: method, route and status; never the query string
                    // (OAuth codes and states), never a path's secrets (invite links).
                    let started = Instant::now();
                    let method = req.method().to_string();
                    let raw_path = req.path().to_owned();
                    let fut = srv.call(req);
                    async move {
                        let res = fut.await?;
                        let path = crate::http::loggable_path(
                            res.request().match_pattern().as_deref(),
                            &raw_path,
                        );
                        tracing::info!(
                            target: "http",
                            %method,
                            %path,
                            status = res.status().as_u16(),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "request"
                        );
                        Ok(res)
                    }
                })
                .app_data(app_state.clone())
                .app_data(web::PayloadConfig::new(1 << 20))
                .configure(http::routes)
                .configure(|cfg| {
                    if let Some(sandbox) = sandbox {
                        cfg.app_data(sandbox);
                        crate::sandbox::routes(cfg);
                    }
                })
        })
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: format!("port {port}"),
            source,
        })?;
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
            state,
            tasks,
        })
    }

    /// The port the server listens on (useful when configured with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state, for tests that want to look behind the API.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM or ctrl-c, then finishes the requests in hand (up to 30 s). Unless
    /// `jobs.in_process` is off, the job workers and schedules run beside the server and drain
    /// when it stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tracing::info!(port = self.port, "creatorlink is listening");
        let _tasks = self.tasks;
        if !self.state.config.jobs.in_process {
            return self.server.await;
        }
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let workers = crate::workers::run(self.state.jobs.clone(), async move {
            let _ = stop_rx.await;
        });
        let server = async move {
            let result = self.server.await;
            let _ = stop_tx.send(());
            result
        };
        let (result, ()) = futures::join!(server, workers);
        result
    }
}

//! Building and running the HTTP application. `main` and the tests share this path:
//! `Application::build(config)` → `port()` → `run_until_stopped()`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::{web, App, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use domain::vault::Keyring;
use domain::OrgId;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::graphql::{build_schema, AppSchema, Live};
use crate::http;
use crate::live::{self, webhooks::WebhookRuntime, Bus, Tasks};

/// What every request handler may use.
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub schema: AppSchema,
    /// The organization requests act in until authentication provides one.
    pub default_org: OrgId,
    /// Live link events of this process.
    pub bus: Bus,
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
    #[error("cannot prepare the database: {0}")]
    Prepare(domain::DomainError),
    #[error("cannot listen on {addr} (http.host/http.port): {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("cannot open the token vault key file: {0}")]
    Vault(domain::vault::VaultError),
    #[error("cannot start live events: {0}")]
    Live(#[from] live::LiveError),
    #[error("cannot build the webhook HTTP client: {0}")]
    WebhookClient(String),
}

/// A bound, not yet running, HTTP application.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// The event dispatcher and webhook loops; they stop with the application.
    tasks: Tasks,
}

/// The embedded default's vault key file in `data_dir` (created on first start), which seals
/// webhook signing secrets.
fn open_keyring(config: &Config) -> Result<Keyring, StartError> {
    let path = config.data_dir.join("vault.key");
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let (keyring, created) =
        domain::vault::load_or_create_key_file(&path).map_err(StartError::Vault)?;
    if created {
        tracing::warn!(path = %path.display(), "created a new vault key file; back it up");
    }
    Ok(keyring)
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

impl Application {
    /// Connects, migrates (unless told not to), binds the listener and prepares the server.
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let db = open_database(&config).await?;
        if config.database.migrate_on_start {
            Migrator::up(&db, None).await.map_err(StartError::Migrate)?;
        }
        let default_org =
            domain::organizations::ensure_named(&db, &config.tenant.default_organization)
                .await
                .map_err(StartError::Prepare)?;
        let keyring = Arc::new(open_keyring(&config)?);
        let policy = config.webhook_policy();
        let sender = domain::webhooks::WebhookSender::new(policy)
            .map_err(|e| StartError::WebhookClient(e.to_string()))?;
        let (bus, tasks) = live::start(
            db.clone(),
            &config,
            WebhookRuntime {
                keyring: keyring.clone(),
                sender,
            },
        )
        .await?;
        let schema = build_schema(
            db.clone(),
            &config.graphql,
            &config.links,
            Some(Live {
                bus: bus.clone(),
                keyring,
                webhook_targets: policy.target,
            }),
        );

        let addr = format!("{}:{}", config.http.host, config.http.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?
            .port();

        let metrics = PrometheusMetricsBuilder::new("creatorlink")
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
            default_org,
            bus,
        });
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(metrics.clone())
                .wrap_fn(|req, srv| {
                    // One line per request: method, route and status; never the query string,
                    // which can carry OAuth codes.
                    let started = Instant::now();
                    let method = req.method().to_string();
                    let path = req.path().to_owned();
                    let fut = srv.call(req);
                    async move {
                        let res = fut.await?;
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

    /// Serves until SIGTERM or ctrl-c, then finishes the requests in hand (up to 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tracing::info!(port = self.port, "creatorlink is listening");
        let _tasks = self.tasks;
        self.server.await
    }
}

//! The end-to-end test harness: the real application on a random port against a fresh database
//! (a temporary SQLite file, or a PostgreSQL database created for the test and dropped after it),
//! a Redis key prefix per test, and captured logs to search.
//!
//! PostgreSQL and Redis come from `TEST_DATABASE_URL` / `TEST_REDIS_URL` (defaulting to the
//! local servers). When one is absent, a test that needs it prints why and skips, unless
//! `CREATORLINK_REQUIRE_SERVICES=1` (set by `.ci/run`), which turns absence into a failure.

pub mod live;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use api::auth::jwt::{Claims, TokenRequest};
use api::config::{Config, LogConfig, LogFormat};
use api::Application;
use domain::access::{Role, Scope};
use domain::secret::Secret;
use domain::OrgId;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use uuid::Uuid;

/// The longest any one HTTP request of the harness may take before the test fails.
pub const HTTP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(90);

/// The harness's HTTP client: no redirects followed (tests look at them), and a deadline on
/// every request, so a hung server fails the test that met it instead of stalling the run.
pub fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(HTTP_DEADLINE)
}

/// Which database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` (an `async fn(Backend)`) once on SQLite and once on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// True when `.ci/run` (or a developer) asked for missing services to fail tests.
pub fn services_required() -> bool {
    std::env::var("CREATORLINK_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// Reports that a service is absent: a skip normally, a failure when services are required.
fn absent(service: &str, why: &str) {
    if services_required() {
        panic!("{service} is required (CREATORLINK_REQUIRE_SERVICES=1) but unavailable: {why}");
    }
    eprintln!("SKIPPED: {service} unavailable ({why}); set CREATORLINK_REQUIRE_SERVICES=1 to fail instead");
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database, or `None` (after saying why) when the backend is unavailable.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Some(TestDatabase {
                    url,
                    backend,
                    cleanup: Cleanup::Sqlite(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match Database::connect(&admin_url).await {
                    Ok(db) => db,
                    Err(e) => {
                        absent("PostgreSQL", &e.to_string());
                        return None;
                    }
                };
                let name = format!("cl_test_{}", Uuid::new_v4().simple());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                let _ = admin.close().await;
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Some(TestDatabase {
                    url: url.to_string(),
                    backend,
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }

    /// A direct connection, for tests that look behind the API.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any async context we could await in; use a short-lived runtime on
            // its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A Redis key prefix of its own for one test; its keys are deleted afterwards.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
}

impl TestRedis {
    /// `None` (after saying why) when Redis is unavailable.
    pub async fn create() -> Option<TestRedis> {
        let url = redis_url();
        let ok = async {
            let client = redis::Client::open(url.as_str())?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        }
        .await;
        match ok {
            Ok(_) => Some(TestRedis {
                url,
                prefix: format!("cltest:{}", Uuid::new_v4().simple()),
            }),
            Err(e) => {
                absent("Redis", &e.to_string());
                None
            }
        }
    }

    /// A connection to the test's Redis.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection")
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.prefix));
        let _ = std::thread::spawn(move || {
            if let Ok(client) = redis::Client::open(url.as_str()) {
                if let Ok(mut conn) = client.get_connection() {
                    let keys: Vec<String> = redis::cmd("KEYS")
                        .arg(&pattern)
                        .query(&mut conn)
                        .unwrap_or_default();
                    if !keys.is_empty() {
                        let _: redis::RedisResult<()> =
                            redis::cmd("DEL").arg(keys).query(&mut conn);
                    }
                }
            }
        })
        .join();
    }
}

/// Everything the application logged in this test process. The test command runs each test in a
/// process of its own (cargo-nextest, `.config/nextest.toml`), so this is the test's own log: a
/// test cannot pass on another test's line. (Under plain `cargo test` the tests of the binary
/// share it.)
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process-wide log capture, installed on first use. `TEST_LOG` sets the filter
/// (default: `info,sea_orm=warn,sqlx=warn`); `TEST_LOG_STDERR=1` echoes nothing but keeps capture.
pub fn logs() -> &'static LogCapture {
    static LOGS: OnceLock<LogCapture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let capture = LogCapture::default();
        let level =
            std::env::var("TEST_LOG").unwrap_or_else(|_| "info,sea_orm=warn,sqlx=warn".into());
        api::telemetry::init_with_writer(
            &LogConfig {
                format: LogFormat::Json,
                level,
            },
            capture.clone(),
            false,
        );
        capture
    })
}

/// The HS256 secret test applications verify user tokens with.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret";

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Credential {
    /// No credentials at all.
    None,
    /// `Authorization: Bearer <token>` (a JWT, or an API key).
    Bearer(String),
    /// `X-Api-Key: <key>`.
    ApiKey(String),
}

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Sends the test organization's admin token with every request (`Authorization: Bearer`).
    pub client: reqwest::Client,
    /// Sends no credentials.
    pub bare_client: reqwest::Client,
    /// The organization the harness created for the test; `client` acts in it as an admin.
    pub org: OrgId,
    /// Shared by the apps of a test that runs several processes on one database.
    pub db: Arc<TestDatabase>,
    pub config: Config,
    pub data_dir: tempfile::TempDir,
    /// The application's job queue and job context (to enqueue or run jobs in tests).
    pub queue: jobs::Queue,
    pub jobs: jobs::JobContext,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A test configuration: port 0, quiet limits, the given database, a private data directory.
pub fn test_config(db_url: &str, data_dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.http.port = 0;
    config.http.workers = 1;
    config.data_dir = PathBuf::from(data_dir);
    config.database.url = Some(db_url.to_owned());
    config.database.max_connections = 5;
    config.auth.jwt_hs256_secret = Some(Secret::new(TEST_JWT_SECRET));
    // Generous budgets: only the rate-limit tests want to hit them.
    config.auth.rate_limit_per_minute = 100_000;
    config.auth.rate_limit_burst = 10_000;
    config
}

/// Starts the application on `backend`; `None` when that backend is unavailable (skipped).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], letting the test adjust the configuration first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    logs();
    let db = Arc::new(TestDatabase::create(backend).await?);
    Some(spawn_app_on(db, adjust).await)
}

/// Another application process on the database of `first` (as a second API replica would be):
/// like every replica of one deployment it shares the vault keys (here `first`'s key file).
pub async fn spawn_replica(first: &TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let key_file = first.config.vault_key_file();
    spawn_app_on(first.db.clone(), move |c| {
        c.vault.key_file = Some(key_file);
        adjust(c);
    })
    .await
}

/// Starts the application on an existing test database.
pub async fn spawn_app_on(db: Arc<TestDatabase>, adjust: impl FnOnce(&mut Config)) -> TestApp {
    logs();
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut config = test_config(&db.url, data_dir.path());
    adjust(&mut config);
    let app = Application::build(config.clone())
        .await
        .expect("the application starts");
    let port = app.port();
    let (queue, jobs) = {
        let state = app.state();
        (state.queue.clone(), state.jobs.clone())
    };
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    let conn = db.connect().await;
    let org = domain::organizations::ensure_named(&conn, "Test organization")
        .await
        .expect("create the test organization");
    let _ = conn.close().await;
    let admin = sign(&config, org, Role::Admin, &[], "test-admin");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {admin}").parse().expect("header value"),
    );
    let builder = http_client;
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: builder()
            .default_headers(headers)
            .build()
            .expect("http client"),
        bare_client: builder().build().expect("http client"),
        org,
        db,
        config,
        data_dir,
        queue,
        jobs,
        server,
    }
}

fn sign(config: &Config, org: OrgId, role: Role, profiles: &[Uuid], user: &str) -> String {
    api::auth::jwt::issue(
        &config.auth,
        &TokenRequest {
            user_id: user.to_owned(),
            org,
            role,
            profiles: profiles.to_vec(),
            lifetime: chrono::Duration::hours(1),
        },
    )
    .expect("sign a test token")
    .expose()
    .to_owned()
}

/// Signs arbitrary claims with the test HS256 secret (expired tokens, other audiences, …).
pub fn sign_claims(claims: &Claims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .expect("sign claims")
}

impl TestApp {
    /// POSTs a GraphQL request (as `application/json`) as the test organization's admin and
    /// returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .graphql_as(&Credential::Bearer(self.admin_token()), query, variables)
            .await;
        assert!(status.is_success(), "GraphQL answered {status}: {body}");
        body
    }

    /// POSTs a GraphQL request with `credential`; returns the status and the JSON body.
    pub async fn graphql_as(
        &self,
        credential: &Credential,
        query: &str,
        variables: Value,
    ) -> (reqwest::StatusCode, Value) {
        let response = self
            .request_as(credential)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the request is sent");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// A `POST /graphql` request builder carrying `credential` (and nothing else).
    pub fn request_as(&self, credential: &Credential) -> reqwest::RequestBuilder {
        let request = self.bare_client.post(format!("{}/graphql", self.address));
        match credential {
            Credential::None => request,
            Credential::Bearer(token) => request.bearer_auth(token),
            Credential::ApiKey(key) => request.header("x-api-key", key),
        }
    }

    /// A one-hour admin token of the test organization.
    pub fn admin_token(&self) -> String {
        sign(&self.config, self.org, Role::Admin, &[], "test-admin")
    }

    /// A one-hour token of the test organization with `role` (creators: for `profiles`).
    pub fn token(&self, role: Role, profiles: &[Uuid]) -> String {
        sign(
            &self.config,
            self.org,
            role,
            profiles,
            &format!("test-{role}"),
        )
    }

    /// A one-hour token of another organization.
    pub fn token_for(&self, org: OrgId, role: Role, profiles: &[Uuid]) -> String {
        sign(&self.config, org, role, profiles, &format!("other-{role}"))
    }

    /// Claims of a valid admin token of the test organization, to alter and sign with
    /// [`sign_claims`].
    pub fn admin_claims(&self) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "test-admin".into(),
            org: self.org.uuid(),
            role: "admin".into(),
            profiles: Vec::new(),
            iss: self.config.auth.jwt_issuer.clone(),
            aud: self.config.auth.jwt_audience.clone(),
            exp: now + 3600,
            nbf: Some(now),
            iat: Some(now),
        }
    }

    /// Creates an API key of the test organization with `scopes` (directly in the database, as
    /// `creatorlink key create` does) and returns the whole key.
    pub async fn api_key(&self, scopes: &[Scope]) -> String {
        self.api_key_for(self.org, scopes).await
    }

    /// Creates an API key of `org` with `scopes`.
    pub async fn api_key_for(&self, org: OrgId, scopes: &[Scope]) -> String {
        self.new_api_key(org, scopes, None).await
    }

    /// Creates an API key of the test organization with `scopes`, limited to `campaigns`.
    pub async fn campaign_api_key(&self, scopes: &[Scope], campaigns: &[uuid::Uuid]) -> String {
        self.new_api_key(self.org, scopes, Some(campaigns.to_vec()))
            .await
    }

    async fn new_api_key(
        &self,
        org: OrgId,
        scopes: &[Scope],
        campaign_ids: Option<Vec<uuid::Uuid>>,
    ) -> String {
        let conn = self.db.connect().await;
        let actor = domain::Actor::system("test");
        let created = domain::api_keys::create(
            &conn,
            org,
            domain::api_keys::NewKey {
                name: "test key",
                scopes: scopes.to_vec(),
                expires_at: None,
                campaign_ids,
                created_by: &actor,
            },
            chrono::Utc::now(),
        )
        .await
        .expect("create an API key");
        let _ = conn.close().await;
        created.secret.expose().to_owned()
    }

    /// Creates another organization.
    pub async fn create_org(&self, name: &str) -> OrgId {
        let conn = self.db.connect().await;
        let org = domain::organizations::create(&conn, name)
            .await
            .expect("create an organization");
        let _ = conn.close().await;
        OrgId::new(org.id)
    }

    /// Like [`TestApp::graphql`], but fails the test when the response has errors; returns `data`.
    pub async fn graphql_ok(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected GraphQL errors: {body:#}"
        );
        body["data"].clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

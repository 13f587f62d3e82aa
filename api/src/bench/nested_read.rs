//! `bench nested-read`: the dashboard's main read over HTTP with an API key, on PostgreSQL.
//!
//! Seeds `--profiles` profiles with `creatorlink seed`'s generator into an organization of its own
//! (or reuses it when a previous run seeded it), starts a `creatorlink serve` child on that
//! database, and drives, phase after phase, `creatorProfiles(first: N) { … accounts { link {
//! status expiresAt } latestMetrics { followers } } }` for each `--page-sizes` N and a
//! single-profile detail query, with `--concurrency` tasks each sending its next request as soon
//! as the last one answered (closed loop, keep-alive connections).
//!
//! SQL statements per request come from the server itself: before each phase one request of the
//! phase's shape is sent under its own operation name, and its `graphql request` log line
//! (`sql_statements`, counted per request by `api::sql_stats`) is read from the server's log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use domain::access::Scope;
use domain::api_keys::NewKey;
use domain::{Actor, OrgId};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use super::child::ChildServer;
use super::report::{micros_histogram, ms, Report};

/// Sizes of the nested-read scenario.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A PostgreSQL database (migrated and seeded here unless already seeded by a previous run).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Creator profiles to seed (about four accounts each, 90 days of metrics, media).
    #[arg(long, default_value_t = 2_000)]
    pub profiles: usize,
    /// Concurrent client tasks (each one keep-alive connection).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds of load per phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// The page sizes of the list phases.
    #[arg(long, value_delimiter = ',', default_value = "10,50,100")]
    pub page_sizes: Vec<u32>,
    /// The server's connection pool (`database.max_connections`).
    #[arg(long, default_value_t = 10)]
    pub pool: u32,
}

const ORG_NAME: &str = "Bench nested-read";

fn list_query(operation: &str) -> String {
    format!(
        "query {operation}($first: Int!) {{ creatorProfiles(first: $first) {{ edges {{ node {{ id \
         accounts {{ link {{ status expiresAt }} latestMetrics {{ followers }} }} }} }} }} }}"
    )
}

fn detail_query(operation: &str) -> String {
    format!(
        "query {operation}($id: ID!) {{ creatorProfile(id: $id) {{ id name totalFollowers \
         accounts {{ platform handle followers link {{ status expiresAt daysUntilExpiry }} \
         latestMetrics {{ followers }} }} }} }}"
    )
}

/// One phase: a document, the variables of each request (cycled) and what to call it.
struct Phase {
    label: String,
    operation: &'static str,
    query: fn(&str) -> String,
    variables: Vec<Value>,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    ensure!(
        args.database_url.starts_with("postgres"),
        "nested-read measures PostgreSQL: pass --database-url postgres://…"
    );
    ensure!(
        args.profiles > 0 && args.concurrency > 0 && !args.page_sizes.is_empty(),
        "sizes must be positive"
    );
    let db = domain::db::connect(&args.database_url, 4)
        .await
        .context("connecting to --database-url")?;
    Migrator::up(&db, None).await.context("migrating")?;
    let org = domain::organizations::ensure_named(&db, ORG_NAME).await?;
    let existing = count(
        &db,
        &format!("SELECT count(*) FROM creator_profile WHERE organization_id = '{org}'"),
    )
    .await?;
    let seeding = Instant::now();
    if existing == 0 {
        let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
        crate::seed::seed(&db, org, args.profiles, 42, progress).await?;
        db.execute_unprepared("ANALYZE").await?;
    }
    let seeded_in = seeding.elapsed();
    let profiles = count(
        &db,
        &format!("SELECT count(*) FROM creator_profile WHERE organization_id = '{org}'"),
    )
    .await?;
    let accounts = count(
        &db,
        &format!("SELECT count(*) FROM social_account WHERE organization_id = '{org}'"),
    )
    .await?;
    let key = api_key(&db, org).await?;

    let env = vec![
        ("DATABASE_URL", args.database_url.clone()),
        (
            "CREATORLINK_DATABASE_MAX_CONNECTIONS",
            args.pool.to_string(),
        ),
        // The load is one caller: lift its budget out of the way.
        (
            "CREATORLINK_AUTH_RATE_LIMIT_PER_MINUTE",
            "1000000000".into(),
        ),
        ("CREATORLINK_AUTH_RATE_LIMIT_BURST", "1000000000".into()),
        ("CREATORLINK_GRAPHQL_MAX_COMPLEXITY", "1000000".into()),
        ("CREATORLINK_LOG_FORMAT", "json".into()),
        ("CREATORLINK_LOG_LEVEL", "error,graphql=info".into()),
    ];
    let mut server = ChildServer::spawn_logging(&env)?;
    let log = server.take_log().context("the server's log")?;
    let probes = probe_lines(log);
    server.wait_ready(Duration::from_secs(60)).await?;
    let url = format!("{}/graphql", server.base_url());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(60))
        .build()?;

    // The ids of the first page feed the detail phase.
    let first = post(
        &http,
        &url,
        &key,
        "Ids",
        &list_query("Ids"),
        json!({ "first": 100 }),
    )
    .await?;
    let ids: Vec<Value> = first["data"]["creatorProfiles"]["edges"]
        .as_array()
        .context("creatorProfiles edges")?
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(|id| json!({ "id": id })))
        .collect();
    ensure!(!ids.is_empty(), "the organization has no profiles");

    let mut phases: Vec<Phase> = args
        .page_sizes
        .iter()
        .map(|n| Phase {
            label: format!("creatorProfiles(first: {n})"),
            operation: "List",
            query: list_query,
            variables: vec![json!({ "first": n })],
        })
        .collect();
    phases.push(Phase {
        label: "creatorProfile(id:) detail".into(),
        operation: "Detail",
        query: detail_query,
        variables: ids,
    });

    let mut report = Report::new(format!(
        "nested-read: {profiles} profiles / {accounts} accounts on PostgreSQL, API key over HTTP, \
         {} concurrent clients, {} s per phase, server pool {}",
        args.concurrency, args.seconds, args.pool
    ));
    if existing == 0 {
        report.row("seed time (s)", format!("{:.1}", seeded_in.as_secs_f64()));
    }
    let mut probes = probes;
    for phase in &phases {
        let statements = probe(&http, &url, &key, phase, &mut probes).await?;
        let result = load(&http, &url, &key, phase, &args).await?;
        let label = &phase.label;
        report
            .row(format!("{label}: SQL statements/request"), statements)
            .row(format!("{label}: requests"), result.ok)
            .row(format!("{label}: errors"), result.errors)
            .row(
                format!("{label}: requests/s"),
                format!("{:.0}", result.ok as f64 / result.elapsed.as_secs_f64()),
            )
            .row(
                format!("{label}: p50 (ms)"),
                ms(result.micros.value_at_quantile(0.5)),
            )
            .row(
                format!("{label}: p99 (ms)"),
                ms(result.micros.value_at_quantile(0.99)),
            );
    }
    server.stop().await?;
    Ok(report)
}

/// The `sql_statements` of every `graphql request` log line whose operation is a probe.
fn probe_lines(log: tokio::process::ChildStderr) -> mpsc::UnboundedReceiver<(String, u64)> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(log).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if !line.contains("Probe") {
                // Anything else the server logs (warnings, errors) goes on to our stderr.
                if !line.contains("\"graphql request\"") {
                    eprintln!("{line}");
                }
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let (Some(op), Some(n)) = (v["operation"].as_str(), v["sql_statements"].as_u64()) {
                let _ = tx.send((op.to_owned(), n));
            }
        }
    });
    rx
}

/// Sends one request of the phase as `{operation}Probe` and returns the statements the server
/// counted for it.
async fn probe(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    phase: &Phase,
    lines: &mut mpsc::UnboundedReceiver<(String, u64)>,
) -> anyhow::Result<u64> {
    let name = format!("{}Probe", phase.operation);
    post(
        http,
        url,
        key,
        &name,
        &(phase.query)(&name),
        phase.variables[0].clone(),
    )
    .await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), lines.recv()).await {
            Ok(Some((op, n))) if op == name => return Ok(n),
            Ok(Some(_)) => continue,
            Ok(None) => bail!("the server's log ended"),
            Err(_) => bail!("no `graphql request` log line for {name} within 10 s"),
        }
    }
}

struct LoadResult {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    micros: hdrhistogram::Histogram<u64>,
}

async fn load(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    phase: &Phase,
    args: &Args,
) -> anyhow::Result<LoadResult> {
    // Bodies are built once; the clients only copy them.
    let bodies: Arc<Vec<String>> = Arc::new(
        phase
            .variables
            .iter()
            .map(|v| json!({ "query": (phase.query)(phase.operation), "variables": v }).to_string())
            .collect(),
    );
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::with_capacity(args.concurrency);
    for worker in 0..args.concurrency {
        let http = http.clone();
        let url = url.to_owned();
        let key = key.to_owned();
        let bodies = bodies.clone();
        let errors = errors.clone();
        let first_error = first_error.clone();
        tasks.push(tokio::spawn(async move {
            let mut micros = micros_histogram();
            let mut i = worker;
            while Instant::now() < deadline {
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let sent = Instant::now();
                let outcome = send(&http, &url, &key, body).await;
                match outcome {
                    Ok(()) => {
                        let _ = micros.record((sent.elapsed().as_micros() as u64).max(1));
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert_with(|| e.to_string());
                    }
                }
            }
            micros
        }));
    }
    let mut micros = micros_histogram();
    for task in tasks {
        micros.add(task.await?)?;
    }
    let elapsed = started.elapsed();
    let errors = errors.load(Ordering::Relaxed);
    if micros.is_empty() {
        bail!(
            "no request of `{}` succeeded: {}",
            phase.label,
            first_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default()
        );
    }
    Ok(LoadResult {
        ok: micros.len(),
        errors,
        elapsed,
        micros,
    })
}

/// One request of the load: 200 with `data` and no `errors`, or an error.
async fn send(http: &reqwest::Client, url: &str, key: &str, body: String) -> anyhow::Result<()> {
    let response = http
        .post(url)
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    // A scan instead of a parse: the load generator shares the CPU with the server.
    if !status.is_success() || has_errors(&bytes) {
        bail!("{status}: {}", String::from_utf8_lossy(&bytes));
    }
    Ok(())
}

fn has_errors(body: &[u8]) -> bool {
    body.windows(9).any(|w| w == b"\"errors\":")
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    operation: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let response = http
        .post(url)
        .header("x-api-key", key)
        .json(&json!({ "query": query, "operationName": operation, "variables": variables }))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() || body.get("errors").is_some() {
        bail!("{status}: {body}");
    }
    Ok(body)
}

async fn api_key(db: &sea_orm::DatabaseConnection, org: OrgId) -> anyhow::Result<String> {
    let created = domain::api_keys::create(
        db,
        org,
        NewKey {
            name: "bench nested-read",
            scopes: vec![Scope::ProfilesRead, Scope::MetricsRead],
            campaign_ids: None,
            expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(6)),
            created_by: &Actor::system("bench"),
        },
        chrono::Utc::now(),
    )
    .await?;
    Ok(created.secret.expose().to_owned())
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("a count")?;
    Ok(row.try_get_by_index(0)?)
}

//! `bench refresh`: `--links` TikTok links due at once, refreshed by `creatorlink worker`
//! processes on Redis against the sandbox of a `serve` child on loopback: refreshes per second
//! for each worker-process count, and the double refreshes (a refresh token presented twice, which
//! the sandbox answers with `invalid_grant` as TikTok does, or more refresh calls than links).
//!
//! Each run seeds its own organization: the grants come from the sandbox
//! (`POST /sandbox/control/users/tiktok_leo/grants`), sealed with the run's vault key and written
//! by `insert_many` in batches; the timer starts when `refresh_scan` is enqueued and stops when
//! every link holds new tokens (version 2).

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use chrono::Utc;
use domain::entities::{link, social_account};
use domain::secret::Secret;
use domain::vault::{Aad, Keyring, TokenKind};
use domain::{LinkStatus, Platform};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tokio::process::Command;
use uuid::Uuid;

use super::child::ChildServer;
use super::report::{duration_ms, Report};

/// Sizes of the refresh scenario.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Links due at once, per run.
    #[arg(long, default_value_t = 5_000)]
    pub links: usize,
    /// Worker-process counts to measure, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    pub workers: Vec<usize>,
    /// Jobs one worker process runs at once (`jobs.concurrency`).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// A PostgreSQL database (migrated here; each run adds one organization).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// The Redis the queue lives on (each run uses a key prefix of its own).
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: String,
}

/// The sandbox issues at most this many grants per call.
const GRANTS_PER_CALL: usize = 10_000;
/// Rows per insert statement.
const INSERT_BATCH: usize = 1_000;

pub async fn run(args: Args) -> anyhow::Result<Report> {
    ensure!(
        args.database_url.starts_with("postgres"),
        "refresh runs on PostgreSQL: pass --database-url postgres://…"
    );
    ensure!(
        args.links > 0 && args.concurrency > 0 && args.workers.iter().all(|w| *w > 0),
        "sizes must be positive"
    );
    let db = domain::db::connect(&args.database_url, 4)
        .await
        .context("connecting to --database-url")?;
    Migrator::up(&db, None).await.context("migrating")?;
    let keys = format!("bench:{}", domain::vault::generate_key());
    let keyring = Keyring::from_config(&keys).context("the run's vault key")?;

    let mut report = Report::new(format!(
        "refresh: {} TikTok links due at once, worker processes on Redis, {} jobs at once each, sandbox on loopback",
        args.links, args.concurrency
    ));
    for &workers in &args.workers {
        let run = one_run(&args, &db, &keys, &keyring, workers).await?;
        report
            .row(
                format!("{workers} worker(s): wall time (ms)"),
                duration_ms(run.wall),
            )
            .row(
                format!("{workers} worker(s): refreshes per second"),
                format!(
                    "{:.0}",
                    args.links as f64 / run.wall.as_secs_f64().max(1e-9)
                ),
            )
            .row(format!("{workers} worker(s): refresh calls"), run.calls)
            .row(
                format!("{workers} worker(s): double refreshes"),
                run.doubles,
            )
            .row(
                format!("{workers} worker(s): links not LINKED after"),
                run.broken,
            );
    }
    Ok(report)
}

struct Run {
    wall: Duration,
    calls: usize,
    doubles: usize,
    broken: u64,
}

async fn one_run(
    args: &Args,
    db: &sea_orm::DatabaseConnection,
    keys: &str,
    keyring: &Keyring,
    workers: usize,
) -> anyhow::Result<Run> {
    let prefix = format!("bench-refresh-{}", Uuid::new_v4().simple());
    let shared = [
        ("DATABASE_URL", args.database_url.clone()),
        ("REDIS_URL", args.redis_url.clone()),
        ("CREATORLINK_REDIS_PREFIX", prefix.clone()),
        ("CREATORLINK_VAULT_KEYS", keys.to_owned()),
        ("CREATORLINK_JOBS_IN_PROCESS", "false".to_owned()),
    ];
    let mut server = ChildServer::spawn(&shared)?;
    server.wait_ready(Duration::from_secs(60)).await?;
    let base = server.base_url();
    let http = reqwest::Client::new();

    // The grants, sealed into links of a fresh organization, due in five minutes.
    let org = domain::organizations::ensure_named(db, &format!("Refresh bench {prefix}")).await?;
    let now = Utc::now();
    let mut left = args.links;
    while left > 0 {
        let count = left.min(GRANTS_PER_CALL);
        let body: Value = http
            .post(format!("{base}/sandbox/control/users/tiktok_leo/grants"))
            .json(&json!({ "count": count }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let grants = body["grants"].as_array().context("grants")?;
        for chunk in grants.chunks(INSERT_BATCH) {
            let mut accounts = Vec::new();
            let mut links = Vec::new();
            for grant in chunk {
                let (account, l) = (Uuid::now_v7(), Uuid::now_v7());
                let handle = format!("bench.{}", account.simple());
                let seal = |key: &str, kind| -> anyhow::Result<String> {
                    let token = grant[key].as_str().context("a token")?;
                    Ok(keyring.seal(&Secret::new(token), &Aad::new(l, kind)))
                };
                accounts.push(social_account::ActiveModel {
                    id: Set(account),
                    organization_id: Set(org.uuid()),
                    profile_id: Set(None),
                    platform: Set(Platform::Tiktok),
                    handle: Set(handle.clone()),
                    handle_lower: Set(handle.clone()),
                    url: Set(format!("https://www.tiktok.com/@{handle}")),
                    platform_user_id: Set(Some(format!("bench-{account}"))),
                    display_name: Set(None),
                    avatar_url: Set(None),
                    followers: Set(None),
                    followers_hidden: Set(false),
                    paired_account_id: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                let mut row = link::ActiveModel::not_linked(org.uuid(), account, now);
                row.id = Set(l);
                row.status = Set(LinkStatus::Linked);
                row.authenticated_at = Set(Some(now));
                row.expires_at = Set(Some(now + domain::link::status::LINK_LIFETIME));
                row.expiry_cause = Set(Some("NINETY_DAYS".into()));
                row.access_token = Set(Some(seal("access_token", TokenKind::Access)?));
                row.refresh_token = Set(Some(seal("refresh_token", TokenKind::Refresh)?));
                row.access_token_expires_at = Set(Some(now + chrono::Duration::minutes(5)));
                row.version = Set(1);
                links.push(row);
            }
            social_account::Entity::insert_many(accounts)
                .exec_without_returning(db)
                .await?;
            link::Entity::insert_many(links)
                .exec_without_returning(db)
                .await?;
        }
        left -= count;
    }

    // The worker processes, calling the server's sandbox.
    let exe = std::env::current_exe().context("the path of this program")?;
    let mut children = Vec::new();
    for i in 0..workers {
        let mut command = Command::new(&exe);
        command
            .arg("worker")
            .current_dir(server.data_dir())
            .env_remove("CREATORLINK_CONFIG")
            .env("CREATORLINK_DATA_DIR", server.data_dir())
            .env("CREATORLINK_SANDBOX_PUBLIC_URL", &base)
            .env("CREATORLINK_JOBS_WORKER_NAME", format!("{prefix}-{i}"))
            .env("CREATORLINK_JOBS_CONCURRENCY", args.concurrency.to_string())
            .env("CREATORLINK_LOG_LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &shared {
            command.env(k, v);
        }
        for schedule in [
            "EXPIRE_LINKS",
            "REFRESH",
            "STORIES",
            "METRICS",
            "MEDIA",
            "AUDIENCE",
            "WEBHOOK_SCAN",
            "CAMPAIGN_CONTENT",
            "REVOKE",
        ] {
            command.env(format!("CREATORLINK_JOBS_{schedule}_SCHEDULE"), "off");
        }
        children.push(command.spawn().context("spawning `creatorlink worker`")?);
    }
    // Let the workers connect and register before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let queue = jobs::Queue::connect(
        &jobs::QueueBackendConfig::Redis {
            url: args.redis_url.clone(),
            prefix: prefix.clone(),
        },
        jobs::Liveness::default(),
    )
    .await?;
    let started = Instant::now();
    jobs::enqueue(&queue, jobs::refresh::RefreshScan::default()).await?;
    let refreshed = || {
        link::Entity::find()
            .filter(link::Column::OrganizationId.eq(org.uuid()))
            .filter(link::Column::Version.gte(2))
            .count(db)
    };
    loop {
        if refreshed().await? as usize >= args.links {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the links were not all refreshed within ten minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let wall = started.elapsed();

    let calls: Value = http
        .get(format!(
            "{base}/sandbox/control/calls?provider=tiktok&endpoint=token:refresh_token"
        ))
        .send()
        .await?
        .json()
        .await?;
    let calls = calls["calls"].as_array().context("calls")?;
    let ok = calls.iter().filter(|c| c["status"] == 200).count();
    let refused = calls.len() - ok;
    let broken = link::Entity::find()
        .filter(link::Column::OrganizationId.eq(org.uuid()))
        .filter(link::Column::Status.ne(LinkStatus::Linked))
        .count(db)
        .await?;
    for mut child in children {
        let _ = child.kill().await;
    }
    server.stop().await?;
    Ok(Run {
        wall,
        calls: calls.len(),
        doubles: ok.saturating_sub(args.links) + refused,
        broken,
    })
}

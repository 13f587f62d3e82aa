//! `creatorlink worker` processes on one Redis, refreshing against the sandbox of an API process
//! on PostgreSQL: two processes over 200 due TikTok links refresh each exactly once (counted in
//! the sandbox's call log); a worker killed with SIGKILL in the middle of a run loses nothing —
//! a new one finishes every link, no refresh token is presented after it was rotated away (the
//! sandbox would answer `invalid_grant`), and no lease outlives its TTL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::Utc;
use domain::entities::{dead_job, link};
use domain::{LinkStatus, Platform};
use jobs::refresh::RefreshScan;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tests::{spawn_app_with, Backend, TestApp, TestRedis};
use uuid::Uuid;

use crate::creatorlink_bin;
use crate::jobs::quiet_jobs;
use crate::refresh::{seed, token_calls};

/// One `creatorlink worker` process; killed (SIGKILL) when dropped.
pub(crate) struct Worker {
    pub(crate) child: Child,
    log: PathBuf,
}

/// Where a [`Worker`]'s queue lives.
pub(crate) enum WorkerQueue<'a> {
    /// Redis at `url` (or a proxy), keys under `prefix`.
    Redis { url: &'a str, prefix: &'a str },
    /// The embedded queue: `jobs.db` in this data directory (the app's, to share its queue).
    Sqlite { data_dir: &'a Path },
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Worker {
    /// Starts a worker named `name` on `app`'s database and Redis queue, with `app`'s vault key,
    /// calling the sandbox `app` serves. Schedules are off unless `refresh_every_second`.
    pub(crate) async fn start(
        app: &TestApp,
        redis: &TestRedis,
        dir: &Path,
        name: &str,
        refresh_every_second: bool,
    ) -> Worker {
        Self::start_on(
            app,
            &redis.url,
            &redis.prefix,
            dir,
            name,
            refresh_every_second,
        )
        .await
    }

    /// [`Worker::start`] with Redis at `redis_url` (a proxy, say).
    async fn start_on(
        app: &TestApp,
        redis_url: &str,
        prefix: &str,
        dir: &Path,
        name: &str,
        refresh_every_second: bool,
    ) -> Worker {
        let queue = WorkerQueue::Redis {
            url: redis_url,
            prefix,
        };
        Self::start_with(app, queue, dir, name, refresh_every_second, &[]).await
    }

    /// A worker on `queue`, its log in `dir`, with the extra environment `env` (which wins).
    pub(crate) async fn start_with(
        app: &TestApp,
        queue: WorkerQueue<'_>,
        dir: &Path,
        name: &str,
        refresh_every_second: bool,
        env: &[(&str, &str)],
    ) -> Worker {
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(creatorlink_bin());
        match queue {
            WorkerQueue::Redis { url, prefix } => {
                command
                    .env("REDIS_URL", url)
                    .env("CREATORLINK_REDIS_PREFIX", prefix)
                    .env("CREATORLINK_DATA_DIR", dir);
            }
            WorkerQueue::Sqlite { data_dir } => {
                command
                    .env_remove("REDIS_URL")
                    .env("CREATORLINK_DATA_DIR", data_dir);
            }
        }
        for schedule in [
            "EXPIRE_LINKS",
            "STORIES",
            "METRICS",
            "MEDIA",
            "AUDIENCE",
            "WEBHOOK_SCAN",
            "CAMPAIGN_CONTENT",
        ] {
            command.env(format!("CREATORLINK_JOBS_{schedule}_SCHEDULE"), "off");
        }
        let child = command
            .arg("worker")
            .current_dir(dir)
            .env("DATABASE_URL", &app.db.url)
            .env("CREATORLINK_VAULT_KEY_FILE", app.config.vault_key_file())
            .env("CREATORLINK_SANDBOX_PUBLIC_URL", &app.address)
            .env("CREATORLINK_JOBS_WORKER_NAME", name)
            .env("CREATORLINK_JOBS_CONCURRENCY", "4")
            .env("CREATORLINK_JOBS_HEARTBEAT_SECS", "1")
            .env("CREATORLINK_JOBS_MISSED_HEARTBEATS", "2")
            .env("CREATORLINK_JOBS_LEASE_TTL_SECS", "3")
            .env("CREATORLINK_JOBS_TIMEOUT_SECS", "5")
            // A worker is declared dead after the longest platform call plus two beats.
            .env("CREATORLINK_PLATFORMS_TIMEOUT_SECONDS", "3")
            .env(
                "CREATORLINK_JOBS_REFRESH_SCHEDULE",
                if refresh_every_second {
                    "* * * * * *"
                } else {
                    "off"
                },
            )
            .env("CREATORLINK_LOG_LEVEL", "info")
            .env("CREATORLINK_AUTH_JWT_HS256_SECRET", tests::TEST_JWT_SECRET)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("the worker starts");
        let worker = Worker { child, log };
        // Bounded wait for its workers to register; not a timing assertion.
        for _ in 0..600 {
            if worker.log_text().contains("job workers started") {
                return worker;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the worker did not start: {}", worker.log_text());
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Refreshes this process stored.
    pub(crate) fn refreshed(&self) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains("refresh attempted") && l.contains("Refreshed"))
            .count()
    }
}

/// A PostgreSQL app with its queue on a Redis prefix of its own and no workers of its own: it
/// serves the sandbox (and GraphQL); the worker processes do the jobs.
pub(crate) async fn app_without_workers() -> Option<(TestApp, TestRedis)> {
    let redis = TestRedis::create().await?;
    let (url, prefix) = (redis.url.clone(), redis.prefix.clone());
    let app = spawn_app_with(Backend::Postgres, |c| {
        quiet_jobs(c);
        c.jobs.in_process = false;
        c.redis.url = Some(url);
        c.redis.prefix = prefix;
    })
    .await?;
    Some((app, redis))
}

/// How many of `links` hold refreshed tokens (version 2).
async fn refreshed_links(app: &TestApp, links: &[Uuid]) -> Vec<link::Model> {
    link::Entity::find()
        .all(&app.db.connect().await)
        .await
        .expect("links")
        .into_iter()
        .filter(|l| links.contains(&l.id) && l.version >= 2)
        .collect()
}

pub(crate) async fn wait_until_refreshed(
    app: &TestApp,
    links: &[Uuid],
    n: usize,
    workers: &[&Worker],
) {
    for _ in 0..1_200 {
        if refreshed_links(app, links).await.len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let logs: Vec<String> = workers
        .iter()
        .map(|w| {
            w.log_text()
                .lines()
                .filter(|l| !l.contains("outcome=Refreshed") && !l.contains(" started"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let done: Vec<Uuid> = refreshed_links(app, links)
        .await
        .iter()
        .map(|l| l.id)
        .collect();
    let waiting: Vec<link::Model> = link::Entity::find()
        .all(&app.db.connect().await)
        .await
        .expect("links")
        .into_iter()
        .filter(|l| links.contains(&l.id) && !done.contains(&l.id))
        .collect();
    panic!(
        "only {} of {n} links were refreshed; not yet: {waiting:#?}; worker logs: {logs:#?}",
        done.len()
    );
}

/// Every link refreshed exactly once, none refused, all LINKED with no lease, no dead job.
async fn assert_each_refreshed_once(app: &TestApp, links: &[Uuid]) {
    let (ok, refused) = token_calls(app, "tiktok", "token:refresh_token").await;
    assert_eq!(
        refused, 0,
        "no refresh token was presented after it was rotated away"
    );
    assert_eq!(ok, links.len(), "exactly one refresh per link");
    let db = app.db.connect().await;
    let now = Utc::now();
    for l in link::Entity::find().all(&db).await.expect("links") {
        assert_eq!((l.status, l.version), (LinkStatus::Linked, 2), "{l:?}");
        assert!(
            l.lease_until.is_none_or(|until| until > now),
            "no lease outlives its TTL: {l:?}"
        );
    }
    assert_eq!(dead_job::Entity::find().count(&db).await.expect("dead"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_refresh_two_hundred_links_exactly_once() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 200).await;
    let a = Worker::start(&app, &redis, dir.path(), "worker-a", false).await;
    let b = Worker::start(&app, &redis, dir.path(), "worker-b", false).await;
    // Each refresh takes 50 ms at the platform: one process alone (four at a time) would need
    // 2.5 s, so the other, looking at the queue every second, takes part whatever the order.
    control(
        &app,
        "slow",
        json!({"provider": "tiktok", "delay_ms": 50, "count": links.len()}),
    )
    .await;
    jobs::enqueue(&app.queue, RefreshScan::default())
        .await
        .expect("enqueue");
    wait_until_refreshed(&app, &links, links.len(), &[&a, &b]).await;
    assert_each_refreshed_once(&app, &links).await;
    assert_eq!(a.refreshed() + b.refreshed(), links.len());
    assert!(
        a.refreshed() > 0 && b.refreshed() > 0,
        "both processes took part: {} and {}",
        a.refreshed(),
        b.refreshed()
    );
}

pub(crate) async fn control(
    app: &TestApp,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let request = if body.is_null() {
        app.client.get(app.url(&format!("/sandbox/control/{path}")))
    } else {
        app.client
            .post(app.url(&format!("/sandbox/control/{path}")))
            .json(&body)
    };
    let response = request.send().await.expect("control");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// The kill lands while every refresh the worker has in hand waits on the platform (held by the
/// sandbox before it sees them), so nothing of the worker sits between a platform's answer and
/// its write. That last window — a rotated token the platform issued and a process that died
/// before storing it — no client can close; see the README's "Jobs" section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_loses_no_job_and_no_rotated_refresh_token() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 200).await;
    let mut first = Worker::start(&app, &redis, dir.path(), "worker-first", false).await;
    jobs::enqueue(&app.queue, RefreshScan::default())
        .await
        .expect("enqueue");
    wait_until_refreshed(&app, &links, 20, &[&first]).await;
    control(
        &app,
        "hold",
        json!({"provider": "tiktok", "path_contains": "/oauth/token/"}),
    )
    .await;
    // Its four refresh slots (CREATORLINK_JOBS_CONCURRENCY) all hang on the platform.
    let mut held = 0;
    for _ in 0..600 {
        held = control(&app, "hold", serde_json::Value::Null).await["held"]
            .as_u64()
            .unwrap_or(0);
        if held == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(held, 4, "{}", first.log_text());
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");
    control(&app, "release", json!({})).await;
    let before = refreshed_links(&app, &links).await.len();
    assert!(before < links.len(), "killed mid-run ({before} done)");

    // A new worker (its scan ticking every second) finishes the run: the dead worker's jobs come
    // back, its leases run out after their TTL, and every link refreshes with the refresh token
    // it holds.
    let second = Worker::start(&app, &redis, dir.path(), "worker-second", true).await;
    wait_until_refreshed(&app, &links, links.len(), &[&first, &second]).await;
    assert_each_refreshed_once(&app, &links).await;
    assert!(second.refreshed() > 0);
}

/// A TCP proxy in front of Redis whose connections the test can cut, as a Redis restart or a
/// network blip would.
struct RedisProxy {
    port: u16,
    /// Bumped on every cut: the pipes of older generations stop; while `down`, new connections
    /// are refused.
    state: std::sync::Arc<std::sync::Mutex<(u64, bool)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RedisProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RedisProxy {
    pub(crate) async fn start(redis_url: &str) -> RedisProxy {
        let target = url::Url::parse(redis_url).expect("redis url");
        let target = format!(
            "{}:{}",
            target.host_str().unwrap_or("127.0.0.1"),
            target.port().unwrap_or(6379)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = std::sync::Arc::new(std::sync::Mutex::new((0_u64, false)));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let (generation, down) = *shared.lock().expect("state");
                if down {
                    drop(client);
                    continue;
                }
                let shared = shared.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let cut = async {
                        while shared.lock().expect("state").0 == generation {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut => {}
                    }
                });
            }
        });
        RedisProxy { port, state, task }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Drops every connection and refuses new ones until [`RedisProxy::up`].
    fn cut(&self) {
        let mut state = self.state.lock().expect("state");
        state.0 += 1;
        state.1 = true;
    }

    fn up(&self) {
        self.state.lock().expect("state").1 = false;
    }
}

/// Redis goes away mid-run (every connection dropped, new ones refused for two seconds) and comes
/// back: the worker reconnects and finishes the run, every link refreshed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_reconnects_after_redis_drops_its_connections_and_finishes_the_run() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 200).await;
    let proxy = RedisProxy::start(&redis.url).await;
    // Slow answers keep the run going while Redis is away.
    control(
        &app,
        "slow",
        json!({"provider": "tiktok", "delay_ms": 30, "count": 200}),
    )
    .await;
    let worker = Worker::start_on(
        &app,
        &proxy.url(),
        &redis.prefix,
        dir.path(),
        "worker-proxied",
        true,
    )
    .await;
    jobs::enqueue(&app.queue, RefreshScan::default())
        .await
        .expect("enqueue");
    wait_until_refreshed(&app, &links, 20, &[&worker]).await;
    proxy.cut();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    proxy.up();
    wait_until_refreshed(&app, &links, links.len(), &[&worker]).await;
    // The worker did not spin meanwhile (a schedule tick missed during the outage once put
    // apalis-cron in a loop reporting it for ever).
    let lines = worker.log_text().lines().count();
    assert!(lines < 2_000, "{lines} log lines");
    assert_each_refreshed_once(&app, &links).await;
}

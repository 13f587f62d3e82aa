//! Jobs under real faults, with `creatorlink worker` processes: a finished job is acknowledged
//! (the queue keeps only running jobs, and a restarted worker runs nothing that finished —
//! counted in the sandbox's call log), on Redis and on the embedded SQLite queue; a worker whose
//! every slot waits on a slow platform is not declared dead; SIGTERM with a short shutdown timeout
//! lets every refresh already sent finish and store its rotated token.

use std::collections::BTreeSet;
use std::time::Duration;

use domain::Platform;
use jobs::refresh::RefreshScan;
use jobs::sync::PullMetrics;
use jobs::Job;
use serde_json::json;
use tests::{TestApp, TestRedis};

use crate::connect::sandbox_calls;
use crate::jobs::eventually;
use crate::pulls::linked;
use crate::refresh::{seed, token_calls};
use crate::refresh_processes::{app_without_workers, control, Worker, WorkerQueue};

async fn redis_conn(redis: &TestRedis) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url.as_str())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

/// The apalis-redis key `{prefix}:jobs:{job}:{suffix}`.
fn key(redis: &TestRedis, job: &str, suffix: &str) -> String {
    format!("{}:jobs:{job}:{suffix}", redis.prefix)
}

/// The ids in worker `worker`'s inflight set of `job`, and the ids in `job`'s data hash.
async fn inflight_and_data(
    redis: &TestRedis,
    job: &str,
    worker: &str,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut conn = redis_conn(redis).await;
    let inflight: BTreeSet<String> = redis::cmd("SMEMBERS")
        .arg(key(redis, job, &format!("inflight:{worker}:{job}")))
        .query_async(&mut conn)
        .await
        .expect("smembers");
    let data: BTreeSet<String> = redis::cmd("HKEYS")
        .arg(key(redis, job, "data"))
        .query_async(&mut conn)
        .await
        .expect("hkeys");
    (inflight, data)
}

/// Whether `worker`'s `job` worker is still registered (not yet declared dead by another).
async fn registered(redis: &TestRedis, job: &str, worker: &str) -> bool {
    let mut conn = redis_conn(redis).await;
    let score: Option<f64> = redis::cmd("ZSCORE")
        .arg(key(redis, job, "workers"))
        .arg(format!("{worker}:{job}"))
        .query_async(&mut conn)
        .await
        .expect("zscore");
    score.is_some()
}

/// TikTok data calls (not OAuth) the sandbox saw: every metrics pull makes the same ones.
async fn metrics_calls(app: &TestApp) -> usize {
    sandbox_calls(app, "provider=tiktok")
        .await
        .iter()
        .filter(|c| {
            c["endpoint"]
                .as_str()
                .is_some_and(|e| !e.starts_with("token") && e != "authorize")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keeps_only_running_jobs_and_a_restarted_worker_runs_nothing_that_finished() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Tiktok, "tiktok_leo").await;
    let dir = tempfile::tempdir().expect("dir");
    let first = Worker::start(&app, &redis, dir.path(), "worker-first", false).await;
    let job = PullMetrics::NAME;
    let before = metrics_calls(&app).await;

    // While the platform holds the pulls, they are in flight, with their payloads.
    control(
        &app,
        "hold",
        json!({"provider": "tiktok", "path_contains": "/v2/"}),
    )
    .await;
    for _ in 0..3 {
        jobs::enqueue(
            &app.queue,
            PullMetrics {
                account_id: account,
            },
        )
        .await
        .expect("enqueue");
    }
    eventually("the three pulls wait on the platform", || async {
        inflight_and_data(&redis, job, "worker-first").await.0.len() == 3
    })
    .await;
    let (inflight, data) = inflight_and_data(&redis, job, "worker-first").await;
    assert_eq!(inflight, data, "the running jobs, with their payloads");
    control(&app, "release", json!({})).await;

    // Finished, they leave the inflight set at once and their payloads soon after.
    eventually("the finished pulls are forgotten", || async {
        let (inflight, data) = inflight_and_data(&redis, job, "worker-first").await;
        inflight.is_empty() && data.is_empty()
    })
    .await;
    let calls = metrics_calls(&app).await - before;
    assert!(
        calls >= 3 && calls % 3 == 0,
        "{calls} calls for three pulls"
    );
    let per_pull = calls / 3;

    // The worker dies; another takes over once it is declared dead. Nothing it finished runs
    // again: one new pull costs exactly one pull's calls.
    drop(first);
    let second = Worker::start(&app, &redis, dir.path(), "worker-second", false).await;
    eventually("the dead worker is declared dead", || async {
        !registered(&redis, job, "worker-first").await
    })
    .await;
    jobs::enqueue(
        &app.queue,
        PullMetrics {
            account_id: account,
        },
    )
    .await
    .expect("enqueue");
    eventually("the new pull is done", || async {
        let (inflight, data) = inflight_and_data(&redis, job, "worker-second").await;
        metrics_calls(&app).await - before >= calls + per_pull
            && inflight.is_empty()
            && data.is_empty()
    })
    .await;
    assert_eq!(
        metrics_calls(&app).await - before,
        calls + per_pull,
        "no finished pull ran again: {}",
        second.log_text()
    );
}

/// The rows of the embedded queue's `Jobs` table for `job`: (status, lock_by).
async fn sqlite_jobs(app: &TestApp, job: &str) -> Vec<(String, Option<String>)> {
    let jobs::Queue::Sqlite { pool, .. } = &app.queue else {
        panic!("the app's queue is the embedded one");
    };
    sea_orm::sqlx::query_as("SELECT status, lock_by FROM Jobs WHERE job_type = ?1")
        .bind(job)
        .fetch_all(pool)
        .await
        .expect("jobs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_queue_acknowledges_finished_jobs_and_a_restarted_worker_runs_none_again() {
    let Some(app) = tests::spawn_app_with(tests::Backend::Postgres, |c| {
        crate::jobs::quiet_jobs(c);
        c.jobs.in_process = false;
        c.redis.url = None;
    })
    .await
    else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Tiktok, "tiktok_leo").await;
    let dir = tempfile::tempdir().expect("dir");
    let queue = || WorkerQueue::Sqlite {
        data_dir: app.data_dir.path(),
    };
    let first = Worker::start_with(&app, queue(), dir.path(), "worker-first", false, &[]).await;
    let job = PullMetrics::NAME;
    let before = metrics_calls(&app).await;
    for _ in 0..3 {
        jobs::enqueue(
            &app.queue,
            PullMetrics {
                account_id: account,
            },
        )
        .await
        .expect("enqueue");
    }
    eventually("the three pulls are acknowledged", || async {
        let rows = sqlite_jobs(&app, job).await;
        rows.len() == 3 && rows.iter().all(|(status, _)| status == "Done")
    })
    .await;
    let calls = metrics_calls(&app).await - before;
    assert!(
        calls >= 3 && calls % 3 == 0,
        "{calls} calls for three pulls"
    );
    let per_pull = calls / 3;

    drop(first);
    let second = Worker::start_with(&app, queue(), dir.path(), "worker-second", false, &[]).await;
    // Past the dead worker's liveness (heartbeat 1 s, dead after the 3 s platform timeout plus
    // two beats), the new worker has looked for its orphans; then one more pull.
    tokio::time::sleep(Duration::from_secs(7)).await;
    jobs::enqueue(
        &app.queue,
        PullMetrics {
            account_id: account,
        },
    )
    .await
    .expect("enqueue");
    eventually("the new pull is acknowledged", || async {
        let rows = sqlite_jobs(&app, job).await;
        rows.len() == 4 && rows.iter().all(|(status, _)| status == "Done")
    })
    .await;
    assert_eq!(
        metrics_calls(&app).await - before,
        calls + per_pull,
        "no finished pull ran again: {}",
        second.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_every_slot_waits_on_a_slow_platform_keeps_its_jobs() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 8).await;
    // Platform calls may take 15 s; the busy worker's four refresh slots wait 8 s on each, far
    // past its old dead threshold (two 1 s heartbeats).
    let env = [
        ("CREATORLINK_PLATFORMS_TIMEOUT_SECONDS", "15"),
        ("CREATORLINK_JOBS_TIMEOUT_SECS", "30"),
    ];
    let queue = || WorkerQueue::Redis {
        url: &redis.url,
        prefix: &redis.prefix,
    };
    let busy = Worker::start_with(&app, queue(), dir.path(), "worker-busy", false, &env).await;
    control(
        &app,
        "slow",
        json!({"provider": "tiktok", "delay_ms": 8_000, "count": links.len()}),
    )
    .await;
    jobs::enqueue(&app.queue, RefreshScan::default())
        .await
        .expect("enqueue");
    let job = jobs::refresh::RefreshLink::NAME;
    eventually("the busy worker's slots are all taken", || async {
        inflight_and_data(&redis, job, "worker-busy").await.0.len() >= 4
    })
    .await;
    // An idle worker watches the queue meanwhile: it would take the jobs of a worker it
    // believes dead.
    let idle = Worker::start_with(&app, queue(), dir.path(), "worker-idle", false, &env).await;
    crate::refresh_processes::wait_until_refreshed(&app, &links, links.len(), &[&busy, &idle])
        .await;
    assert!(
        registered(&redis, job, "worker-busy").await,
        "the busy worker was never declared dead"
    );
    let (ok, refused) = token_calls(&app, "tiktok", "token:refresh_token").await;
    assert_eq!((ok, refused), (links.len(), 0), "each link refreshed once");
    assert_eq!(
        busy.refreshed() + idle.refreshed(),
        links.len(),
        "no refresh ran twice"
    );
    assert!(
        !busy.log_text().contains("not registered"),
        "{}",
        busy.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_short_shutdown_timeout_lets_every_refresh_in_flight_store_its_token() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 12).await;
    let env = [
        ("CREATORLINK_PLATFORMS_TIMEOUT_SECONDS", "15"),
        ("CREATORLINK_JOBS_TIMEOUT_SECS", "30"),
        ("CREATORLINK_JOBS_SHUTDOWN_TIMEOUT_SECS", "1"),
    ];
    let queue = || WorkerQueue::Redis {
        url: &redis.url,
        prefix: &redis.prefix,
    };
    let mut first =
        Worker::start_with(&app, queue(), dir.path(), "worker-first", false, &env).await;
    // Every refresh takes 5 s at the platform, which rotates the refresh token when it answers.
    control(
        &app,
        "slow",
        json!({"provider": "tiktok", "delay_ms": 5_000, "count": links.len()}),
    )
    .await;
    jobs::enqueue(&app.queue, RefreshScan::default())
        .await
        .expect("enqueue");
    let job = jobs::refresh::RefreshLink::NAME;
    eventually("four refreshes are in hand", || async {
        inflight_and_data(&redis, job, "worker-first").await.0.len() == 4
    })
    .await;
    // Their calls are on their way (bounded wait, not a timing assertion); then SIGTERM, whose
    // shutdown timeout (1 s) passes long before the platform answers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = first.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = first.child.wait().expect("the worker exits");
    assert!(exit.success(), "{exit:?}: {}", first.log_text());
    assert!(
        first.refreshed() >= 1
            && first
                .log_text()
                .contains("waiting for refreshes in flight to finish"),
        "the refreshes in flight finished after SIGTERM: {}",
        first.log_text()
    );

    // A new worker finishes the run: no link lost its token.
    let second = Worker::start_with(&app, queue(), dir.path(), "worker-second", true, &env).await;
    crate::refresh_processes::wait_until_refreshed(&app, &links, links.len(), &[&first, &second])
        .await;
    let (ok, refused) = token_calls(&app, "tiktok", "token:refresh_token").await;
    assert_eq!(refused, 0, "no rotated-away refresh token was presented");
    assert_eq!(ok, links.len(), "one refresh per link");
}

/// A TCP proxy to `target` that the test can stall: every byte stops flowing (connections stay
/// open, new ones are accepted and never forwarded), as a dependency that hangs would.
struct StallProxy {
    port: u16,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StallProxy {
    async fn start(target: String) -> StallProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stalled.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if flag.load(Ordering::SeqCst) {
                    held.push(client);
                    continue;
                }
                let flag = flag.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    // Copies one direction in small steps, stopping (without closing) on a stall.
                    async fn pipe(
                        from: &mut tokio::net::tcp::OwnedReadHalf,
                        to: &mut tokio::net::tcp::OwnedWriteHalf,
                        flag: &std::sync::atomic::AtomicBool,
                    ) {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let Ok(n) = from.read(&mut buf).await else {
                                return;
                            };
                            if n == 0 {
                                return;
                            }
                            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                                std::future::pending::<()>().await;
                            }
                            if to.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                    tokio::join!(pipe(&mut cr, &mut sw, &flag), pipe(&mut sr, &mut cw, &flag));
                });
            }
        });
        StallProxy {
            port,
            stalled,
            task,
        }
    }

    fn stall(&self) {
        self.stalled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `url` with its `host:port` replaced by the proxy's.
fn through(url: &str, proxy: &StallProxy) -> String {
    let mut url = url::Url::parse(url).expect("url");
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy.port)).expect("port");
    url.to_string()
}

fn host_port(url: &str, default_port: u16) -> String {
    let url = url::Url::parse(url).expect("url");
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(default_port)
    )
}

/// A probe with a 2-second timeout on `/readyz` of an app whose `stalled` dependency stops
/// answering: it gets a 503 naming that dependency, not a timeout.
async fn readyz_answers_503_in_time_when(stalled: &str) {
    let Some(redis) = TestRedis::create().await else {
        return;
    };
    let db_proxy = StallProxy::start(host_port(&tests::postgres_admin_url(), 5432)).await;
    let redis_proxy = StallProxy::start(host_port(&redis.url, 6379)).await;
    let (redis_url, prefix) = (through(&redis.url, &redis_proxy), redis.prefix.clone());
    let db_proxy_ref = &db_proxy;
    let Some(app) = tests::spawn_app_with(tests::Backend::Postgres, move |c| {
        crate::jobs::quiet_jobs(c);
        c.jobs.in_process = false;
        let db_url = c.database.url.clone().expect("database url");
        c.database.url = Some(through(&db_url, db_proxy_ref));
        c.redis.url = Some(redis_url);
        c.redis.prefix = prefix;
    })
    .await
    else {
        return;
    };
    let probe = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let ready = probe.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    match stalled {
        "database" => db_proxy.stall(),
        _ => redis_proxy.stall(),
    }
    let response = probe
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("a 503 before the probe's 2 s timeout");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    let (check, other) = match stalled {
        "database" => ("database", "queue"),
        _ => ("queue", "database"),
    };
    assert_ne!(body["checks"][check], "ok", "{body}");
    assert_eq!(body["checks"][other], "ok", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_within_a_two_second_probe_when_the_database_hangs() {
    readyz_answers_503_in_time_when("database").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_within_a_two_second_probe_when_redis_hangs() {
    readyz_answers_503_in_time_when("queue").await;
}

/// What a worker killed between the platform's answer and its write leaves: the platform rotated
/// the refresh token (done here with the platform client itself) and the link still holds the old
/// one under an abandoned lease. The next refresh is refused, and the link says why: the result
/// was lost, reconnect. A link whose worker died before its call refreshes normally, and its old
/// `last_error` goes with the success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_result_lost_by_a_killed_worker_asks_the_creator_to_reconnect() {
    use domain::entities::link;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

    let Some(app) = tests::spawn_app_with(tests::Backend::Postgres, |c| {
        crate::jobs::quiet_jobs(c);
        c.jobs.in_process = false;
    })
    .await
    else {
        return;
    };
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 2).await;
    let db = app.db.connect().await;
    let now = app.jobs.now();
    let keyring = app.jobs.keyring().expect("keyring");
    let client = app
        .jobs
        .platform(domain::Provider::Tiktok)
        .expect("tiktok client");
    let load = |id| {
        let db = db.clone();
        async move {
            link::Entity::find_by_id(id)
                .one(&db)
                .await
                .expect("query")
                .expect("link")
        }
    };

    // The lost one: the platform answered (and rotated) a refresh nobody stored.
    let lost = load(links[0]).await;
    let open = |sealed: &Option<String>, kind| {
        keyring
            .open(
                sealed.as_deref().expect("sealed"),
                &domain::vault::Aad::new(lost.id, kind),
            )
            .expect("open")
    };
    let input = domain::platforms::RefreshInput {
        access_token: open(&lost.access_token, domain::vault::TokenKind::Access),
        refresh_token: Some(open(&lost.refresh_token, domain::vault::TokenKind::Refresh)),
    };
    client
        .refresh(&input, now)
        .await
        .expect("the platform answers");
    let mut m = lost.into_active_model();
    m.lease_owner = Set(Some("worker-killed".into()));
    m.lease_until = Set(Some(now - chrono::Duration::seconds(1)));
    m.update(&db).await.expect("abandoned lease");

    // The other one: its worker died before calling, after an earlier failure.
    let mut m = load(links[1]).await.into_active_model();
    m.lease_owner = Set(Some("worker-killed".into()));
    m.lease_until = Set(Some(now - chrono::Duration::seconds(1)));
    m.last_error = Set(Some("tiktok: 503 the platform is unavailable".into()));
    m.last_error_at = Set(Some(now));
    m.update(&db).await.expect("abandoned lease");

    for &link_id in &links {
        let outcome = jobs::execute(&jobs::refresh::RefreshLink { link_id }, &app.jobs).await;
        assert_eq!(outcome, jobs::Outcome::Done);
    }
    let lost = load(links[0]).await;
    assert_eq!(lost.status, domain::LinkStatus::Invalid);
    assert_eq!(
        lost.invalid_reason,
        Some(domain::InvalidReason::RefreshResultLost)
    );
    assert!(
        lost.last_error
            .as_deref()
            .is_some_and(|e| e.contains("must reconnect")),
        "{lost:?}"
    );
    let fine = load(links[1]).await;
    assert_eq!((fine.status, fine.version), (domain::LinkStatus::Linked, 2));
    assert_eq!((fine.last_error, fine.last_error_at), (None, None));
}

/// Deletes every key of `redis`'s prefix: the queue as a Redis restarted without its data sees it.
async fn empty_redis(redis: &TestRedis) {
    let mut conn = redis_conn(redis).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    for chunk in keys.chunks(500) {
        redis::cmd("DEL")
            .arg(chunk)
            .query_async::<()>(&mut conn)
            .await
            .expect("del");
    }
}

/// `n` due links are claimed by a scan and their jobs queued; Redis then comes back empty. A
/// worker whose refresh scan ticks every second refreshes them all without waiting out their
/// claims (job timeout plus lease: 240 s here). Returns the time from the worker's start until
/// every link held new tokens.
async fn recovery_after_an_empty_redis(n: usize) -> Option<Duration> {
    let (app, redis) = app_without_workers().await?;
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, n).await;
    assert_eq!(
        jobs::execute(&RefreshScan::default(), &app.jobs).await,
        jobs::Outcome::Done
    );
    empty_redis(&redis).await;
    let queue = WorkerQueue::Redis {
        url: &redis.url,
        prefix: &redis.prefix,
    };
    let env = [
        ("CREATORLINK_JOBS_CONCURRENCY", "16"),
        ("CREATORLINK_JOBS_LEASE_TTL_SECS", "120"),
        ("CREATORLINK_JOBS_TIMEOUT_SECS", "120"),
    ];
    let started = std::time::Instant::now();
    let worker = Worker::start_with(&app, queue, dir.path(), "worker-after", true, &env).await;
    crate::refresh_processes::wait_until_refreshed(&app, &links, links.len(), &[&worker]).await;
    let took = started.elapsed();
    let (ok, refused) = token_calls(&app, "tiktok", "token:refresh_token").await;
    assert_eq!((ok, refused), (links.len(), 0), "each link refreshed once");
    Some(took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_comes_back_empty_the_next_scan_releases_the_lost_claims() {
    recovery_after_an_empty_redis(100).await;
}

/// The drill behind docs/durable-jobs.md's recovery figure (5,000 links; run it alone, with
/// `--ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a drill: 5,000 links"]
async fn drill_recovery_of_five_thousand_links_after_an_empty_redis() {
    if let Some(took) = recovery_after_an_empty_redis(5_000).await {
        println!("DRILL recovery of 5,000 due links after an empty Redis: {took:?}");
    }
}

/// The drill behind docs/durable-jobs.md's kill -9 window: for `500` refreshes of one worker
/// process, the time from the platform's answer to the commit of the new tokens (the only moment
/// a killed worker loses a rotated refresh token). Run alone, with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a drill: prints the measured window"]
async fn drill_the_window_between_a_refresh_answer_and_its_commit() {
    let Some((app, redis)) = app_without_workers().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, 500).await;
    let queue = WorkerQueue::Redis {
        url: &redis.url,
        prefix: &redis.prefix,
    };
    let env = [
        ("CREATORLINK_JOBS_CONCURRENCY", "16"),
        ("CREATORLINK_LOG_LEVEL", "info,domain::link::refresh=debug"),
    ];
    let worker = Worker::start_with(&app, queue, dir.path(), "worker-window", false, &env).await;
    jobs::enqueue(&app.queue, RefreshScan::default())
        .await
        .expect("enqueue");
    crate::refresh_processes::wait_until_refreshed(&app, &links, links.len(), &[&worker]).await;
    let mut windows: Vec<u64> = worker
        .log_text()
        .lines()
        .filter_map(|l| l.split("window_us=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect();
    windows.sort_unstable();
    assert_eq!(windows.len(), links.len());
    let at = |q: f64| windows[((windows.len() - 1) as f64 * q) as usize];
    println!(
        "DRILL answer-to-commit window over {} refreshes: p50 {} us, p99 {} us, max {} us",
        windows.len(),
        at(0.5),
        at(0.99),
        windows[windows.len() - 1]
    );
}

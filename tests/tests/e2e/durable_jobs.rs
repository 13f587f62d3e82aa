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

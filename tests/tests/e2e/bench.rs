//! `creatorlink bench` at tiny sizes: every scenario completes and prints its table of numbers.
//! No figure is asserted against a target here (CI machines vary); `docs/benchmarks.md` holds
//! the full-size figures.

use std::collections::HashMap;

use tests::{on_both_backends, Backend, TestDatabase};

use crate::creatorlink_bin;

/// Runs `creatorlink bench …` and returns its table as metric → number.
async fn bench(args: &[&str]) -> HashMap<String, f64> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = tokio::process::Command::new(creatorlink_bin())
        .arg("bench")
        .args(args)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("CREATORLINK_LOG_LEVEL", "warn")
        .output()
        .await
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: HashMap<String, f64> = stdout
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", metric, value, ""] => Some((metric.to_string(), value.parse().ok()?)),
                _ => None,
            }
        })
        .collect();
    assert!(!rows.is_empty(), "no table in:\n{stdout}");
    rows
}

fn get(rows: &HashMap<String, f64>, metric: &str) -> f64 {
    *rows
        .get(metric)
        .unwrap_or_else(|| panic!("no row `{metric}` in {rows:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_embedded_start_times_a_cold_start_to_ready_and_reads_its_memory() {
    let rows = bench(&["embedded-start", "--runs", "2", "--idle-seconds", "0"]).await;
    assert_eq!(get(&rows, "runs"), 2.0);
    let min = get(&rows, "ready min (ms)");
    let max = get(&rows, "ready max (ms)");
    assert!(min > 0.0 && min <= max, "{rows:?}");
    assert!(get(&rows, "idle RSS median (MiB)") > 1.0, "{rows:?}");
    assert!(get(&rows, "peak RSS max (MiB)") >= get(&rows, "idle RSS max (MiB)"));
}

async fn bench_fanout_delivers_every_event_to_every_subscriber_and_reports_latencies(
    backend: Backend,
) {
    let Some(db) = TestDatabase::create(backend).await else {
        return;
    };
    // On PostgreSQL the server's dispatcher is woken by NOTIFY at each commit: with a one-minute
    // poll, every delivery within the two-second drain proves it. SQLite has no notifications
    // and the writer is another process, so there the poll brings the events.
    let poll = match backend {
        Backend::Postgres => "60000",
        Backend::Sqlite => "20",
    };
    let rows = bench(&[
        "fanout",
        "--subscribers",
        "4",
        "--rate",
        "20",
        "--seconds",
        "0.5",
        "--poll-interval-ms",
        poll,
        "--drain-seconds",
        "2",
        "--database-url",
        &db.url,
    ])
    .await;
    assert_eq!(get(&rows, "subscribers live"), 4.0);
    assert_eq!(get(&rows, "events written"), 10.0);
    assert_eq!(get(&rows, "deliveries expected"), 40.0);
    assert_eq!(get(&rows, "deliveries received"), 40.0);
    assert_eq!(get(&rows, "deliveries missing"), 0.0);
    let p50 = get(&rows, "event-to-client p50 (ms)");
    let p99 = get(&rows, "event-to-client p99 (ms)");
    assert!(p50 > 0.0 && p50 <= p99, "{rows:?}");
}

on_both_backends!(bench_fanout_delivers_every_event_to_every_subscriber_and_reports_latencies);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_expiry_sweep_moves_one_day_of_links_with_one_event_each_and_then_nothing() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let rows = bench(&[
        "expiry-sweep",
        "--links",
        "900",
        "--seed-batch",
        "400",
        "--database-url",
        &db.url,
    ])
    .await;
    assert_eq!(get(&rows, "links seeded"), 900.0);
    let moved = get(&rows, "LINKED → EXPIRING_SOON")
        + get(&rows, "→ EXPIRED")
        + get(&rows, "final warnings");
    assert!(moved > 0.0, "{rows:?}");
    assert_eq!(get(&rows, "events written"), moved);
    assert_eq!(get(&rows, "second sweep moved"), 0.0);
    assert!(get(&rows, "sweep wall time (ms)") > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_nested_read_reports_throughput_and_a_constant_statement_count_per_page_size() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let rows = bench(&[
        "nested-read",
        "--profiles",
        "30",
        "--concurrency",
        "2",
        "--seconds",
        "0.5",
        "--page-sizes",
        "5,20",
        "--database-url",
        &db.url,
    ])
    .await;
    let small = get(&rows, "creatorProfiles(first: 5): SQL statements/request");
    let large = get(&rows, "creatorProfiles(first: 20): SQL statements/request");
    assert!(small > 0.0, "{rows:?}");
    // DataLoaders batch per level: four times the profiles, the same statements.
    assert_eq!(small, large, "{rows:?}");
    for phase in [
        "creatorProfiles(first: 5)",
        "creatorProfiles(first: 20)",
        "creatorProfile(id:) detail",
    ] {
        assert!(get(&rows, &format!("{phase}: requests")) > 0.0, "{rows:?}");
        assert_eq!(get(&rows, &format!("{phase}: errors")), 0.0, "{rows:?}");
        let p50 = get(&rows, &format!("{phase}: p50 (ms)"));
        assert!(p50 > 0.0 && p50 <= get(&rows, &format!("{phase}: p99 (ms)")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_refresh_refreshes_every_link_once_with_each_worker_count() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let Some(redis) = tests::TestRedis::create().await else {
        return;
    };
    let rows = bench(&[
        "refresh",
        "--links",
        "60",
        "--workers",
        "1,2",
        "--concurrency",
        "4",
        "--database-url",
        &db.url,
        "--redis-url",
        &redis.url,
    ])
    .await;
    for workers in [1, 2] {
        let row = |what: &str| get(&rows, &format!("{workers} worker(s): {what}"));
        assert_eq!(row("refresh calls"), 60.0, "{rows:?}");
        assert_eq!(row("double refreshes"), 0.0, "{rows:?}");
        assert_eq!(row("links not LINKED after"), 0.0, "{rows:?}");
        assert!(row("refreshes per second") > 0.0, "{rows:?}");
    }
}

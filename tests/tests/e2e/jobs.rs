//! The job system through its real interfaces: the queue (SQLite file or Redis) and the
//! in-process workers of `serve`, the expiry sweep racing itself, readiness, dead jobs and the
//! `creatorlink jobs` command.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::entities::{link, link_event, social_account};
use domain::{LinkStatus, Platform};
use jobs::expire::ExpireLinks;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;
use tests::{on_both_backends, spawn_app_with, Backend, TestApp, TestRedis};
use uuid::Uuid;

/// A new account of `org` without a profile.
fn account_row(
    org: Uuid,
    platform: Platform,
    handle: &str,
    now: DateTime<Utc>,
) -> social_account::ActiveModel {
    social_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        profile_id: Set(None),
        platform: Set(platform),
        handle: Set(handle.to_owned()),
        handle_lower: Set(handle.to_lowercase()),
        url: Set(format!("https://example.test/{handle}")),
        platform_user_id: Set(Some(format!("uid-{handle}"))),
        display_name: Set(None),
        avatar_url: Set(None),
        followers: Set(None),
        followers_hidden: Set(false),
        paired_account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A linked account whose creator authenticated `days_ago` days before `now`.
pub async fn linked_account(
    db: &DatabaseConnection,
    org: Uuid,
    platform: Platform,
    handle: &str,
    authenticated_at: DateTime<Utc>,
) -> (social_account::Model, link::Model) {
    let now = Utc::now();
    let account = account_row(org, platform, handle, now)
        .insert(db)
        .await
        .expect("insert account");
    let mut link = link::ActiveModel::not_linked(org, account.id, now);
    link.status = Set(LinkStatus::Linked);
    link.authenticated_at = Set(Some(authenticated_at));
    link.expires_at = Set(Some(authenticated_at + domain::link::status::LINK_LIFETIME));
    link.expiry_cause = Set(Some("NINETY_DAYS".into()));
    link.version = Set(1);
    let link = link.insert(db).await.expect("insert link");
    (account, link)
}

/// A test configuration with the schedules off (tests enqueue what they need) and quick
/// heartbeats.
pub fn quiet_jobs(config: &mut api::Config) {
    let j = &mut config.jobs;
    for s in [
        &mut j.expire_links_schedule,
        &mut j.refresh_schedule,
        &mut j.stories_schedule,
        &mut j.metrics_schedule,
        &mut j.media_schedule,
        &mut j.audience_schedule,
    ] {
        *s = "off".into();
    }
    j.heartbeat_secs = 1;
    j.missed_heartbeats = 2;
    j.backoff_base_ms = 10;
    j.backoff_max_secs = 1;
}

async fn status_and_events(db: &DatabaseConnection, account: Uuid) -> (LinkStatus, Vec<String>) {
    let l = link::Entity::find()
        .filter(link::Column::AccountId.eq(account))
        .one(db)
        .await
        .expect("query")
        .expect("link");
    let events = link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account))
        .all(db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| {
            format!(
                "{}:{}->{}",
                e.kind,
                e.from_status.map(|s| s.as_str()).unwrap_or("-"),
                e.to_status.map(|s| s.as_str()).unwrap_or("-")
            )
        })
        .collect();
    (l.status, events)
}

/// Polls `check` until it holds or 30 s pass.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn links_expire_at_the_window_and_at_ninety_days_with_one_event_each_even_when_two_sweeps_race(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.jobs.in_process = false;
    })
    .await
    else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org.uuid();
    let now = Utc::now();
    let mut accounts = Vec::new();
    for days in [75, 76, 77, 89, 90, 91] {
        let (account, _) = linked_account(
            &db,
            org,
            Platform::Tiktok,
            &format!("creator{days}"),
            now - chrono::Duration::days(days),
        )
        .await;
        accounts.push((days, account.id));
    }

    // Two instances sweep at the same moment, each on its own connection.
    let ctx = app.jobs.clone();
    let other_db = domain::db::connect(&app.db.url, 5).await.expect("connect");
    let other = jobs::JobContext::new(
        other_db,
        ctx.queue().clone(),
        jobs::Platforms::new(),
        None,
        jobs::Clock::from_fn(move || now),
        jobs::JobMetrics::unregistered(),
        app.config.job_settings(),
        "other".into(),
    );
    let this = jobs::JobContext::new(
        ctx.db().clone(),
        ctx.queue().clone(),
        jobs::Platforms::new(),
        None,
        jobs::Clock::from_fn(move || now),
        jobs::JobMetrics::unregistered(),
        app.config.job_settings(),
        "this".into(),
    );
    let sweep = ExpireLinks::default();
    let (a, b) = tokio::join!(jobs::execute(&sweep, &this), jobs::execute(&sweep, &other));
    assert_eq!((a, b), (jobs::Outcome::Done, jobs::Outcome::Done));
    // A third, later sweep moves nothing again.
    assert_eq!(jobs::execute(&sweep, &this).await, jobs::Outcome::Done);

    let expected = [
        (75, LinkStatus::Linked, vec![]),
        (
            76,
            LinkStatus::ExpiringSoon,
            vec!["STATUS_CHANGED:LINKED->EXPIRING_SOON"],
        ),
        (
            77,
            LinkStatus::ExpiringSoon,
            vec!["STATUS_CHANGED:LINKED->EXPIRING_SOON"],
        ),
        (
            89,
            LinkStatus::ExpiringSoon,
            vec!["STATUS_CHANGED:LINKED->EXPIRING_SOON"],
        ),
        (
            90,
            LinkStatus::Expired,
            vec!["STATUS_CHANGED:LINKED->EXPIRED"],
        ),
        (
            91,
            LinkStatus::Expired,
            vec!["STATUS_CHANGED:LINKED->EXPIRED"],
        ),
    ];
    for ((days, account), (d, status, events)) in accounts.iter().zip(expected) {
        assert_eq!(*days, d);
        let (got_status, got_events) = status_and_events(&db, *account).await;
        assert_eq!(got_status, status, "{days} days");
        assert_eq!(got_events, events, "{days} days");
    }

    // Later, the expiring ones expire: one more event each, again even when two sweeps race.
    let later = now + chrono::Duration::days(15);
    let mut this_later = this.clone();
    let mut other_later = other.clone();
    for (c, base) in [(&mut this_later, &this), (&mut other_later, &other)] {
        *c = jobs::JobContext::new(
            base.db().clone(),
            base.queue().clone(),
            jobs::Platforms::new(),
            None,
            jobs::Clock::from_fn(move || later),
            jobs::JobMetrics::unregistered(),
            app.config.job_settings(),
            base.worker_id().to_owned(),
        );
    }
    let _ = tokio::join!(
        jobs::execute(&sweep, &this_later),
        jobs::execute(&sweep, &other_later)
    );
    let (status, events) = status_and_events(&db, accounts[1].1).await;
    assert_eq!(status, LinkStatus::Expired);
    assert_eq!(
        events,
        [
            "STATUS_CHANGED:LINKED->EXPIRING_SOON",
            "STATUS_CHANGED:EXPIRING_SOON->EXPIRED"
        ]
    );
}

async fn a_job_on_the_embedded_queue_is_run_by_the_in_process_workers(backend: Backend) {
    let Some(app) = spawn_app_with(backend, quiet_jobs).await else {
        return;
    };
    assert!(
        app.data_dir.path().join("jobs.db").exists(),
        "the queue file sits in data_dir"
    );
    a_pushed_sweep_runs(&app).await;
}

async fn a_job_on_redis_is_run_by_the_in_process_workers(backend: Backend) {
    let Some(redis) = TestRedis::create().await else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.redis.url = Some(redis.url.clone());
        c.redis.prefix = redis.prefix.clone();
    })
    .await
    else {
        return;
    };
    assert_eq!(app.queue.backend_name(), "redis");
    a_pushed_sweep_runs(&app).await;
    let mut conn = redis.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:jobs:expire_links*", redis.prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(!keys.is_empty(), "the queue's keys carry the test's prefix");
}

async fn a_pushed_sweep_runs(app: &TestApp) {
    let db = app.db.connect().await;
    let org = app.org.uuid();
    let (account, _) = linked_account(
        &db,
        org,
        Platform::Youtube,
        "oldchannel",
        Utc::now() - chrono::Duration::days(95),
    )
    .await;
    jobs::enqueue(&app.queue, ExpireLinks::default())
        .await
        .expect("enqueue");
    eventually("the queued sweep expires the link", || async {
        status_and_events(&db, account.id).await.0 == LinkStatus::Expired
    })
    .await;
    let ready: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["checks"]["queue"], "ok", "{ready}");
    // The job is counted when it returns, a moment after its effects are committed.
    let processed = "creatorlink_jobs_processed_total{job=\"expire_links\"} 1";
    eventually("the sweep is counted as processed", || async {
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
            .contains(processed)
    })
    .await;
    let _ = json!({});
}

/// The largest `jobs.sweep_batch` moves thousands of links in one statement: their events go in
/// several INSERTs (a statement binds at most 32,766 values on SQLite), each link gets exactly one,
/// and the three kinds of transition, run side by side, leave nothing behind.
async fn a_sweep_of_the_largest_batch_moves_thousands_of_links_with_one_event_each(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.jobs.in_process = false;
        c.jobs.sweep_batch = api::config::MAX_SWEEP_BATCH;
    })
    .await
    else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org.uuid();
    let now = Utc::now();
    // 1,400 links authenticated 91 days ago (expired), 1,400 80 days ago (the window) and 300
    // EXPIRING_SOON ones warned 12 days ago with two days left (the final warning).
    const EXPIRED: usize = 1_400;
    const WINDOW: usize = 1_400;
    const FINAL: usize = 300;
    let mut accounts = Vec::new();
    let mut links = Vec::new();
    for i in 0..EXPIRED + WINDOW + FINAL {
        let account = account_row(org, Platform::Youtube, &format!("bulk{i}"), now);
        let days = if i < EXPIRED {
            91
        } else if i < EXPIRED + WINDOW {
            80
        } else {
            88
        };
        let authenticated_at = now - chrono::Duration::days(days);
        let mut link = link::ActiveModel::not_linked(org, *account.id.as_ref(), now);
        link.status = Set(if days == 88 {
            LinkStatus::ExpiringSoon
        } else {
            LinkStatus::Linked
        });
        link.authenticated_at = Set(Some(authenticated_at));
        link.expires_at = Set(Some(authenticated_at + domain::link::status::LINK_LIFETIME));
        link.expiry_cause = Set(Some("NINETY_DAYS".into()));
        if days == 88 {
            link.warned_at = Set(Some(now - chrono::Duration::days(12)));
        }
        link.version = Set(1);
        accounts.push(account);
        links.push(link);
    }
    for chunk in accounts.chunks(500) {
        social_account::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await
            .expect("accounts");
    }
    for chunk in links.chunks(500) {
        link::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await
            .expect("links");
    }

    assert_eq!(
        jobs::execute(&ExpireLinks::default(), &app.jobs).await,
        jobs::Outcome::Done
    );

    let status_count = |status: LinkStatus| {
        let db = db.clone();
        async move {
            link::Entity::find()
                .filter(link::Column::OrganizationId.eq(org))
                .filter(link::Column::Status.eq(status))
                .count(&db)
                .await
                .expect("count")
        }
    };
    assert_eq!(status_count(LinkStatus::Expired).await, EXPIRED as u64);
    assert_eq!(
        status_count(LinkStatus::ExpiringSoon).await,
        (WINDOW + FINAL) as u64
    );
    assert_eq!(status_count(LinkStatus::Linked).await, 0);
    let events = link_event::Entity::find()
        .filter(link_event::Column::OrganizationId.eq(org))
        .all(&db)
        .await
        .expect("events");
    let of = |kind: &str, to: LinkStatus| {
        events
            .iter()
            .filter(|e| e.kind == kind && e.to_status == Some(to))
            .count()
    };
    assert_eq!(of("STATUS_CHANGED", LinkStatus::Expired), EXPIRED);
    assert_eq!(of("STATUS_CHANGED", LinkStatus::ExpiringSoon), WINDOW);
    assert_eq!(of("EXPIRING_SOON_WARNING", LinkStatus::ExpiringSoon), FINAL);
    assert_eq!(events.len(), EXPIRED + WINDOW + FINAL, "one event per link");
    let distinct: std::collections::HashSet<_> = events.iter().map(|e| e.account_id).collect();
    assert_eq!(distinct.len(), events.len(), "no link has two events");

    // Run again: nothing left to move.
    assert_eq!(
        jobs::execute(&ExpireLinks::default(), &app.jobs).await,
        jobs::Outcome::Done
    );
    let again = link_event::Entity::find()
        .filter(link_event::Column::OrganizationId.eq(org))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(again, events.len() as u64);
}

/// apalis-redis moves every due job of a queue with one Lua `unpack`, which fails above ~8,000:
/// a backlog that size pushed while no worker ran wedged the queue for good. Here 9,000 jobs wait
/// when the workers start, and every one is run exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_nine_thousand_jobs_on_redis_is_run_once_workers_start() {
    use futures::{StreamExt as _, TryStreamExt as _};
    use jobs::refresh::RefreshLink;
    use jobs::Job as _;

    let Some(redis) = TestRedis::create().await else {
        return;
    };
    let Some(app) = spawn_app_with(Backend::Postgres, |c| {
        quiet_jobs(c);
        c.jobs.in_process = false;
        c.jobs.concurrency = 32;
        c.redis.url = Some(redis.url.clone());
        c.redis.prefix = redis.prefix.clone();
    })
    .await
    else {
        return;
    };
    const BACKLOG: u64 = 9_000;
    // Links that do not exist: each job is one lookup that finds nothing.
    futures::stream::iter((0..BACKLOG).map(|_| {
        jobs::enqueue(
            &app.queue,
            RefreshLink {
                link_id: Uuid::now_v7(),
            },
        )
    }))
    .buffer_unordered(32)
    .try_collect::<()>()
    .await
    .expect("push the backlog");
    assert_eq!(
        app.queue.depth(RefreshLink::NAME).await.expect("depth"),
        BACKLOG
    );

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(jobs::run_workers(
        app.jobs.clone(),
        "backlog".into(),
        false,
        async move {
            let _ = stopped.await;
        },
    ));
    let processed = || {
        app.jobs
            .metrics()
            .processed
            .with_label_values(&[RefreshLink::NAME])
            .get()
    };
    for _ in 0..1_200 {
        if processed() >= BACKLOG {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(processed(), BACKLOG, "every job of the backlog ran once");
    assert_eq!(app.queue.depth(RefreshLink::NAME).await.expect("depth"), 0);
    let _ = stop.send(());
    let _ = workers.await;
}

on_both_backends!(
    links_expire_at_the_window_and_at_ninety_days_with_one_event_each_even_when_two_sweeps_race,
    a_sweep_of_the_largest_batch_moves_thousands_of_links_with_one_event_each,
    a_job_on_the_embedded_queue_is_run_by_the_in_process_workers,
    a_job_on_redis_is_run_by_the_in_process_workers,
);

//! The job system through its real interfaces: the queue (SQLite file or Redis) and the
//! in-process workers of `serve`, the expiry sweep racing itself, readiness, dead jobs and the
//! `creatorlink jobs` command.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::entities::{link, link_event, social_account};
use domain::{LinkStatus, Platform};
use jobs::expire::ExpireLinks;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;
use tests::{on_both_backends, spawn_app_with, Backend, TestApp, TestRedis};
use uuid::Uuid;

/// A linked account whose creator authenticated `days_ago` days before `now`.
pub async fn linked_account(
    db: &DatabaseConnection,
    org: Uuid,
    platform: Platform,
    handle: &str,
    authenticated_at: DateTime<Utc>,
) -> (social_account::Model, link::Model) {
    let now = Utc::now();
    let account = social_account::ActiveModel {
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
        paired_account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
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

on_both_backends!(
    links_expire_at_the_window_and_at_ninety_days_with_one_event_each_even_when_two_sweeps_race,
    a_job_on_the_embedded_queue_is_run_by_the_in_process_workers,
    a_job_on_redis_is_run_by_the_in_process_workers,
);

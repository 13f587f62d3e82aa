//! The scheduled data pulls through their real interfaces: sandbox accounts connected over
//! OAuth, `sync_scan` run on the job queue, the pulls run by the in-process workers against the
//! sandbox providers, sandbox time moved with the control API, and `requestSync` /
//! `SocialAccount.freshness` over GraphQL.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::entities::{audience, link, link_event, media, metric_snapshot, sync_state};
use domain::sync::SyncResource;
use domain::{LinkStatus, MediaKind, Platform};
use jobs::sync::SyncScan;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app_with, Backend, TestApp};
use uuid::Uuid;

use crate::connect::{account_by_platform, advance, connect, global_id, new_profile};
use crate::jobs::{eventually, quiet_jobs};

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.jobs.in_process = true;
    })
    .await
}

/// Connects `user` on `platform` to a new profile and returns the account of `platform`.
pub(crate) async fn linked(
    app: &TestApp,
    db: &DatabaseConnection,
    platform: Platform,
    user: &str,
) -> Uuid {
    let (_, profile) = new_profile(app, db, user).await;
    let (status, body) = connect(app, &profile, platform.as_str(), user).await;
    assert_eq!(status, 200, "{body}");
    let accounts = account_by_platform(db, platform).await;
    let (account, l) = accounts.last().expect("the account is linked");
    assert_eq!(l.as_ref().map(|l| l.status), Some(LinkStatus::Linked));
    account.id
}

async fn state_of(
    db: &DatabaseConnection,
    account: Uuid,
    resource: SyncResource,
) -> Option<sync_state::Model> {
    sync_state::Entity::find_by_id((account, resource.as_str().to_owned()))
        .one(db)
        .await
        .expect("sync_state")
}

/// Runs the scan of `resource` at the app's (sandbox) time and waits until the workers have
/// finished the pull of `account` it enqueued (success or a recorded failure).
async fn scan_and_wait(app: &TestApp, db: &DatabaseConnection, account: Uuid, r: SyncResource) {
    let at = app.jobs.now();
    assert_eq!(
        jobs::execute(&SyncScan { resource: r }, &app.jobs).await,
        jobs::Outcome::Done
    );
    wait_pulled(db, account, r, at).await;
}

/// Waits until the pull of `r` for `account` recorded an outcome at or after `at`. A first
/// metrics pull reads 30 days, one request per day; on a loaded machine that can take longer
/// than `eventually`'s 30 s, so this waits up to two minutes.
async fn wait_pulled(db: &DatabaseConnection, account: Uuid, r: SyncResource, at: DateTime<Utc>) {
    for _ in 0..1200 {
        let done = state_of(db, account, r).await.is_some_and(|s| {
            s.last_success_at.is_some_and(|t| t >= at) || s.last_error_at.is_some_and(|t| t >= at)
        });
        if done {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {} pulled", r.as_str());
}

async fn media_of(db: &DatabaseConnection, account: Uuid) -> Vec<media::Model> {
    media::Entity::find()
        .filter(media::Column::AccountId.eq(account))
        .all(db)
        .await
        .expect("media")
}

async fn events_of(db: &DatabaseConnection, account: Uuid) -> Vec<link_event::Model> {
    link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account))
        .all(db)
        .await
        .expect("events")
}

async fn stories_are_captured_once_each_over_two_sandbox_days_with_daily_snapshots_and_no_duplicates(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Instagram, "meta_ben").await;
    let start = app.jobs.now();

    // Newly linked: every resource is due at the first scan.
    for r in SyncResource::ALL {
        scan_and_wait(&app, &db, account, r).await;
        let s = state_of(&db, account, r)
            .await
            .expect("row created by the scan");
        assert!(s.last_success_at.is_some(), "{r:?}: {s:?}");
        assert_eq!(s.consecutive_failures, 0);
    }
    let after_first: Vec<String> = media_of(&db, account)
        .await
        .into_iter()
        .filter(|m| m.kind != MediaKind::Story)
        .map(|m| m.platform_media_id)
        .collect();
    assert!(!after_first.is_empty(), "the metrics pull brings the media");

    // Two sandbox days in steps of the stories interval; the scans run as the schedule would.
    let step = Duration::hours(2);
    let mut end = start;
    for i in 0..24 {
        advance(&app, step.num_seconds()).await;
        end = app.jobs.now();
        scan_and_wait(&app, &db, account, SyncResource::Stories).await;
        // Metrics are due every 6 hours.
        if i % 3 == 2 {
            scan_and_wait(&app, &db, account, SyncResource::Metrics).await;
        }
    }
    // A pull re-run by hand changes nothing but the counters.
    scan_and_wait(&app, &db, account, SyncResource::Media).await;

    // The sandbox posts a story every 8 hours and keeps it 24 hours: every story live at any
    // moment between `start` and `end` was captured, once, before it disappeared.
    let eight = Duration::hours(8);
    let mut expected = BTreeSet::new();
    let mut at = (start - Duration::hours(24))
        .duration_trunc(eight)
        .expect("trunc");
    while at <= end {
        if at + Duration::hours(24) > start {
            expected.insert(format!("17841400008460077_s{}", at.timestamp()));
        }
        at += eight;
    }
    let all = media_of(&db, account).await;
    let stories: Vec<&media::Model> = all.iter().filter(|m| m.kind == MediaKind::Story).collect();
    let captured: BTreeSet<String> = stories
        .iter()
        .map(|m| m.platform_media_id.clone())
        .collect();
    assert_eq!(captured, expected);
    assert_eq!(stories.len(), expected.len(), "each story exactly once");
    for s in &stories {
        let expires = s.expires_at.expect("stories expire");
        assert!(s.first_seen_at < expires, "captured before it disappeared");
        assert!(s.media_url.is_some(), "the media URL is kept");
    }
    let posts: Vec<&str> = all
        .iter()
        .filter(|m| m.kind != MediaKind::Story)
        .map(|m| m.platform_media_id.as_str())
        .collect();
    let unique: BTreeSet<&str> = posts.iter().copied().collect();
    assert_eq!(posts.len(), unique.len(), "re-pulls never duplicate media");
    for id in &after_first {
        assert!(unique.contains(id.as_str()));
    }

    // One snapshot per day, upserted: the start day and the two sandbox days after it.
    let snapshots = metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::AccountId.eq(account))
        .all(&db)
        .await
        .expect("snapshots");
    let days: BTreeSet<_> = snapshots.iter().map(|s| s.day).collect();
    assert_eq!(days.len(), snapshots.len());
    for d in [
        start.date_naive(),
        start.date_naive() + Duration::days(1),
        start.date_naive() + Duration::days(2),
    ] {
        assert!(days.contains(&d), "a snapshot of {d}: {days:?}");
    }
    let today = snapshots
        .iter()
        .find(|s| s.day == end.date_naive())
        .expect("today");
    assert!(today.followers.is_some() && today.reach.is_some());

    // The audience is stored; no story went uncaptured, so no freshness event.
    let aud = audience::Entity::find()
        .filter(audience::Column::AccountId.eq(account))
        .one(&db)
        .await
        .expect("audience")
        .expect("pulled");
    assert!(aud.unavailable_reason.is_none() && aud.age.is_some());
    assert!(events_of(&db, account)
        .await
        .iter()
        .all(|e| e.kind != "FRESHNESS"));

    // The stories counter saw each story once.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let seen = metrics
        .lines()
        .find(|l| l.starts_with("creatorlink_stories_seen_total "))
        .expect("the stories counter is exported");
    assert_eq!(
        seen,
        format!("creatorlink_stories_seen_total {}", expected.len())
    );
    assert!(metrics.contains("creatorlink_stories_expired_uncaptured 0"));
}

const FRESHNESS: &str = r#"query($id: ID!) { node(id: $id) { ... on SocialAccount {
    link { status invalidReason }
    freshness { resource lastSuccessAt lastErrorAt lastError consecutiveFailures nextRunAt } } } }"#;

fn freshness_of(body: &Value, resource: &str) -> Value {
    body["node"]["freshness"]
        .as_array()
        .unwrap_or_else(|| panic!("freshness in {body}"))
        .iter()
        .find(|f| f["resource"] == resource)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn a_revoked_user_turns_the_link_invalid_with_one_event_and_freshness_shows_success_and_errors(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Instagram, "meta_ben").await;
    let gid = global_id("SocialAccount", account);

    // A 503 on the stories call: the job retries and succeeds; freshness shows both.
    let fault = app
        .client
        .post(app.url("/sandbox/control/faults"))
        .json(&json!({"provider": "meta", "count": 1, "status": 503, "path_contains": "stories"}))
        .send()
        .await
        .expect("fault");
    assert_eq!(fault.status(), 200);
    let at = app.jobs.now();
    jobs::execute(
        &SyncScan {
            resource: SyncResource::Stories,
        },
        &app.jobs,
    )
    .await;
    eventually("the retried pull succeeds", || async {
        state_of(&db, account, SyncResource::Stories)
            .await
            .is_some_and(|s| s.last_success_at.is_some_and(|t| t >= at))
    })
    .await;
    let body = app.graphql_ok(FRESHNESS, json!({"id": gid})).await;
    let f = freshness_of(&body, "STORIES");
    assert!(f["lastSuccessAt"].is_string(), "{f}");
    assert!(f["lastErrorAt"].is_string(), "{f}");
    assert!(
        f["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("temporary"),
        "{f}"
    );
    assert_eq!(f["consecutiveFailures"], 0);
    assert!(f["nextRunAt"].is_string());

    // The creator removes the app on Instagram: the next pull makes the link INVALID.
    let revoked = app
        .client
        .post(app.url("/sandbox/control/users/meta_ben/revoke"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    advance(&app, Duration::hours(2).num_seconds()).await;
    scan_and_wait(&app, &db, account, SyncResource::Stories).await;
    let l = link::Entity::find()
        .filter(link::Column::AccountId.eq(account))
        .one(&db)
        .await
        .expect("link")
        .expect("link");
    assert_eq!(l.status, LinkStatus::Invalid);
    assert_eq!(
        l.invalid_reason,
        Some(domain::InvalidReason::PermissionsRevoked)
    );

    // Later scans skip the account: still exactly one transition event.
    advance(&app, Duration::hours(3).num_seconds()).await;
    for r in SyncResource::ALL {
        jobs::execute(&SyncScan { resource: r }, &app.jobs).await;
    }
    let transitions: Vec<String> = events_of(&db, account)
        .await
        .into_iter()
        .filter(|e| e.kind == "STATUS_CHANGED" && e.to_status == Some(LinkStatus::Invalid))
        .map(|e| format!("{:?}->{:?} {:?}", e.from_status, e.to_status, e.reason))
        .collect();
    assert_eq!(
        transitions,
        ["Some(Linked)->Some(Invalid) Some(\"PERMISSIONS_REVOKED\")"]
    );

    let body = app.graphql_ok(FRESHNESS, json!({"id": gid})).await;
    assert_eq!(body["node"]["link"]["status"], "INVALID");
    let f = freshness_of(&body, "STORIES");
    let error = f["lastError"].as_str().expect("the error is recorded");
    assert!(error.contains("PERMISSIONS_REVOKED"), "{error}");

    // No token text anywhere in sync_state (sandbox tokens carry the `sandbox_` marker).
    for row in sync_state::Entity::find().all(&db).await.expect("rows") {
        let e = row.last_error.unwrap_or_default();
        assert!(
            !e.contains("sandbox_at_") && !e.contains("sandbox_rt_"),
            "{e}"
        );
    }
}

const REQUEST_SYNC: &str = r#"mutation($input: RequestSyncInput!) { requestSync(input: $input) {
    requested retryAt socialAccount { handle } userErrors { code field message } } }"#;

async fn request_sync_pulls_tiktok_now_and_is_rate_limited_per_account(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Tiktok, "tiktok_leo").await;
    let gid = global_id("SocialAccount", account);

    // Stories are Instagram's only.
    let body = app
        .graphql_ok(
            REQUEST_SYNC,
            json!({"input": {"accountId": gid, "resources": ["STORIES"]}}),
        )
        .await;
    assert_eq!(
        body["requestSync"]["userErrors"][0]["code"],
        "RESOURCE_NOT_AVAILABLE"
    );

    let at = app.jobs.now();
    let body = app
        .graphql_ok(REQUEST_SYNC, json!({"input": {"accountId": gid}}))
        .await;
    let payload = &body["requestSync"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(
        payload["requested"],
        json!(["MEDIA", "METRICS", "AUDIENCE"])
    );
    for r in [
        SyncResource::Media,
        SyncResource::Metrics,
        SyncResource::Audience,
    ] {
        wait_pulled(&db, account, r, at).await;
        let s = state_of(&db, account, r).await.expect("row");
        assert!(s.last_success_at.is_some(), "{s:?}");
        assert!(s.requested_at.is_some());
    }
    let videos = media_of(&db, account).await;
    assert!(!videos.is_empty());
    assert!(videos.iter().all(|m| m.kind == MediaKind::Video));
    let snapshot = metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::AccountId.eq(account))
        .one(&db)
        .await
        .expect("query")
        .expect("today's snapshot from the profile");
    assert!(snapshot.followers.is_some());
    let aud = audience::Entity::find()
        .filter(audience::Column::AccountId.eq(account))
        .one(&db)
        .await
        .expect("query")
        .expect("row");
    assert!(aud.unavailable_reason.is_some(), "TikTok withholds it");

    // Again at once: rate limited, nothing enqueued or changed.
    let before = state_of(&db, account, SyncResource::Media).await;
    let key = app.api_key(&[domain::Scope::AccountsWrite]).await;
    let (status, body) = app
        .graphql_as(
            &tests::Credential::ApiKey(key),
            REQUEST_SYNC,
            json!({"input": {"accountId": gid, "resources": ["MEDIA"]}}),
        )
        .await;
    assert_eq!(status, 200);
    let payload = &body["data"]["requestSync"];
    assert_eq!(
        payload["userErrors"][0]["code"], "RATE_LIMITED",
        "{payload}"
    );
    assert!(payload["retryAt"].is_string());
    assert_eq!(payload["requested"], json!([]));
    assert_eq!(state_of(&db, account, SyncResource::Media).await, before);

    // After the cooldown, a request goes through again.
    advance(&app, 301).await;
    let body = app
        .graphql_ok(
            REQUEST_SYNC,
            json!({"input": {"accountId": gid, "resources": ["MEDIA"]}}),
        )
        .await;
    assert_eq!(body["requestSync"]["requested"], json!(["MEDIA"]));
}

async fn youtube_pulls_store_videos_snapshots_and_the_withheld_audience_reason(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Youtube, "yt_small").await;
    for r in [
        SyncResource::Media,
        SyncResource::Metrics,
        SyncResource::Audience,
    ] {
        scan_and_wait(&app, &db, account, r).await;
        let s = state_of(&db, account, r).await.expect("row");
        assert!(s.last_success_at.is_some(), "{r:?}: {s:?}");
    }
    // Stories do not exist on YouTube: the scan made no row.
    jobs::execute(
        &SyncScan {
            resource: SyncResource::Stories,
        },
        &app.jobs,
    )
    .await;
    assert!(state_of(&db, account, SyncResource::Stories)
        .await
        .is_none());

    let videos = media_of(&db, account).await;
    assert!(!videos.is_empty());
    let by_id: HashMap<&str, usize> = videos.iter().fold(HashMap::new(), |mut m, v| {
        *m.entry(v.platform_media_id.as_str()).or_default() += 1;
        m
    });
    assert!(by_id.values().all(|n| *n == 1));
    let snapshots = metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::AccountId.eq(account))
        .all(&db)
        .await
        .expect("snapshots");
    assert!(!snapshots.is_empty());
    let aud = audience::Entity::find()
        .filter(audience::Column::AccountId.eq(account))
        .one(&db)
        .await
        .expect("query")
        .expect("row");
    let reason = aud
        .unavailable_reason
        .expect("a small channel has no audience data");
    assert!(!reason.is_empty());
}

on_both_backends!(
    stories_are_captured_once_each_over_two_sandbox_days_with_daily_snapshots_and_no_duplicates,
    a_revoked_user_turns_the_link_invalid_with_one_event_and_freshness_shows_success_and_errors,
    request_sync_pulls_tiktok_now_and_is_rate_limited_per_account,
    youtube_pulls_store_videos_snapshots_and_the_withheld_audience_reason,
);

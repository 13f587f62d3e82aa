//! Data fidelity (issue 25): no pull erases what is known. Sandbox accounts linked over OAuth,
//! pull jobs run through the job runtime against the sandbox providers, sandbox time moved with
//! the control API, reply variants injected with sandbox faults, and what a user sees read over
//! GraphQL.

use chrono::{Duration, NaiveDate};
use domain::entities::{link, media, social_account, sync_state};
use domain::sync::SyncResource;
use domain::Platform;
use jobs::refresh::RefreshLink;
use jobs::sync::PullMetrics;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app_with, Backend, TestApp};
use uuid::Uuid;

use crate::connect::{account_by_platform, advance, connect, global_id, new_profile};
use crate::jobs::quiet_jobs;

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.jobs.in_process = true;
    })
    .await
}

/// Connects `user` on `platform` to a new profile and returns the account.
pub async fn linked(
    app: &TestApp,
    db: &DatabaseConnection,
    platform: Platform,
    user: &str,
) -> social_account::Model {
    let (_, profile) = new_profile(app, db, user).await;
    let (status, body) = connect(app, &profile, platform.as_str(), user).await;
    assert_eq!(status, 200, "{body}");
    account_by_platform(db, platform)
        .await
        .pop()
        .expect("the account is linked")
        .0
}

/// Runs one metrics pull of `account` through the job runtime, after the refresh the refresh
/// scan would have done by then (its schedule is off in these tests); the pull must succeed.
async fn pull_metrics(app: &TestApp, account: Uuid) {
    let db = app.db.connect().await;
    let l = link::Entity::find()
        .filter(link::Column::AccountId.eq(account))
        .one(&db)
        .await
        .expect("query")
        .expect("link");
    assert_eq!(
        jobs::execute(&RefreshLink { link_id: l.id }, &app.jobs).await,
        jobs::Outcome::Done
    );
    let at = app.jobs.now();
    assert_eq!(
        jobs::execute(
            &PullMetrics {
                account_id: account
            },
            &app.jobs
        )
        .await,
        jobs::Outcome::Done
    );
    let state =
        sync_state::Entity::find_by_id((account, SyncResource::Metrics.as_str().to_owned()))
            .one(&db)
            .await
            .expect("query")
            .expect("sync state");
    assert!(
        state.last_success_at.is_some_and(|t| t >= at),
        "the pull succeeded: {state:?}"
    );
}

/// Queues a sandbox reply variant: the next `count` calls to `provider` whose path contains
/// `path` are answered `status` with `body`.
pub async fn inject(
    app: &TestApp,
    provider: &str,
    path: &str,
    count: u32,
    status: u16,
    body: Value,
) {
    let response = app
        .client
        .post(app.url("/sandbox/control/faults"))
        .json(
            &json!({"provider": provider, "count": count, "status": status,
            "path_contains": path, "body": body}),
        )
        .send()
        .await
        .expect("fault");
    assert_eq!(response.status(), 200);
}

const ACCOUNT: &str = r#"query($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on SocialAccount {
    followers followersHidden
    metrics(from: $from, to: $to) { day followers views reach engagements videoViews }
    media(first: 50) { edges { node { platformMediaId metrics { views likes comments } } } } } } }"#;

async fn account_view(app: &TestApp, account: Uuid, from: NaiveDate, to: NaiveDate) -> Value {
    let body = app
        .graphql_ok(
            ACCOUNT,
            json!({"id": global_id("SocialAccount", account), "from": from.to_string(),
                "to": to.to_string()}),
        )
        .await;
    body["node"].clone()
}

fn day_of(view: &Value, day: NaiveDate) -> &Value {
    view["metrics"]
        .as_array()
        .and_then(|days| days.iter().find(|d| d["day"] == day.to_string()))
        .unwrap_or_else(|| panic!("no snapshot of {day} in {view}"))
}

fn media_metrics<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["media"]["edges"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["node"]["platformMediaId"] == id))
        .map(|e| &e["node"]["metrics"])
        .unwrap_or_else(|| panic!("no media {id} in {view}"))
}

async fn history_survives_a_second_days_pull_on_every_platform(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    for (platform, user) in [
        (Platform::Youtube, "yt_big"),
        (Platform::Tiktok, "tiktok_leo"),
        (Platform::Instagram, "meta_ben"),
    ] {
        let account = linked(&app, &db, platform, user).await.id;
        let first_day = app.jobs.now().date_naive();
        pull_metrics(&app, account).await;
        let window = (first_day - Duration::days(3), first_day + Duration::days(1));
        let before = account_view(&app, account, window.0, window.1).await;
        assert!(
            day_of(&before, first_day)["followers"].is_i64(),
            "{platform:?}: today's snapshot has the followers: {before}"
        );

        // A day later the pull re-reads the last days: what was known stays known.
        advance(&app, Duration::days(1).num_seconds()).await;
        pull_metrics(&app, account).await;
        let after = account_view(&app, account, window.0, window.1).await;
        for day in before["metrics"].as_array().expect("days") {
            let date: NaiveDate = day["day"].as_str().expect("day").parse().expect("date");
            let now = day_of(&after, date);
            for field in ["followers", "views", "reach", "engagements", "videoViews"] {
                if !day[field].is_null() {
                    assert!(
                        !now[field].is_null(),
                        "{platform:?} {date} lost {field}: {day} -> {now}"
                    );
                }
            }
            if platform != Platform::Instagram {
                // The followers of a past day come from that day's profile read: unchanged.
                assert_eq!(now["followers"], day["followers"], "{platform:?} {date}");
            }
        }
        let second_day = first_day + Duration::days(1);
        assert!(
            day_of(&after, first_day)["followers"].is_i64()
                && day_of(&after, second_day)["followers"].is_i64(),
            "{platform:?}: both days keep their followers: {after}"
        );
    }
}

async fn a_youtube_reply_missing_fields_leaves_the_stored_values_and_a_hidden_count_shows_hidden(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Youtube, "yt_big").await;
    let channel_id = account.platform_user_id.clone().expect("channel id");
    pull_metrics(&app, account.id).await;
    let today = app.jobs.now().date_naive();
    let window = (today - Duration::days(3), today);
    let before = account_view(&app, account.id, window.0, window.1).await;
    assert!(before["followers"].is_i64(), "{before}");
    assert_eq!(before["followersHidden"], false);
    let video = media::Entity::find()
        .filter(media::Column::AccountId.eq(account.id))
        .one(&db)
        .await
        .expect("media")
        .expect("a video was pulled");
    let video_before = media_metrics(&before, &video.platform_media_id).clone();
    assert!(video_before["views"].is_i64(), "{video_before}");

    // The next pull meets: an Analytics report without the views column, a channel whose owner
    // hid the subscriber count, and the video turned private (no `statistics`).
    let mut rows = Vec::new();
    let mut d = window.0;
    while d <= today {
        rows.push(json!([d.to_string(), 1234]));
        d += Duration::days(1);
    }
    inject(
        &app,
        "google",
        "reports",
        1,
        200,
        json!({"kind": "youtubeAnalytics#resultTable",
        "columnHeaders": [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
            {"name": "estimatedMinutesWatched", "columnType": "METRIC", "dataType": "INTEGER"}],
        "rows": rows}),
    )
    .await;
    inject(&app, "google", "channels", 1, 200, json!({"kind": "youtube#channelListResponse",
        "items": [{"kind": "youtube#channel", "id": channel_id,
            "snippet": {"title": "Ana Travels"},
            "contentDetails": {"relatedPlaylists": {"uploads": format!("UU{}", &channel_id[2..])}},
            "statistics": {"viewCount": "1000", "hiddenSubscriberCount": true, "videoCount": "48"}}]}))
    .await;
    inject(
        &app,
        "google",
        "videos",
        1,
        200,
        json!({"kind": "youtube#videoListResponse",
        "items": [{"kind": "youtube#video", "id": video.platform_media_id,
            "snippet": {"title": "Private now", "publishedAt": video.taken_at.to_rfc3339()}}]}),
    )
    .await;
    advance(&app, Duration::hours(1).num_seconds()).await;
    pull_metrics(&app, account.id).await;

    let after = account_view(&app, account.id, window.0, window.1).await;
    assert_eq!(after["followersHidden"], true, "{after}");
    assert_eq!(
        after["followers"],
        Value::Null,
        "a hidden count is not shown stale"
    );
    for day in before["metrics"].as_array().expect("days") {
        let date: NaiveDate = day["day"].as_str().expect("day").parse().expect("date");
        let now = day_of(&after, date);
        assert_eq!(now["views"], day["views"], "{date}: views kept");
        assert_eq!(now["followers"], day["followers"], "{date}: followers kept");
    }
    assert_eq!(
        media_metrics(&after, &video.platform_media_id),
        &video_before,
        "a private video keeps its numbers"
    );

    // The owner shows the count again: it is back.
    advance(&app, Duration::hours(1).num_seconds()).await;
    pull_metrics(&app, account.id).await;
    let shown = account_view(&app, account.id, window.0, window.1).await;
    assert_eq!(shown["followersHidden"], false);
    assert!(shown["followers"].is_i64(), "{shown}");
}

async fn a_tiktok_profile_without_the_follower_count_keeps_the_stored_one(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let account = linked(&app, &db, Platform::Tiktok, "tiktok_leo").await;
    pull_metrics(&app, account.id).await;
    let today = app.jobs.now().date_naive();
    let before = account_view(&app, account.id, today, today).await;
    assert!(before["followers"].is_i64(), "{before}");

    inject(
        &app,
        "tiktok",
        "user/info",
        1,
        200,
        json!({"data": {"user": {
        "open_id": account.platform_user_id, "display_name": "Leo Dances"}},
        "error": {"code": "ok", "message": "", "log_id": "sandbox"}}),
    )
    .await;
    advance(&app, 60).await;
    pull_metrics(&app, account.id).await;
    let after = account_view(&app, account.id, today, today).await;
    assert_eq!(after["followers"], before["followers"], "{after}");
    assert_eq!(
        day_of(&after, today)["followers"],
        day_of(&before, today)["followers"]
    );
    let stored = social_account::Entity::find_by_id(account.id)
        .one(&db)
        .await
        .expect("query")
        .expect("account");
    assert_eq!(stored.handle, account.handle, "the handle stays");
}

on_both_backends!(
    history_survives_a_second_days_pull_on_every_platform,
    a_youtube_reply_missing_fields_leaves_the_stored_values_and_a_hidden_count_shows_hidden,
    a_tiktok_profile_without_the_follower_count_keeps_the_stored_one,
);

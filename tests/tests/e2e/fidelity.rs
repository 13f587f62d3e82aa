//! Data fidelity (issue 25): no pull erases what is known. Sandbox accounts linked over OAuth,
//! pull jobs run through the job runtime against the sandbox providers, sandbox time moved with
//! the control API, reply variants injected with sandbox faults, and what a user sees read over
//! GraphQL.

use chrono::{Duration, NaiveDate};
use domain::entities::{link, link_event, media, social_account, sync_state};
use domain::sync::SyncResource;
use domain::Platform;
use jobs::campaigns::PullCampaignContent;
use jobs::refresh::RefreshLink;
use jobs::sync::PullMetrics;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app_with, Backend, TestApp};
use uuid::Uuid;

use crate::connect::{
    account_by_platform, advance, connect, global_id, new_profile, sandbox_calls,
};
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
    every_reply_variant_gets_the_same_treatment_on_every_pull_path,
);

/// A pull path of the issue's table.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Path {
    /// The scheduled metrics pull (`pull_metrics`).
    Sync,
    /// The campaign content pull (`pull_campaign_content`).
    Campaign,
}

/// What a reply variant must come to, on every path.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The token is renewed (one refresh call) and the pull succeeds.
    Renewed,
    /// The link goes INVALID with this reason and exactly one event.
    Invalid(&'static str),
    /// Nothing is pulled before this long; the link stays LINKED.
    Waits(Duration),
    /// Nothing is pulled before YouTube's next quota day (midnight Pacific).
    WaitsForQuotaDay,
    /// Retried, and the pull succeeds.
    Recovers,
}

struct Variant {
    name: &'static str,
    status: u16,
    body: Value,
    count: u32,
    retry_after: Option<u64>,
    expect: Expect,
    paths: &'static [Path],
}

const BOTH: &[Path] = &[Path::Sync, Path::Campaign];

fn variants(platform: Platform) -> Vec<Variant> {
    let google_error = |code: u16, status: &str, domain: &str, reason: &str| {
        json!({"error": {"code": code, "message": reason, "status": status,
            "errors": [{"message": reason, "domain": domain, "reason": reason}]}})
    };
    let tiktok_error = |code: &str| json!({"data": {}, "error": {"code": code, "message": code, "log_id": "variant"}});
    let v = |name, status, body, count, expect, paths| Variant {
        name,
        status,
        body,
        count,
        retry_after: None,
        expect,
        paths,
    };
    let mut all = vec![
        v(
            "HTML 502 page",
            502,
            json!("<html><body>502 Bad Gateway</body></html>"),
            1,
            Expect::Recovers,
            BOTH,
        ),
        Variant {
            retry_after: Some(900),
            ..v(
                "429 with a long Retry-After",
                429,
                Value::Null,
                1,
                Expect::Waits(Duration::minutes(14)),
                BOTH,
            )
        },
    ];
    match platform {
        Platform::Tiktok => all.extend([
            v(
                "access_token_invalid",
                401,
                tiktok_error("access_token_invalid"),
                1,
                Expect::Renewed,
                BOTH,
            ),
            v(
                "error envelope in a 200",
                200,
                tiktok_error("internal_error"),
                1,
                Expect::Recovers,
                BOTH,
            ),
            v(
                "rate_limit_exceeded without Retry-After in a 200",
                200,
                tiktok_error("rate_limit_exceeded"),
                1,
                Expect::Waits(Duration::seconds(59)),
                BOTH,
            ),
            v(
                "scope_not_authorized",
                401,
                tiktok_error("scope_not_authorized"),
                1,
                Expect::Invalid("SCOPES_MISSING"),
                BOTH,
            ),
        ]),
        _ => all.extend([
            v(
                "401 authError",
                401,
                google_error(401, "UNAUTHENTICATED", "global", "authError"),
                1,
                Expect::Renewed,
                BOTH,
            ),
            v(
                "quotaExceeded youtube.quota",
                403,
                google_error(403, "", "youtube.quota", "quotaExceeded"),
                1,
                Expect::WaitsForQuotaDay,
                BOTH,
            ),
            v(
                "quotaExceeded usageLimits",
                403,
                google_error(403, "", "usageLimits", "quotaExceeded"),
                1,
                Expect::WaitsForQuotaDay,
                BOTH,
            ),
            v(
                "one channels reply with items: []",
                200,
                json!({"kind": "youtube#channelListResponse", "items": []}),
                1,
                Expect::Recovers,
                &[Path::Sync],
            ),
            v(
                "channels with items: [] confirmed",
                200,
                json!({"kind": "youtube#channelListResponse", "items": []}),
                2,
                Expect::Invalid("ACCOUNT_NOT_ELIGIBLE"),
                &[Path::Sync],
            ),
            v(
                "403 insufficientPermissions",
                403,
                google_error(
                    403,
                    "PERMISSION_DENIED",
                    "global",
                    "insufficientPermissions",
                ),
                1,
                Expect::Invalid("SCOPES_MISSING"),
                BOTH,
            ),
        ]),
    }
    all
}

/// The sandbox path a variant is injected on, per platform and pull path.
fn fault_path(platform: Platform, path: Path, variant: &str) -> &'static str {
    match (platform, path) {
        (Platform::Youtube, _) if variant.contains("channels") => "/channels",
        (Platform::Youtube, Path::Sync) => "/reports",
        (Platform::Youtube, Path::Campaign) => "/videos",
        (_, Path::Sync) => "/video/list/",
        (_, Path::Campaign) => "/video/query/",
    }
}

/// The latest known views of every media item of `account`.
async fn known_views(
    db: &DatabaseConnection,
    account: Uuid,
) -> std::collections::HashMap<Uuid, i64> {
    let ids: Vec<Uuid> = media::Entity::find()
        .filter(media::Column::AccountId.eq(account))
        .all(db)
        .await
        .expect("media")
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut out = std::collections::HashMap::new();
    for m in domain::entities::media_metric::Entity::find()
        .filter(domain::entities::media_metric::Column::MediaId.is_in(ids))
        .order_by_asc(domain::entities::media_metric::Column::CapturedAt)
        .all(db)
        .await
        .expect("metrics")
    {
        if let Some(v) = m.views {
            out.insert(m.media_id, v);
        }
    }
    out
}

async fn status_changes(db: &DatabaseConnection, account: Uuid) -> Vec<String> {
    link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account))
        .filter(link_event::Column::Kind.eq("STATUS_CHANGED"))
        .all(db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| format!("{:?}->{:?} {:?}", e.from_status, e.to_status, e.reason))
        .collect()
}

async fn link_of(db: &DatabaseConnection, account: Uuid) -> link::Model {
    link::Entity::find()
        .filter(link::Column::AccountId.eq(account))
        .one(db)
        .await
        .expect("query")
        .expect("link")
}

async fn every_reply_variant_gets_the_same_treatment_on_every_pull_path(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    for (platform, user) in [
        (Platform::Tiktok, "tiktok_leo"),
        (Platform::Youtube, "yt_big"),
    ] {
        let (_, profile) = new_profile(&app, &db, user).await;
        let (status, body) = connect(&app, &profile, platform.as_str(), user).await;
        assert_eq!(status, 200, "{body}");
        let account = account_by_platform(&db, platform)
            .await
            .pop()
            .expect("linked")
            .0;
        // A campaign, and a video of the creator's with its hashtag: the pull makes it content.
        let now = app.jobs.now();
        let data = app
            .graphql_ok(
                "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
                    campaign { id } userErrors { code message } } }",
                json!({"input": {"name": format!("Fidelity {user}"), "brand": "Acme",
                    "startsAt": (now - Duration::days(30)).to_rfc3339(),
                    "endsAt": (now + Duration::days(30)).to_rfc3339(),
                    "hashtags": ["#FidelityCheck"], "mentions": [], "profileIds": [profile]}}),
            )
            .await;
        let campaign = data["createCampaign"]["campaign"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{data}"))
            .to_owned();
        app.graphql_ok(
            "mutation($id: ID!) { setCampaignStatus(input: {campaignId: $id, status: ACTIVE}) {
                campaign { status } } }",
            json!({"id": campaign}),
        )
        .await;
        let published = app
            .client
            .post(app.url(&format!("/sandbox/control/users/{user}/media")))
            .json(&if platform == Platform::Youtube {
                json!({"kind": "video", "title": "Check", "caption": "Look #FidelityCheck"})
            } else {
                json!({"kind": "video", "caption": "Look #FidelityCheck"})
            })
            .send()
            .await
            .expect("publish");
        assert_eq!(
            published.status(),
            201,
            "{}",
            published.text().await.unwrap_or_default()
        );
        pull_metrics(&app, account.id).await;
        let content = domain::entities::campaign_content::Entity::find()
            .filter(domain::entities::campaign_content::Column::AccountId.eq(account.id))
            .one(&db)
            .await
            .expect("query")
            .expect("the published video is campaign content");

        for variant in variants(platform) {
            for &path in variant.paths {
                let what = format!("{platform:?} {path:?} {}", variant.name);
                advance(&app, 600).await;
                // Every scenario starts from a token that is not due: the renewal is forced.
                let l = link_of(&db, account.id).await;
                jobs::execute(&RefreshLink { link_id: l.id }, &app.jobs).await;
                let l = link_of(&db, account.id).await;
                assert_eq!(l.status, domain::LinkStatus::Linked, "{what}");
                let views = known_views(&db, account.id).await;
                let events = status_changes(&db, account.id).await;
                let refreshes = sandbox_calls(
                    &app,
                    &format!(
                        "provider={}&endpoint=token:refresh_token",
                        platform.provider().as_str().to_lowercase()
                    ),
                )
                .await
                .len();
                let mut fault = json!({"provider": platform.provider().as_str().to_lowercase(),
                    "count": variant.count, "status": variant.status,
                    "path_contains": fault_path(platform, path, variant.name)});
                if !variant.body.is_null() {
                    fault["body"] = variant.body.clone();
                }
                if let Some(after) = variant.retry_after {
                    fault["retry_after_seconds"] = json!(after);
                }
                let response = app
                    .client
                    .post(app.url("/sandbox/control/faults"))
                    .json(&fault)
                    .send()
                    .await
                    .expect("fault");
                assert_eq!(response.status(), 200, "{what}");
                let at = app.jobs.now();
                let outcome = match path {
                    Path::Sync => {
                        jobs::execute(
                            &PullMetrics {
                                account_id: account.id,
                            },
                            &app.jobs,
                        )
                        .await
                    }
                    Path::Campaign => {
                        jobs::execute(
                            &PullCampaignContent {
                                account_id: account.id,
                                content_ids: vec![content.id],
                            },
                            &app.jobs,
                        )
                        .await
                    }
                };
                assert_eq!(outcome, jobs::Outcome::Done, "{what}: the job ends well");
                let state = sync_state::Entity::find_by_id((
                    account.id,
                    SyncResource::Metrics.as_str().to_owned(),
                ))
                .one(&db)
                .await
                .expect("query")
                .expect("state");
                let item = domain::entities::campaign_content::Entity::find_by_id(content.id)
                    .one(&db)
                    .await
                    .expect("query")
                    .expect("content");
                let pulled = match path {
                    Path::Sync => state.last_success_at.is_some_and(|t| t >= at),
                    Path::Campaign => item.last_pulled_at.is_some_and(|t| t >= at),
                };
                let l = link_of(&db, account.id).await;
                let new_events: Vec<String> = status_changes(&db, account.id)
                    .await
                    .into_iter()
                    .skip(events.len())
                    .collect();
                let refreshed = sandbox_calls(
                    &app,
                    &format!(
                        "provider={}&endpoint=token:refresh_token",
                        platform.provider().as_str().to_lowercase()
                    ),
                )
                .await
                .len()
                    - refreshes;
                // Nothing good is erased, whatever the reply.
                let after = known_views(&db, account.id).await;
                for id in views.keys() {
                    assert!(after.contains_key(id), "{what}: views of {id} kept");
                }
                match variant.expect {
                    Expect::Renewed => {
                        assert_eq!(refreshed, 1, "{what}: one forced refresh");
                        assert!(pulled, "{what}: pulled after the refresh");
                        assert_eq!(l.status, domain::LinkStatus::Linked, "{what}");
                        assert!(new_events.is_empty(), "{what}: {new_events:?}");
                    }
                    Expect::Recovers => {
                        assert!(pulled, "{what}: pulled after a retry");
                        assert_eq!(l.status, domain::LinkStatus::Linked, "{what}");
                        assert!(new_events.is_empty(), "{what}: {new_events:?}");
                    }
                    Expect::Waits(_) | Expect::WaitsForQuotaDay => {
                        let at_least = match variant.expect {
                            Expect::Waits(d) => d,
                            _ => domain::platforms::next_pacific_midnight(at) - at,
                        };
                        assert!(!pulled, "{what}");
                        assert_eq!(l.status, domain::LinkStatus::Linked, "{what}");
                        assert!(new_events.is_empty(), "{what}: {new_events:?}");
                        let next = match path {
                            Path::Sync => state.next_run_at,
                            Path::Campaign => item.next_pull_at,
                        };
                        assert!(
                            next.is_some_and(|n| n >= at + at_least),
                            "{what}: waits {at_least} from {at}, next {next:?}"
                        );
                    }
                    Expect::Invalid(reason) => {
                        assert_eq!(l.status, domain::LinkStatus::Invalid, "{what}");
                        assert_eq!(l.invalid_reason.map(|r| r.as_str()), Some(reason), "{what}");
                        assert_eq!(
                            new_events,
                            [format!("Some(Linked)->Some(Invalid) Some({reason:?})")],
                            "{what}: one event"
                        );
                        // The creator links again for the next scenario.
                        let (status, body) = connect(&app, &profile, platform.as_str(), user).await;
                        assert_eq!(status, 200, "{what}: {body}");
                    }
                }
            }
        }
    }
}

//! Token refresh against the sandbox providers and their clock, counted in the sandbox's call
//! log: every platform refreshes before expiry through the scheduled scan and the new tokens
//! work; four workers over 200 due TikTok links refresh each exactly once per cycle and never
//! present a rotated-away refresh token (the sandbox kills a reused one with `invalid_grant`);
//! provider faults back a link off on its own or make it INVALID with the platform's reason.
//!
//! The multi-process and crash cases (`creatorlink worker` processes on Redis, one killed with
//! SIGKILL) are in `refresh_processes`.

use chrono::{DateTime, Duration, Utc};
use domain::entities::{link, link_event};
use domain::secret::Secret;
use domain::vault::{Aad, TokenKind};
use domain::{InvalidReason, LinkStatus, Platform};
use jobs::refresh::{RefreshLink, RefreshScan};
use jobs::sync::PullMedia;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app_with, Backend, TestApp};
use uuid::Uuid;

use crate::api_support::create_profile;
use crate::connect::{
    account_by_platform, advance, connect, sandbox_calls, sandbox_now, select_page,
};
use crate::jobs::{linked_account, quiet_jobs};

/// `n` links of sandbox user `user` on `platform`, each holding its own grant from
/// `POST /sandbox/control/users/{user}/grants`, sealed as the connect flow seals them, with the
/// access token due for refresh (five minutes left).
pub async fn seed(app: &TestApp, user: &str, platform: Platform, n: usize) -> Vec<Uuid> {
    let response = app
        .client
        .post(app.url(&format!("/sandbox/control/users/{user}/grants")))
        .json(&json!({ "count": n }))
        .send()
        .await
        .expect("grants");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let db = app.db.connect().await;
    let keyring = app.jobs.keyring().expect("a keyring");
    let now = sandbox_now(app).await;
    let scopes: Vec<&str> = body["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut ids = Vec::new();
    for grant in body["grants"].as_array().expect("grants") {
        let handle = format!("{user}.{}", Uuid::new_v4().simple());
        let (_, l) = linked_account(
            &db,
            app.org.uuid(),
            platform,
            &handle,
            now - Duration::days(3),
        )
        .await;
        let seal = |token: &str, kind| keyring.seal(&Secret::new(token), &Aad::new(l.id, kind));
        let mut m = l.clone().into_active_model();
        m.access_token = Set(Some(seal(
            grant["access_token"].as_str().expect("access token"),
            TokenKind::Access,
        )));
        m.refresh_token = Set(grant["refresh_token"]
            .as_str()
            .map(|t| seal(t, TokenKind::Refresh)));
        m.access_token_expires_at = Set(Some(now + Duration::minutes(5)));
        m.requested_scopes = Set(scopes.join(" "));
        m.granted_scopes = Set(scopes.join(" "));
        m.provider_user_id = Set(body["user_id"].as_str().map(str::to_owned));
        m.update(&db).await.expect("tokens");
        ids.push(l.id);
    }
    ids
}

/// Calls to `endpoint` of `provider` in the sandbox's log: (answered 200, refused with 4xx).
pub async fn token_calls(app: &TestApp, provider: &str, endpoint: &str) -> (usize, usize) {
    let calls = sandbox_calls(app, &format!("provider={provider}&endpoint={endpoint}")).await;
    let ok = calls.iter().filter(|c| c["status"] == 200).count();
    let refused = calls
        .iter()
        .filter(|c| {
            c["status"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s) && s != 429)
        })
        .count();
    (ok, refused)
}

async fn link_of(app: &TestApp, id: Uuid) -> link::Model {
    link::Entity::find_by_id(id)
        .one(&app.db.connect().await)
        .await
        .expect("query")
        .expect("link")
}

async fn every_platform_refreshes_before_expiry_through_the_scan_and_the_new_tokens_work(
    backend: Backend,
) {
    // Access tokens live five minutes: inside every provider's margin at once.
    let Some(app) = spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.sandbox.access_token_ttl_seconds = Some(300);
    })
    .await
    else {
        return;
    };
    let db = app.db.connect().await;
    for (name, platform, user) in [
        ("Ana", "INSTAGRAM", "meta_ana"),
        ("Leo", "TIKTOK", "tiktok_leo"),
        ("Big", "YOUTUBE", "yt_big"),
    ] {
        let profile = create_profile(&app, name, "INDIVIDUAL").await;
        let (status, page) = connect(&app, &profile, platform, user).await;
        assert!(status < 400, "{page}");
        if platform == "INSTAGRAM" {
            let (status, done) = select_page(&app, &page, "101112131415161").await;
            assert_eq!(status, 200, "{done}");
        }
    }
    let mut accounts = Vec::new();
    for platform in [
        Platform::Instagram,
        Platform::Facebook,
        Platform::Tiktok,
        Platform::Youtube,
    ] {
        accounts.extend(account_by_platform(&db, platform).await);
    }
    let before: Vec<link::Model> = accounts
        .iter()
        .map(|(_, l)| l.clone().expect("a link"))
        .collect();
    let meta_links = accounts
        .iter()
        .filter(|(a, _)| a.platform.provider() == domain::Provider::Meta)
        .count();
    assert!(meta_links >= 1);
    let counts = || async {
        [
            token_calls(&app, "tiktok", "token:refresh_token").await,
            token_calls(&app, "google", "token:refresh_token").await,
            token_calls(&app, "meta", "token:fb_exchange_token").await,
        ]
    };
    let at_start = counts().await;

    for cycle in 1..=2_usize {
        if cycle == 1 {
            // A minute passes after connecting (expiries are whole seconds:
            // a refresh in the connect's own second would give the same one).
            advance(&app, 60).await;
        } else {
            // Four of the new tokens' five minutes pass: due again.
            advance(&app, 240).await;
        }
        assert_eq!(
            jobs::execute(&RefreshScan::default(), &app.jobs).await,
            jobs::Outcome::Done
        );
        // The in-process workers run the `refresh_link` jobs the scan enqueued.
        let mut last = Vec::new();
        for _ in 0..300 {
            last = link::Entity::find().all(&db).await.expect("links");
            if last.iter().all(|l| {
                before
                    .iter()
                    .find(|b| b.id == l.id)
                    .is_some_and(|b| l.version >= b.version + cycle as i64)
            }) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        for l in &last {
            let b = before.iter().find(|b| b.id == l.id).expect("known link");
            assert_eq!(
                l.version,
                b.version + cycle as i64,
                "one token write per cycle: {l:?}"
            );
            assert_eq!(l.status, LinkStatus::Linked);
            assert!(
                l.access_token_expires_at > b.access_token_expires_at,
                "a later expiry: {l:?} after {b:?}"
            );
            assert_ne!(l.access_token, b.access_token, "a new access token");
            assert!(l.lease_owner.is_none());
        }
        let now = counts().await;
        let refreshed = |i: usize| now[i].0 - at_start[i].0;
        assert_eq!(refreshed(0), cycle, "TikTok: one refresh per cycle");
        assert_eq!(refreshed(1), cycle, "Google: one refresh per cycle");
        assert_eq!(
            refreshed(2),
            meta_links * cycle,
            "Meta: each link re-exchanges its token once per cycle"
        );
        assert!(
            now.iter().all(|(_, refused)| *refused == 0),
            "no refresh was refused (TikTok's rotated token was stored and used): {now:?}"
        );
    }

    // The refreshed tokens work: the media pulls succeed with them.
    for (account, _) in accounts
        .iter()
        .filter(|(a, _)| a.platform != Platform::Facebook)
    {
        assert_eq!(
            jobs::execute(
                &PullMedia {
                    account_id: account.id
                },
                &app.jobs
            )
            .await,
            jobs::Outcome::Done
        );
    }
    for (provider, endpoint) in [
        ("meta", "media"),
        ("tiktok", "video_list"),
        ("google", "playlistItems"),
    ] {
        let calls = sandbox_calls(&app, &format!("provider={provider}&endpoint={endpoint}")).await;
        assert!(
            calls.last().is_some_and(|c| c["status"] == 200),
            "{provider} {endpoint}: {calls:?}"
        );
    }
}

async fn four_workers_over_two_hundred_due_links_refresh_each_once_and_never_reuse_a_refresh_token(
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
    let n = 200;
    let links = seed(&app, "tiktok_leo", Platform::Tiktok, n).await;
    for cycle in 1..=2_usize {
        if cycle == 2 {
            // TikTok's access tokens live a day: ten minutes before the new ones end, due again.
            advance(&app, 86_400 - 600).await;
        }
        // Four workers each run a refresh job for every link, all at once.
        let mut tasks = Vec::new();
        for w in 0..4 {
            let ctx = app.jobs.with_worker_id(format!("worker-{w}"));
            let links = links.clone();
            tasks.push(tokio::spawn(async move {
                for id in links {
                    assert_eq!(
                        jobs::execute(&RefreshLink { link_id: id }, &ctx).await,
                        jobs::Outcome::Done
                    );
                }
            }));
        }
        for t in tasks {
            t.await.expect("worker task");
        }
        let (ok, refused) = token_calls(&app, "tiktok", "token:refresh_token").await;
        assert_eq!(
            refused, 0,
            "no refresh token was presented twice (the sandbox kills a reused one)"
        );
        assert_eq!(ok, n * cycle, "exactly one refresh per link per cycle");
        for id in &links {
            let l = link_of(&app, *id).await;
            assert_eq!(l.status, LinkStatus::Linked);
            assert_eq!(l.version, 1 + cycle as i64, "one token write per cycle");
            assert!(l.lease_owner.is_none(), "no lease left behind");
        }
    }
}

async fn fault(app: &TestApp, path: &str, body: Value) {
    let response = app
        .client
        .post(app.url(&format!("/sandbox/control/{path}")))
        .json(&body)
        .send()
        .await
        .expect("control");
    assert_eq!(response.status(), 200, "{body}");
}

async fn refresh_now(app: &TestApp, id: Uuid) -> link::Model {
    assert_eq!(
        jobs::execute(&RefreshLink { link_id: id }, &app.jobs).await,
        jobs::Outcome::Done,
        "a refresh job finishes whatever the platform answers"
    );
    link_of(app, id).await
}

async fn status_events(app: &TestApp, account: Uuid) -> usize {
    link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account))
        .filter(link_event::Column::Kind.eq("STATUS_CHANGED"))
        .all(&app.db.connect().await)
        .await
        .expect("events")
        .len()
}

/// Backed off on its own, still LINKED, tokens untouched.
fn assert_backed_off(l: &link::Model, now: DateTime<Utc>, failures: i32, what: &str) {
    assert_eq!(l.status, LinkStatus::Linked, "{what}: {l:?}");
    assert_eq!(l.version, 1, "{what}: no token write");
    assert_eq!(l.refresh_failures, failures, "{what}");
    assert!(
        l.next_refresh_at.is_some_and(|at| at > now),
        "{what}: {l:?}"
    );
    assert!(l.last_error.is_some(), "{what}");
    assert!(l.lease_owner.is_none(), "{what}");
}

async fn provider_faults_back_a_link_off_on_its_own_or_make_it_invalid_with_the_platforms_reason(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |c| {
        quiet_jobs(c);
        c.jobs.in_process = false;
        c.platforms.timeout_seconds = 1;
    })
    .await
    else {
        return;
    };

    // A burst of 503s on TikTok's token endpoint: backed off twice (longer the second time),
    // then refreshed once the platform answers.
    let tt = seed(&app, "tiktok_leo", Platform::Tiktok, 1).await[0];
    fault(
        &app,
        "faults",
        json!({"provider": "tiktok", "count": 2, "status": 503, "path_contains": "/oauth/token/"}),
    )
    .await;
    let now = sandbox_now(&app).await;
    let l = refresh_now(&app, tt).await;
    assert_backed_off(&l, now, 1, "first 503");
    let first_wait = l.next_refresh_at.expect("backoff") - now;
    advance(&app, first_wait.num_seconds() + 1).await;
    let now = sandbox_now(&app).await;
    let l = refresh_now(&app, tt).await;
    assert_backed_off(&l, now, 2, "second 503");
    assert!(l.next_refresh_at.expect("backoff") - now >= Duration::seconds(30));
    advance(
        &app,
        (l.next_refresh_at.expect("backoff") - now).num_seconds() + 1,
    )
    .await;
    let l = refresh_now(&app, tt).await;
    assert_eq!(
        (l.status, l.version, l.refresh_failures),
        (LinkStatus::Linked, 2, 0)
    );
    assert_eq!(l.next_refresh_at, None);

    // 429 with Retry-After on every platform: the link waits at least that long.
    for (user, platform, provider) in [
        ("yt_big", Platform::Youtube, "google"),
        ("meta_ben", Platform::Instagram, "meta"),
        ("tiktok_mia", Platform::Tiktok, "tiktok"),
    ] {
        let id = seed(&app, user, platform, 1).await[0];
        fault(
            &app,
            "faults",
            json!({"provider": provider, "count": 1, "status": 429, "retry_after_seconds": 900}),
        )
        .await;
        let now = sandbox_now(&app).await;
        let l = refresh_now(&app, id).await;
        assert_backed_off(&l, now, 1, provider);
        assert!(
            l.next_refresh_at
                .is_some_and(|at| at >= now + Duration::seconds(900)),
            "{provider} honours Retry-After: {l:?}"
        );
    }

    // Google answering after the client's one-second timeout, then a body cut off mid-JSON:
    // transient, retried later.
    let slow = seed(&app, "yt_big", Platform::Youtube, 1).await[0];
    fault(
        &app,
        "slow",
        json!({"provider": "google", "delay_ms": 2_500, "count": 1}),
    )
    .await;
    let now = sandbox_now(&app).await;
    let l = refresh_now(&app, slow).await;
    assert_backed_off(&l, now, 1, "timeout");
    let cut = seed(&app, "yt_big", Platform::Youtube, 1).await[0];
    fault(
        &app,
        "faults",
        json!({"provider": "google", "count": 1, "status": 200, "malformed": true}),
    )
    .await;
    let now = sandbox_now(&app).await;
    let l = refresh_now(&app, cut).await;
    assert_backed_off(&l, now, 1, "malformed JSON");

    // Permanent: the user removed the app (Meta 190/458, TikTok invalid_grant) or changed their
    // password (Meta 190/460): INVALID with the reason, one event, also when run again.
    let revoked_meta = seed(&app, "meta_ana", Platform::Instagram, 1).await[0];
    let revoked_tiktok = seed(&app, "tiktok_mia", Platform::Tiktok, 1).await[0];
    let password = seed(&app, "meta_ben", Platform::Instagram, 1).await[0];
    for (user, switch) in [
        ("meta_ana", "revoke"),
        ("tiktok_mia", "revoke"),
        ("meta_ben", "password"),
    ] {
        fault(&app, &format!("users/{user}/{switch}"), json!({})).await;
    }
    for (id, reason) in [
        (revoked_meta, InvalidReason::PermissionsRevoked),
        (revoked_tiktok, InvalidReason::SessionInvalidated),
        (password, InvalidReason::PasswordChanged),
    ] {
        let account = link_of(&app, id).await.account_id;
        for _ in 0..2 {
            let l = refresh_now(&app, id).await;
            assert_eq!(
                (l.status, l.invalid_reason),
                (LinkStatus::Invalid, Some(reason))
            );
        }
        assert_eq!(status_events(&app, account).await, 1, "{reason:?}");
    }
    assert!(
        !tests::logs().contents().contains("panicked"),
        "no handler panicked"
    );
}

on_both_backends!(
    every_platform_refreshes_before_expiry_through_the_scan_and_the_new_tokens_work,
    four_workers_over_two_hundred_due_links_refresh_each_once_and_never_reuse_a_refresh_token,
    provider_faults_back_a_link_off_on_its_own_or_make_it_invalid_with_the_platforms_reason,
);

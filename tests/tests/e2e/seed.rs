//! `creatorlink seed` fills a database with demo data the API can be explored with.

use std::collections::HashSet;
use std::process::Command;

use chrono::Utc;
use domain::accounts::service;
use domain::entities::{audience, creator_profile_member, media, metric_snapshot};
use domain::link::status::{derive, DEFAULT_EXPIRING_WINDOW};
use domain::profiles::{ProfileFilter, StatusClock};
use domain::{LinkStatus, MediaKind, Platform};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tests::{on_both_backends, Backend, TestDatabase};

use crate::creatorlink_bin;

async fn seeding_fills_every_platform_status_and_kind_of_data(backend: Backend) {
    let Some(test_db) = TestDatabase::create(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = Command::new(creatorlink_bin())
        .args(["seed", "--profiles", "30"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &test_db.url)
        .env_remove("REDIS_URL")
        .env("CREATORLINK_LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("seeded 30 profiles"), "{stdout}");

    let db = test_db.connect().await;
    let org = domain::organizations::ensure_named(&db, "Demo organization")
        .await
        .expect("org");
    let clock = StatusClock {
        now: Utc::now(),
        window: DEFAULT_EXPIRING_WINDOW,
    };
    assert_eq!(
        domain::profiles::count(&db, org, &ProfileFilter::default(), clock)
            .await
            .expect("count"),
        30
    );
    assert!(
        creator_profile_member::Entity::find()
            .count(&db)
            .await
            .expect("members")
            > 0
    );

    let profiles: Vec<_> = domain::profiles::list(
        &db,
        org,
        &ProfileFilter::default(),
        Default::default(),
        &Default::default(),
        100,
        clock,
    )
    .await
    .expect("list")
    .items
    .into_iter()
    .map(|p| p.id)
    .collect();
    let accounts = service::for_profiles(&db, org, &profiles)
        .await
        .expect("accounts");
    let statuses: HashSet<LinkStatus> = accounts
        .iter()
        .map(|a| derive(&a.link_state(), clock.now, clock.window).status)
        .collect();
    assert_eq!(statuses.len(), 5, "every link status appears: {statuses:?}");
    let platforms: HashSet<Platform> = accounts.iter().map(|a| a.account.platform).collect();
    assert_eq!(platforms.len(), 4, "every platform appears");

    let linked = accounts
        .iter()
        .find(|a| {
            a.link
                .as_ref()
                .is_some_and(|l| l.authenticated_at.is_some())
        })
        .expect("an authenticated account");
    let days = metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::AccountId.eq(linked.account.id))
        .count(&db)
        .await
        .expect("metrics");
    assert_eq!(days, 90, "90 days of metrics");
    let stories = media::Entity::find()
        .filter(media::Column::Kind.eq(MediaKind::Story))
        .all(&db)
        .await
        .expect("stories");
    assert!(
        stories
            .iter()
            .any(|s| s.expires_at.is_some_and(|at| at < clock.now)),
        "expired stories"
    );
    assert!(
        stories
            .iter()
            .any(|s| s.expires_at.is_some_and(|at| at > clock.now)),
        "live stories"
    );
    assert!(
        audience::Entity::find()
            .count(&db)
            .await
            .expect("audiences")
            > 0
    );
}

on_both_backends!(seeding_fills_every_platform_status_and_kind_of_data);

//! A creator's privacy rights through GraphQL: the export holds everything stored about the
//! profile and no secret; erasure leaves nothing but one audit tombstone.

use chrono::Utc;
use domain::entities::{
    audience, connect_invite, creator_profile, link, link_event, media, media_metric,
    metric_snapshot, social_account,
};
use domain::Platform;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tests::{on_both_backends, spawn_app, Backend};

use crate::fixtures::{self, AccountSeed, LinkSeed};

const EXPORT: &str = "mutation($input: CreatorDataInput!) { exportCreatorData(input: $input) { data userErrors { code field } } }";
const ERASE: &str = "mutation($input: CreatorDataInput!) { eraseCreatorData(input: $input) { erasedProfileId accountsErased revokedUpstream revokeFailures userErrors { code field } } }";

async fn the_export_holds_everything_about_the_profile_and_no_secret(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana").await;
    let marker = format!("SECRET{}", uuid::Uuid::new_v4().simple());
    let account = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Instagram,
            handle: "ana.travels",
            platform_user_id: Some("1784100"),
            link: LinkSeed::Authenticated {
                at: Utc::now(),
                marker: marker.clone(),
                provider_user_id: Some("fb-1".into()),
            },
        },
    )
    .await;
    fixtures::pulled_data(&db, org, account).await;
    let (_, invite_token) =
        domain::invites::create(&db, org, profile, None, &domain::Actor::system("test"))
            .await
            .expect("invite");

    let data = app
        .graphql_ok(
            EXPORT,
            json!({"input": {"profileId": fixtures::profile_gid(profile)}}),
        )
        .await;
    let export = &data["exportCreatorData"]["data"];
    assert_eq!(export["profile"]["name"], "Ana");
    assert_eq!(export["profile"]["email"], "ana@example.com");
    let accounts = export["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["handle"], "ana.travels");
    assert_eq!(accounts[0]["link"]["status"], "LINKED");
    assert_eq!(
        accounts[0]["link"]["grantedScopes"],
        json!(["user.info.basic", "video.list"])
    );
    assert_eq!(accounts[0]["media"][0]["caption"], "sunset over the bay");
    assert_eq!(accounts[0]["media"][0]["metrics"][0]["views"], 900);
    assert_eq!(accounts[0]["dailyMetrics"][0]["views"], 5000);
    assert_eq!(accounts[0]["audience"]["country"]["ES"], 0.7);
    assert_eq!(
        export["connectInvites"].as_array().expect("invites").len(),
        1
    );

    let text = data.to_string();
    assert!(!text.contains(&marker), "a token leaked into the export");
    assert!(
        !text.contains(&invite_token),
        "an invite token leaked into the export"
    );
    assert!(
        !text.contains(&domain::invites::token_hash(&invite_token)),
        "an invite hash leaked"
    );
    assert!(!text.to_lowercase().contains("access_token") && !text.contains("accessToken\""));

    let missing = app
        .graphql_ok(EXPORT, json!({"input": {"profileId": "nope"}}))
        .await;
    assert_eq!(
        missing["exportCreatorData"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
}

async fn erasure_deletes_everything_and_keeps_one_tombstone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana").await;
    let kept = fixtures::profile(&db, org, "Bo").await;
    let linked = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Tiktok,
            handle: "anatravels",
            platform_user_id: Some("open-1"),
            link: LinkSeed::Authenticated {
                at: Utc::now(),
                marker: "erase".into(),
                provider_user_id: None,
            },
        },
    )
    .await;
    fixtures::pulled_data(&db, org, linked).await;
    let not_linked = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Youtube,
            handle: "AnaTV",
            platform_user_id: None,
            link: LinkSeed::None,
        },
    )
    .await;
    let other = fixtures::account(
        &db,
        org,
        kept,
        AccountSeed {
            platform: Platform::Tiktok,
            handle: "bo",
            platform_user_id: Some("open-2"),
            link: LinkSeed::Authenticated {
                at: Utc::now(),
                marker: "kept".into(),
                provider_user_id: None,
            },
        },
    )
    .await;
    fixtures::pulled_data(&db, org, other).await;
    domain::invites::create(&db, org, profile, None, &domain::Actor::system("test"))
        .await
        .expect("invite");

    let data = app
        .graphql_ok(
            ERASE,
            json!({"input": {"profileId": fixtures::profile_gid(profile)}}),
        )
        .await;
    let payload = &data["eraseCreatorData"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["erasedProfileId"], fixtures::profile_gid(profile));
    assert_eq!(payload["accountsErased"], 2);
    // The seeded tokens were never sealed by this vault, so the platform revoke cannot be made;
    // the tokens are deleted all the same.
    assert_eq!(payload["revokedUpstream"], 0);
    assert_eq!(payload["revokeFailures"], 1);

    assert!(creator_profile::Entity::find_by_id(profile)
        .one(&db)
        .await
        .expect("q")
        .is_none());
    for id in [linked, not_linked] {
        assert!(social_account::Entity::find_by_id(id)
            .one(&db)
            .await
            .expect("q")
            .is_none());
        assert_eq!(
            link::Entity::find()
                .filter(link::Column::AccountId.eq(id))
                .count(&db)
                .await
                .expect("q"),
            0
        );
        assert_eq!(
            media::Entity::find()
                .filter(media::Column::AccountId.eq(id))
                .count(&db)
                .await
                .expect("q"),
            0
        );
        assert_eq!(
            metric_snapshot::Entity::find()
                .filter(metric_snapshot::Column::AccountId.eq(id))
                .count(&db)
                .await
                .expect("q"),
            0
        );
        assert_eq!(
            audience::Entity::find()
                .filter(audience::Column::AccountId.eq(id))
                .count(&db)
                .await
                .expect("q"),
            0
        );
    }
    assert_eq!(
        connect_invite::Entity::find()
            .filter(connect_invite::Column::ProfileId.eq(profile))
            .count(&db)
            .await
            .expect("q"),
        0
    );
    // Only the other profile's media metric is left.
    assert_eq!(media_metric::Entity::find().count(&db).await.expect("q"), 1);
    assert!(social_account::Entity::find_by_id(other)
        .one(&db)
        .await
        .expect("q")
        .is_some());

    let tombstones = link_event::Entity::find()
        .filter(link_event::Column::Kind.eq(domain::privacy::DATA_ERASED))
        .all(&db)
        .await
        .expect("q");
    assert_eq!(tombstones.len(), 1);
    let detail = tombstones[0].detail.as_ref().expect("detail");
    assert_eq!(detail["profileId"], profile.to_string());
    assert_eq!(detail["accounts"], 2);
    assert!(!detail.to_string().contains("anatravels") && !detail.to_string().contains("Ana"));
    assert_eq!(
        link_event::Entity::find().count(&db).await.expect("q"),
        1,
        "only the tombstone is left"
    );

    let again = app
        .graphql_ok(
            ERASE,
            json!({"input": {"profileId": fixtures::profile_gid(profile)}}),
        )
        .await;
    assert_eq!(
        again["eraseCreatorData"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
}

on_both_backends!(
    the_export_holds_everything_about_the_profile_and_no_secret,
    erasure_deletes_everything_and_keeps_one_tombstone,
    erasure_revokes_a_connected_account_at_its_platform,
    an_erasure_while_the_platform_is_down_revokes_later_through_the_job,
);

async fn erasure_revokes_a_connected_account_at_its_platform(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Leo").await;
    let gid = fixtures::profile_gid(profile);
    let (status, body) = crate::connect::connect(&app, &gid, "TIKTOK", "tiktok_leo").await;
    assert!(status < 400, "{body}");
    let data = app
        .graphql_ok(ERASE, json!({"input": {"profileId": gid}}))
        .await;
    let payload = &data["eraseCreatorData"];
    assert_eq!(payload["accountsErased"], 1, "{payload}");
    assert_eq!(payload["revokedUpstream"], 1);
    assert_eq!(payload["revokeFailures"], 0);
    let revokes =
        crate::connect::sandbox_calls(&app, "provider=tiktok&endpoint=revoke&user=tiktok_leo")
            .await;
    assert_eq!(revokes.len(), 1, "the sandbox saw the revoke");
    assert_eq!(link::Entity::find().count(&db).await.expect("q"), 0);
}

/// The platform's revoke keeps failing during the erasure: everything is erased at once, and the
/// one token TikTok's revoke takes is kept sealed (not tied to the erased account) until the
/// `revoke_upstream` job reaches TikTok.
async fn an_erasure_while_the_platform_is_down_revokes_later_through_the_job(backend: Backend) {
    let Some(app) = tests::spawn_app_with(backend, |c| c.jobs.in_process = false).await else {
        return;
    };
    let db = app.db.connect().await;
    let profile = fixtures::profile(&db, app.org, "Leo").await;
    let gid = fixtures::profile_gid(profile);
    let (status, body) = crate::connect::connect(&app, &gid, "TIKTOK", "tiktok_leo").await;
    assert!(status < 400, "{body}");
    let fault = app
        .client
        .post(app.url("/sandbox/control/faults"))
        .json(&json!({"provider": "tiktok", "count": 3, "status": 502, "path_contains": "/revoke"}))
        .send()
        .await
        .expect("fault");
    assert_eq!(fault.status(), 200);
    let data = app
        .graphql_ok(ERASE, json!({"input": {"profileId": gid}}))
        .await;
    let payload = &data["eraseCreatorData"];
    assert_eq!(payload["accountsErased"], 1, "{payload}");
    assert_eq!(payload["revokeFailures"], 1);
    assert_eq!(link::Entity::find().count(&db).await.expect("q"), 0);
    let pending = domain::entities::pending_revocation::Entity::find()
        .all(&db)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].provider, "tiktok");

    crate::connect::advance(&app, 61).await;
    assert_eq!(
        jobs::execute(
            &jobs::revoke::RevokeUpstream { id: pending[0].id },
            &app.jobs
        )
        .await,
        jobs::Outcome::Done
    );
    let revokes = crate::connect::sandbox_calls(&app, "provider=tiktok&endpoint=revoke").await;
    let statuses: Vec<u64> = revokes
        .iter()
        .filter_map(|c| c["status"].as_u64())
        .collect();
    assert_eq!(statuses, [502, 502, 502, 200]);
    assert_eq!(
        domain::entities::pending_revocation::Entity::find()
            .count(&db)
            .await
            .expect("q"),
        0
    );
}

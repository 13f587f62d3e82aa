//! Platforms telling us a user took access back: Meta's deauthorize and data-deletion callbacks
//! and TikTok's `authorization.removed` webhook. A good signature marks the user's links INVALID /
//! PERMISSIONS_REVOKED with their tokens gone and one event each; a bad one is refused, changes
//! nothing and leaves an audit line.

use api::config::ConfigSecret;
use chrono::{Duration, Utc};
use domain::deauthorization::{sign_request, tiktok_signature};
use domain::entities::{link_event, media};
use domain::secret::Secret;
use domain::{InvalidReason, LinkStatus, Platform};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{logs, on_both_backends, spawn_app_with, Backend, TestApp};

use crate::fixtures::{self, AccountSeed, LinkSeed};

const META_SECRET: &str = "meta-app-secret-for-tests";
const TIKTOK_SECRET: &str = "tiktok-client-secret-for-tests";

/// An app with real Meta and TikTok apps configured: callbacks are verified with their secrets.
async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |c| {
        c.platforms.meta_client_id = Some("our-meta-app".into());
        c.platforms.meta_client_secret = Some(ConfigSecret::new(META_SECRET));
        c.platforms.tiktok_client_id = Some("our-client-key".into());
        c.platforms.tiktok_client_secret = Some(ConfigSecret::new(TIKTOK_SECRET));
    })
    .await
}

async fn post_signed_request(app: &TestApp, path: &str, signed_request: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(&[("signed_request", signed_request)])
        .send()
        .await
        .expect("callback")
}

async fn events_of(
    db: &sea_orm::DatabaseConnection,
    account: uuid::Uuid,
) -> Vec<link_event::Model> {
    link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account))
        .all(db)
        .await
        .expect("events")
}

async fn a_signed_meta_deauthorize_revokes_that_users_links_only(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana").await;
    let now = Utc::now();
    let user = format!("fbuser-{}", uuid::Uuid::new_v4().simple());
    let instagram = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Instagram,
            handle: "ana",
            platform_user_id: Some("1784100"),
            link: LinkSeed::Authenticated {
                at: now - Duration::days(1),
                marker: "ig".into(),
                provider_user_id: Some(user.clone()),
            },
        },
    )
    .await;
    let someone_else = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Facebook,
            handle: "otherpage",
            platform_user_id: Some("page-2"),
            link: LinkSeed::Authenticated {
                at: now - Duration::days(1),
                marker: "fb".into(),
                provider_user_id: Some("another-user".into()),
            },
        },
    )
    .await;

    // A forged request (signed with another secret) changes nothing and is logged.
    let forged = sign_request(
        &json!({"algorithm": "HMAC-SHA256", "user_id": user}),
        &Secret::new("not-the-secret"),
    );
    let response = post_signed_request(&app, "/callbacks/meta/deauthorize", &forged).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        fixtures::link_of(&db, instagram).await.status,
        LinkStatus::Linked
    );
    assert!(fixtures::link_of(&db, instagram)
        .await
        .access_token
        .is_some());
    assert!(events_of(&db, instagram).await.is_empty());
    assert!(logs()
        .contents()
        .contains("rejected a platform callback with a bad signature"));
    let garbage =
        post_signed_request(&app, "/callbacks/meta/deauthorize", "not-a-signed-request").await;
    assert_eq!(garbage.status(), 400);

    let signed = sign_request(
        &json!({"algorithm": "HMAC-SHA256", "issued_at": now.timestamp(), "user_id": user}),
        &Secret::new(META_SECRET),
    );
    let response = post_signed_request(&app, "/callbacks/meta/deauthorize", &signed).await;
    assert_eq!(response.status(), 200);
    let link = fixtures::link_of(&db, instagram).await;
    assert_eq!(link.status, LinkStatus::Invalid);
    assert_eq!(link.invalid_reason, Some(InvalidReason::PermissionsRevoked));
    assert!(
        link.access_token.is_none() && link.refresh_token.is_none(),
        "tokens erased"
    );
    let events = events_of(&db, instagram).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].from_status, Some(LinkStatus::Linked));
    assert_eq!(events[0].to_status, Some(LinkStatus::Invalid));
    assert_eq!(events[0].reason.as_deref(), Some("PERMISSIONS_REVOKED"));
    assert_eq!(events[0].actor, "platform:meta");
    assert_eq!(
        fixtures::link_of(&db, someone_else).await.status,
        LinkStatus::Linked
    );

    // Meta may call again: nothing more happens.
    let again = post_signed_request(&app, "/callbacks/meta/deauthorize", &signed).await;
    assert_eq!(again.status(), 200);
    assert_eq!(events_of(&db, instagram).await.len(), 1);
}

async fn a_meta_data_deletion_request_deletes_pulled_data_and_reports_its_status(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana").await;
    let user = format!("fbuser-{}", uuid::Uuid::new_v4().simple());
    let instagram = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Instagram,
            handle: "ana",
            platform_user_id: Some("1784100"),
            link: LinkSeed::Authenticated {
                at: Utc::now(),
                marker: "ig".into(),
                provider_user_id: Some(user.clone()),
            },
        },
    )
    .await;
    fixtures::pulled_data(&db, org, instagram).await;

    let bad = sign_request(
        &json!({"algorithm": "HMAC-SHA256", "user_id": user}),
        &Secret::new("wrong"),
    );
    assert_eq!(
        post_signed_request(&app, "/callbacks/meta/data-deletion", &bad)
            .await
            .status(),
        400
    );
    assert_eq!(
        media::Entity::find()
            .filter(media::Column::AccountId.eq(instagram))
            .count(&db)
            .await
            .expect("count"),
        1
    );

    let signed = sign_request(
        &json!({"algorithm": "HMAC-SHA256", "user_id": user}),
        &Secret::new(META_SECRET),
    );
    let response = post_signed_request(&app, "/callbacks/meta/data-deletion", &signed).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let code = body["confirmation_code"]
        .as_str()
        .expect("a confirmation code");
    let url = body["url"].as_str().expect("a status url");
    assert_eq!(url, format!("{}/privacy/deletions/{code}", app.address));

    assert_eq!(
        media::Entity::find()
            .filter(media::Column::AccountId.eq(instagram))
            .count(&db)
            .await
            .expect("count"),
        0
    );
    let link = fixtures::link_of(&db, instagram).await;
    assert_eq!(link.invalid_reason, Some(InvalidReason::PermissionsRevoked));
    assert!(link.access_token.is_none());

    let status: Value = app
        .client
        .get(url)
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "COMPLETED");
    assert_eq!(status["accountsAffected"], 1);
    assert_eq!(status["confirmationCode"], code);
    let unknown = app
        .client
        .get(app.url("/privacy/deletions/nope"))
        .send()
        .await
        .expect("status");
    assert_eq!(unknown.status(), 404);
}

async fn tiktok_authorization_removed_revokes_and_bad_or_stale_signatures_are_refused(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana").await;
    let open_id = format!("open-{}", uuid::Uuid::new_v4().simple());
    let tiktok = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Tiktok,
            handle: "anatravels",
            platform_user_id: Some(&open_id),
            link: LinkSeed::Authenticated {
                at: Utc::now(),
                marker: "tt".into(),
                provider_user_id: None,
            },
        },
    )
    .await;
    let body = json!({
        "client_key": "our-client-key",
        "event": "authorization.removed",
        "create_time": Utc::now().timestamp(),
        "user_openid": open_id,
        "content": "{\"reason\":1}",
    })
    .to_string();
    let send = |signature: String| {
        app.client
            .post(app.url("/callbacks/tiktok"))
            .header("TikTok-Signature", signature)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let secret = Secret::new(TIKTOK_SECRET);
    let stale = tiktok_signature(
        body.as_bytes(),
        &secret,
        (Utc::now() - Duration::minutes(10)).timestamp(),
    );
    assert_eq!(send(stale).await.expect("send").status(), 401);
    let wrong = tiktok_signature(
        body.as_bytes(),
        &Secret::new("wrong"),
        Utc::now().timestamp(),
    );
    assert_eq!(send(wrong).await.expect("send").status(), 401);
    assert_eq!(send(String::new()).await.expect("send").status(), 401);
    assert_eq!(
        fixtures::link_of(&db, tiktok).await.status,
        LinkStatus::Linked
    );
    assert!(events_of(&db, tiktok).await.is_empty());

    let good = tiktok_signature(body.as_bytes(), &secret, Utc::now().timestamp());
    assert_eq!(send(good).await.expect("send").status(), 200);
    let link = fixtures::link_of(&db, tiktok).await;
    assert_eq!(link.status, LinkStatus::Invalid);
    assert_eq!(link.invalid_reason, Some(InvalidReason::PermissionsRevoked));
    assert!(link.access_token.is_none() && link.refresh_token.is_none());
    let events = events_of(&db, tiktok).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "platform:tiktok");
    assert_eq!(
        events[0].detail.as_ref().expect("detail")["tiktokReason"],
        1
    );
}

async fn the_callbacks_settings_override_the_app_secrets(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.platforms.meta_client_id = Some("our-meta-app".into());
        c.platforms.meta_client_secret = Some(ConfigSecret::new(META_SECRET));
        c.platforms.tiktok_client_id = Some("our-client-key".into());
        c.platforms.tiktok_client_secret = Some(ConfigSecret::new(TIKTOK_SECRET));
        c.callbacks.meta_app_secret = Some("another-meta-secret".into());
        c.callbacks.tiktok_client_key = Some("another-client-key".into());
        c.callbacks.tiktok_client_secret = Some("another-tiktok-secret".into());
    })
    .await
    else {
        return;
    };
    let request =
        json!({"algorithm": "HMAC-SHA256", "issued_at": Utc::now().timestamp(), "user_id": "1"});
    let with_app_secret = sign_request(&request, &Secret::new(META_SECRET));
    assert_eq!(
        post_signed_request(&app, "/callbacks/meta/deauthorize", &with_app_secret)
            .await
            .status(),
        400,
        "the override replaces the app secret"
    );
    let with_override = sign_request(&request, &Secret::new("another-meta-secret"));
    assert_eq!(
        post_signed_request(&app, "/callbacks/meta/deauthorize", &with_override)
            .await
            .status(),
        200
    );
    let event = json!({
        "client_key": "another-client-key",
        "event": "authorization.removed",
        "create_time": Utc::now().timestamp(),
        "user_openid": "nobody",
        "content": "{\"reason\":1}",
    })
    .to_string();
    let post = |secret: &'static str| {
        let signature = tiktok_signature(
            event.as_bytes(),
            &Secret::new(secret),
            Utc::now().timestamp(),
        );
        app.client
            .post(app.url("/callbacks/tiktok"))
            .header("TikTok-Signature", signature)
            .header("content-type", "application/json")
            .body(event.clone())
            .send()
    };
    assert_eq!(post(TIKTOK_SECRET).await.expect("send").status(), 401);
    assert_eq!(
        post("another-tiktok-secret").await.expect("send").status(),
        200
    );
}

on_both_backends!(
    a_signed_meta_deauthorize_revokes_that_users_links_only,
    a_meta_data_deletion_request_deletes_pulled_data_and_reports_its_status,
    tiktok_authorization_removed_revokes_and_bad_or_stale_signatures_are_refused,
    the_callbacks_settings_override_the_app_secrets,
    a_meta_user_connected_through_the_sandbox_is_revoked_by_their_deauthorize,
);

async fn a_meta_user_connected_through_the_sandbox_is_revoked_by_their_deauthorize(
    backend: Backend,
) {
    // No Meta app configured: the sandbox app stands in, and its secret signs the callback.
    let Some(app) = tests::spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ben").await;
    let (status, body) = crate::connect::connect(
        &app,
        &fixtures::profile_gid(profile),
        "INSTAGRAM",
        "meta_ben",
    )
    .await;
    assert!(status < 400, "{body}");
    let linked = crate::connect::account_by_platform(&db, Platform::Instagram).await;
    let (instagram, link) = linked.into_iter().next().expect("an Instagram account");
    let user = link
        .expect("a link")
        .provider_user_id
        .expect("the connect flow records the Meta user who granted the link");
    let facebook = instagram.paired_account_id.expect("its Facebook Page");

    let signed = sign_request(
        &json!({"algorithm": "HMAC-SHA256", "issued_at": Utc::now().timestamp(), "user_id": user}),
        &Secret::new(api::sandbox::SandboxApp::credentials(domain::Provider::Meta).1),
    );
    let response = post_signed_request(&app, "/callbacks/meta/deauthorize", &signed).await;
    assert_eq!(response.status(), 200);
    for account in [instagram.id, facebook] {
        let link = fixtures::link_of(&db, account).await;
        assert_eq!(link.status, LinkStatus::Invalid);
        assert_eq!(link.invalid_reason, Some(InvalidReason::PermissionsRevoked));
        assert!(link.access_token.is_none());
    }
}

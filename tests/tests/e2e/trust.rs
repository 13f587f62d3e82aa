//! Issue 18, trust at the boundaries, through the running server: invites can be revoked (and a
//! revocation ends the page and every sign-in begun from it), the Connect page reads expiry from
//! the application clock, and an authorization code cannot be replayed into another flow where the
//! platform binds codes (PKCE: Meta and Google).

use std::process::Command;

use domain::access::Role;
use domain::Platform;
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app, Backend, Credential, TestApp};

use crate::connect::{account_by_platform, callback, consent, new_profile, start_connect};
use crate::creatorlink_bin;

const CREATE: &str = "mutation($input: CreateConnectInviteInput!) { createConnectInvite(input: $input) { url invite { id } userErrors { code } } }";
const REVOKE: &str = "mutation($input: RevokeConnectInviteInput!) { revokeConnectInvite(input: $input) { invite { id revokedAt } userErrors { code field message } } }";

/// A new invite to `profile` (global id): (its global id, its token).
async fn invite(app: &TestApp, profile: &str, expires_in: i64) -> (String, String) {
    let data = app
        .graphql_ok(
            CREATE,
            json!({"input": {"profileId": profile, "expiresIn": expires_in}}),
        )
        .await;
    let payload = &data["createConnectInvite"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let url = payload["url"].as_str().expect("url");
    let token = url.rsplit('/').next().expect("token").to_owned();
    (
        payload["invite"]["id"].as_str().expect("id").to_owned(),
        token,
    )
}

async fn page_status(app: &TestApp, token: &str) -> u16 {
    app.bare_client
        .get(app.url(&format!("/connect/{token}")))
        .send()
        .await
        .expect("page")
        .status()
        .as_u16()
}

/// Starts the TikTok sign-in from the invite and consents as `tiktok_leo`: the callback URL the
/// platform sends the browser back to (not followed yet).
async fn begin_from_invite(app: &TestApp, token: &str) -> String {
    let start = app
        .bare_client
        .get(app.url(&format!("/oauth/tiktok/start?invite={token}")))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    consent(app, &authorize, "tiktok_leo", None).await
}

/// `/oauth/start` from a dead invite does not reach the platform: it sends the browser back to
/// the invite's page, which no longer works.
async fn assert_start_refused(app: &TestApp, token: &str) {
    let start = app
        .bare_client
        .get(app.url(&format!("/oauth/tiktok/start?invite={token}")))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), 303);
    let to = start.headers()["location"].to_str().expect("location");
    assert_eq!(to, format!("/connect/{token}"));
    assert_eq!(page_status(app, token).await, 404);
}

async fn revoke_as(app: &TestApp, credential: &Credential, id: &str) -> Value {
    let (status, body) = app
        .graphql_as(credential, REVOKE, json!({"input": {"id": id}}))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn revoking_an_invite_ends_its_page_and_every_sign_in_begun_from_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (profile_id, profile) = new_profile(&app, &db, "Ivy").await;
    let (other_id, _) = new_profile(&app, &db, "Someone else").await;
    let (id, token) = invite(&app, &profile, 3600).await;
    assert_eq!(page_status(&app, &token).await, 200);
    // The creator is on TikTok's consent page when the invite is withdrawn.
    let back = begin_from_invite(&app, &token).await;

    // A creator of another profile may not revoke it; an API key never.
    let stranger = Credential::Bearer(app.token(Role::Creator, &[other_id]));
    let refused = revoke_as(&app, &stranger, &id).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let key = Credential::ApiKey(app.api_key(&domain::access::Scope::ALL).await);
    let refused = revoke_as(&app, &key, &id).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert_eq!(page_status(&app, &token).await, 200, "still working");

    let manager = Credential::Bearer(app.token(Role::Manager, &[]));
    let done = revoke_as(&app, &manager, &id).await;
    let payload = &done["data"]["revokeConnectInvite"];
    assert_eq!(payload["userErrors"], json!([]), "{done}");
    assert_eq!(payload["invite"]["id"], id.as_str());
    let revoked_at = payload["invite"]["revokedAt"].clone();
    assert!(revoked_at.is_string(), "{done}");

    // The page, a new sign-in and the one in flight all stop at once; nothing is linked.
    assert_eq!(page_status(&app, &token).await, 404);
    assert_start_refused(&app, &token).await;
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("data-code=\"INVITE_INVALID\""), "{body}");
    assert!(account_by_platform(&db, Platform::Tiktok).await.is_empty());

    // Revoking again changes nothing; an unknown or foreign id is NOT_FOUND.
    let again = revoke_as(&app, &manager, &id).await;
    assert_eq!(
        again["data"]["revokeConnectInvite"]["invite"]["revokedAt"],
        revoked_at
    );
    let other_org = app.create_org("Other").await;
    let foreign = Credential::Bearer(app.token_for(other_org, Role::Admin, &[]));
    let not_found = revoke_as(&app, &foreign, &id).await;
    assert_eq!(
        not_found["data"]["revokeConnectInvite"]["userErrors"][0]["code"], "NOT_FOUND",
        "{not_found}"
    );

    // The creator of the profile may revoke its invites.
    let (second, second_token) = invite(&app, &profile, 3600).await;
    let creator = Credential::Bearer(app.token(Role::Creator, &[profile_id]));
    let own = revoke_as(&app, &creator, &second).await;
    assert_eq!(
        own["data"]["revokeConnectInvite"]["userErrors"],
        json!([]),
        "{own}"
    );
    assert_eq!(page_status(&app, &second_token).await, 404);
}

async fn invite_revoke_on_the_command_line_ends_the_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Jo").await;
    let (id, token) = invite(&app, &profile, 3600).await;
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        Command::new(creatorlink_bin())
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", &app.db.url)
            .env("CREATORLINK_LOG_LEVEL", "warn")
            .output()
            .expect("the binary runs")
    };
    let org = app.org.to_string();
    let out = run(&["invite", "revoke", "--org", &org, &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("revoked at "));
    assert_eq!(page_status(&app, &token).await, 404);

    let unknown = uuid::Uuid::now_v7().to_string();
    let out = run(&["invite", "revoke", "--org", &org, &unknown]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&unknown));
}

/// The page and `/oauth/start` agree on when an invite ends: both read the application clock
/// (the sandbox's, moved here), not the wall clock.
async fn the_connect_page_reads_invite_expiry_from_the_application_clock(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Kai").await;
    let (_, token) = invite(&app, &profile, 300).await;
    assert_eq!(page_status(&app, &token).await, 200);
    let moved = app
        .client
        .post(app.url("/sandbox/control/clock"))
        .json(&json!({"advance_seconds": 600}))
        .send()
        .await
        .expect("clock");
    assert!(moved.status().is_success());
    assert_eq!(page_status(&app, &token).await, 404);
    assert_start_refused(&app, &token).await;
}

/// Authorization-code injection: a Meta code minted in one flow, presented with another flow's
/// `state`, is refused by the platform (PKCE) and links nothing to the attacker's profile.
async fn a_meta_code_from_one_flow_is_refused_with_another_flows_state(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, victim) = new_profile(&app, &db, "Victim").await;
    let (_, attacker) = new_profile(&app, &db, "Attacker").await;
    let victim_url = start_connect(&app, &victim, "INSTAGRAM", None)
        .await
        .expect("victim starts");
    assert!(
        victim_url.contains("code_challenge=") && victim_url.contains("code_challenge_method=S256"),
        "{victim_url}"
    );
    let victims_callback = consent(&app, &victim_url, "meta_ben", None).await;
    let attacker_url = start_connect(&app, &attacker, "INSTAGRAM", None)
        .await
        .expect("attacker starts");
    let attackers_callback = consent(&app, &attacker_url, "meta_cleo", None).await;

    let param = |url: &str, name: &str| {
        url::Url::parse(url)
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .expect("param")
    };
    let mut forged = url::Url::parse(&attackers_callback).expect("url");
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", &param(&victims_callback, "code"))
        .append_pair("state", &param(&attackers_callback, "state"));
    let (status, body) = callback(&app, forged.as_str()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("data-code=\"AUTHORIZATION_FAILED\""),
        "{body}"
    );
    assert!(account_by_platform(&db, Platform::Instagram)
        .await
        .is_empty());
    assert!(account_by_platform(&db, Platform::Facebook)
        .await
        .is_empty());
}

/// Two `Authorization` headers, a token for an organization that does not exist, and API keys that
/// are unknown, revoked or expired: each is a 401; the three keys get one and the same answer.
async fn ambiguous_foreign_and_dead_credentials_are_refused_alike(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let viewer = json!({"query": "{ viewer { kind } }"});
    let admin = format!("Bearer {}", app.admin_token());
    let two = app
        .bare_client
        .post(app.url("/graphql"))
        .header("authorization", &admin)
        .header("authorization", "Bearer cl_live_someone_elses_key")
        .json(&viewer)
        .send()
        .await
        .expect("request");
    assert_eq!(two.status(), 401);
    let one = app
        .bare_client
        .post(app.url("/graphql"))
        .header("authorization", &admin)
        .json(&viewer)
        .send()
        .await
        .expect("request");
    assert_eq!(one.status(), 200);

    let mut claims = app.admin_claims();
    claims.org = uuid::Uuid::now_v7();
    let (status, body) = app
        .graphql_as(
            &Credential::Bearer(tests::sign_claims(&claims)),
            "{ viewer { kind } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = app.db.connect().await;
    let revoked = app.api_key(&[domain::access::Scope::ProfilesRead]).await;
    domain::entities::api_key::Entity::update_many()
        .col_expr(
            domain::entities::api_key::Column::RevokedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(domain::entities::api_key::Column::OrganizationId.eq(app.org.uuid()))
        .exec(&db)
        .await
        .expect("revoke");
    let expired = app.api_key(&[domain::access::Scope::ProfilesRead]).await;
    domain::entities::api_key::Entity::update_many()
        .col_expr(
            domain::entities::api_key::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(domain::entities::api_key::Column::RevokedAt.is_null())
        .filter(domain::entities::api_key::Column::OrganizationId.eq(app.org.uuid()))
        .exec(&db)
        .await
        .expect("expire");
    let unknown = format!("{}x", &expired[..expired.len() - 1]);
    let mut messages = Vec::new();
    for key in [revoked, expired, unknown] {
        let (status, body) = app
            .graphql_as(&Credential::ApiKey(key), "{ viewer { kind } }", json!({}))
            .await;
        assert_eq!(status, 401, "{body}");
        messages.push(body["errors"][0]["message"].clone());
    }
    assert!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");

    // `token issue` mints no token for an organization that does not exist.
    let dir = tempfile::tempdir().expect("dir");
    let missing = uuid::Uuid::now_v7().to_string();
    let out = Command::new(creatorlink_bin())
        .args(["token", "issue", "--org", &missing, "--role", "admin"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .env("CREATORLINK_AUTH_JWT_HS256_SECRET", tests::TEST_JWT_SECRET)
        .env("CREATORLINK_LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&missing));
    assert!(out.stdout.is_empty());
}

on_both_backends!(
    ambiguous_foreign_and_dead_credentials_are_refused_alike,
    revoking_an_invite_ends_its_page_and_every_sign_in_begun_from_it,
    invite_revoke_on_the_command_line_ends_the_page,
    the_connect_page_reads_invite_expiry_from_the_application_clock,
    a_meta_code_from_one_flow_is_refused_with_another_flows_state,
);

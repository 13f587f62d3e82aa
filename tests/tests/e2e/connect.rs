//! The connect flow end to end against the built-in sandbox: start, consent, callback, Meta Page
//! selection, conflicts, reconnect, missing permissions, unlink and remove, and the OAuth attacks.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use domain::entities::{link, link_event, oauth_state, social_account};
use domain::{InvalidReason, LinkStatus, Platform};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app, Backend, TestApp};
use uuid::Uuid;

/// A profile of the app's default organization; returns (its row id, its global id).
pub async fn new_profile(_app: &TestApp, db: &DatabaseConnection, name: &str) -> (Uuid, String) {
    let org = default_org(db).await;
    insert_profile(db, org, name).await
}

pub async fn default_org(db: &DatabaseConnection) -> Uuid {
    domain::entities::organization::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("the default organization exists")
        .id
}

pub async fn insert_profile(db: &DatabaseConnection, org: Uuid, name: &str) -> (Uuid, String) {
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let id = Uuid::now_v7();
    domain::entities::creator_profile::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        kind: Set(domain::ProfileKind::Individual),
        name: Set(name.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert profile");
    (id, global_id("CreatorProfile", id))
}

pub fn global_id(ty: &str, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{id}"))
}

/// `startConnect` for `platform`; the authorize URL, or the user errors.
pub async fn start_connect(
    app: &TestApp,
    profile: &str,
    platform: &str,
    account: Option<&str>,
) -> Result<String, Value> {
    let data = app
        .graphql_ok(
            "mutation($i: StartConnectInput!) { startConnect(input: $i) { authorizeUrl userErrors { code field message } } }",
            json!({"i": {"profileId": profile, "platform": platform, "accountId": account}}),
        )
        .await;
    let payload = &data["startConnect"];
    match payload["authorizeUrl"].as_str() {
        Some(url) => Ok(url.to_owned()),
        None => Err(payload["userErrors"].clone()),
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_owned()
}

/// Consents in the sandbox as `user` (granting `scopes` if given) and returns the callback URL the
/// platform redirects to.
pub async fn consent(
    app: &TestApp,
    authorize_url: &str,
    user: &str,
    scopes: Option<&str>,
) -> String {
    let mut url = url::Url::parse(authorize_url).expect("authorize URL");
    url.query_pairs_mut().append_pair("sandbox_user", user);
    if let Some(scopes) = scopes {
        url.query_pairs_mut().append_pair("sandbox_scopes", scopes);
    }
    let response = app.client.get(url).send().await.expect("consent");
    assert_eq!(response.status(), 302, "the sandbox redirects back");
    location(&response)
}

/// Hits the callback; returns (status, location or body).
pub async fn callback(app: &TestApp, callback_url: &str) -> (u16, String) {
    let response = app.client.get(callback_url).send().await.expect("callback");
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        (status, location(&response))
    } else {
        (status, response.text().await.expect("body"))
    }
}

/// The whole flow for one platform and sandbox user; returns the callback's (status, body).
pub async fn connect(app: &TestApp, profile: &str, platform: &str, user: &str) -> (u16, String) {
    let url = start_connect(app, profile, platform, None)
        .await
        .expect("connect starts");
    let back = consent(app, &url, user, None).await;
    callback(app, &back).await
}

/// Picks `page_id` on the Meta selection page `html`.
pub async fn select_page(app: &TestApp, html: &str, page_id: &str) -> (u16, String) {
    let selection = html
        .split("name=\"selection\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the selection page carries a selection token")
        .to_owned();
    let response = app
        .client
        .post(app.url("/oauth/facebook/select"))
        .form(&[("selection", selection.as_str()), ("page_id", page_id)])
        .send()
        .await
        .expect("select");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

pub async fn account_by_platform(
    db: &DatabaseConnection,
    platform: Platform,
) -> Vec<(social_account::Model, Option<link::Model>)> {
    social_account::Entity::find()
        .filter(social_account::Column::Platform.eq(platform))
        .find_also_related(link::Entity)
        .all(db)
        .await
        .expect("accounts")
}

pub async fn sandbox_calls(app: &TestApp, query: &str) -> Vec<Value> {
    let body: Value = app
        .client
        .get(app.url(&format!("/sandbox/control/calls?{query}")))
        .send()
        .await
        .expect("calls")
        .json()
        .await
        .expect("json");
    body["calls"].as_array().cloned().unwrap_or_default()
}

async fn connecting_a_tiktok_account_links_it_with_sealed_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (profile_id, profile) = new_profile(&app, &db, "Leo").await;

    let (status, body) = connect(&app, &profile, "TIKTOK", "tiktok_leo").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("data-status=\"LINKED\""), "{body}");

    let accounts = account_by_platform(&db, Platform::Tiktok).await;
    assert_eq!(accounts.len(), 1);
    let (account, link) = &accounts[0];
    assert_eq!(account.profile_id, Some(profile_id));
    assert_eq!(account.handle, "leo.dances");
    let link = link.as_ref().expect("a link");
    assert_eq!(link.status, LinkStatus::Linked);
    let access = link.access_token.as_deref().expect("access token stored");
    assert!(access.starts_with("v1."), "sealed by the vault");
    assert!(!access.contains("sandbox"), "never in clear");
    assert!(link
        .refresh_token
        .as_deref()
        .is_some_and(|r| r.starts_with("v1.")));
    let authenticated = link.authenticated_at.expect("authenticated");
    // TikTok's refresh token (365 days) outlives the 90 days, so the 90 days set the expiry.
    assert_eq!(
        link.expires_at,
        Some(authenticated + chrono::Duration::days(90))
    );
    assert_eq!(link.expiry_cause.as_deref(), Some("NINETY_DAYS"));
    assert!(link.granted_scopes.contains("video.list"));
    let events = link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account.id))
        .all(&db)
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].from_status, Some(LinkStatus::NotLinked));
    assert_eq!(events[0].to_status, Some(LinkStatus::Linked));
}

async fn connecting_youtube_links_the_channel_and_uses_pkce(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Ana").await;
    let url = start_connect(&app, &profile, "YOUTUBE", None)
        .await
        .expect("starts");
    assert!(url.contains("code_challenge=") && url.contains("code_challenge_method=S256"));
    assert!(url.contains("access_type=offline") && url.contains("prompt=consent"));
    let back = consent(&app, &url, "yt_big", None).await;
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 200, "{body}");
    let accounts = account_by_platform(&db, Platform::Youtube).await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        accounts[0].0.platform_user_id.as_deref(),
        Some("UC4R8DWoMoI7CAwX8_LjQHig")
    );
    assert_eq!(
        accounts[0].1.as_ref().map(|l| l.status),
        Some(LinkStatus::Linked)
    );
}

async fn a_meta_login_with_several_pages_asks_which_page_and_links_it_with_its_instagram(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (profile_id, profile) = new_profile(&app, &db, "Ana").await;
    let (status, page) = connect(&app, &profile, "INSTAGRAM", "meta_ana").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Choose the Facebook Page"), "{page}");
    assert!(page.contains("Ana Travels") && page.contains("@ana.travels"));
    assert!(page.contains("Ana&#39;s Bakery"));
    assert!(
        account_by_platform(&db, Platform::Instagram)
            .await
            .is_empty(),
        "nothing linked yet"
    );

    let (status, done) = select_page(&app, &page, "101112131415161").await;
    assert_eq!(status, 200, "{done}");
    let ig = account_by_platform(&db, Platform::Instagram).await;
    let fb = account_by_platform(&db, Platform::Facebook).await;
    assert_eq!((ig.len(), fb.len()), (1, 1));
    assert_eq!(ig[0].0.handle, "ana.travels");
    assert_eq!(ig[0].0.profile_id, Some(profile_id));
    assert_eq!(ig[0].0.paired_account_id, Some(fb[0].0.id));
    assert_eq!(fb[0].0.paired_account_id, Some(ig[0].0.id));
    for (_, l) in ig.iter().chain(fb.iter()) {
        let l = l.as_ref().expect("link");
        assert_eq!(l.status, LinkStatus::Linked);
        assert!(
            l.data_access_expires_at.is_some(),
            "debug_token's data access expiry is kept"
        );
    }

    // The selection works once.
    let (again, _) = select_page(&app, &page, "101112131415161").await;
    assert_eq!(again, 400);
}

async fn an_instagram_connect_without_a_professional_account_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Cleo").await;
    let (status, body) = connect(&app, &profile, "INSTAGRAM", "meta_cleo").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("ACCOUNT_NOT_ELIGIBLE") && body.contains("professional"),
        "{body}"
    );
    assert_eq!(
        social_account::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        0
    );
}

async fn connecting_an_account_held_by_another_profile_is_a_conflict_and_stores_nothing(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, first) = new_profile(&app, &db, "Leo (old profile)").await;
    let (_, second) = new_profile(&app, &db, "Leo").await;
    let (status, _) = connect(&app, &first, "TIKTOK", "tiktok_leo").await;
    assert_eq!(status, 200);
    let before = link_event::Entity::find().count(&db).await.expect("count");

    let (status, body) = connect(&app, &second, "TIKTOK", "tiktok_leo").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("ACCOUNT_ALREADY_ASSOCIATED"), "{body}");
    // Whoever logged in on the platform sees the conflict, never the profile holding the
    // account (the organization finds it through the API).
    assert!(
        body.contains("already on another creator profile"),
        "{body}"
    );
    assert!(
        !body.contains("Leo (old profile)"),
        "the page does not name the holder: {body}"
    );
    assert_eq!(
        social_account::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        link_event::Entity::find().count(&db).await.expect("count"),
        before
    );
}

async fn reconnecting_starts_fresh_ninety_days_and_keeps_history(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Leo").await;
    connect(&app, &profile, "TIKTOK", "tiktok_leo").await;
    let (account, first) = account_by_platform(&db, Platform::Tiktok).await.remove(0);
    let first = first.expect("link");

    // 80 days later the link is expiring; the creator reconnects.
    advance(&app, 80 * 86_400).await;
    let gid = global_id("SocialAccount", account.id);
    let url = start_connect(&app, &profile, "TIKTOK", Some(&gid))
        .await
        .expect("starts");
    let back = consent(&app, &url, "tiktok_leo", None).await;
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 200, "{body}");

    let (again, second) = account_by_platform(&db, Platform::Tiktok).await.remove(0);
    let second = second.expect("link");
    assert_eq!(again.id, account.id, "the same account");
    assert_eq!(second.id, first.id, "the same link row");
    assert!(second.version > first.version);
    let renewed = second.authenticated_at.expect("authenticated");
    assert!(renewed >= first.authenticated_at.expect("first") + chrono::Duration::days(80));
    assert_eq!(
        second.expires_at,
        Some(renewed + chrono::Duration::days(90))
    );
    assert_ne!(second.access_token, first.access_token);
    let events = link_event::Entity::find()
        .filter(link_event::Column::AccountId.eq(account.id))
        .count(&db)
        .await
        .expect("events");
    assert_eq!(events, 2, "history kept");

    // Reconnecting as another TikTok user is refused.
    let url = start_connect(&app, &profile, "TIKTOK", Some(&gid))
        .await
        .expect("starts");
    let back = consent(&app, &url, "tiktok_mia", None).await;
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("ACCOUNT_MISMATCH"), "{body}");
    assert_eq!(account_by_platform(&db, Platform::Tiktok).await.len(), 1);
}

async fn a_missing_permission_leaves_the_account_invalid_with_scopes_missing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Leo").await;
    let url = start_connect(&app, &profile, "TIKTOK", None)
        .await
        .expect("starts");
    let back = consent(
        &app,
        &url,
        "tiktok_leo",
        Some("user.info.basic,user.info.profile"),
    )
    .await;
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("SCOPES_MISSING") && body.contains("video.list"),
        "{body}"
    );
    let (_, l) = account_by_platform(&db, Platform::Tiktok).await.remove(0);
    let l = l.expect("link");
    assert_eq!(l.status, LinkStatus::Invalid);
    assert_eq!(l.invalid_reason, Some(InvalidReason::ScopesMissing));
    assert!(l.access_token.is_none() && l.refresh_token.is_none());
}

async fn unlinking_revokes_upstream_and_erases_the_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Leo").await;
    connect(&app, &profile, "TIKTOK", "tiktok_leo").await;
    let (account, _) = account_by_platform(&db, Platform::Tiktok).await.remove(0);
    let data = app
        .graphql_ok(
            "mutation($i: SocialAccountInput!) { unlinkSocialAccount(input: $i) { accountId status invalidReason revokedUpstream userErrors { code } } }",
            json!({"i": {"accountId": global_id("SocialAccount", account.id)}}),
        )
        .await;
    let payload = &data["unlinkSocialAccount"];
    assert_eq!(payload["status"], "INVALID", "{payload}");
    assert_eq!(payload["invalidReason"], "UNLINKED");
    assert_eq!(payload["revokedUpstream"], true);
    let revokes = sandbox_calls(&app, "provider=tiktok&endpoint=revoke&user=tiktok_leo").await;
    assert_eq!(revokes.len(), 1, "the sandbox saw the revoke");
    let (after, l) = account_by_platform(&db, Platform::Tiktok).await.remove(0);
    let l = l.expect("link");
    assert!(
        l.access_token.is_none() && l.refresh_token.is_none(),
        "tokens erased"
    );
    assert_eq!(l.invalid_reason, Some(InvalidReason::Unlinked));
    assert!(
        after.profile_id.is_some(),
        "unlink keeps the account on its profile"
    );
}

async fn removing_revokes_erases_and_detaches_even_when_the_platform_fails(backend: Backend) {
    // The test runs the revoke jobs itself.
    let Some(app) = tests::spawn_app_with(backend, |c| c.jobs.in_process = false).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Ana").await;
    connect(&app, &profile, "YOUTUBE", "yt_small").await;
    let (account, _) = account_by_platform(&db, Platform::Youtube).await.remove(0);
    // Google answers 503 to the next four revoke attempts.
    app.client
        .post(app.url("/sandbox/control/faults"))
        .json(&json!({"provider": "google", "count": 4, "status": 503, "path_contains": "/revoke"}))
        .send()
        .await
        .expect("fault");
    let data = app
        .graphql_ok(
            "mutation($i: SocialAccountInput!) { removeSocialAccount(input: $i) { status invalidReason revokedUpstream userErrors { code } } }",
            json!({"i": {"accountId": global_id("SocialAccount", account.id)}}),
        )
        .await;
    let payload = &data["removeSocialAccount"];
    assert_eq!(payload["invalidReason"], "REMOVED", "{payload}");
    assert_eq!(payload["revokedUpstream"], false);
    let (after, l) = account_by_platform(&db, Platform::Youtube).await.remove(0);
    assert_eq!(after.profile_id, None, "detached");
    let l = l.expect("link");
    assert!(
        l.access_token.is_none() && l.refresh_token.is_none(),
        "erased regardless"
    );
    let attempts = sandbox_calls(&app, "provider=google&endpoint=revoke").await;
    assert_eq!(attempts.len(), 3, "a bounded retry: {attempts:?}");

    // The revoke is kept to try again: only the token Google's revoke takes, sealed.
    let pending = || async {
        domain::entities::pending_revocation::Entity::find()
            .all(&db)
            .await
            .expect("pending")
    };
    let rows = pending().await;
    assert_eq!(rows.len(), 1);
    let row = rows[0].clone();
    assert_eq!(
        (row.provider.as_str(), row.token_kind.as_str(), row.attempts),
        ("google", "refresh", 1)
    );
    assert!(row.token.starts_with("v1."), "sealed");
    assert_eq!(row.account_id, Some(account.id));
    let scan = || async {
        assert_eq!(
            jobs::execute(&jobs::revoke::RevokeScan::default(), &app.jobs).await,
            jobs::Outcome::Done
        );
    };
    let again = || async {
        assert_eq!(
            jobs::execute(&jobs::revoke::RevokeUpstream { id: row.id }, &app.jobs).await,
            jobs::Outcome::Done
        );
    };
    // Not due before its backoff; due after it. The fourth attempt fails too and backs off more.
    scan().await;
    assert_eq!(
        pending().await[0].next_attempt_at,
        row.next_attempt_at,
        "not claimed yet"
    );
    advance(&app, 61).await;
    scan().await;
    assert!(
        pending().await[0].next_attempt_at > row.next_attempt_at,
        "claimed"
    );
    again().await;
    let later = pending().await[0].clone();
    assert_eq!(later.attempts, 2);
    assert!(later.next_attempt_at >= sandbox_now(&app).await + chrono::Duration::seconds(110));
    // The fifth reaches Google: the grant is revoked there and the row is gone.
    advance(&app, 121).await;
    scan().await;
    again().await;
    assert!(pending().await.is_empty());
    let attempts = sandbox_calls(&app, "provider=google&endpoint=revoke").await;
    let statuses: Vec<u64> = attempts
        .iter()
        .filter_map(|c| c["status"].as_u64())
        .collect();
    assert_eq!(statuses, [503, 503, 503, 503, 200]);
    // The job is idempotent: run again, it finds nothing.
    again().await;
    assert_eq!(
        sandbox_calls(&app, "provider=google&endpoint=revoke")
            .await
            .len(),
        5
    );
}

async fn deleting_a_profile_revokes_its_accounts_upstream_like_remove(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (profile_id, profile) = new_profile(&app, &db, "Leo").await;
    connect(&app, &profile, "TIKTOK", "tiktok_leo").await;
    connect(&app, &profile, "YOUTUBE", "yt_small").await;
    let data = app
        .graphql_ok(
            "mutation($id: ID!) { deleteCreatorProfile(input: { id: $id }) { deletedCreatorProfileId userErrors { code } } }",
            json!({"id": profile}),
        )
        .await;
    assert_eq!(
        data["deleteCreatorProfile"]["deletedCreatorProfileId"], profile,
        "{data}"
    );
    let tiktok = sandbox_calls(&app, "provider=tiktok&endpoint=revoke&user=tiktok_leo").await;
    assert_eq!(tiktok.len(), 1, "the sandbox saw the TikTok revoke");
    let google = sandbox_calls(&app, "provider=google&endpoint=revoke").await;
    assert_eq!(google.len(), 1, "the sandbox saw the Google revoke");
    for platform in [Platform::Tiktok, Platform::Youtube] {
        let (account, l) = account_by_platform(&db, platform).await.remove(0);
        let l = l.expect("link");
        assert!(account.profile_id.is_none(), "detached");
        assert!(l.access_token.is_none() && l.refresh_token.is_none());
        assert_eq!(l.status, LinkStatus::Invalid);
        assert_eq!(l.invalid_reason, Some(InvalidReason::Removed));
    }
    let left = domain::entities::creator_profile::Entity::find_by_id(profile_id)
        .one(&db)
        .await
        .expect("query");
    assert!(left.is_none(), "the profile is gone");
}

/// The sandbox's state lives in the memory of the process serving it, so a second replica points
/// at the first one's sandbox (`sandbox.public_url`) and serves none of its own: a connect that
/// starts and ends on the second replica consents and exchanges its code at the first.
async fn replicas_share_one_sandbox_through_its_public_url(backend: Backend) {
    let Some(first) = spawn_app(backend).await else {
        return;
    };
    let sandbox = first.address.clone();
    let second = tests::spawn_replica(&first, move |c| {
        c.sandbox.public_url = Some(sandbox);
    })
    .await;
    let own = second
        .client
        .get(second.url("/sandbox/control/calls"))
        .send()
        .await
        .expect("send");
    assert_eq!(own.status(), 404, "the second replica serves no sandbox");
    let db = second.db.connect().await;
    let (_, profile) = new_profile(&second, &db, "Leo").await;
    let url = start_connect(&second, &profile, "TIKTOK", None)
        .await
        .expect("connect starts");
    assert!(url.starts_with(&first.address), "{url}");
    let back = consent(&second, &url, "tiktok_leo", None).await;
    assert!(back.starts_with(&second.address), "{back}");
    let (status, body) = callback(&second, &back).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("data-status=\"LINKED\""), "{body}");
    let tokens = sandbox_calls(&first, "provider=tiktok&user=tiktok_leo").await;
    assert!(
        !tokens.is_empty(),
        "the first replica's sandbox answered the second's calls"
    );
}

/// In containers the URL browsers reach the sandbox at (through the proxy's published port) is
/// not reachable from inside: a replica sends browsers to `sandbox.public_url` and makes its own
/// calls (the code exchange) at `sandbox.internal_url`.
async fn a_replica_calls_the_sandbox_at_its_internal_url(backend: Backend) {
    let Some(first) = spawn_app(backend).await else {
        return;
    };
    // Resolvable by no one here: only the browser (this test, standing in for the proxy) maps it.
    let public = "http://sandbox.browser.invalid:9".to_owned();
    let internal = first.address.clone();
    let second = tests::spawn_replica(&first, {
        let public = public.clone();
        move |c| {
            c.sandbox.public_url = Some(public);
            c.sandbox.internal_url = Some(internal);
        }
    })
    .await;
    let db = second.db.connect().await;
    let (_, profile) = new_profile(&second, &db, "Leo").await;
    let url = start_connect(&second, &profile, "TIKTOK", None)
        .await
        .expect("connect starts");
    let path = url
        .strip_prefix(&public)
        .unwrap_or_else(|| panic!("the consent page is at the public URL: {url}"));
    let back = consent(
        &second,
        &format!("{}{path}", first.address),
        "tiktok_leo",
        None,
    )
    .await;
    let (status, body) = callback(&second, &back).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("data-status=\"LINKED\""), "{body}");
    let tokens = sandbox_calls(&first, "provider=tiktok&user=tiktok_leo").await;
    assert!(
        !tokens.is_empty(),
        "the code was exchanged at the internal URL"
    );
}

/// Sandbox (and application) time.
pub async fn sandbox_now(app: &TestApp) -> DateTime<Utc> {
    let body: Value = app
        .client
        .get(app.url("/sandbox/control/clock"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    body["now"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .expect("the sandbox time")
        .with_timezone(&Utc)
}

pub async fn advance(app: &TestApp, seconds: i64) {
    let response = app
        .client
        .post(app.url("/sandbox/control/clock"))
        .json(&json!({ "advance_seconds": seconds }))
        .send()
        .await
        .expect("clock");
    assert_eq!(response.status(), 200);
}

async fn oauth_attacks_are_refused_and_change_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Leo").await;

    // Forged state.
    let url = start_connect(&app, &profile, "TIKTOK", None)
        .await
        .expect("starts");
    let back = consent(&app, &url, "tiktok_leo", None).await;
    let mut forged = url::Url::parse(&back).expect("url");
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged-state".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let (status, body) = callback(&app, forged.as_str()).await;
    assert_eq!(status, 400);
    assert!(body.contains("OAUTH_STATE_INVALID"), "{body}");
    assert_eq!(
        social_account::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        0
    );

    // The genuine callback works once; its replay is refused.
    let (status, _) = callback(&app, &back).await;
    assert_eq!(status, 200);
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 400);
    assert!(body.contains("OAUTH_STATE_USED"), "{body}");

    // A state used at another provider's callback is not accepted there.
    let url = start_connect(&app, &profile, "TIKTOK", None)
        .await
        .expect("starts");
    let back = consent(&app, &url, "tiktok_mia", None).await;
    let wrong = back.replace("/oauth/tiktok/callback", "/oauth/youtube/callback");
    let (status, body) = callback(&app, &wrong).await;
    assert_eq!(status, 400);
    assert!(body.contains("OAUTH_STATE_INVALID"), "{body}");

    // An expired state (11 minutes on the clock).
    let url = start_connect(&app, &profile, "TIKTOK", None)
        .await
        .expect("starts");
    let back = consent(&app, &url, "tiktok_mia", None).await;
    advance(&app, 11 * 60).await;
    let (status, body) = callback(&app, &back).await;
    assert_eq!(status, 400);
    assert!(body.contains("OAUTH_STATE_EXPIRED"), "{body}");
    assert_eq!(
        social_account::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        1,
        "only the genuine connect stored anything"
    );

    // A profile of another organization cannot be connected to (and is not hinted at).
    let other = domain::organizations::ensure_named(&db, "Other org")
        .await
        .expect("org");
    let (_, foreign) = insert_profile(&db, other.uuid(), "Not yours").await;
    let errors = start_connect(&app, &foreign, "TIKTOK", None)
        .await
        .expect_err("refused");
    assert_eq!(errors[0]["code"], "NOT_FOUND");

    // No state row leaks which organization it belongs to into the URL.
    let states = oauth_state::Entity::find().all(&db).await.expect("states");
    assert!(
        states.iter().all(|s| s.state_hash.len() == 64),
        "states are stored hashed"
    );
}

async fn the_start_endpoint_needs_a_valid_invite(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (profile_id, _) = new_profile(&app, &db, "Leo").await;
    let org = default_org(&db).await;
    let token = "invite-token-for-test-0123456789";
    insert_invite(&db, org, profile_id, token, chrono::Duration::days(7)).await;

    let response = app
        .client
        .get(app.url(&format!("/oauth/tiktok/start?invite={token}")))
        .send()
        .await
        .expect("start");
    assert_eq!(response.status(), 302);
    let authorize = location(&response);
    assert!(
        authorize.starts_with(&app.url("/sandbox/tiktok/v2/auth/authorize/")),
        "{authorize}"
    );
    let back = consent(&app, &authorize, "tiktok_leo", None).await;
    let (status, to) = callback(&app, &back).await;
    assert_eq!(status, 303, "back to the invite page");
    assert_eq!(to, format!("/connect/{token}?notice=connected#notice"));
    let states = oauth_state::Entity::find().all(&db).await.expect("states");
    assert!(
        states.iter().all(|s| s.redirect_to.is_none()),
        "the invite link does not stay in the database"
    );

    // An unknown (or expired, or withdrawn) invite goes back to its Connect page, which says
    // the link does not work and what to do; a token that cannot be one is refused here.
    let bad = app
        .client
        .get(app.url("/oauth/tiktok/start?invite=not-an-invite"))
        .send()
        .await
        .expect("start");
    assert_eq!(bad.status(), 303);
    assert_eq!(location(&bad), "/connect/not-an-invite");
    let page = app
        .client
        .get(app.url("/connect/not-an-invite"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 404);
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("Ask whoever sent it for a new one"));
    let garbage = app
        .client
        .get(app.url("/oauth/tiktok/start?invite=..%2Fevil"))
        .send()
        .await
        .expect("start");
    assert_eq!(garbage.status(), 400);
    let unknown = app
        .client
        .get(app.url("/oauth/myspace/start?invite=x"))
        .send()
        .await
        .expect("start");
    assert_eq!(unknown.status(), 404);
}

pub async fn insert_invite(
    db: &DatabaseConnection,
    org: Uuid,
    profile_id: Uuid,
    token: &str,
    lifetime: chrono::Duration,
) {
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    domain::entities::connect_invite::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        profile_id: Set(profile_id),
        token_hash: Set(domain::connect::token_hash(token)),
        created_by: Set(None),
        created_at: Set(now),
        expires_at: Set(now + lifetime),
        revoked_at: Set(None),
        last_opened_at: Set(None),
        return_url: Set(None),
    }
    .insert(db)
    .await
    .expect("insert invite");
}

on_both_backends!(
    connecting_a_tiktok_account_links_it_with_sealed_tokens,
    connecting_youtube_links_the_channel_and_uses_pkce,
    a_meta_login_with_several_pages_asks_which_page_and_links_it_with_its_instagram,
    an_instagram_connect_without_a_professional_account_is_refused,
    connecting_an_account_held_by_another_profile_is_a_conflict_and_stores_nothing,
    reconnecting_starts_fresh_ninety_days_and_keeps_history,
    a_missing_permission_leaves_the_account_invalid_with_scopes_missing,
    unlinking_revokes_upstream_and_erases_the_tokens,
    removing_revokes_erases_and_detaches_even_when_the_platform_fails,
    deleting_a_profile_revokes_its_accounts_upstream_like_remove,
    replicas_share_one_sandbox_through_its_public_url,
    a_replica_calls_the_sandbox_at_its_internal_url,
    oauth_attacks_are_refused_and_change_nothing,
    the_start_endpoint_needs_a_valid_invite,
);

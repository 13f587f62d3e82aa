//! Connect invites and the hosted Connect page as a creator and an operator meet them: an invite
//! from GraphQL or the command line opens a page showing the profile's accounts with their
//! badges, dates and actions, and the promises creators are made; a bad link shows one page.

use std::process::Command;

use chrono::{Duration, Utc};
use domain::{InvalidReason, Platform};
use serde_json::json;
use tests::{on_both_backends, spawn_app, Backend};

use crate::creatorlink_bin;
use crate::fixtures::{self, AccountSeed, LinkSeed};

const CREATE: &str = "mutation($input: CreateConnectInviteInput!) { createConnectInvite(input: $input) { url invite { id profileId expiresAt } userErrors { code field message } } }";

async fn an_invite_opens_a_page_with_every_account_its_badge_dates_and_actions(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Ana Travels").await;
    let now = Utc::now();
    fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Instagram,
            handle: "ana.travels",
            platform_user_id: Some("17841"),
            link: LinkSeed::Authenticated {
                at: now - Duration::days(10),
                marker: "m1".into(),
                provider_user_id: None,
            },
        },
    )
    .await;
    fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Tiktok,
            handle: "anatravels",
            platform_user_id: Some("open-1"),
            link: LinkSeed::Authenticated {
                at: now - Duration::days(80),
                marker: "m2".into(),
                provider_user_id: None,
            },
        },
    )
    .await;
    let youtube = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Youtube,
            handle: "AnaTravelsTV",
            platform_user_id: None,
            link: LinkSeed::Invalid(InvalidReason::PermissionsRevoked),
        },
    )
    .await;
    let facebook = fixtures::account(
        &db,
        org,
        profile,
        AccountSeed {
            platform: Platform::Facebook,
            handle: "anatravelspage",
            platform_user_id: None,
            link: LinkSeed::None,
        },
    )
    .await;

    let data = app
        .graphql_ok(
            CREATE,
            json!({"input": {"profileId": fixtures::profile_gid(profile), "expiresIn": 3600}}),
        )
        .await;
    let payload = &data["createConnectInvite"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(
        payload["invite"]["profileId"],
        fixtures::profile_gid(profile)
    );
    let url = payload["url"].as_str().expect("an invite url");
    let token = url
        .strip_prefix(&format!("{}/connect/", app.address))
        .expect("the link points at this server's Connect page");
    assert_eq!(token.len(), 43);

    let page = app.client.get(url).send().await.expect("the page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    // The page's own form posts carry its origin; its URL (the invite) goes to no other site.
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cl_csrf="))
        .expect("a CSRF cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let csrf = cookie["cl_csrf=".len()..]
        .split(';')
        .next()
        .expect("value")
        .to_owned();
    let html = page.text().await.expect("html");

    // The promises of seeds 000 and 001, in plain words.
    for promise in [
        "Read-only.",
        "We never see your password.",
        "90 days.",
        "You can revoke access at any time,",
    ] {
        assert!(html.contains(promise), "missing promise {promise:?}");
    }
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(html.contains(r#"<html lang="en">"#));

    // One badge per account, colour and word together, dates in text and on hover.
    assert!(
        html.contains(r#"class="badge badge-green" title="Authenticated on "#),
        "{html}"
    );
    assert!(html.contains(">Linked<"));
    assert!(html.contains(r#"class="badge badge-orange""#) && html.contains(">Expiring soon<"));
    assert!(html.contains(r#"class="badge badge-red""#) && html.contains(">Reconnect<"));
    assert!(html.contains("Access was revoked on the platform."));
    assert!(html.contains(r#"class="badge badge-grey""#) && html.contains(">Not connected<"));
    let authenticated = format!(
        "Authenticated on {}",
        (now - Duration::days(10)).format("%-d %b %Y")
    );
    let expires = format!(
        "expires on {}",
        (now + Duration::days(80)).format("%-d %b %Y")
    );
    assert!(
        html.contains(&authenticated) && html.contains(&expires),
        "{authenticated} / {expires}"
    );

    // Actions: CONNECT / RECONNECT are links into the OAuth flow, UNLINK and remove are posts
    // carrying the CSRF token of this browser.
    assert!(html.contains(&format!(r#"href="/oauth/meta/start?invite={token}""#)));
    assert!(html.contains(&format!(r#"href="/oauth/tiktok/start?invite={token}""#)));
    assert!(html.contains(&format!(r#"href="/oauth/google/start?invite={token}""#)));
    let yt_gid = api::graphql::ids::encode_named("SocialAccount", youtube);
    assert!(html.contains(&format!(
        r#"href="/oauth/google/start?invite={token}&amp;account={yt_gid}""#
    )));
    let fb_gid = api::graphql::ids::encode_named("SocialAccount", facebook);
    assert!(html.contains(&format!(
        r#"href="/oauth/meta/start?invite={token}&amp;account={fb_gid}""#
    )));
    assert!(
        html.contains(">RECONNECT<") && html.contains(">CONNECT<") && html.contains(">UNLINK<")
    );
    assert!(html.contains(&format!(
        r#"<input type="hidden" name="csrf" value="{csrf}">"#
    )));

    // Opening the page is noted on the invite.
    let id = payload["invite"]["id"].as_str().expect("id");
    let node = app
        .graphql_ok(
            "query($id: ID!) { node(id: $id) { ... on ConnectInvite { lastOpenedAt } } }",
            json!({"id": id}),
        )
        .await;
    assert!(node["node"]["lastOpenedAt"].is_string(), "{node}");
}

async fn an_unknown_expired_or_revoked_invite_shows_the_same_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Bo").await;
    let (expired, expired_token) = domain::invites::create(
        &db,
        org,
        profile,
        Some(Duration::minutes(5)),
        &domain::Actor::system("test"),
    )
    .await
    .expect("invite");
    let (revoked, revoked_token) =
        domain::invites::create(&db, org, profile, None, &domain::Actor::system("test"))
            .await
            .expect("invite");
    domain::invites::revoke(&db, org, revoked.id, Utc::now())
        .await
        .expect("revoke");
    {
        use sea_orm::{ActiveModelTrait, Set};
        domain::entities::connect_invite::ActiveModel {
            id: Set(expired.id),
            expires_at: Set(Utc::now() - Duration::seconds(1)),
            ..Default::default()
        }
        .update(&db)
        .await
        .expect("expire");
    }
    let unknown = "A".repeat(43);
    let mut bodies = Vec::new();
    for token in [unknown.as_str(), &expired_token, &revoked_token, "short"] {
        let page = app
            .client
            .get(app.url(&format!("/connect/{token}")))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 404, "{token}");
        bodies.push(page.text().await.expect("html"));
    }
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "indistinguishable answers"
    );
    assert!(bodies[0].contains("expired or is not valid"));
}

async fn a_bad_invite_request_is_a_user_error(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Cy").await;
    let too_long = app
        .graphql_ok(CREATE, json!({"input": {"profileId": fixtures::profile_gid(profile), "expiresIn": 60 * 60 * 24 * 31}}))
        .await;
    assert_eq!(too_long["createConnectInvite"]["url"], json!(null));
    assert_eq!(
        too_long["createConnectInvite"]["userErrors"][0]["code"],
        "INVALID_EXPIRY"
    );
    assert_eq!(
        too_long["createConnectInvite"]["userErrors"][0]["field"],
        "expiresIn"
    );

    let other = domain::organizations::create(&db, "Other")
        .await
        .expect("org");
    let foreign = fixtures::profile(&db, domain::OrgId::new(other.id), "Not yours").await;
    let not_found = app
        .graphql_ok(
            CREATE,
            json!({"input": {"profileId": fixtures::profile_gid(foreign)}}),
        )
        .await;
    assert_eq!(
        not_found["createConnectInvite"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    assert_eq!(
        not_found["createConnectInvite"]["userErrors"][0]["field"],
        "profileId"
    );
}

async fn invite_create_on_the_command_line_prints_a_link_that_opens_the_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Dee").await;
    let dir = tempfile::tempdir().expect("dir");
    let org_id = app.org.to_string();
    let out = Command::new(creatorlink_bin())
        .args([
            "invite",
            "create",
            "--org",
            &org_id,
            "--profile",
            &fixtures::profile_gid(profile),
            "--expires-in",
            "600",
        ])
        .current_dir(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .env("CREATORLINK_HTTP_PUBLIC_URL", &app.address)
        .env("CREATORLINK_LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        link.starts_with(&format!("{}/connect/", app.address)),
        "{link}"
    );
    let page = app.client.get(&link).send().await.expect("page");
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("Connect your accounts for Dee"));

    let bad = Command::new(creatorlink_bin())
        .args([
            "invite",
            "create",
            "--org",
            "No such org",
            "--profile",
            &fixtures::profile_gid(profile),
        ])
        .current_dir(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .env("CREATORLINK_LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("No such org"));
}

async fn adding_an_account_by_url_on_the_page_shows_it_or_the_typed_error(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Leo Quinterra").await;
    let other = fixtures::profile(&db, org, "Someone else").await;
    let (_, token) =
        domain::invites::create(&db, org, profile, None, &domain::Actor::system("test"))
            .await
            .expect("invite");
    let page = app
        .bare_client
        .get(app.url(&format!("/connect/{token}")))
        .send()
        .await
        .expect("page");
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("cl_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a CSRF cookie")
        .to_owned();
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!(r#"action="/connect/{token}/accounts#add""#)),
        "the page has the add form"
    );
    let add = |input: &str, platform: &str, csrf_field: &str| {
        app.bare_client
            .post(app.url(&format!("/connect/{token}/accounts")))
            .header("cookie", format!("cl_csrf={csrf}"))
            .form(&[
                ("csrf", csrf_field),
                ("handle_or_url", input),
                ("platform", platform),
            ])
            .send()
    };
    let accounts = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            use sea_orm::{EntityTrait, PaginatorTrait};
            domain::entities::social_account::Entity::find()
                .count(&db)
                .await
                .expect("count")
        }
    };

    // Without this browser's CSRF token: refused, nothing added.
    let forged = add("https://www.tiktok.com/@leo.dances", "", &"A".repeat(43))
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);
    assert_eq!(accounts(&db).await, 0);

    // Garbage and unsupported sites: the page again, with the typed error and what was typed.
    for (input, code) in [
        ("https://www.tiktok.com/@", "INVALID_URL"),
        ("leo", "AMBIGUOUS_PLATFORM"),
        ("https://www.linkedin.com/in/leo", "UNSUPPORTED_PLATFORM"),
    ] {
        let refused = add(input, "", &csrf).await.expect("post");
        assert_eq!(refused.status(), 422, "{input}");
        let html = refused.text().await.expect("html");
        assert!(
            html.contains(&format!(r#"data-error-code="{code}""#)),
            "{input}: {html}"
        );
        assert!(
            html.contains(&format!(r#"value="{input}""#)),
            "{input} kept"
        );
        assert!(html.contains(r#"aria-invalid="true""#));
    }
    assert_eq!(accounts(&db).await, 0);

    // A good link: back to the page, which shows the new account, not yet connected.
    let ok = add("https://www.tiktok.com/@leo.dances?lang=en", "", &csrf)
        .await
        .expect("post");
    assert_eq!(ok.status(), 303);
    assert_eq!(
        ok.headers()["location"],
        format!("/connect/{token}?notice=added#notice")
    );
    let html = app
        .bare_client
        .get(app.url(&format!("/connect/{token}?notice=added")))
        .header("cookie", format!("cl_csrf={csrf}"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Account added."), "{html}");
    assert!(html.contains("@leo.dances"), "{html}");
    assert!(html.contains(r#"data-status="NOT_LINKED""#), "{html}");

    // An account another profile holds: the typed conflict, without naming that profile.
    let (_, other_token) =
        domain::invites::create(&db, org, other, None, &domain::Actor::system("test"))
            .await
            .expect("invite");
    let held = add("@mia", "INSTAGRAM", &csrf).await.expect("post");
    assert_eq!(
        held.status(),
        303,
        "a bare handle with its platform is added"
    );
    let conflict = app
        .bare_client
        .post(app.url(&format!("/connect/{other_token}/accounts")))
        .header("cookie", format!("cl_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("handle_or_url", "https://www.instagram.com/mia/"),
            ("platform", ""),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(conflict.status(), 422);
    let html = conflict.text().await.expect("html");
    assert!(
        html.contains(r#"data-error-code="ACCOUNT_ALREADY_ASSOCIATED""#),
        "{html}"
    );
    assert!(
        !html.contains("Quinterra"),
        "the holding profile is not named"
    );
    assert_eq!(accounts(&db).await, 2);
}

/// What a redirect back to the page says is worded by the page: only known codes, only the
/// permissions the platform really requires, never text from the query.
async fn the_page_words_outcomes_itself_and_echoes_nothing_from_the_query(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let org_name = domain::organizations::get(&db, org)
        .await
        .expect("org")
        .name;
    let profile = fixtures::profile(&db, org, "Ana").await;
    let now = Utc::now();
    for (handle, followers, hidden) in [("ana.one", 1_200, false), ("ana.two", 5_000, true)] {
        let id = fixtures::account(
            &db,
            org,
            profile,
            AccountSeed {
                platform: Platform::Tiktok,
                handle,
                platform_user_id: None,
                link: LinkSeed::Authenticated {
                    at: now - Duration::days(1),
                    marker: handle.into(),
                    provider_user_id: None,
                },
            },
        )
        .await;
        use sea_orm::{ActiveModelTrait, Set};
        domain::entities::social_account::ActiveModel {
            id: Set(id),
            followers: Set(Some(followers)),
            followers_hidden: Set(hidden),
            ..Default::default()
        }
        .update(&db)
        .await
        .expect("followers");
    }
    let (_, token) =
        domain::invites::create(&db, org, profile, None, &domain::Actor::system("test"))
            .await
            .expect("invite");
    let page = |query: &str| {
        let url = app.url(&format!("/connect/{token}?{query}"));
        let client = app.client.clone();
        async move {
            let response = client.get(url).send().await.expect("page");
            assert_eq!(response.status(), 200);
            response.text().await.expect("html")
        }
    };

    let html = page("").await;
    assert!(
        html.contains("Total followers of linked accounts: <strong>1,200</strong>"),
        "a hidden count is not added in: {html}"
    );
    assert!(html.contains("Follower count hidden on TikTok"));
    assert!(html.contains(&format!("<strong>{org_name}</strong> asks you to connect")));

    let html = page(
        "error=SCOPES_MISSING&platform=TIKTOK&missing=video.list+%3Cb%3Eevil%3C%2Fb%3E+made.up",
    )
    .await;
    assert!(
        html.contains("\u{201c}video.list\u{201d} was not granted on TikTok"),
        "{html}"
    );
    assert!(
        !html.contains("evil") && !html.contains("made.up"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="/oauth/tiktok/start?invite={token}""#)));

    let html = page("error=ACCOUNT_ALREADY_ASSOCIATED&platform=TIKTOK").await;
    assert!(
        html.contains(&format!("Ask {org_name} to move it to your profile")),
        "{html}"
    );

    let html = page("error=%3Cscript%3E&platform=%3Cscript%3E").await;
    assert!(
        html.contains("Something went wrong, and nothing was changed"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("Try again"), "no platform, no retry link");

    let html = page("error=ACCESS_DENIED&platform=YOUTUBE").await;
    assert!(
        html.contains("you cancelled on YouTube") && html.contains(">Try again<"),
        "{html}"
    );

    assert!(page("notice=connected").await.contains(r#"id="notice""#));
    let html = page("notice=%3Cscript%3E").await;
    assert!(
        !html.contains(r#"id="notice""#),
        "an unknown notice shows nothing"
    );
}

/// `returnUrl` (invites and `startConnect`) must be on an origin the organization's admin
/// allowed; the page then offers "Back to <app>", and a flow started with one ends there.
async fn return_urls_must_be_on_an_origin_the_organization_allows(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let profile = fixtures::profile(&db, app.org, "Ana").await;
    const SET: &str = "mutation($input: SetConnectReturnOriginsInput!) { setConnectReturnOrigins(input: $input) { origins userErrors { code field } } }";
    let bad = app
        .graphql_ok(
            SET,
            json!({"input": {"origins": ["https://app.example.com/path"]}}),
        )
        .await;
    assert_eq!(bad["setConnectReturnOrigins"]["origins"], json!(null));
    assert_eq!(
        bad["setConnectReturnOrigins"]["userErrors"][0]["code"],
        "INVALID_ORIGIN"
    );
    let ok = app
        .graphql_ok(
            SET,
            json!({"input": {"origins": ["https://app.example.com", "http://localhost:3000/"]}}),
        )
        .await;
    assert_eq!(
        ok["setConnectReturnOrigins"]["origins"],
        json!(["https://app.example.com", "http://localhost:3000"])
    );

    // An invite back to another site is refused and not created.
    let refused = app
        .graphql_ok(
            CREATE,
            json!({"input": {"profileId": fixtures::profile_gid(profile), "returnUrl": "https://evil.example/x"}}),
        )
        .await;
    assert_eq!(refused["createConnectInvite"]["url"], json!(null));
    assert_eq!(
        refused["createConnectInvite"]["userErrors"][0]["code"],
        "RETURN_URL_NOT_ALLOWED"
    );
    assert_eq!(
        refused["createConnectInvite"]["userErrors"][0]["field"],
        "returnUrl"
    );
    let created = app
        .graphql_ok(
            CREATE,
            json!({"input": {"profileId": fixtures::profile_gid(profile), "returnUrl": "https://app.example.com/creators/42"}}),
        )
        .await;
    let url = created["createConnectInvite"]["url"]
        .as_str()
        .expect("an invite");
    let html = app
        .client
        .get(url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains(
            r#"<a id="back" href="https://app.example.com/creators/42">Back to app.example.com</a>"#
        ),
        "{html}"
    );

    // startConnect: refused off the list; on it, the flow ends at the app with its outcome.
    const START: &str = "mutation($i: StartConnectInput!) { startConnect(input: $i) { authorizeUrl userErrors { code field } } }";
    let off = app
        .graphql_ok(
            START,
            json!({"i": {"profileId": fixtures::profile_gid(profile), "platform": "TIKTOK", "returnUrl": "https://app.example.com.evil.example/"}}),
        )
        .await;
    assert_eq!(
        off["startConnect"]["userErrors"][0]["code"],
        "RETURN_URL_NOT_ALLOWED"
    );
    let on = app
        .graphql_ok(
            START,
            json!({"i": {"profileId": fixtures::profile_gid(profile), "platform": "TIKTOK", "returnUrl": "https://app.example.com/done"}}),
        )
        .await;
    let authorize = on["startConnect"]["authorizeUrl"]
        .as_str()
        .expect("a consent page");
    let back = crate::connect::consent(&app, authorize, "tiktok_leo", None).await;
    let (status, to) = crate::connect::callback(&app, &back).await;
    assert_eq!(status, 303, "{to}");
    assert_eq!(to, "https://app.example.com/done?notice=connected#notice");
}

on_both_backends!(
    return_urls_must_be_on_an_origin_the_organization_allows,
    the_page_words_outcomes_itself_and_echoes_nothing_from_the_query,
    an_invite_opens_a_page_with_every_account_its_badge_dates_and_actions,
    an_unknown_expired_or_revoked_invite_shows_the_same_page,
    a_bad_invite_request_is_a_user_error,
    invite_create_on_the_command_line_prints_a_link_that_opens_the_page,
    unlink_and_remove_on_the_page_need_this_browsers_csrf_token,
    adding_an_account_by_url_on_the_page_shows_it_or_the_typed_error,
);

/// Connects TikTok as `tiktok_leo` from the invite page's CONNECT link; returns where the flow
/// sent the browser back to.
pub async fn connect_from_invite(
    app: &tests::TestApp,
    token: &str,
    provider: &str,
    user: &str,
) -> String {
    let start = app
        .client
        .get(app.url(&format!("/oauth/{provider}/start?invite={token}")))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = crate::connect::consent(app, &authorize, user, None).await;
    let (status, to) = crate::connect::callback(app, &back).await;
    assert_eq!(status, 303, "{to}");
    to
}

async fn unlink_and_remove_on_the_page_need_this_browsers_csrf_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let profile = fixtures::profile(&db, org, "Leo").await;
    let (_, token) =
        domain::invites::create(&db, org, profile, None, &domain::Actor::system("test"))
            .await
            .expect("invite");
    let back = connect_from_invite(&app, &token, "tiktok", "tiktok_leo").await;
    assert_eq!(back, format!("/connect/{token}?notice=connected#notice"));
    let page = app.client.get(app.url(&back)).send().await.expect("page");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cl_csrf="))
        .expect("a CSRF cookie")
        .to_owned();
    let csrf = cookie["cl_csrf=".len()..]
        .split(';')
        .next()
        .expect("value")
        .to_owned();
    let html = page.text().await.expect("html");
    assert!(html.contains("Connected. Thank you!"));
    assert!(html.contains(">Linked<"));
    let (account, _) = crate::connect::account_by_platform(&db, Platform::Tiktok)
        .await
        .remove(0);
    let unlink = app.url(&format!("/connect/{token}/accounts/{}/unlink", account.id));

    // No cookie, a wrong token, another site's origin, an opaque origin, a post the browser
    // marks as cross-site or same-site (even with the right cookie and token, as a browser
    // holding a leaked token would send): refused, nothing changes.
    let with_token = |name: &'static str, value: &'static str| {
        app.client
            .post(&unlink)
            .header("cookie", format!("cl_csrf={csrf}"))
            .header(name, value)
            .form(&[("csrf", csrf.as_str())])
    };
    let attempts = [
        app.client.post(&unlink).form(&[("csrf", csrf.as_str())]),
        app.client
            .post(&unlink)
            .header("cookie", format!("cl_csrf={csrf}"))
            .form(&[("csrf", "A".repeat(43).as_str())]),
        with_token("origin", "https://evil.example"),
        with_token("origin", "null"),
        with_token("sec-fetch-site", "cross-site"),
        with_token("sec-fetch-site", "same-site"),
        with_token("sec-fetch-site", "none"),
        app.client
            .post(&unlink)
            .header("cookie", format!("cl_csrf={csrf}"))
            .header("sec-fetch-site", "cross-site")
            .header("origin", app.address.clone())
            .form(&[("csrf", csrf.as_str())]),
    ];
    for attempt in attempts {
        assert_eq!(attempt.send().await.expect("post").status(), 403);
    }
    assert_eq!(
        fixtures::link_of(&db, account.id).await.status,
        domain::LinkStatus::Linked
    );
    assert!(tests::logs()
        .contents()
        .contains("refused a Connect page post without a matching CSRF token"));

    let ok = app
        .client
        .post(&unlink)
        .header("cookie", format!("cl_csrf={csrf}"))
        .header("origin", app.address.clone())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), 303);
    assert_eq!(
        ok.headers()["location"],
        format!("/connect/{token}?notice=unlinked#notice")
    );
    let link = fixtures::link_of(&db, account.id).await;
    assert_eq!(link.invalid_reason, Some(InvalidReason::Unlinked));
    assert!(link.access_token.is_none() && link.refresh_token.is_none());
    let revokes =
        crate::connect::sandbox_calls(&app, "provider=tiktok&endpoint=revoke&user=tiktok_leo")
            .await;
    assert_eq!(revokes.len(), 1, "the sandbox saw the revoke");
    let page = app
        .client
        .get(app.url(&format!("/connect/{token}")))
        .send()
        .await
        .expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains("You unlinked this account.") && html.contains(">RECONNECT<"));

    // Remove takes the account off the profile and so off the page; an account of another
    // profile cannot be touched through this invite.
    let other_profile = fixtures::profile(&db, org, "Mia").await;
    let other = fixtures::account(
        &db,
        org,
        other_profile,
        AccountSeed {
            platform: Platform::Youtube,
            handle: "mia",
            platform_user_id: None,
            link: LinkSeed::None,
        },
    )
    .await;
    let foreign = app
        .client
        .post(app.url(&format!("/connect/{token}/accounts/{other}/remove")))
        .header("cookie", format!("cl_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), 404);
    let removed = app
        .client
        .post(app.url(&format!("/connect/{token}/accounts/{}/remove", account.id)))
        .header("cookie", format!("cl_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(removed.status(), 303);
    let html = app
        .client
        .get(app.url(&format!("/connect/{token}?notice=removed")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("The account was removed from this profile."));
    assert!(!html.contains("@tiktok_leo") && html.contains("No accounts yet."));
}

//! Social accounts through GraphQL: adding by every usual URL form, the conflict rule, finding by
//! URL, removing, derived link statuses, pulled data, and the SQL cost of a page.

use chrono::{Duration, Utc};
use domain::entities::link;
use domain::{InvalidReason, MediaKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{logs, on_both_backends, spawn_app, spawn_app_with, Backend};

use crate::api_support::*;

async fn every_usual_url_form_adds_the_canonical_account(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    #[rustfmt::skip]
    let accepted: &[(&str, Option<&str>, &str, &str, &str)] = &[
        ("@name", Some("INSTAGRAM"), "INSTAGRAM", "name", "https://www.instagram.com/name/"),
        ("name", Some("TIKTOK"), "TIKTOK", "name", "https://www.tiktok.com/@name"),
        ("https://www.instagram.com/igname/", None, "INSTAGRAM", "igname", "https://www.instagram.com/igname/"),
        ("instagram.com/igsh.name?igsh=abc123", None, "INSTAGRAM", "igsh.name", "https://www.instagram.com/igsh.name/"),
        ("https://www.tiktok.com/@ttname", None, "TIKTOK", "ttname", "https://www.tiktok.com/@ttname"),
        ("https://m.tiktok.com/@ttvideo/video/123", None, "TIKTOK", "ttvideo", "https://www.tiktok.com/@ttvideo"),
        ("https://www.youtube.com/@ytname", None, "YOUTUBE", "ytname", "https://www.youtube.com/@ytname"),
        ("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", None, "YOUTUBE", "UCabcdefghijklmnopqrstuv", "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv"),
        ("https://www.youtube.com/c/ytcustom", None, "YOUTUBE", "ytcustom", "https://www.youtube.com/c/ytcustom"),
        ("https://www.youtube.com/user/ytuser", None, "YOUTUBE", "ytuser", "https://www.youtube.com/user/ytuser"),
        ("facebook.com/fb.page", None, "FACEBOOK", "fb.page", "https://www.facebook.com/fb.page"),
        ("https://www.facebook.com/profile.php?id=100012345", None, "FACEBOOK", "100012345", "https://www.facebook.com/profile.php?id=100012345"),
        ("fb.com/fb.short", None, "FACEBOOK", "fb.short", "https://www.facebook.com/fb.short"),
    ];
    let profile = create_profile(&app, "Every Form", "INDIVIDUAL").await;
    for (input, hint, platform, handle, url) in accepted {
        let payload = add_account(&app, &profile, input, *hint).await;
        assert_eq!(payload["userErrors"], json!([]), "{input}: {payload:#}");
        let account = &payload["socialAccount"];
        assert_eq!(account["platform"], *platform, "{input}");
        assert_eq!(account["handle"], *handle, "{input}");
        assert_eq!(account["url"], *url, "{input}");
        assert_eq!(
            account["link"]["status"], "NOT_LINKED",
            "adding is not authenticating: {input}"
        );
        assert_eq!(account["profile"]["id"], profile.as_str());
    }
    assert_eq!(
        add_account(
            &app,
            &profile,
            "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv",
            None
        )
        .await["socialAccount"]["platformUserId"],
        "UCabcdefghijklmnopqrstuv",
        "a channel id is the platform user id"
    );

    #[rustfmt::skip]
    let refused: &[(&str, Option<&str>, &str)] = &[
        ("", None, "INVALID_URL"),
        ("not a url at all!!", Some("INSTAGRAM"), "INVALID_URL"),
        ("https://www.example.com/name", None, "UNSUPPORTED_PLATFORM"),
        ("https://youtu.be/dQw4w9WgXcQ", None, "NOT_A_PROFILE"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", None, "NOT_A_PROFILE"),
        ("@someone", None, "AMBIGUOUS_PLATFORM"),
        ("https://www.tiktok.com/@someone", Some("INSTAGRAM"), "PLATFORM_MISMATCH"),
    ];
    for (input, hint, code) in refused {
        let payload = add_account(&app, &profile, input, *hint).await;
        assert_eq!(payload["socialAccount"], Value::Null, "{input}");
        assert_eq!(
            payload["userErrors"][0]["code"], *code,
            "{input}: {payload:#}"
        );
        assert_eq!(payload["userErrors"][0]["field"], "handleOrUrl", "{input}");
    }
    let data = app
        .graphql_ok(
            "query($id: ID!) { creatorProfile(id: $id) { accounts { handle } } }",
            json!({ "id": profile }),
        )
        .await;
    assert_eq!(
        data["creatorProfile"]["accounts"]
            .as_array()
            .expect("accounts")
            .len(),
        accepted.len(),
        "refused input adds nothing"
    );
}

async fn an_account_held_by_another_profile_is_a_conflict_that_names_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let old = create_profile(&app, "Old Profile", "INDIVIDUAL").await;
    let new = create_profile(&app, "New Profile", "INDIVIDUAL").await;
    let account = add_ok(&app, &old, "https://www.instagram.com/Taken.Name/", None).await;

    // The same account typed another way is still the same account.
    let payload = add_account(&app, &new, "@taken.name", Some("INSTAGRAM")).await;
    assert_eq!(payload["socialAccount"], Value::Null);
    let error = &payload["userErrors"][0];
    assert_eq!(error["code"], "ACCOUNT_ALREADY_ASSOCIATED");
    let message = error["message"].as_str().expect("message");
    assert!(
        message.contains("already associated with another profile"),
        "{message}"
    );
    assert!(
        message.contains("Old Profile") && message.contains(&old),
        "{message}"
    );
    assert_eq!(
        payload["conflictingProfile"],
        json!({ "id": old, "name": "Old Profile" })
    );

    // Nothing changed: the new profile has no account, the old one still has it.
    let data = app
        .graphql_ok(
            "query($new: ID!) { creatorProfile(id: $new) { accounts { id } } }",
            json!({ "new": new }),
        )
        .await;
    assert_eq!(data["creatorProfile"]["accounts"], json!([]));

    // Adding it again to the profile that holds it changes nothing either.
    assert_eq!(
        add_ok(&app, &old, "instagram.com/taken.name", None).await,
        account
    );

    // Search by URL finds the account and so the profile holding it.
    let found = app
        .graphql_ok(
            "query($url: String!) { socialAccountByUrl(url: $url) { id handle profile { id name } } }",
            json!({ "url": "https://instagram.com/taken.name?igsh=xyz" }),
        )
        .await;
    assert_eq!(found["socialAccountByUrl"]["id"], account.as_str());
    assert_eq!(
        found["socialAccountByUrl"]["profile"]["name"],
        "Old Profile"
    );
    let missing = app
        .graphql_ok(
            "{ socialAccountByUrl(url: \"https://www.tiktok.com/@nobody\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(missing["socialAccountByUrl"], Value::Null);
    let garbage = app
        .graphql(
            "{ socialAccountByUrl(url: \"https://example.com/x\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        garbage["errors"][0]["extensions"]["code"],
        "UNSUPPORTED_PLATFORM"
    );

    // Once removed from the old profile, the account can be added to the new one.
    let removed = app
        .graphql_ok(
            "mutation($id: ID!) { removeSocialAccount(input: { accountId: $id }) { userErrors { code } } }",
            json!({ "id": account }),
        )
        .await;
    assert_eq!(removed["removeSocialAccount"]["userErrors"], json!([]));
    let payload = add_account(&app, &new, "@taken.name", Some("INSTAGRAM")).await;
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(
        payload["socialAccount"]["id"],
        account.as_str(),
        "the same account row comes back"
    );
    assert_eq!(payload["socialAccount"]["link"]["status"], "NOT_LINKED");
    assert_eq!(payload["socialAccount"]["profile"]["id"], new.as_str());
}

async fn removing_an_account_invalidates_its_link_erases_tokens_and_keeps_history(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let profile = create_profile(&app, "Remover", "INDIVIDUAL").await;
    let account = add_ok(&app, &profile, "https://www.tiktok.com/@gone", None).await;
    authenticate(
        &db,
        uuid_of(&account),
        Utc::now() - Duration::days(3),
        None,
        500,
    )
    .await;

    let removed = app
        .graphql_ok(
            "mutation($id: ID!) { removeSocialAccount(input: { accountId: $id }) { accountId status invalidReason userErrors { code } } }",
            json!({ "id": account }),
        )
        .await;
    assert_eq!(
        removed["removeSocialAccount"],
        json!({ "accountId": account, "status": "INVALID", "invalidReason": "REMOVED", "userErrors": [] })
    );
    let data = app
        .graphql_ok(
            "query($id: ID!, $p: ID!) {
                node(id: $id) { ... on SocialAccount { profile { id } link { status invalidReason }
                  events(first: 5) { edges { node { kind from to reason actor } } } } }
                creatorProfile(id: $p) { accounts { id } } }",
            json!({ "id": account, "p": profile }),
        )
        .await;
    assert_eq!(data["node"]["profile"], Value::Null, "detached");
    assert_eq!(
        data["node"]["link"],
        json!({ "status": "INVALID", "invalidReason": "REMOVED" })
    );
    let event = &data["node"]["events"]["edges"][0]["node"];
    assert_eq!(
        (
            &event["kind"],
            &event["from"],
            &event["to"],
            &event["reason"]
        ),
        (
            &json!("STATUS_CHANGED"),
            &json!("LINKED"),
            &json!("INVALID"),
            &json!("REMOVED")
        )
    );
    assert!(
        event["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("user:")),
        "the event names the authenticated user: {event}"
    );
    assert_eq!(data["creatorProfile"]["accounts"], json!([]));

    let stored = link::Entity::find()
        .filter(link::Column::AccountId.eq(uuid_of(&account)))
        .one(&db)
        .await
        .expect("query")
        .expect("link");
    assert_eq!(stored.access_token, None);
    assert_eq!(stored.refresh_token, None);

    let unknown = app
        .graphql_ok(
            "mutation { removeSocialAccount(input: { accountId: \"bm9wZQ\" }) { userErrors { code field } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        unknown["removeSocialAccount"]["userErrors"],
        json!([{ "code": "NOT_FOUND", "field": "accountId" }])
    );
}

const STATUS_QUERY: &str = "query($id: ID!) { creatorProfile(id: $id) {
    totalFollowers
    linkStatusCounts { notLinked linked expiringSoon expired invalid }
    accounts { handle link { status invalidReason daysUntilExpiry authenticatedAt expiresAt grantedScopes } }
    expiring: accounts(linkStatus: EXPIRING_SOON) { handle }
    tiktok: accounts(platform: TIKTOK) { handle } } }";

async fn derived_link_statuses_show_at_their_boundaries(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let profile = create_profile(&app, "Statuses", "INDIVIDUAL").await;
    let now = Utc::now();
    let linked = add_ok(&app, &profile, "@linked", Some("INSTAGRAM")).await;
    let soon = add_ok(&app, &profile, "@soon", Some("TIKTOK")).await;
    let expired = add_ok(&app, &profile, "@expired", Some("YOUTUBE")).await;
    let invalid = add_ok(&app, &profile, "@invalid", Some("FACEBOOK")).await;
    add_ok(&app, &profile, "@never", Some("TIKTOK")).await;
    // A fresh connect: 90 days from now. Just outside the 14-day window: LINKED.
    authenticate(&db, uuid_of(&linked), now, None, 100).await;
    // A minute inside the window: EXPIRING_SOON.
    authenticate(
        &db,
        uuid_of(&soon),
        now - Duration::days(80),
        Some(now + Duration::days(14) - Duration::minutes(1)),
        20,
    )
    .await;
    // 90 days after authenticating, without a stored expiry: EXPIRED.
    authenticate(&db, uuid_of(&expired), now - Duration::days(90), None, 3000).await;
    authenticate(&db, uuid_of(&invalid), now - Duration::days(1), None, 4000).await;
    invalidate(&db, uuid_of(&invalid), InvalidReason::PasswordChanged).await;

    let data = app.graphql_ok(STATUS_QUERY, json!({ "id": profile })).await;
    let p = &data["creatorProfile"];
    let statuses: Vec<(&str, &str)> = p["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["handle"].as_str().expect("h"),
                a["link"]["status"].as_str().expect("s"),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("linked", "LINKED"),
            ("soon", "EXPIRING_SOON"),
            ("expired", "EXPIRED"),
            ("invalid", "INVALID"),
            ("never", "NOT_LINKED")
        ]
    );
    assert_eq!(
        p["totalFollowers"], 120,
        "only LINKED and EXPIRING_SOON accounts count"
    );
    assert_eq!(
        p["linkStatusCounts"],
        json!({ "notLinked": 1, "linked": 1, "expiringSoon": 1, "expired": 1, "invalid": 1 })
    );
    assert_eq!(p["expiring"], json!([{ "handle": "soon" }]));
    assert_eq!(
        p["tiktok"],
        json!([{ "handle": "soon" }, { "handle": "never" }])
    );
    let accounts = p["accounts"].as_array().expect("accounts");
    assert_eq!(accounts[0]["link"]["daysUntilExpiry"], 89);
    assert_eq!(
        accounts[0]["link"]["grantedScopes"],
        json!(["instagram_basic", "pages_show_list"])
    );
    assert!(
        accounts[0]["link"]["expiresAt"].is_string(),
        "90 days after authenticatedAt"
    );
    assert_eq!(accounts[1]["link"]["daysUntilExpiry"], 13);
    assert_eq!(accounts[2]["link"]["daysUntilExpiry"], 0);
    assert_eq!(accounts[3]["link"]["invalidReason"], "PASSWORD_CHANGED");
    assert_eq!(accounts[3]["link"]["daysUntilExpiry"], Value::Null);
    assert_eq!(accounts[4]["link"]["authenticatedAt"], Value::Null);

    // Reconnecting starts a fresh 90 days: LINKED again.
    authenticate(&db, uuid_of(&expired), Utc::now(), None, 3000).await;
    let data = app.graphql_ok(STATUS_QUERY, json!({ "id": profile })).await;
    assert_eq!(
        data["creatorProfile"]["accounts"][2]["link"]["status"],
        "LINKED"
    );
    assert_eq!(data["creatorProfile"]["totalFollowers"], 3120);

    // The status filter of the profile list agrees with the derived status.
    for (status, expected) in [
        ("EXPIRING_SOON", 1),
        ("EXPIRED", 0),
        ("INVALID", 1),
        ("NOT_LINKED", 1),
        ("LINKED", 1),
    ] {
        let data = app
            .graphql_ok(
                "query($s: LinkStatus) { creatorProfiles(filter: { linkStatus: $s }) { totalCount } }",
                json!({ "s": status }),
            )
            .await;
        assert_eq!(data["creatorProfiles"]["totalCount"], expected, "{status}");
    }
}

async fn the_expiring_window_is_configurable(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.links.expiring_window_days = 30).await else {
        return;
    };
    let db = app.db.connect().await;
    let profile = create_profile(&app, "Window", "INDIVIDUAL").await;
    let account = add_ok(&app, &profile, "@windowed", Some("INSTAGRAM")).await;
    let now = Utc::now();
    authenticate(
        &db,
        uuid_of(&account),
        now - Duration::days(70),
        Some(now + Duration::days(20)),
        1,
    )
    .await;
    let data = app.graphql_ok(STATUS_QUERY, json!({ "id": profile })).await;
    assert_eq!(
        data["creatorProfile"]["accounts"][0]["link"]["status"],
        "EXPIRING_SOON"
    );
    let data = app
        .graphql_ok(
            "{ creatorProfiles(filter: { linkStatus: EXPIRING_SOON, platform: INSTAGRAM }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["creatorProfiles"]["totalCount"], 1);
}

async fn metrics_media_stories_audience_and_events_are_served(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org.uuid();
    let profile = create_profile(&app, "Data", "INDIVIDUAL").await;
    let ig = add_ok(&app, &profile, "@datagram", Some("INSTAGRAM")).await;
    let yt = add_ok(&app, &profile, "@smalltube", Some("YOUTUBE")).await;
    let (ig_id, yt_id) = (uuid_of(&ig), uuid_of(&yt));
    insert_metrics(&db, org, ig_id, 90).await;
    for (i, code) in ["P1", "P2", "P3"].iter().enumerate() {
        insert_media(&db, org, ig_id, MediaKind::Post, code, 48 + i as i64 * 24).await;
    }
    insert_media(&db, org, ig_id, MediaKind::Reel, "R1", 30).await;
    insert_media(&db, org, ig_id, MediaKind::Story, "S-live", 2).await;
    insert_media(&db, org, ig_id, MediaKind::Story, "S-old", 40).await;
    insert_audience(&db, org, ig_id, None).await;
    insert_audience(
        &db,
        org,
        yt_id,
        Some("the channel has under 1,000 subscribers"),
    )
    .await;

    let today = Utc::now().date_naive();
    let data = app
        .graphql_ok(
            "query($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on SocialAccount {
                latestMetrics { day followers }
                metrics(from: $from, to: $to) { day followers views }
                posts: media(kind: POST, first: 2) { edges { cursor node { platformMediaId kind metrics { likes replies } } } pageInfo { hasNextPage endCursor } }
                all: media(first: 10) { edges { node { platformMediaId } } }
                stories { platformMediaId expired expiresAt }
                audience { unavailableReason age { key share } gender { key share } country { key } } } } }",
            json!({ "id": ig, "from": (today - Duration::days(6)).to_string(), "to": today.to_string() }),
        )
        .await;
    let a = &data["node"];
    assert_eq!(
        a["latestMetrics"],
        json!({ "day": today.to_string(), "followers": 1089 })
    );
    let metrics = a["metrics"].as_array().expect("metrics");
    assert_eq!(metrics.len(), 7, "both ends of the range are included");
    assert_eq!(metrics[0]["day"], (today - Duration::days(6)).to_string());
    let posts = &a["posts"];
    let codes: Vec<&str> = posts["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["platformMediaId"].as_str().expect("id"))
        .collect();
    assert_eq!(codes, ["P1", "P2"], "newest first, posts only");
    assert_eq!(
        posts["edges"][0]["node"]["metrics"],
        json!({ "likes": 25, "replies": 1 }),
        "the newest capture"
    );
    assert_eq!(posts["pageInfo"]["hasNextPage"], true);
    let all: Vec<&str> = a["all"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["platformMediaId"].as_str().expect("id"))
        .collect();
    assert_eq!(all, ["S-live", "R1", "S-old", "P1", "P2", "P3"]);
    assert_eq!(
        a["stories"]
            .as_array()
            .expect("stories")
            .iter()
            .map(|s| (
                s["platformMediaId"].as_str().expect("id"),
                s["expired"].as_bool().expect("b")
            ))
            .collect::<Vec<_>>(),
        [("S-live", false), ("S-old", true)],
        "expired stories stay captured"
    );
    assert_eq!(a["audience"]["unavailableReason"], Value::Null);
    assert_eq!(
        a["audience"]["age"][0],
        json!({ "key": "25-34", "share": 0.6 })
    );
    assert_eq!(
        a["audience"]["country"],
        json!([{ "key": "US" }, { "key": "DE" }, { "key": "GB" }])
    );

    let next = app
        .graphql_ok(
            "query($id: ID!, $after: String) { node(id: $id) { ... on SocialAccount { media(kind: POST, first: 2, after: $after) { edges { node { platformMediaId } } pageInfo { hasNextPage hasPreviousPage } } } } }",
            json!({ "id": ig, "after": posts["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        next["node"]["media"]["edges"],
        json!([{ "node": { "platformMediaId": "P3" } }])
    );
    assert_eq!(
        next["node"]["media"]["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": true })
    );

    let yt_data = app
        .graphql_ok(
            "query($id: ID!) { node(id: $id) { ... on SocialAccount { latestMetrics { day } audience { unavailableReason age { key } } events(first: 5) { edges { node { kind } } } } } }",
            json!({ "id": yt }),
        )
        .await;
    assert_eq!(yt_data["node"]["latestMetrics"], Value::Null);
    assert_eq!(
        yt_data["node"]["audience"],
        json!({ "unavailableReason": "the channel has under 1,000 subscribers", "age": [] })
    );
    assert_eq!(yt_data["node"]["events"]["edges"], json!([]));

    let too_long = app
        .graphql(
            "query($id: ID!) { node(id: $id) { ... on SocialAccount { metrics(from: \"2020-01-01\", to: \"2025-01-01\") { day } } } }",
            json!({ "id": ig }),
        )
        .await;
    assert_eq!(
        too_long["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

/// The number of SQL statements the server logged for the request with this id.
fn statements_of(request_id: &str) -> u64 {
    let contents = logs().contents();
    let line = contents
        .lines()
        .find(|l| l.contains(request_id) && l.contains("graphql request"))
        .unwrap_or_else(|| panic!("no log line for request {request_id}"));
    let json: Value = serde_json::from_str(line).expect("a JSON log line");
    json["sql_statements"]
        .as_u64()
        .unwrap_or_else(|| panic!("no statement count in {line}"))
}

const PAGE_QUERY: &str = "query($n: Int) { creatorProfiles(first: $n) { totalCount edges { node {
    id name totalFollowers linkStatusCounts { linked }
    accounts { id handle followers link { status expiresAt daysUntilExpiry } latestMetrics { day followers } } } } } }";

/// The same page with each account's first media (and their newest metrics) and events.
const PAGE_WITH_MEDIA_QUERY: &str = "query($n: Int) { creatorProfiles(first: $n) { edges { node {
    accounts { id handle
      media(first: 3) { edges { node { platformMediaId metrics { likes } } } pageInfo { hasNextPage } }
      older: media(kind: POST, last: 1) { edges { node { platformMediaId } } pageInfo { hasPreviousPage } }
      events(first: 3) { edges { node { id } } pageInfo { hasNextPage } } } } } } }";

/// Runs `query` with `$n` and returns its body and how many SQL statements it cost.
async fn counted(app: &tests::TestApp, query: &str, n: usize) -> (Value, u64) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": { "n": n } }))
        .send()
        .await
        .expect("request");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    let body: Value = response.json().await.expect("json");
    assert!(body.get("errors").is_none(), "{body:#}");
    (body, statements_of(&request_id))
}

async fn a_page_of_profiles_costs_the_same_few_statements_at_any_size(backend: Backend) {
    // 50 profiles × accounts × three connections is past the default complexity limit.
    let Some(app) = spawn_app_with(backend, |c| c.graphql.max_complexity = 100_000).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org.uuid();
    for i in 0..50 {
        let profile = create_profile(&app, &format!("Creator {i:02}"), "INDIVIDUAL").await;
        let ig = add_ok(&app, &profile, &format!("@creator{i}"), Some("INSTAGRAM")).await;
        add_ok(&app, &profile, &format!("@creator{i}"), Some("TIKTOK")).await;
        authenticate(&db, uuid_of(&ig), Utc::now(), None, 10).await;
        insert_metrics(&db, org, uuid_of(&ig), 2).await;
        for (h, code) in [(1, "A"), (2, "B"), (3, "C"), (4, "D")] {
            let code = format!("{code}{i:02}");
            insert_media(&db, org, uuid_of(&ig), MediaKind::Post, &code, h).await;
        }
    }
    let mut counts = Vec::new();
    for n in [5, 50] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": PAGE_QUERY, "variables": { "n": n } }))
            .send()
            .await
            .expect("request");
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .expect("id")
            .to_owned();
        let body: Value = response.json().await.expect("json");
        assert!(body.get("errors").is_none(), "{body:#}");
        let edges = body["data"]["creatorProfiles"]["edges"]
            .as_array()
            .expect("edges");
        assert_eq!(edges.len(), n);
        assert_eq!(
            edges[0]["node"]["accounts"]
                .as_array()
                .expect("accounts")
                .len(),
            2
        );
        assert_eq!(
            edges[0]["node"]["accounts"][0]["latestMetrics"]["followers"],
            1001
        );
        counts.push(statements_of(&request_id));
    }
    assert_eq!(
        counts[0], counts[1],
        "statements do not grow with the page size: {counts:?}"
    );
    assert!(
        counts[0] <= 6,
        "a handful of statements, not one per row: {counts:?}"
    );
    assert!(
        counts[0] >= 4,
        "the counter sees the page, the count, accounts and metrics: {counts:?}"
    );

    // Media and events of every account: batched too, so still constant. A DataLoader batch
    // closes 1 ms after its first key; on a loaded machine a batch can split in two, which adds
    // a statement or two but never one per account, so the fewest of three runs is compared.
    let mut with_media = Vec::new();
    for n in [5, 50] {
        let mut fewest = u64::MAX;
        for _ in 0..2 {
            fewest = fewest.min(counted(&app, PAGE_WITH_MEDIA_QUERY, n).await.1);
        }
        let (body, count) = counted(&app, PAGE_WITH_MEDIA_QUERY, n).await;
        let count = count.min(fewest);
        let edges = body["data"]["creatorProfiles"]["edges"]
            .as_array()
            .expect("edges");
        assert_eq!(edges.len(), n);
        for (i, edge) in edges.iter().enumerate() {
            let ig = &edge["node"]["accounts"][0];
            let media: Vec<&str> = ig["media"]["edges"]
                .as_array()
                .expect("media")
                .iter()
                .map(|e| e["node"]["platformMediaId"].as_str().expect("id"))
                .collect();
            let suffix = format!("{i:02}");
            assert_eq!(
                media,
                [
                    format!("A{suffix}"),
                    format!("B{suffix}"),
                    format!("C{suffix}")
                ],
                "each account its own newest three: {ig}"
            );
            assert_eq!(ig["media"]["pageInfo"]["hasNextPage"], true);
            assert_eq!(ig["media"]["edges"][0]["node"]["metrics"]["likes"], 25);
            assert_eq!(
                ig["older"]["edges"][0]["node"]["platformMediaId"],
                format!("D{suffix}"),
                "last: 1 is the oldest: {ig}"
            );
            assert_eq!(ig["older"]["pageInfo"]["hasPreviousPage"], true);
            let tiktok = &edge["node"]["accounts"][1];
            assert_eq!(tiktok["media"]["edges"], json!([]), "no media: empty page");
            assert_eq!(tiktok["media"]["pageInfo"]["hasNextPage"], false);
        }
        with_media.push(count);
    }
    // Per account would be 45 more for 50 profiles than for 5; a split batch is one or two.
    assert!(
        with_media[1] <= with_media[0] + 2,
        "media and events do not add statements per account: {with_media:?}"
    );
    assert!(
        with_media[0] <= 8,
        "one statement per edge, not per account: {with_media:?}"
    );
}

/// Stops the sandbox clock (and so the application's) on `at`.
async fn freeze_clock(app: &tests::TestApp, at: chrono::DateTime<Utc>) {
    let response = app
        .client
        .post(app.url("/sandbox/control/clock"))
        .json(&json!({ "freeze_at": at.to_rfc3339() }))
        .send()
        .await
        .expect("clock");
    assert_eq!(response.status(), 200);
}

/// The status of a connected account flips on the exact instants design §4 names: exactly 14
/// days before expiry it is EXPIRING_SOON (a second earlier LINKED), and exactly 90 days after
/// authenticating it is EXPIRED (a second earlier still EXPIRING_SOON). The sandbox clock is
/// frozen on each instant, so no margin is needed.
async fn connected_statuses_flip_on_the_exact_instants(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = crate::connect::new_profile(&app, &db, "Exact").await;
    // Whole seconds, so the instant survives every timestamp format on the way.
    let t0 = chrono::DateTime::from_timestamp((Utc::now() + Duration::hours(1)).timestamp(), 0)
        .expect("instant");
    freeze_clock(&app, t0).await;
    let (status, body) = crate::connect::connect(&app, &profile, "TIKTOK", "tiktok_leo").await;
    assert_eq!(status, 200, "{body}");
    let read = || async {
        let data = app
            .graphql_ok(
                "query($id: ID!) { creatorProfile(id: $id) { accounts { link { status daysUntilExpiry authenticatedAt expiresAt } } } }",
                json!({ "id": profile }),
            )
            .await;
        data["creatorProfile"]["accounts"][0]["link"].clone()
    };
    let link = read().await;
    assert_eq!(link["status"], "LINKED", "{link}");
    let authenticated: chrono::DateTime<Utc> =
        serde_json::from_value(link["authenticatedAt"].clone()).expect("authenticatedAt");
    let expires: chrono::DateTime<Utc> =
        serde_json::from_value(link["expiresAt"].clone()).expect("expiresAt");
    assert_eq!(authenticated, t0, "authenticated on the frozen instant");
    assert_eq!(expires, t0 + Duration::days(90));

    let window_edge = expires - Duration::days(14);
    for (at, status, days) in [
        (window_edge - Duration::seconds(1), "LINKED", 14),
        (window_edge, "EXPIRING_SOON", 14),
        (expires - Duration::seconds(1), "EXPIRING_SOON", 0),
        (expires, "EXPIRED", 0),
    ] {
        freeze_clock(&app, at).await;
        let link = read().await;
        assert_eq!(link["status"], status, "at {at}: {link}");
        assert_eq!(link["daysUntilExpiry"], days, "at {at}: {link}");
    }
}

on_both_backends!(
    every_usual_url_form_adds_the_canonical_account,
    an_account_held_by_another_profile_is_a_conflict_that_names_it,
    removing_an_account_invalidates_its_link_erases_tokens_and_keeps_history,
    derived_link_statuses_show_at_their_boundaries,
    the_expiring_window_is_configurable,
    connected_statuses_flip_on_the_exact_instants,
    metrics_media_stories_audience_and_events_are_served,
    a_page_of_profiles_costs_the_same_few_statements_at_any_size,
);

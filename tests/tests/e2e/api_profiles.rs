//! Creator profiles through GraphQL: create/update/delete, ordering and paging both ways,
//! filters, group members, merging, node lookups and the error contract.

use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app, spawn_app_with, Backend};

use crate::api_support::*;

const LIST: &str = "query($order: CreatorProfileOrder, $filter: CreatorProfileFilter, $first: Int, $after: String, $last: Int, $before: String) {
    creatorProfiles(orderBy: $order, filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

async fn profiles_are_created_updated_and_deleted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let blank = app
        .graphql_ok(
            "mutation { createCreatorProfile(input: { name: \"  \" }) { creatorProfile { id } userErrors { code field message } } }",
            json!({}),
        )
        .await;
    assert_eq!(blank["createCreatorProfile"]["creatorProfile"], Value::Null);
    assert_eq!(
        blank["createCreatorProfile"]["userErrors"][0]["code"],
        "BLANK"
    );
    assert_eq!(
        blank["createCreatorProfile"]["userErrors"][0]["field"],
        "name"
    );

    let id = create_profile(&app, "Ana", "INDIVIDUAL").await;
    let updated = app
        .graphql_ok(
            "mutation($id: ID!) { updateCreatorProfile(input: { id: $id, name: \"Ana Lima\", email: \"ana@example.com\", notes: \"met at VidCon\" }) {
                creatorProfile { name email notes kind } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        updated["updateCreatorProfile"]["creatorProfile"],
        json!({ "name": "Ana Lima", "email": "ana@example.com", "notes": "met at VidCon", "kind": "INDIVIDUAL" })
    );
    let cleared = app
        .graphql_ok(
            "mutation($id: ID!) { updateCreatorProfile(input: { id: $id, email: null }) { creatorProfile { name email notes } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        cleared["updateCreatorProfile"]["creatorProfile"],
        json!({ "name": "Ana Lima", "email": null, "notes": "met at VidCon" })
    );
    let bad_email = app
        .graphql_ok(
            "mutation($id: ID!) { updateCreatorProfile(input: { id: $id, email: \"nope\" }) { userErrors { code field } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        bad_email["updateCreatorProfile"]["userErrors"],
        json!([{ "code": "INVALID_EMAIL", "field": "email" }])
    );

    let account = add_ok(&app, &id, "@ana.lima", Some("INSTAGRAM")).await;
    let deleted = app
        .graphql_ok(
            "mutation($id: ID!) { deleteCreatorProfile(input: { id: $id }) { deletedCreatorProfileId userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        deleted["deleteCreatorProfile"]["deletedCreatorProfileId"],
        id.as_str()
    );
    let gone = app
        .graphql_ok(
            "query($id: ID!, $acc: ID!) { creatorProfile(id: $id) { id } node(id: $acc) { ... on SocialAccount { profile { id } link { status invalidReason } } } }",
            json!({ "id": id, "acc": account }),
        )
        .await;
    assert_eq!(gone["creatorProfile"], Value::Null);
    assert_eq!(
        gone["node"],
        json!({ "profile": null, "link": { "status": "INVALID", "invalidReason": "REMOVED" } }),
        "the deleted profile's accounts were removed, not left linked"
    );
    let again = app
        .graphql_ok(
            "mutation($id: ID!) { deleteCreatorProfile(input: { id: $id }) { userErrors { code field } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        again["deleteCreatorProfile"]["userErrors"],
        json!([{ "code": "NOT_FOUND", "field": "id" }])
    );
}

async fn profiles_page_forwards_and_backwards_in_any_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let all = ["Dee", "Ana", "Cy", "Bo", "Eve"];
    for name in all {
        create_profile(&app, name, "INDIVIDUAL").await;
    }
    let by_name = json!({ "field": "NAME", "direction": "ASC" });
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .graphql_ok(
                LIST,
                json!({ "order": by_name, "first": 2, "after": after }),
            )
            .await;
        let c = &data["creatorProfiles"];
        assert_eq!(c["totalCount"], 5);
        seen.extend(names(c));
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["Ana", "Bo", "Cy", "Dee", "Eve"]);

    // Backwards from the end, by name descending.
    let desc = json!({ "field": "NAME", "direction": "DESC" });
    let data = app
        .graphql_ok(LIST, json!({ "order": desc, "last": 2 }))
        .await;
    assert_eq!(names(&data["creatorProfiles"]), ["Bo", "Ana"]);
    assert_eq!(data["creatorProfiles"]["pageInfo"]["hasPreviousPage"], true);
    let before = data["creatorProfiles"]["pageInfo"]["startCursor"].clone();
    let data = app
        .graphql_ok(LIST, json!({ "order": desc, "last": 2, "before": before }))
        .await;
    assert_eq!(names(&data["creatorProfiles"]), ["Dee", "Cy"]);
    assert_eq!(data["creatorProfiles"]["pageInfo"]["hasNextPage"], true);
    let before = data["creatorProfiles"]["pageInfo"]["startCursor"].clone();
    let data = app
        .graphql_ok(LIST, json!({ "order": desc, "last": 2, "before": before }))
        .await;
    assert_eq!(names(&data["creatorProfiles"]), ["Eve"]);
    assert_eq!(
        data["creatorProfiles"]["pageInfo"]["hasPreviousPage"],
        false
    );

    // Creation order, newest first.
    let data = app
        .graphql_ok(
            LIST,
            json!({ "order": { "field": "CREATED_AT", "direction": "DESC" }, "first": 3 }),
        )
        .await;
    assert_eq!(names(&data["creatorProfiles"]), ["Eve", "Bo", "Cy"]);

    // A cursor of one order is refused in another, as is a page over the maximum.
    let cursor = data["creatorProfiles"]["pageInfo"]["endCursor"].clone();
    let mixed = app
        .graphql(
            LIST,
            json!({ "order": by_name, "first": 2, "after": cursor }),
        )
        .await;
    assert_eq!(mixed["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let huge = app.graphql(LIST, json!({ "first": 101 })).await;
    assert_eq!(huge["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

async fn profiles_are_filtered_by_search_platform_status_and_kind(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ana = create_profile(&app, "Ana Lima", "INDIVIDUAL").await;
    let bo = create_profile(&app, "Bo Chen", "INDIVIDUAL").await;
    create_profile(&app, "The Lima Band", "GROUP").await;
    add_ok(&app, &ana, "@ana_makes", Some("INSTAGRAM")).await;
    add_ok(&app, &bo, "https://www.tiktok.com/@bo_dances", None).await;
    let count = |filter: Value| {
        let app = &app;
        async move {
            let data = app.graphql_ok(LIST, json!({ "filter": filter })).await;
            names(&data["creatorProfiles"])
        }
    };
    assert_eq!(
        count(json!({ "search": "lima" })).await,
        ["Ana Lima", "The Lima Band"]
    );
    assert_eq!(
        count(json!({ "search": "DANCES" })).await,
        ["Bo Chen"],
        "account handles are searched"
    );
    assert_eq!(
        count(json!({ "search": "100%_" })).await,
        Vec::<String>::new(),
        "wildcards are literal"
    );
    assert_eq!(count(json!({ "platform": "TIKTOK" })).await, ["Bo Chen"]);
    assert_eq!(count(json!({ "kind": "GROUP" })).await, ["The Lima Band"]);
    assert_eq!(
        count(json!({ "platform": "INSTAGRAM", "linkStatus": "NOT_LINKED" })).await,
        ["Ana Lima"]
    );
    assert_eq!(
        count(json!({ "linkStatus": "LINKED" })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        count(json!({ "search": "lima", "kind": "INDIVIDUAL" })).await,
        ["Ana Lima"]
    );
}

async fn group_members_are_added_listed_and_removed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let band = create_profile(&app, "The Band", "GROUP").await;
    let ana = create_profile(&app, "Ana", "INDIVIDUAL").await;
    let bo = create_profile(&app, "Bo", "INDIVIDUAL").await;
    let add = "mutation($g: ID!, $m: ID!) { addGroupMember(input: { groupId: $g, memberId: $m }) { group { name } member { name } userErrors { code field } } }";
    let remove = "mutation($g: ID!, $m: ID!) { removeGroupMember(input: { groupId: $g, memberId: $m }) { group { name } userErrors { code field } } }";
    for m in [&bo, &ana, &ana] {
        let data = app.graphql_ok(add, json!({ "g": band, "m": m })).await;
        assert_eq!(data["addGroupMember"]["userErrors"], json!([]));
    }
    let data = app
        .graphql_ok(
            "query($g: ID!, $m: ID!) { g: creatorProfile(id: $g) { members { name } groups { name } } m: creatorProfile(id: $m) { groups { name } members { name } } }",
            json!({ "g": band, "m": ana }),
        )
        .await;
    assert_eq!(
        data["g"],
        json!({ "members": [{ "name": "Ana" }, { "name": "Bo" }], "groups": [] })
    );
    assert_eq!(
        data["m"],
        json!({ "groups": [{ "name": "The Band" }], "members": [] })
    );

    let not_group = app.graphql_ok(add, json!({ "g": ana, "m": bo })).await;
    assert_eq!(
        not_group["addGroupMember"]["userErrors"],
        json!([{ "code": "NOT_A_GROUP", "field": "groupId" }])
    );
    let group_in_group = app.graphql_ok(add, json!({ "g": band, "m": band })).await;
    assert_eq!(
        group_in_group["addGroupMember"]["userErrors"][0]["code"],
        "MEMBER_NOT_INDIVIDUAL"
    );

    let data = app.graphql_ok(remove, json!({ "g": band, "m": ana })).await;
    assert_eq!(data["removeGroupMember"]["userErrors"], json!([]));
    let data = app.graphql_ok(remove, json!({ "g": band, "m": ana })).await;
    assert_eq!(
        data["removeGroupMember"]["userErrors"][0]["code"],
        "NOT_A_MEMBER"
    );
    let data = app
        .graphql_ok(
            "query($g: ID!) { creatorProfile(id: $g) { members { name } } }",
            json!({ "g": band }),
        )
        .await;
    assert_eq!(data["creatorProfile"]["members"], json!([{ "name": "Bo" }]));
}

async fn merging_moves_accounts_memberships_and_history_and_collapses_duplicates(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let band = create_profile(&app, "Band", "GROUP").await;
    let old = create_profile(&app, "Ana (old)", "INDIVIDUAL").await;
    let new = create_profile(&app, "Ana", "INDIVIDUAL").await;
    app.graphql_ok(
        "mutation($g: ID!, $m: ID!) { addGroupMember(input: { groupId: $g, memberId: $m }) { userErrors { code } } }",
        json!({ "g": band, "m": old }),
    )
    .await;
    let tiktok = add_ok(&app, &old, "@ana_tt", Some("TIKTOK")).await;
    // The same Facebook Page twice: added by its id on one profile, connected by name on the
    // other (the connect learned its id).
    let by_id = add_ok(&app, &old, "facebook.com/profile.php?id=100012345", None).await;
    let connected = add_ok(&app, &new, "facebook.com/ana.page", None).await;
    authenticate(&db, uuid_of(&connected), chrono::Utc::now(), None, 700).await;
    {
        use domain::entities::social_account as sa;
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
        sa::Entity::update_many()
            .col_expr(sa::Column::PlatformUserId, Expr::value("100012345"))
            .filter(sa::Column::Id.eq(uuid_of(&connected)))
            .exec(&db)
            .await
            .expect("platform user id");
    }
    // Some history on the old profile's account.
    app.graphql_ok(
        "mutation($id: ID!) { removeSocialAccount(input: { accountId: $id }) { userErrors { code } } }",
        json!({ "id": by_id }),
    )
    .await;
    add_ok(&app, &old, "facebook.com/profile.php?id=100012345", None).await;

    let kinds = app
        .graphql_ok(
            "mutation($s: ID!, $t: ID!) { mergeCreatorProfiles(input: { sourceId: $s, targetId: $t }) { userErrors { code } } }",
            json!({ "s": band, "t": new }),
        )
        .await;
    assert_eq!(
        kinds["mergeCreatorProfiles"]["userErrors"],
        json!([{ "code": "PROFILE_KINDS_DIFFER" }])
    );
    let same = app
        .graphql_ok(
            "mutation($s: ID!) { mergeCreatorProfiles(input: { sourceId: $s, targetId: $s }) { userErrors { code } } }",
            json!({ "s": new }),
        )
        .await;
    assert_eq!(
        same["mergeCreatorProfiles"]["userErrors"],
        json!([{ "code": "SAME_PROFILE" }])
    );

    let merged = app
        .graphql_ok(
            "mutation($s: ID!, $t: ID!) { mergeCreatorProfiles(input: { sourceId: $s, targetId: $t }) {
                deletedCreatorProfileId
                creatorProfile { id groups { name } totalFollowers
                  accounts { id platform handle platformUserId link { status } events(first: 10) { edges { node { to } } } } }
                userErrors { code } } }",
            json!({ "s": old, "t": new }),
        )
        .await;
    let m = &merged["mergeCreatorProfiles"];
    assert_eq!(m["userErrors"], json!([]));
    assert_eq!(m["deletedCreatorProfileId"], old.as_str());
    let profile = &m["creatorProfile"];
    assert_eq!(
        profile["groups"],
        json!([{ "name": "Band" }]),
        "memberships move"
    );
    let accounts = profile["accounts"].as_array().expect("accounts");
    assert_eq!(
        accounts.len(),
        2,
        "the Facebook Page collapsed into one: {profile:#}"
    );
    let facebook = accounts
        .iter()
        .find(|a| a["platform"] == "FACEBOOK")
        .expect("facebook");
    assert_eq!(
        facebook["id"],
        connected.as_str(),
        "the linked row survives"
    );
    assert_eq!(facebook["link"]["status"], "LINKED");
    assert_eq!(
        facebook["events"]["edges"]
            .as_array()
            .expect("events")
            .len(),
        2,
        "the dropped row's history moved to the survivor: {facebook:#}"
    );
    assert!(accounts.iter().any(|a| a["id"] == tiktok.as_str()));
    assert_eq!(profile["totalFollowers"], 700);
    let gone = app
        .graphql_ok(
            "query($id: ID!) { creatorProfile(id: $id) { id } }",
            json!({ "id": old }),
        )
        .await;
    assert_eq!(gone["creatorProfile"], Value::Null);
}

async fn viewer_node_and_nodes_find_objects_by_global_id(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ana = create_profile(&app, "Ana", "INDIVIDUAL").await;
    let account = add_ok(&app, &ana, "@ana", Some("YOUTUBE")).await;
    let data = app
        .graphql_ok(
            "query($ids: [ID!]!) { viewer { actor organization { id name } }
                nodes(ids: $ids) { __typename id ... on CreatorProfile { name } ... on SocialAccount { handle } } }",
            json!({ "ids": [ana, account, "garbage", "Q3JlYXRvclByb2ZpbGU6MDE5MzAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw"] }),
        )
        .await;
    let db = app.db.connect().await;
    let org = domain::organizations::get(&db, app.org).await.expect("org");
    assert_eq!(data["viewer"]["organization"]["name"], org.name.as_str());
    assert!(
        data["viewer"]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("user:")),
        "{data}"
    );
    assert_eq!(data["nodes"][0]["name"], "Ana");
    assert_eq!(data["nodes"][1]["handle"], "ana");
    assert_eq!(data["nodes"][2], Value::Null);
    assert_eq!(data["nodes"][3], Value::Null);
    let org = data["viewer"]["organization"]["id"].clone();
    let node = app
        .graphql_ok(
            "query($id: ID!) { node(id: $id) { __typename id } }",
            json!({ "id": org }),
        )
        .await;
    assert_eq!(node["node"]["__typename"], "Organization");
}

async fn bad_requests_are_graphql_errors_never_500(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.graphql.max_depth = 5;
        c.graphql.introspection = false;
    })
    .await
    else {
        return;
    };
    let post = |body: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    for body in [
        json!({ "query": "{ creatorProfiles(first: 1) { edges { node { nme } } } }" }),
        json!({ "query": "{ creatorProfiles(first: " }),
        json!({ "query": "query($n: Int) { creatorProfiles(first: $n) { totalCount } }", "variables": { "n": "ten" } }),
        json!({ "query": "{ creatorProfiles(first: 1) { edges { node { accounts { profile { accounts { id } } } } } } }" }),
    ] {
        let response = post(body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let json: Value = response.json().await.expect("json");
        assert!(json["errors"][0]["message"].is_string(), "{body}: {json}");
    }
    let introspection = post(json!({ "query": "{ __schema { types { name } } }" })).await;
    assert!(introspection.status().is_client_error() || introspection.status().is_success());
    let json: Value = introspection.json().await.expect("json");
    assert_eq!(
        json["data"]["__schema"],
        Value::Null,
        "introspection is off: {json}"
    );
}

on_both_backends!(
    profiles_are_created_updated_and_deleted,
    profiles_page_forwards_and_backwards_in_any_order,
    profiles_are_filtered_by_search_platform_status_and_kind,
    group_members_are_added_listed_and_removed,
    merging_moves_accounts_memberships_and_history_and_collapses_duplicates,
    viewer_node_and_nodes_find_objects_by_global_id,
    bad_requests_are_graphql_errors_never_500,
);

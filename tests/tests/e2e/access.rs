//! Access control through HTTP: every operation of the schema against every kind of caller, API
//! key lifecycle, creators limited to their profiles, and subscriptions that authenticate.

use api::graphql::access::{self, CreatorAccess, KeyAccess, Rule, Staff};
use domain::access::{Role, Scope};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use tests::live::WsClient;
use tests::{on_both_backends, sign_claims, spawn_app_with, Backend, Credential, TestApp};
use uuid::Uuid;

const INTROSPECTION: &str = r#"
{ __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { kind name
      fields { name description type { ...T } args { name defaultValue type { ...T } } }
      inputFields { name defaultValue type { ...T } }
      enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"#;

/// One root field of the schema and a request that calls it.
struct Operation {
    /// `Query.creatorProfiles`.
    qualified: String,
    document: String,
    variables: Value,
}

fn type_ref(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or_default().to_owned(),
    }
}

fn named(t: &Value) -> &Value {
    if t["ofType"].is_null() {
        t
    } else {
        named(&t["ofType"])
    }
}

fn type_def<'a>(types: &'a [Value], name: &str) -> &'a Value {
    types
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("type {name} in the schema"))
}

/// A value of type `t`: ids point at `id` (a profile of the test organization), strings are
/// harmless words (never a URL, so no webhook ever leaves the machine).
fn sample(types: &[Value], t: &Value, id: &str) -> Value {
    match t["kind"].as_str() {
        Some("NON_NULL") => sample(types, &t["ofType"], id),
        Some("LIST") => json!([sample(types, &t["ofType"], id)]),
        Some("ENUM") => {
            type_def(types, t["name"].as_str().unwrap_or_default())["enumValues"][0]["name"].clone()
        }
        Some("INPUT_OBJECT") => {
            let def = type_def(types, t["name"].as_str().unwrap_or_default());
            let mut object = Map::new();
            for f in def["inputFields"].as_array().into_iter().flatten() {
                let required = f["type"]["kind"] == "NON_NULL" && f["defaultValue"].is_null();
                if required || named(&f["type"])["name"] == "ID" {
                    object.insert(
                        f["name"].as_str().unwrap_or_default().to_owned(),
                        sample(types, &f["type"], id),
                    );
                }
            }
            Value::Object(object)
        }
        _ => match t["name"].as_str().unwrap_or_default() {
            "ID" => json!(id),
            "Int" => json!(1),
            "Float" => json!(1.0),
            "Boolean" => json!(false),
            "DateTime" => json!((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()),
            _ => json!("matrix"),
        },
    }
}

/// Every query, mutation and subscription field of the running schema, each with a request.
async fn operations(app: &TestApp, id: &str) -> Vec<Operation> {
    let schema = app.graphql_ok(INTROSPECTION, json!({})).await;
    let schema = &schema["__schema"];
    let types = schema["types"].as_array().expect("types").clone();
    let mut ops = Vec::new();
    for (keyword, root) in [
        ("query", &schema["queryType"]),
        ("mutation", &schema["mutationType"]),
        ("subscription", &schema["subscriptionType"]),
    ] {
        let Some(root_name) = root["name"].as_str() else {
            continue;
        };
        for field in type_def(&types, root_name)["fields"]
            .as_array()
            .expect("fields")
        {
            let name = field["name"].as_str().expect("name").to_owned();
            let qualified = format!("{root_name}.{name}");
            let rule = access::rule_for(&qualified).unwrap_or_else(|| {
                panic!("{qualified} has no access rule: add one to api/src/graphql/access.rs RULES")
            });
            let description = field["description"].as_str().unwrap_or_default();
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                words(description).contains(&words(&rule.describe())),
                "the description of {qualified} must end with: {}",
                rule.describe()
            );
            let mut declarations = Vec::new();
            let mut arguments = Vec::new();
            let mut variables = Map::new();
            for (i, arg) in field["args"].as_array().expect("args").iter().enumerate() {
                let required = arg["type"]["kind"] == "NON_NULL" && arg["defaultValue"].is_null();
                if !required && named(&arg["type"])["name"] != "ID" {
                    continue;
                }
                if arg["name"] == "after" {
                    continue;
                }
                let var = format!("a{i}");
                declarations.push(format!("${var}: {}", type_ref(&arg["type"])));
                arguments.push(format!("{}: ${var}", arg["name"].as_str().expect("name")));
                variables.insert(var, sample(&types, &arg["type"], id));
            }
            let kind = type_def(
                &types,
                named(&field["type"])["name"].as_str().expect("type"),
            )["kind"]
                .as_str()
                .expect("kind")
                .to_owned();
            let selection = if matches!(kind.as_str(), "OBJECT" | "INTERFACE" | "UNION") {
                " { __typename }"
            } else {
                ""
            };
            let document = format!(
                "{keyword}{} {{ {name}{}{selection} }}",
                if declarations.is_empty() {
                    String::new()
                } else {
                    format!("({})", declarations.join(", "))
                },
                if arguments.is_empty() {
                    String::new()
                } else {
                    format!("({})", arguments.join(", "))
                },
            );
            ops.push(Operation {
                qualified,
                document,
                variables: Value::Object(variables),
            });
        }
    }
    ops
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
        .collect()
}

async fn insert_profile(app: &TestApp, org: domain::OrgId, name: &str) -> Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let db = app.db.connect().await;
    let now = chrono::Utc::now();
    let id = Uuid::now_v7();
    domain::entities::creator_profile::ActiveModel {
        id: Set(id),
        organization_id: Set(org.uuid()),
        kind: Set(domain::ProfileKind::Individual),
        name: Set(name.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("insert profile");
    id
}

fn profile_gid(id: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("CreatorProfile:{id}"))
}

/// The scope a key needs for `rule` (node: the rule of the id's type, a creator profile here).
fn effective(rule: &Rule) -> Rule {
    match rule.by_node {
        Some(_) => access::node_rule(api::graphql::ids::NodeType::CreatorProfile),
        None => *rule,
    }
}

async fn every_operation_answers_each_kind_of_caller_as_its_rule_says(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.graphql.max_complexity = 100_000;
        c.graphql.max_depth = 20;
    })
    .await
    else {
        return;
    };
    let marker = format!("Marker{}", Uuid::new_v4().simple());
    let p1 = insert_profile(&app, app.org, &format!("{marker}-one")).await;
    let p2 = insert_profile(&app, app.org, &format!("{marker}-two")).await;
    let other_org = app.create_org("Another tenant").await;
    insert_profile(&app, other_org, "Foreign profile").await;
    let id = profile_gid(p1);

    let mut expired = app.admin_claims();
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    let mut wrong_aud = app.admin_claims();
    wrong_aud.aud = "another-api".into();
    let revoked = app.api_key(&Scope::ALL).await;
    {
        let db = app.db.connect().await;
        let keys = domain::api_keys::list(&db, app.org).await.expect("keys");
        let key = keys
            .iter()
            .find(|k| revoked.starts_with(&format!("{}_", k.prefix)))
            .expect("the key");
        domain::api_keys::revoke(
            &db,
            app.org,
            key.id,
            &domain::Actor::system("test"),
            chrono::Utc::now(),
        )
        .await
        .expect("revoke");
    }
    let unauthenticated = [
        ("no credentials", Credential::None),
        ("an expired JWT", Credential::Bearer(sign_claims(&expired))),
        (
            "a JWT for another audience",
            Credential::Bearer(sign_claims(&wrong_aud)),
        ),
        ("a revoked API key", Credential::ApiKey(revoked)),
    ];
    let other_admin = Credential::Bearer(app.token_for(other_org, Role::Admin, &[]));
    let other_creator = Credential::Bearer(app.token(Role::Creator, &[p2]));
    // A brand's key limited to a campaign of another creator, holding every scope: it may call
    // only the reads of `CAMPAIGN_KEY_FIELDS`, and they never show the marked profiles.
    let brand_creator = insert_profile(&app, app.org, "Brand creator").await;
    let brand_campaign = {
        let db = app.db.connect().await;
        let now = chrono::Utc::now();
        domain::campaigns::create(
            &db,
            app.org,
            domain::campaigns::NewCampaign {
                name: "Brand campaign".into(),
                brand: "Acme".into(),
                starts_at: now - chrono::Duration::days(1),
                ends_at: now + chrono::Duration::days(10),
                hashtags: vec!["#acme".into()],
                mentions: vec![],
                profile_ids: vec![brand_creator],
            },
            now,
        )
        .await
        .expect("campaign")
        .id
    };
    let brand_key = Credential::ApiKey(app.campaign_api_key(&Scope::ALL, &[brand_campaign]).await);

    let ops = operations(&app, &id).await;
    assert!(
        ops.iter().any(|o| o.qualified == "Mutation.createApiKey"),
        "the enumeration sees the schema"
    );
    for op in &ops {
        let rule = access::rule_for(&op.qualified).expect("checked while enumerating");
        let call = |credential: Credential| {
            let app = &app;
            let (doc, vars) = (op.document.clone(), op.variables.clone());
            async move { app.graphql_as(&credential, &doc, vars).await }
        };
        let leaks = |body: &Value| body.to_string().contains(&marker);

        for (who, credential) in &unauthenticated {
            let (status, body) = call(credential.clone()).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} with {who}: {body}",
                op.qualified
            );
            assert_eq!(
                codes(&body),
                ["UNAUTHENTICATED"],
                "{} with {who}",
                op.qualified
            );
            assert!(
                body.get("data").is_none(),
                "{} with {who}: {body}",
                op.qualified
            );
        }

        let (status, body) = call(other_admin.clone()).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{} as another org: {body}",
            op.qualified
        );
        assert!(
            !leaks(&body),
            "{} leaks to another org: {body}",
            op.qualified
        );

        let rule = effective(rule);
        let (_, body) = call(other_creator.clone()).await;
        assert!(
            !leaks(&body),
            "{} leaks to another creator: {body}",
            op.qualified
        );
        if matches!(rule.creator, CreatorAccess::Denied | CreatorAccess::Owns(_)) {
            assert!(
                codes(&body).contains(&"FORBIDDEN".to_owned()),
                "{} as a creator of another profile: {body}",
                op.qualified
            );
        }

        match rule.key {
            KeyAccess::Any => {}
            KeyAccess::Denied => {
                let key = app.api_key(&Scope::ALL).await;
                let (_, body) = call(Credential::Bearer(key)).await;
                assert!(
                    codes(&body).contains(&"FORBIDDEN".to_owned()),
                    "{} with an API key: {body}",
                    op.qualified
                );
                assert!(!leaks(&body), "{}: {body}", op.qualified);
            }
            KeyAccess::Scope(needed) => {
                let others: Vec<Scope> = Scope::ALL.into_iter().filter(|s| *s != needed).collect();
                let key = app.api_key(&others).await;
                let (_, body) = call(Credential::ApiKey(key)).await;
                assert!(
                    codes(&body).contains(&"FORBIDDEN".to_owned())
                        && body.to_string().contains(needed.as_str()),
                    "{} with a key lacking {needed}: {body}",
                    op.qualified
                );
                assert!(!leaks(&body), "{}: {body}", op.qualified);
            }
        }
        let (status, body) = call(brand_key.clone()).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{} with a campaign key: {body}",
            op.qualified
        );
        assert!(
            !leaks(&body),
            "{} leaks outside the campaign: {body}",
            op.qualified
        );
        if access::campaign_key_may_call(&op.qualified) {
            assert!(
                !codes(&body).contains(&"FORBIDDEN".to_owned()),
                "{} with a campaign key was refused: {body}",
                op.qualified
            );
        } else {
            assert!(
                codes(&body).contains(&"FORBIDDEN".to_owned())
                    && body.to_string().contains("limited to campaigns"),
                "{} with a campaign key: {body}",
                op.qualified
            );
        }
        if rule.staff == Staff::Admin {
            let (_, body) = call(Credential::Bearer(app.token(Role::Manager, &[]))).await;
            assert!(
                codes(&body).contains(&"FORBIDDEN".to_owned()),
                "{} as a manager: {body}",
                op.qualified
            );
        }

        // The rightful callers: never refused (other errors, e.g. a sample id of the wrong
        // type, are fine; a subscription over POST answers that it needs a websocket).
        let mut rightful = vec![("an admin", Credential::Bearer(app.admin_token()))];
        if rule.staff == Staff::AdminAndManager {
            rightful.push((
                "a manager",
                Credential::Bearer(app.token(Role::Manager, &[])),
            ));
        }
        if let KeyAccess::Scope(needed) = rule.key {
            rightful.push((
                "a key with the scope",
                Credential::ApiKey(app.api_key(&[needed]).await),
            ));
        }
        if rule.creator != CreatorAccess::Denied {
            rightful.push((
                "the profile's creator",
                Credential::Bearer(app.token(Role::Creator, &[p1])),
            ));
        }
        for (who, credential) in rightful {
            let (status, body) = call(credential).await;
            assert_eq!(status, StatusCode::OK, "{} as {who}: {body}", op.qualified);
            let codes = codes(&body);
            assert!(
                !codes.contains(&"FORBIDDEN".to_owned())
                    && !codes.contains(&"UNAUTHENTICATED".to_owned()),
                "{} as {who} was refused: {body}",
                op.qualified
            );
        }
    }
}

async fn creators_see_only_their_own_profiles(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let mine = insert_profile(&app, app.org, "Mine").await;
    let theirs = insert_profile(&app, app.org, "Someone else").await;
    let creator = Credential::Bearer(app.token(Role::Creator, &[mine]));
    let (status, body) = app
        .graphql_as(
            &creator,
            "{ creatorProfiles(first: 10) { totalCount edges { node { name } } } viewer { kind role creatorProfileIds } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 1, "{body}");
    assert_eq!(
        body["data"]["creatorProfiles"]["edges"][0]["node"]["name"],
        "Mine"
    );
    assert_eq!(body["data"]["viewer"]["role"], "CREATOR");
    assert_eq!(
        body["data"]["viewer"]["creatorProfileIds"],
        json!([profile_gid(mine)])
    );

    // Another profile of the same organization is FORBIDDEN by id, theirs is readable.
    let (_, body) = app
        .graphql_as(
            &creator,
            "query($a: ID!, $b: ID!) { mine: creatorProfile(id: $a) { name } theirs: creatorProfile(id: $b) { name } }",
            json!({ "a": profile_gid(mine), "b": profile_gid(theirs) }),
        )
        .await;
    assert_eq!(body["data"]["mine"]["name"], "Mine", "{body}");
    assert!(body["data"]["theirs"].is_null(), "{body}");
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["theirs"]), "{body}");
    let manager = Credential::Bearer(app.token(Role::Manager, &[]));
    let (_, body) = app
        .graphql_as(&manager, "{ creatorProfiles { totalCount } }", json!({}))
        .await;
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 2, "{body}");
}

async fn an_api_key_lives_from_creation_to_revocation_and_its_secret_never_shows_again(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let created = app
        .graphql_ok(
            "mutation { createApiKey(input: { name: \"Brand A\", scopes: [PROFILES_READ] }) { secret apiKey { id prefix scopes createdBy lastUsedAt revokedAt } userErrors { code } } }",
            json!({}),
        )
        .await;
    let payload = &created["createApiKey"];
    let secret = payload["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert!(secret.starts_with("cl_live_"), "{secret}");
    let key_id = payload["apiKey"]["id"].as_str().expect("id").to_owned();
    let prefix = payload["apiKey"]["prefix"]
        .as_str()
        .expect("prefix")
        .to_owned();
    assert!(secret.starts_with(&format!("{prefix}_")));
    assert_eq!(payload["apiKey"]["scopes"], json!(["PROFILES_READ"]));
    assert_eq!(payload["apiKey"]["createdBy"], "user:test-admin");
    assert!(payload["apiKey"]["lastUsedAt"].is_null());

    // Used with X-Api-Key, then with a bearer header: it reads, and it cannot manage keys.
    let (status, body) = app
        .graphql_as(
            &Credential::ApiKey(secret.clone()),
            "{ viewer { kind scopes } creatorProfiles { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["viewer"],
        json!({"kind": "API_KEY", "scopes": ["PROFILES_READ"]})
    );
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 0);
    let (_, body) = app
        .graphql_as(
            &Credential::Bearer(secret.clone()),
            "{ apiKeys { id } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");

    let list = app
        .graphql_ok("{ apiKeys { id prefix lastUsedAt revokedAt } }", json!({}))
        .await;
    let listed = list["apiKeys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .expect("the key is listed")
        .clone();
    let last_used = listed["lastUsedAt"]
        .as_str()
        .expect("last used is recorded")
        .to_owned();
    assert_eq!(listed["prefix"], prefix.as_str());
    assert!(!list.to_string().contains(&secret[prefix.len() + 1..]));
    // A second use within the minute does not write again.
    app.graphql_as(
        &Credential::ApiKey(secret.clone()),
        "{ viewer { kind } }",
        json!({}),
    )
    .await;
    let again = app
        .graphql_ok("{ apiKeys { id lastUsedAt } }", json!({}))
        .await;
    assert!(again.to_string().contains(&last_used), "{again}");

    let revoked = app
        .graphql_ok(
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } userErrors { code } } }",
            json!({ "id": key_id }),
        )
        .await;
    assert!(
        revoked["revokeApiKey"]["apiKey"]["revokedAt"].is_string(),
        "{revoked}"
    );
    let (status, body) = app
        .graphql_as(
            &Credential::ApiKey(secret.clone()),
            "{ viewer { kind } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.to_string().contains("revoked"), "{body}");

    // Bad input is a user error; a stranger's key id is NOT_FOUND.
    let bad = app
        .graphql_ok(
            "mutation { createApiKey(input: { name: \"\", scopes: [] }) { secret userErrors { code field } } }",
            json!({}),
        )
        .await;
    assert!(bad["createApiKey"]["secret"].is_null());
    assert_eq!(bad["createApiKey"]["userErrors"][0]["code"], "INVALID_NAME");

    let logs = tests::logs().contents();
    assert!(!logs.contains(&secret), "the key appears in the logs");
    assert!(!logs.contains(&secret[prefix.len() + 1..]));
}

async fn subscriptions_refuse_connections_without_valid_credentials(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let mut ws =
        WsClient::connect_unacknowledged(&app, json!({ "Authorization": "Bearer nope" })).await;
    let (_, reason) = ws.closed().await;
    assert!(reason.contains("invalid token"), "{reason}");

    let key = app.api_key(&[Scope::ProfilesRead]).await;
    let mut ws = WsClient::connect(&app, json!({ "X-Api-Key": key })).await;
    ws.subscribe("1", "subscription { linkStatusChanged { id } }", json!({}))
        .await;
    // Refused before any stream starts: one result with the FORBIDDEN error, then completion.
    let message = ws.next_message().await;
    assert!(
        message.to_string().contains("FORBIDDEN")
            && message.to_string().contains("events:subscribe"),
        "{message}"
    );
    assert!(message["payload"]["data"].is_null(), "{message}");

    let key = app.api_key(&[Scope::EventsSubscribe]).await;
    WsClient::connect(&app, json!({ "X-Api-Key": key }))
        .await
        .close()
        .await;
}

/// `nodes(ids:)` applies each id's type rule to its own item: what the caller may read is
/// served, what it may not is null with a FORBIDDEN error at that index, as GitHub does.
async fn nodes_serve_what_the_caller_may_read_and_refuse_each_other_item(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let mine = insert_profile(&app, app.org, "Mine").await;
    let theirs = insert_profile(&app, app.org, "Someone else").await;
    let query =
        "query($ids: [ID!]!) { list: nodes(ids: $ids) { id ... on CreatorProfile { name } } }";
    let ids = json!({ "ids": [profile_gid(mine), profile_gid(theirs), "bm9wZQ"] });

    let creator = Credential::Bearer(app.token(Role::Creator, &[mine]));
    let (status, body) = app.graphql_as(&creator, query, ids.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["list"][0]["name"], "Mine", "{body}");
    assert!(body["data"]["list"][1].is_null(), "{body}");
    assert!(
        body["data"]["list"][2].is_null(),
        "an unknown id is just null"
    );
    assert_eq!(codes(&body), ["FORBIDDEN"], "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["list", 1]), "{body}");
    assert!(!body.to_string().contains("Someone else"), "{body}");

    // A key lacking `profiles:read` is refused item by item, naming the scope.
    let key = app.api_key(&[Scope::MetricsRead]).await;
    let (_, body) = app
        .graphql_as(&Credential::ApiKey(key), query, ids.clone())
        .await;
    assert_eq!(body["data"]["list"], json!([null, null, null]), "{body}");
    assert_eq!(codes(&body), ["FORBIDDEN", "FORBIDDEN"], "{body}");
    assert!(body.to_string().contains("profiles:read"), "{body}");

    // A manager reads both profiles.
    let manager = Credential::Bearer(app.token(Role::Manager, &[]));
    let (_, body) = app.graphql_as(&manager, query, ids).await;
    assert_eq!(body["data"]["list"][1]["name"], "Someone else", "{body}");
    assert!(body.get("errors").is_none(), "{body}");
}

on_both_backends!(
    nodes_serve_what_the_caller_may_read_and_refuse_each_other_item,
    every_operation_answers_each_kind_of_caller_as_its_rule_says,
    creators_see_only_their_own_profiles,
    an_api_key_lives_from_creation_to_revocation_and_its_secret_never_shows_again,
    subscriptions_refuse_connections_without_valid_credentials,
);

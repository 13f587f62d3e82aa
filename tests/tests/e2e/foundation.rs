//! The server runs on both databases: health, readiness, metrics, GraphiQL, and the GraphQL
//! endpoint reading from the database as the GraphQL-over-HTTP spec says.

use serde_json::{json, Value};
use tests::{on_both_backends, spawn_app, Backend};

async fn health_readiness_and_metrics_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };

    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["checks"]["database"], "ok");

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains("creatorlink_http_requests_total") && text.contains("endpoint=\"/healthz\""),
        "request counts are exported: {text}"
    );
    assert!(text.contains("creatorlink_http_requests_duration_seconds_bucket"));
}

async fn graphiql_loads_in_a_browser(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("graphiql");
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .expect("html")
        .to_lowercase()
        .contains("graphiql"));
}

async fn graphiql_can_be_turned_off(backend: Backend) {
    let Some(app) = tests::spawn_app_with(backend, |c| c.graphql.graphiql = false).await else {
        return;
    };
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("graphiql");
    assert_eq!(page.status(), 404);
}

async fn creator_profiles_of_a_new_database_is_an_empty_connection(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let data = app
        .graphql_ok(
            "{ creatorProfiles(first: 10) { totalCount edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["creatorProfiles"],
        json!({
            "totalCount": 0,
            "edges": [],
            "pageInfo": { "hasNextPage": false, "hasPreviousPage": false }
        })
    );
}

async fn profiles_are_read_from_the_database_and_paged(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org;
    let other = domain::organizations::create(&db, "Another org")
        .await
        .expect("org");
    for name in ["Ana", "Bo", "Cy"] {
        insert_profile(&db, org.uuid(), name).await;
    }
    insert_profile(&db, other.id, "Not yours").await;

    let first = app
        .graphql_ok(
            "{ creatorProfiles(first: 2) { totalCount edges { cursor node { id name kind } } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    let conn = &first["creatorProfiles"];
    assert_eq!(
        conn["totalCount"], 3,
        "only the caller's organization counts"
    );
    let names: Vec<&str> = conn["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Ana", "Bo"]);
    assert_eq!(conn["edges"][0]["node"]["kind"], "INDIVIDUAL");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);

    let after = conn["pageInfo"]["endCursor"].as_str().expect("cursor");
    let second = app
        .graphql_ok(
            "query($after: String) { creatorProfiles(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } }",
            json!({ "after": after }),
        )
        .await;
    assert_eq!(second["creatorProfiles"]["edges"][0]["node"]["name"], "Cy");
    assert_eq!(second["creatorProfiles"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        second["creatorProfiles"]["pageInfo"]["hasPreviousPage"],
        true
    );

    let backwards = app
        .graphql_ok(
            "{ creatorProfiles(last: 2) { edges { node { name } } pageInfo { hasPreviousPage } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = backwards["creatorProfiles"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Bo", "Cy"]);
    assert_eq!(
        backwards["creatorProfiles"]["pageInfo"]["hasPreviousPage"],
        true
    );

    // node(id:) finds the organization's profile and hides another organization's.
    let id = conn["edges"][0]["node"]["id"].as_str().expect("id");
    let node = app
        .graphql_ok(
            "query($id: ID!) { node(id: $id) { id ... on CreatorProfile { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"]["name"], "Ana");
    let foreign = app
        .graphql_ok(
            "{ creatorProfiles(first: 100) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert!(!foreign.to_string().contains("Not yours"));
}

async fn insert_profile(db: &sea_orm::DatabaseConnection, org: uuid::Uuid, name: &str) {
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    domain::entities::creator_profile::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
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
}

async fn the_graphql_endpoint_follows_the_graphql_over_http_spec(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let post = |body: String, accept: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    const GRJ: &str = "application/graphql-response+json";

    // A syntax error is a request error: 400 with the new media type, no `data` key.
    let r = post(
        r#"{"query":"{ creatorProfiles( }"}"#.into(),
        GRJ,
        "application/json",
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with(GRJ));
    let body: Value = r.json().await.expect("json");
    assert!(
        body.get("data").is_none() && body["errors"].is_array(),
        "{body}"
    );

    // An unknown field is a validation error: also a request error.
    let r = post(r#"{"query":"{ nope }"}"#.into(), GRJ, "application/json")
        .await
        .expect("send");
    assert_eq!(r.status(), 400);

    // Under the legacy media type the same request gets 200 with the errors.
    let r = post(
        r#"{"query":"{ nope }"}"#.into(),
        "application/json",
        "application/json",
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("application/json"));

    // A wrongly typed variable is a request error.
    let r = post(
        r#"{"query":"query($n: Int) { creatorProfiles(first: $n) { totalCount } }","variables":{"n":"ten"}}"#.into(),
        GRJ,
        "application/json",
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 400);

    // A body that is not JSON: 400; another media type: 415; an unacceptable Accept: 406.
    let r = post("{not json".into(), GRJ, "application/json")
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = post("query { x }".into(), GRJ, "text/plain")
        .await
        .expect("send");
    assert_eq!(r.status(), 415);
    let r = post(
        r#"{"query":"{ __typename }"}"#.into(),
        "text/csv",
        "application/json",
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 406);

    // A page larger than the maximum is a field error with a code, not a 500.
    let r = post(
        r#"{"query":"{ creatorProfiles(first: 100000) { totalCount } }"}"#.into(),
        GRJ,
        "application/json",
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Queries work over GET.
    let r = app
        .client
        .get(app.url("/graphql?query=%7B__typename%7D"))
        .header("accept", GRJ)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"]["__typename"], "Query");

    // Mutations are not allowed over GET.
    let r = app
        .client
        .get(app.url("/graphql?query=mutation%7B__typename%7D"))
        .header("accept", GRJ)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 405);
}

async fn too_deep_queries_are_rejected_before_execution(backend: Backend) {
    let Some(app) = tests::spawn_app_with(backend, |c| c.graphql.max_depth = 2).await else {
        return;
    };
    let body = app
        .graphql(
            "{ creatorProfiles(first: 1) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("nested too deep"),
        "{body}"
    );
    assert!(body.get("data").is_none(), "{body}");
}

on_both_backends!(
    health_readiness_and_metrics_answer,
    graphiql_loads_in_a_browser,
    graphiql_can_be_turned_off,
    creator_profiles_of_a_new_database_is_an_empty_connection,
    profiles_are_read_from_the_database_and_paged,
    the_graphql_endpoint_follows_the_graphql_over_http_spec,
    too_deep_queries_are_rejected_before_execution,
);

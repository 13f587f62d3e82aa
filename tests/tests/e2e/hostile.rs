//! Hostile input at the public edge: documents shaped to crash the parser, requests that are
//! not GraphQL requests, bodies and headers too large. Every one gets a typed refusal, the
//! process stays up and other callers are served.
//!
//! The crash shapes run against the real binary as its own process, so a stack overflow shows
//! as a dead process (and does not take the test binary down with it).

use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use tests::live::WsClient;
use tests::{on_both_backends, spawn_app, Backend, Credential, TestApp, TestDatabase};

use crate::creatorlink_bin;

/// A `creatorlink serve` process; killed when dropped.
struct Server {
    child: Child,
    base: String,
    client: reqwest::Client,
    token: String,
    _dir: tempfile::TempDir,
    _db: TestDatabase,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(backend: Backend) -> Option<Server> {
        let db = TestDatabase::create(backend).await?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new(creatorlink_bin())
            .arg("serve")
            .current_dir(dir.path())
            .env("DATABASE_URL", &db.url)
            .env("CREATORLINK_HTTP_PORT", port.to_string())
            .env("CREATORLINK_HTTP_WORKERS", "1")
            .env("CREATORLINK_DATA_DIR", dir.path())
            .env("CREATORLINK_JOBS_IN_PROCESS", "false")
            .env("CREATORLINK_AUTH_JWT_HS256_SECRET", tests::TEST_JWT_SECRET)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let mut server = Server {
            child,
            base,
            client,
            token: String::new(),
            _dir: dir,
            _db: db,
        };
        // Bounded wait for readiness (the process migrates first); not a timing assertion.
        for _ in 0..300 {
            let ready = server
                .client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                let conn = server._db.connect().await;
                let org = domain::organizations::ensure_named(&conn, "Hostile organization")
                    .await
                    .expect("organization");
                let _ = conn.close().await;
                let mut config = api::Config::default();
                config.auth.jwt_hs256_secret =
                    Some(domain::secret::Secret::new(tests::TEST_JWT_SECRET));
                server.token = api::auth::jwt::issue(
                    &config.auth,
                    &api::auth::jwt::TokenRequest {
                        user_id: "hostile-admin".into(),
                        org,
                        role: domain::Role::Admin,
                        profiles: Vec::new(),
                        lifetime: chrono::Duration::hours(1),
                    },
                )
                .expect("token")
                .expose()
                .to_owned();
                return Some(server);
            }
            assert!(
                server.child.try_wait().expect("process status").is_none(),
                "the server exited while starting"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server did not become ready");
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().expect("process status").is_none()
    }

    /// Sends `query` over GET or POST, with or without the admin token.
    async fn send(&self, query: &str, get: bool, authenticated: bool) -> (u16, Value) {
        let url = format!("{}/graphql", self.base);
        let mut request = if get {
            self.client.get(&url).query(&[("query", query)])
        } else {
            self.client.post(&url).json(&json!({ "query": query }))
        };
        if authenticated {
            request = request.bearer_auth(&self.token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}

/// The shapes that overflowed the parser's stack before the nesting bound (each ~4-12 KB).
fn crash_shapes() -> Vec<(&'static str, String)> {
    vec![
        (
            "nested lists",
            format!(
                "{{ __type(name: {}\"x\"{}) {{ name }} }}",
                "[".repeat(2_000),
                "]".repeat(2_000)
            ),
        ),
        (
            "nested objects",
            format!(
                "{{ __type(name: {}\"x\"{}) {{ name }} }}",
                "{a: ".repeat(3_000),
                "}".repeat(3_000)
            ),
        ),
        (
            "nested selections",
            format!("{}__typename{}", "{ a ".repeat(3_000), "}".repeat(3_000)),
        ),
        (
            "nested list types",
            format!(
                "query($v: {}String{}) {{ __typename }}",
                "[".repeat(2_000),
                "]".repeat(2_000)
            ),
        ),
    ]
}

async fn crash_shapes_are_refused_and_the_process_stays_up(backend: Backend) {
    let Some(mut server) = Server::start(backend).await else {
        return;
    };
    for (name, document) in crash_shapes() {
        for get in [true, false] {
            let method = if get { "GET" } else { "POST" };
            // Unauthenticated: refused before anything parses the document.
            let (status, body) = server.send(&document, get, false).await;
            assert_eq!(status, 401, "{name} over {method}, no credential: {body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
            assert!(
                server.alive(),
                "{name} over {method} (no credential) killed the server"
            );

            let (status, body) = server.send(&document, get, true).await;
            assert_eq!(status, 400, "{name} over {method}: {body}");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "QUERY_TOO_DEEP",
                "{name} over {method}: {body}"
            );
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("64") && !message.contains('\n'),
                "{name} over {method}: the message names the limit on one line: {message}"
            );
            assert!(server.alive(), "{name} over {method} killed the server");

            // Another caller is served.
            let (status, body) = server.send("{ __typename }", false, true).await;
            assert_eq!(status, 200, "after {name} over {method}: {body}");
            assert_eq!(body["data"]["__typename"], "Query");
        }
    }
    // Just below the bound, the same shapes parse and are judged on their merits.
    let within = format!(
        "{{ __type(name: {}\"x\"{}) {{ name }} }}",
        "[".repeat(60),
        "]".repeat(60)
    );
    let (status, body) = server.send(&within, false, true).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_DEEP",
        "{body}"
    );
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body}"
    );
    assert!(server.alive());
}

/// Every error of a response carries `extensions.code` and a one-line message.
fn assert_coded(body: &Value) {
    let errors = body["errors"].as_array().expect("errors");
    assert!(!errors.is_empty(), "{body}");
    for error in errors {
        assert!(
            error["extensions"]["code"].is_string(),
            "an error without a code: {body}"
        );
        let message = error["message"].as_str().expect("message");
        assert!(!message.contains('\n'), "a multi-line message: {message}");
    }
}

/// POSTs `body` as JSON text with the admin token; the status and the JSON body.
async fn post_raw(app: &TestApp, body: impl Into<reqwest::Body>, accept: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.expect("a JSON body");
    assert!(content_type.contains("json"), "{status}: {content_type}");
    (status, body)
}

const GRJ: &str = "application/graphql-response+json";

async fn requests_that_are_not_graphql_requests_are_400_with_a_code(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for (body, why) in [
        ("{}", "no query"),
        (r#"{"notquery":"{ __typename }"}"#, "no query"),
        (r#"{"query":0}"#, "a number as query"),
        (r#"{"query":{"obj":"ect"}}"#, "an object as query"),
        (
            r#"{"query":"{ __typename }","operationName":false}"#,
            "a boolean operation name",
        ),
        (
            r#"{"query":"{ __typename }","variables":"string"}"#,
            "a string as variables",
        ),
        (
            r#"{"query":"{ __typename }","variables":["array"]}"#,
            "an array as variables",
        ),
        (
            r#"{"query":"{ __typename }","extensions":0}"#,
            "a number as extensions",
        ),
        (
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#,
            "a batch",
        ),
        ("\"a string\"", "a JSON string"),
        ("{ \"not a JSON", "not JSON"),
    ] {
        for accept in ["application/json", GRJ] {
            let (status, body) = post_raw(&app, body, accept).await;
            assert_eq!(status, 400, "{why} ({accept}): {body}");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
                "{why}: {body}"
            );
            assert_coded(&body);
        }
    }

    // A body over 1 MiB: 413 in the same JSON shape.
    let big = format!(
        r#"{{"query":"{{ __typename }}","variables":{{"x":"{}"}}}}"#,
        "a".repeat(1 << 20)
    );
    let (status, body) = post_raw(&app, big, GRJ).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    assert_coded(&body);

    // A syntax error: one line, GRAPHQL_PARSE_FAILED; 400 under the new media type.
    let (status, body) = post_raw(&app, r#"{"query":"{ creatorProfiles( }"}"#, GRJ).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );
    assert_coded(&body);
    // Validation, an unknown operation, an out-of-range Int: each with its code.
    for (query, variables, code) in [
        ("{ nope }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        (
            "query A { __typename } query B { __typename }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($n: Int) { creatorProfiles(first: $n) { totalCount } }",
            json!({ "n": 99_999_999_999i64 }),
            "BAD_USER_INPUT",
        ),
    ] {
        let (status, body) = post_raw(
            &app,
            json!({ "query": query, "variables": variables }).to_string(),
            "application/json",
        )
        .await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{query}: {body}"
        );
        assert_coded(&body);
    }

    // GET reads `operationName` (the spec's name), and refuses mutations with a code.
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query A { a: __typename } query B { b: __typename }",
            ),
            ("operationName", "B"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"], json!({ "b": "Query" }), "{body}");
    let r = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { __typename }")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.expect("json");
    assert_coded(&body);
}

async fn control_characters_in_text_input_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let create = "mutation($name: String!) { createCreatorProfile(input: { name: $name }) { creatorProfile { id } userErrors { code } } }";
    for (query, variables) in [
        (create, json!({ "name": "Ada\u{0}Lovelace" })),
        (create, json!({ "name": "bell\u{7}" })),
        (
            "mutation { createCreatorProfile(input: { name: \"Ada\\u0000\" }) { creatorProfile { id } } }",
            json!({}),
        ),
        (
            "query($s: String) { creatorProfiles(filter: { search: $s }) { totalCount } }",
            json!({ "s": "\u{0}" }),
        ),
    ] {
        let body = app.graphql(query, variables).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert!(body.get("data").is_none(), "nothing ran: {body}");
        assert_coded(&body);
    }
    let count = app
        .graphql_ok("{ creatorProfiles { totalCount } }", json!({}))
        .await;
    assert_eq!(
        count["creatorProfiles"]["totalCount"], 0,
        "nothing was stored"
    );
    // Tabs and new lines are text.
    let ok = app
        .graphql_ok(create, json!({ "name": "Ada\tLovelace" }))
        .await;
    assert!(
        ok["createCreatorProfile"]["creatorProfile"]["id"].is_string(),
        "{ok}"
    );
}

async fn alias_fan_out_and_long_searches_are_refused_before_running(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.api_key(&[domain::Scope::ProfilesRead]).await;
    let fan_out = |n: usize| {
        let fields: String = (0..n)
            .map(|i| {
                format!("a{i}: creatorProfiles(first: 1, filter: {{search: $s}}) {{ totalCount }} ")
            })
            .collect();
        format!("query($s: String) {{ {fields}}}")
    };
    // The reported shape: 1,900 aliases, a 49,000-character search.
    let (status, body) = app
        .graphql_as(
            &Credential::ApiKey(key.clone()),
            &fan_out(1_900),
            json!({ "s": "x".repeat(49_000) }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("2000"),
        "the message names the limit: {message}"
    );
    assert!(body.get("data").is_none(), "{body}");
    // Fan-out alone.
    let (_, body) = app
        .graphql_as(
            &Credential::ApiKey(key.clone()),
            &fan_out(300),
            json!({ "s": "x" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{body}"
    );
    // A search past 100 characters, alone.
    let (_, body) = app
        .graphql_as(
            &Credential::ApiKey(key.clone()),
            &fan_out(1),
            json!({ "s": "x".repeat(50_000) }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert_coded(&body);
    // LIKE wildcards are searched for literally: `%` matches no profile named otherwise.
    app.graphql_ok(
        "mutation { createCreatorProfile(input: { name: \"Plain Name\" }) { creatorProfile { id } } }",
        json!({}),
    )
    .await;
    for (search, expected) in [("%", 0), ("_", 0), ("plain", 1), ("\\", 0)] {
        let data = app
            .graphql_ok(
                "query($s: String) { creatorProfiles(filter: { search: $s }) { totalCount } }",
                json!({ "s": search }),
            )
            .await;
        assert_eq!(
            data["creatorProfiles"]["totalCount"], expected,
            "search {search:?}"
        );
    }
    // Within limits, the caller is served.
    let (status, body) = app
        .graphql_as(
            &Credential::ApiKey(key),
            &fan_out(10),
            json!({ "s": "plain" }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["a9"]["totalCount"], 1);
}

async fn the_standard_introspection_queries_pass_at_the_default_limits(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let Some(node_dir) = node_dir("graphql") else {
        return;
    };
    let out = std::process::Command::new("node")
        .arg(node_dir.join("introspection.mjs"))
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queries: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for which in ["plain", "full"] {
        let query = queries[which].as_str().expect("a query");
        let data = app.graphql_ok(query, json!({})).await;
        let types = data["__schema"]["types"].as_array().expect("types");
        assert!(
            types.iter().any(|t| t["name"] == "CreatorProfile"),
            "{which}: the schema's types are listed"
        );
    }
}

async fn the_graphql_over_http_audit_passes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let Some(node_dir) = node_dir("graphql-http") else {
        return;
    };
    let out = tokio::process::Command::new("node")
        .arg(node_dir.join("audit.mjs"))
        .arg(app.url("/graphql"))
        .arg(app.admin_token())
        .output()
        .await
        .expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    let results: Vec<Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(results.len() > 40, "the audit ran: {report}");
    let failed: Vec<&Value> = results.iter().filter(|r| r["status"] != "ok").collect();
    assert!(failed.is_empty(), "audits not passed: {failed:#?}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn a_deep_subscription_document_is_refused_and_the_connection_stays(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.admin_token();
    let mut ws =
        WsClient::connect(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    let deep = format!(
        "subscription {{ linkStatusChanged(profileId: {}\"x\"{}) {{ id }} }}",
        "[".repeat(2_000),
        "]".repeat(2_000)
    );
    ws.subscribe("deep", &deep, json!({})).await;
    let (id, payload) = ws.next_payload().await;
    assert_eq!(id, "deep");
    let errors = if payload.is_array() {
        payload.clone()
    } else {
        payload["errors"].clone()
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "QUERY_TOO_DEEP",
        "{payload}"
    );
    // The connection (and the process) still serve.
    ws.subscribe("ok", "subscription { linkStatusChanged { id } }", json!({}))
        .await;
    let body = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query");
    ws.close().await;
}

/// tests/node with `package` installed, or `None` (a skip, or a failure when services are
/// required, as in CI).
fn node_dir(package: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    if dir.join("node_modules").join(package).exists() {
        return Some(dir);
    }
    let why = "run `npm ci` in tests/node (.ci/run does)";
    assert!(
        !tests::services_required(),
        "the node package {package} is required: {why}"
    );
    eprintln!("SKIPPED: {package} not installed; {why}");
    None
}

on_both_backends!(
    crash_shapes_are_refused_and_the_process_stays_up,
    requests_that_are_not_graphql_requests_are_400_with_a_code,
    control_characters_in_text_input_are_refused,
    alias_fan_out_and_long_searches_are_refused_before_running,
    the_standard_introspection_queries_pass_at_the_default_limits,
    the_graphql_over_http_audit_passes,
    a_deep_subscription_document_is_refused_and_the_connection_stays,
);

//! Hostile input at the public edge: documents shaped to crash the parser, requests that are
//! not GraphQL requests, bodies and headers too large. Every one gets a typed refusal, the
//! process stays up and other callers are served.
//!
//! The crash shapes run against the real binary as its own process, so a stack overflow shows
//! as a dead process (and does not take the test binary down with it).

use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use tests::{on_both_backends, Backend, TestDatabase};

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

on_both_backends!(crash_shapes_are_refused_and_the_process_stays_up);

//! GraphiQL as a newcomer meets it: served from the binary with the outside network blocked
//! (Chromium resolves no name but 127.0.0.1/localhost), running a query and a live subscription;
//! and `creatorlink demo`, the README's first command, as a process: what it prints works, its
//! GraphiQL starts with the admin token filled in, and a second run reuses the same data.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use tests::live::{creator, invalidate};
use tests::{on_both_backends, spawn_app_with, Backend};

use crate::browser::{browser, browser_available, screenshot, start_driver};
use crate::creatorlink_bin;

const WAIT: Duration = Duration::from_secs(30);

/// Waits until GraphiQL has mounted its editors.
async fn wait_for_graphiql(client: &Client) {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".graphiql-query-editor .CodeMirror"))
        .await
        .expect("GraphiQL mounts its query editor");
}

/// Puts `text` in one of GraphiQL's CodeMirror editors (as typing would, with change events).
async fn set_editor(client: &Client, selector: &str, index: usize, text: &str) {
    client
        .execute(
            "document.querySelectorAll(arguments[0] + ' .CodeMirror')[arguments[1]].CodeMirror.setValue(arguments[2]);",
            vec![json!(selector), json!(index), json!(text)],
        )
        .await
        .expect("set the editor's text");
}

async fn editor_text(client: &Client, selector: &str, index: usize) -> String {
    let value = client
        .execute(
            "const e = document.querySelectorAll(arguments[0] + ' .CodeMirror')[arguments[1]]; return e ? e.CodeMirror.getValue() : '';",
            vec![json!(selector), json!(index)],
        )
        .await
        .expect("read the editor");
    value.as_str().unwrap_or_default().to_owned()
}

/// Runs the query editor's operation once GraphiQL has parsed it: GraphiQL picks the transport
/// (HTTP, or the websocket for a subscription) from its parse, which follows edits shortly after.
async fn run(client: &Client, operation: &str) {
    let mut parsed = Value::Null;
    for _ in 0..300 {
        parsed = client
            .execute(
                "const e = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror; return e.documentAST ? e.documentAST.definitions.map(d => d.operation) : null;",
                vec![],
            )
            .await
            .expect("read the parsed document");
        if parsed == json!([operation]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(parsed, json!([operation]), "GraphiQL parsed the edit");
    client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .expect("the run button")
        .click()
        .await
        .expect("click run");
}

/// Polls the response pane until `done` accepts its text; returns that text.
async fn response_until(client: &Client, done: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..300 {
        last = editor_text(client, ".graphiql-response", 0).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the response pane never showed what was expected; last: {last}");
}

/// Every resource the page loaded came from `origin`.
async fn assert_same_origin(client: &Client, origin: &str) {
    let loaded = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name);",
            vec![],
        )
        .await
        .expect("resource timings");
    let loaded: Vec<String> = serde_json::from_value(loaded).expect("a list of URLs");
    assert!(
        loaded.len() >= 5,
        "the page loads its scripts and styles: {loaded:?}"
    );
    for url in &loaded {
        assert!(url.starts_with(origin), "{url} is not from {origin}");
    }
}

async fn graphiql_runs_a_query_and_a_subscription_with_the_outside_network_blocked(
    backend: Backend,
) {
    if !browser_available() {
        return;
    }
    let Some(app) = spawn_app_with(backend, |c| c.events.poll_interval_ms = 50).await else {
        return;
    };
    let db = app.db.connect().await;
    let ana = creator(&db, app.org, "Ana").await;

    // Outside demo mode the page carries no credentials.
    let page = app
        .bare_client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(!html.contains("data-headers"), "{html}");
    assert!(!html.contains("unpkg.com"), "{html}");

    let driver = start_driver().await;
    let client = browser(&driver, 1400, 900, false).await;
    client
        .goto(&app.url("/graphql"))
        .await
        .expect("open GraphiQL");
    wait_for_graphiql(&client).await;
    assert_same_origin(&client, &app.address).await;

    // A query, with the token typed into the headers editor (variables first, then headers).
    set_editor(
        &client,
        ".graphiql-editor-tool",
        1,
        &json!({ "Authorization": format!("Bearer {}", app.admin_token()) }).to_string(),
    )
    .await;
    set_editor(
        &client,
        ".graphiql-query-editor",
        0,
        "{ creatorProfiles(first: 5) { totalCount nodes { name } } }",
    )
    .await;
    run(&client, "query").await;
    let text = response_until(&client, |t| t.contains("totalCount")).await;
    let body: Value = serde_json::from_str(&text).expect("JSON in the response pane");
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 1, "{body}");
    assert_eq!(
        body["data"]["creatorProfiles"]["nodes"][0]["name"], "Ana",
        "{body}"
    );

    // A subscription over the page's websocket: the event recorded after subscribing shows up
    // (`after` makes it independent of when the server handles the subscribe message).
    let start = domain::events::max_id(&db).await.expect("max event id");
    set_editor(
        &client,
        ".graphiql-query-editor",
        0,
        &format!(
            "subscription {{ linkStatusChanged(profileId: \"{}\", after: \"{start}\") {{ id kind to reason }} }}",
            ana.profile_gid()
        ),
    )
    .await;
    run(&client, "subscription").await;
    let event = invalidate(&db, &ana).await;
    let text = response_until(&client, |t| t.contains(&format!("\"{event}\""))).await;
    let body: Value = serde_json::from_str(&text).expect("JSON in the response pane");
    let change = &body["data"]["linkStatusChanged"];
    assert_eq!(change["kind"], "STATUS_CHANGED", "{body}");
    assert_eq!(change["to"], "INVALID", "{body}");
    assert_eq!(change["reason"], "PERMISSIONS_REVOKED", "{body}");
    screenshot(&client, "graphiql-subscription.png").await;
    assert_same_origin(&client, &app.address).await;
    client.close().await.expect("close the browser");
}

on_both_backends!(graphiql_runs_a_query_and_a_subscription_with_the_outside_network_blocked);

/// A running `creatorlink demo`, killed when dropped.
struct Demo {
    child: Child,
    printed: Vec<String>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// Starts `creatorlink demo` in `dir` (its embedded default database lives there) and reads
    /// what it prints up to its last line.
    fn start(dir: &Path) -> Demo {
        let mut child = Command::new(creatorlink_bin())
            .args(["demo", "--profiles", "4"])
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("CREATORLINK_CONFIG")
            .env("CREATORLINK_HTTP_PORT", "0")
            .env("CREATORLINK_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("creatorlink demo starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut demo = Demo {
            child,
            printed: Vec::new(),
        };
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("demo stopped printing: {:?}", demo.printed));
            let last = line.starts_with("Stop with");
            demo.printed.push(line);
            if last {
                return demo;
            }
        }
    }

    /// The value printed after `label` (`  GraphiQL      http://…`).
    fn value(&self, label: &str) -> String {
        self.printed
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `{label}` line in {:?}", self.printed))
            .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creatorlink_demo_prints_a_working_token_key_and_invite_and_fills_in_graphiql() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let demo = Demo::start(dir.path());
    let graphiql = demo.value("GraphiQL");
    let token = demo.value("Admin token");
    let key = demo.value("API key");
    let invite = demo.value("Connect link");
    assert!(graphiql.ends_with("/graphql"), "{graphiql}");
    let http = reqwest::Client::new();

    let query = json!({ "query": "{ viewer { role organization { name } } creatorProfiles { totalCount } }" });
    let body: Value = http
        .post(&graphiql)
        .bearer_auth(&token)
        .json(&query)
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["data"]["viewer"]["role"], "ADMIN", "{body}");
    assert_eq!(
        body["data"]["viewer"]["organization"]["name"],
        "Demo organization"
    );
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 4, "{body}");

    let body: Value = http
        .post(&graphiql)
        .header("x-api-key", &key)
        .json(&json!({ "query": "{ creatorProfiles(first: 1) { totalCount } }" }))
        .send()
        .await
        .expect("POST /graphql with the key")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 4, "{body}");

    // The README's first query, as a newcomer pastes it.
    let body: Value = http
        .post(&graphiql)
        .bearer_auth(&token)
        .json(&json!({ "query": crate::docs::readme_first_query() }))
        .send()
        .await
        .expect("POST the README's query")
        .json()
        .await
        .expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(
        body["data"]["creatorProfiles"]["totalCount"].is_number(),
        "{body}"
    );

    let page = http.get(&invite).send().await.expect("open the invite");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Connect your accounts"), "{html}");

    let page = http
        .get(&graphiql)
        .header("accept", "text/html")
        .send()
        .await
        .expect("GraphiQL page");
    assert_eq!(
        page.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "the page carries a token"
    );
    assert!(page.text().await.expect("html").contains(&token));

    if browser_available() {
        let driver = start_driver().await;
        let client = browser(&driver, 1400, 900, false).await;
        client.goto(&graphiql).await.expect("open GraphiQL");
        wait_for_graphiql(&client).await;
        let origin = graphiql.trim_end_matches("/graphql");
        assert_same_origin(&client, origin).await;
        // The editors fill in once CodeMirror has loaded.
        let mut headers = String::new();
        for _ in 0..300 {
            headers = editor_text(&client, ".graphiql-editor-tool", 1).await;
            if !headers.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            headers.contains(&format!("Bearer {token}")),
            "the headers editor starts with the token: {headers}"
        );
        // Nothing typed but the query: the filled-in header is what authenticates it.
        set_editor(
            &client,
            ".graphiql-query-editor",
            0,
            "{ viewer { role } creatorProfiles { totalCount } }",
        )
        .await;
        run(&client, "query").await;
        let text = response_until(&client, |t| t.contains("totalCount")).await;
        let body: Value = serde_json::from_str(&text).expect("JSON in the response pane");
        assert_eq!(body["data"]["viewer"]["role"], "ADMIN", "{body}");
        assert_eq!(body["data"]["creatorProfiles"]["totalCount"], 4, "{body}");
        screenshot(&client, "graphiql-demo.png").await;
        client.close().await.expect("close the browser");
    }

    // A second run reuses the organization and its data, with a new token.
    let first_org = demo.printed[0].clone();
    drop(demo);
    let again = Demo::start(dir.path());
    assert_eq!(again.printed[0], first_org, "the same organization");
    let token = again.value("Admin token");
    let body: Value = http
        .post(again.value("GraphiQL"))
        .bearer_auth(&token)
        .json(&query)
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        body["data"]["creatorProfiles"]["totalCount"], 4,
        "not seeded twice: {body}"
    );
}

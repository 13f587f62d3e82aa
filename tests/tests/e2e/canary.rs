//! The canary: the sandbox issues tokens carrying a marker unique to this run; after connecting
//! accounts on every platform, reconnecting and unlinking, the marker appears nowhere — not in the
//! database (the SQLite file bytes, every text column on PostgreSQL), not in the server's logs at
//! trace level, not in any GraphQL response or page. Jobs do not exist yet, so there are no job
//! payloads to search.
//!
//! The server runs as its own process (the real binary) so its log filter can be `trace` without
//! touching the shared in-process subscriber of the other tests.

use std::process::{Child, Command, Stdio};

use domain::entities::link;
use domain::vault::{Aad, Keyring, TokenKind};
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use serde_json::{json, Value};
use tests::{on_both_backends, Backend, TestDatabase};
use uuid::Uuid;

use crate::connect::{default_org, global_id, insert_profile};
use crate::creatorlink_bin;

struct Server {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn graphql(&self, seen: &mut Vec<String>, query: &str, variables: Value) -> Value {
        let body = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("graphql")
            .text()
            .await
            .expect("body");
        seen.push(body.clone());
        serde_json::from_str(&body).expect("json")
    }

    /// startConnect → sandbox consent as `user` → callback; every body is kept in `seen`.
    async fn connect(
        &self,
        seen: &mut Vec<String>,
        profile: &str,
        platform: &str,
        user: &str,
        account: Option<&str>,
    ) -> String {
        let data = self
            .graphql(
                seen,
                "mutation($i: StartConnectInput!) { startConnect(input: $i) { authorizeUrl userErrors { code } } }",
                json!({"i": {"profileId": profile, "platform": platform, "accountId": account}}),
            )
            .await;
        let mut url = url::Url::parse(
            data["data"]["startConnect"]["authorizeUrl"]
                .as_str()
                .expect("url"),
        )
        .expect("url");
        url.query_pairs_mut().append_pair("sandbox_user", user);
        let consent = self.client.get(url).send().await.expect("consent");
        let back = consent.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let page = self
            .client
            .get(back)
            .send()
            .await
            .expect("callback")
            .text()
            .await
            .expect("page");
        seen.push(page.clone());
        page
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn start(db: &TestDatabase, dir: &std::path::Path, marker: &str) -> Server {
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).expect("log file");
    let child = Command::new(creatorlink_bin())
        .arg("serve")
        .current_dir(dir)
        .env("DATABASE_URL", &db.url)
        .env("CREATORLINK_HTTP_PORT", port.to_string())
        .env("CREATORLINK_HTTP_WORKERS", "1")
        .env("CREATORLINK_DATA_DIR", dir)
        .env("CREATORLINK_LOG_LEVEL", "trace")
        .env("CREATORLINK_LOG_FORMAT", "json")
        .env("CREATORLINK_SANDBOX_TOKEN_MARKER", marker)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the server starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    };
    // Wait for readiness (the process migrates first); bounded, not a timing assertion.
    for _ in 0..300 {
        if let Ok(r) = server
            .client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
        {
            if r.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

/// Every text value of every table, as PostgreSQL stores it.
async fn postgres_dump(db: &sea_orm::DatabaseConnection) -> String {
    let backend = db.get_database_backend();
    let columns = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name, column_name FROM information_schema.columns \
             WHERE table_schema = 'public'"
                .to_owned(),
        ))
        .await
        .expect("columns");
    let mut dump = String::new();
    for row in columns {
        let table: String = row.try_get("", "table_name").expect("table");
        let column: String = row.try_get("", "column_name").expect("column");
        let values = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT \"{column}\"::text AS v FROM \"{table}\""),
            ))
            .await
            .expect("values");
        for v in values {
            if let Ok(Some(text)) = v.try_get::<Option<String>>("", "v") {
                dump.push_str(&text);
                dump.push('\n');
            }
        }
    }
    dump
}

/// The SQLite database file and its WAL, as bytes.
fn sqlite_bytes(url: &str) -> Vec<u8> {
    let path = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .expect("path")
        .to_owned();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
            bytes.extend(b);
        }
    }
    bytes
}

async fn no_token_appears_in_the_database_logs_or_responses(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let marker = format!("canary{}", Uuid::new_v4().simple());
    let server = start(&db, dir.path(), &marker).await;
    let conn = db.connect().await;
    let org = default_org(&conn).await;
    let (_, profile) = insert_profile(&conn, org, "Canary").await;
    let mut seen = Vec::new();

    let page = server
        .connect(&mut seen, &profile, "INSTAGRAM", "meta_ana", None)
        .await;
    let selection = page
        .split("name=\"selection\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("selection page")
        .to_owned();
    let done = server
        .client
        .post(format!("{}/oauth/facebook/select", server.base))
        .form(&[
            ("selection", selection.as_str()),
            ("page_id", "101112131415161"),
        ])
        .send()
        .await
        .expect("select")
        .text()
        .await
        .expect("page");
    seen.push(done);
    server
        .connect(&mut seen, &profile, "TIKTOK", "tiktok_leo", None)
        .await;
    server
        .connect(&mut seen, &profile, "YOUTUBE", "yt_big", None)
        .await;

    let links = link::Entity::find()
        .find_also_related(domain::entities::social_account::Entity)
        .all(&conn)
        .await
        .expect("links");
    assert_eq!(
        links.len(),
        4,
        "Instagram, Facebook, TikTok and YouTube are linked"
    );
    // The marker is really in the tokens (so its absence below means something).
    let key = std::fs::read_to_string(dir.path().join("vault.key")).expect("key file");
    let keyring = Keyring::from_config(&key).expect("keyring");
    let (first, _) = &links[0];
    let opened = keyring
        .open(
            first.access_token.as_deref().expect("token"),
            &Aad::new(first.id, TokenKind::Access),
        )
        .expect("opens");
    assert!(opened.expose().starts_with(&marker));

    // Reconnect YouTube, unlink TikTok, read everything back over GraphQL.
    let youtube = links
        .iter()
        .find(|(_, a)| {
            a.as_ref()
                .is_some_and(|a| a.platform == domain::Platform::Youtube)
        })
        .and_then(|(_, a)| a.clone())
        .expect("youtube");
    let tiktok = links
        .iter()
        .find(|(_, a)| {
            a.as_ref()
                .is_some_and(|a| a.platform == domain::Platform::Tiktok)
        })
        .and_then(|(_, a)| a.clone())
        .expect("tiktok");
    let yt_gid = global_id("SocialAccount", youtube.id);
    server
        .connect(&mut seen, &profile, "YOUTUBE", "yt_big", Some(&yt_gid))
        .await;
    server
        .graphql(
            &mut seen,
            "mutation($i: SocialAccountInput!) { unlinkSocialAccount(input: $i) { status invalidReason revokedUpstream userErrors { code message } } }",
            json!({"i": {"accountId": global_id("SocialAccount", tiktok.id)}}),
        )
        .await;
    server
        .graphql(
            &mut seen,
            "{ creatorProfiles(first: 10) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    drop(server);

    for body in &seen {
        assert!(
            !body.contains(&marker),
            "a response carries a token: {body}"
        );
    }
    let logs = std::fs::read_to_string(dir.path().join("server.log")).expect("logs");
    assert!(
        logs.contains("\"level\":\"TRACE\"") || logs.contains("TRACE"),
        "trace logs were on"
    );
    if let Some(line) = logs.lines().find(|l| l.contains(&marker)) {
        panic!("a log line carries a token: {line}");
    }
    match backend {
        Backend::Sqlite => {
            let bytes = sqlite_bytes(&db.url);
            assert!(!bytes.is_empty());
            let found = bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
            assert!(!found, "the SQLite file holds a token in clear");
        }
        Backend::Postgres => {
            let dump = postgres_dump(&conn).await;
            assert!(dump.contains("ana.travels"), "the dump has the data");
            assert!(!dump.contains(&marker), "PostgreSQL holds a token in clear");
        }
    }
}

on_both_backends!(no_token_appears_in_the_database_logs_or_responses);

//! The canary: the sandbox issues tokens carrying a marker unique to this run; after connecting
//! accounts on every platform, reconnecting and unlinking, the marker appears nowhere — not in the
//! database (the SQLite file bytes, every text column on PostgreSQL), not in the server's logs at
//! trace level, not in any GraphQL response or page, not in any job payload (the SQLite
//! `jobs.db` queue on the SQLite run, the Redis keys of the test's prefix on the PostgreSQL run).
//! Access tokens are issued short-lived and the refresh scan ticks every second, so `refresh_link`
//! jobs really run (and rotate the marked tokens) before the queue is searched.
//!
//! The access log is searched too: the invite link, and every OAuth `code` and `state` the
//! platforms sent back, appear in no log line.
//!
//! The server runs as its own process (the real binary) so its log filter can be `trace` without
//! touching the shared in-process subscriber of the other tests.

use std::process::{Child, Command, Stdio};

use domain::entities::link;
use domain::vault::{Aad, Keyring, TokenKind};
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use serde_json::{json, Value};
use tests::{on_both_backends, Backend, TestDatabase, TestRedis};
use uuid::Uuid;

use crate::connect::{default_org, global_id, insert_profile};
use crate::creatorlink_bin;

struct Server {
    child: Child,
    base: String,
    client: reqwest::Client,
    /// Every callback URL the sandbox sent the browser to: their `code` and `state` must not be
    /// logged either.
    callbacks: std::sync::Mutex<Vec<String>>,
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
        self.callbacks.lock().expect("callbacks").push(back.clone());
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

async fn start(
    db: &TestDatabase,
    redis: Option<&TestRedis>,
    dir: &std::path::Path,
    marker: &str,
) -> Server {
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).expect("log file");
    let mut command = Command::new(creatorlink_bin());
    if let Some(redis) = redis {
        command
            .env("REDIS_URL", &redis.url)
            .env("CREATORLINK_REDIS_PREFIX", &redis.prefix);
    }
    let child = command
        .arg("serve")
        .current_dir(dir)
        .env("DATABASE_URL", &db.url)
        .env("CREATORLINK_HTTP_PORT", port.to_string())
        .env("CREATORLINK_HTTP_WORKERS", "1")
        .env("CREATORLINK_DATA_DIR", dir)
        .env("CREATORLINK_LOG_LEVEL", "trace")
        .env("CREATORLINK_LOG_FORMAT", "json")
        .env("CREATORLINK_SANDBOX_TOKEN_MARKER", marker)
        // Tokens due for refresh at once (inside every provider's margin) and a scan every
        // second, so the queue holds real `refresh_link` payloads to search.
        .env("CREATORLINK_SANDBOX_ACCESS_TOKEN_TTL_SECONDS", "300")
        .env("CREATORLINK_JOBS_REFRESH_SCHEDULE", "* * * * * *")
        .env("CREATORLINK_AUTH_JWT_HS256_SECRET", tests::TEST_JWT_SECRET)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the server starts");
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        client: tests::http_client().build().expect("client"),
        callbacks: std::sync::Mutex::new(Vec::new()),
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
                // The organization the test acts in, as an admin of it (like `creatorlink org
                // create` + `creatorlink token issue`).
                let conn = db.connect().await;
                let org = domain::organizations::ensure_named(&conn, "Canary organization")
                    .await
                    .expect("organization");
                let mut config = api::Config::default();
                config.auth.jwt_hs256_secret =
                    Some(domain::secret::Secret::new(tests::TEST_JWT_SECRET));
                let token = api::auth::jwt::issue(
                    &config.auth,
                    &api::auth::jwt::TokenRequest {
                        user_id: "canary-admin".into(),
                        org,
                        role: domain::Role::Admin,
                        profiles: Vec::new(),
                        lifetime: chrono::Duration::hours(1),
                    },
                )
                .expect("token");
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    format!("Bearer {}", token.expose())
                        .parse()
                        .expect("header"),
                );
                server.client = tests::http_client()
                    .default_headers(headers)
                    .build()
                    .expect("client");
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

/// Every value under the test's Redis prefix (strings, hashes, lists, sets, sorted sets,
/// streams), as text.
async fn redis_dump(redis: &TestRedis) -> String {
    use redis::AsyncCommands as _;
    let mut conn = redis.connection().await;
    let keys: Vec<String> = conn.keys(format!("{}*", redis.prefix)).await.expect("keys");
    let mut dump = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("type");
        let mut command = match kind.as_str() {
            "string" => redis::cmd("GET"),
            "hash" => redis::cmd("HGETALL"),
            "list" => redis::cmd("LRANGE"),
            "set" => redis::cmd("SMEMBERS"),
            "zset" => redis::cmd("ZRANGE"),
            "stream" => redis::cmd("XRANGE"),
            _ => continue,
        };
        command.arg(&key);
        match kind.as_str() {
            "list" | "zset" => {
                command.arg(0).arg(-1);
            }
            "stream" => {
                command.arg("-").arg("+");
            }
            _ => {}
        }
        let values: redis::Value = command.query_async(&mut conn).await.expect("value");
        dump.push_str(&key);
        dump.push('\n');
        flatten(&values, &mut dump);
    }
    dump
}

fn flatten(value: &redis::Value, out: &mut String) {
    match value {
        redis::Value::BulkString(bytes) => {
            out.push_str(&String::from_utf8_lossy(bytes));
            out.push('\n');
        }
        redis::Value::SimpleString(s) => {
            out.push_str(s);
            out.push('\n');
        }
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().for_each(|v| flatten(v, out));
        }
        redis::Value::Map(pairs) => pairs.iter().for_each(|(k, v)| {
            flatten(k, out);
            flatten(v, out);
        }),
        _ => {}
    }
}

/// Waits (bounded, polling state rather than timing) until the refresh job rotated the TikTok
/// link's tokens, so the queue has held `refresh_link` payloads.
async fn wait_for_a_refresh(conn: &sea_orm::DatabaseConnection, link_id: Uuid) {
    for _ in 0..300 {
        let l = link::Entity::find_by_id(link_id)
            .one(conn)
            .await
            .expect("link")
            .expect("exists");
        if l.last_refreshed_at.is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no refresh_link job ran");
}

async fn no_token_appears_in_the_database_logs_responses_or_jobs(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else {
        return;
    };
    // The PostgreSQL run queues its jobs in Redis, the SQLite run in `jobs.db`: both queues are
    // searched.
    let redis = match backend {
        Backend::Postgres => match TestRedis::create().await {
            Some(redis) => Some(redis),
            None => return,
        },
        Backend::Sqlite => None,
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let marker = format!("canary{}", Uuid::new_v4().simple());
    let server = start(&db, redis.as_ref(), dir.path(), &marker).await;
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
    let tiktok_link = links
        .iter()
        .find(|(l, _)| l.account_id == tiktok.id)
        .map(|(l, _)| l.id)
        .expect("tiktok link");
    wait_for_a_refresh(&conn, tiktok_link).await;
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

    // A creator's way in: an invite link, its Connect page, a TikTok sign-in started from it.
    let invite = server
        .graphql(
            &mut seen,
            "mutation($i: CreateConnectInviteInput!) { createConnectInvite(input: $i) { url } }",
            json!({"i": {"profileId": profile}}),
        )
        .await;
    let invite_url = invite["data"]["createConnectInvite"]["url"]
        .as_str()
        .expect("invite url")
        .to_owned();
    let invite_token = invite_url.rsplit('/').next().expect("token").to_owned();
    let page = server.client.get(&invite_url).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let start = server
        .client
        .get(format!(
            "{}/oauth/tiktok/start?invite={invite_token}",
            server.base
        ))
        .send()
        .await
        .expect("start");
    let mut authorize = url::Url::parse(start.headers()["location"].to_str().expect("location"))
        .expect("authorize url");
    authorize
        .query_pairs_mut()
        .append_pair("sandbox_user", "tiktok_mia");
    let consent = server.client.get(authorize).send().await.expect("consent");
    let back = consent.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    server
        .callbacks
        .lock()
        .expect("callbacks")
        .push(back.clone());
    let done = server.client.get(&back).send().await.expect("callback");
    assert_eq!(done.status(), 303, "back to the Connect page");
    let callbacks = std::mem::take(&mut *server.callbacks.lock().expect("callbacks"));
    drop(server);

    let jobs = match &redis {
        Some(redis) => redis_dump(redis).await,
        None => {
            let bytes = sqlite_bytes(&format!(
                "sqlite://{}",
                dir.path().join("jobs.db").display()
            ));
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    assert!(
        jobs.contains("refresh_link") && jobs.contains(&tiktok_link.to_string()),
        "the queue holds the refresh payloads (so searching it means something)"
    );
    assert!(!jobs.contains(&marker), "a job payload carries a token");
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
    // Access logs: the invite link, OAuth codes and states were in request paths and query
    // strings, and none of them is in a log line.
    assert!(
        logs.contains("\"path\":\"/connect/{token}\"")
            && logs.contains("\"path\":\"/oauth/{platform}/callback\""),
        "access log lines for the Connect page and the callbacks were written"
    );
    let mut secrets = vec![invite_token];
    for url in &callbacks {
        for (name, value) in url::Url::parse(url).expect("callback url").query_pairs() {
            if name == "code" || name == "state" {
                secrets.push(value.into_owned());
            }
        }
    }
    assert!(
        secrets.len() >= 11,
        "five codes and five states and the invite: {secrets:?}"
    );
    for secret in &secrets {
        if let Some(line) = logs.lines().find(|l| l.contains(secret.as_str())) {
            panic!("a log line carries an invite secret, code or state: {line}");
        }
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

on_both_backends!(no_token_appears_in_the_database_logs_responses_or_jobs);

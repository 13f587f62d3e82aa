//! Credentials and budgets at the HTTP edge: rate limits (in memory, and shared through Redis by
//! two replicas), JWKS key rotation picked up without a restart, a PEM public key, and the
//! operator's CLI for organizations, keys and development tokens.

use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use domain::access::Scope;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use tests::{
    on_both_backends, spawn_app_with, spawn_replica, Backend, Credential, TestApp, TestRedis,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::creatorlink_bin;

const VIEWER: &str = "{ viewer { kind } }";

async fn an_api_key_over_its_rate_limit_gets_429_with_retry_after(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.auth.rate_limit_per_minute = 1;
        c.auth.rate_limit_burst = 3;
    })
    .await
    else {
        return;
    };
    let key = Credential::ApiKey(app.api_key(&[Scope::ProfilesRead]).await);
    for _ in 0..3 {
        let (status, _) = app.graphql_as(&key, VIEWER, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = app
        .request_as(&key)
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Another caller has a budget of its own.
    let (status, _) = app
        .graphql_as(
            &Credential::ApiKey(app.api_key(&[Scope::ProfilesRead]).await),
            VIEWER,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn two_replicas_on_redis_share_one_budget(backend: Backend) {
    let Some(redis) = TestRedis::create().await else {
        return;
    };
    let limits = |c: &mut api::Config| {
        c.redis.url = Some(redis.url.clone());
        c.redis.prefix = redis.prefix.clone();
        c.auth.rate_limit_per_minute = 1;
        c.auth.rate_limit_burst = 3;
    };
    let Some(first) = spawn_app_with(backend, limits).await else {
        return;
    };
    let second = spawn_replica(&first, limits).await;
    let key = Credential::ApiKey(first.api_key(&[Scope::ProfilesRead]).await);
    for app in [&first, &first, &second] {
        let (status, _) = app.graphql_as(&key, VIEWER, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = second.graphql_as(&key, VIEWER, json!({})).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the replicas share the budget"
    );
    let (status, _) = first.graphql_as(&key, VIEWER, json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

/// A P-256 key pair for ES256 tokens.
struct EcKey {
    pkcs8: Vec<u8>,
    point: Vec<u8>,
    kid: String,
}

impl EcKey {
    fn generate(kid: &str) -> EcKey {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generate")
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .expect("parse");
        EcKey {
            point: pair.public_key().as_ref().to_vec(),
            pkcs8,
            kid: kid.into(),
        }
    }

    fn jwk(&self) -> Value {
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&self.point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&self.point[33..65]),
        })
    }

    fn pem(&self) -> String {
        // SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, then the uncompressed point.
        let mut der = hex_decode("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        der.extend_from_slice(&self.point);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    fn token(&self, app: &TestApp, with_kid: bool) -> String {
        let mut header = Header::new(Algorithm::ES256);
        if with_kid {
            header.kid = Some(self.kid.clone());
        }
        jsonwebtoken::encode(
            &header,
            &app.admin_claims(),
            &EncodingKey::from_ec_der(&self.pkcs8),
        )
        .expect("sign")
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Serves whatever JSON `body` holds at any path, counting requests.
async fn serve_json(body: Arc<Mutex<Value>>, hits: Arc<Mutex<usize>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            *hits.lock().expect("hits") += 1;
            let text = body.lock().expect("body").to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    port
}

async fn a_jwks_rotation_to_a_new_kid_is_picked_up_without_restart(backend: Backend) {
    let first = EcKey::generate("key-1");
    let second = EcKey::generate("key-2");
    let body = Arc::new(Mutex::new(json!({ "keys": [first.jwk()] })));
    let hits = Arc::new(Mutex::new(0));
    let port = serve_json(body.clone(), hits.clone()).await;
    let Some(app) = spawn_app_with(backend, |c| {
        c.auth.jwks_url = Some(format!("http://127.0.0.1:{port}/.well-known/jwks.json"));
        c.auth.jwks_min_refetch_seconds = 0;
    })
    .await
    else {
        return;
    };
    let as_token = |t: String| Credential::Bearer(t);
    let (status, body1) = app
        .graphql_as(&as_token(first.token(&app, true)), VIEWER, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body1}");
    let (status, _) = app
        .graphql_as(&as_token(first.token(&app, true)), VIEWER, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(*hits.lock().expect("hits"), 1, "the key set is cached");

    // The provider rotates: a token signed with the new key is accepted at once.
    *body.lock().expect("body") = json!({ "keys": [second.jwk()] });
    let (status, body2) = app
        .graphql_as(&as_token(second.token(&app, true)), VIEWER, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body2}");
    assert_eq!(*hits.lock().expect("hits"), 2);

    // A key nobody published, and an HS256 token forged with a public key, are refused.
    let stranger = EcKey::generate("key-3");
    let (status, refused) = app
        .graphql_as(&as_token(stranger.token(&app, true)), VIEWER, json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let mut impostor = second.token(&app, true);
    impostor.replace_range(impostor.len() - 4.., "AAAA");
    let (status, _) = app.graphql_as(&as_token(impostor), VIEWER, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_pem_public_key_verifies_es256_tokens(backend: Backend) {
    let key = EcKey::generate("pem");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("idp.pem");
    std::fs::write(&path, key.pem()).expect("write");
    let Some(app) =
        spawn_app_with(backend, |c| c.auth.jwt_public_key_file = Some(path.clone())).await
    else {
        return;
    };
    let (status, body) = app
        .graphql_as(
            &Credential::Bearer(key.token(&app, false)),
            VIEWER,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["viewer"]["kind"], "USER");
    let other = EcKey::generate("other");
    let (status, _) = app
        .graphql_as(
            &Credential::Bearer(other.token(&app, false)),
            VIEWER,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

on_both_backends!(
    an_api_key_over_its_rate_limit_gets_429_with_retry_after,
    two_replicas_on_redis_share_one_budget,
    a_jwks_rotation_to_a_new_kid_is_picked_up_without_restart,
    a_pem_public_key_verifies_es256_tokens,
);

fn creatorlink(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(creatorlink_bin());
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("CREATORLINK_AUTH_JWT_HS256_SECRET")
        .env("CREATORLINK_LOG_LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_create_organizations_keys_and_development_tokens_from_the_cli() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |_| {}).await else {
        return;
    };
    let secret = tests::TEST_JWT_SECRET;
    let env = [
        ("DATABASE_URL", app.db.url.as_str()),
        ("CREATORLINK_AUTH_JWT_HS256_SECRET", secret),
    ];
    let stdout = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let org = stdout(creatorlink(&["org", "create", "Acme Agency"], &env));
    uuid::Uuid::parse_str(&org).expect("the org id");
    let key = stdout(creatorlink(
        &[
            "key",
            "create",
            "--org",
            &org,
            "--scopes",
            "profiles:read,metrics:read",
        ],
        &env,
    ));
    assert!(key.starts_with("cl_live_"), "{key}");
    let token = stdout(creatorlink(
        &["token", "issue", "--org", &org, "--role", "manager"],
        &env,
    ));

    let (status, body) = app
        .graphql_as(
            &Credential::ApiKey(key),
            "{ viewer { kind scopes organization { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["viewer"]["scopes"],
        json!(["PROFILES_READ", "METRICS_READ"])
    );
    assert_eq!(
        body["data"]["viewer"]["organization"]["name"],
        "Acme Agency"
    );
    let (status, body) = app
        .graphql_as(
            &Credential::Bearer(token),
            "{ viewer { role organization { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["viewer"]["role"], "MANAGER");

    // Without an HS256 secret there is nothing to sign with; a bad scope is named.
    let out = creatorlink(
        &["token", "issue", "--org", &org, "--role", "admin"],
        &[("DATABASE_URL", app.db.url.as_str())],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HS256"));
    let out = creatorlink(
        &["key", "create", "--org", &org, "--scopes", "profiles:write"],
        &env,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("profiles:write"));
}

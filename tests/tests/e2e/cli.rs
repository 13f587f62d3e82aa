//! The `creatorlink` command line as an operator uses it: a misconfigured start names the bad
//! setting in one line and exits non-zero; migrations go down and up again on both databases.

use std::process::{Command, Output};

use tests::{on_both_backends, Backend, TestDatabase};

use crate::creatorlink_bin;

fn creatorlink(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cmd = Command::new(creatorlink_bin());
    cmd.args(args)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("CREATORLINK_LOG_LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success(), "the command must fail");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    stderr
}

#[test]
fn a_bad_database_url_scheme_is_named_and_the_start_refused() {
    let out = creatorlink(&["serve"], &[("DATABASE_URL", "mysql://root@localhost/db")]);
    let line = one_line_error(&out);
    assert!(line.contains("DATABASE_URL"), "{line}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreadable_config_file_is_named_and_the_start_refused() {
    let out = creatorlink(&["--config", "/no/such/creatorlink.toml", "serve"], &[]);
    let line = one_line_error(&out);
    assert!(line.contains("/no/such/creatorlink.toml"), "{line}");
}

#[test]
fn an_invalid_port_is_named_and_the_start_refused() {
    let out = creatorlink(&["serve"], &[("CREATORLINK_HTTP_PORT", "70000")]);
    let line = one_line_error(&out);
    assert!(line.contains("CREATORLINK_HTTP_PORT"), "{line}");
}

#[test]
fn a_config_file_with_a_typo_names_the_setting() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("creatorlink.toml");
    std::fs::write(&path, "[http]\nprot = 8081\n").expect("write");
    let out = creatorlink(&["--config", path.to_str().expect("utf-8"), "serve"], &[]);
    let line = one_line_error(&out);
    assert!(line.contains("prot"), "{line}");
}

/// Production settings that pass every other check (vault keys, a configured Meta and TikTok
/// app), so the platforms check is what decides.
fn production_env(keys: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CREATORLINK_MODE", "production".into()),
        ("CREATORLINK_VAULT_KEYS", keys.into()),
        ("CREATORLINK_PLATFORMS_META_CLIENT_ID", "123".into()),
        (
            "CREATORLINK_PLATFORMS_META_CLIENT_SECRET",
            "meta-secret".into(),
        ),
        ("CREATORLINK_PLATFORMS_TIKTOK_CLIENT_ID", "ck".into()),
        ("CREATORLINK_PLATFORMS_TIKTOK_CLIENT_SECRET", "cs".into()),
    ]
}

#[test]
fn production_without_a_platform_app_refuses_to_start_naming_the_setting() {
    let keys = format!("k1:{}", domain::vault::generate_key());
    let env = production_env(&keys);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = creatorlink(&["serve"], &env);
    let line = one_line_error(&out);
    assert!(
        line.contains("CREATORLINK_PLATFORMS_GOOGLE_CLIENT_ID"),
        "{line}"
    );
    assert!(line.contains("CREATORLINK_SANDBOX_ENABLED"), "{line}");
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 18: with the sandbox enabled in production, anyone could move the application clock
/// through `/sandbox/control/clock` and sign deauthorization callbacks with the sandbox apps'
/// secrets from the source. Production refuses to start with it, even when only one platform
/// lacks an app and even with every app configured.
#[test]
fn production_refuses_to_start_with_the_sandbox_enabled() {
    let keys = format!("k1:{}", domain::vault::generate_key());
    let mut some_apps = production_env(&keys);
    some_apps.push(("CREATORLINK_SANDBOX_ENABLED", "true".into()));
    let mut every_app = some_apps.clone();
    every_app.push(("CREATORLINK_PLATFORMS_GOOGLE_CLIENT_ID", "g".into()));
    every_app.push(("CREATORLINK_PLATFORMS_GOOGLE_CLIENT_SECRET", "gs".into()));
    for env in [some_apps, every_app] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = creatorlink(&["serve"], &env);
        let line = one_line_error(&out);
        assert!(line.contains("CREATORLINK_SANDBOX_ENABLED"), "{line}");
        assert_eq!(out.status.code(), Some(2));
    }
}

#[test]
fn development_refuses_a_missing_app_when_the_sandbox_is_disabled() {
    let out = creatorlink(&["serve"], &[("CREATORLINK_SANDBOX_ENABLED", "false")]);
    let line = one_line_error(&out);
    assert!(
        line.contains("CREATORLINK_PLATFORMS_META_CLIENT_ID"),
        "{line}"
    );
}

#[test]
fn schema_prints_the_sdl() {
    let out = creatorlink(&["schema"], &[]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), api::graphql::sdl());
}

async fn migrations_go_down_and_up_again(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else {
        return;
    };
    let env = [("DATABASE_URL", db.url.as_str())];
    let run = |args: &[&str]| {
        let out = creatorlink(args, &env);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["migrate", "up"]);
    let status = run(&["migrate", "status"]);
    // Each line is `applied  <name>` or `pending  <name>` (a name may contain either word).
    let states = |status: &str| -> Vec<String> {
        status
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    };
    assert!(
        states(&status).iter().all(|s| s == "applied") && !states(&status).is_empty(),
        "{status}"
    );
    run(&["migrate", "down"]);
    let status = run(&["migrate", "status"]);
    assert!(
        states(&status).iter().all(|s| s == "pending") && !states(&status).is_empty(),
        "{status}"
    );
    run(&["migrate", "up"]);
    let status = run(&["migrate", "status"]);
    assert!(states(&status).iter().all(|s| s == "applied"), "{status}");

    // The schema is whole again: the server starts on it without migrating.
    let conn = db.connect().await;
    domain::organizations::create(&conn, "after down and up")
        .await
        .expect("tables exist");
}

on_both_backends!(migrations_go_down_and_up_again);

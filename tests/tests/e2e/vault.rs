//! The token vault as operators meet it: the embedded default creates its key file (0600) and
//! says so, production refuses to start without keys, and `creatorlink vault rotate` re-seals
//! every stored token under a new key, resumably.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use domain::entities::link;
use domain::vault::{Aad, Keyring, TokenKind};
use sea_orm::EntityTrait;
use tests::{on_both_backends, spawn_app, spawn_app_with, Backend};

use crate::connect::{connect, new_profile};
use crate::creatorlink_bin;

async fn the_embedded_default_creates_a_private_key_file_and_says_so(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let path = app.data_dir.path().join("vault.key");
    let mode = std::fs::metadata(&path)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let logs = tests::logs().contents();
    assert!(
        logs.contains("created a new token vault key file")
            && logs.contains(path.to_str().expect("utf-8")),
        "the creation is logged"
    );
}

#[test]
fn production_without_vault_keys_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = Command::new(creatorlink_bin())
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("CREATORLINK_MODE", "production")
        .env("CREATORLINK_LOG_LEVEL", "warn")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CREATORLINK_VAULT_KEYS"), "{stderr}");
    assert!(
        !dir.path().join("vault.key").exists(),
        "no key file is made up in production"
    );
}

async fn vault_rotate_reseals_every_token_under_the_new_key_and_can_be_rerun(backend: Backend) {
    let old = format!("k1:{}", domain::vault::generate_key());
    let new = format!("k2:{}", domain::vault::generate_key());
    let keys = old.clone();
    let Some(app) = spawn_app_with(backend, move |c| {
        c.vault.keys = Some(api::config::ConfigSecret::new(keys));
    })
    .await
    else {
        return;
    };
    let db = app.db.connect().await;
    let (_, profile) = new_profile(&app, &db, "Leo").await;
    let (status, _) = connect(&app, &profile, "TIKTOK", "tiktok_leo").await;
    assert_eq!(status, 200);
    let (_, page) = connect(&app, &profile, "INSTAGRAM", "meta_ana").await;
    assert!(
        page.contains("selection"),
        "a Meta grant waits for a Page choice"
    );
    let before = link::Entity::find().all(&db).await.expect("links");
    assert!(before.iter().all(|l| l
        .access_token
        .as_deref()
        .is_some_and(|t| t.starts_with("v1.k1."))));

    // A revoke the platform did not confirm, kept sealed to try again.
    let pending = domain::link::revocation::queue(
        &db,
        &Keyring::from_config(&old).expect("keyring"),
        app.org,
        None,
        domain::Provider::Tiktok,
        &domain::secret::Secret::new("sandbox_at_pending"),
        TokenKind::Access,
        "503",
        chrono::Utc::now(),
    )
    .await
    .expect("queued");

    let rotate = |batch: &str| {
        Command::new(creatorlink_bin())
            .args(["vault", "rotate", "--batch-size", batch])
            .env("DATABASE_URL", &app.db.url)
            .env("CREATORLINK_VAULT_KEYS", format!("{new},{old}"))
            .env("CREATORLINK_LOG_LEVEL", "warn")
            .output()
            .expect("runs")
    };
    let out = rotate("1");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Access + refresh token of the TikTok link, the pending Meta grant and its PKCE verifier
    // (Meta flows use PKCE, issue 18), and the pending revoke.
    assert!(stdout.contains("5 re-sealed"), "{stdout}");

    let only_new = Keyring::from_config(&new).expect("keyring");
    for l in link::Entity::find().all(&db).await.expect("links") {
        let access = l.access_token.as_deref().expect("access");
        assert!(access.starts_with("v1.k2."), "under the new key");
        let opened = only_new
            .open(access, &Aad::new(l.id, TokenKind::Access))
            .expect("the new key alone opens it");
        assert!(opened.expose().starts_with("sandbox_at_"));
    }
    let row = domain::entities::pending_revocation::Entity::find_by_id(pending)
        .one(&db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(
        only_new
            .open(&row.token, &Aad::new(pending, TokenKind::Access))
            .expect("the new key alone opens the pending revoke's token")
            .expose(),
        "sandbox_at_pending"
    );
    let again = rotate("100");
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success());
    assert!(
        stdout.contains("0 re-sealed") && stdout.contains("5 already current"),
        "{stdout}"
    );
}

on_both_backends!(
    the_embedded_default_creates_a_private_key_file_and_says_so,
    vault_rotate_reseals_every_token_under_the_new_key_and_can_be_rerun,
);

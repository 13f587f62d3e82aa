//! Token refresh single flight: many workers over many due links, a platform whose refresh
//! tokens rotate and die when reused (as TikTok's do), every link refreshed exactly once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::entities::link;
use domain::kinds::Provider;
use domain::platforms::{
    Audience, DailyMetrics, MediaItem, PlatformClient, PlatformError, Profile, RefreshInput,
    TokenSet,
};
use domain::secret::Secret;
use domain::vault::{Aad, TokenKind};
use domain::{InvalidReason, LinkStatus, Platform};
use jobs::refresh::RefreshLink;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use tests::{on_both_backends, spawn_app_with, Backend};
use url::Url;

use crate::jobs::linked_account;

/// A TikTok-like token endpoint: each refresh token works once.
#[derive(Default)]
struct RotatingTokens {
    used: Mutex<HashSet<String>>,
    calls: Mutex<u32>,
    reused: Mutex<u32>,
}

#[async_trait]
impl PlatformClient for RotatingTokens {
    fn provider(&self) -> Provider {
        Provider::Tiktok
    }
    fn authorize_url(&self, _: &str, _: Option<&str>) -> Url {
        Url::parse("http://unused.test").expect("url")
    }
    fn requested_scopes(&self) -> &'static [&'static str] {
        &[]
    }
    fn required_scopes(&self) -> &'static [&'static str] {
        &[]
    }
    fn supports_pkce(&self) -> bool {
        false
    }
    async fn exchange_code(
        &self,
        _: &str,
        _: Option<&Secret>,
        _: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        Err(PlatformError::BadRequest {
            message: "unused".into(),
        })
    }
    async fn refresh(
        &self,
        input: &RefreshInput,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, PlatformError> {
        *self.calls.lock().expect("lock") += 1;
        let old = input
            .refresh_token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if !self.used.lock().expect("lock").insert(old.clone()) {
            *self.reused.lock().expect("lock") += 1;
            return Err(PlatformError::Invalid {
                reason: InvalidReason::SessionInvalidated,
                message: "invalid_grant".into(),
            });
        }
        Ok(TokenSet {
            access_token: Secret::new(format!("{old}-access")),
            access_expires_at: Some(now + chrono::Duration::hours(2)),
            refresh_token: Some(Secret::new(format!("{old}-next"))),
            refresh_expires_at: Some(now + chrono::Duration::days(180)),
            data_access_expires_at: None,
            granted_scopes: vec![],
            provider_user_id: None,
        })
    }
    async fn revoke(&self, _: &Secret) -> Result<(), PlatformError> {
        Ok(())
    }
    async fn profile(&self, _: &Secret) -> Result<Vec<Profile>, PlatformError> {
        Ok(vec![])
    }
    async fn media(
        &self,
        _: &Secret,
        _: &str,
        _: Option<DateTime<Utc>>,
    ) -> Result<Vec<MediaItem>, PlatformError> {
        Ok(vec![])
    }
    async fn media_insights(
        &self,
        _: &Secret,
        _: &str,
        _: &[(String, domain::MediaKind)],
    ) -> Result<Vec<MediaItem>, PlatformError> {
        Ok(vec![])
    }
    async fn daily_metrics(
        &self,
        _: &Secret,
        _: &str,
        _: NaiveDate,
        _: NaiveDate,
    ) -> Result<Vec<DailyMetrics>, PlatformError> {
        Ok(vec![])
    }
    async fn audience(
        &self,
        _: &Secret,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Audience, PlatformError> {
        Ok(Audience::Unavailable {
            reason: "unused".into(),
        })
    }
}

async fn four_workers_over_due_links_refresh_each_link_exactly_once_and_never_reuse_a_refresh_token(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |c| c.jobs.in_process = false).await else {
        return;
    };
    let db = app.db.connect().await;
    let org = app.org.uuid();
    let keyring =
        domain::vault::Keyring::from_config(&format!("k1:{}", domain::vault::generate_key()))
            .expect("keyring");
    let now = Utc::now();
    let n = 60;
    let mut links = Vec::new();
    for i in 0..n {
        let (_, l) = linked_account(
            &db,
            org,
            Platform::Tiktok,
            &format!("tt{i}"),
            now - chrono::Duration::days(3),
        )
        .await;
        let mut m = l.clone().into_active_model();
        m.access_token = Set(Some(keyring.seal(
            &Secret::new(format!("a{i}")),
            &Aad::new(l.id, TokenKind::Access),
        )));
        m.refresh_token = Set(Some(keyring.seal(
            &Secret::new(format!("r{i}")),
            &Aad::new(l.id, TokenKind::Refresh),
        )));
        m.access_token_expires_at = Set(Some(now + chrono::Duration::minutes(5)));
        m.update(&db).await.expect("tokens");
        links.push(l.id);
    }
    let platform = Arc::new(RotatingTokens::default());
    let mut platforms = jobs::Platforms::new();
    platforms.insert(
        Provider::Tiktok,
        platform.clone() as Arc<dyn PlatformClient>,
    );
    let keyring = Arc::new(keyring);
    let workers: Vec<jobs::JobContext> = (0..4)
        .map(|w| {
            jobs::JobContext::new(
                app.jobs.db().clone(),
                app.queue.clone(),
                platforms.clone(),
                Some(keyring.clone()),
                jobs::Clock::system(),
                jobs::JobMetrics::unregistered(),
                app.config.job_settings(),
                format!("worker-{w}"),
            )
        })
        .collect();
    // Every worker runs a refresh job for every link, all at once.
    let mut tasks = Vec::new();
    for ctx in workers {
        let links = links.clone();
        tasks.push(tokio::spawn(async move {
            for id in links {
                jobs::execute(&RefreshLink { link_id: id }, &ctx).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker task");
    }
    assert_eq!(
        *platform.reused.lock().expect("lock"),
        0,
        "no refresh token was used twice"
    );
    assert_eq!(
        *platform.calls.lock().expect("lock"),
        n,
        "one refresh call per link"
    );
    for id in links {
        let l = link::Entity::find_by_id(id)
            .one(&db)
            .await
            .expect("q")
            .expect("link");
        assert_eq!(l.status, LinkStatus::Linked);
        assert_eq!(l.version, 2, "one token write");
        assert!(l.lease_owner.is_none(), "no lease left behind");
        let refresh = keyring
            .open(
                l.refresh_token.as_deref().expect("sealed"),
                &Aad::new(id, TokenKind::Refresh),
            )
            .expect("opens");
        assert!(
            refresh.expose().ends_with("-next"),
            "the rotated refresh token was stored"
        );
    }
}

on_both_backends!(
    four_workers_over_due_links_refresh_each_link_exactly_once_and_never_reuse_a_refresh_token
);

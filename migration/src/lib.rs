//! creatorlink's schema migrations. They run on SQLite and PostgreSQL alike, use only sea-query's
//! portable builders, and define their own identifiers instead of importing the entities, so that
//! editing an entity can never rewrite history.

pub use sea_orm_migration::prelude::*;
pub use sea_orm_migration::MigratorTrait;

mod m20261123_000001_tenants_profiles;
mod m20261123_000002_accounts_links;
mod m20261123_000003_metrics_media;
mod m20261123_000004_events_keys_invites;
mod m20261123_000005_webhooks;
mod m20261124_000006_oauth_page_selection;
mod m20261124_000007_jobs;
mod m20261124_000008_webhook_attempts;
mod m20261124_000010_deauthorization_privacy;
mod m20261124_000011_campaigns;
mod m20261125_000012_platform_quota;
mod m20261125_000090_link_event_notify;
mod m20261126_000070_dead_job_organization;
mod m20261204_000080_pending_revocation;
mod m20261206_000100_followers_hidden;
mod m20261206_000200_connect_return_urls;

/// Every migration in the order it runs.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_tenants_profiles::Migration),
            Box::new(m20261123_000002_accounts_links::Migration),
            Box::new(m20261123_000003_metrics_media::Migration),
            Box::new(m20261123_000004_events_keys_invites::Migration),
            Box::new(m20261123_000005_webhooks::Migration),
            Box::new(m20261124_000006_oauth_page_selection::Migration),
            Box::new(m20261124_000007_jobs::Migration),
            Box::new(m20261124_000008_webhook_attempts::Migration),
            Box::new(m20261124_000010_deauthorization_privacy::Migration),
            Box::new(m20261124_000011_campaigns::Migration),
            Box::new(m20261125_000012_platform_quota::Migration),
            Box::new(m20261125_000090_link_event_notify::Migration),
            Box::new(m20261126_000070_dead_job_organization::Migration),
            Box::new(m20261204_000080_pending_revocation::Migration),
            Box::new(m20261206_000100_followers_hidden::Migration),
            Box::new(m20261206_000200_connect_return_urls::Migration),
        ]
    }
}

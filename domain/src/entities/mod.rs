//! SeaORM entities, one module a table. The schema itself is defined by the `migration` crate;
//! these must agree with it.

pub mod api_key;
pub mod audience;
pub mod campaign;
pub mod campaign_content;
pub mod campaign_post_url;
pub mod campaign_profile;
pub mod connect_invite;
pub mod creator_profile;
pub mod creator_profile_member;
pub mod dead_job;
pub mod deletion_request;
pub mod link;
pub mod link_event;
pub mod media;
pub mod media_metric;
pub mod metric_snapshot;
pub mod oauth_state;
pub mod organization;
pub mod outbox_cursor;
pub mod pending_revocation;
pub mod platform_quota;
pub mod social_account;
pub mod sync_state;
pub mod webhook_delivery;
pub mod webhook_delivery_attempt;
pub mod webhook_endpoint;

/// Every entity under a table-like name, e.g. `SocialAccount::find()`.
pub mod prelude {
    pub use super::api_key::Entity as ApiKey;
    pub use super::audience::Entity as Audience;
    pub use super::campaign::Entity as Campaign;
    pub use super::campaign_content::Entity as CampaignContent;
    pub use super::campaign_post_url::Entity as CampaignPostUrl;
    pub use super::campaign_profile::Entity as CampaignProfile;
    pub use super::connect_invite::Entity as ConnectInvite;
    pub use super::creator_profile::Entity as CreatorProfile;
    pub use super::creator_profile_member::Entity as CreatorProfileMember;
    pub use super::dead_job::Entity as DeadJob;
    pub use super::deletion_request::Entity as DeletionRequest;
    pub use super::link::Entity as Link;
    pub use super::link_event::Entity as LinkEvent;
    pub use super::media::Entity as Media;
    pub use super::media_metric::Entity as MediaMetric;
    pub use super::metric_snapshot::Entity as MetricSnapshot;
    pub use super::oauth_state::Entity as OauthState;
    pub use super::organization::Entity as Organization;
    pub use super::outbox_cursor::Entity as OutboxCursor;
    pub use super::pending_revocation::Entity as PendingRevocation;
    pub use super::platform_quota::Entity as PlatformQuota;
    pub use super::social_account::Entity as SocialAccount;
    pub use super::sync_state::Entity as SyncState;
    pub use super::webhook_delivery::Entity as WebhookDelivery;
    pub use super::webhook_delivery_attempt::Entity as WebhookDeliveryAttempt;
    pub use super::webhook_endpoint::Entity as WebhookEndpoint;
}

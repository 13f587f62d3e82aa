//! The link event log: append-only audit and outbox. Every link status change writes exactly one
//! row here in the same transaction as the change, so subscribers and webhooks (fed from this
//! table) never see a change that did not happen, nor miss one that did. Ids increase
//! monotonically (an auto-increment key), so `id > n` is a cursor per organization.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, NotSet, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{link_event, social_account};
use crate::kinds::{LinkStatus, Platform};
use crate::tenant::OrgId;

/// What kind of event a row is.
pub mod kind {
    /// A link moved from one status to another.
    pub const STATUS_CHANGED: &str = "STATUS_CHANGED";
    /// The link is about to expire (emitted at the window and again near the end).
    pub const EXPIRING_SOON_WARNING: &str = "EXPIRING_SOON_WARNING";
    /// A resource keeps failing or stories were missed; the link itself is unchanged.
    pub const FRESHNESS: &str = "FRESHNESS";
    /// A media item became content of a campaign (detail: campaignId, contentId, mediaId,
    /// matchedBy, rule).
    pub const CAMPAIGN_CONTENT_MATCHED: &str = "CAMPAIGN_CONTENT_MATCHED";
    /// Content was taken out of a campaign (detail: campaignId, contentId, mediaId).
    pub const CAMPAIGN_CONTENT_REMOVED: &str = "CAMPAIGN_CONTENT_REMOVED";
    /// An account with content in an ACTIVE campaign became INVALID or EXPIRED (detail:
    /// campaignId); the brand needs the creator to reconnect.
    pub const CAMPAIGN_ACCOUNT_BROKEN: &str = "CAMPAIGN_ACCOUNT_BROKEN";
}

/// A new event to record.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub org: OrgId,
    pub account_id: Option<Uuid>,
    pub profile_id: Option<Uuid>,
    pub platform: Option<Platform>,
    pub kind: &'static str,
    pub from: Option<LinkStatus>,
    pub to: Option<LinkStatus>,
    pub reason: Option<String>,
    pub actor: Actor,
    pub detail: Option<Value>,
    pub occurred_at: DateTime<Utc>,
}

impl NewEvent {
    /// A status change of `account`'s link.
    pub fn status_changed(
        account: &social_account::Model,
        from: LinkStatus,
        to: LinkStatus,
        reason: Option<String>,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Self {
        NewEvent {
            org: OrgId::new(account.organization_id),
            account_id: Some(account.id),
            profile_id: account.profile_id,
            platform: Some(account.platform),
            kind: kind::STATUS_CHANGED,
            from: Some(from),
            to: Some(to),
            reason,
            actor,
            detail: None,
            occurred_at: at,
        }
    }
}

/// Appends `event`; pass the transaction that makes the change it records.
pub async fn record(
    db: &impl ConnectionTrait,
    event: NewEvent,
) -> Result<link_event::Model, sea_orm::DbErr> {
    link_event::ActiveModel {
        id: NotSet,
        organization_id: Set(event.org.uuid()),
        account_id: Set(event.account_id),
        profile_id: Set(event.profile_id),
        platform: Set(event.platform),
        kind: Set(event.kind.to_owned()),
        from_status: Set(event.from),
        to_status: Set(event.to),
        reason: Set(event.reason),
        actor: Set(event.actor.label()),
        detail: Set(event.detail),
        occurred_at: Set(event.occurred_at),
    }
    .insert(db)
    .await
}

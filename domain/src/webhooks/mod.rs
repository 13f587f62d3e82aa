//! Outbound webhooks: endpoints an organization registers, and the signed deliveries of link
//! events to them (fed from the `link_event` outbox, retried with backoff, see [`delivery`]).
//!
//! The signing secret is generated here, returned once to the caller and stored sealed by the
//! token vault (bound to the endpoint's id), so a database dump does not let anyone forge
//! deliveries.

pub mod delivery;
pub mod signature;
pub mod target;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::entities::{webhook_delivery, webhook_delivery_attempt, webhook_endpoint};
use crate::error::{DomainError, DomainResult};
use crate::events::kind;
use crate::secret::Secret;
use crate::tenant::OrgId;
use crate::vault::{Aad, Keyring, TokenKind};

pub use delivery::{deliver, DeliveryOutcome, DeliveryPolicy, WebhookSender};
pub use target::TargetPolicy;

/// The events an endpoint can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A link changed status (connected, expired, invalidated, unlinked, …).
    LinkStatusChanged,
    /// A link is about to expire.
    LinkExpiringSoon,
    /// A resource of a linked account keeps failing, or stories were missed.
    LinkFreshness,
    /// One of the organization's webhook endpoints was disabled after failing continuously.
    WebhookEndpointDisabled,
    /// A media item became content of a campaign.
    CampaignContentMatched,
    /// Content was taken out of a campaign.
    CampaignContentRemoved,
    /// An account with content in an active campaign became INVALID or EXPIRED.
    CampaignAccountBroken,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::LinkStatusChanged,
        EventType::LinkExpiringSoon,
        EventType::LinkFreshness,
        EventType::WebhookEndpointDisabled,
        EventType::CampaignContentMatched,
        EventType::CampaignContentRemoved,
        EventType::CampaignAccountBroken,
    ];

    /// The `link_event.kind` this type delivers.
    pub fn kind(self) -> &'static str {
        match self {
            EventType::LinkStatusChanged => kind::STATUS_CHANGED,
            EventType::LinkExpiringSoon => kind::EXPIRING_SOON_WARNING,
            EventType::LinkFreshness => kind::FRESHNESS,
            EventType::WebhookEndpointDisabled => kind::WEBHOOK_ENDPOINT_DISABLED,
            EventType::CampaignContentMatched => kind::CAMPAIGN_CONTENT_MATCHED,
            EventType::CampaignContentRemoved => kind::CAMPAIGN_CONTENT_REMOVED,
            EventType::CampaignAccountBroken => kind::CAMPAIGN_ACCOUNT_BROKEN,
        }
    }

    /// The `type` field of a delivered payload, e.g. `link.status_changed`.
    pub fn wire_name(self) -> &'static str {
        match self {
            EventType::LinkStatusChanged => "link.status_changed",
            EventType::LinkExpiringSoon => "link.expiring_soon",
            EventType::LinkFreshness => "link.freshness",
            EventType::WebhookEndpointDisabled => "webhook_endpoint.disabled",
            EventType::CampaignContentMatched => "campaign.content_matched",
            EventType::CampaignContentRemoved => "campaign.content_removed",
            EventType::CampaignAccountBroken => "campaign.account_broken",
        }
    }

    /// The type delivering events of `kind`, if any.
    pub fn from_kind(kind: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.kind() == kind)
    }
}

/// The event types stored on an endpoint (space-separated kinds).
pub fn event_types(endpoint: &webhook_endpoint::Model) -> Vec<EventType> {
    endpoint
        .event_types
        .split_whitespace()
        .filter_map(EventType::from_kind)
        .collect()
}

/// What a client asks for when registering an endpoint.
#[derive(Clone, Debug)]
pub struct NewEndpoint {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
}

/// A created endpoint and its signing secret; the secret is not retrievable again.
#[derive(Debug)]
pub struct CreatedEndpoint {
    pub endpoint: webhook_endpoint::Model,
    pub secret: Secret,
}

/// The associated data binding a sealed signing secret to its endpoint.
fn secret_aad(endpoint_id: Uuid) -> Aad {
    Aad::new(endpoint_id, TokenKind::WebhookSecret)
}

/// Registers a webhook endpoint after checking its URL against the SSRF rules.
#[tracing::instrument(skip_all, fields(org = %org))]
pub async fn create_endpoint(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    org: OrgId,
    new: NewEndpoint,
    policy: TargetPolicy,
    now: DateTime<Utc>,
) -> DomainResult<CreatedEndpoint> {
    let url = target::check(&new.url, policy).await?;
    if new.event_types.is_empty() {
        return Err(DomainError::invalid(
            "EVENT_TYPES_REQUIRED",
            Some("eventTypes"),
            "choose at least one event type",
        ));
    }
    let description = new
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        return Err(DomainError::invalid(
            "TOO_LONG",
            Some("description"),
            "the description is longer than 500 characters",
        ));
    }
    let mut kinds: Vec<&str> = new.event_types.iter().map(|t| t.kind()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let id = Uuid::now_v7();
    let secret = signature::generate_secret();
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(id),
        organization_id: Set(org.uuid()),
        url: Set(url.to_string()),
        description: Set(description),
        event_types: Set(kinds.join(" ")),
        secret: Set(keyring.seal(&secret, &secret_aad(id))),
        enabled: Set(true),
        disabled_reason: Set(None),
        consecutive_failures: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(CreatedEndpoint { endpoint, secret })
}

/// Opens an endpoint's signing secret.
pub fn signing_secret(
    keyring: &Keyring,
    endpoint: &webhook_endpoint::Model,
) -> DomainResult<Secret> {
    keyring
        .open(&endpoint.secret, &secret_aad(endpoint.id))
        .map_err(|e| {
            // The vault's errors carry no secret material.
            DomainError::Database(sea_orm::DbErr::Custom(format!(
                "webhook endpoint {}: {e}",
                endpoint.id
            )))
        })
}

/// One endpoint of the organization.
pub async fn get_endpoint(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("webhook endpoint"))
}

/// The organization's endpoints, oldest first.
pub async fn list_endpoints(
    db: &impl ConnectionTrait,
    org: OrgId,
) -> DomainResult<Vec<webhook_endpoint::Model>> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(org.uuid()))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await?)
}

/// Deletes an endpoint with its deliveries.
pub async fn delete_endpoint(db: &impl ConnectionTrait, org: OrgId, id: Uuid) -> DomainResult<()> {
    let deleted = webhook_endpoint::Entity::delete_many()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .filter(webhook_endpoint::Column::OrganizationId.eq(org.uuid()))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(DomainError::not_found("webhook endpoint"));
    }
    Ok(())
}

/// Turns an endpoint on (after it was disabled for failing) or off.
pub async fn set_enabled(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    enabled: bool,
    now: DateTime<Utc>,
) -> DomainResult<webhook_endpoint::Model> {
    let endpoint = get_endpoint(db, org, id).await?;
    let mut active: webhook_endpoint::ActiveModel = endpoint.into();
    active.enabled = Set(enabled);
    active.disabled_reason = Set((!enabled).then(|| "disabled by a user".to_owned()));
    active.consecutive_failures = Set(0);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// The latest deliveries to one endpoint, newest first.
pub async fn list_deliveries(
    db: &impl ConnectionTrait,
    org: OrgId,
    endpoint_id: Uuid,
    limit: u64,
) -> DomainResult<Vec<webhook_delivery::Model>> {
    get_endpoint(db, org, endpoint_id).await?;
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::OrganizationId.eq(org.uuid()))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_delivery::Column::EventId)
        .limit(limit)
        .all(db)
        .await?)
}

/// The tries of the given deliveries, oldest first (one query for a page of deliveries).
pub async fn attempts_of(
    db: &impl ConnectionTrait,
    delivery_ids: &[Uuid],
) -> DomainResult<Vec<webhook_delivery_attempt::Model>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(webhook_delivery_attempt::Entity::find()
        .filter(webhook_delivery_attempt::Column::DeliveryId.is_in(delivery_ids.iter().copied()))
        .order_by_asc(webhook_delivery_attempt::Column::DeliveryId)
        .order_by_asc(webhook_delivery_attempt::Column::Number)
        .all(db)
        .await?)
}

/// One delivery of the organization.
pub async fn get_delivery(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<webhook_delivery::Model> {
    webhook_delivery::Entity::find_by_id(id)
        .filter(webhook_delivery::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("webhook delivery"))
}

/// Schedules a delivery again now, with a fresh retry budget; the receiver gets the same event id
/// and the earlier attempts stay listed. Refused while the endpoint is disabled.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn redeliver(
    db: &impl ConnectionTrait,
    org: OrgId,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<webhook_delivery::Model> {
    let delivery = get_delivery(db, org, delivery_id).await?;
    let endpoint = get_endpoint(db, org, delivery.endpoint_id).await?;
    if !endpoint.enabled {
        return Err(DomainError::invalid(
            "ENDPOINT_DISABLED",
            Some("deliveryId"),
            "the endpoint is disabled; enable it first",
        ));
    }
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(delivery::status::PENDING),
        )
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .exec(db)
        .await?;
    get_delivery(db, org, delivery_id).await
}

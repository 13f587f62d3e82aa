//! Webhook endpoints and their deliveries.

use std::collections::HashMap;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::entities::{webhook_delivery, webhook_delivery_attempt, webhook_endpoint};
use domain::webhooks::{self, delivery::status, NewEndpoint};
use uuid::Uuid;

use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::user_error::{user_error, UserError};
use super::ApiContext;

/// The events a webhook endpoint can receive; the payload's `type` is given with each.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::webhooks::EventType")]
pub enum WebhookEventType {
    /// `link.status_changed`: a link changed status (connected, expired, invalidated, unlinked, …).
    LinkStatusChanged,
    /// `link.expiring_soon`: a link is about to expire.
    LinkExpiringSoon,
    /// `link.freshness`: a resource of a linked account keeps failing, or stories were missed.
    LinkFreshness,
    /// `webhook_endpoint.disabled`: one of the organization's endpoints was disabled after failing
    /// continuously.
    WebhookEndpointDisabled,
    /// `campaign.content_matched`: a media item became content of a campaign (`detail` names
    /// the campaign, the content and the rule).
    CampaignContentMatched,
    /// `campaign.content_removed`: content was taken out of a campaign.
    CampaignContentRemoved,
    /// `campaign.account_broken`: an account with content in an active campaign became INVALID
    /// or EXPIRED; ask the creator to reconnect.
    CampaignAccountBroken,
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first attempt.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// The last attempt failed; another is scheduled at `nextAttemptAt`.
    Failed,
    /// Given up after the last retry (about a day), or the endpoint is disabled.
    Dead,
}

/// A URL the organization's link events are POSTed to, signed with its secret.
/// Access through `node(id:)`: role admin; API keys with `webhooks:manage`; no creators.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::WebhookEndpoint, self.0.id)
    }

    /// The target URL.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// What the organization wrote about it.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The events it receives.
    async fn event_types(&self) -> Vec<WebhookEventType> {
        webhooks::event_types(&self.0)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// False once disabled (by a user, or after failing continuously); no deliveries are made.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why it is disabled.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// Deliveries that were given up in a row; reset by a success.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One try of a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// 1 for the first try, counting on across redeliveries.
    pub number: i32,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// Why it failed without an answer (timeout, refused target, connection error).
    pub error: Option<String>,
    /// The start of the response body (at most 512 characters; nothing more is kept).
    pub response_excerpt: Option<String>,
    /// How long the request took, in milliseconds.
    pub duration_ms: i64,
    /// When it was tried.
    pub attempted_at: DateTime<Utc>,
}

impl From<webhook_delivery_attempt::Model> for WebhookAttempt {
    fn from(a: webhook_delivery_attempt::Model) -> Self {
        WebhookAttempt {
            number: a.number,
            status_code: a.status_code,
            error: a.error,
            response_excerpt: a.response_excerpt,
            duration_ms: a.duration_ms,
            attempted_at: a.attempted_at,
        }
    }
}

/// The delivery of one event to one endpoint, with its attempts.
pub struct WebhookDelivery {
    pub model: webhook_delivery::Model,
    pub attempts: Vec<WebhookAttempt>,
}

#[Object]
impl WebhookDelivery {
    /// Opaque global id (pass it to `redeliverWebhook`).
    async fn id(&self) -> ID {
        ids::encode(NodeType::WebhookDelivery, self.model.id)
    }

    /// The delivered event's id (the payload's `id` and the `X-Creatorlink-Event-Id` header).
    async fn event_id(&self) -> ID {
        ID(self.model.event_id.to_string())
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        match self.model.status.as_str() {
            status::SUCCEEDED => WebhookDeliveryStatus::Succeeded,
            status::FAILED => WebhookDeliveryStatus::Failed,
            status::DEAD => WebhookDeliveryStatus::Dead,
            _ => WebhookDeliveryStatus::Pending,
        }
    }

    /// The HTTP status of the last attempt, when the receiver answered.
    async fn last_status_code(&self) -> Option<i32> {
        self.model.last_status_code
    }

    /// Why the last attempt failed without an answer.
    async fn last_error(&self) -> Option<&str> {
        self.model.last_error.as_deref()
    }

    /// When the next attempt is due (null once delivered or dead).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        match self.model.status.as_str() {
            status::PENDING | status::FAILED => self.model.next_attempt_at,
            _ => None,
        }
    }

    /// When the receiver accepted it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.model.delivered_at
    }

    /// When the delivery was created (right after the event).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// Every attempt, oldest first.
    async fn attempts(&self) -> &[WebhookAttempt] {
        &self.attempts
    }
}

/// Reading webhook endpoints and deliveries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The organization's webhook endpoints, oldest first.
    /// Access: role admin; API keys with `webhooks:manage`; no creators.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let api = ctx.api();
        let list = webhooks::list_endpoints(api.db(), api.org())
            .await
            .map_err(|e| to_graphql(e, api.request_id()))?;
        Ok(list.into_iter().map(WebhookEndpoint).collect())
    }

    /// The latest deliveries to an endpoint, newest event first, with their attempts and status
    /// codes. Null when the endpoint does not exist or is not visible to the caller.
    /// Access: role admin; API keys with `webhooks:manage`; no creators.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] endpoint_id: ID,
        #[graphql(desc = "How many deliveries (at most 100).", default = 20)] first: i32,
    ) -> Result<Option<Vec<WebhookDelivery>>> {
        let api = ctx.api();
        let Some(endpoint) = ids::decode_as(NodeType::WebhookEndpoint, &endpoint_id) else {
            return Ok(None);
        };
        let limit = first.clamp(0, 100) as u64;
        let deliveries = match webhooks::list_deliveries(api.db(), api.org(), endpoint, limit).await
        {
            Ok(d) => d,
            Err(domain::DomainError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(to_graphql(e, api.request_id())),
        };
        let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
        let mut attempts: HashMap<Uuid, Vec<WebhookAttempt>> = HashMap::new();
        for a in webhooks::attempts_of(api.db(), &ids)
            .await
            .map_err(|e| to_graphql(e, api.request_id()))?
        {
            attempts.entry(a.delivery_id).or_default().push(a.into());
        }
        Ok(Some(
            deliveries
                .into_iter()
                .map(|model| WebhookDelivery {
                    attempts: attempts.remove(&model.id).unwrap_or_default(),
                    model,
                })
                .collect(),
        ))
    }
}

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// An `https` URL (plain `http` is accepted in development mode) on a public address.
    pub url: String,
    /// The events to send there (at least one).
    pub event_types: Vec<WebhookEventType>,
    /// A note for the organization.
    pub description: Option<String>,
}

/// The result of `createWebhookEndpoint`.
#[derive(SimpleObject, Default)]
pub struct CreateWebhookEndpointPayload {
    /// The endpoint, when it was created.
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// The secret deliveries are signed with. Shown only here, once: store it now.
    pub signing_secret: Option<String>,
    /// Why nothing was created.
    pub user_errors: Vec<UserError>,
}

/// Which endpoint to delete.
#[derive(InputObject)]
pub struct DeleteWebhookEndpointInput {
    /// The endpoint's id.
    pub id: ID,
}

/// The result of `deleteWebhookEndpoint`.
#[derive(SimpleObject, Default)]
pub struct DeleteWebhookEndpointPayload {
    /// The id of the deleted endpoint.
    pub deleted_id: Option<ID>,
    /// Why nothing was deleted.
    pub user_errors: Vec<UserError>,
}

/// Turn an endpoint on or off.
#[derive(InputObject)]
pub struct SetWebhookEndpointEnabledInput {
    /// The endpoint's id.
    pub id: ID,
    /// True to resume deliveries (e.g. after it was disabled for failing), false to stop them.
    pub enabled: bool,
}

/// The result of `setWebhookEndpointEnabled`.
#[derive(SimpleObject, Default)]
pub struct SetWebhookEndpointEnabledPayload {
    /// The endpoint as it is now.
    pub webhook_endpoint: Option<WebhookEndpoint>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Which delivery to send again.
#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    /// The delivery's id (from `webhookDeliveries`).
    pub delivery_id: ID,
}

/// The result of `redeliverWebhook`.
#[derive(SimpleObject, Default)]
pub struct RedeliverWebhookPayload {
    /// The delivery, scheduled again now with a fresh retry budget.
    pub delivery: Option<WebhookDelivery>,
    /// Why it was not scheduled.
    pub user_errors: Vec<UserError>,
}

/// Managing webhook endpoints.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook endpoint and returns its signing secret, once. Deliveries are POSTs of
    /// `{id, type, occurredAt, data}` signed with HMAC-SHA256 (see the README).
    /// Access: role admin; API keys with `webhooks:manage`; no creators.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to create.")] input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let api = ctx.api();
        let live = api
            .live()
            .ok_or_else(|| async_graphql::Error::new("webhooks are not available"))?;
        let new = NewEndpoint {
            url: input.url,
            event_types: input.event_types.into_iter().map(Into::into).collect(),
            description: input.description,
        };
        match webhooks::create_endpoint(
            api.db(),
            &live.keyring,
            api.org(),
            new,
            live.webhook_targets,
            Utc::now(),
        )
        .await
        {
            Ok(created) => Ok(CreateWebhookEndpointPayload {
                webhook_endpoint: Some(WebhookEndpoint(created.endpoint)),
                signing_secret: Some(created.secret.expose().to_owned()),
                user_errors: Vec::new(),
            }),
            Err(e) => Ok(CreateWebhookEndpointPayload {
                user_errors: vec![user_error(e, "url", api.request_id())?],
                ..Default::default()
            }),
        }
    }

    /// Deletes an endpoint and its delivery history.
    /// Access: role admin; API keys with `webhooks:manage`; no creators.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to delete.")] input: DeleteWebhookEndpointInput,
    ) -> Result<DeleteWebhookEndpointPayload> {
        let api = ctx.api();
        let Some(id) = ids::decode_as(NodeType::WebhookEndpoint, &input.id) else {
            return Ok(DeleteWebhookEndpointPayload {
                user_errors: vec![UserError::not_found("id", "webhook endpoint")],
                ..Default::default()
            });
        };
        match webhooks::delete_endpoint(api.db(), api.org(), id).await {
            Ok(()) => Ok(DeleteWebhookEndpointPayload {
                deleted_id: Some(input.id),
                user_errors: Vec::new(),
            }),
            Err(e) => Ok(DeleteWebhookEndpointPayload {
                user_errors: vec![user_error(e, "id", api.request_id())?],
                ..Default::default()
            }),
        }
    }

    /// Resumes or stops deliveries to an endpoint.
    /// Access: role admin; API keys with `webhooks:manage`; no creators.
    async fn set_webhook_endpoint_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and the wanted state.")]
        input: SetWebhookEndpointEnabledInput,
    ) -> Result<SetWebhookEndpointEnabledPayload> {
        let api = ctx.api();
        let Some(id) = ids::decode_as(NodeType::WebhookEndpoint, &input.id) else {
            return Ok(SetWebhookEndpointEnabledPayload {
                user_errors: vec![UserError::not_found("id", "webhook endpoint")],
                ..Default::default()
            });
        };
        match webhooks::set_enabled(api.db(), api.org(), id, input.enabled, Utc::now()).await {
            Ok(endpoint) => Ok(SetWebhookEndpointEnabledPayload {
                webhook_endpoint: Some(WebhookEndpoint(endpoint)),
                user_errors: Vec::new(),
            }),
            Err(e) => Ok(SetWebhookEndpointEnabledPayload {
                user_errors: vec![user_error(e, "id", api.request_id())?],
                ..Default::default()
            }),
        }
    }

    /// Sends a delivery again now (same event id), with a fresh retry budget: enqueues a
    /// `deliver_webhook` job.
    /// Access: role admin; API keys with `webhooks:manage`; no creators.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to send again.")] input: RedeliverWebhookInput,
    ) -> Result<RedeliverWebhookPayload> {
        let api = ctx.api();
        let Some(id) = ids::decode_as(NodeType::WebhookDelivery, &input.delivery_id) else {
            return Ok(RedeliverWebhookPayload {
                user_errors: vec![UserError::not_found("deliveryId", "webhook delivery")],
                ..Default::default()
            });
        };
        let live = api
            .live()
            .ok_or_else(|| async_graphql::Error::new("webhooks are not available"))?;
        let now = Utc::now();
        match webhooks::redeliver(api.db(), api.org(), id, now).await {
            Ok(model) => {
                // The delivery is due now; should the enqueue fail, `webhook_scan` finds it.
                if let Err(e) =
                    jobs::webhooks::DeliverWebhook::enqueue_at(&live.queue, model.id, now, now)
                        .await
                {
                    tracing::warn!(delivery_id = %model.id, error = %e, "cannot enqueue the redelivery; the scan will");
                }
                let attempts = webhooks::attempts_of(api.db(), &[model.id])
                    .await
                    .map_err(|e| to_graphql(e, api.request_id()))?
                    .into_iter()
                    .map(Into::into)
                    .collect();
                Ok(RedeliverWebhookPayload {
                    delivery: Some(WebhookDelivery { model, attempts }),
                    user_errors: Vec::new(),
                })
            }
            Err(e) => Ok(RedeliverWebhookPayload {
                user_errors: vec![user_error(e, "deliveryId", api.request_id())?],
                ..Default::default()
            }),
        }
    }
}

//! API keys for brand clients: list, create (the secret is returned once), revoke. Admins only.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::api_keys::{self, NewKey};
use domain::DomainError;

use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::user_error::{user_error, UserError};
use super::ApiContext;

/// What an API key may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::Scope")]
pub enum ApiKeyScope {
    /// `profiles:read`: read creator profiles, their accounts and link status.
    ProfilesRead,
    /// `metrics:read`: read metrics, media, stories and audiences.
    MetricsRead,
    /// `accounts:write`: add, connect and remove social accounts; request syncs.
    AccountsWrite,
    /// `events:subscribe`: subscribe to link events.
    EventsSubscribe,
    /// `webhooks:manage`: create and remove webhook endpoints.
    WebhooksManage,
}

/// A brand client's API key. The secret itself is never readable after creation.
/// Access through `node(id:)`: role admin; no API keys; no creators.
pub struct ApiKey(pub api_keys::ApiKey);

#[Object]
impl ApiKey {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ApiKey, self.0.id)
    }

    /// The name given at creation (e.g. the brand client's name).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The key's public beginning (`cl_live_…`), to recognise it; not enough to use it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// What the key may do.
    async fn scopes(&self) -> Vec<ApiKeyScope> {
        self.0.scopes.iter().map(|s| (*s).into()).collect()
    }

    /// The campaigns the key is limited to: it sees only those campaigns, their participating
    /// profiles and the content and metrics inside the campaign windows. Null for a key of the
    /// whole organization.
    async fn campaign_ids(&self) -> Option<Vec<ID>> {
        self.0.campaign_ids.as_ref().map(|ids| {
            ids.iter()
                .map(|id| ids::encode(NodeType::Campaign, *id))
                .collect()
        })
    }

    /// Who created the key (`user:<id>`).
    async fn created_by(&self) -> Option<&str> {
        self.0.created_by.as_deref()
    }

    /// When the key was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the key was last used (updated at most once a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// When the key stops working by itself; null for never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When the key was revoked; null while it is active.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// Reading the organization's API keys.
#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The organization's API keys, newest first, revoked ones included.
    /// Access: role admin; no API keys; no creators.
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let api = ctx.api();
        let keys = api_keys::list(api.db(), api.org())
            .await
            .map_err(|e| to_graphql(e, api.request_id()))?;
        Ok(keys.into_iter().map(ApiKey).collect())
    }
}

/// A new API key.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// A name to recognise the key by (1 to 100 characters).
    pub name: String,
    /// What the key may do; at least one scope.
    pub scopes: Vec<ApiKeyScope>,
    /// When the key stops working by itself; never when omitted.
    pub expires_at: Option<DateTime<Utc>>,
    /// Limits the key to these campaigns (a brand's key): it then reads only those campaigns,
    /// their participating profiles and the content and metrics inside the campaign windows, and
    /// calls no mutation. Omitted: the whole organization.
    pub campaign_ids: Option<Vec<ID>>,
}

/// The result of `createApiKey`.
#[derive(Default)]
pub struct CreateApiKeyPayload {
    key: Option<ApiKey>,
    secret: Option<String>,
    user_errors: Vec<UserError>,
}

#[Object]
impl CreateApiKeyPayload {
    /// The new key.
    async fn api_key(&self) -> Option<&ApiKey> {
        self.key.as_ref()
    }

    /// The whole key (`cl_live_<id>_<secret>`), shown this once and never again: store it now.
    async fn secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    /// Why the key was not created.
    async fn user_errors(&self) -> &[UserError] {
        &self.user_errors
    }
}

/// Which key to revoke.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// The key's global id.
    pub id: ID,
}

/// The result of `revokeApiKey`.
#[derive(SimpleObject, Default)]
pub struct RevokeApiKeyPayload {
    /// The revoked key.
    pub api_key: Option<ApiKey>,
    /// Why the key was not revoked (`NOT_FOUND`).
    pub user_errors: Vec<UserError>,
}

/// Managing API keys.
#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates an API key for a brand client and returns its secret once.
    /// Access: role admin; no API keys; no creators.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's name, scopes and optional expiry.")] input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        let api = ctx.api();
        let actor = api.actor();
        let campaign_ids = match input.campaign_ids {
            None => None,
            Some(list) => {
                let mut uuids = Vec::with_capacity(list.len());
                for id in &list {
                    match ids::decode_as(NodeType::Campaign, id) {
                        Some(uuid) => uuids.push(uuid),
                        None => {
                            return Ok(CreateApiKeyPayload {
                                user_errors: vec![UserError::not_found("campaignIds", "campaign")],
                                ..Default::default()
                            })
                        }
                    }
                }
                Some(uuids)
            }
        };
        let new = NewKey {
            name: &input.name,
            scopes: input.scopes.into_iter().map(Into::into).collect(),
            expires_at: input.expires_at,
            campaign_ids,
            created_by: &actor,
        };
        match api_keys::create(api.db(), api.org(), new, Utc::now()).await {
            Ok(created) => Ok(CreateApiKeyPayload {
                key: Some(ApiKey(created.key)),
                secret: Some(created.secret.expose().to_owned()),
                user_errors: Vec::new(),
            }),
            Err(e) => Ok(CreateApiKeyPayload {
                user_errors: vec![user_error(e, "name", api.request_id())?],
                ..Default::default()
            }),
        }
    }

    /// Revokes an API key: it is refused from now on. Revoking a revoked key changes nothing.
    /// Access: role admin; no API keys; no creators.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key to revoke.")] input: RevokeApiKeyInput,
    ) -> Result<RevokeApiKeyPayload> {
        let api = ctx.api();
        let not_found = || RevokeApiKeyPayload {
            api_key: None,
            user_errors: vec![UserError::not_found("id", "API key")],
        };
        let Some(id) = ids::decode_as(NodeType::ApiKey, &input.id) else {
            return Ok(not_found());
        };
        match api_keys::revoke(api.db(), api.org(), id, &api.actor(), Utc::now()).await {
            Ok(key) => Ok(RevokeApiKeyPayload {
                api_key: Some(ApiKey(key)),
                user_errors: Vec::new(),
            }),
            Err(DomainError::NotFound { .. }) => Ok(not_found()),
            Err(e) => Err(to_graphql(e, api.request_id())),
        }
    }
}

//! `node(id:)` and `nodes(ids:)`: any object by its global id.

use async_graphql::{Context, Interface, Object, PathSegment, Result, ID};

use super::account::SocialAccount;
use super::api_key::ApiKey;
use super::campaign::{campaign_access, Campaign};
use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::invite::ConnectInvite;
use super::loaders::{AccountById, ProfileById};
use super::metrics::Media;
use super::profile::CreatorProfile;
use super::viewer::{organization_of, Organization};
use super::webhook::WebhookEndpoint;
use super::ApiContext;

/// The most ids `nodes(ids:)` takes at once.
const MAX_NODES: usize = 100;

/// An object with a global id, fetchable with `node(id:)`.
// Values live for one response; boxing the large variant would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    CreatorProfile(CreatorProfile),
    ApiKey(ApiKey),
    SocialAccount(SocialAccount),
    Media(Media),
    Organization(Organization),
    Campaign(Campaign),
    WebhookEndpoint(WebhookEndpoint),
    ConnectInvite(ConnectInvite),
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    let api = ctx.api();
    let Some((ty, uuid)) = ids::decode(id) else {
        return Ok(None);
    };
    Ok(match ty {
        NodeType::CreatorProfile => api
            .loader()
            .load_one(ProfileById(uuid))
            .await?
            .flatten()
            .map(|p| Node::CreatorProfile(CreatorProfile(p))),
        NodeType::SocialAccount => api
            .loader()
            .load_one(AccountById(uuid))
            .await?
            .flatten()
            .map(|a| Node::SocialAccount(SocialAccount(a))),
        NodeType::Media => {
            let seen = api.visible().await?;
            domain::accounts::data::media_by_id(api.db(), api.org(), uuid)
                .await
                .map_err(|e| to_graphql(e, api.request_id()))?
                .filter(|m| seen.as_ref().is_none_or(|s| s.media(m.id)))
                .map(|m| Node::Media(Media(m)))
        }
        NodeType::Organization => organization_of(ctx, uuid).await?.map(Node::Organization),
        NodeType::WebhookEndpoint => {
            match domain::webhooks::get_endpoint(api.db(), api.org(), uuid).await {
                Ok(e) => Some(Node::WebhookEndpoint(WebhookEndpoint(e))),
                Err(domain::DomainError::NotFound { .. }) => None,
                Err(e) => return Err(to_graphql(e, api.request_id())),
            }
        }
        NodeType::ApiKey => match domain::api_keys::get(api.db(), api.org(), uuid).await {
            Ok(k) => Some(Node::ApiKey(ApiKey(k))),
            Err(domain::DomainError::NotFound { .. }) => None,
            Err(e) => return Err(to_graphql(e, api.request_id())),
        },
        NodeType::ConnectInvite => match domain::invites::get(api.db(), api.org(), uuid).await {
            Ok(i) => Some(Node::ConnectInvite(ConnectInvite(i))),
            Err(domain::DomainError::NotFound { .. }) => None,
            Err(e) => return Err(to_graphql(e, api.request_id())),
        },
        NodeType::Campaign => {
            match domain::campaigns::get(api.db(), api.org(), &campaign_access(ctx), uuid).await {
                Ok(c) => Some(Node::Campaign(Campaign(c))),
                Err(domain::DomainError::NotFound { .. }) => None,
                Err(e) => return Err(to_graphql(e, api.request_id())),
            }
        }
        // Not fetchable by id (yet): answered like an id that names nothing.
        NodeType::WebhookDelivery => None,
    })
}

/// `node(id:)` and `nodes(ids:)`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id; null when it does not exist or is not visible to the
    /// caller.
    /// Access: what the object's type requires (see the type's description).
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        resolve(ctx, &id).await
    }

    /// Fetches objects by global id, in the order given (at most 100); an entry is null when
    /// that object does not exist or is not visible to the caller.
    /// Access: what each object's type requires (see the type's description); an object the
    /// caller may not read is null, with a FORBIDDEN error at its index.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(super::bad_input(
                "ids",
                format!("pass at most {MAX_NODES} ids"),
            ));
        }
        let key = ctx.item.node.response_key().node.to_string();
        futures::future::try_join_all(ids.iter().enumerate().map(|(i, id)| {
            let key = key.clone();
            async move {
                if let Some((ty, uuid)) = ids::decode(id) {
                    let api = ctx.api();
                    if let Err(e) = super::access::may_read_node(&api, "nodes", ty, uuid).await {
                        let mut e = e.into_server_error(ctx.item.pos);
                        e.path = vec![PathSegment::Field(key), PathSegment::Index(i)];
                        ctx.add_error(e);
                        return Ok(None);
                    }
                }
                resolve(ctx, id).await
            }
        }))
        .await
    }
}

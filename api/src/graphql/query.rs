//! The query root.

use async_graphql::{Context, Interface, Object, Result, ID};

use super::campaign::{campaign_access, Campaign};
use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::profile::CreatorProfile;
use super::webhook::WebhookEndpoint;
use super::ApiContext;

/// An object with a global id, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    CreatorProfile(CreatorProfile),
    Campaign(Campaign),
    WebhookEndpoint(WebhookEndpoint),
}

/// `node(id:)`: any object by its global id.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id; null when it does not exist or is not visible to the
    /// caller.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let api = ctx.api();
        let Some((ty, uuid)) = ids::decode(&id) else {
            return Ok(None);
        };
        match ty {
            NodeType::CreatorProfile => {
                match domain::profiles::get(api.db(), api.org(), uuid).await {
                    Ok(p) => Ok(Some(Node::CreatorProfile(CreatorProfile(p)))),
                    Err(domain::DomainError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(to_graphql(e, api.request_id())),
                }
            }
            NodeType::Campaign => {
                match domain::campaigns::get(api.db(), api.org(), &campaign_access(ctx), uuid).await
                {
                    Ok(c) => Ok(Some(Node::Campaign(Campaign(c)))),
                    Err(domain::DomainError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(to_graphql(e, api.request_id())),
                }
            }
            NodeType::WebhookEndpoint => {
                match domain::webhooks::get_endpoint(api.db(), api.org(), uuid).await {
                    Ok(e) => Ok(Some(Node::WebhookEndpoint(WebhookEndpoint(e)))),
                    Err(domain::DomainError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(to_graphql(e, api.request_id())),
                }
            }
            // Not fetchable by id (yet): answered like an id that names nothing.
            NodeType::SocialAccount | NodeType::WebhookDelivery => Ok(None),
        }
    }
}

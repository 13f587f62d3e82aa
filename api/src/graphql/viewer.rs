//! `viewer`: who the caller is, as the server understood its credentials.

use async_graphql::{Context, Enum, Object, Result, ID};
use domain::access::{Caller, Role};
use domain::entities::organization;
use sea_orm::EntityTrait;

use super::api_key::ApiKeyScope;
use super::error::{internal, to_graphql};
use super::ids::{self, NodeType};
use super::ApiContext;

/// How the caller authenticated.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ViewerKind {
    /// A user with a JWT.
    User,
    /// A brand client with an API key.
    ApiKey,
}

/// A user's role in the organization.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::Role")]
pub enum UserRole {
    /// Everything in the organization, including API keys and webhooks.
    Admin,
    /// Profiles, accounts, connect and invites.
    Manager,
    /// Only the creator profiles the token names.
    Creator,
}

/// A tenant: the brand or agency workspace whose creators these are.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.id)
    }

    /// The organization's raw id, as in the `org` claim of user tokens and the CLI's `--org`.
    async fn org_id(&self) -> String {
        self.0.id.to_string()
    }

    /// The organization's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// The authenticated caller.
pub struct Viewer(Caller);

#[Object]
impl Viewer {
    /// User or API key.
    async fn kind(&self) -> ViewerKind {
        match self.0 {
            Caller::User(_) => ViewerKind::User,
            Caller::ApiKey(_) => ViewerKind::ApiKey,
        }
    }

    /// The user's id at the identity provider (`sub`); null for API keys.
    async fn user_id(&self) -> Option<&str> {
        match &self.0 {
            Caller::User(u) => Some(&u.user_id),
            Caller::ApiKey(_) => None,
        }
    }

    /// The user's role; null for API keys.
    async fn role(&self) -> Option<UserRole> {
        self.0.role().map(|r: Role| r.into())
    }

    /// The API key's global id; null for users.
    async fn api_key_id(&self) -> Option<ID> {
        match &self.0 {
            Caller::ApiKey(k) => Some(ids::encode(NodeType::ApiKey, k.key_id)),
            Caller::User(_) => None,
        }
    }

    /// The API key's scopes; empty for users.
    async fn scopes(&self) -> Vec<ApiKeyScope> {
        match &self.0 {
            Caller::ApiKey(k) => k.scopes.iter().map(|s| (*s).into()).collect(),
            Caller::User(_) => Vec::new(),
        }
    }

    /// For creators: the profiles they may act on. Empty for everyone else.
    async fn creator_profile_ids(&self) -> Vec<ID> {
        self.0
            .profile_limit()
            .unwrap_or_default()
            .iter()
            .map(|p| ids::encode(NodeType::CreatorProfile, *p))
            .collect()
    }

    /// The organization the caller acts in.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let api = ctx.api();
        organization_of(ctx, api.org().uuid())
            .await?
            .ok_or_else(|| {
                internal(
                    &"the caller's organization does not exist",
                    api.request_id(),
                )
            })
    }

    /// Who the audit trail records for changes made by this request (`user:…` or `key:…`).
    async fn actor(&self, ctx: &Context<'_>) -> String {
        ctx.api().actor().label()
    }
}

/// The organization `id`, when it is the caller's.
pub async fn organization_of(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<Organization>> {
    let api = ctx.api();
    if id != api.org().uuid() {
        return Ok(None);
    }
    organization::Entity::find_by_id(id)
        .one(api.db())
        .await
        .map(|o| o.map(Organization))
        .map_err(|e| to_graphql(e.into(), api.request_id()))
}

/// `viewer`.
#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The caller: a user (id, role, creator profiles) or an API key (id, scopes), and its
    /// organization.
    /// Access: any authenticated caller.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(ctx.api().caller().clone())
    }
}

//! `viewer`: who the caller is, as the server understood its credentials.

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use domain::access::{Caller, Role};

use super::api_key::ApiKeyScope;
use super::error::to_graphql;
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

/// An organization (a tenant).
#[derive(SimpleObject)]
pub struct Organization {
    /// The organization's id (as in the `org` claim of user tokens).
    pub id: ID,
    /// Its name.
    pub name: String,
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
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let api = ctx.api();
        match domain::organizations::get(api.db(), api.org()).await {
            Ok(org) => Ok(Some(Organization {
                id: ID(org.id.to_string()),
                name: org.name,
            })),
            Err(domain::DomainError::NotFound { .. }) => Ok(None),
            Err(e) => Err(to_graphql(e, api.request_id())),
        }
    }
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

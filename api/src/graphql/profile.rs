//! `CreatorProfile`: a creator (or a group of creators) whose social accounts are linked.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, Object, Result, ID};
use chrono::{DateTime, Utc};
use domain::entities::creator_profile;

use super::error::to_graphql;
use super::ids::{self, NodeType};
use super::{page_request, ApiContext};

/// Whether a profile is one creator or a group of creators.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::ProfileKind")]
pub enum ProfileKind {
    /// One creator.
    Individual,
    /// A group of creators (a band, a duo, a collective); its members are individual profiles.
    Group,
}

/// A creator, or a group of creators, whose social accounts the organization tracks.
/// Access through `node(id:)`: roles admin and manager; API keys with `profiles:read`; creators
/// for their own profiles.
pub struct CreatorProfile(pub creator_profile::Model);

#[Object]
impl CreatorProfile {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CreatorProfile, self.0.id)
    }

    /// Whether this is one creator or a group.
    async fn kind(&self) -> ProfileKind {
        self.0.kind.into()
    }

    /// The name the organization knows the creator by.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// When the profile was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the profile was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Extra fields of the profiles connection.
pub struct ProfileConnectionFields;

#[Object]
impl ProfileConnectionFields {
    /// How many profiles match, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let api = ctx.api();
        domain::profiles::count(api.db(), api.org(), api.caller().profile_limit())
            .await
            .map_err(|e| to_graphql(e, api.request_id()))
    }
}

/// Reading creator profiles.
#[derive(Default)]
pub struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// One creator profile; null when it does not exist or is not visible to the caller.
    /// Access: roles admin and manager; API keys with `profiles:read`; creators for their own
    /// profiles.
    async fn creator_profile(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CreatorProfile>> {
        let api = ctx.api();
        let Some(uuid) = ids::decode_as(NodeType::CreatorProfile, &id) else {
            return Ok(None);
        };
        match domain::profiles::get(api.db(), api.org(), uuid).await {
            Ok(p) => Ok(Some(CreatorProfile(p))),
            Err(domain::DomainError::NotFound { .. }) => Ok(None),
            Err(e) => Err(to_graphql(e, api.request_id())),
        }
    }

    /// The organization's creator profiles, oldest first (Relay cursor connection).
    /// Access: roles admin and manager; API keys with `profiles:read`; creators, limited to their
    /// own profiles.
    async fn creator_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n profiles after `after`.")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] after: Option<String>,
        #[graphql(desc = "Returns the last n profiles before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor from a previous page.")] before: Option<String>,
    ) -> Result<Connection<String, CreatorProfile, ProfileConnectionFields, EmptyFields>> {
        let api = ctx.api();
        let req = page_request(ctx, first, after, last, before)?;
        let page = domain::profiles::list(
            api.db(),
            api.org(),
            api.caller().profile_limit(),
            &req,
            api.default_page_size(),
        )
        .await
        .map_err(|e| to_graphql(e, api.request_id()))?;
        let mut connection = Connection::with_additional_fields(
            page.has_previous_page,
            page.has_next_page,
            ProfileConnectionFields,
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|p| Edge::new(ids::encode_cursor(p.id), CreatorProfile(p))),
        );
        Ok(connection)
    }
}

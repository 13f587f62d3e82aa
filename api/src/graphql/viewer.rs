//! `viewer`: who is asking and in which organization.

use async_graphql::{Context, Object, Result, ID};
use domain::entities::organization;
use sea_orm::EntityTrait;

use super::error::{internal, to_graphql};
use super::ids::{self, NodeType};
use super::ApiContext;

/// A tenant: the brand or agency workspace whose creators these are.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.id)
    }
    /// The organization's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// The caller.
pub struct Viewer;

#[Object]
impl Viewer {
    /// The organization every query and mutation of this request acts in.
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
    /// Who the audit trail records for changes made by this request (`anonymous` until callers
    /// authenticate).
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
    /// The caller and their organization.
    async fn viewer(&self) -> Viewer {
        Viewer
    }
}

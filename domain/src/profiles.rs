//! Creator profiles: a person (INDIVIDUAL) or a group of member profiles (GROUP).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::creator_profile;
use crate::error::{DomainError, DomainResult};
use crate::pagination::{self, Page, PageRequest};
use crate::tenant::OrgId;

/// One profile of the caller's organization.
pub async fn get(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<creator_profile::Model> {
    creator_profile::Entity::find_by_id(id)
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("creator profile"))
}

/// A page of the organization's profiles, oldest first; `only` limits it to those ids (a
/// creator's own profiles, [`crate::access::Caller::profile_limit`]).
pub async fn list(
    db: &impl ConnectionTrait,
    org: OrgId,
    only: Option<&[Uuid]>,
    req: &PageRequest,
    default_size: u64,
) -> DomainResult<Page<creator_profile::Model>> {
    let select = visible(org, only);
    Ok(pagination::by_id(db, select, creator_profile::Column::Id, req, default_size).await?)
}

/// How many profiles the organization has (of `only`, when given).
pub async fn count(
    db: &impl ConnectionTrait,
    org: OrgId,
    only: Option<&[Uuid]>,
) -> DomainResult<u64> {
    Ok(visible(org, only).count(db).await?)
}

fn visible(org: OrgId, only: Option<&[Uuid]>) -> sea_orm::Select<creator_profile::Entity> {
    let select = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()));
    match only {
        Some(ids) => select.filter(creator_profile::Column::Id.is_in(ids.iter().copied())),
        None => select,
    }
}

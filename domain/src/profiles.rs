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

/// A page of the organization's profiles, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    org: OrgId,
    req: &PageRequest,
    default_size: u64,
) -> DomainResult<Page<creator_profile::Model>> {
    let select = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()));
    Ok(pagination::by_id(db, select, creator_profile::Column::Id, req, default_size).await?)
}

/// How many profiles the organization has.
pub async fn count(db: &impl ConnectionTrait, org: OrgId) -> DomainResult<u64> {
    Ok(creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .count(db)
        .await?)
}

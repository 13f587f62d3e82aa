//! Organizations: the tenants.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::organization;
use crate::error::DomainResult;
use crate::tenant::OrgId;

/// Creates an organization.
pub async fn create(db: &impl ConnectionTrait, name: &str) -> DomainResult<organization::Model> {
    let model = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.trim().to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(model)
}

/// The organization with id `id_or_name` (a UUID) or, failing that, with that exact name.
pub async fn find(db: &impl ConnectionTrait, id_or_name: &str) -> DomainResult<Option<OrgId>> {
    if let Ok(id) = Uuid::parse_str(id_or_name.trim()) {
        if let Some(found) = organization::Entity::find_by_id(id).one(db).await? {
            return Ok(Some(OrgId::new(found.id)));
        }
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Name.eq(id_or_name.trim()))
        .one(db)
        .await?
        .map(|o| OrgId::new(o.id)))
}

/// The organization called `name`, created if there is none yet. Used by the embedded mode for
/// its single default tenant.
pub async fn ensure_named(db: &impl ConnectionTrait, name: &str) -> DomainResult<OrgId> {
    if let Some(existing) = organization::Entity::find()
        .filter(organization::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Ok(OrgId::new(existing.id));
    }
    Ok(OrgId::new(create(db, name).await?.id))
}

/// One organization, by id.
pub async fn get(db: &impl ConnectionTrait, org: OrgId) -> DomainResult<organization::Model> {
    organization::Entity::find_by_id(org.uuid())
        .one(db)
        .await?
        .ok_or(crate::error::DomainError::not_found("organization"))
}

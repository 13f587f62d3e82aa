//! Organizations: the tenants.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::organization;
use crate::error::{DomainError, DomainResult};
use crate::tenant::OrgId;

/// Creates an organization.
pub async fn create(db: &impl ConnectionTrait, name: &str) -> DomainResult<organization::Model> {
    let model = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.trim().to_owned()),
        created_at: Set(Utc::now()),
        connect_return_origins: Set(None),
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

/// Error codes of the Connect return URL rules.
pub mod codes {
    /// An allowed origin is not `http(s)://host[:port]`.
    pub const INVALID_ORIGIN: &str = "INVALID_ORIGIN";
    /// A `returnUrl` whose origin the organization has not allowed.
    pub const RETURN_URL_NOT_ALLOWED: &str = "RETURN_URL_NOT_ALLOWED";
}

/// At most this many allowed origins per organization.
pub const MAX_RETURN_ORIGINS: usize = 20;

fn origin_of(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none();
    plain.then(|| url.origin().ascii_serialization())
}

/// The origins an organization allows as Connect return URLs.
pub fn return_origins(org: &organization::Model) -> Vec<String> {
    org.connect_return_origins
        .as_deref()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Replaces the organization's allowed Connect return origins. Each must be
/// `http(s)://host[:port]` (no path, query or credentials); stored in their canonical form.
pub async fn set_return_origins(
    db: &impl ConnectionTrait,
    org: OrgId,
    origins: &[String],
) -> DomainResult<Vec<String>> {
    if origins.len() > MAX_RETURN_ORIGINS {
        return Err(DomainError::invalid(
            codes::INVALID_ORIGIN,
            Some("origins"),
            format!("at most {MAX_RETURN_ORIGINS} origins"),
        ));
    }
    let mut clean = Vec::new();
    for raw in origins {
        let origin = origin_of(raw)
            .filter(|o| raw.trim().trim_end_matches('/') == o.as_str())
            .ok_or_else(|| {
                DomainError::invalid(
                    codes::INVALID_ORIGIN,
                    Some("origins"),
                    "an origin is a scheme and a host (and port), like https://app.example.com",
                )
            })?;
        if !clean.contains(&origin) {
            clean.push(origin);
        }
    }
    let model = get(db, org).await?;
    let mut active: organization::ActiveModel = model.into();
    active.connect_return_origins = Set(Some(clean.join("\n")));
    active.update(db).await?;
    Ok(clean)
}

/// `raw` when it is an absolute http(s) URL on an origin the organization allows.
pub async fn check_return_url(
    db: &impl ConnectionTrait,
    org: OrgId,
    raw: &str,
) -> DomainResult<String> {
    let allowed = return_origins(&get(db, org).await?);
    match origin_of(raw) {
        Some(origin) if raw.len() <= 2048 && allowed.contains(&origin) => {
            Ok(url::Url::parse(raw.trim())
                .map(|u| u.to_string())
                .unwrap_or_default())
        }
        _ => Err(DomainError::invalid(
            codes::RETURN_URL_NOT_ALLOWED,
            Some("returnUrl"),
            "the return URL's origin is not one the organization allows (setConnectReturnOrigins)",
        )),
    }
}

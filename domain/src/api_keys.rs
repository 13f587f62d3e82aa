//! API keys for brand clients. A key reads `cl_live_<prefix>_<secret>`: the prefix is public and
//! finds the row, the secret is shown once at creation and only its SHA-256 is stored. Presented
//! secrets are compared with the stored hash in constant time.

use chrono::{DateTime, Duration, Utc};
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::access::{KeyCaller, Scope};
use crate::actor::Actor;
use crate::entities::api_key;
use crate::error::{DomainError, DomainResult};
use crate::secret::Secret;
use crate::tenant::OrgId;

/// What every key starts with; lets secret scanners and the `Authorization` header tell a key
/// from a JWT.
pub const KEY_PREFIX: &str = "cl_live_";

/// `last_used_at` is written at most this often per key, so a busy client does not turn every
/// read into a write.
pub const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

const PREFIX_LEN: usize = 12;
const SECRET_LEN: usize = 40;
const MAX_NAME_LEN: usize = 100;

/// A key as listed: everything but the secret, which is never readable again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// `cl_live_<prefix>`, enough to recognise a key without revealing it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// The campaigns the key is limited to; `None` for the whole organization.
    pub campaign_ids: Option<Vec<Uuid>>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(m: api_key::Model) -> Self {
        ApiKey {
            id: m.id,
            name: m.name,
            prefix: format!("{KEY_PREFIX}{}", m.prefix),
            // Stored scopes were validated on the way in; a name this version does not know
            // (written by a newer release) grants nothing.
            scopes: m
                .scopes
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
            campaign_ids: stored_campaigns(m.campaign_ids.as_ref()),
            created_by: m.created_by,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A new key and its secret, which the caller shows once and then drops.
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: Secret,
}

/// What to create.
pub struct NewKey<'a> {
    pub name: &'a str,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Limits the key to these campaigns of the organization (what a brand's key sees); `None`
    /// for the whole organization.
    pub campaign_ids: Option<Vec<Uuid>>,
    pub created_by: &'a Actor,
}

/// The campaign ids stored in `api_key.campaign_ids` (a JSON array); ids that cannot be read are
/// dropped, so a garbled value limits the key to fewer campaigns, never to more.
fn stored_campaigns(value: Option<&serde_json::Value>) -> Option<Vec<Uuid>> {
    match value {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| id.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

/// Creates a key in `org`; the returned secret is the only copy.
#[tracing::instrument(skip(db, new), fields(org = %org))]
pub async fn create(
    db: &impl ConnectionTrait,
    org: OrgId,
    new: NewKey<'_>,
    now: DateTime<Utc>,
) -> DomainResult<CreatedKey> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(DomainError::invalid(
            "INVALID_NAME",
            Some("name"),
            format!("a key needs a name of 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    if new.scopes.is_empty() {
        return Err(DomainError::invalid(
            "SCOPES_REQUIRED",
            Some("scopes"),
            "a key needs at least one scope",
        ));
    }
    if new.expires_at.is_some_and(|at| at <= now) {
        return Err(DomainError::invalid(
            "EXPIRES_IN_PAST",
            Some("expiresAt"),
            "the expiry must be in the future",
        ));
    }
    let mut scopes = new.scopes;
    scopes.sort();
    scopes.dedup();
    let campaign_ids = match new.campaign_ids {
        None => None,
        Some(ids) => Some(existing_campaigns(db, org, ids).await?),
    };
    let prefix = random_prefix();
    let secret_part = Alphanumeric.sample_string(&mut rand::rngs::OsRng, SECRET_LEN);
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        name: Set(name.to_owned()),
        prefix: Set(prefix.clone()),
        secret_hash: Set(hash(&secret_part)),
        scopes: Set(Scope::join(&scopes)),
        campaign_ids: Set(campaign_ids.map(|ids| serde_json::json!(ids))),
        created_by: Set(Some(new.created_by.label())),
        created_at: Set(now),
        last_used_at: Set(None),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    tracing::info!(key_id = %model.id, prefix = %model.prefix, actor = %new.created_by.label(), "api key created");
    Ok(CreatedKey {
        key: model.into(),
        secret: Secret::new(format!("{KEY_PREFIX}{prefix}_{secret_part}")),
    })
}

/// The organization's keys, newest first, revoked ones included (they show when).
pub async fn list(db: &impl ConnectionTrait, org: OrgId) -> DomainResult<Vec<ApiKey>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::OrganizationId.eq(org.uuid()))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(ApiKey::from)
        .collect())
}

/// One key of the organization.
pub async fn get(db: &impl ConnectionTrait, org: OrgId, id: Uuid) -> DomainResult<ApiKey> {
    api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .map(ApiKey::from)
        .ok_or(DomainError::not_found("API key"))
}

/// Revokes a key of the organization; from now on it is refused. Revoking twice keeps the first
/// revocation time.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn revoke(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<ApiKey> {
    let model = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("API key"))?;
    if model.revoked_at.is_some() {
        return Ok(model.into());
    }
    let mut active: api_key::ActiveModel = model.into();
    active.revoked_at = Set(Some(now));
    let model = active.update(db).await?;
    tracing::info!(key_id = %id, actor = %actor.label(), "api key revoked");
    Ok(model.into())
}

/// The outcome of presenting a key.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyCheck {
    Valid(KeyCaller),
    /// Not a key of ours, or the secret does not match.
    Unknown,
    /// The secret matches, but the key was revoked.
    Revoked,
    /// The secret matches, but the key expired.
    Expired,
}

/// Checks a presented key (`cl_live_<prefix>_<secret>`) and records its use, at most once per
/// [`LAST_USED_GRANULARITY`].
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: &Secret,
    now: DateTime<Utc>,
) -> DomainResult<KeyCheck> {
    let Some((prefix, secret_part)) = split(presented.expose()) else {
        return Ok(KeyCheck::Unknown);
    };
    let Some(model) = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?
    else {
        return Ok(KeyCheck::Unknown);
    };
    let presented_hash = hash(secret_part);
    if !bool::from(
        presented_hash
            .as_bytes()
            .ct_eq(model.secret_hash.as_bytes()),
    ) {
        return Ok(KeyCheck::Unknown);
    }
    if model.revoked_at.is_some() {
        return Ok(KeyCheck::Revoked);
    }
    if model.expires_at.is_some_and(|at| at <= now) {
        return Ok(KeyCheck::Expired);
    }
    if model
        .last_used_at
        .is_none_or(|at| at <= now - LAST_USED_GRANULARITY)
    {
        // Conditional, so that concurrent requests on several replicas write once between them.
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(model.id))
            .filter(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(api_key::Column::LastUsedAt.lte(now - LAST_USED_GRANULARITY)),
            )
            .exec(db)
            .await?;
    }
    let key = ApiKey::from(model.clone());
    let campaign_ids = key.campaign_ids;
    Ok(KeyCheck::Valid(KeyCaller {
        key_id: model.id,
        org: OrgId::new(model.organization_id),
        scopes: key.scopes,
        campaign_ids,
    }))
}

/// `ids` deduplicated and sorted, each checked to be a campaign of `org`; at least one.
async fn existing_campaigns(
    db: &impl ConnectionTrait,
    org: OrgId,
    mut ids: Vec<Uuid>,
) -> DomainResult<Vec<Uuid>> {
    use sea_orm::PaginatorTrait;
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(DomainError::invalid(
            "CAMPAIGNS_REQUIRED",
            Some("campaignIds"),
            "a campaign-limited key needs at least one campaign (omit campaignIds for an unlimited key)",
        ));
    }
    let found = crate::entities::campaign::Entity::find()
        .filter(crate::entities::campaign::Column::OrganizationId.eq(org.uuid()))
        .filter(crate::entities::campaign::Column::Id.is_in(ids.iter().copied()))
        .count(db)
        .await?;
    if found != ids.len() as u64 {
        return Err(DomainError::invalid(
            "CAMPAIGN_NOT_FOUND",
            Some("campaignIds"),
            "one of the campaigns does not exist",
        ));
    }
    Ok(ids)
}

/// True when `text` has the shape of one of our keys (so a bearer token can be told from a JWT).
pub fn looks_like_key(text: &str) -> bool {
    text.starts_with("cl_")
}

fn split(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == PREFIX_LEN && secret.len() == SECRET_LEN).then_some((prefix, secret))
}

fn random_prefix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..PREFIX_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_prefix_and_secret_only_when_well_formed() {
        let secret = "a".repeat(SECRET_LEN);
        let key = format!("{KEY_PREFIX}abcdefghijkl_{secret}");
        assert_eq!(split(&key), Some(("abcdefghijkl", secret.as_str())));
        assert_eq!(split("cl_live_short_x"), None);
        assert_eq!(split(&format!("cl_test_abcdefghijkl_{secret}")), None);
        assert_eq!(split("eyJhbGciOiJIUzI1NiJ9.e30.x"), None);
        assert!(looks_like_key(&key));
        assert!(!looks_like_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }

    #[test]
    fn prefixes_use_a_url_and_underscore_safe_alphabet() {
        let p = random_prefix();
        assert_eq!(p.len(), PREFIX_LEN);
        assert!(p
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }

    #[test]
    fn the_stored_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

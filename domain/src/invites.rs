//! Connect invites: the signed, expiring link a creator opens, with no account of their own, to
//! connect accounts to one profile on the hosted Connect page.
//!
//! The token is the capability: 32 random bytes, base64url without padding (43 characters), shown
//! once to whoever creates the invite. Only its SHA-256 (hex) is stored, so a database dump opens
//! no Connect page. [`resolve`] answers `NotFound` alike for an unknown, expired or revoked token,
//! so a caller learns nothing about which tokens once existed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{connect_invite, creator_profile, link, oauth_state, social_account};
use crate::error::{DomainError, DomainResult};
use crate::tenant::OrgId;

/// How long an invite lasts when the caller does not say.
pub const DEFAULT_LIFETIME: Duration = Duration::days(7);
/// The shortest lifetime accepted.
pub const MIN_LIFETIME: Duration = Duration::minutes(5);
/// The longest lifetime accepted: a creator gets a fresh link rather than one that lives forever.
pub const MAX_LIFETIME: Duration = Duration::days(30);

/// The stored form of a token: hex SHA-256 of its text.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random invite token.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a requested lifetime against the accepted range.
pub fn lifetime(expires_in: Option<Duration>) -> DomainResult<Duration> {
    let lifetime = expires_in.unwrap_or(DEFAULT_LIFETIME);
    if lifetime < MIN_LIFETIME || lifetime > MAX_LIFETIME {
        return Err(DomainError::invalid(
            "INVALID_EXPIRY",
            Some("expiresIn"),
            format!(
                "an invite must last between {} minutes and {} days",
                MIN_LIFETIME.num_minutes(),
                MAX_LIFETIME.num_days()
            ),
        ));
    }
    Ok(lifetime)
}

/// Creates an invite to `profile_id` of `org` lasting `expires_in` (default 7 days) from the wall
/// clock. Returns the stored invite and the token, which exists nowhere else: hand it to the
/// creator as `{public_url}/connect/{token}`.
pub async fn create(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
    expires_in: Option<Duration>,
    actor: &Actor,
) -> DomainResult<(connect_invite::Model, String)> {
    create_at(db, org, profile_id, expires_in, actor, Utc::now()).await
}

/// [`create`] at `now` (the application clock, which the Connect page checks expiry against).
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn create_at(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
    expires_in: Option<Duration>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<(connect_invite::Model, String)> {
    let lifetime = lifetime(expires_in)?;
    creator_profile::Entity::find_by_id(profile_id)
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("creator profile"))?;
    let token = new_token();
    let invite = connect_invite::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        profile_id: Set(profile_id),
        token_hash: Set(token_hash(&token)),
        created_by: Set(Some(actor.label())),
        created_at: Set(now),
        expires_at: Set(now + lifetime),
        revoked_at: Set(None),
        last_opened_at: Set(None),
        return_url: Set(None),
    }
    .insert(db)
    .await?;
    tracing::info!(invite_id = %invite.id, profile_id = %profile_id, expires_at = %invite.expires_at, "connect invite created");
    Ok((invite, token))
}

/// The live invite behind `token` at `now` (the application clock, like `/oauth/start` and the
/// callback). `NotFound` when the token is unknown, expired or revoked, without saying which.
pub async fn resolve(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> DomainResult<connect_invite::Model> {
    // A token is 43 base64url characters; anything else cannot be one and costs no query.
    if token.len() != 43 || URL_SAFE_NO_PAD.decode(token.as_bytes()).is_err() {
        return Err(DomainError::not_found("connect invite"));
    }
    connect_invite::Entity::find()
        .filter(connect_invite::Column::TokenHash.eq(token_hash(token)))
        .filter(connect_invite::Column::RevokedAt.is_null())
        .filter(connect_invite::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("connect invite"))
}

/// What the Connect page of `invite` shows: its profile and the profile's accounts with their
/// links, oldest first.
pub async fn roster(
    db: &impl ConnectionTrait,
    invite: &connect_invite::Model,
) -> DomainResult<(
    creator_profile::Model,
    Vec<(social_account::Model, Option<link::Model>)>,
)> {
    let profile = creator_profile::Entity::find_by_id(invite.profile_id)
        .filter(creator_profile::Column::OrganizationId.eq(invite.organization_id))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("creator profile"))?;
    let accounts = social_account::Entity::find()
        .find_also_related(link::Entity)
        .filter(social_account::Column::OrganizationId.eq(invite.organization_id))
        .filter(social_account::Column::ProfileId.eq(invite.profile_id))
        .order_by_asc(social_account::Column::CreatedAt)
        .order_by_asc(social_account::Column::Id)
        .all(db)
        .await?;
    Ok((profile, accounts))
}

/// One invite of `org` by id.
pub async fn get(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<connect_invite::Model> {
    connect_invite::Entity::find_by_id(id)
        .filter(connect_invite::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("connect invite"))
}

/// Notes that the invite's page was opened (shown to whoever manages the roster).
pub async fn mark_opened(
    db: &impl ConnectionTrait,
    invite: &connect_invite::Model,
) -> DomainResult<()> {
    connect_invite::ActiveModel {
        id: Set(invite.id),
        last_opened_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Revokes an invite of `org` at `now`: its Connect page, its `/oauth/start` links and every
/// OAuth flow begun from it stop working at once (the callback and the Meta Page selection check
/// the invite again), and a Meta grant waiting on such a flow for a Page choice is dropped.
/// Revoking a revoked invite changes nothing and returns it as it is.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn revoke(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<connect_invite::Model> {
    let invite = get(db, org, id).await?;
    if invite.revoked_at.is_some() {
        return Ok(invite);
    }
    connect_invite::Entity::update_many()
        .col_expr(connect_invite::Column::RevokedAt, Expr::value(now))
        .filter(connect_invite::Column::Id.eq(id))
        .filter(connect_invite::Column::OrganizationId.eq(org.uuid()))
        .filter(connect_invite::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    // The sealed tokens of a grant waiting for a Page choice are not kept for a dead flow.
    oauth_state::Entity::update_many()
        .col_expr(
            oauth_state::Column::PendingGrant,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            oauth_state::Column::SelectionHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            oauth_state::Column::RedirectTo,
            Expr::value(Option::<String>::None),
        )
        .filter(oauth_state::Column::InviteId.eq(id))
        .filter(oauth_state::Column::OrganizationId.eq(org.uuid()))
        .exec(db)
        .await?;
    tracing::info!(invite_id = %id, "connect invite revoked");
    get(db, org, id).await
}

/// Sets the URL the invite's page offers as "Back to <app>", after checking its origin against
/// the organization's allowed return origins.
pub async fn set_return_url(
    db: &impl ConnectionTrait,
    org: OrgId,
    invite: connect_invite::Model,
    return_url: &str,
) -> DomainResult<connect_invite::Model> {
    let checked = crate::organizations::check_return_url(db, org, return_url).await?;
    let mut active: connect_invite::ActiveModel = invite.into();
    active.return_url = Set(Some(checked));
    Ok(active.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
    }

    #[test]
    fn the_stored_hash_is_hex_sha256_of_the_token() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn lifetimes_outside_five_minutes_to_thirty_days_are_refused() {
        assert_eq!(lifetime(None).expect("default"), DEFAULT_LIFETIME);
        assert!(lifetime(Some(Duration::minutes(4))).is_err());
        assert!(lifetime(Some(Duration::days(31))).is_err());
        assert_eq!(
            lifetime(Some(Duration::hours(1))).expect("an hour"),
            Duration::hours(1)
        );
    }
}

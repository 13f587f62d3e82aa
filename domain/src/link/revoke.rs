//! Unlink and remove (design §5, seed 001): revoke the grant on the platform, erase the tokens
//! locally whatever the platform said, and mark the link INVALID with UNLINKED or REMOVED; remove
//! also detaches the account from its profile. The revoke runs inline with a short bounded retry;
//! when the platform keeps failing, the token its revoke takes is kept in a `pending_revocation`
//! row (in the erasing transaction) and the `revoke_upstream` job tries again
//! ([`super::revocation`]). The local erase never waits on the platform's answer.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{link, social_account};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, NewEvent};
use crate::kinds::{InvalidReason, LinkStatus, Provider};
use crate::link::status::{self, LinkState};
use crate::platforms::{Clients, PlatformError};
use crate::secret::Secret;
use crate::tenant::OrgId;
use crate::vault::{Aad, Keyring, TokenKind};

/// Attempts at the platform's revoke before giving up (the tokens are erased either way).
const REVOKE_ATTEMPTS: u32 = 3;
/// Longest wait between two attempts, whatever `Retry-After` says: this runs inside a request.
const MAX_REVOKE_WAIT: StdDuration = StdDuration::from_secs(2);

/// What became of the revoke on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The platform confirmed.
    Yes,
    /// The grant was already dead there (revoked, expired, password changed).
    AlreadyGone,
    /// The platform kept failing (5xx, 429, timeouts); the tokens were erased locally anyway and
    /// the revoke is tried again by the `revoke_upstream` job.
    Retrying,
    /// The platform refused the revoke for good; the tokens were erased locally anyway.
    Failed,
    /// No tokens were stored, so there was nothing to revoke.
    NothingStored,
}

/// The account after an unlink or remove.
#[derive(Debug, Clone)]
pub struct Detached {
    pub account: social_account::Model,
    pub link: Option<link::Model>,
    pub revoked: Revoked,
}

/// Calls `revoke` with up to [`REVOKE_ATTEMPTS`] tries on retryable failures; with the last
/// error when the platform kept failing.
async fn revoke_upstream(
    clients: &Clients,
    provider: Provider,
    token: &Secret,
) -> (Revoked, Option<String>) {
    let client = clients.get(provider);
    for attempt in 1..=REVOKE_ATTEMPTS {
        match client.revoke(token).await {
            Ok(()) => return (Revoked::Yes, None),
            Err(PlatformError::Invalid { .. } | PlatformError::AccessTokenInvalid { .. }) => {
                return (Revoked::AlreadyGone, None)
            }
            Err(e) if e.is_retryable() && attempt == REVOKE_ATTEMPTS => {
                tracing::warn!(error = %e, "revoke failed; tokens are erased locally, the revoke is tried again later");
                return (Revoked::Retrying, Some(e.to_string()));
            }
            Err(e) if e.is_retryable() => {
                let now = clients.now();
                let wait = e
                    .retry_at(now)
                    .and_then(|at| (at - now).to_std().ok())
                    .unwrap_or(StdDuration::from_millis(200 * u64::from(attempt)))
                    .min(MAX_REVOKE_WAIT);
                tracing::info!(attempt, error = %e, "revoke failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "revoke refused; tokens are erased locally anyway");
                return (Revoked::Failed, Some(e.to_string()));
            }
        }
    }
    (Revoked::Failed, None)
}

/// The token to revoke with: Google revokes the whole grant by its refresh token; the others take
/// the access token.
fn revoke_token(
    keyring: &Keyring,
    provider: Provider,
    l: &link::Model,
) -> Option<(Secret, TokenKind)> {
    let open =
        |sealed: &Option<String>, kind| {
            sealed.as_deref().and_then(|s| match keyring.open(s, &Aad::new(l.id, kind)) {
            Ok(secret) => Some(secret),
            Err(e) => {
                tracing::warn!(link_id = %l.id, error = %e, "a stored token cannot be opened");
                None
            }
        })
        };
    let refresh = open(&l.refresh_token, TokenKind::Refresh).map(|t| (t, TokenKind::Refresh));
    let access = open(&l.access_token, TokenKind::Access).map(|t| (t, TokenKind::Access));
    match provider {
        Provider::Google => refresh.or(access),
        _ => access.or(refresh),
    }
}

/// A revoke attempted before the tokens are erased: what the platform said, and what is needed to
/// try again when it kept failing (the token, its kind, the last error and when, by the
/// application's clock).
pub struct Attempted {
    pub revoked: Revoked,
    retry: Option<(Secret, TokenKind, String, DateTime<Utc>)>,
}

impl Attempted {
    /// Keeps the token to try again (when the platform kept failing), in the caller's erasing
    /// transaction; returns the `pending_revocation` id.
    pub async fn keep_for_retry(
        &self,
        db: &impl ConnectionTrait,
        keyring: &Keyring,
        account: &social_account::Model,
    ) -> DomainResult<Option<Uuid>> {
        let Some((token, kind, error, at)) = &self.retry else {
            return Ok(None);
        };
        super::revocation::queue(
            db,
            keyring,
            OrgId::new(account.organization_id),
            Some(account.id),
            account.platform.provider(),
            token,
            *kind,
            error,
            *at,
        )
        .await
        .map(Some)
    }
}

/// Revokes `l`'s grant at `provider` with its stored token, retrying briefly; the caller erases
/// the tokens locally whatever this returns (and keeps the token for a later retry with
/// [`Attempted::keep_for_retry`]).
pub async fn revoke_at_platform(
    keyring: &Keyring,
    clients: &Clients,
    provider: Provider,
    l: &link::Model,
) -> Attempted {
    match revoke_token(keyring, provider, l) {
        Some((token, kind)) => {
            let (revoked, error) = revoke_upstream(clients, provider, &token).await;
            let retry = (revoked == Revoked::Retrying)
                .then(|| (token, kind, error.unwrap_or_default(), clients.now()));
            Attempted { revoked, retry }
        }
        None => Attempted {
            revoked: Revoked::NothingStored,
            retry: None,
        },
    }
}

/// Revokes grants at their platform with the application's vault and clients.
pub struct PlatformRevoker<'a> {
    pub keyring: &'a Keyring,
    pub clients: &'a Clients,
}

#[async_trait::async_trait]
impl crate::privacy::UpstreamRevoker for PlatformRevoker<'_> {
    async fn revoke(&self, account: &social_account::Model, l: &link::Model) -> Attempted {
        revoke_at_platform(self.keyring, self.clients, account.platform.provider(), l).await
    }

    fn keyring(&self) -> &Keyring {
        self.keyring
    }
}

fn derived(l: &link::Model, now: DateTime<Utc>) -> LinkStatus {
    status::derive(
        &LinkState {
            stored: l.status,
            invalid_reason: l.invalid_reason,
            authenticated_at: l.authenticated_at,
            expires_at: l.expires_at,
        },
        now,
        status::DEFAULT_EXPIRING_WINDOW,
    )
    .status
}

/// Erases `l`'s tokens and sets INVALID with `reason`, recording the change.
async fn erase(
    txn: &impl ConnectionTrait,
    account: &social_account::Model,
    l: &link::Model,
    reason: InvalidReason,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<link::Model> {
    let from = derived(l, now);
    let mut active: link::ActiveModel = l.clone().into();
    active.status = Set(LinkStatus::Invalid);
    active.invalid_reason = Set(Some(reason));
    active.access_token = Set(None);
    active.refresh_token = Set(None);
    active.access_token_expires_at = Set(None);
    active.refresh_token_expires_at = Set(None);
    active.lease_owner = Set(None);
    active.lease_until = Set(None);
    active.next_refresh_at = Set(None);
    active.version = Set(l.version + 1);
    active.updated_at = Set(now);
    let updated = active.update(txn).await?;
    events::record(
        txn,
        NewEvent::status_changed(
            account,
            from,
            LinkStatus::Invalid,
            Some(reason.as_str().to_owned()),
            actor.clone(),
            now,
        ),
    )
    .await?;
    crate::campaigns::content::account_broke(
        txn,
        account,
        LinkStatus::Invalid,
        Some(reason.as_str().to_owned()),
        actor,
        now,
    )
    .await?;
    Ok(updated)
}

async fn find(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_id: Uuid,
) -> DomainResult<(social_account::Model, Option<link::Model>)> {
    let account = social_account::Entity::find_by_id(account_id)
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("social account"))?;
    let l = link::Entity::find()
        .filter(link::Column::AccountId.eq(account.id))
        .one(db)
        .await?;
    Ok((account, l))
}

async fn revoke_and_erase(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    org: OrgId,
    account_id: Uuid,
    reason: InvalidReason,
    actor: Actor,
) -> DomainResult<Detached> {
    let (account, l) = find(db, org, account_id).await?;
    if reason == InvalidReason::Unlinked && account.profile_id.is_none() {
        return Err(DomainError::not_found("social account"));
    }
    let provider = account.platform.provider();
    let attempted = match l.as_ref() {
        Some(l) => revoke_at_platform(keyring, clients, provider, l).await,
        None => Attempted {
            revoked: Revoked::NothingStored,
            retry: None,
        },
    };
    let revoked = attempted.revoked;
    let now = clients.now();
    let txn = db.begin().await?;
    attempted.keep_for_retry(&txn, keyring, &account).await?;
    // Re-read inside the transaction: a refresh may have rotated the tokens meanwhile, and those
    // must be erased too.
    let (account, l) = find(&txn, org, account_id).await?;
    let l = match l {
        Some(l) if !(l.status == LinkStatus::Invalid && l.invalid_reason == Some(reason)) => {
            Some(erase(&txn, &account, &l, reason, &actor, now).await?)
        }
        other => other,
    };
    // Meta grants cover the Page and its Instagram account together: the revoke ended both.
    if provider == Provider::Meta && revoked != Revoked::NothingStored {
        if let Some(pair_id) = account.paired_account_id {
            if let Ok((pair, Some(pair_link))) = find(&txn, org, pair_id).await {
                if pair_link.access_token.is_some() {
                    erase(
                        &txn,
                        &pair,
                        &pair_link,
                        InvalidReason::Unlinked,
                        &actor,
                        now,
                    )
                    .await?;
                }
            }
        }
    }
    let account = if reason == InvalidReason::Removed {
        let mut active: social_account::ActiveModel = account.into();
        active.profile_id = Set(None);
        active.updated_at = Set(now);
        active.update(&txn).await?
    } else {
        account
    };
    txn.commit().await?;
    tracing::info!(account_id = %account.id, reason = reason.as_str(), ?revoked, "link ended");
    Ok(Detached {
        account,
        link: l,
        revoked,
    })
}

/// Unlinks an account: revokes upstream, erases the tokens, INVALID/UNLINKED. The account stays
/// on its profile (RECONNECT brings it back).
#[tracing::instrument(skip(db, keyring, clients), fields(org = %org))]
pub async fn unlink(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    org: OrgId,
    account_id: Uuid,
    actor: Actor,
) -> DomainResult<Detached> {
    revoke_and_erase(
        db,
        keyring,
        clients,
        org,
        account_id,
        InvalidReason::Unlinked,
        actor,
    )
    .await
}

/// Removes an account from its profile: revokes upstream, erases the tokens, INVALID/REMOVED, and
/// detaches it (it can then be added to another profile).
#[tracing::instrument(skip(db, keyring, clients), fields(org = %org))]
pub async fn remove(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    org: OrgId,
    account_id: Uuid,
    actor: Actor,
) -> DomainResult<Detached> {
    revoke_and_erase(
        db,
        keyring,
        clients,
        org,
        account_id,
        InvalidReason::Removed,
        actor,
    )
    .await
}

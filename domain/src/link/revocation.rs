//! Revokes the platform did not confirm at once (design §7, "revoke upstream"). Unlink, remove
//! and erasure erase the link's tokens at once whatever the platform answers; when its revoke
//! endpoint kept failing (5xx, 429, timeouts) the one token it takes is kept, sealed and bound to
//! a `pending_revocation` row, in the erasing transaction. The `revoke_scan` job claims the rows
//! that are due and a `revoke_upstream` job tries each again, backing off (honouring
//! `Retry-After`) until the platform answers or [`MAX_ATTEMPTS`] is reached; either way the row is
//! then deleted.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::pending_revocation;
use crate::error::{DomainError, DomainResult};
use crate::kinds::Provider;
use crate::platforms::{PlatformClient, PlatformError};
use crate::secret::Secret;
use crate::tenant::OrgId;
use crate::vault::{Aad, Keyring, TokenKind};

/// Attempts in all (the one made while unlinking included) before a revoke is given up.
pub const MAX_ATTEMPTS: i32 = 12;
/// The wait after the first failed attempt; doubles per attempt up to [`MAX_WAIT`] (about a day
/// and a half in all).
const FIRST_WAIT: Duration = Duration::minutes(1);
const MAX_WAIT: Duration = Duration::hours(6);

/// What one more attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The platform confirmed; the row is gone.
    Revoked,
    /// The grant was already dead there; the row is gone.
    AlreadyGone,
    /// It failed again; tried again at this time.
    Later(DateTime<Utc>),
    /// Refused for good, out of attempts, or the token cannot be opened; the row is gone.
    GaveUp,
    /// No such row (done by another attempt).
    Missing,
}

fn backoff(attempts: i32) -> Duration {
    FIRST_WAIT
        .checked_mul(1 << attempts.clamp(1, 16).saturating_sub(1))
        .unwrap_or(MAX_WAIT)
        .min(MAX_WAIT)
}

fn kind_name(kind: TokenKind) -> &'static str {
    kind.as_str()
}

fn kind_of(name: &str) -> Option<TokenKind> {
    match name {
        "access" => Some(TokenKind::Access),
        "refresh" => Some(TokenKind::Refresh),
        _ => None,
    }
}

fn provider_of(name: &str) -> Option<Provider> {
    [Provider::Meta, Provider::Tiktok, Provider::Google]
        .into_iter()
        .find(|p| p.as_str() == name)
}

/// Keeps `token` (of `kind`) to revoke at `provider` later, after a first attempt that failed
/// with `error`; call it in the transaction that erases the link's tokens.
#[allow(clippy::too_many_arguments)]
pub async fn queue(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    org: OrgId,
    account_id: Option<Uuid>,
    provider: Provider,
    token: &Secret,
    kind: TokenKind,
    error: &str,
    now: DateTime<Utc>,
) -> DomainResult<Uuid> {
    let id = Uuid::now_v7();
    pending_revocation::ActiveModel {
        id: Set(id),
        organization_id: Set(org.uuid()),
        account_id: Set(account_id),
        provider: Set(provider.as_str().to_owned()),
        token_kind: Set(kind_name(kind).to_owned()),
        token: Set(keyring.seal(token, &Aad::new(id, kind))),
        attempts: Set(1),
        next_attempt_at: Set(now + backoff(1)),
        last_error: Set(Some(error.to_owned())),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    tracing::info!(%id, provider = provider.as_str(), "platform revoke kept to try again");
    Ok(id)
}

async fn delete(db: &impl ConnectionTrait, id: Uuid) -> DomainResult<()> {
    pending_revocation::Entity::delete_by_id(id)
        .exec(db)
        .await?;
    Ok(())
}

/// Tries the revoke of row `id` once more with the client `client_of` gives for its provider.
pub async fn attempt(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    client_of: impl Fn(Provider) -> Option<Arc<dyn PlatformClient>>,
    id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<Attempt> {
    let Some(row) = pending_revocation::Entity::find_by_id(id).one(db).await? else {
        return Ok(Attempt::Missing);
    };
    let (Some(provider), Some(kind)) = (provider_of(&row.provider), kind_of(&row.token_kind))
    else {
        tracing::error!(%id, "a pending revocation names an unknown provider or token kind");
        delete(db, id).await?;
        return Ok(Attempt::GaveUp);
    };
    let token = match keyring.open(&row.token, &Aad::new(row.id, kind)) {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(%id, error = %e, "a pending revocation's token cannot be opened; given up");
            delete(db, id).await?;
            return Ok(Attempt::GaveUp);
        }
    };
    let Some(client) = client_of(provider) else {
        return Err(DomainError::Upstream {
            retryable: false,
            message: format!("no {} client configured", provider.as_str()),
        });
    };
    match client.revoke(&token).await {
        Ok(()) => {
            delete(db, id).await?;
            tracing::info!(%id, provider = provider.as_str(), "platform revoke confirmed");
            Ok(Attempt::Revoked)
        }
        Err(PlatformError::Invalid { .. } | PlatformError::AccessTokenInvalid { .. }) => {
            delete(db, id).await?;
            Ok(Attempt::AlreadyGone)
        }
        Err(e) if e.is_retryable() && row.attempts + 1 < MAX_ATTEMPTS => {
            let attempts = row.attempts + 1;
            let at = e.retry_at(now).map_or(now + backoff(attempts), |at| {
                at.max(now + backoff(attempts))
            });
            pending_revocation::Entity::update_many()
                .col_expr(pending_revocation::Column::Attempts, Expr::value(attempts))
                .col_expr(pending_revocation::Column::NextAttemptAt, Expr::value(at))
                .col_expr(
                    pending_revocation::Column::LastError,
                    Expr::value(Some(e.to_string())),
                )
                .filter(pending_revocation::Column::Id.eq(id))
                .exec(db)
                .await?;
            tracing::info!(%id, attempts, error = %e, "platform revoke failed again; trying later");
            Ok(Attempt::Later(at))
        }
        Err(e) => {
            delete(db, id).await?;
            tracing::warn!(%id, provider = provider.as_str(), attempts = row.attempts + 1, error = %e,
                "platform revoke given up; the tokens were erased here long ago");
            Ok(Attempt::GaveUp)
        }
    }
}

/// Claims up to `limit` rows due at `now` for `claim_for` (a conditional update, so concurrent
/// scans claim disjoint sets) and returns their ids.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    claim_for: Duration,
    limit: u64,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let mut due = Query::select();
    due.column(pending_revocation::Column::Id)
        .from(pending_revocation::Entity)
        .and_where(pending_revocation::Column::NextAttemptAt.lte(now))
        .limit(limit);
    let claimed = pending_revocation::Entity::update_many()
        .col_expr(
            pending_revocation::Column::NextAttemptAt,
            Expr::value(now + claim_for),
        )
        .filter(pending_revocation::Column::Id.in_subquery(due))
        .filter(pending_revocation::Column::NextAttemptAt.lte(now))
        .exec_with_returning(db)
        .await?;
    Ok(claimed.into_iter().map(|r| r.id).collect())
}

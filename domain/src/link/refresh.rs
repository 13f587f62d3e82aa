//! Token refresh with single flight across the cluster (design §7).
//!
//! 1. **Lease.** A worker takes the link's lease (owner, until) with a conditional update that
//!    succeeds only when no unexpired lease is held; everyone else sees `Busy` and leaves.
//! 2. **Call.** With the lease held it opens the sealed tokens and asks the platform.
//! 3. **Write before acknowledging.** New tokens (TikTok's rotated refresh token included) are
//!    sealed and written in one transaction that bumps `version`, on the condition that the
//!    version is still the one read and the lease still ours; only then does the job finish.
//! 4. **invalid_grant after a race.** If the platform says the grant is dead but the version
//!    moved meanwhile (someone else refreshed), the link is re-read instead of invalidated.
//!
//! Permanent errors make the link INVALID with the reason and one event; transient ones back the
//! link off on its own (exponential, jittered, honouring Retry-After / rate-limit windows) so a
//! failing link cannot starve the others.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{link, social_account};
use crate::events::{self, NewEvent};
use crate::kinds::{InvalidReason, LinkStatus};
use crate::platforms::{PlatformClient, PlatformError, RefreshInput};
use crate::vault::{Aad, Keyring, TokenKind};
use crate::DomainError;

/// What a refresh attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// New tokens are stored (version bumped).
    Refreshed,
    /// The access token is not near expiry (someone refreshed already): nothing to do.
    NotDue,
    /// Another worker holds the lease, or the link is not refreshable (not linked, no tokens).
    Skipped,
    /// The platform refused for good: the link is now INVALID with this reason.
    Invalidated(InvalidReason),
    /// A transient failure: the link will be tried again at this time.
    BackedOff(DateTime<Utc>),
}

/// The parameters of one attempt.
pub struct RefreshRequest<'a> {
    pub link_id: Uuid,
    /// The lease owner (the worker's id).
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_ttl: Duration,
    /// Refresh when the access token expires within this margin.
    pub margin: Duration,
    /// A pull saw the access token of this link version refused: refresh now whatever its
    /// expiry. When the version moved meanwhile (someone refreshed already), nothing is done
    /// (`NotDue`) and the caller reads the newer token.
    pub rejected_version: Option<i64>,
}

/// Longest per-link backoff after repeated transient failures.
const MAX_LINK_BACKOFF: Duration = Duration::hours(6);

/// Takes the lease of `link_id` if free (or expired); returns the row as leased.
pub async fn take_lease(
    db: &DatabaseConnection,
    link_id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<Option<link::Model>, sea_orm::DbErr> {
    Ok(take_lease_noting_abandoned(db, link_id, owner, now, ttl)
        .await?
        .map(|(row, _)| row))
}

/// [`take_lease`], also saying whether the lease taken had been abandoned: held by a worker that
/// stopped before it ended (every refresh that ends clears it). Such a worker may have died after
/// the platform answered. A free lease is taken with the first statement; the second runs only
/// when the lease was not free.
async fn take_lease_noting_abandoned(
    db: &DatabaseConnection,
    link_id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<Option<(link::Model, bool)>, sea_orm::DbErr> {
    for (held, abandoned) in [
        (link::Column::LeaseUntil.is_null(), false),
        (link::Column::LeaseUntil.lt(now), true),
    ] {
        let rows = link::Entity::update_many()
            .col_expr(link::Column::LeaseOwner, Expr::value(owner.to_owned()))
            .col_expr(link::Column::LeaseUntil, Expr::value(now + ttl))
            .filter(link::Column::Id.eq(link_id))
            .filter(held)
            .exec_with_returning(db)
            .await?;
        if let Some(row) = rows.into_iter().next() {
            return Ok(Some((row, abandoned)));
        }
    }
    Ok(None)
}

async fn release_lease(
    db: &DatabaseConnection,
    link_id: Uuid,
    owner: &str,
) -> Result<(), sea_orm::DbErr> {
    link::Entity::update_many()
        .col_expr(
            link::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            link::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(link::Column::Id.eq(link_id))
        .filter(link::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Someone else holds the lease: if they die holding it (a killed worker), the link must not wait
/// for the scan's claim to run out. The next scan after the lease ends picks it up again; when the
/// holder finishes first, its write clears the lease and this changes nothing.
async fn come_back_when_the_lease_ends(
    db: &DatabaseConnection,
    link_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    link::Entity::update_many()
        .col_expr(
            link::Column::NextRefreshAt,
            Expr::col(link::Column::LeaseUntil),
        )
        .filter(link::Column::Id.eq(link_id))
        .filter(link::Column::LeaseUntil.gte(now))
        .exec(db)
        .await?;
    Ok(())
}

/// Refreshes one link's tokens if due, under the single-flight rules above. Idempotent: a second
/// run finds the token no longer due (`NotDue`) or the lease held (`Skipped`).
pub async fn refresh_link(
    db: &DatabaseConnection,
    client: &dyn PlatformClient,
    keyring: &Keyring,
    req: RefreshRequest<'_>,
) -> Result<RefreshOutcome, DomainError> {
    let Some((leased, abandoned)) =
        take_lease_noting_abandoned(db, req.link_id, req.owner, req.now, req.lease_ttl).await?
    else {
        come_back_when_the_lease_ends(db, req.link_id, req.now).await?;
        return Ok(RefreshOutcome::Skipped);
    };
    let result = refresh_leased(db, client, keyring, &req, &leased, abandoned).await;
    // Whatever else happened, the lease goes; the token write of a refresh cleared it already
    // (one statement fewer on the path every link takes).
    if !matches!(result, Ok(RefreshOutcome::Refreshed)) {
        release_lease(db, req.link_id, req.owner).await?;
    }
    result
}

async fn refresh_leased(
    db: &DatabaseConnection,
    client: &dyn PlatformClient,
    keyring: &Keyring,
    req: &RefreshRequest<'_>,
    link: &link::Model,
    abandoned: bool,
) -> Result<RefreshOutcome, DomainError> {
    if !matches!(link.status, LinkStatus::Linked | LinkStatus::ExpiringSoon) {
        return Ok(RefreshOutcome::Skipped);
    }
    match req.rejected_version {
        Some(version) if version != link.version => return Ok(RefreshOutcome::NotDue),
        Some(_) => {}
        None => {
            if let Some(at) = link.access_token_expires_at {
                if at > req.now + req.margin {
                    return Ok(RefreshOutcome::NotDue);
                }
            }
        }
    }
    let Some(sealed_access) = &link.access_token else {
        return Ok(RefreshOutcome::Skipped);
    };
    let open = |sealed: &str, kind| {
        keyring
            .open(sealed, &Aad::new(link.id, kind))
            .map_err(|e| DomainError::Upstream {
                retryable: false,
                message: format!("cannot open the stored token: {e}"),
            })
    };
    let input = RefreshInput {
        access_token: open(sealed_access, TokenKind::Access)?,
        refresh_token: match &link.refresh_token {
            Some(s) => Some(open(s, TokenKind::Refresh)?),
            None => None,
        },
    };
    match client.refresh(&input, req.now).await {
        // Nothing comes before this write: a worker that stops between the platform's answer and
        // its commit loses a rotated refresh token (see `InvalidReason::RefreshResultLost`).
        Ok(tokens) => {
            let answered = std::time::Instant::now();
            let access = keyring.seal(&tokens.access_token, &Aad::new(link.id, TokenKind::Access));
            // A platform that sends no refresh token (Google, Meta) keeps the stored one.
            let refresh = match &tokens.refresh_token {
                Some(t) => Some(keyring.seal(t, &Aad::new(link.id, TokenKind::Refresh))),
                None => link.refresh_token.clone(),
            };
            let refresh_expires = tokens.refresh_expires_at.or(link.refresh_token_expires_at);
            let data_access = tokens
                .data_access_expires_at
                .or(link.data_access_expires_at);
            let (expires_at, cause) = match link.authenticated_at {
                Some(auth) => {
                    let (at, cause) = super::status::expires_at(auth, data_access, refresh_expires);
                    (Some(at), Some(cause.as_str().to_owned()))
                }
                None => (link.expires_at, link.expiry_cause.clone()),
            };
            // One statement, so one transaction: the new tokens, the version and the lease's
            // release commit together, before the job is acknowledged.
            let written = link::Entity::update_many()
                .col_expr(link::Column::AccessToken, Expr::value(Some(access)))
                .col_expr(link::Column::RefreshToken, Expr::value(refresh))
                .col_expr(
                    link::Column::AccessTokenExpiresAt,
                    Expr::value(tokens.access_expires_at),
                )
                .col_expr(
                    link::Column::RefreshTokenExpiresAt,
                    Expr::value(refresh_expires),
                )
                .col_expr(link::Column::DataAccessExpiresAt, Expr::value(data_access))
                .col_expr(link::Column::ExpiresAt, Expr::value(expires_at))
                .col_expr(link::Column::ExpiryCause, Expr::value(cause))
                .col_expr(
                    link::Column::Version,
                    Expr::col(link::Column::Version).add(1),
                )
                .col_expr(link::Column::LastRefreshedAt, Expr::value(Some(req.now)))
                .col_expr(link::Column::RefreshFailures, Expr::value(0))
                // A failure this refresh got past is no longer the link's last word.
                .col_expr(link::Column::LastError, Expr::value(Option::<String>::None))
                .col_expr(
                    link::Column::LastErrorAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    link::Column::NextRefreshAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    link::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    link::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(link::Column::UpdatedAt, Expr::value(req.now))
                .filter(link::Column::Id.eq(link.id))
                .filter(link::Column::Version.eq(link.version))
                .filter(link::Column::LeaseOwner.eq(req.owner))
                .exec(db)
                .await?;
            if written.rows_affected == 0 {
                // The lease expired mid-call and another worker wrote newer tokens; ours lose.
                tracing::error!(link_id = %link.id, "refresh result discarded: the lease was lost");
                return Err(DomainError::Upstream {
                    retryable: true,
                    message: "refresh lease lost before the tokens were written".into(),
                });
            }
            // The window a kill -9 would lose the rotated token in (docs/durable-jobs.md).
            tracing::debug!(
                link_id = %link.id,
                window_us = answered.elapsed().as_micros() as u64,
                "refresh stored"
            );
            Ok(RefreshOutcome::Refreshed)
        }
        Err(e) => handle_error(db, req, link, e, abandoned).await,
    }
}

async fn handle_error(
    db: &DatabaseConnection,
    req: &RefreshRequest<'_>,
    link: &link::Model,
    error: PlatformError,
    abandoned: bool,
) -> Result<RefreshOutcome, DomainError> {
    if let Some(reason) = error.invalid_reason() {
        let current = link::Entity::find_by_id(link.id).one(db).await?;
        if current.as_ref().is_some_and(|c| c.version != link.version) {
            // Someone refreshed meanwhile: the grant we used was the old one. Not invalid.
            return Ok(RefreshOutcome::NotDue);
        }
        // The grant is dead right after a refresh that never ended: that worker most likely
        // died after the platform rotated the refresh token. Say so, rather than blame the
        // creator's session.
        let (reason, message) = if abandoned && reason == InvalidReason::SessionInvalidated {
            (
                InvalidReason::RefreshResultLost,
                format!(
                    "the result of an earlier refresh was lost (its worker stopped after the platform answered); the creator must reconnect ({error})"
                ),
            )
        } else {
            (reason, error.to_string())
        };
        invalidate(db, link, reason, &message, req.now).await?;
        return Ok(RefreshOutcome::Invalidated(reason));
    }
    let failures = link.refresh_failures.saturating_add(1);
    let exp = Duration::seconds(30)
        .checked_mul(1i32 << failures.clamp(1, 12).saturating_sub(1))
        .unwrap_or(MAX_LINK_BACKOFF)
        .min(MAX_LINK_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0..=Ord::max(exp.num_seconds(), 1) / 2);
    let backoff_until = req.now + exp / 2 + Duration::seconds(jitter);
    let until = error
        .retry_at(req.now)
        .map_or(backoff_until, |at| Ord::max(at, backoff_until));
    link::Entity::update_many()
        .col_expr(link::Column::RefreshFailures, Expr::value(failures))
        .col_expr(link::Column::NextRefreshAt, Expr::value(Some(until)))
        .col_expr(
            link::Column::LastError,
            Expr::value(Some(error.to_string())),
        )
        .col_expr(link::Column::LastErrorAt, Expr::value(Some(req.now)))
        .col_expr(link::Column::UpdatedAt, Expr::value(req.now))
        .filter(link::Column::Id.eq(link.id))
        .filter(link::Column::LeaseOwner.eq(req.owner))
        .exec(db)
        .await?;
    Ok(RefreshOutcome::BackedOff(until))
}

/// Marks the link INVALID with `reason` and records one event, in one transaction; conditional on
/// the status it leaves, so two workers cannot record it twice.
pub async fn invalidate(
    db: &DatabaseConnection,
    link: &link::Model,
    reason: InvalidReason,
    message: &str,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    invalidate_as(
        db,
        link,
        reason,
        message,
        now,
        Actor::system("refresh-tokens"),
    )
    .await
}

/// [`invalidate`] on behalf of `actor` (the data pulls use it too): the link goes INVALID with
/// one `STATUS_CHANGED` event, and active campaigns holding the account's content are told.
pub async fn invalidate_as(
    db: &DatabaseConnection,
    link: &link::Model,
    reason: InvalidReason,
    message: &str,
    now: DateTime<Utc>,
    actor: Actor,
) -> Result<bool, DomainError> {
    let txn = db.begin().await?;
    let moved = link::Entity::update_many()
        .col_expr(link::Column::Status, Expr::value(LinkStatus::Invalid))
        .col_expr(link::Column::InvalidReason, Expr::value(Some(reason)))
        .col_expr(
            link::Column::LastError,
            Expr::value(Some(message.to_owned())),
        )
        .col_expr(link::Column::LastErrorAt, Expr::value(Some(now)))
        .col_expr(link::Column::UpdatedAt, Expr::value(now))
        .filter(link::Column::Id.eq(link.id))
        .filter(link::Column::Status.eq(link.status))
        .exec_with_returning(&txn)
        .await?;
    let Some(row) = moved.into_iter().next() else {
        txn.rollback().await?;
        return Ok(false);
    };
    if let Some(account) = social_account::Entity::find_by_id(row.account_id)
        .one(&txn)
        .await?
    {
        events::record(
            &txn,
            NewEvent::status_changed(
                &account,
                link.status,
                LinkStatus::Invalid,
                Some(reason.as_str().to_owned()),
                actor.clone(),
                now,
            ),
        )
        .await?;
        crate::campaigns::content::account_broke(
            &txn,
            &account,
            LinkStatus::Invalid,
            Some(reason.as_str().to_owned()),
            &actor,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Releases the claims of [`claim_due`] still outstanding at `now` (the queue lost their jobs):
/// links whose `next_refresh_at` lies ahead with no failure behind it (a backoff after failures
/// keeps its time) and no live lease. Returns how many.
pub async fn release_claims(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let released = link::Entity::update_many()
        .col_expr(
            link::Column::NextRefreshAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(link::Column::NextRefreshAt.gt(now))
        .filter(link::Column::RefreshFailures.eq(0))
        .filter(
            Condition::any()
                .add(link::Column::LeaseUntil.is_null())
                .add(link::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(released.rows_affected)
}

/// Claims up to `limit` links due for refresh at `now` (access token expiring within the
/// provider's margin, not backed off) by pushing their `next_refresh_at` forward by `claim_for`,
/// and returns their ids. The conditional update makes concurrent scans claim disjoint sets.
pub async fn claim_due(
    db: &DatabaseConnection,
    due_before: DateTime<Utc>,
    platforms: &[crate::Platform],
    now: DateTime<Utc>,
    claim_for: Duration,
    limit: u64,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    use sea_orm::sea_query::Query;
    let accounts = Query::select()
        .column(social_account::Column::Id)
        .from(social_account::Entity)
        .and_where(social_account::Column::Platform.is_in(platforms.iter().copied()))
        .to_owned();
    let due = |q: &mut sea_orm::sea_query::SelectStatement| {
        q.and_where(link::Column::Status.is_in([LinkStatus::Linked, LinkStatus::ExpiringSoon]))
            .and_where(link::Column::AccessToken.is_not_null())
            .and_where(link::Column::AccessTokenExpiresAt.lte(due_before))
            .and_where(link::Column::AccountId.in_subquery(accounts.clone()))
            .cond_where(
                Condition::any()
                    .add(link::Column::NextRefreshAt.is_null())
                    .add(link::Column::NextRefreshAt.lte(now)),
            );
    };
    let mut ids = Query::select();
    ids.column(link::Column::Id).from(link::Entity).limit(limit);
    due(&mut ids);
    let claimed = link::Entity::update_many()
        .col_expr(
            link::Column::NextRefreshAt,
            Expr::value(Some(now + claim_for)),
        )
        .filter(link::Column::Id.in_subquery(ids))
        .filter(
            Condition::any()
                .add(link::Column::NextRefreshAt.is_null())
                .add(link::Column::NextRefreshAt.lte(now)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(claimed.into_iter().map(|l| l.id).collect())
}

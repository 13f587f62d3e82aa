//! The one error policy of every pull path (the scheduled sync pulls and the campaign content
//! pulls, and any pull to come): a platform reply is classified by [`decide`] and every path
//! acts on the [`Action`] the same way.
//!
//! - a refused access token: [`renew`] it now (forced, whatever its expiry, unless someone
//!   refreshed meanwhile) and try once more;
//! - a dead grant or a missing scope: the link goes INVALID with its reason and one event;
//! - "no such account / not eligible": a single odd reply is not enough — [`confirm_gone`] reads
//!   the account again before the link is declared ineligible;
//! - a rate limit or a spent quota: wait until the time the platform gave;
//! - a transient failure: retry with backoff;
//! - our request or configuration refused: no quick retry can help.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::entities::link;
use crate::kinds::{InvalidReason, LinkStatus};
use crate::link::refresh::{refresh_link, RefreshOutcome, RefreshRequest};
use crate::platforms::{PlatformClient, PlatformError};
use crate::secret::Secret;
use crate::vault::{Aad, Keyring, TokenKind};
use crate::DomainError;

/// What a pull does about a platform error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The access token was refused: renew it now and try once more.
    RenewAndRetry,
    /// The link is INVALID with this reason (one event).
    Invalidate(InvalidReason),
    /// The platform says the account is gone or not eligible: confirm with a second read, then
    /// invalidate with this reason.
    ConfirmThenInvalidate(InvalidReason),
    /// Rate limited or out of quota: nothing before `until`.
    Wait {
        until: DateTime<Utc>,
        /// YouTube's daily quota (campaign pulls then mark the day's budget spent).
        quota: bool,
    },
    /// Transient: retry with backoff, not before `after` when the platform said.
    Retry { after: Option<std::time::Duration> },
    /// The platform refused our request as malformed or our app as misconfigured: retrying as
    /// is cannot help; the pull backs off and the error is shown.
    Refused,
}

/// The action for `error`.
pub fn decide(error: &PlatformError) -> Action {
    match error {
        PlatformError::AccessTokenInvalid { .. } => Action::RenewAndRetry,
        PlatformError::RateLimited { until, .. } => Action::Wait {
            until: *until,
            quota: false,
        },
        PlatformError::QuotaExceeded { until, .. } => Action::Wait {
            until: *until,
            quota: true,
        },
        PlatformError::Retryable { after, .. } => Action::Retry { after: *after },
        PlatformError::Malformed { .. } => Action::Retry { after: None },
        PlatformError::BadRequest { .. } => Action::Refused,
        other => match other.invalid_reason() {
            Some(InvalidReason::AccountNotEligible) => {
                Action::ConfirmThenInvalidate(InvalidReason::AccountNotEligible)
            }
            Some(reason) => Action::Invalidate(reason),
            None => Action::Refused,
        },
    }
}

/// Who renews tokens on behalf of a pull: the lease owner (the worker) and the lease length.
#[derive(Debug, Clone, Copy)]
pub struct Renewer<'a> {
    pub owner: &'a str,
    pub lease_ttl: Duration,
}

/// The access token of `link`, opened.
pub fn open_token(keyring: &Keyring, link: &link::Model) -> Result<Option<Secret>, DomainError> {
    let Some(sealed) = &link.access_token else {
        return Ok(None);
    };
    keyring
        .open(sealed, &Aad::new(link.id, TokenKind::Access))
        .map(Some)
        .map_err(|e| DomainError::Upstream {
            retryable: false,
            message: format!("cannot open the stored token: {e}"),
        })
}

/// What [`renew`] came to.
#[derive(Debug)]
pub enum Renewed {
    /// The link now holds a newer token: try again with it.
    Retry(Box<link::Model>, Secret),
    /// The refresh found the grant dead: the link is INVALID (the refresh wrote the event).
    Invalidated(InvalidReason),
    /// The token could not be renewed now; the pull fails with this (transient) error.
    Failed(PlatformError),
}

/// Renews the access token `link` held when the platform refused it: a forced refresh under the
/// usual single flight. When another worker refreshed meanwhile, its newer token is used.
pub async fn renew(
    db: &DatabaseConnection,
    client: &dyn PlatformClient,
    keyring: &Keyring,
    renewer: Renewer<'_>,
    link: &link::Model,
    now: DateTime<Utc>,
) -> Result<Renewed, DomainError> {
    let outcome = refresh_link(
        db,
        client,
        keyring,
        RefreshRequest {
            link_id: link.id,
            owner: renewer.owner,
            now,
            lease_ttl: renewer.lease_ttl,
            margin: Duration::zero(),
            rejected_version: Some(link.version),
        },
    )
    .await?;
    match outcome {
        RefreshOutcome::Refreshed | RefreshOutcome::NotDue => {
            let current = link::Entity::find_by_id(link.id).one(db).await?;
            match current {
                Some(l)
                    if l.version != link.version
                        && matches!(l.status, LinkStatus::Linked | LinkStatus::ExpiringSoon) =>
                {
                    match open_token(keyring, &l)? {
                        Some(token) => Ok(Renewed::Retry(Box::new(l), token)),
                        None => Ok(Renewed::Failed(PlatformError::retryable(
                            "the renewed link has no access token",
                        ))),
                    }
                }
                Some(l) if l.status == LinkStatus::Invalid => Ok(Renewed::Invalidated(
                    l.invalid_reason
                        .unwrap_or(InvalidReason::SessionInvalidated),
                )),
                _ => Ok(Renewed::Failed(PlatformError::retryable(
                    "the access token was refused and could not be renewed",
                ))),
            }
        }
        RefreshOutcome::Invalidated(reason) => Ok(Renewed::Invalidated(reason)),
        RefreshOutcome::BackedOff(until) => Ok(Renewed::Failed(PlatformError::RateLimited {
            until,
            message: "the access token was refused and its refresh failed; retrying later".into(),
        })),
        RefreshOutcome::Skipped => Ok(Renewed::Failed(PlatformError::retryable(
            "the access token was refused; another worker is renewing it",
        ))),
    }
}

/// The second read before a link is declared ineligible: the token's own account again.
/// `Ok(())` when it confirms the account is gone (the same refusal again, or the account is not
/// among the token's); otherwise the error the pull fails with instead (a transient one when the
/// account is there after all).
pub async fn confirm_gone(
    client: &dyn PlatformClient,
    token: &Secret,
    platform_user_id: &str,
    first: &PlatformError,
) -> Result<(), PlatformError> {
    match client.profile(token).await {
        Ok(profiles)
            if profiles
                .iter()
                .any(|p| p.platform_user_id == platform_user_id) =>
        {
            Err(PlatformError::retryable(format!(
                "one reply said: {first}; a second read found the account"
            )))
        }
        Ok(_) => Ok(()),
        Err(e) if decide(&e) == decide(first) => Ok(()),
        Err(e) => Err(e),
    }
}

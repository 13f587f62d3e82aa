//! `Link`: the authorization of one social account, as a reader sees it now.

use async_graphql::{Enum, Object};
use chrono::{DateTime, Utc};
use domain::entities::link;
use domain::link::status::{self, Derived, LINK_LIFETIME};

/// The status of a link (design §4), derived from stored state and the clock.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::LinkStatus")]
pub enum LinkStatus {
    /// Added by handle or URL, never authenticated (grey badge, CONNECT).
    NotLinked,
    /// A valid authorization, more than the expiring window before it expires (green).
    Linked,
    /// Valid, but it expires within the expiring window (orange).
    ExpiringSoon,
    /// The 90 days (or an earlier platform bound) have passed (red, RECONNECT).
    Expired,
    /// Unusable before its expiry; `invalidReason` says why (red, RECONNECT).
    Invalid,
}

/// Why a link became INVALID.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::InvalidReason")]
pub enum InvalidReason {
    /// The creator unlinked the account.
    Unlinked,
    /// The account was removed from its profile.
    Removed,
    /// The platform says the password changed.
    PasswordChanged,
    /// The platform invalidated the session or token.
    SessionInvalidated,
    /// Access was revoked on the platform.
    PermissionsRevoked,
    /// A permission the product needs was not granted.
    ScopesMissing,
    /// The account cannot be linked (e.g. Instagram not professional or not attached to a Page).
    AccountNotEligible,
    /// The platform requires the user to act on the platform first.
    UserActionRequired,
    /// The creator's data was erased on request.
    Erased,
    /// A refresh's result was lost (the worker stopped after the platform answered and before
    /// the new tokens were stored): the creator must reconnect.
    RefreshResultLost,
}

/// The authorization of one social account. Tokens are never shown.
pub struct Link {
    stored: Option<link::Model>,
    derived: Derived,
}

impl Link {
    /// The link as a reader sees it at `now` with the EXPIRING_SOON `window`.
    pub fn new(stored: Option<link::Model>, now: DateTime<Utc>, window: chrono::Duration) -> Self {
        let state = domain::accounts::service::link_state(stored.as_ref());
        let derived = status::derive(&state, now, window);
        Link { stored, derived }
    }

    /// The derived status.
    pub fn derived_status(&self) -> domain::LinkStatus {
        self.derived.status
    }

    fn scopes(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }
}

#[Object]
impl Link {
    /// The status now.
    async fn status(&self) -> LinkStatus {
        self.derived.status.into()
    }

    /// Why the link is INVALID; null otherwise.
    async fn invalid_reason(&self) -> Option<InvalidReason> {
        self.derived.invalid_reason.map(Into::into)
    }

    /// When the creator last authenticated (connected or reconnected); the 90 days run from here.
    async fn authenticated_at(&self) -> Option<DateTime<Utc>> {
        self.stored.as_ref().and_then(|l| l.authenticated_at)
    }

    /// When the authorization expires: the earliest of authenticatedAt + 90 days and the
    /// platform's own bounds. Null when never authenticated.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        let l = self.stored.as_ref()?;
        l.expires_at
            .or_else(|| l.authenticated_at.map(|at| at + LINK_LIFETIME))
    }

    /// Whole days until expiry (0 once expired); null when NOT_LINKED or INVALID.
    async fn days_until_expiry(&self) -> Option<i64> {
        self.derived.days_until_expiry
    }

    /// The permissions the platform granted.
    async fn granted_scopes(&self) -> Vec<String> {
        self.stored
            .as_ref()
            .map(|l| Self::scopes(&l.granted_scopes))
            .unwrap_or_default()
    }

    /// The permissions asked for in the last connect.
    async fn requested_scopes(&self) -> Vec<String> {
        self.stored
            .as_ref()
            .map(|l| Self::scopes(&l.requested_scopes))
            .unwrap_or_default()
    }

    /// When the access token was last refreshed.
    async fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.stored.as_ref().and_then(|l| l.last_refreshed_at)
    }

    /// When data was last pulled from the platform with this link.
    async fn last_synced_at(&self) -> Option<DateTime<Utc>> {
        self.stored.as_ref().and_then(|l| l.last_synced_at)
    }
}

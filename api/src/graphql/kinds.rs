//! The closed vocabularies of the API, mirrored from `domain::kinds`.

use async_graphql::Enum;

pub use super::events::{LinkStatus, Platform};

/// Why a link became unusable before its 90 days ran out.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::InvalidReason")]
pub enum InvalidReason {
    /// The creator unlinked the account.
    Unlinked,
    /// The account was removed from its profile.
    Removed,
    /// The creator changed their password on the platform.
    PasswordChanged,
    /// The platform ended the session.
    SessionInvalidated,
    /// Access was revoked on the platform.
    PermissionsRevoked,
    /// A required permission was not granted.
    ScopesMissing,
    /// The account cannot be linked (e.g. Instagram not professional or not attached to a Page).
    AccountNotEligible,
    /// The platform requires the creator to act there first.
    UserActionRequired,
    /// The creator's data was erased on request.
    Erased,
}

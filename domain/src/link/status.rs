//! The status a reader sees, derived from a link's stored state and the clock (design §4).
//!
//! The stored status is only the last materialized one: the sweep job writes transitions so that
//! each becomes one `link_event`, but between sweeps the clock may already have moved a link from
//! LINKED to EXPIRING_SOON or EXPIRED. [`derive`] is the one place that decides, so every reader
//! (GraphQL, the Connect page, webhooks, the sweep itself) agrees.
//!
//! Boundaries, chosen so that "expires at" means the link is no longer usable at that instant:
//! - `now >= expires_at` is EXPIRED (exactly at `expires_at` the link has expired);
//! - `expires_at - now <= window` is EXPIRING_SOON (exactly `window` before is already expiring);
//! - anything earlier is LINKED.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::kinds::{InvalidReason, LinkStatus};

/// How long an authentication lasts before the creator must reconnect: 90 days on every platform.
pub const LINK_LIFETIME: Duration = Duration::days(90);

/// The default window before `expires_at` in which a link shows as EXPIRING_SOON.
pub const DEFAULT_EXPIRING_WINDOW: Duration = Duration::days(14);

/// What a link's state says, as stored; the input of [`derive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkState {
    /// The last materialized status.
    pub stored: LinkStatus,
    /// Why the link is INVALID; only read when `stored` is INVALID.
    pub invalid_reason: Option<InvalidReason>,
    /// When the creator last authenticated (connected or reconnected); `None` if never.
    pub authenticated_at: Option<DateTime<Utc>>,
    /// The stored expiry (see [`expires_at`]); `None` falls back to `authenticated_at` + 90 days.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The status a reader sees at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    /// The current status.
    pub status: LinkStatus,
    /// The reason, present only with INVALID.
    pub invalid_reason: Option<InvalidReason>,
    /// Whole days until expiry, rounded down and never negative (0 once expired); `None` when the
    /// link has no running expiry (NOT_LINKED or INVALID).
    pub days_until_expiry: Option<i64>,
}

/// Which bound set a link's `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExpiryCause {
    /// `authenticated_at` + [`LINK_LIFETIME`].
    NinetyDays,
    /// Meta's data-access expiry came first.
    DataAccess,
    /// The refresh token's own expiry came first.
    RefreshToken,
}

impl ExpiryCause {
    /// The stored and wire name, e.g. `NINETY_DAYS`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryCause::NinetyDays => "NINETY_DAYS",
            ExpiryCause::DataAccess => "DATA_ACCESS",
            ExpiryCause::RefreshToken => "REFRESH_TOKEN",
        }
    }
}

/// A link's expiry: the earliest of `authenticated_at` + 90 days, the data-access expiry and the
/// refresh token's expiry, with the bound that set it. On a tie the 90 days win, then data access,
/// so the cause shown to a creator is the most familiar one.
pub fn expires_at(
    authenticated_at: DateTime<Utc>,
    data_access_expires_at: Option<DateTime<Utc>>,
    refresh_token_expires_at: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, ExpiryCause) {
    let mut earliest = (authenticated_at + LINK_LIFETIME, ExpiryCause::NinetyDays);
    let others = [
        (data_access_expires_at, ExpiryCause::DataAccess),
        (refresh_token_expires_at, ExpiryCause::RefreshToken),
    ];
    for (bound, cause) in others {
        if let Some(at) = bound {
            if at < earliest.0 {
                earliest = (at, cause);
            }
        }
    }
    earliest
}

/// The status a reader sees at `now`, given the stored state and the EXPIRING_SOON `window`.
///
/// INVALID is sticky: only a reconnect (which rewrites the stored state) leaves it, and an invalid
/// link never turns EXPIRED. Every other stored status is recomputed from the timestamps, so a
/// reconnect that writes a new `authenticated_at` is LINKED again at once.
pub fn derive(state: &LinkState, now: DateTime<Utc>, window: Duration) -> Derived {
    if state.stored == LinkStatus::Invalid {
        return Derived {
            status: LinkStatus::Invalid,
            invalid_reason: state.invalid_reason,
            days_until_expiry: None,
        };
    }
    let Some(authenticated_at) = state.authenticated_at else {
        return Derived {
            status: LinkStatus::NotLinked,
            invalid_reason: None,
            days_until_expiry: None,
        };
    };
    let expires_at = state.expires_at.unwrap_or(authenticated_at + LINK_LIFETIME);
    let remaining = expires_at - now;
    let status = if remaining <= Duration::zero() {
        LinkStatus::Expired
    } else if remaining <= window {
        LinkStatus::ExpiringSoon
    } else {
        LinkStatus::Linked
    };
    Derived {
        status,
        invalid_reason: None,
        days_until_expiry: Some(remaining.num_days().max(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0)
            .single()
            .expect("a valid fixed instant")
    }

    fn authenticated_at(at: DateTime<Utc>) -> LinkState {
        LinkState {
            stored: LinkStatus::Linked,
            invalid_reason: None,
            authenticated_at: Some(at),
            expires_at: None,
        }
    }

    fn status_at(state: &LinkState, now: DateTime<Utc>) -> LinkStatus {
        derive(state, now, DEFAULT_EXPIRING_WINDOW).status
    }

    #[test]
    fn exactly_the_window_before_expiry_is_expiring_soon() {
        let expiry = t0() + LINK_LIFETIME;
        let state = authenticated_at(t0());
        assert_eq!(
            status_at(&state, expiry - Duration::days(14)),
            LinkStatus::ExpiringSoon
        );
    }

    #[test]
    fn one_second_before_the_window_is_still_linked() {
        let expiry = t0() + LINK_LIFETIME;
        let state = authenticated_at(t0());
        let now = expiry - Duration::days(14) - Duration::seconds(1);
        assert_eq!(status_at(&state, now), LinkStatus::Linked);
    }

    #[test]
    fn exactly_at_ninety_days_the_link_is_expired() {
        let state = authenticated_at(t0());
        assert_eq!(status_at(&state, t0() + LINK_LIFETIME), LinkStatus::Expired);
    }

    #[test]
    fn one_second_before_ninety_days_the_link_is_expiring_soon() {
        let state = authenticated_at(t0());
        let now = t0() + LINK_LIFETIME - Duration::seconds(1);
        let derived = derive(&state, now, DEFAULT_EXPIRING_WINDOW);
        assert_eq!(derived.status, LinkStatus::ExpiringSoon);
        assert_eq!(derived.days_until_expiry, Some(0));
    }

    #[test]
    fn a_link_moves_through_its_statuses_by_days_since_authentication() {
        let state = authenticated_at(t0());
        let cases = [
            (0, LinkStatus::Linked, 90),
            (75, LinkStatus::Linked, 15),
            (76, LinkStatus::ExpiringSoon, 14),
            (77, LinkStatus::ExpiringSoon, 13),
            (89, LinkStatus::ExpiringSoon, 1),
            (90, LinkStatus::Expired, 0),
            (91, LinkStatus::Expired, 0),
        ];
        for (days, status, days_left) in cases {
            let derived = derive(&state, t0() + Duration::days(days), DEFAULT_EXPIRING_WINDOW);
            assert_eq!(derived.status, status, "after {days} days");
            assert_eq!(
                derived.days_until_expiry,
                Some(days_left),
                "after {days} days"
            );
            assert_eq!(derived.invalid_reason, None);
        }
    }

    #[test]
    fn days_until_expiry_rounds_down() {
        let state = authenticated_at(t0());
        let now = t0() + Duration::days(80) + Duration::hours(23);
        assert_eq!(
            derive(&state, now, DEFAULT_EXPIRING_WINDOW).days_until_expiry,
            Some(9)
        );
    }

    #[test]
    fn a_stored_expiry_is_used_instead_of_ninety_days() {
        let mut state = authenticated_at(t0());
        state.expires_at = Some(t0() + Duration::days(30));
        assert_eq!(
            status_at(&state, t0() + Duration::days(20)),
            LinkStatus::ExpiringSoon
        );
        assert_eq!(
            status_at(&state, t0() + Duration::days(30)),
            LinkStatus::Expired
        );
    }

    #[test]
    fn reconnecting_starts_a_fresh_ninety_days() {
        let now = t0() + Duration::days(95);
        let mut state = authenticated_at(t0());
        state.stored = LinkStatus::Expired;
        assert_eq!(status_at(&state, now), LinkStatus::Expired);

        let reconnected = authenticated_at(now - Duration::hours(1));
        let derived = derive(&reconnected, now, DEFAULT_EXPIRING_WINDOW);
        assert_eq!(derived.status, LinkStatus::Linked);
        assert_eq!(derived.days_until_expiry, Some(89));
    }

    #[test]
    fn a_stale_stored_status_is_corrected_by_the_clock() {
        let state = authenticated_at(t0());
        assert_eq!(state.stored, LinkStatus::Linked);
        assert_eq!(
            status_at(&state, t0() + Duration::days(100)),
            LinkStatus::Expired
        );
    }

    #[test]
    fn an_invalid_link_stays_invalid_with_its_reason_after_ninety_days() {
        let state = LinkState {
            stored: LinkStatus::Invalid,
            invalid_reason: Some(InvalidReason::PasswordChanged),
            authenticated_at: Some(t0()),
            expires_at: Some(t0() + LINK_LIFETIME),
        };
        let derived = derive(&state, t0() + Duration::days(120), DEFAULT_EXPIRING_WINDOW);
        assert_eq!(
            derived,
            Derived {
                status: LinkStatus::Invalid,
                invalid_reason: Some(InvalidReason::PasswordChanged),
                days_until_expiry: None,
            }
        );
    }

    #[test]
    fn an_account_never_authenticated_is_not_linked() {
        let state = LinkState {
            stored: LinkStatus::NotLinked,
            invalid_reason: None,
            authenticated_at: None,
            expires_at: None,
        };
        let derived = derive(&state, t0(), DEFAULT_EXPIRING_WINDOW);
        assert_eq!(derived.status, LinkStatus::NotLinked);
        assert_eq!(derived.days_until_expiry, None);
    }

    #[test]
    fn only_an_invalid_link_reports_a_reason() {
        let mut state = authenticated_at(t0());
        state.invalid_reason = Some(InvalidReason::Unlinked);
        assert_eq!(
            derive(&state, t0(), DEFAULT_EXPIRING_WINDOW).invalid_reason,
            None
        );
    }

    #[test]
    fn without_other_bounds_the_ninety_days_set_the_expiry() {
        assert_eq!(
            expires_at(t0(), None, None),
            (t0() + Duration::days(90), ExpiryCause::NinetyDays)
        );
    }

    #[test]
    fn the_earliest_of_the_three_bounds_sets_the_expiry() {
        let data_access = t0() + Duration::days(60);
        let refresh = t0() + Duration::days(30);
        assert_eq!(
            expires_at(t0(), Some(data_access), Some(refresh)),
            (refresh, ExpiryCause::RefreshToken)
        );
        assert_eq!(
            expires_at(t0(), Some(data_access), Some(t0() + Duration::days(365))),
            (data_access, ExpiryCause::DataAccess)
        );
        assert_eq!(
            expires_at(
                t0(),
                Some(t0() + Duration::days(91)),
                Some(t0() + Duration::days(92))
            ),
            (t0() + LINK_LIFETIME, ExpiryCause::NinetyDays)
        );
    }

    #[test]
    fn on_a_tie_the_ninety_days_are_the_cause() {
        let ninety = t0() + LINK_LIFETIME;
        assert_eq!(
            expires_at(t0(), Some(ninety), Some(ninety)),
            (ninety, ExpiryCause::NinetyDays)
        );
    }

    #[test]
    fn expiry_causes_have_stable_wire_names() {
        assert_eq!(ExpiryCause::NinetyDays.as_str(), "NINETY_DAYS");
        assert_eq!(ExpiryCause::DataAccess.as_str(), "DATA_ACCESS");
        assert_eq!(ExpiryCause::RefreshToken.as_str(), "REFRESH_TOKEN");
    }
}

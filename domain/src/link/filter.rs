//! The status rule of [`super::status::derive`] written as SQL conditions over `link`, so lists
//! can be filtered by the status a reader would see without loading every link. Each branch
//! mirrors one branch of `derive`; a link row that does not exist (a LEFT JOIN miss) is
//! NOT_LINKED.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, Condition};

use super::status::LINK_LIFETIME;
use crate::entities::link;
use crate::kinds::LinkStatus;

/// Rows of `link` (possibly LEFT JOINed, so possibly all NULL) whose derived status at `now`
/// with the EXPIRING_SOON `window` is `status`.
pub fn derived_status_is(status: LinkStatus, now: DateTime<Utc>, window: Duration) -> Condition {
    use link::Column as L;
    let not_invalid = Condition::all()
        .add(L::Status.ne(LinkStatus::Invalid))
        .add(L::AuthenticatedAt.is_not_null());
    // `derive` falls back to authenticated_at + 90 days when no expiry is stored.
    let expires_at_or_before = |at: DateTime<Utc>| {
        Condition::any().add(L::ExpiresAt.lte(at)).add(
            Condition::all()
                .add(L::ExpiresAt.is_null())
                .add(L::AuthenticatedAt.lte(at - LINK_LIFETIME)),
        )
    };
    let expires_after = |at: DateTime<Utc>| {
        Condition::any().add(L::ExpiresAt.gt(at)).add(
            Condition::all()
                .add(L::ExpiresAt.is_null())
                .add(L::AuthenticatedAt.gt(at - LINK_LIFETIME)),
        )
    };
    match status {
        LinkStatus::Invalid => Condition::all().add(L::Status.eq(LinkStatus::Invalid)),
        LinkStatus::NotLinked => Condition::any().add(L::Id.is_null()).add(
            Condition::all()
                .add(L::Status.ne(LinkStatus::Invalid))
                .add(L::AuthenticatedAt.is_null()),
        ),
        LinkStatus::Expired => not_invalid.add(expires_at_or_before(now)),
        LinkStatus::ExpiringSoon => not_invalid
            .add(expires_after(now))
            .add(expires_at_or_before(now + window)),
        LinkStatus::Linked => not_invalid.add(expires_after(now + window)),
    }
}

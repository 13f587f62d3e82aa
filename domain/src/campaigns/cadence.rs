//! How often campaign content is pulled: every 15 minutes for the first 48 hours after it was
//! posted, hourly up to 7 days, then daily until the campaign has ended plus 30 days. Stories are
//! pulled every 15 minutes through their 24 hours, with a final pull just before the window
//! closes so their last numbers are kept.

use chrono::{DateTime, Duration, Utc};

use crate::entities::media;
use crate::kinds::MediaKind;

/// Pull interval while content is younger than [`FAST_FOR`].
pub const FAST: Duration = Duration::minutes(15);
/// How long content is pulled every [`FAST`].
pub const FAST_FOR: Duration = Duration::hours(48);
/// Pull interval after [`FAST_FOR`] until [`HOURLY_FOR`].
pub const HOURLY: Duration = Duration::hours(1);
/// Until what age content is pulled hourly.
pub const HOURLY_FOR: Duration = Duration::days(7);
/// Pull interval after [`HOURLY_FOR`].
pub const DAILY: Duration = Duration::days(1);
/// How long after the campaign ends its content keeps being pulled.
pub const AFTER_END: Duration = Duration::days(30);
/// The final pull of a story happens this long before its window closes.
pub const STORY_FINAL_MARGIN: Duration = Duration::minutes(10);
/// How long a story is served when the platform gave no expiry.
pub const STORY_LIFETIME: Duration = Duration::hours(24);

/// What the cadence needs to know of a media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub kind: MediaKind,
    pub taken_at: DateTime<Utc>,
    /// Stories: when the platform stops serving it.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Item {
    pub fn of(m: &media::Model) -> Item {
        Item {
            kind: m.kind,
            taken_at: m.taken_at,
            expires_at: m.expires_at,
        }
    }
}

/// The interval between pulls of content `age` old.
pub fn interval(age: Duration) -> Duration {
    if age < FAST_FOR {
        FAST
    } else if age < HOURLY_FOR {
        HOURLY
    } else {
        DAILY
    }
}

/// When to pull `item` next after a pull at `last`, or `None` when tracking is over (a story's
/// final pull is done; a post has had its last pull at the campaign's end + 30 days).
pub fn next_pull_at(
    item: &Item,
    campaign_ends_at: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let age = (last - item.taken_at).max(Duration::zero());
    let candidate = last + interval(age);
    if item.kind == MediaKind::Story {
        let closes = item.expires_at.unwrap_or(item.taken_at + STORY_LIFETIME);
        let last_call = closes - STORY_FINAL_MARGIN;
        if last >= last_call {
            return None;
        }
        return Some(candidate.min(last_call));
    }
    let end = campaign_ends_at.max(item.taken_at) + AFTER_END;
    if last >= end {
        return None;
    }
    Some(candidate.min(end))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("date")
    }

    /// Every pull time from `first` on, as the job would follow the schedule.
    fn schedule(item: &Item, ends: DateTime<Utc>, first: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut pulls = vec![first];
        while let Some(next) = next_pull_at(item, ends, *pulls.last().expect("one")) {
            assert!(next > *pulls.last().expect("one"), "time moves forward");
            pulls.push(next);
            assert!(pulls.len() < 10_000, "the schedule ends");
        }
        pulls
    }

    #[test]
    fn a_post_is_pulled_every_15_minutes_then_hourly_then_daily_until_30_days_after_the_end() {
        let post = Item {
            kind: MediaKind::Post,
            taken_at: t0(),
            expires_at: None,
        };
        let ends = t0() + Duration::days(14);
        let pulls = schedule(&post, ends, t0());
        let within = |from: Duration, to: Duration| {
            pulls
                .iter()
                .filter(|p| **p >= t0() + from && **p < t0() + to)
                .count()
        };
        assert_eq!(
            within(Duration::zero(), FAST_FOR),
            192,
            "4 an hour for 48 h"
        );
        assert_eq!(within(FAST_FOR, HOURLY_FOR), 120, "hourly for 5 days");
        assert_eq!(
            within(HOURLY_FOR, Duration::days(44)),
            37,
            "daily to end + 30 d"
        );
        assert_eq!(*pulls.last().expect("last"), ends + AFTER_END);
    }

    #[test]
    fn a_story_gets_a_final_pull_before_its_window_closes_and_none_after() {
        let story = Item {
            kind: MediaKind::Story,
            taken_at: t0(),
            expires_at: Some(t0() + Duration::hours(24)),
        };
        let pulls = schedule(
            &story,
            t0() + Duration::days(30),
            t0() + Duration::minutes(7),
        );
        let last = *pulls.last().expect("last");
        assert_eq!(last, t0() + Duration::hours(24) - STORY_FINAL_MARGIN);
        assert!(pulls.windows(2).all(|w| w[1] - w[0] <= FAST));
        assert_eq!(next_pull_at(&story, t0(), last), None);
    }

    #[test]
    fn content_pulled_late_resumes_at_the_interval_of_its_age() {
        let post = Item {
            kind: MediaKind::Video,
            taken_at: t0(),
            expires_at: None,
        };
        let ends = t0() + Duration::days(60);
        let at = t0() + Duration::days(3);
        assert_eq!(next_pull_at(&post, ends, at), Some(at + HOURLY));
        let at = t0() + Duration::days(10);
        assert_eq!(next_pull_at(&post, ends, at), Some(at + DAILY));
        assert_eq!(next_pull_at(&post, ends, ends + AFTER_END), None);
    }
}

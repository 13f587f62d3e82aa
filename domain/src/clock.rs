//! The clock. Everything that compares with "now" (state expiry, link status, token lifetimes)
//! asks a [`Clock`] instead of calling `Utc::now()`, so tests and the sandbox can move time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// A shared clock, as the application holds it.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock tests and the sandbox move by hand.
///
/// Either *fixed* (time stands still until advanced; for unit tests) or *following* the system
/// clock with an offset that only grows (for the sandbox: time flows as usual, and
/// `POST /sandbox/control/clock` jumps it forward for everyone who shares this clock).
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    fixed: Option<DateTime<Utc>>,
    offset: Duration,
}

impl ManualClock {
    /// A clock that stands at `at` until advanced.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new(Inner {
                fixed: Some(at),
                offset: Duration::zero(),
            })),
        }
    }

    /// A clock that follows the system clock, plus whatever it has been advanced by.
    pub fn following_system() -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new(Inner {
                fixed: None,
                offset: Duration::zero(),
            })),
        }
    }

    /// Moves the clock forward by `by` (a negative duration is ignored: time never runs back).
    pub fn advance(&self, by: Duration) {
        if by <= Duration::zero() {
            return;
        }
        let mut inner = self.lock();
        inner.offset += by;
    }

    /// Stops the clock at `at`, where it stands until moved again (tests put it on an exact
    /// instant, such as a boundary of a link's status). An `at` earlier than the clock's time is
    /// ignored: time never runs back. Returns the clock's time afterwards.
    pub fn freeze_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let mut inner = self.lock();
        let now = inner.fixed.unwrap_or_else(Utc::now) + inner.offset;
        if at >= now {
            inner.fixed = Some(at);
            inner.offset = Duration::zero();
            at
        } else {
            now
        }
    }

    /// How far the clock has been advanced in total.
    pub fn offset(&self) -> Duration {
        self.lock().offset
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked while adding two durations; the
        // value is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let inner = self.lock();
        inner.fixed.unwrap_or_else(Utc::now) + inner.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_stands_at_its_instant_and_never_runs_back() {
        let clock = ManualClock::following_system();
        let at = Utc::now() + Duration::days(3);
        assert_eq!(clock.freeze_at(at), at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.freeze_at(at - Duration::seconds(1)), at);
        clock.advance(Duration::seconds(5));
        assert_eq!(clock.now(), at + Duration::seconds(5));
    }

    #[test]
    fn a_fixed_clock_stands_still_until_advanced() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).expect("valid");
        let clock = ManualClock::fixed(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::hours(25));
        assert_eq!(clock.now(), start + Duration::hours(25));
        clock.advance(Duration::hours(-3));
        assert_eq!(clock.now(), start + Duration::hours(25));
    }

    #[test]
    fn a_following_clock_runs_with_the_system_plus_its_offset() {
        let clock = ManualClock::following_system();
        let shared: SharedClock = Arc::new(clock.clone());
        clock.advance(Duration::days(10));
        let now = shared.now();
        assert!(now >= Utc::now() + Duration::days(10) - Duration::seconds(5));
        assert!(now <= Utc::now() + Duration::days(10) + Duration::seconds(5));
        assert_eq!(clock.offset(), Duration::days(10));
    }
}

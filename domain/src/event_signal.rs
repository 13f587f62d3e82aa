//! "Events were written in this process": a wake-up for the live dispatchers, so an event
//! reaches subscribers without waiting for the next poll of the log.
//!
//! Writers call [`written`] after their insert (after the commit when they use a transaction).
//! A wake-up carries no data and may be early (the row not yet visible) or spurious: dispatchers
//! always read the log itself, and keep a slow poll for events written by other processes when
//! no PostgreSQL notification reaches them (`LISTEN creatorlink_link_events`, see the migration
//! `link_event_notify`).

use std::sync::LazyLock;

use tokio::sync::watch;

/// A counter bumped on every write; each dispatcher holds its own receiver, so no wake-up is lost
/// when several dispatchers (several apps in one test process) wait at once.
static WRITTEN: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Signals that link events were written (and committed) by this process.
pub fn written() {
    WRITTEN.send_modify(|n| *n = n.wrapping_add(1));
}

/// A receiver whose `changed()` completes after the next [`written`].
pub fn subscribe() -> watch::Receiver<u64> {
    WRITTEN.subscribe()
}

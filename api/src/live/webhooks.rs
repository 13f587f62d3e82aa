//! The webhook side of the outbox: a leased relay turns new events into delivery rows and
//! enqueues one `deliver_webhook` job per delivery (`jobs::webhooks`); the job workers send them.
//!
//! Whoever holds the `webhooks` lease relays; the unique (endpoint, event) index makes a repeat
//! after a lost lease create nothing, and a repeated enqueue is harmless (`deliver` claims each
//! attempt). The cursor moves only after the jobs are enqueued, so a crash in between relays the
//! same events again; an enqueue lost anyway is found by the `webhook_scan` job.

use std::time::Duration;

use chrono::Utc;
use domain::outbox::{self, GapTracker};
use domain::webhooks::delivery;
use jobs::webhooks::DeliverWebhook;
use jobs::Queue;
use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;

use super::{BATCH, LEASE};

/// The outbox consumer name of the webhook relay.
pub const WEBHOOKS_CURSOR: &str = "webhooks";

/// What relaying webhooks needs: the queue the deliveries are enqueued on.
#[derive(Clone)]
pub struct WebhookRuntime {
    pub queue: Queue,
}

/// Starts the relay.
pub fn spawn(
    db: DatabaseConnection,
    runtime: WebhookRuntime,
    owner: String,
    poll: Duration,
    grace: chrono::Duration,
) -> Vec<JoinHandle<()>> {
    vec![tokio::spawn(relay(db, runtime.queue, owner, poll, grace))]
}

async fn relay(
    db: DatabaseConnection,
    queue: Queue,
    owner: String,
    poll: Duration,
    grace: chrono::Duration,
) {
    let mut gaps = GapTracker::default();
    let mut ticker = tokio::time::interval(poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = relay_once(&db, &queue, &owner, grace, &mut gaps).await {
            tracing::warn!(error = %e, "webhook relay failed; retrying");
        }
    }
}

/// Why one relay step failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Domain(#[from] domain::DomainError),
    #[error(transparent)]
    Queue(#[from] jobs::QueueError),
}

/// One relay step; returns how many events were handled.
pub async fn relay_once(
    db: &DatabaseConnection,
    queue: &Queue,
    owner: &str,
    grace: chrono::Duration,
    gaps: &mut GapTracker,
) -> Result<usize, RelayError> {
    let now = Utc::now();
    let Some(cursor) = outbox::claim(db, WEBHOOKS_CURSOR, owner, now + LEASE, now).await? else {
        return Ok(0);
    };
    let batch = outbox::read_batch(db, cursor, BATCH, grace, gaps, now).await?;
    if batch.cursor == cursor {
        return Ok(0);
    }
    let pending = delivery::enqueue_for_events(db, &batch.events, now).await?;
    for delivery_id in pending {
        DeliverWebhook::enqueue_at(queue, delivery_id, now, now).await?;
    }
    outbox::advance(db, WEBHOOKS_CURSOR, owner, batch.cursor, now).await?;
    Ok(batch.events.len())
}

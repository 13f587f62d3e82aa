//! The webhook side of the outbox: a leased relay turns new events into delivery rows, and a
//! delivery loop runs the deliveries that are due (`domain::webhooks::deliver`, idempotent, so a
//! delivery picked by two processes is sent once).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::outbox::{self, GapTracker};
use domain::vault::Keyring;
use domain::webhooks::{delivery, WebhookSender};
use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;

use super::{BATCH, LEASE};

/// The outbox consumer name of the webhook relay.
pub const WEBHOOKS_CURSOR: &str = "webhooks";

/// What delivering webhooks needs.
#[derive(Clone)]
pub struct WebhookRuntime {
    pub keyring: Arc<Keyring>,
    pub sender: WebhookSender,
}

/// Starts the relay and the delivery loop.
pub fn spawn(
    db: DatabaseConnection,
    runtime: WebhookRuntime,
    owner: String,
    poll: Duration,
    grace: chrono::Duration,
) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(relay(db.clone(), owner, poll, grace)),
        tokio::spawn(deliveries(db, runtime, poll)),
    ]
}

/// Whoever holds the `webhooks` lease creates the deliveries of new events. The unique
/// (endpoint, event) index makes a repeat after a lost lease harmless.
async fn relay(db: DatabaseConnection, owner: String, poll: Duration, grace: chrono::Duration) {
    let mut gaps = GapTracker::default();
    let mut ticker = tokio::time::interval(poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = relay_once(&db, &owner, grace, &mut gaps).await {
            tracing::warn!(error = %e, "webhook relay failed; retrying");
        }
    }
}

/// One relay step; returns how many events were handled.
pub async fn relay_once(
    db: &DatabaseConnection,
    owner: &str,
    grace: chrono::Duration,
    gaps: &mut GapTracker,
) -> Result<usize, domain::DomainError> {
    let now = Utc::now();
    let Some(cursor) = outbox::claim(db, WEBHOOKS_CURSOR, owner, now + LEASE, now).await? else {
        return Ok(0);
    };
    let batch = outbox::read_batch(db, cursor, BATCH, grace, gaps, now).await?;
    if batch.cursor == cursor {
        return Ok(0);
    }
    delivery::enqueue_for_events(db, &batch.events, now).await?;
    outbox::advance(db, WEBHOOKS_CURSOR, owner, batch.cursor, now).await?;
    Ok(batch.events.len())
}

/// Runs due deliveries, a few at a time.
async fn deliveries(db: DatabaseConnection, runtime: WebhookRuntime, poll: Duration) {
    let mut ticker = tokio::time::interval(poll);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let due = match delivery::due(&db, Utc::now(), 50).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list due webhook deliveries");
                continue;
            }
        };
        let runs = due.into_iter().map(|id| {
            let (db, runtime) = (&db, &runtime);
            async move {
                if let Err(e) =
                    delivery::deliver(db, &runtime.keyring, &runtime.sender, id, Utc::now()).await
                {
                    tracing::warn!(delivery_id = %id, error = %e, "webhook delivery failed");
                }
            }
        });
        futures::stream::iter(runs)
            .buffer_unordered(8)
            .collect::<Vec<()>>()
            .await;
    }
}

use futures::StreamExt;

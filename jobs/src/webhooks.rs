//! Webhook deliveries as jobs.
//!
//! - `deliver_webhook {delivery_id}` makes one attempt of one delivery
//!   ([`domain::webhooks::deliver`]: it reads and unseals the endpoint's signing secret itself, so
//!   the payload is the id alone). When the attempt fails and another is due later, the handler
//!   enqueues the next `deliver_webhook` with that delay (apalis schedules it; no worker sleeps).
//! - `webhook_scan` (scheduled) re-enqueues deliveries that have been due for a while without
//!   being tried: an enqueue lost between the database commit and the queue (a crash, Redis
//!   away), or a job the queue dropped. Nothing is lost, at worst late.
//!
//! Both read the wall clock, not the job clock: deliveries happen in the receivers' time (the
//! signature's timestamp is checked against their clock), also when a sandbox clock was moved.
//!
//! Both are safe to run twice: `deliver` claims each attempt with a conditional update, so a
//! duplicate job finds the attempt taken or the delivery finished and does nothing.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use domain::webhooks::{delivery, DeliveryOutcome};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::{Job, JobContext, JobError, Subject};
use crate::queue::{Queue, QueueError};

/// A delivery is rescued by the scan once it has been due this long without an attempt.
pub const LOST_AFTER: Duration = Duration::seconds(60);

/// Deliveries one scan re-enqueues at most (the next tick takes the rest).
const SCAN_BATCH: u64 = 1_000;

/// One attempt of one webhook delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub delivery_id: Uuid,
}

impl DeliverWebhook {
    /// Enqueues the attempt due at `at` (now when `at` is not in the future).
    ///
    /// apalis schedules in whole seconds (it truncates the run time), so the delay is rounded up
    /// by a second: a job that ran before its attempt is due would find nothing to do.
    pub async fn enqueue_at(
        queue: &Queue,
        delivery_id: Uuid,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        let delay = (at - now)
            .to_std()
            .ok()
            .filter(|d| !d.is_zero())
            .map(|d| d + StdDuration::from_secs(1));
        queue
            .push_named(Self::NAME, DeliverWebhook { delivery_id }, None, delay)
            .await
    }
}

impl Job for DeliverWebhook {
    const NAME: &'static str = "deliver_webhook";

    fn subject(&self) -> Option<Subject> {
        Some(Subject::WebhookDelivery(self.delivery_id))
    }

    #[tracing::instrument(skip_all, name = "deliver_webhook", fields(delivery_id = %self.delivery_id))]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let Some(keyring) = ctx.keyring() else {
            return Err(JobError::permanent("no vault keyring configured"));
        };
        let Some(sender) = ctx.webhook_sender() else {
            return Err(JobError::permanent("no webhook sender configured"));
        };
        let now = Utc::now();
        let outcome = delivery::deliver(ctx.db(), keyring, sender, self.delivery_id, now).await?;
        if let DeliveryOutcome::RetryAt(at) = outcome {
            // The failed attempt is recorded; should this push be lost, the scan finds the
            // delivery due later and enqueues it.
            if let Err(e) = Self::enqueue_at(ctx.queue(), self.delivery_id, at, now).await {
                tracing::warn!(error = %e, "cannot enqueue the next webhook attempt; the scan will");
            }
        }
        Ok(())
    }
}

/// Re-enqueue deliveries due for longer than [`LOST_AFTER`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WebhookScan {}

impl Job for WebhookScan {
    const NAME: &'static str = "webhook_scan";

    #[tracing::instrument(skip_all, name = "webhook_scan")]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let now = Utc::now();
        let ids = delivery::due(ctx.db(), now - LOST_AFTER, SCAN_BATCH).await?;
        // One rescue per delivery and tick window: several instances scanning at once, or a
        // backlog the workers have not reached yet, do not pile up copies (copies would be
        // harmless, only wasted work).
        let window = now.timestamp() / LOST_AFTER.num_seconds();
        for id in &ids {
            ctx.queue()
                .push_named(
                    DeliverWebhook::NAME,
                    DeliverWebhook { delivery_id: *id },
                    Some(format!("rescue:{id}:{window}")),
                    None,
                )
                .await?;
        }
        if !ids.is_empty() {
            tracing::warn!(
                deliveries = ids.len(),
                "re-enqueued webhook deliveries that were due without a job"
            );
        }
        Ok(())
    }
}

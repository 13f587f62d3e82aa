//! `revoke_scan` (scheduled) claims the `pending_revocation` rows that are due and enqueues one
//! `revoke_upstream` per row; `revoke_upstream` asks the platform once more
//! (`domain::link::revocation`). Payloads carry the row id only: the token stays sealed in the
//! database.

use chrono::Duration;
use domain::link::revocation::{self, Attempt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::{Job, JobContext, JobError};

/// One more attempt at a platform revoke the platform did not confirm earlier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevokeUpstream {
    pub id: Uuid,
}

impl Job for RevokeUpstream {
    const NAME: &'static str = "revoke_upstream";

    #[tracing::instrument(skip_all, name = "revoke_upstream", fields(id = %self.id))]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let Some(keyring) = ctx.keyring() else {
            return Err(JobError::permanent("no vault keyring configured"));
        };
        let outcome =
            revocation::attempt(ctx.db(), keyring, |p| ctx.platform(p), self.id, ctx.now()).await?;
        match outcome {
            Attempt::GaveUp => tracing::warn!("platform revoke given up"),
            other => tracing::info!(outcome = ?other, "revoke attempted"),
        }
        Ok(())
    }
}

/// Claims the due pending revocations and enqueues one `revoke_upstream` each.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RevokeScan {}

/// Rows one claim statement takes at most.
const CLAIM_BATCH: u64 = 500;

impl Job for RevokeScan {
    const NAME: &'static str = "revoke_scan";

    #[tracing::instrument(skip_all, name = "revoke_scan")]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        // A claim outlasts one attempt; a job lost on the way is claimed again after it.
        let claim_for = Duration::from_std(ctx.settings().timeout).unwrap_or(Duration::minutes(2))
            + Duration::minutes(1);
        loop {
            let ids = revocation::claim_due(ctx.db(), ctx.now(), claim_for, CLAIM_BATCH).await?;
            for id in &ids {
                ctx.enqueue(RevokeUpstream { id: *id }).await?;
            }
            if (ids.len() as u64) < CLAIM_BATCH {
                return Ok(());
            }
        }
    }
}

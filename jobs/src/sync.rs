//! The data pulls: `sync_scan` (scheduled, one schedule per resource) claims the accounts whose
//! resource is due and enqueues one pull job per account — `pull_media`, `pull_stories`,
//! `pull_metrics`, `pull_audience` — carrying the account id only. The work is in
//! `domain::sync`.

use chrono::Duration;
use domain::sync::pull::{self, PullOutcome};
use domain::sync::{state, SyncResource};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::{Job, JobContext, JobError, Subject};
use crate::queue::{Queue, QueueError};

/// Accounts one claim statement takes at most.
const CLAIM_BATCH: u64 = 500;

/// How long a claimed (account, resource) stays out of other scans: longer than a pull with its
/// retries takes; a pull that dies is taken again after it.
pub fn claim_for(s: &crate::JobSettings) -> Duration {
    Duration::from_std(s.timeout * s.max_attempts)
        .unwrap_or(Duration::minutes(30))
        .max(Duration::minutes(15))
}

/// Claim every account whose `resource` is due and enqueue its pull. Creates the missing
/// `sync_state` rows first, so newly linked accounts are due at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncScan {
    pub resource: SyncResource,
}

impl Job for SyncScan {
    const NAME: &'static str = "sync_scan";

    #[tracing::instrument(skip_all, name = "sync_scan", fields(resource = self.resource.as_str()))]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let now = ctx.now();
        state::ensure_rows(ctx.db(), self.resource, now).await?;
        let claim = claim_for(ctx.settings());
        loop {
            let ids = state::claim_due(ctx.db(), self.resource, now, claim, CLAIM_BATCH).await?;
            for account_id in &ids {
                enqueue_pull(ctx.queue(), self.resource, *account_id).await?;
            }
            if (ids.len() as u64) < CLAIM_BATCH {
                break;
            }
        }
        Ok(())
    }
}

/// Enqueues the pull job of `resource` for `account_id` (the scans and `requestSync` use it).
pub async fn enqueue_pull(
    queue: &Queue,
    resource: SyncResource,
    account_id: Uuid,
) -> Result<(), QueueError> {
    match resource {
        SyncResource::Media => crate::enqueue(queue, PullMedia { account_id }).await,
        SyncResource::Stories => crate::enqueue(queue, PullStories { account_id }).await,
        SyncResource::Metrics => crate::enqueue(queue, PullMetrics { account_id }).await,
        SyncResource::Audience => crate::enqueue(queue, PullAudience { account_id }).await,
    }
}

/// The pull cadence from the settings.
pub fn cadence(ctx: &JobContext) -> pull::Cadence {
    let s = ctx.settings();
    pull::Cadence {
        stories_every: s.stories_every,
        media_every: s.media_every,
        metrics_every: s.metrics_every,
        audience_every: s.audience_every,
        recent_media: s.recent_media,
        media_window: s.media_window,
    }
}

/// Who renews a refused token during a pull: this worker, under the usual lease.
pub fn renewer(ctx: &JobContext) -> domain::sync::policy::Renewer<'_> {
    domain::sync::policy::Renewer {
        owner: ctx.worker_id(),
        lease_ttl: ctx.settings().lease_ttl,
    }
}

async fn run_pull(
    ctx: &JobContext,
    account_id: Uuid,
    resource: SyncResource,
) -> Result<(), JobError> {
    let Some(account) = domain::entities::social_account::Entity::find_by_id(account_id)
        .one(ctx.db())
        .await?
    else {
        return Ok(());
    };
    let provider = account.platform.provider();
    let Some(client) = ctx.platform(provider) else {
        return Err(JobError::permanent(format!(
            "no {} client configured",
            provider.as_str()
        )));
    };
    let Some(keyring) = ctx.keyring() else {
        return Err(JobError::permanent("no vault keyring configured"));
    };
    let outcome = pull::pull(
        ctx.db(),
        client.as_ref(),
        keyring,
        renewer(ctx),
        account_id,
        resource,
        &cadence(ctx),
        ctx.now(),
    )
    .await?;
    match outcome {
        PullOutcome::Pulled(report) => {
            let m = ctx.metrics();
            m.stories_seen.inc_by(report.new_stories as u64);
            m.stories_expired_uncaptured
                .add(report.stories_expired_uncaptured as i64);
            tracing::info!(?report, "pulled");
            Ok(())
        }
        PullOutcome::Skipped(why) => {
            tracing::debug!(why, "pull skipped");
            Ok(())
        }
        PullOutcome::Invalidated(reason) => {
            tracing::warn!(reason = reason.as_str(), "link invalidated by its platform");
            Ok(())
        }
        PullOutcome::Failed {
            message,
            retry_soon: Some(after),
            ..
        } => Err(JobError::Retry {
            message,
            after: Some(after),
        }),
        PullOutcome::Failed {
            message,
            next_run_at,
            ..
        } => {
            // Backed off in `sync_state`; the scan after `next_run_at` tries again.
            tracing::warn!(error = %message, %next_run_at, "pull failed; backed off");
            Ok(())
        }
    }
}

macro_rules! pull_job {
    ($(#[$doc:meta])* $name:ident, $job:literal, $resource:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize)]
        pub struct $name {
            pub account_id: Uuid,
        }

        impl Job for $name {
            const NAME: &'static str = $job;

            fn subject(&self) -> Option<Subject> {
                Some(Subject::Account(self.account_id))
            }

            #[tracing::instrument(skip_all, name = $job, fields(account_id = %self.account_id))]
            async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
                run_pull(ctx, self.account_id, $resource).await
            }
        }
    };
}

pull_job!(
    /// Media of the last 48 hours with their insights.
    PullMedia,
    "pull_media",
    SyncResource::Media
);
pull_job!(
    /// Live Instagram stories with their insights.
    PullStories,
    "pull_stories",
    SyncResource::Stories
);
pull_job!(
    /// Daily account snapshots and the media of the last 30 days with their insights.
    PullMetrics,
    "pull_metrics",
    SyncResource::Metrics
);
pull_job!(
    /// Audience demographics, or the platform's reason for withholding them.
    PullAudience,
    "pull_audience",
    SyncResource::Audience
);

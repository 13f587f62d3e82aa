//! `refresh_scan` (scheduled) claims links whose access token nears expiry and enqueues one
//! `refresh_link` per link; `refresh_link` refreshes under the lease/version single flight of
//! `domain::link::refresh`.

use chrono::Duration;
use domain::link::refresh::{self, RefreshOutcome, RefreshRequest};
use domain::{Platform, Provider};
use futures::{StreamExt as _, TryStreamExt as _};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::{Job, JobContext, JobError, Subject};
use crate::settings::refresh_margin;

/// Refresh one link's tokens if still due. A second run finds them fresh (`NotDue`) or the lease
/// held by the first (`Skipped`): harmless.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshLink {
    pub link_id: Uuid,
}

impl Job for RefreshLink {
    const NAME: &'static str = "refresh_link";
    /// The platform may already have rotated the refresh token: its answer must be stored.
    const FINISH_ONCE_STARTED: bool = true;

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Link(self.link_id))
    }

    #[tracing::instrument(skip_all, name = "refresh_link", fields(link_id = %self.link_id))]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        // The account says which platform client to use; one statement for both rows.
        let Some((_, Some(account))) = domain::entities::link::Entity::find_by_id(self.link_id)
            .find_also_related(domain::entities::social_account::Entity)
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
        let outcome = refresh::refresh_link(
            ctx.db(),
            client.as_ref(),
            keyring,
            request(ctx, self.link_id, provider),
        )
        .await?;
        tracing::info!(?outcome, "refresh attempted");
        if let RefreshOutcome::Invalidated(reason) = outcome {
            tracing::warn!(reason = reason.as_str(), "link invalidated by its platform");
        }
        Ok(())
    }
}

/// `refresh_link` pushes a scan keeps in flight.
const ENQUEUE_IN_FLIGHT: usize = 32;

/// One refresh attempt of `link_id` by this worker, now, with the margin of its provider.
pub(crate) fn request(ctx: &JobContext, link_id: Uuid, provider: Provider) -> RefreshRequest<'_> {
    RefreshRequest {
        link_id,
        owner: ctx.worker_id(),
        now: ctx.now(),
        lease_ttl: ctx.settings().lease_ttl,
        margin: refresh_margin(provider),
        rejected_version: None,
    }
}

/// Claim every link due for refresh and enqueue a `refresh_link` for each. Claims are
/// conditional updates of `next_refresh_at`, so concurrent scans enqueue disjoint sets.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RefreshScan {}

impl Job for RefreshScan {
    const NAME: &'static str = "refresh_scan";

    #[tracing::instrument(skip_all, name = "refresh_scan")]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let now = ctx.now();
        // A claim lasts as long as one attempt may (its timeout) plus a lease: a job lost on the
        // way (dropped by a failing worker) is claimed again after that. A duplicate of a job
        // still retrying is harmless: the lease keeps the refresh single flight.
        let claim_for = ctx.settings().lease_ttl
            + Duration::from_std(ctx.settings().timeout).unwrap_or(Duration::minutes(2));
        // Redis came back empty: the jobs of every outstanding claim are gone. Release the claims
        // now rather than let them run out.
        if ctx.queue().lost_jobs().await? {
            let released = refresh::release_claims(ctx.db(), now).await?;
            if released > 0 {
                tracing::warn!(
                    released,
                    "the job queue lost its jobs; their refresh claims are released"
                );
            }
        }
        for provider in [Provider::Google, Provider::Tiktok, Provider::Meta] {
            if ctx.platform(provider).is_none() {
                continue;
            }
            let platforms: Vec<Platform> = [
                Platform::Instagram,
                Platform::Facebook,
                Platform::Tiktok,
                Platform::Youtube,
            ]
            .into_iter()
            .filter(|p| p.provider() == provider)
            .collect();
            loop {
                let ids = refresh::claim_due(
                    ctx.db(),
                    now + refresh_margin(provider),
                    &platforms,
                    now,
                    claim_for,
                    500,
                )
                .await?;
                // Several pushes in flight at once (the Redis connection is multiplexed): one
                // after the other, each waited a round trip while the workers ran dry.
                let pushes: Vec<_> = ids
                    .iter()
                    .map(|&link_id| ctx.enqueue(RefreshLink { link_id }))
                    .collect();
                futures::stream::iter(pushes)
                    .buffer_unordered(ENQUEUE_IN_FLIGHT)
                    .try_collect::<()>()
                    .await?;
                // Straight to the active list: a burst must not pile up in the scheduled set.
                ctx.queue().promote_due(RefreshLink::NAME).await?;
                if ids.len() < 500 {
                    break;
                }
            }
        }
        Ok(())
    }
}

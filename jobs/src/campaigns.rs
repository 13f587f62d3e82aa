//! Campaign content on its own cadence (issue 10): `campaign_content_scan` (scheduled every
//! minute) claims the content whose `next_pull_at` has come and enqueues one
//! `pull_campaign_content` per account; that job reads the items' metrics in one platform call
//! and schedules each item's next pull (`domain::campaigns::cadence`: every 15 minutes for 48 h,
//! hourly to 7 days, daily until the campaign's end + 30 days; stories until just before their
//! window closes). YouTube units are budgeted per day (`jobs.campaign_youtube_daily_units`).

use chrono::Duration;
use domain::campaigns::pull::{self, PullSettings};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::{Job, JobContext, JobError, Subject};

/// How long a claimed item stays with the job it was handed to before a scan may hand it out
/// again (a job that died without pulling).
const CLAIM_FOR: i64 = 10;
/// Items a scan claims per round.
const SCAN_BATCH: u64 = 500;

/// Claims the campaign content due now and enqueues a pull per account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CampaignContentScan {}

impl Job for CampaignContentScan {
    const NAME: &'static str = "campaign_content_scan";

    #[tracing::instrument(skip_all, name = "campaign_content_scan")]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let now = ctx.now();
        loop {
            let claimed =
                pull::claim_due(ctx.db(), now, Duration::minutes(CLAIM_FOR), SCAN_BATCH).await?;
            let count: usize = claimed.values().map(Vec::len).sum();
            for (account_id, content_ids) in claimed {
                ctx.enqueue(PullCampaignContent {
                    account_id,
                    content_ids,
                })
                .await?;
            }
            if (count as u64) < SCAN_BATCH {
                return Ok(());
            }
        }
    }
}

/// Pulls the metrics of some campaign content items of one account (ids only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullCampaignContent {
    pub account_id: Uuid,
    pub content_ids: Vec<Uuid>,
}

impl Job for PullCampaignContent {
    const NAME: &'static str = "pull_campaign_content";

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Account(self.account_id))
    }

    #[tracing::instrument(skip_all, name = "pull_campaign_content", fields(account_id = %self.account_id, items = self.content_ids.len()))]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let Some(account) = domain::entities::social_account::Entity::find_by_id(self.account_id)
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
        let settings = PullSettings {
            youtube_daily_units: ctx.settings().campaign_youtube_daily_units,
        };
        // A refused token is renewed inside the pull (the one pull policy, as the sync pulls).
        let outcome = pull::pull_account(
            ctx.db(),
            client.as_ref(),
            keyring,
            crate::sync::renewer(ctx),
            self.account_id,
            &self.content_ids,
            settings,
            ctx.now(),
        )
        .await?;
        tracing::info!(?outcome, "campaign content pull");
        Ok(())
    }
}

use sea_orm::EntityTrait;

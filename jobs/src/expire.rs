//! `expire_links`: the scheduled sweep that materializes LINKED → EXPIRING_SOON → EXPIRED
//! transitions, one event each (see `domain::link::sweep`).

use serde::{Deserialize, Serialize};

use crate::job::{Job, JobContext, JobError};

/// Sweep every organization's links. A second run (or two at once) moves nothing twice: each
/// transition is a conditional update on the status it leaves.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExpireLinks {}

impl Job for ExpireLinks {
    const NAME: &'static str = "expire_links";

    #[tracing::instrument(skip_all, name = "expire_links")]
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let settings = ctx.settings();
        let report = domain::link::sweep::sweep(
            ctx.db(),
            ctx.now(),
            settings.expiring_window,
            settings.sweep_batch,
        )
        .await?;
        if report != Default::default() {
            tracing::info!(
                expiring_soon = report.expiring_soon,
                expired = report.expired,
                final_warnings = report.final_warnings,
                "links swept"
            );
        }
        Ok(())
    }
}

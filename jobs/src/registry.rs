//! Every job type the workers run. A new job adds one line to [`register_all`] and its name to
//! [`JOB_NAMES`]; a new schedule adds one entry to `schedule::spawn_all`.

use apalis::prelude::Monitor;

use crate::campaigns::{CampaignContentScan, PullCampaignContent};
use crate::expire::ExpireLinks;
use crate::job::{Job, JobContext};
use crate::refresh::{RefreshLink, RefreshScan};
use crate::revoke::{RevokeScan, RevokeUpstream};
use crate::runtime::{register, WorkerNames};
use crate::sync::{PullAudience, PullMedia, PullMetrics, PullStories, SyncScan};
use crate::webhooks::{DeliverWebhook, WebhookScan};

/// The names of every job type (dead jobs of other names cannot be retried).
pub const JOB_NAMES: &[&str] = &[
    ExpireLinks::NAME,
    RefreshScan::NAME,
    RefreshLink::NAME,
    SyncScan::NAME,
    PullMedia::NAME,
    PullStories::NAME,
    PullMetrics::NAME,
    PullAudience::NAME,
    DeliverWebhook::NAME,
    WebhookScan::NAME,
    CampaignContentScan::NAME,
    PullCampaignContent::NAME,
    RevokeScan::NAME,
    RevokeUpstream::NAME,
];

/// Adds a worker per job type to `monitor`.
pub(crate) fn register_all(
    monitor: Monitor,
    ctx: &JobContext,
    instance: &str,
    names: &WorkerNames,
) -> Monitor {
    let monitor = register::<ExpireLinks>(monitor, ctx, instance, names);
    let monitor = register::<RefreshScan>(monitor, ctx, instance, names);
    let monitor = register::<RefreshLink>(monitor, ctx, instance, names);
    let monitor = register::<SyncScan>(monitor, ctx, instance, names);
    let monitor = register::<PullMedia>(monitor, ctx, instance, names);
    let monitor = register::<PullStories>(monitor, ctx, instance, names);
    let monitor = register::<PullMetrics>(monitor, ctx, instance, names);
    let monitor = register::<CampaignContentScan>(monitor, ctx, instance, names);
    let monitor = register::<PullCampaignContent>(monitor, ctx, instance, names);
    let monitor = register::<PullAudience>(monitor, ctx, instance, names);
    let monitor = register::<DeliverWebhook>(monitor, ctx, instance, names);
    let monitor = register::<RevokeScan>(monitor, ctx, instance, names);
    let monitor = register::<RevokeUpstream>(monitor, ctx, instance, names);
    register::<WebhookScan>(monitor, ctx, instance, names)
}

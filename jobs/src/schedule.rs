//! Schedules: each tick of a cron expression (apalis-cron) enqueues one scan job.
//!
//! Several instances (API replicas with in-process workers, worker processes) tick at the same
//! moment. Each push carries the idempotency key `{job}:{tick}` and the queue drops a second push
//! with the same key (apalis-redis: a `SETNX` per key, expiring after a day; apalis-sqlite: a
//! unique index on (queue, key)), so one scan runs per tick across the cluster. The scans are
//! idempotent anyway (they claim rows with conditional updates), so a duplicate would be harmless.

use std::str::FromStr;

use apalis_cron::CronScheduler;
use futures::StreamExt;
use tokio::task::JoinHandle;

use crate::campaigns::CampaignContentScan;
use crate::expire::ExpireLinks;
use crate::job::{Job, JobContext};
use crate::refresh::RefreshScan;
use crate::revoke::RevokeScan;
use crate::sync::SyncScan;
use crate::webhooks::WebhookScan;
use domain::sync::SyncResource;

/// Starts every configured schedule; abort the handles to stop them.
pub fn spawn_all(ctx: &JobContext) -> Vec<JoinHandle<()>> {
    let s = ctx.settings().schedules.clone();
    let mut handles = Vec::new();
    if let Some(expr) = s.expire_links {
        handles.extend(spawn::<ExpireLinks>(ctx, &expr, ExpireLinks::default));
    }
    if let Some(expr) = s.refresh_scan {
        handles.extend(spawn::<RefreshScan>(ctx, &expr, RefreshScan::default));
    }
    if let Some(expr) = s.campaign_content_scan {
        handles.extend(spawn::<CampaignContentScan>(
            ctx,
            &expr,
            CampaignContentScan::default,
        ));
    }
    for (expr, resource) in [
        (s.media_scan, SyncResource::Media),
        (s.stories_scan, SyncResource::Stories),
        (s.metrics_scan, SyncResource::Metrics),
        (s.audience_scan, SyncResource::Audience),
    ] {
        if let Some(expr) = expr {
            handles.extend(spawn_sync_scan(ctx, &expr, resource));
        }
    }
    if let Some(expr) = s.webhook_scan {
        handles.extend(spawn::<WebhookScan>(ctx, &expr, WebhookScan::default));
    }
    if let Some(expr) = s.revoke_scan {
        handles.extend(spawn::<RevokeScan>(ctx, &expr, RevokeScan::default));
    }
    if let Some(expr) = s.queue_metrics {
        handles.extend(spawn_queue_metrics(ctx, &expr));
    }
    handles
}

/// Parses a schedule expression; the configuration validates with this.
pub fn parse(expr: &str) -> Result<cron::Schedule, String> {
    cron::Schedule::from_str(expr).map_err(|e| e.to_string())
}

/// Runs `on_tick` with each tick's timestamp, for ever. apalis-cron reports a tick it could not
/// wait for (the previous tick's push outlasted it: the queue was slow or away) as an error, and
/// then reports that same tick on every later poll; so on an error a fresh scheduler starts again
/// from now, skipping what was missed (a scan claims whatever is due, so nothing is lost).
async fn every_tick<F, Fut>(job: &'static str, schedule: cron::Schedule, mut on_tick: F)
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        let mut ticks = Box::pin(CronScheduler::new(schedule.clone()).into_stream());
        loop {
            match ticks.next().await {
                Some(Ok(tick)) => on_tick(tick.get_timestamp()).await,
                Some(Err(e)) => {
                    tracing::warn!(job, error = %e, "missed a schedule tick; going on from now");
                    break;
                }
                None => return,
            }
        }
    }
}

fn spawn<J: Job>(ctx: &JobContext, expr: &str, make: fn() -> J) -> Option<JoinHandle<()>> {
    let schedule = match parse(expr) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(job = J::NAME, expr, error = %e, "invalid schedule; not scheduled");
            return None;
        }
    };
    let ctx = ctx.clone();
    Some(tokio::spawn(every_tick(J::NAME, schedule, move |tick| {
        let ctx = ctx.clone();
        async move {
            let key = format!("{}:{tick}", J::NAME);
            if let Err(e) = ctx
                .queue()
                .push_named(J::NAME, make(), Some(key), None)
                .await
            {
                tracing::warn!(job = J::NAME, error = %e, "cannot enqueue the scheduled scan");
            }
        }
    })))
}

/// One `sync_scan` per tick for `resource`; the idempotency key names the resource, since the
/// four resources' schedules may tick at the same second.
fn spawn_sync_scan(ctx: &JobContext, expr: &str, resource: SyncResource) -> Option<JoinHandle<()>> {
    let schedule = match parse(expr) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(job = SyncScan::NAME, expr, error = %e, "invalid schedule; not scheduled");
            return None;
        }
    };
    let ctx = ctx.clone();
    Some(tokio::spawn(every_tick(
        SyncScan::NAME,
        schedule,
        move |tick| {
            let ctx = ctx.clone();
            async move {
                let key = format!("{}:{}:{tick}", SyncScan::NAME, resource.as_str());
                if let Err(e) = ctx
                    .queue()
                    .push_named(SyncScan::NAME, SyncScan { resource }, Some(key), None)
                    .await
                {
                    tracing::warn!(job = SyncScan::NAME, error = %e, "cannot enqueue the scheduled scan");
                }
            }
        },
    )))
}

fn spawn_queue_metrics(ctx: &JobContext, expr: &str) -> Option<JoinHandle<()>> {
    let schedule = parse(expr).ok()?;
    let ctx = ctx.clone();
    Some(tokio::spawn(every_tick(
        "queue_metrics",
        schedule,
        move |_| {
            let ctx = ctx.clone();
            async move {
                for name in crate::registry::JOB_NAMES {
                    match ctx.queue().depth(name).await {
                        Ok(n) => ctx
                            .metrics()
                            .queue_depth
                            .with_label_values(&[name])
                            .set(n as i64),
                        Err(e) => {
                            tracing::debug!(job = name, error = %e, "cannot read queue depth")
                        }
                    }
                }
            }
        },
    )))
}

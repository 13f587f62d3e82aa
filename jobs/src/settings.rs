//! The knobs of the job system, filled from the application's configuration.

use std::time::Duration;

use chrono::Duration as Span;
use domain::Provider;
use rand::Rng;

/// How workers run and when scans tick.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// Jobs one worker (one job type, one process) runs at once.
    pub concurrency: usize,
    /// Longest one attempt may take before it counts as a failed (retryable) attempt.
    pub timeout: Duration,
    /// Attempts before a retryable failure is given up and recorded as a dead job.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, with jitter, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long in-flight jobs may take to finish on SIGTERM before they are handed back.
    pub shutdown_timeout: Duration,
    /// The platform clients' whole-request timeout: the longest a platform call in flight may
    /// take. On SIGTERM a refresh already sent is waited for this long (plus its write) whatever
    /// `shutdown_timeout` says.
    pub platform_timeout: Duration,
    /// Cron expressions (with seconds) of the scans; `None` disables a schedule.
    pub schedules: Schedules,
    /// Days before expiry a link shows EXPIRING_SOON.
    pub expiring_window: Span,
    /// Rows one sweep statement moves at most.
    pub sweep_batch: u64,
    /// How long a refresh lease is held before another worker may take it over.
    pub lease_ttl: Span,
    /// Pull stories this often (their 24 h must never pass between two pulls).
    pub stories_every: Span,
    /// Pull recent media (newer than `recent_media`) this often.
    pub media_every: Span,
    /// Pull daily snapshots and the whole media window this often.
    pub metrics_every: Span,
    /// Pull audience demographics this often.
    pub audience_every: Span,
    /// Media newer than this is pulled with its insights on every media scan.
    pub recent_media: Span,
    /// How far back media insights are followed.
    pub media_window: Span,
    /// At most one `requestSync` per account and resource within this span.
    pub sync_request_cooldown: Span,
    /// YouTube Data API units campaign content pulls may spend per Pacific day.
    pub campaign_youtube_daily_units: i64,
}

/// The scans' cron expressions (seconds, minutes, hours, day of month, month, day of week).
#[derive(Clone, Debug)]
pub struct Schedules {
    pub expire_links: Option<String>,
    pub refresh_scan: Option<String>,
    pub stories_scan: Option<String>,
    pub metrics_scan: Option<String>,
    pub media_scan: Option<String>,
    pub audience_scan: Option<String>,
    /// Re-enqueues webhook deliveries that are due without a job.
    pub webhook_scan: Option<String>,
    /// Platform revokes to try again (`pending_revocation`).
    pub revoke_scan: Option<String>,
    /// Campaign content due for its metrics (issue 10's cadence; every minute).
    pub campaign_content_scan: Option<String>,
    pub queue_metrics: Option<String>,
}

impl Default for Schedules {
    fn default() -> Self {
        Schedules {
            expire_links: Some("0 */5 * * * *".into()),
            refresh_scan: Some("30 * * * * *".into()),
            stories_scan: Some("0 */10 * * * *".into()),
            metrics_scan: Some("0 15 * * * *".into()),
            media_scan: Some("0 */30 * * * *".into()),
            audience_scan: Some("0 45 * * * *".into()),
            webhook_scan: Some("20 * * * * *".into()),
            revoke_scan: Some("40 * * * * *".into()),
            campaign_content_scan: Some("0 * * * * *".into()),
            queue_metrics: Some("*/15 * * * * *".into()),
        }
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            concurrency: 4,
            timeout: Duration::from_secs(120),
            max_attempts: 5,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            shutdown_timeout: Duration::from_secs(30),
            platform_timeout: Duration::from_secs(20),
            schedules: Schedules::default(),
            expiring_window: Span::days(14),
            sweep_batch: 500,
            lease_ttl: Span::seconds(120),
            stories_every: Span::hours(2),
            media_every: Span::hours(1),
            metrics_every: Span::hours(6),
            audience_every: Span::days(7),
            recent_media: Span::hours(48),
            media_window: Span::days(30),
            sync_request_cooldown: Span::minutes(5),
            campaign_youtube_daily_units: 2_000,
        }
    }
}

impl JobSettings {
    /// The delay before attempt `attempt + 1` after `attempt` failed: exponential, capped, with
    /// "equal jitter" (between half and all of the exponential value) so that many jobs failing
    /// together do not retry together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        backoff(attempt, self.backoff_base, self.backoff_max)
    }
}

/// See [`JobSettings::backoff`].
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = base
        .checked_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        )
        .unwrap_or(max)
        .min(max);
    let half = exp / 2;
    let jitter_ms = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
    half + Duration::from_millis(jitter_ms)
}

/// How long before an access token expires it is refreshed: minutes for Google's 1-hour tokens,
/// hours for TikTok's, days for Meta's 60-day long-lived tokens.
pub fn refresh_margin(provider: Provider) -> Span {
    match provider {
        Provider::Google => Span::minutes(10),
        Provider::Tiktok => Span::minutes(30),
        Provider::Meta => Span::days(7),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_stays_under_the_cap() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        for attempt in 1..=10 {
            let full = (base * 2u32.pow(attempt - 1)).min(max);
            for _ in 0..50 {
                let d = backoff(attempt, base, max);
                assert!(
                    d >= full / 2 && d <= full,
                    "attempt {attempt}: {d:?} vs {full:?}"
                );
            }
        }
        assert!(backoff(40, base, max) <= max);
    }
}

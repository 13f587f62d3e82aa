//! Prometheus metrics of the jobs, registered on the same registry as the HTTP metrics so
//! `/metrics` shows both.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Counters per job type, and the stories gauges.
#[derive(Clone, Debug)]
pub struct JobMetrics {
    /// Jobs that finished successfully, by job.
    pub processed: IntCounterVec,
    /// Jobs that gave up (permanent error or retries exhausted), by job.
    pub failed: IntCounterVec,
    /// Attempts that failed and were tried again, by job.
    pub retried: IntCounterVec,
    /// How long one attempt took, by job.
    pub duration: HistogramVec,
    /// Jobs waiting in each queue (sampled).
    pub queue_depth: IntGaugeVec,
    /// Instagram stories seen for the first time.
    pub stories_seen: IntCounter,
    /// Stories whose 24 hours ran out before a pull captured their final insights.
    pub stories_expired_uncaptured: IntGauge,
}

impl JobMetrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn register(registry: &Registry) -> Result<JobMetrics, prometheus::Error> {
        let processed = IntCounterVec::new(
            Opts::new(
                "creatorlink_jobs_processed_total",
                "Jobs completed successfully",
            ),
            &["job"],
        )?;
        let failed = IntCounterVec::new(
            Opts::new(
                "creatorlink_jobs_failed_total",
                "Jobs that gave up: a permanent error, or retries exhausted",
            ),
            &["job"],
        )?;
        let retried = IntCounterVec::new(
            Opts::new(
                "creatorlink_jobs_retried_total",
                "Failed attempts that were retried",
            ),
            &["job"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "creatorlink_job_duration_seconds",
                "Duration of one job attempt",
            )
            .buckets(vec![
                0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0,
            ]),
            &["job"],
        )?;
        let queue_depth = IntGaugeVec::new(
            Opts::new("creatorlink_job_queue_depth", "Jobs waiting in the queue"),
            &["job"],
        )?;
        let stories_seen = IntCounter::new(
            "creatorlink_stories_seen_total",
            "Instagram stories captured for the first time",
        )?;
        let stories_expired_uncaptured = IntGauge::new(
            "creatorlink_stories_expired_uncaptured",
            "Stories whose 24 hours ended without a pull after their first capture window",
        )?;
        registry.register(Box::new(processed.clone()))?;
        registry.register(Box::new(failed.clone()))?;
        registry.register(Box::new(retried.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(stories_seen.clone()))?;
        registry.register(Box::new(stories_expired_uncaptured.clone()))?;
        Ok(JobMetrics {
            processed,
            failed,
            retried,
            duration,
            queue_depth,
            stories_seen,
            stories_expired_uncaptured,
        })
    }

    /// Metrics on a private registry (tools and tests that do not expose `/metrics`).
    pub fn unregistered() -> JobMetrics {
        #[allow(clippy::expect_used)]
        JobMetrics::register(&Registry::new()).expect("a fresh registry accepts every metric")
    }
}

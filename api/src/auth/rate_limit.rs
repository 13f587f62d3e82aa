//! Per-caller request budgets (one per user, one per API key): a sustained rate per minute plus a
//! burst. Both stores implement GCRA (the generic cell rate algorithm):
//!
//! - embedded mode: in memory, with the `governor` crate's keyed limiter;
//! - with Redis configured: the well-known GCRA Lua script (as in redis-cell and
//!   `go-redis/redis_rate`), one key per caller under `redis.prefix`, run atomically on the Redis
//!   server with the server's clock, so every API replica draws from the same budget.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Stores the theoretical arrival time (TAT) per key, in milliseconds of the Redis clock.
/// Returns `{allowed, retry_after_ms}`.
const GCRA_LUA: &str = r#"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, 0}
"#;

/// Where budgets are kept.
pub enum RateLimiter {
    Memory(DefaultKeyedRateLimiter<String>),
    Redis {
        conn: redis::aio::ConnectionManager,
        prefix: String,
        /// Milliseconds between two requests at the sustained rate.
        interval_ms: u64,
        /// How far ahead of the sustained rate a caller may run (the burst), in milliseconds.
        tolerance_ms: u64,
    },
}

impl RateLimiter {
    /// An in-memory limiter of `per_minute` requests with bursts of `burst`.
    pub fn memory(per_minute: u32, burst: u32) -> RateLimiter {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        RateLimiter::Memory(DefaultKeyedRateLimiter::keyed(quota))
    }

    /// A limiter sharing its budgets through Redis.
    pub fn redis(
        conn: redis::aio::ConnectionManager,
        prefix: &str,
        per_minute: u32,
        burst: u32,
    ) -> RateLimiter {
        let interval_ms = (60_000 / u64::from(per_minute.max(1))).max(1);
        RateLimiter::Redis {
            conn,
            prefix: format!("{prefix}:ratelimit:"),
            interval_ms,
            tolerance_ms: interval_ms * u64::from(burst.max(1)),
        }
    }

    /// `Ok` when `key` may make a request now; otherwise how long until it may.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        match self {
            RateLimiter::Memory(limiter) => {
                // Forget callers whose budget is full again, so the map does not grow forever.
                if limiter.len() > 10_000 {
                    limiter.retain_recent();
                }
                limiter
                    .check_key(&key.to_owned())
                    .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
            }
            RateLimiter::Redis {
                conn,
                prefix,
                interval_ms,
                tolerance_ms,
            } => {
                let mut conn = conn.clone();
                let result: redis::RedisResult<(i64, i64)> = redis::Script::new(GCRA_LUA)
                    .key(format!("{prefix}{key}"))
                    .arg(*interval_ms)
                    .arg(*tolerance_ms)
                    .invoke_async(&mut conn)
                    .await;
                match result {
                    Ok((1, _)) => Ok(()),
                    Ok((_, retry_ms)) => Err(Duration::from_millis(retry_ms.max(1) as u64)),
                    Err(e) => {
                        // Redis trouble must not take the API down: let the request through.
                        tracing::warn!(error = %e, "rate limit check failed; allowing the request");
                        Ok(())
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_limiter_allows_the_burst_then_refuses_with_a_wait() {
        let limiter = RateLimiter::memory(60, 3);
        for _ in 0..3 {
            assert!(limiter.check("key:a").await.is_ok());
        }
        let wait = limiter.check("key:a").await.expect_err("over budget");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            limiter.check("key:b").await.is_ok(),
            "budgets are per caller"
        );
    }
}

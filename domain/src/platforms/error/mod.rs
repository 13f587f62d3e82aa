//! The one error type every platform client returns, and the shared pieces of classification:
//! token scrubbing, `Retry-After`, and YouTube's "until midnight Pacific" quota reset.
//!
//! The four kinds `platforms.md` asks callers to tell apart are: retry later
//! ([`PlatformError::Retryable`], [`PlatformError::Malformed`]), rate-limited until a time
//! ([`PlatformError::RateLimited`], [`PlatformError::QuotaExceeded`]), permanently invalid with a
//! reason ([`PlatformError::Invalid`]) and scope missing ([`PlatformError::ScopeMissing`]).

mod google;
mod meta;
mod tiktok;

pub(crate) use google::classify as classify_google;
pub(crate) use meta::classify as classify_meta;
pub(crate) use tiktok::classify as classify_tiktok;

use super::http::HttpReply;
use crate::kinds::InvalidReason;
use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Utc, Weekday};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;

/// What went wrong talking to a platform, classified so callers know what to do next.
/// Messages are scrubbed: they never contain a token, secret or authorization code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlatformError {
    /// Temporary failure (HTTP 5xx, timeout, connection error, Meta 1/2/`is_transient`,
    /// TikTok `internal_error`): try again later, not before `after` when the platform said so.
    #[error("temporary platform failure: {message}")]
    Retryable {
        /// The platform's `Retry-After`, when it sent one.
        after: Option<Duration>,
        /// What happened.
        message: String,
    },
    /// Throttled (Meta 4/17/32/613/80002, TikTok `rate_limit_exceeded`, Google 429 /
    /// `rateLimitExceeded`): do not call this platform for this account again before `until`.
    #[error("rate limited until {until}: {message}")]
    RateLimited {
        /// The earliest time to try again.
        until: DateTime<Utc>,
        /// What happened.
        message: String,
    },
    /// YouTube's daily Data API quota is spent; it resets at midnight America/Los_Angeles.
    #[error("YouTube quota exceeded until {until}: {message}")]
    QuotaExceeded {
        /// The next midnight Pacific, in UTC.
        until: DateTime<Utc>,
        /// What happened.
        message: String,
    },
    /// The access token was rejected (TikTok `access_token_invalid`, Google 401 `authError`) but
    /// the grant may still be alive: refresh, then retry once; if the refresh fails, that error wins.
    #[error("access token rejected: {message}")]
    AccessTokenInvalid {
        /// What happened.
        message: String,
    },
    /// Permanent: the grant is dead and the link must become INVALID with `reason`
    /// (Meta 190 family, `invalid_grant`, closed accounts). Retrying cannot help.
    #[error("authorization is no longer valid ({}): {message}", reason.as_str())]
    Invalid {
        /// Why, in the link model's vocabulary.
        reason: InvalidReason,
        /// What happened.
        message: String,
    },
    /// A permission the call needs was not granted or was removed (Meta 10/200–299, TikTok
    /// `scope_not_authorized`, Google `insufficientPermissions`): the creator must re-consent.
    #[error("permission missing{}: {message}", scope.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    ScopeMissing {
        /// The missing scope, when the platform names it.
        scope: Option<String>,
        /// What happened.
        message: String,
    },
    /// The Google account has no YouTube channel (`channels?mine=true` returned no items).
    #[error("the Google account has no YouTube channel")]
    NoChannel,
    /// The account exists but cannot be linked or read this way (e.g. no Instagram professional
    /// account on any Page).
    #[error("account not eligible: {message}")]
    NotEligible {
        /// Why.
        message: String,
    },
    /// The platform refused the request as malformed or unsupported (Meta 100, TikTok
    /// `invalid_params`, OAuth `invalid_client`): a bug or misconfiguration, retrying as is won't help.
    #[error("request rejected by the platform: {message}")]
    BadRequest {
        /// What happened.
        message: String,
    },
    /// The response body could not be understood. Treated as retryable: it is usually a proxy
    /// error page or a truncated body.
    #[error("unexpected response from the platform: {message}")]
    Malformed {
        /// What could not be parsed.
        message: String,
    },
}

impl PlatformError {
    /// Whether the same call may succeed later without the creator doing anything
    /// (after a delay, a rate-limit window or a token refresh).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PlatformError::Retryable { .. }
                | PlatformError::RateLimited { .. }
                | PlatformError::QuotaExceeded { .. }
                | PlatformError::AccessTokenInvalid { .. }
                | PlatformError::Malformed { .. }
        )
    }

    /// The earliest time a retry makes sense, when the error says so.
    pub fn retry_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            PlatformError::Retryable { after: Some(d), .. } => {
                ChronoDuration::from_std(*d).ok().map(|d| now + d)
            }
            PlatformError::RateLimited { until, .. }
            | PlatformError::QuotaExceeded { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// The reason a link must become INVALID because of this error, if it must.
    pub fn invalid_reason(&self) -> Option<InvalidReason> {
        match self {
            PlatformError::Invalid { reason, .. } => Some(*reason),
            PlatformError::ScopeMissing { .. } => Some(InvalidReason::ScopesMissing),
            PlatformError::NoChannel | PlatformError::NotEligible { .. } => {
                Some(InvalidReason::AccountNotEligible)
            }
            _ => None,
        }
    }

    /// The same error with `secrets` (the values sent in the request) removed from its message.
    pub(crate) fn redacted(self, secrets: &[&str]) -> Self {
        let clean = |m: String| redact_exact(&m, secrets);
        match self {
            PlatformError::Retryable { after, message } => PlatformError::Retryable {
                after,
                message: clean(message),
            },
            PlatformError::RateLimited { until, message } => PlatformError::RateLimited {
                until,
                message: clean(message),
            },
            PlatformError::QuotaExceeded { until, message } => PlatformError::QuotaExceeded {
                until,
                message: clean(message),
            },
            PlatformError::AccessTokenInvalid { message } => PlatformError::AccessTokenInvalid {
                message: clean(message),
            },
            PlatformError::Invalid { reason, message } => PlatformError::Invalid {
                reason,
                message: clean(message),
            },
            PlatformError::ScopeMissing { scope, message } => PlatformError::ScopeMissing {
                scope,
                message: clean(message),
            },
            PlatformError::NotEligible { message } => PlatformError::NotEligible {
                message: clean(message),
            },
            PlatformError::BadRequest { message } => PlatformError::BadRequest {
                message: clean(message),
            },
            PlatformError::Malformed { message } => PlatformError::Malformed {
                message: clean(message),
            },
            PlatformError::NoChannel => PlatformError::NoChannel,
        }
    }

    pub(crate) fn retryable(message: impl Into<String>) -> Self {
        PlatformError::Retryable {
            after: None,
            message: scrub(&message.into()),
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        PlatformError::Malformed {
            message: scrub(&message.into()),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        PlatformError::BadRequest {
            message: scrub(&message.into()),
        }
    }

    pub(crate) fn invalid(reason: InvalidReason, message: impl Into<String>) -> Self {
        PlatformError::Invalid {
            reason,
            message: scrub(&message.into()),
        }
    }

    pub(crate) fn scope_missing(scope: Option<String>, message: impl Into<String>) -> Self {
        PlatformError::ScopeMissing {
            scope,
            message: scrub(&message.into()),
        }
    }

    pub(crate) fn rate_limited(until: DateTime<Utc>, message: impl Into<String>) -> Self {
        PlatformError::RateLimited {
            until,
            message: scrub(&message.into()),
        }
    }
}

/// Query and JSON keys whose values are credentials.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "fb_exchange_token",
    "input_token",
    "code_verifier",
    "code",
    "token",
    "id_token",
];

/// Removes credentials from a message: the values of `access_token=…`, `"refresh_token":"…"` and
/// the like (Meta passes tokens in query strings, and `reqwest` errors can echo URLs), and
/// `Bearer …` values.
pub fn scrub(message: &str) -> String {
    let mut out = message.to_owned();
    for key in SECRET_KEYS {
        out = scrub_key(&out, key);
    }
    scrub_bearer(&out)
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn value_end(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '&' | '"' | '\'' | '<' | '>' | ')' | ']' | '}' | ',' | ';'
        )
}

/// Redacts the value after `key=`, `key":"` or `key": "` wherever `key` stands as a whole word.
fn scrub_key(input: &str, key: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find(key) {
        let (before, after_start) = rest.split_at(pos);
        out.push_str(before);
        let after_key = &after_start[key.len()..];
        let word_start = before.chars().last().is_none_or(|c| !is_ident(c));
        let separator = ["=", "\":\"", "\": \""]
            .into_iter()
            .find(|sep| after_key.starts_with(sep))
            .filter(|_| word_start);
        match separator {
            Some(sep) => {
                out.push_str(key);
                out.push_str(sep);
                let value = &after_key[sep.len()..];
                let end = value.find(value_end).unwrap_or(value.len());
                if end > 0 {
                    out.push_str("[redacted]");
                }
                rest = &value[end..];
            }
            None => {
                out.push_str(key);
                rest = after_key;
            }
        }
    }
    out.push_str(rest);
    out
}

fn scrub_bearer(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find("Bearer ") {
        let (before, after) = rest.split_at(pos + "Bearer ".len());
        out.push_str(before);
        let end = after.find(value_end).unwrap_or(after.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces every occurrence of the given secret values (those sent in the request) in `message`.
pub(crate) fn redact_exact(message: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| s.len() >= 4)
        .fold(message.to_owned(), |m, s| m.replace(s, "[redacted]"))
}

/// `Retry-After` as a duration: delta-seconds or an HTTP date relative to `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    (at - now).to_std().ok()
}

/// `now + d`, saturating instead of overflowing on absurd header values.
pub(crate) fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    ChronoDuration::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now)
}

/// A rate-limit error honoring `Retry-After`, or `default` when the platform gave none.
pub(crate) fn rate_limited_from_headers(
    headers: &HeaderMap,
    now: DateTime<Utc>,
    default: Duration,
    message: &str,
) -> PlatformError {
    let wait = retry_after(headers, now).unwrap_or(default);
    PlatformError::rate_limited(after(now, wait), message)
}

/// A retryable error carrying `Retry-After` when present.
pub(crate) fn retryable_from_headers(
    headers: &HeaderMap,
    now: DateTime<Utc>,
    message: &str,
) -> PlatformError {
    PlatformError::Retryable {
        after: retry_after(headers, now),
        message: scrub(message),
    }
}

/// The nth (1-based) given weekday of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

/// The UTC offset of America/Los_Angeles at `at`, in hours (-7 in daylight time, -8 otherwise),
/// by the US rule in force since 2007: DST from the second Sunday of March 02:00 PST (10:00 UTC)
/// to the first Sunday of November 02:00 PDT (09:00 UTC). Kept here rather than pulling a time
/// zone database for one zone; if the US rule changes, this is the one place to edit.
pub fn pacific_offset_hours(at: DateTime<Utc>) -> i64 {
    let year = at.year();
    let start = nth_weekday(year, 3, Weekday::Sun, 2).and_then(|d| d.and_hms_opt(10, 0, 0));
    let end = nth_weekday(year, 11, Weekday::Sun, 1).and_then(|d| d.and_hms_opt(9, 0, 0));
    match (start, end) {
        (Some(start), Some(end)) if at.naive_utc() >= start && at.naive_utc() < end => -7,
        _ => -8,
    }
}

/// The next midnight in America/Los_Angeles strictly after `now`, in UTC: when YouTube's daily
/// quota resets.
pub fn next_pacific_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let local_date = (now + ChronoDuration::hours(pacific_offset_hours(now))).date_naive();
    let next = local_date.succ_opt().unwrap_or(local_date);
    let midnight = next.and_time(chrono::NaiveTime::MIN);
    // Midnight is never inside a DST transition (they happen at 02:00), so exactly one of the two
    // candidate offsets is consistent with itself.
    [-7i64, -8]
        .into_iter()
        .map(|offset| {
            (
                offset,
                Utc.from_utc_datetime(&(midnight - ChronoDuration::hours(offset))),
            )
        })
        .find(|(offset, candidate)| pacific_offset_hours(*candidate) == *offset)
        .map(|(_, candidate)| candidate)
        .unwrap_or_else(|| Utc.from_utc_datetime(&(midnight + ChronoDuration::hours(8))))
}

/// Default wait when a platform throttles without saying for how long.
pub(crate) const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Classifies a failed reply whose body the provider-specific classifier could not read, from
/// the HTTP status alone.
pub(crate) fn by_status(reply: &HttpReply, now: DateTime<Utc>, platform: &str) -> PlatformError {
    let status = reply.status;
    let message = format!("{platform} answered HTTP {}", status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS {
        rate_limited_from_headers(&reply.headers, now, DEFAULT_RATE_LIMIT_WAIT, &message)
    } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        retryable_from_headers(&reply.headers, now, &message)
    } else if status == StatusCode::UNAUTHORIZED {
        PlatformError::AccessTokenInvalid { message }
    } else if status.is_success() {
        PlatformError::malformed(format!(
            "{platform} answered HTTP {} with an unreadable body",
            status.as_u16()
        ))
    } else {
        PlatformError::bad_request(message)
    }
}

#[cfg(test)]
mod tests;

//! Google OAuth and YouTube API error classification (`platforms.md` §3 "Errors").

use super::{
    by_status, next_pacific_midnight, rate_limited_from_headers, PlatformError,
    DEFAULT_RATE_LIMIT_WAIT,
};
use crate::kinds::InvalidReason;
use crate::platforms::http::HttpReply;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;

/// `Ok(())` for a successful reply, otherwise the classified Google error.
pub(crate) fn classify(reply: &HttpReply, now: DateTime<Utc>) -> Result<(), PlatformError> {
    let body = serde_json::from_str::<Value>(&reply.body).ok();
    match body.as_ref().and_then(|b| b.get("error")) {
        Some(Value::String(code)) => {
            let description = body
                .as_ref()
                .and_then(|b| b.get("error_description"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Err(oauth_error(
                code,
                format!("Google OAuth error {code}: {description}"),
                reply,
                now,
            ))
        }
        Some(error @ Value::Object(_)) => Err(api_error(error, reply, now)),
        _ if reply.status.is_success() => Ok(()),
        _ => Err(by_status(reply, now, "Google")),
    }
}

fn oauth_error(
    code: &str,
    message: String,
    reply: &HttpReply,
    now: DateTime<Utc>,
) -> PlatformError {
    match code {
        // The refresh token was revoked, expired (6 months unused, 7 days for apps in "Testing"),
        // or dropped for being one too many: the creator must link again.
        "invalid_grant" => PlatformError::invalid(InvalidReason::SessionInvalidated, message),
        "invalid_scope" => PlatformError::scope_missing(None, message),
        "access_denied" => PlatformError::invalid(InvalidReason::PermissionsRevoked, message),
        _ if reply.status == StatusCode::TOO_MANY_REQUESTS => {
            rate_limited_from_headers(&reply.headers, now, DEFAULT_RATE_LIMIT_WAIT, &message)
        }
        _ if reply.status.is_server_error() => {
            super::retryable_from_headers(&reply.headers, now, &message)
        }
        _ => PlatformError::bad_request(message),
    }
}

fn api_error(error: &Value, reply: &HttpReply, now: DateTime<Utc>) -> PlatformError {
    let str_of = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let details: Vec<(String, String)> = error
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| (str_of(e, "domain"), str_of(e, "reason")))
                .collect()
        })
        .unwrap_or_default();
    let status = str_of(error, "status");
    let code = error
        .get("code")
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(reply.status.as_u16()));
    let has_reason = |names: &[&str]| details.iter().any(|(_, r)| names.contains(&r.as_str()));
    let reasons: Vec<&str> = details
        .iter()
        .map(|(_, r)| r.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    let message = format!(
        "Google error {code} {status} [{}]: {}",
        reasons.join(","),
        str_of(error, "message")
    );

    // Google's standard errors: `quotaExceeded` and `dailyLimitExceeded` mean a quota is spent,
    // not a burst to back off from; whatever the domain (`youtube.quota` for the Data API,
    // `usageLimits` elsewhere), YouTube's quotas reset at midnight Pacific. Retrying sooner
    // only spends calls.
    let daily_quota = details
        .iter()
        .any(|(_, r)| r == "quotaExceeded" || r == "dailyLimitExceeded");
    if daily_quota {
        return PlatformError::QuotaExceeded {
            until: next_pacific_midnight(now),
            message: super::scrub(&message),
        };
    }
    if has_reason(&["rateLimitExceeded", "userRateLimitExceeded"])
        || code == 429
        || status == "RESOURCE_EXHAUSTED"
    {
        return rate_limited_from_headers(&reply.headers, now, DEFAULT_RATE_LIMIT_WAIT, &message);
    }
    if has_reason(&[
        "accountClosed",
        "accountSuspended",
        "authenticatedUserAccountClosed",
        "authenticatedUserAccountSuspended",
    ]) {
        return PlatformError::invalid(InvalidReason::AccountNotEligible, message);
    }
    if has_reason(&["insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"]) {
        return PlatformError::scope_missing(None, message);
    }
    if has_reason(&["authError"]) || code == 401 || status == "UNAUTHENTICATED" {
        return PlatformError::AccessTokenInvalid {
            message: super::scrub(&message),
        };
    }
    if code >= 500
        || has_reason(&["backendError", "internalError"])
        || reply.status.is_server_error()
    {
        return super::retryable_from_headers(&reply.headers, now, &message);
    }
    PlatformError::bad_request(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::fixtures::google as fx;
    use chrono::TimeZone;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn classify_at(status: u16, body: &str, now: DateTime<Utc>) -> PlatformError {
        classify(&HttpReply::new(status, body), now).unwrap_err()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    #[test]
    fn every_google_error_fixture_is_classified_as_the_contract_says() {
        assert!(matches!(
            classify_at(400, fx::ERROR_INVALID_GRANT, now()),
            PlatformError::Invalid {
                reason: InvalidReason::SessionInvalidated,
                ..
            }
        ));
        assert!(matches!(
            classify_at(401, fx::ERROR_UNAUTHENTICATED, now()),
            PlatformError::AccessTokenInvalid { .. }
        ));
        match classify_at(403, fx::ERROR_QUOTA, now()) {
            // 2026-11-23 is PST (UTC-8): midnight on the 24th is 08:00 UTC.
            PlatformError::QuotaExceeded { until, .. } => {
                assert_eq!(until, Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap())
            }
            other => panic!("expected quota exceeded, got {other:?}"),
        }
    }

    #[test]
    fn quota_resets_at_pacific_midnight_in_summer_too() {
        let july = Utc.with_ymd_and_hms(2026, 7, 10, 3, 30, 0).unwrap(); // 20:30 PDT on the 9th
        match classify_at(403, fx::ERROR_QUOTA, july) {
            PlatformError::QuotaExceeded { until, .. } => {
                assert_eq!(until, Utc.with_ymd_and_hms(2026, 7, 10, 7, 0, 0).unwrap())
            }
            other => panic!("expected quota exceeded, got {other:?}"),
        }
    }

    #[test]
    fn api_reasons_map_to_kinds() {
        let body = |code: u16, reason: &str| {
            format!(
                r#"{{"error":{{"code":{code},"message":"m","errors":[{{"domain":"youtube.x","reason":"{reason}"}}]}}}}"#
            )
        };
        assert!(matches!(
            classify_at(403, &body(403, "insufficientPermissions"), now()),
            PlatformError::ScopeMissing { .. }
        ));
        assert!(matches!(
            classify_at(403, &body(403, "authenticatedUserAccountClosed"), now()),
            PlatformError::Invalid {
                reason: InvalidReason::AccountNotEligible,
                ..
            }
        ));
        assert!(matches!(
            classify_at(403, &body(403, "authenticatedUserAccountSuspended"), now()),
            PlatformError::Invalid {
                reason: InvalidReason::AccountNotEligible,
                ..
            }
        ));
        assert!(matches!(
            classify_at(403, &body(403, "rateLimitExceeded"), now()),
            PlatformError::RateLimited { .. }
        ));
        assert!(matches!(
            classify_at(500, &body(500, "backendError"), now()),
            PlatformError::Retryable { .. }
        ));
        assert!(matches!(
            classify_at(400, &body(400, "invalidParameter"), now()),
            PlatformError::BadRequest { .. }
        ));
        assert!(matches!(
            classify_at(503, "Service Unavailable", now()),
            PlatformError::Retryable { .. }
        ));
        assert!(classify(&HttpReply::new(200, fx::CHANNELS_MINE), now()).is_ok());
    }

    #[test]
    fn quota_exceeded_of_any_domain_waits_for_the_quota_day() {
        let body = r#"{"error":{"code":403,"message":"quota","errors":[{"domain":"usageLimits","reason":"quotaExceeded"}]}}"#;
        match classify_at(403, body, now()) {
            PlatformError::QuotaExceeded { until, .. } => {
                assert_eq!(until, Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap())
            }
            other => panic!("expected quota exceeded, got {other:?}"),
        }
    }

    #[test]
    fn a_429_honors_retry_after() {
        let mut reply = HttpReply::new(
            429,
            r#"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        reply
            .headers
            .insert(RETRY_AFTER, HeaderValue::from_static("30"));
        match classify(&reply, now()).unwrap_err() {
            PlatformError::RateLimited { until, .. } => {
                assert_eq!(until, now() + chrono::Duration::seconds(30))
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
    }
}

//! Meta Graph API error classification (`platforms.md` §1 "Errors" and "Rate limits").

use super::{by_status, PlatformError};
use crate::kinds::InvalidReason;
use crate::platforms::http::{de, HttpReply};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Wait when Meta throttles and `X-Business-Use-Case-Usage` gives no time to regain access.
const DEFAULT_THROTTLE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default, Deserialize)]
struct GraphError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "de::lenient_i64")]
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: Option<bool>,
}

/// `Ok(())` for a successful reply, otherwise the classified Graph error.
pub(crate) fn classify(reply: &HttpReply, now: DateTime<Utc>) -> Result<(), PlatformError> {
    let error = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|body| body.get("error").cloned())
        .filter(Value::is_object)
        .and_then(|e| serde_json::from_value::<GraphError>(e).ok());
    match error {
        None if reply.status.is_success() => Ok(()),
        None => Err(by_status(reply, now, "Meta")),
        Some(error) => Err(from_graph_error(&error, reply, now)),
    }
}

fn from_graph_error(error: &GraphError, reply: &HttpReply, now: DateTime<Utc>) -> PlatformError {
    let code = error.code.unwrap_or_default();
    let subcode = error.error_subcode;
    let message = format!(
        "Meta error {code}{}: {}",
        subcode.map(|s| format!("/{s}")).unwrap_or_default(),
        error.message.as_deref().unwrap_or("(no message)")
    );
    if let Some(reason) = invalid_reason(code, subcode) {
        return PlatformError::invalid(reason, message);
    }
    match code {
        10 | 200..=299 => PlatformError::scope_missing(None, message),
        // 80001 (Page) and 80002 (Instagram) are Business Use Case throttles; we read with both.
        4 | 17 | 32 | 613 | 80001 | 80002 => {
            let (wait, usage) = throttle_wait(&reply.headers);
            let message = match usage {
                Some(usage) => format!("{message} (X-App-Usage {usage})"),
                None => message,
            };
            PlatformError::rate_limited(super::after(now, wait), message)
        }
        1 | 2 => super::retryable_from_headers(&reply.headers, now, &message),
        _ if error.is_transient == Some(true) => {
            super::retryable_from_headers(&reply.headers, now, &message)
        }
        100 => PlatformError::bad_request(message),
        _ if reply.status.is_server_error() => {
            super::retryable_from_headers(&reply.headers, now, &message)
        }
        _ => PlatformError::bad_request(message),
    }
}

/// The 190/102 family and its subcodes, in the link model's vocabulary.
fn invalid_reason(code: i64, subcode: Option<i64>) -> Option<InvalidReason> {
    let by_subcode = match subcode {
        Some(458) => Some(InvalidReason::PermissionsRevoked),
        Some(460) => Some(InvalidReason::PasswordChanged),
        Some(459 | 464) => Some(InvalidReason::UserActionRequired),
        Some(463 | 467 | 492) => Some(InvalidReason::SessionInvalidated),
        _ => None,
    };
    match code {
        190 | 102 => Some(by_subcode.unwrap_or(InvalidReason::SessionInvalidated)),
        _ => by_subcode,
    }
}

/// How long to back off: the largest `estimated_time_to_regain_access` (minutes) in
/// `X-Business-Use-Case-Usage`, else [`DEFAULT_THROTTLE`]. `X-App-Usage` only carries percentages,
/// so it is returned for the message rather than turned into a time.
fn throttle_wait(headers: &HeaderMap) -> (Duration, Option<String>) {
    let buc_minutes = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .and_then(|v| {
            v.as_object()?
                .values()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|entry| {
                    entry
                        .get("estimated_time_to_regain_access")
                        .and_then(de::value_i64)
                })
                .max()
        })
        .filter(|m| *m > 0);
    let app_usage = headers
        .get("x-app-usage")
        .and_then(|v| v.to_str().ok())
        .filter(|v| serde_json::from_str::<Value>(v).is_ok())
        .map(str::to_owned);
    let wait = buc_minutes
        .and_then(|m| u64::try_from(m).ok())
        .map(|m| Duration::from_secs(m.saturating_mul(60)))
        .unwrap_or(DEFAULT_THROTTLE);
    (wait, app_usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::fixtures::meta as fx;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn classify_body(status: u16, body: &str) -> PlatformError {
        classify(&HttpReply::new(status, body), now()).unwrap_err()
    }

    fn reason(e: &PlatformError) -> Option<InvalidReason> {
        match e {
            PlatformError::Invalid { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    #[test]
    fn every_meta_error_fixture_is_classified_as_the_contract_says() {
        assert_eq!(
            reason(&classify_body(400, fx::ERROR_APP_REMOVED)),
            Some(InvalidReason::PermissionsRevoked)
        );
        assert_eq!(
            reason(&classify_body(400, fx::ERROR_PASSWORD_CHANGED)),
            Some(InvalidReason::PasswordChanged)
        );
        assert_eq!(
            reason(&classify_body(400, fx::ERROR_TOKEN_EXPIRED)),
            Some(InvalidReason::SessionInvalidated)
        );
        assert!(matches!(
            classify_body(403, fx::ERROR_PERMISSION),
            PlatformError::ScopeMissing { .. }
        ));
        match classify_body(400, fx::ERROR_RATE_LIMITED) {
            PlatformError::RateLimited { until, .. } => {
                assert_eq!(until, now() + chrono::Duration::minutes(15))
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
    }

    #[test]
    fn subcodes_map_to_reasons() {
        let body = |code: i64, sub: Option<i64>| match sub {
            Some(s) => {
                format!(r#"{{"error":{{"message":"m","code":{code},"error_subcode":{s}}}}}"#)
            }
            None => format!(r#"{{"error":{{"message":"m","code":{code}}}}}"#),
        };
        let cases = [
            (190, None, InvalidReason::SessionInvalidated),
            (102, None, InvalidReason::SessionInvalidated),
            (190, Some(463), InvalidReason::SessionInvalidated),
            (190, Some(467), InvalidReason::SessionInvalidated),
            (190, Some(492), InvalidReason::SessionInvalidated),
            (190, Some(460), InvalidReason::PasswordChanged),
            (190, Some(458), InvalidReason::PermissionsRevoked),
            (190, Some(459), InvalidReason::UserActionRequired),
            (190, Some(464), InvalidReason::UserActionRequired),
        ];
        for (code, sub, expected) in cases {
            assert_eq!(
                reason(&classify_body(400, &body(code, sub))),
                Some(expected),
                "{code}/{sub:?}"
            );
        }
        for code in [10, 200, 250, 299] {
            assert!(
                matches!(
                    classify_body(400, &body(code, None)),
                    PlatformError::ScopeMissing { .. }
                ),
                "{code}"
            );
        }
        for code in [4, 17, 32, 613, 80002] {
            assert!(
                matches!(
                    classify_body(400, &body(code, None)),
                    PlatformError::RateLimited { .. }
                ),
                "{code}"
            );
        }
        for code in [1, 2] {
            assert!(
                matches!(
                    classify_body(500, &body(code, None)),
                    PlatformError::Retryable { .. }
                ),
                "{code}"
            );
        }
        assert!(matches!(
            classify_body(400, &body(100, None)),
            PlatformError::BadRequest { .. }
        ));
        let transient = r#"{"error":{"message":"m","code":9999,"is_transient":true}}"#;
        assert!(matches!(
            classify_body(400, transient),
            PlatformError::Retryable { .. }
        ));
    }

    #[test]
    fn throttling_waits_for_the_business_use_case_estimate() {
        let mut reply = HttpReply::new(400, r#"{"error":{"message":"limit","code":80002}}"#);
        reply.headers.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(r#"{"1784":[{"type":"instagram","call_count":100,"estimated_time_to_regain_access":7},{"type":"pages","estimated_time_to_regain_access":3}]}"#),
        );
        reply.headers.insert(
            "x-app-usage",
            HeaderValue::from_static(r#"{"call_count":100,"total_cputime":12,"total_time":30}"#),
        );
        match classify(&reply, now()).unwrap_err() {
            PlatformError::RateLimited { until, message } => {
                assert_eq!(until, now() + chrono::Duration::minutes(7));
                assert!(message.contains("call_count"), "{message}");
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
    }

    #[test]
    fn a_token_in_a_meta_error_message_is_scrubbed() {
        let body = r#"{"error":{"message":"Invalid URL https://graph.facebook.com/v25.0/me?fields=id&access_token=EAABsbCS1iHgBAExampleToken123&appsecret_proof=x","code":100}}"#;
        let e = classify_body(400, body);
        let text = e.to_string();
        assert!(!text.contains("EAABsbCS1iHgBAExampleToken123"), "{text}");
        assert!(text.contains("access_token=[redacted]"), "{text}");
    }

    #[test]
    fn unreadable_bodies_fall_back_to_the_status() {
        assert!(matches!(
            classify_body(502, "<html>Bad gateway</html>"),
            PlatformError::Retryable { .. }
        ));
        assert!(matches!(
            classify_body(429, ""),
            PlatformError::RateLimited { .. }
        ));
        assert!(classify(&HttpReply::new(200, r#"{"data":[]}"#), now()).is_ok());
        assert!(classify(&HttpReply::new(200, "not json"), now()).is_ok());
    }
}

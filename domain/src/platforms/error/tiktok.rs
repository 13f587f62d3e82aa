//! TikTok error classification: OAuth errors (`{"error":"invalid_grant",…}`) from the token
//! endpoint and `{"error":{"code":…}}` envelopes from resource endpoints (`platforms.md` §2).

use super::{by_status, rate_limited_from_headers, PlatformError, DEFAULT_RATE_LIMIT_WAIT};
use crate::kinds::InvalidReason;
use crate::platforms::http::HttpReply;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;

/// `Ok(())` for a successful reply, otherwise the classified TikTok error. TikTok can answer 200
/// with an error inside, so the body decides before the status does.
pub(crate) fn classify(reply: &HttpReply, now: DateTime<Utc>) -> Result<(), PlatformError> {
    let body = serde_json::from_str::<Value>(&reply.body).ok();
    let error = body.as_ref().and_then(|b| b.get("error"));
    let text = |key: &str, within: Option<&Value>| {
        within
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        let message = format!("TikTok rate limit: {}", text("message", error));
        return Err(rate_limited_from_headers(
            &reply.headers,
            now,
            DEFAULT_RATE_LIMIT_WAIT,
            &message,
        ));
    }
    match error {
        Some(Value::String(code)) => {
            let message = format!(
                "TikTok OAuth error {code}: {}",
                text("error_description", body.as_ref())
            );
            Err(oauth_error(code, message, reply, now))
        }
        Some(envelope @ Value::Object(_)) => {
            let code = text("code", Some(envelope));
            if code.is_empty() || code == "ok" {
                return if reply.status.is_success() {
                    Ok(())
                } else {
                    Err(by_status(reply, now, "TikTok"))
                };
            }
            let message = format!("TikTok error {code}: {}", text("message", Some(envelope)));
            Err(resource_error(&code, message, reply, now))
        }
        _ if reply.status.is_success() => Ok(()),
        _ => Err(by_status(reply, now, "TikTok")),
    }
}

fn oauth_error(
    code: &str,
    message: String,
    reply: &HttpReply,
    now: DateTime<Utc>,
) -> PlatformError {
    match code {
        // On refresh: the refresh token expired, was revoked, or was already rotated away.
        "invalid_grant" => PlatformError::invalid(InvalidReason::SessionInvalidated, message),
        "access_denied" => PlatformError::invalid(InvalidReason::PermissionsRevoked, message),
        "invalid_scope" => PlatformError::scope_missing(None, message),
        "invalid_request" | "invalid_client" | "unauthorized_client" | "unsupported_grant_type" => {
            PlatformError::bad_request(message)
        }
        _ if reply.status.is_server_error() => {
            super::retryable_from_headers(&reply.headers, now, &message)
        }
        _ => PlatformError::bad_request(message),
    }
}

fn resource_error(
    code: &str,
    message: String,
    reply: &HttpReply,
    now: DateTime<Utc>,
) -> PlatformError {
    match code {
        "access_token_invalid" => PlatformError::AccessTokenInvalid {
            message: super::scrub(&message),
        },
        "scope_not_authorized" | "scope_permission_missed" => {
            PlatformError::scope_missing(None, message)
        }
        "rate_limit_exceeded" => {
            rate_limited_from_headers(&reply.headers, now, DEFAULT_RATE_LIMIT_WAIT, &message)
        }
        "internal_error" => super::retryable_from_headers(&reply.headers, now, &message),
        _ if reply.status.is_server_error() => {
            super::retryable_from_headers(&reply.headers, now, &message)
        }
        _ => PlatformError::bad_request(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::fixtures::tiktok as fx;
    use chrono::TimeZone;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn classify_body(status: u16, body: &str) -> PlatformError {
        classify(&HttpReply::new(status, body), now()).unwrap_err()
    }

    #[test]
    fn every_tiktok_error_fixture_is_classified_as_the_contract_says() {
        assert!(matches!(
            classify_body(400, fx::ERROR_INVALID_GRANT),
            PlatformError::Invalid {
                reason: InvalidReason::SessionInvalidated,
                ..
            }
        ));
        assert!(matches!(
            classify_body(401, fx::ERROR_ACCESS_TOKEN_INVALID),
            PlatformError::AccessTokenInvalid { .. }
        ));
        match classify_body(429, fx::ERROR_RATE_LIMIT) {
            PlatformError::RateLimited { until, .. } => {
                assert_eq!(until, now() + chrono::Duration::seconds(60))
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
    }

    #[test]
    fn errors_inside_a_200_are_still_errors() {
        assert!(matches!(
            classify_body(200, fx::ERROR_ACCESS_TOKEN_INVALID),
            PlatformError::AccessTokenInvalid { .. }
        ));
        assert!(matches!(
            classify_body(200, fx::ERROR_INVALID_GRANT),
            PlatformError::Invalid { .. }
        ));
        assert!(matches!(
            classify_body(200, fx::ERROR_RATE_LIMIT),
            PlatformError::RateLimited { .. }
        ));
    }

    #[test]
    fn resource_codes_map_to_kinds() {
        let body = |code: &str| {
            format!(r#"{{"data":{{}},"error":{{"code":"{code}","message":"m","log_id":"l"}}}}"#)
        };
        assert!(matches!(
            classify_body(401, &body("scope_not_authorized")),
            PlatformError::ScopeMissing { .. }
        ));
        assert!(matches!(
            classify_body(401, &body("scope_permission_missed")),
            PlatformError::ScopeMissing { .. }
        ));
        assert!(matches!(
            classify_body(500, &body("internal_error")),
            PlatformError::Retryable { .. }
        ));
        assert!(matches!(
            classify_body(400, &body("invalid_params")),
            PlatformError::BadRequest { .. }
        ));
        assert!(matches!(
            classify_body(503, "upstream connect error"),
            PlatformError::Retryable { .. }
        ));
        assert!(classify(&HttpReply::new(200, fx::USER_INFO), now()).is_ok());
        assert!(classify(&HttpReply::new(200, "{}"), now()).is_ok());
    }

    #[test]
    fn rate_limits_honor_retry_after() {
        let mut reply = HttpReply::new(429, fx::ERROR_RATE_LIMIT);
        reply
            .headers
            .insert(RETRY_AFTER, HeaderValue::from_static("120"));
        match classify(&reply, now()).unwrap_err() {
            PlatformError::RateLimited { until, .. } => {
                assert_eq!(until, now() + chrono::Duration::seconds(120))
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
    }
}

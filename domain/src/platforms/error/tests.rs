use super::*;
use reqwest::header::HeaderValue;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[test]
fn scrub_removes_credentials_from_urls_json_and_bearer_headers() {
    let url = "GET https://graph.facebook.com/v25.0/me?fields=id&access_token=EAABwzLixnjYBAExample&x=1 failed";
    assert_eq!(
        scrub(url),
        "GET https://graph.facebook.com/v25.0/me?fields=id&access_token=[redacted]&x=1 failed"
    );
    let app = "debug_token?input_token=EAAB123&access_token=138483919580948|s3cretAppSecret";
    assert_eq!(
        scrub(app),
        "debug_token?input_token=[redacted]&access_token=[redacted]"
    );
    let json = r#"{"refresh_token":"rft.abc!2444","client_secret": "zzz"}"#;
    assert_eq!(
        scrub(json),
        r#"{"refresh_token":"[redacted]","client_secret": "[redacted]"}"#
    );
    assert_eq!(
        scrub("Authorization: Bearer act.1d10!24 rejected"),
        "Authorization: Bearer [redacted] rejected"
    );
    assert_eq!(
        scrub("error_code=5 code=abc"),
        "error_code=5 code=[redacted]"
    );
    assert_eq!(scrub("no secrets here"), "no secrets here");
}

#[test]
fn every_constructor_scrubs_its_message() {
    let e = PlatformError::bad_request("bad url ?access_token=EAAsecret");
    assert!(!e.to_string().contains("EAAsecret"));
    let e = PlatformError::retryable("x").redacted(&["x-secret-value"]);
    assert!(e.is_retryable());
    let e = PlatformError::bad_request("echo x-secret-value").redacted(&["x-secret-value"]);
    assert_eq!(
        e.to_string(),
        "request rejected by the platform: echo [redacted]"
    );
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = at(2026, 11, 23, 12, 0);
    let mut headers = HeaderMap::new();
    assert_eq!(retry_after(&headers, now), None);
    headers.insert(RETRY_AFTER, HeaderValue::from_static("90"));
    assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(90)));
    headers.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Mon, 23 Nov 2026 12:02:00 GMT"),
    );
    assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
    headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&headers, now), None);
}

#[test]
fn pacific_time_follows_the_us_daylight_saving_rule() {
    // 2026: DST from Sunday 8 March 10:00 UTC to Sunday 1 November 09:00 UTC.
    assert_eq!(pacific_offset_hours(at(2026, 3, 8, 9, 59)), -8);
    assert_eq!(pacific_offset_hours(at(2026, 3, 8, 10, 0)), -7);
    assert_eq!(pacific_offset_hours(at(2026, 11, 1, 8, 59)), -7);
    assert_eq!(pacific_offset_hours(at(2026, 11, 1, 9, 0)), -8);
    assert_eq!(pacific_offset_hours(at(2026, 1, 15, 0, 0)), -8);
}

#[test]
fn the_next_pacific_midnight_is_strictly_after_now() {
    // 23:30 PST on 23 Nov is 07:30 UTC on the 24th; midnight on the 24th PST is 08:00 UTC.
    assert_eq!(
        next_pacific_midnight(at(2026, 11, 24, 7, 30)),
        at(2026, 11, 24, 8, 0)
    );
    // Exactly midnight PST: the next one is a day later.
    assert_eq!(
        next_pacific_midnight(at(2026, 11, 24, 8, 0)),
        at(2026, 11, 25, 8, 0)
    );
    // Saturday 7 March 2026 (PST) → midnight starting Sunday 8 March is still PST.
    assert_eq!(
        next_pacific_midnight(at(2026, 3, 7, 20, 0)),
        at(2026, 3, 8, 8, 0)
    );
    // Sunday 8 March after the switch → midnight starting Monday is PDT.
    assert_eq!(
        next_pacific_midnight(at(2026, 3, 8, 20, 0)),
        at(2026, 3, 9, 7, 0)
    );
    // Saturday 31 October (PDT) → midnight starting Sunday 1 November is still PDT.
    assert_eq!(
        next_pacific_midnight(at(2026, 10, 31, 20, 0)),
        at(2026, 11, 1, 7, 0)
    );
}

#[test]
fn kinds_tell_callers_what_to_do() {
    let now = at(2026, 11, 23, 12, 0);
    let limited = PlatformError::rate_limited(at(2026, 11, 23, 12, 15), "x");
    assert!(limited.is_retryable());
    assert_eq!(limited.retry_at(now), Some(at(2026, 11, 23, 12, 15)));
    let later = PlatformError::Retryable {
        after: Some(Duration::from_secs(60)),
        message: "x".into(),
    };
    assert_eq!(later.retry_at(now), Some(at(2026, 11, 23, 12, 1)));
    let dead = PlatformError::invalid(InvalidReason::PasswordChanged, "x");
    assert!(!dead.is_retryable());
    assert_eq!(dead.invalid_reason(), Some(InvalidReason::PasswordChanged));
    assert_eq!(
        PlatformError::scope_missing(None, "x").invalid_reason(),
        Some(InvalidReason::ScopesMissing)
    );
    assert_eq!(
        PlatformError::NoChannel.invalid_reason(),
        Some(InvalidReason::AccountNotEligible)
    );
    assert!(PlatformError::malformed("x").is_retryable());
    assert!(!PlatformError::bad_request("x").is_retryable());
}

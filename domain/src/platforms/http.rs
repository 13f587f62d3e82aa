//! Shared HTTP plumbing: building the client, sending a request without leaking credentials into
//! errors, and reading bodies leniently.

use super::error::{redact_exact, scrub, PlatformError};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// Builds the `reqwest::Client` the platform clients share: a whole-request `timeout`, a shorter
/// connect timeout, and no redirects (OAuth and API endpoints never need them, and following one
/// could send a token elsewhere).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("creatorlink/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A response read to the end: status, headers and the body as text.
#[derive(Debug, Clone)]
pub(crate) struct HttpReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl HttpReply {
    #[cfg(test)]
    pub fn new(status: u16, body: &str) -> Self {
        HttpReply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: body.to_owned(),
        }
    }
}

/// Parses `body` as `T`, naming `what` in the error. The serde message carries a position, not the
/// body, so it cannot leak a token.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, PlatformError> {
    serde_json::from_str(body).map_err(|e| PlatformError::malformed(format!("{what}: {e}")))
}

/// Sends `request` and reads the whole body. Transport failures (timeouts, refused connections,
/// broken bodies) are [`PlatformError::Retryable`]; their messages drop the URL (Meta puts tokens in
/// query strings) and any of `secrets` that still appears.
pub(crate) async fn send(
    request: RequestBuilder,
    secrets: &[&str],
) -> Result<HttpReply, PlatformError> {
    let transport = |e: reqwest::Error| {
        let kind = if e.is_timeout() {
            "request timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "transport error"
        };
        let detail = redact_exact(&scrub(&e.without_url().to_string()), secrets);
        PlatformError::retryable(format!("{kind}: {detail}"))
    };
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(transport)?;
    Ok(HttpReply {
        status,
        headers,
        body,
    })
}

/// The values of credential-bearing fields in a form or query, for [`send`]'s redaction.
pub(crate) fn secret_values<'a>(fields: &[(&str, &'a str)]) -> Vec<&'a str> {
    const CREDENTIALS: &[&str] = &[
        "client_secret",
        "code",
        "refresh_token",
        "code_verifier",
        "fb_exchange_token",
        "token",
    ];
    fields
        .iter()
        .filter(|(k, _)| CREDENTIALS.contains(k))
        .map(|(_, v)| *v)
        .collect()
}

/// `base` with `segments` appended as path segments (a trailing `""` gives a trailing slash).
/// Bases are checked by [`super::PlatformConfig::validate`], so they can always take a path.
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Serde helpers for the shapes platforms actually send.
pub(crate) mod de {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// An integer that may arrive as a number, a numeric string (YouTube counts), a float, or not
    /// at all. Anything else reads as `None` rather than failing the whole body.
    pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(value_i64(&Value::deserialize(d)?))
    }

    /// A string that may arrive as a string or a number (ids), or not at all.
    pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    /// The integer in a JSON value, tolerating strings and floats.
    pub fn value_i64(value: &Value) -> Option<i64> {
        match value {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.round() as i64)
            }),
            _ => None,
        }
    }

    /// The float in a JSON value, tolerating strings.
    pub fn value_f64(value: &Value) -> Option<f64> {
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }
}

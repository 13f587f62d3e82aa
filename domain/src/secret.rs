//! A string that must never leak: OAuth access and refresh tokens, PKCE verifiers, webhook secrets.
//!
//! Design §6 says a token never appears in a log line, an error message, a GraphQL response, a job
//! payload or a panic message. [`Secret`] makes the accidental paths impossible instead of relying on
//! care: `{:?}` and `{}` print `[redacted]` (also inside a derived `Debug` of a struct holding one),
//! there is no `Serialize`, and the only way to the text is [`Secret::expose`], a name that is easy to
//! grep for and stands out in review.

use std::fmt;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// What `Debug` and `Display` print in place of a secret's value.
const REDACTED: &str = "[redacted]";

/// A secret string whose memory is wiped on drop and which cannot be printed or serialized.
///
/// `Deserialize` is provided so provider responses (`{"access_token": …}`) parse straight into a
/// `Secret`; `Serialize` is deliberately not, so a secret cannot end up in a job payload or an API
/// response by adding a derive. This does not compile:
///
/// ```compile_fail
/// fn needs_serialize<T: serde::Serialize>() {}
/// needs_serialize::<domain::secret::Secret>();
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value; from here on it only leaves through [`Secret::expose`].
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret text. Every call is a place where a token leaves its wrapper (to be sealed, or sent
    /// to the provider that issued it), so keep calls few and never pass the result to a log or an
    /// error.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Compares in time independent of where the values differ, so comparing a presented webhook
/// secret with the stored one reveals nothing through timing (only whether the lengths match).
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "EAAGm0PX4ZCpsBAxyz-very-secret-token";

    #[derive(Debug)]
    #[allow(dead_code)] // only read through Debug
    struct TokenResponse {
        user_id: u64,
        access_token: Secret,
        refresh_token: Option<Secret>,
    }

    #[test]
    fn debug_and_display_print_redacted_instead_of_the_value() {
        let secret = Secret::new(VALUE);
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:#?}"), "[redacted]");
    }

    #[test]
    fn a_secret_nested_in_a_derived_debug_struct_stays_redacted() {
        let response = TokenResponse {
            user_id: 42,
            access_token: Secret::new(VALUE),
            refresh_token: Some(Secret::new(format!("{VALUE}-refresh"))),
        };
        for printed in [format!("{response:?}"), format!("{response:#?}")] {
            assert!(!printed.contains(VALUE), "{printed}");
            assert!(!printed.contains("very-secret"), "{printed}");
            assert!(printed.contains("[redacted]"), "{printed}");
            assert!(
                printed.contains("42"),
                "the rest of the struct still prints: {printed}"
            );
        }
    }

    #[test]
    fn expose_returns_the_value() {
        assert_eq!(Secret::new(VALUE).expose(), VALUE);
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(Secret::new(VALUE), Secret::new(VALUE.to_owned()));
        assert_ne!(
            Secret::new(VALUE),
            Secret::new("EAAGm0PX4ZCpsBAxyz-very-secret-tokeN")
        );
        assert_ne!(Secret::new(VALUE), Secret::new(&VALUE[..10]));
        assert_eq!(Secret::new(VALUE).clone(), Secret::new(VALUE));
    }

    #[test]
    fn a_provider_response_deserializes_into_a_secret() -> serde_json::Result<()> {
        #[derive(Deserialize)]
        struct Response {
            access_token: Secret,
        }
        let parsed: Response = serde_json::from_str(&format!(r#"{{"access_token":"{VALUE}"}}"#))?;
        assert_eq!(parsed.access_token.expose(), VALUE);
        Ok(())
    }
}

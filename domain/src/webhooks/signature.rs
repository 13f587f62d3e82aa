//! Webhook signatures: HMAC-SHA256 over `"{timestamp}.{body}"` with the endpoint's signing secret,
//! sent as `X-Creatorlink-Signature: v1=<hex>` next to `X-Creatorlink-Timestamp` (Unix seconds).
//! Signing the timestamp with the body lets a receiver refuse replays of an old delivery.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// The header carrying the event id (the same id on every retry: dedupe by it).
pub const EVENT_ID_HEADER: &str = "X-Creatorlink-Event-Id";
/// The header carrying the Unix time (seconds) the delivery attempt was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Creatorlink-Timestamp";
/// The header carrying `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Creatorlink-Signature";

/// A new signing secret: `whsec_` and 32 random bytes in hex.
pub fn generate_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    Secret::new(format!("whsec_{}", hex::encode(bytes)))
}

fn mac(secret: &Secret, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Creatorlink-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// What a receiver does: recompute and compare in constant time, and refuse timestamps further
/// than `tolerance_secs` from `now` (replays).
pub fn verify(
    secret: &Secret,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_secs: i64,
) -> bool {
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    let Some(given) = header
        .split(',')
        .find_map(|part| part.trim().strip_prefix("v1="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let expected = mac(secret, timestamp, body).finalize().into_bytes();
    expected.as_slice().ct_eq(&given).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_the_same_secret_body_and_time() {
        let secret = Secret::new("whsec_test");
        let sig = sign(&secret, 1_700_000_000, b"{\"id\":\"1\"}");
        assert!(verify(
            &secret,
            1_700_000_000,
            b"{\"id\":\"1\"}",
            &sig,
            1_700_000_010,
            300
        ));
        assert!(!verify(
            &secret,
            1_700_000_000,
            b"{\"id\":\"2\"}",
            &sig,
            1_700_000_010,
            300
        ));
        assert!(!verify(
            &Secret::new("other"),
            1_700_000_000,
            b"{\"id\":\"1\"}",
            &sig,
            1_700_000_010,
            300
        ));
        assert!(!verify(
            &secret,
            1_700_000_001,
            b"{\"id\":\"1\"}",
            &sig,
            1_700_000_010,
            300
        ));
        assert!(!verify(
            &secret,
            1_700_000_000,
            b"{\"id\":\"1\"}",
            &sig,
            1_700_009_000,
            300
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() {
        // Same value as `printf '1.{}' | openssl dgst -sha256 -hmac k`.
        let sig = sign(&Secret::new("k"), 1, b"{}");
        assert_eq!(
            sig,
            "v1=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
        );
    }

    #[test]
    fn generated_secrets_are_distinct_and_prefixed() {
        let (a, b) = (generate_secret(), generate_secret());
        assert!(a.expose().starts_with("whsec_"));
        assert_ne!(a.expose(), b.expose());
    }
}

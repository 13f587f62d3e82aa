//! Sealing and opening: the stored format and the associated data that binds a value to its row.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::keyring::{Key, KeyId, Keyring};
use super::VaultError;
use crate::secret::Secret;

/// First part of every stored value; a new format gets a new prefix and both are read meanwhile.
const FORMAT_V1: &str = "v1";

/// XChaCha20's nonce length.
const NONCE_LEN: usize = 24;

/// Poly1305's tag length; a payload shorter than nonce + tag cannot be a sealed value.
const TAG_LEN: usize = 16;

/// Which secret of a row a sealed value is. Part of the associated data, so a value sealed as one
/// kind does not open as another (a refresh token pasted into the access-token column fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An OAuth access token.
    Access,
    /// An OAuth refresh token.
    Refresh,
    /// A PKCE code verifier kept between the authorize redirect and the callback.
    PkceVerifier,
    /// A secret a platform signs its webhooks with.
    WebhookSecret,
}

impl TokenKind {
    /// The name written into the associated data. Stable: changing it makes stored values unopenable.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::PkceVerifier => "pkce_verifier",
            TokenKind::WebhookSecret => "webhook_secret",
        }
    }
}

/// Associated data: authenticated with the ciphertext but not stored in it, so the caller must
/// present the same row id and kind to open a value.
///
/// Encoded as `creatorlink:v1:<kind>:<uuid, hyphenated lower case>`; kinds contain no `:`, so no two
/// (row, kind) pairs encode alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    /// Binds a value to the row that owns it (e.g. the link id) and the column it sits in.
    pub fn new(row_id: Uuid, kind: TokenKind) -> Self {
        let text = format!(
            "creatorlink:{FORMAT_V1}:{}:{}",
            kind.as_str(),
            row_id.as_hyphenated()
        );
        Self(text.into_bytes())
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The stored value split into its parts; `payload` is nonce ‖ ciphertext ‖ tag.
struct Parsed {
    key_id: KeyId,
    payload: Vec<u8>,
}

fn parse(sealed: &str) -> Result<Parsed, VaultError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(FORMAT_V1), Some(key_id), Some(encoded)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(VaultError::Malformed);
    };
    let key_id = KeyId::new(key_id).map_err(|_| VaultError::Malformed)?;
    let payload = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| VaultError::Malformed)?;
    if payload.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed);
    }
    Ok(Parsed { key_id, payload })
}

/// The id of the key a stored value was sealed under, read without decrypting; `None` if the value
/// is not in a known format. Lets the rotation job count and select rows per key.
pub fn sealed_key_id(sealed: &str) -> Option<KeyId> {
    parse(sealed).ok().map(|parsed| parsed.key_id)
}

fn cipher(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.bytes().into())
}

impl Keyring {
    /// Encrypts `plaintext` under the active key, bound to `aad`, as
    /// `v1.<key_id>.<base64url(nonce ‖ ciphertext ‖ tag)>` (URL-safe alphabet, no padding): plain
    /// ASCII that fits any text column. Every call draws a fresh random nonce, so sealing the same
    /// token twice gives different values.
    ///
    /// # Panics
    ///
    /// Only if the plaintext is longer than XChaCha20-Poly1305's limit of 2^38 bytes (256 GiB), which
    /// no token comes near; the panic message does not include the plaintext.
    pub fn seal(&self, plaintext: &Secret, aad: &Aad) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.expose().as_bytes(),
            aad: aad.as_bytes(),
        };
        #[allow(clippy::expect_used)] // see `# Panics`: the only error is the 256 GiB length limit
        let ciphertext = cipher(self.active_key())
            .encrypt(&nonce, payload)
            .expect("plaintext within XChaCha20-Poly1305's 2^38-byte limit");
        let mut combined = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        combined.extend_from_slice(&nonce);
        combined.extend_from_slice(&ciphertext);
        format!(
            "{FORMAT_V1}.{}.{}",
            self.active(),
            URL_SAFE_NO_PAD.encode(combined)
        )
    }

    /// Decrypts a value made by [`Keyring::seal`] with any key of this keyring, checking it was
    /// sealed for the same row and kind.
    ///
    /// Fails with [`VaultError::Malformed`] if the value is not in the stored format,
    /// [`VaultError::UnknownKey`] if its key is not configured, and [`VaultError::Decrypt`] if it
    /// was altered or belongs to another row or kind.
    pub fn open(&self, sealed: &str, aad: &Aad) -> Result<Secret, VaultError> {
        let Parsed { key_id, payload } = parse(sealed)?;
        let key = self
            .key(&key_id)
            .ok_or_else(|| VaultError::UnknownKey(key_id.clone()))?;
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let plaintext = Zeroizing::new(
            cipher(key)
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: aad.as_bytes(),
                    },
                )
                .map_err(|_| VaultError::Decrypt)?,
        );
        // Poly1305 authenticated these bytes as what `seal` encrypted, which was a `&str`; the
        // check only guards against a value sealed by something else under our key.
        std::str::from_utf8(&plaintext)
            .map(Secret::new)
            .map_err(|_| VaultError::Decrypt)
    }

    /// Whether a stored value should be re-sealed by the rotation job: true when it was sealed under
    /// a key other than the active one, and also when it cannot be parsed, so the job tries it and
    /// reports the error instead of silently skipping a damaged row.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed_key_id(sealed).is_none_or(|key_id| key_id != *self.active())
    }

    /// Opens a value and seals it again under the active key, for the rotation job.
    pub fn reseal(&self, sealed: &str, aad: &Aad) -> Result<String, VaultError> {
        let plaintext = self.open(sealed, aad)?;
        Ok(self.seal(&plaintext, aad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "EAAGm0PX4ZCpsBA-access-token-0123456789";

    fn id(s: &str) -> KeyId {
        KeyId::new(s).expect("valid test key id")
    }

    fn keyring(active: &str, keys: &[(&str, &Key)]) -> Keyring {
        Keyring::new(
            id(active),
            keys.iter()
                .map(|(key_id, key)| (id(key_id), (*key).clone())),
        )
        .expect("valid test keyring")
    }

    fn payload(sealed: &str) -> Vec<u8> {
        let encoded = sealed.rsplit('.').next().expect("three parts");
        URL_SAFE_NO_PAD.decode(encoded).expect("base64url payload")
    }

    fn with_payload(sealed: &str, payload: &[u8]) -> String {
        let prefix = &sealed[..sealed.rfind('.').expect("three parts")];
        format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn a_sealed_token_opens_to_the_same_token() {
        let k1 = Key::generate();
        let vault = keyring("k1", &[("k1", &k1)]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = vault.seal(&Secret::new(TOKEN), &aad);
        assert_eq!(vault.open(&sealed, &aad).expect("opens").expose(), TOKEN);
    }

    #[test]
    fn empty_and_unicode_secrets_round_trip() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::WebhookSecret);
        for value in ["", "ünïcødé 🔑", &"x".repeat(10_000)] {
            let sealed = vault.seal(&Secret::new(value), &aad);
            assert_eq!(vault.open(&sealed, &aad).expect("opens").expose(), value);
        }
    }

    #[test]
    fn the_stored_value_is_versioned_names_its_key_and_is_url_safe_ascii() {
        let vault = keyring("2026-11", &[("2026-11", &Key::generate())]);
        let sealed = vault.seal(
            &Secret::new(TOKEN),
            &Aad::new(Uuid::new_v4(), TokenKind::Refresh),
        );
        let parts: Vec<&str> = sealed.split('.').collect();
        assert_eq!(parts.len(), 3, "{sealed}");
        assert_eq!(parts[0], "v1");
        assert_eq!(parts[1], "2026-11");
        assert!(parts[2]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(payload(&sealed).len(), NONCE_LEN + TOKEN.len() + TAG_LEN);
        assert_eq!(sealed_key_id(&sealed), Some(id("2026-11")));
    }

    #[test]
    fn the_sealed_value_never_contains_the_plaintext() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        for _ in 0..20 {
            let sealed = vault.seal(&Secret::new(TOKEN), &aad);
            assert!(!sealed.contains(TOKEN), "{sealed}");
            assert!(!sealed.contains("access-token"), "{sealed}");
            let bytes = payload(&sealed);
            assert!(!bytes
                .windows(8)
                .any(|w| TOKEN.as_bytes().windows(8).any(|t| t == w)));
        }
    }

    #[test]
    fn sealing_the_same_token_twice_gives_different_values() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let first = vault.seal(&Secret::new(TOKEN), &aad);
        let second = vault.seal(&Secret::new(TOKEN), &aad);
        assert_ne!(first, second);
        assert_ne!(payload(&first)[..NONCE_LEN], payload(&second)[..NONCE_LEN]);
    }

    #[test]
    fn flipping_any_bit_of_nonce_ciphertext_or_tag_fails_to_decrypt() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = vault.seal(&Secret::new(TOKEN), &aad);
        let original = payload(&sealed);
        // Every byte (nonce, ciphertext and tag alike), a different bit each time.
        for position in 0..original.len() {
            let mut tampered = original.clone();
            tampered[position] ^= 1 << (position % 8);
            let result = vault.open(&with_payload(&sealed, &tampered), &aad);
            assert!(
                matches!(result, Err(VaultError::Decrypt)),
                "byte {position}: {result:?}"
            );
        }
    }

    #[test]
    fn a_token_moved_to_another_row_fails_to_open() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let sealed = vault.seal(
            &Secret::new(TOKEN),
            &Aad::new(Uuid::new_v4(), TokenKind::Access),
        );
        let result = vault.open(&sealed, &Aad::new(Uuid::new_v4(), TokenKind::Access));
        assert!(matches!(result, Err(VaultError::Decrypt)), "{result:?}");
    }

    #[test]
    fn a_token_moved_to_another_kind_fails_to_open() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let row = Uuid::new_v4();
        let kinds = [
            TokenKind::Access,
            TokenKind::Refresh,
            TokenKind::PkceVerifier,
            TokenKind::WebhookSecret,
        ];
        for sealed_as in kinds {
            let sealed = vault.seal(&Secret::new(TOKEN), &Aad::new(row, sealed_as));
            for opened_as in kinds {
                let result = vault.open(&sealed, &Aad::new(row, opened_as));
                if sealed_as == opened_as {
                    assert!(result.is_ok(), "{sealed_as:?}");
                } else {
                    assert!(
                        matches!(result, Err(VaultError::Decrypt)),
                        "{sealed_as:?} opened as {opened_as:?}: {result:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_value_sealed_under_an_unconfigured_key_is_unknown_key() {
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = keyring("k1", &[("k1", &Key::generate())]).seal(&Secret::new(TOKEN), &aad);
        let other = keyring("k2", &[("k2", &Key::generate())]);
        let result = other.open(&sealed, &aad);
        assert!(
            matches!(&result, Err(VaultError::UnknownKey(key_id)) if key_id.as_str() == "k1"),
            "{result:?}"
        );
    }

    #[test]
    fn a_different_key_under_the_same_id_fails_to_decrypt() {
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = keyring("k1", &[("k1", &Key::generate())]).seal(&Secret::new(TOKEN), &aad);
        let result = keyring("k1", &[("k1", &Key::generate())]).open(&sealed, &aad);
        assert!(matches!(result, Err(VaultError::Decrypt)), "{result:?}");
    }

    #[test]
    fn rotation_opens_old_values_and_reseals_them_under_the_new_key() {
        let (k1, k2) = (Key::generate(), Key::generate());
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Refresh);
        let old = keyring("k1", &[("k1", &k1)]).seal(&Secret::new(TOKEN), &aad);

        let rotated = keyring("k2", &[("k1", &k1), ("k2", &k2)]);
        assert_eq!(
            rotated.open(&old, &aad).expect("old value opens").expose(),
            TOKEN
        );
        assert!(rotated.needs_reseal(&old));

        let resealed = rotated.reseal(&old, &aad).expect("reseals");
        assert_eq!(sealed_key_id(&resealed), Some(id("k2")));
        assert!(resealed.starts_with("v1.k2."), "{resealed}");
        assert!(!rotated.needs_reseal(&resealed));
        assert_eq!(
            rotated.open(&resealed, &aad).expect("opens").expose(),
            TOKEN
        );

        // Once every row is resealed, k1 can go; the old value then no longer opens.
        let without_k1 = keyring("k2", &[("k2", &k2)]);
        assert_eq!(
            without_k1.open(&resealed, &aad).expect("opens").expose(),
            TOKEN
        );
        let result = without_k1.open(&old, &aad);
        assert!(
            matches!(&result, Err(VaultError::UnknownKey(key_id)) if key_id.as_str() == "k1"),
            "{result:?}"
        );
    }

    #[test]
    fn resealing_keeps_the_binding_to_row_and_kind() {
        let (k1, k2) = (Key::generate(), Key::generate());
        let row = Uuid::new_v4();
        let aad = Aad::new(row, TokenKind::Access);
        let old = keyring("k1", &[("k1", &k1)]).seal(&Secret::new(TOKEN), &aad);
        let rotated = keyring("k2", &[("k1", &k1), ("k2", &k2)]);
        let resealed = rotated.reseal(&old, &aad).expect("reseals");
        let moved = rotated.open(&resealed, &Aad::new(row, TokenKind::Refresh));
        assert!(matches!(moved, Err(VaultError::Decrypt)), "{moved:?}");
        let wrong_row = rotated.reseal(&old, &Aad::new(Uuid::new_v4(), TokenKind::Access));
        assert!(
            matches!(wrong_row, Err(VaultError::Decrypt)),
            "{wrong_row:?}"
        );
    }

    #[test]
    fn values_that_are_not_in_the_stored_format_are_malformed() {
        let vault = keyring("k1", &[("k1", &Key::generate())]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = vault.seal(&Secret::new(TOKEN), &aad);
        let body = sealed.strip_prefix("v1.k1.").expect("v1 prefix");
        let short = URL_SAFE_NO_PAD.encode([0u8; NONCE_LEN + TAG_LEN - 1]);
        let cases = [
            String::new(),
            TOKEN.to_owned(),
            format!("v2.k1.{body}"),
            format!("v1.k1.{body}="),
            format!("v1.k1.{body}+"),
            format!("v1.k.1.{body}"),
            format!("v1..{body}"),
            "v1.k1.".to_owned(),
            format!("v1.k1.{short}"),
            "v1.k1".to_owned(),
        ];
        for case in cases {
            let result = vault.open(&case, &aad);
            assert!(
                matches!(result, Err(VaultError::Malformed)),
                "{case:?}: {result:?}"
            );
            assert_eq!(sealed_key_id(&case), None, "{case:?}");
            assert!(vault.needs_reseal(&case), "{case:?}");
        }
    }

    #[test]
    fn errors_never_contain_the_plaintext_or_the_key() {
        let key = Key::generate();
        let vault = keyring("k1", &[("k1", &key)]);
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = vault.seal(&Secret::new(TOKEN), &aad);
        let errors = [
            vault
                .open(&sealed, &Aad::new(Uuid::new_v4(), TokenKind::Access))
                .expect_err("wrong row"),
            keyring("k2", &[("k2", &Key::generate())])
                .open(&sealed, &aad)
                .expect_err("unknown key"),
            vault.open("v1.k1.!!", &aad).expect_err("malformed"),
        ];
        let key_b64 = base64::engine::general_purpose::STANDARD.encode(key.bytes());
        for error in errors {
            let printed = format!("{error} {error:?}");
            assert!(!printed.contains(TOKEN), "{printed}");
            assert!(!printed.contains(&key_b64[..16]), "{printed}");
        }
    }

    #[test]
    fn associated_data_is_prefixed_kind_and_hyphenated_row_id() {
        let row = Uuid::parse_str("0190b5e2-7c1a-7a3e-9f00-1234567890ab").expect("uuid");
        assert_eq!(
            Aad::new(row, TokenKind::PkceVerifier).as_bytes(),
            b"creatorlink:v1:pkce_verifier:0190b5e2-7c1a-7a3e-9f00-1234567890ab"
        );
    }
}

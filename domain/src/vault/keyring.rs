//! Key ids, keys and the keyring that holds them, parsed from configuration.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;
use thiserror::Error;
use zeroize::Zeroizing;

/// Length of a key in bytes (XChaCha20-Poly1305 takes 256-bit keys).
pub(super) const KEY_LEN: usize = 32;

/// Longest key id accepted; ids are repeated in every stored value, so they stay short.
const MAX_KEY_ID_LEN: usize = 32;

/// The name of a key, stored in every sealed value so the right key can be found after rotation.
///
/// 1 to 32 ASCII letters, digits, `-` or `_` (e.g. `k1`, `2026-11`): no `.`, `:` or `,`, which
/// separate the parts of the stored format and of the configuration string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

/// A key id that is empty, too long or has a character other than ASCII letters, digits, `-`, `_`.
///
/// It does not repeat the rejected text: a mistyped configuration may have put key material there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a key id must be 1 to 32 ASCII letters, digits, `-` or `_`")]
pub struct InvalidKeyId;

impl KeyId {
    /// Checks the id's shape (see [`KeyId`]).
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidKeyId> {
        let id = id.into();
        let valid = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(id))
        } else {
            Err(InvalidKeyId)
        }
    }

    /// The id as written in configuration and in sealed values.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for KeyId {
    type Err = InvalidKeyId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// 32 bytes of key material, wiped from memory on drop and printed as `Key([redacted])`.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl Key {
    /// Wraps raw key bytes (from a KMS or a test); configuration goes through
    /// [`Keyring::from_config`] instead.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    pub(super) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key([redacted])")
    }
}

/// A new random key, base64 (standard alphabet, padded) as [`Keyring::from_config`] reads it; for
/// operators adding a key (`creatorlink vault keygen`) and for the embedded default's key file.
pub fn generate_key() -> String {
    STANDARD.encode(Key::generate().bytes())
}

/// What is wrong with a key configuration. Entries are numbered from 1 in the order written; the
/// messages name entries and key ids but never repeat key text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyringError {
    /// No keys at all: the vault cannot seal anything.
    #[error("no vault keys configured; expected `id:base64key[,id:base64key…]`")]
    Empty,
    /// An entry is blank, e.g. `k1:…,,k2:…`.
    #[error("vault key entry {entry} is empty")]
    EmptyEntry {
        /// 1-based position in the configuration string.
        entry: usize,
    },
    /// An entry has no `:` between id and key.
    #[error("vault key entry {entry} is not of the form `id:base64key`")]
    MissingSeparator {
        /// 1-based position in the configuration string.
        entry: usize,
    },
    /// An entry's id has the wrong shape.
    #[error("vault key entry {entry}: {source}")]
    InvalidKeyId {
        /// 1-based position in the configuration string.
        entry: usize,
        /// The rule the id breaks.
        source: InvalidKeyId,
    },
    /// A key is not standard, padded base64.
    #[error("vault key `{0}` is not valid base64 (standard alphabet, padded)")]
    BadBase64(KeyId),
    /// A key decodes to something other than 32 bytes.
    #[error("vault key `{key_id}` is {len} bytes long; keys are 32 bytes (44 base64 characters)")]
    WrongLength {
        /// The key's id.
        key_id: KeyId,
        /// The decoded length.
        len: usize,
    },
    /// Two keys share an id, so sealed values naming it would be ambiguous.
    #[error("vault key id `{0}` is listed more than once")]
    DuplicateKeyId(KeyId),
    /// The chosen active key is not among the configured keys.
    #[error("active vault key `{0}` is not among the configured keys")]
    ActiveKeyMissing(KeyId),
}

/// The keys the vault can open with, and the one it seals with.
///
/// Rotation: add the new key, make it active, run the re-seal job (which uses
/// [`Keyring::needs_reseal`]), and only then remove the old key. Values sealed under a key that is
/// no longer configured fail with [`super::VaultError::UnknownKey`].
#[derive(Clone)]
pub struct Keyring {
    active: KeyId,
    /// A copy of `keys[active]`, so sealing needs no lookup that could fail.
    active_key: Key,
    keys: BTreeMap<KeyId, Key>,
}

impl Keyring {
    /// A keyring sealing under `active`; fails if `keys` is empty, repeats an id, or lacks `active`.
    pub fn new(
        active: KeyId,
        keys: impl IntoIterator<Item = (KeyId, Key)>,
    ) -> Result<Self, KeyringError> {
        let mut map = BTreeMap::new();
        for (id, key) in keys {
            if map.contains_key(&id) {
                return Err(KeyringError::DuplicateKeyId(id));
            }
            map.insert(id, key);
        }
        if map.is_empty() {
            return Err(KeyringError::Empty);
        }
        let Some(active_key) = map.get(&active).cloned() else {
            return Err(KeyringError::ActiveKeyMissing(active));
        };
        Ok(Self {
            active,
            active_key,
            keys: map,
        })
    }

    /// Parses `id:base64key[,id:base64key…]`, e.g. `k2:…,k1:…`.
    ///
    /// - Each key is 32 bytes in standard, padded base64 (what [`generate_key`] and
    ///   `openssl rand -base64 32` print).
    /// - Ids follow [`KeyId`]'s rules and are unique.
    /// - Whitespace (including newlines) around entries, ids and keys is ignored, so the same text
    ///   works in an environment variable and in a key file.
    /// - **The first entry is the active key** (the one new values are sealed with), so rotating means
    ///   putting the new key in front. To choose the active key separately, e.g. from its own setting,
    ///   chain [`Keyring::with_active`].
    pub fn from_config(spec: &str) -> Result<Self, KeyringError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(KeyringError::Empty);
        }
        let mut keys = Vec::new();
        for (index, entry) in spec.split(',').enumerate() {
            let entry_no = index + 1;
            let entry = entry.trim();
            if entry.is_empty() {
                return Err(KeyringError::EmptyEntry { entry: entry_no });
            }
            let (id, encoded) = entry
                .split_once(':')
                .ok_or(KeyringError::MissingSeparator { entry: entry_no })?;
            let id = KeyId::new(id.trim()).map_err(|source| KeyringError::InvalidKeyId {
                entry: entry_no,
                source,
            })?;
            // The decode error is dropped on purpose: it quotes the offending byte of the key.
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| KeyringError::BadBase64(id.clone()))?,
            );
            let bytes: [u8; KEY_LEN] =
                decoded
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyringError::WrongLength {
                        key_id: id.clone(),
                        len: decoded.len(),
                    })?;
            keys.push((id, Key::from_bytes(bytes)));
        }
        let active = keys
            .first()
            .map(|(id, _)| id.clone())
            .ok_or(KeyringError::Empty)?;
        Self::new(active, keys)
    }

    /// The same keys with another one active; fails if `active` is not among them.
    pub fn with_active(self, active: KeyId) -> Result<Self, KeyringError> {
        let Some(active_key) = self.keys.get(&active).cloned() else {
            return Err(KeyringError::ActiveKeyMissing(active));
        };
        Ok(Self {
            active,
            active_key,
            keys: self.keys,
        })
    }

    /// The id new values are sealed under.
    pub fn active(&self) -> &KeyId {
        &self.active
    }

    /// The ids of all keys that can open values, in sorted order (for startup logs).
    pub fn key_ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.keys()
    }

    pub(super) fn key(&self, id: &KeyId) -> Option<&Key> {
        self.keys.get(id)
    }

    pub(super) fn active_key(&self) -> &Key {
        &self.active_key
    }
}

/// Lists ids only, so a keyring can be logged.
impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two fixed, valid keys (32 bytes each) so error messages can be checked for their text.
    const KEY_A: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    const KEY_B: &str = "ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=";

    fn id(s: &str) -> KeyId {
        KeyId::new(s).expect("valid test key id")
    }

    fn ids(keyring: &Keyring) -> Vec<&str> {
        keyring.key_ids().map(KeyId::as_str).collect()
    }

    /// Both renderings of an error, for checking that neither repeats key material.
    fn rendered(error: &KeyringError) -> String {
        format!("{error} / {error:?}")
    }

    #[test]
    fn the_first_listed_key_is_active_and_all_keys_are_held() {
        let keyring = Keyring::from_config(&format!("k2:{KEY_B},k1:{KEY_A}")).expect("valid");
        assert_eq!(keyring.active().as_str(), "k2");
        assert_eq!(ids(&keyring), ["k1", "k2"]);
    }

    #[test]
    fn whitespace_and_newlines_around_entries_are_ignored() {
        let keyring =
            Keyring::from_config(&format!("  2026-11 : {KEY_B} ,\n k_1:{KEY_A}\n")).expect("valid");
        assert_eq!(keyring.active().as_str(), "2026-11");
        assert_eq!(ids(&keyring), ["2026-11", "k_1"]);
    }

    #[test]
    fn the_active_key_can_be_chosen_separately() {
        let keyring = Keyring::from_config(&format!("k2:{KEY_B},k1:{KEY_A}"))
            .and_then(|keyring| keyring.with_active(id("k1")))
            .expect("valid");
        assert_eq!(keyring.active().as_str(), "k1");
    }

    #[test]
    fn choosing_an_active_key_that_is_not_configured_fails() {
        let error = Keyring::from_config(&format!("k1:{KEY_A}"))
            .and_then(|keyring| keyring.with_active(id("k9")))
            .expect_err("k9 is not configured");
        assert_eq!(error, KeyringError::ActiveKeyMissing(id("k9")));
        assert!(error.to_string().contains("`k9`"), "{error}");
    }

    #[test]
    fn an_empty_configuration_is_refused() {
        for spec in ["", "   ", "\n"] {
            assert_eq!(Keyring::from_config(spec).err(), Some(KeyringError::Empty));
        }
    }

    #[test]
    fn an_empty_entry_is_refused_by_position() {
        let error = Keyring::from_config(&format!("k1:{KEY_A},,k2:{KEY_B}")).expect_err("empty");
        assert_eq!(error, KeyringError::EmptyEntry { entry: 2 });
        assert!(!rendered(&error).contains(KEY_A));
    }

    #[test]
    fn bad_base64_is_refused_naming_the_key_id_but_not_the_key() {
        let bad = "q83vEjRWeJCrze8SNFZ4kKvN7xI0Vni$q83vEjRWeJA=";
        let error = Keyring::from_config(&format!("k1:{bad}")).expect_err("bad base64");
        assert_eq!(error, KeyringError::BadBase64(id("k1")));
        let text = rendered(&error);
        assert!(text.contains("k1"), "{text}");
        assert!(!text.contains(bad) && !text.contains("q83vEjRW"), "{text}");
        // The base64 crate's own error would quote the offending byte and its offset.
        assert!(!text.contains('$') && !text.contains("31"), "{text}");
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused_naming_its_length_but_not_the_key() {
        let short = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeA=="; // 31 bytes
        let error = Keyring::from_config(&format!("k1:{KEY_A},k2:{short}")).expect_err("short");
        assert_eq!(
            error,
            KeyringError::WrongLength {
                key_id: id("k2"),
                len: 31
            }
        );
        let text = rendered(&error);
        assert!(text.contains("k2") && text.contains("31"), "{text}");
        assert!(!text.contains(short) && !text.contains(KEY_A), "{text}");
        assert!(!text.contains("q83vEjRW"), "{text}");
    }

    #[test]
    fn a_duplicate_key_id_is_refused() {
        let error =
            Keyring::from_config(&format!("k1:{KEY_A},k1:{KEY_B}")).expect_err("duplicate id");
        assert_eq!(error, KeyringError::DuplicateKeyId(id("k1")));
        let text = rendered(&error);
        assert!(!text.contains(KEY_A) && !text.contains(KEY_B), "{text}");
    }

    #[test]
    fn an_entry_without_an_id_is_refused_without_echoing_it() {
        // A key pasted without its `id:` prefix must not be repeated into the startup log.
        let error = Keyring::from_config(KEY_A).expect_err("no separator");
        assert_eq!(error, KeyringError::MissingSeparator { entry: 1 });
        assert!(!rendered(&error).contains("q83vEjRW"));
    }

    #[test]
    fn an_invalid_key_id_is_refused_without_echoing_it() {
        for bad_id in [
            "",
            "k.1",
            "k 1",
            "ключ",
            &"k".repeat(33),
            "q83vEjRWeJCrze8SNFZ4kKvN7xI0Vni=",
        ] {
            let error = Keyring::from_config(&format!("{bad_id}:{KEY_A}")).expect_err(bad_id);
            assert_eq!(
                error,
                KeyringError::InvalidKeyId {
                    entry: 1,
                    source: InvalidKeyId
                },
                "{bad_id:?}"
            );
            let text = rendered(&error);
            assert!(!text.contains("q83vEjRW"), "{text}");
        }
    }

    #[test]
    fn key_ids_accept_short_names_and_dates_only() {
        for good in ["k1", "2026-11", "prod_2", &"k".repeat(32)] {
            assert!(KeyId::new(good).is_ok(), "{good}");
        }
        for bad in ["", "k.1", "k:1", "k,1", "k/1", " k1", &"k".repeat(33)] {
            assert_eq!(KeyId::new(bad), Err(InvalidKeyId), "{bad}");
        }
    }

    #[test]
    fn new_refuses_no_keys_duplicates_and_a_missing_active_key() {
        let none: Vec<(KeyId, Key)> = Vec::new();
        assert_eq!(
            Keyring::new(id("k1"), none).err(),
            Some(KeyringError::Empty)
        );
        assert_eq!(
            Keyring::new(
                id("k1"),
                [(id("k1"), Key::generate()), (id("k1"), Key::generate())]
            )
            .err(),
            Some(KeyringError::DuplicateKeyId(id("k1")))
        );
        assert_eq!(
            Keyring::new(id("k2"), [(id("k1"), Key::generate())]).err(),
            Some(KeyringError::ActiveKeyMissing(id("k2")))
        );
    }

    #[test]
    fn generated_keys_parse_and_differ() {
        let (first, second) = (generate_key(), generate_key());
        assert_ne!(first, second);
        assert_eq!(first.len(), 44);
        Keyring::from_config(&format!("k1:{first},k2:{second}")).expect("generated keys parse");
    }

    #[test]
    fn debug_of_keys_and_keyrings_shows_ids_only() {
        let keyring = Keyring::from_config(&format!("k2:{KEY_B},k1:{KEY_A}")).expect("valid");
        let printed = format!("{keyring:?} {:?}", Key::from_bytes([7; KEY_LEN]));
        assert!(
            printed.contains("k1") && printed.contains("k2"),
            "{printed}"
        );
        assert!(
            !printed.contains("q83vEjRW") && !printed.contains("ASNFZ4mr"),
            "{printed}"
        );
        assert!(!printed.contains("[7, 7"), "{printed}");
    }
}

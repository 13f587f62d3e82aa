//! The token vault: OAuth tokens and other provider secrets are stored sealed, never in clear.
//!
//! - **Cipher.** XChaCha20-Poly1305 with a random 24-byte nonce per seal. The nonce is large enough
//!   that random nonces never collide in practice, so no counter has to be kept in the database.
//! - **Binding.** The associated data ([`Aad`]) names the owning row and the [`TokenKind`], so a
//!   sealed value copied to another row, or from the refresh-token column to the access-token
//!   column, fails to open instead of being used in the wrong place.
//! - **Rotation.** The stored value carries the id of the key that sealed it
//!   (`v1.<key_id>.<base64url(nonce ‖ ciphertext ‖ tag)>`), so a [`Keyring`] holding old and new
//!   keys opens everything while sealing only under its active key, and the rotation job finds rows
//!   to re-seal with [`Keyring::needs_reseal`] / [`sealed_key_id`] without decrypting them.
//! - **Keys.** Configured as `id:base64key[,id:base64key…]` (see [`Keyring::from_config`]).
//!
//! Errors never carry plaintext or key material, so they are safe to log and to `{:?}`.

mod keyring;
mod seal;

use thiserror::Error;

pub use keyring::{generate_key, InvalidKeyId, Key, KeyId, Keyring, KeyringError};
pub use seal::{sealed_key_id, Aad, TokenKind};

/// Why a sealed value could not be opened or the keyring could not be loaded.
///
/// No variant holds plaintext or key material: key ids and file paths are not secret.
#[derive(Debug, Error)]
pub enum VaultError {
    /// The value was sealed under a key this keyring does not hold (it was removed from the
    /// configuration too early, or the value comes from another installation). Operator error:
    /// restore the key; retrying does not help.
    #[error("sealed with key `{0}`, which is not in the keyring")]
    UnknownKey(KeyId),
    /// The stored value is not of the form `v1.<key_id>.<base64url>`: a corrupted or foreign column
    /// value, not something a key change could fix.
    #[error("sealed value is malformed")]
    Malformed,
    /// Authentication failed: the ciphertext was altered, belongs to another row or token kind, or
    /// was sealed under a different key with the same id.
    #[error(
        "sealed value failed to decrypt (tampered, moved to another row or kind, or wrong key)"
    )]
    Decrypt,
}

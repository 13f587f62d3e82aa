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
//! - **Keys.** Configured as `id:base64key[,id:base64key…]` (see [`Keyring::from_config`]); the
//!   embedded default keeps one in a 0600 file ([`load_or_create_key_file`]).
//!
//! Errors never carry plaintext or key material, so they are safe to log and to `{:?}`.

mod key_file;
mod keyring;
pub mod rotate;
mod seal;

use std::io;
use std::path::PathBuf;

use thiserror::Error;

#[cfg(unix)]
pub use key_file::load_or_create_key_file;
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
    /// The key file could not be created, read or written.
    #[error("key file {}: {source}", path.display())]
    KeyFileIo {
        /// The key file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The key file does not parse as a key configuration.
    #[error("key file {}: {source}", path.display())]
    KeyFileContents {
        /// The key file.
        path: PathBuf,
        /// What is wrong with its contents.
        source: KeyringError,
    },
    /// The key file is accessible to group or others; refusing to use a key others may have read.
    #[error(
        "key file {} has mode {mode:04o}, which lets group or others access it; run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    InsecureKeyFile {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

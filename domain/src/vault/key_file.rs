//! The embedded default's key file: created with a fresh key on first start, read afterwards.
#![cfg(unix)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use zeroize::Zeroizing;

use super::keyring::{generate_key, Keyring, KeyringError};
use super::VaultError;

/// Id of the key a new key file gets; distinct from ids operators pick for configured keys, so a
/// value sealed by the embedded default is recognisable.
const CREATED_KEY_ID: &str = "embedded";

/// Permission bits for group and others; any of them set means someone else may read the key.
const GROUP_OTHER_BITS: u32 = 0o077;

/// Loads the keyring from `path`, or creates the file with one new random key if it does not exist.
/// Returns whether the file was created, so startup can say so (losing that file makes every stored
/// token unreadable, and the operator should know it exists and back it up).
///
/// The file holds the same text as the key configuration (`id:base64key[,…]`, see
/// [`Keyring::from_config`]), so an operator can move to configured keys by copying it, or rotate by
/// putting a new entry in front.
///
/// - Creating uses `O_CREAT | O_EXCL` with mode 0600: the key is never readable by others, not even
///   briefly, and an existing file (or a symlink planted at the path) is never overwritten. If
///   writing fails the file is removed so the next start tries again.
/// - Loading refuses a file that group or others can access ([`VaultError::InsecureKeyFile`]),
///   checked on the open handle so the file checked is the file read.
///
/// Errors name the path and never contain key material.
pub fn load_or_create_key_file(path: &Path) -> Result<(Keyring, bool), VaultError> {
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(file) => create(path, file).map(|keyring| (keyring, true)),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            load(path).map(|keyring| (keyring, false))
        }
        Err(source) => Err(io_error(path, source)),
    }
}

fn create(path: &Path, mut file: File) -> Result<Keyring, VaultError> {
    let key = Zeroizing::new(generate_key());
    let text = Zeroizing::new(format!("{CREATED_KEY_ID}:{}\n", key.as_str()));
    if let Err(source) = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
    {
        // An empty or partial file would make every later start fail; the removal is best effort
        // because the write error is the one worth reporting.
        drop(file);
        let _ = fs::remove_file(path);
        return Err(io_error(path, source));
    }
    Keyring::from_config(&text).map_err(|source| contents_error(path, source))
}

fn load(path: &Path) -> Result<Keyring, VaultError> {
    let mut file = File::open(path).map_err(|source| io_error(path, source))?;
    let metadata = file.metadata().map_err(|source| io_error(path, source))?;
    let mode = metadata.permissions().mode();
    if mode & GROUP_OTHER_BITS != 0 {
        return Err(VaultError::InsecureKeyFile {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    // Sized up front so reading does not reallocate and leave unwiped copies of the key behind.
    let capacity = usize::try_from(metadata.len()).unwrap_or(0) + 1;
    let mut text = Zeroizing::new(String::with_capacity(capacity));
    file.read_to_string(&mut text)
        .map_err(|source| io_error(path, source))?;
    Keyring::from_config(&text).map_err(|source| contents_error(path, source))
}

fn io_error(path: &Path, source: io::Error) -> VaultError {
    VaultError::KeyFileIo {
        path: path.to_path_buf(),
        source,
    }
}

fn contents_error(path: &Path, source: KeyringError) -> VaultError {
    VaultError::KeyFileContents {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use uuid::Uuid;

    use super::*;
    use crate::secret::Secret;
    use crate::vault::{Aad, TokenKind};

    /// A fresh directory under the system temp dir, removed when the test ends.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!("creatorlink-vault-{}", Uuid::new_v4()));
            fs::create_dir(&path).expect("create temp dir");
            Self(path)
        }

        fn file(&self) -> PathBuf {
            self.0.join("vault.key")
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_missing_key_file_is_created_with_mode_0600() {
        let dir = TempDir::new();
        let path = dir.file();
        let (keyring, created) = load_or_create_key_file(&path).expect("created");
        assert!(created);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(keyring.active().as_str(), CREATED_KEY_ID);
        let text = fs::read_to_string(&path).expect("readable by owner");
        assert!(
            text.starts_with("embedded:") && text.ends_with('\n'),
            "{text}"
        );
        Keyring::from_config(&text).expect("the file is in the configuration format");
    }

    #[test]
    fn reloading_the_key_file_gives_the_same_key_and_does_not_overwrite_it() {
        let dir = TempDir::new();
        let path = dir.file();
        let (first, created) = load_or_create_key_file(&path).expect("created");
        assert!(created);
        let text = fs::read_to_string(&path).expect("read");
        let aad = Aad::new(Uuid::new_v4(), TokenKind::Access);
        let sealed = first.seal(&Secret::new("token"), &aad);

        let (second, created) = load_or_create_key_file(&path).expect("loaded");
        assert!(!created);
        assert_eq!(fs::read_to_string(&path).expect("read"), text);
        assert_eq!(second.active(), first.active());
        assert_eq!(second.open(&sealed, &aad).expect("opens").expose(), "token");
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused_naming_the_path() {
        let dir = TempDir::new();
        let path = dir.file();
        load_or_create_key_file(&path).expect("created");
        let key_text = fs::read_to_string(&path).expect("read");
        for insecure in [0o644, 0o640, 0o604, 0o660, 0o602] {
            fs::set_permissions(&path, fs::Permissions::from_mode(insecure)).expect("chmod");
            let error = load_or_create_key_file(&path).expect_err("insecure mode");
            assert!(
                matches!(&error, VaultError::InsecureKeyFile { mode, .. } if *mode == insecure),
                "{error:?}"
            );
            let printed = format!("{error} {error:?}");
            assert!(printed.contains(&path.display().to_string()), "{printed}");
            assert!(!printed.contains(key_text.trim()), "{printed}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).expect("chmod");
        load_or_create_key_file(&path).expect("owner-only read is accepted");
    }

    #[test]
    fn a_key_file_with_bad_contents_is_refused_naming_the_path_not_the_contents() {
        let dir = TempDir::new();
        let path = dir.file();
        let contents = "k1:not-a-real-key-but-private";
        fs::write(&path, contents).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let error = load_or_create_key_file(&path).expect_err("bad contents");
        assert!(
            matches!(
                &error,
                VaultError::KeyFileContents {
                    source: KeyringError::BadBase64(_),
                    ..
                }
            ),
            "{error:?}"
        );
        let printed = format!("{error} {error:?}");
        assert!(printed.contains(&path.display().to_string()), "{printed}");
        assert!(!printed.contains("not-a-real-key"), "{printed}");
    }

    #[test]
    fn a_key_file_in_a_missing_directory_is_an_io_error_naming_the_path() {
        let dir = TempDir::new();
        let path = dir.0.join("missing").join("vault.key");
        let error = load_or_create_key_file(&path).expect_err("no directory");
        assert!(matches!(&error, VaultError::KeyFileIo { .. }), "{error:?}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }
}

//! The error type of the vault; its messages never contain key or plaintext bytes.

use std::path::PathBuf;

use crate::keys::KeyKind;

/// Everything that can go wrong in the vault.
///
/// Messages are safe to log: they name key ids and file paths, never key
/// material, plaintext or ciphertext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The master key text is not base64 of exactly 32 bytes.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),
    /// The master key file exists but does not hold a valid key.
    #[error("invalid master key file {}: {reason}", path.display())]
    InvalidKeyFile {
        /// The file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// The master key file could not be read or created.
    #[error("master key file {}: {error}", path.display())]
    KeyFileIo {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        error: std::io::Error,
    },
    /// The wrapped key was made by another master key.
    #[error("wrapped key was made by master key {found}, this master key is {expected}")]
    MasterKeyMismatch {
        /// Id of the master key asked to unwrap.
        expected: String,
        /// Id recorded in the wrapped key.
        found: String,
    },
    /// The wrapped key holds another kind of key than the one asked for.
    #[error("wrapped key holds a {found}, expected a {expected}")]
    KeyKindMismatch {
        /// The kind asked for.
        expected: KeyKind,
        /// The kind recorded in the wrapped key.
        found: KeyKind,
    },
    /// The wrapped key text or blob is not in the expected format.
    #[error("malformed wrapped key: {0}")]
    MalformedWrappedKey(&'static str),
    /// Authentication of a wrapped key failed.
    #[error(
        "could not unwrap key: wrong master key or wrong context, or the wrapped key was altered"
    )]
    UnwrapFailed,
    /// The data key id given to `encrypt` is unusable.
    #[error("invalid data key id: {0}")]
    InvalidKeyId(&'static str),
    /// The ciphertext is not in the expected format.
    #[error("malformed ciphertext: {0}")]
    MalformedCiphertext(&'static str),
    /// Authentication of a ciphertext failed.
    #[error(
        "could not decrypt: wrong data key or associated data (organization, customer, field), or the ciphertext was altered"
    )]
    DecryptFailed,
    /// The cipher refused to encrypt (input too large for AES-GCM).
    #[error("encryption failed: input too large")]
    EncryptFailed,
    /// A value decrypted by `decrypt_from_string` is not UTF-8 text.
    #[error("decrypted value is not valid UTF-8")]
    NotUtf8,
}

//! 256-bit secret keys (data keys and blind-index keys), zeroized on drop.

use std::fmt;

use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// 32 secret bytes, wiped when dropped. Shared body of every key type here
/// (public only so the sealed trait can name it; not exported).
#[derive(Clone)]
pub struct SecretKey32([u8; 32]);

impl SecretKey32 {
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for SecretKey32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey32 {}

/// What a wrapped key holds; recorded in the wrapped blob and bound into the
/// wrapping's associated data, so one kind can never be unwrapped as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// A [`DataKey`].
    DataKey,
    /// A [`BlindIndexKey`].
    BlindIndexKey,
}

impl KeyKind {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            KeyKind::DataKey => 1,
            KeyKind::BlindIndexKey => 2,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(KeyKind::DataKey),
            2 => Some(KeyKind::BlindIndexKey),
            _ => None,
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::DataKey => "data key",
            KeyKind::BlindIndexKey => "blind index key",
        })
    }
}

mod sealed {
    pub trait Sealed {
        fn from_secret(secret: super::SecretKey32) -> Self;
        fn secret(&self) -> &super::SecretKey32;
    }
}

/// A key that the master key can wrap: [`DataKey`] or [`BlindIndexKey`].
///
/// Sealed: it cannot be implemented outside this crate.
pub trait VaultKey: sealed::Sealed + Sized {
    /// The kind recorded in wrapped blobs of this key type.
    const KIND: KeyKind;
}

/// A data-encryption key (AES-256-GCM) for PII fields and documents.
///
/// Generate one per customer (or per organization), store it wrapped by the
/// master key, and encrypt with [`DataKey::encrypt`].
#[derive(Clone)]
pub struct DataKey(pub(crate) SecretKey32);

impl DataKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(SecretKey32::generate())
    }

    /// A key from raw bytes (tests, imports).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretKey32::from_bytes(bytes))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl ZeroizeOnDrop for DataKey {}

impl sealed::Sealed for DataKey {
    fn from_secret(secret: SecretKey32) -> Self {
        Self(secret)
    }
    fn secret(&self) -> &SecretKey32 {
        &self.0
    }
}

impl VaultKey for DataKey {
    const KIND: KeyKind = KeyKind::DataKey;
}

/// An HMAC-SHA256 key for blind indexes; see [`BlindIndexKey::compute`].
#[derive(Clone)]
pub struct BlindIndexKey(pub(crate) SecretKey32);

impl BlindIndexKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(SecretKey32::generate())
    }

    /// A key from raw bytes (tests, imports).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretKey32::from_bytes(bytes))
    }
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(<redacted>)")
    }
}

impl ZeroizeOnDrop for BlindIndexKey {}

impl sealed::Sealed for BlindIndexKey {
    fn from_secret(secret: SecretKey32) -> Self {
        Self(secret)
    }
    fn secret(&self) -> &SecretKey32 {
        &self.0
    }
}

impl VaultKey for BlindIndexKey {
    const KIND: KeyKind = KeyKind::BlindIndexKey;
}

pub(crate) fn secret_of<K: VaultKey>(key: &K) -> &SecretKey32 {
    sealed::Sealed::secret(key)
}

pub(crate) fn key_from_secret<K: VaultKey>(secret: SecretKey32) -> K {
    <K as sealed::Sealed>::from_secret(secret)
}

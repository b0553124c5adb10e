//! The master key and wrapped keys: AES-256-GCM key wrapping with a context as associated data.

use std::fmt;
use std::str::FromStr;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::keys::{
    BlindIndexKey, DataKey, KeyKind, SecretKey32, VaultKey, key_from_secret, secret_of,
};
use crate::{Result, VaultError};

/// Standard base64, padding optional, as accepted for master keys.
pub(crate) const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const WRAP_DOMAIN: &[u8] = b"kycd-vault:wrap:v1\0";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// kind byte || nonce || encrypted 32-byte key || tag
const BLOB_LEN: usize = 1 + NONCE_LEN + 32 + TAG_LEN;
const TEXT_VERSION: &str = "v1";
const MAX_MASTER_KEY_ID_LEN: usize = 64;

/// The root key (256 bits). It only wraps [`DataKey`]s and [`BlindIndexKey`]s;
/// it never encrypts PII directly. Zeroized on drop; `Debug` shows only the id.
pub struct MasterKey {
    secret: SecretKey32,
    key_id: String,
}

impl MasterKey {
    /// Parse a master key from base64 text (the `KYCD_MASTER_KEY` format):
    /// standard alphabet, padding optional, surrounding whitespace ignored,
    /// exactly 32 bytes once decoded.
    pub fn from_base64(text: &str) -> Result<Self> {
        let decoded = Zeroizing::new(LENIENT_B64.decode(text.trim()).map_err(|_| {
            VaultError::InvalidMasterKey(
                "not valid base64; expected the base64 of exactly 32 random bytes \
                 (e.g. `openssl rand -base64 32`)"
                    .to_owned(),
            )
        })?);
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            VaultError::InvalidMasterKey(format!(
                "expected the base64 of exactly 32 bytes, got {} bytes",
                decoded.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// A fresh random master key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self::from_secret(SecretKey32::generate())
    }

    /// A master key from raw bytes.
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let key = Self::from_secret(SecretKey32::from_bytes(bytes));
        bytes.zeroize();
        key
    }

    fn from_secret(secret: SecretKey32) -> Self {
        let mut h = Sha256::new();
        h.update(b"kycd-master-key-id");
        h.update(secret.bytes());
        let digest = h.finalize();
        let key_id = format!("mk_{}", crate::blind::to_hex(&digest[..8]));
        Self { secret, key_id }
    }

    /// Stable, non-secret identifier: `mk_` + the first 16 hex digits of
    /// SHA-256("kycd-master-key-id" || key). Recorded in every [`WrappedKey`].
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The key as standard padded base64 (what the key file and
    /// `KYCD_MASTER_KEY` hold). Handle with care.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.secret.bytes()))
    }

    pub(crate) fn secret(&self) -> &SecretKey32 {
        &self.secret
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.secret.bytes().into())
    }

    /// Wrap (encrypt) a data key or blind-index key under this master key.
    ///
    /// `context` names the owner of the key (e.g. `"org:org_1/customer:cus_2"`)
    /// and must be given again, identical, to unwrap it.
    pub fn wrap<K: VaultKey>(&self, key: &K, context: &str) -> WrappedKey {
        self.wrap_secret(K::KIND, secret_of(key), context)
    }

    fn wrap_secret(&self, kind: KeyKind, secret: &SecretKey32, context: &str) -> WrappedKey {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = wrap_aad(kind, context);
        let ct = match self.cipher().encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.bytes(),
                aad: &aad,
            },
        ) {
            Ok(ct) => ct,
            // AES-GCM only fails on inputs of gigabytes; 32 bytes always fit.
            Err(_) => unreachable!("AES-GCM encryption of a 32-byte key cannot fail"),
        };
        let mut blob = Vec::with_capacity(BLOB_LEN);
        blob.push(kind.to_byte());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        WrappedKey {
            master_key_id: self.key_id.clone(),
            blob,
        }
    }

    /// Unwrap a [`DataKey`] wrapped by [`MasterKey::wrap`] with the same context.
    pub fn unwrap(&self, wrapped: &WrappedKey, context: &str) -> Result<DataKey> {
        self.unwrap_key(wrapped, context)
    }

    /// Unwrap a [`BlindIndexKey`] wrapped by [`MasterKey::wrap`] with the same context.
    pub fn unwrap_blind_index_key(
        &self,
        wrapped: &WrappedKey,
        context: &str,
    ) -> Result<BlindIndexKey> {
        self.unwrap_key(wrapped, context)
    }

    /// Unwrap a key of type `K`; fails if the blob holds another kind of key.
    pub fn unwrap_key<K: VaultKey>(&self, wrapped: &WrappedKey, context: &str) -> Result<K> {
        let (kind, secret) = self.unwrap_secret(wrapped, context)?;
        if kind != K::KIND {
            return Err(VaultError::KeyKindMismatch {
                expected: K::KIND,
                found: kind,
            });
        }
        Ok(key_from_secret(secret))
    }

    fn unwrap_secret(&self, wrapped: &WrappedKey, context: &str) -> Result<(KeyKind, SecretKey32)> {
        if wrapped.master_key_id != self.key_id {
            return Err(VaultError::MasterKeyMismatch {
                expected: self.key_id.clone(),
                found: sanitize_id(&wrapped.master_key_id),
            });
        }
        let kind = wrapped.kind()?;
        let nonce = &wrapped.blob[1..1 + NONCE_LEN];
        let aad = wrap_aad(kind, context);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: &wrapped.blob[1 + NONCE_LEN..],
                        aad: &aad,
                    },
                )
                .map_err(|_| VaultError::UnwrapFailed)?,
        );
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::MalformedWrappedKey("wrapped key has the wrong length"))?;
        Ok((kind, SecretKey32::from_bytes(bytes)))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ZeroizeOnDrop for MasterKey {}

/// Master-key rotation for one wrapped key: unwrap under `old`, wrap under
/// `new`, same context and kind. The data encrypted by the wrapped key is not
/// touched and stays decryptable.
///
/// Idempotent: if `wrapped` is already under `new` it is checked (unwrapped)
/// and returned unchanged, so an interrupted rotation job can simply rerun.
pub fn rewrap(
    old: &MasterKey,
    new: &MasterKey,
    wrapped: &WrappedKey,
    context: &str,
) -> Result<WrappedKey> {
    if wrapped.master_key_id == new.key_id && wrapped.master_key_id != old.key_id {
        new.unwrap_secret(wrapped, context)?;
        return Ok(wrapped.clone());
    }
    let (kind, secret) = old.unwrap_secret(wrapped, context)?;
    Ok(new.wrap_secret(kind, &secret, context))
}

fn wrap_aad(kind: KeyKind, context: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_DOMAIN.len() + 1 + context.len());
    aad.extend_from_slice(WRAP_DOMAIN);
    aad.push(kind.to_byte());
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// Keep an untrusted id printable and short before it goes into a message.
fn sanitize_id(id: &str) -> String {
    id.chars()
        .take(MAX_MASTER_KEY_ID_LEN)
        .map(|c| if is_id_char(c) { c } else { '?' })
        .collect()
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A key wrapped by a master key, as stored in the database.
///
/// Text form (for a column): `v1.<master_key_id>.<base64 blob>`, via
/// `to_string()` and `parse()`. The blob is
/// `kind (1 byte) || nonce (12) || AES-256-GCM(key) || tag (16)`; it is not
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WrappedKey {
    /// [`MasterKey::key_id`] of the master key that wrapped it.
    pub master_key_id: String,
    /// The wrapped bytes.
    pub blob: Vec<u8>,
}

impl WrappedKey {
    /// The kind of key inside, read from the (unauthenticated until unwrap) blob.
    pub fn kind(&self) -> Result<KeyKind> {
        if self.blob.len() != BLOB_LEN {
            return Err(VaultError::MalformedWrappedKey("blob has the wrong length"));
        }
        KeyKind::from_byte(self.blob[0]).ok_or(VaultError::MalformedWrappedKey("unknown key kind"))
    }
}

impl fmt::Display for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TEXT_VERSION}.{}.{}",
            self.master_key_id,
            STANDARD.encode(&self.blob)
        )
    }
}

impl FromStr for WrappedKey {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.trim().splitn(3, '.');
        let (Some(version), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::MalformedWrappedKey(
                "expected v1.<master_key_id>.<base64>",
            ));
        };
        if version != TEXT_VERSION {
            return Err(VaultError::MalformedWrappedKey("unsupported version"));
        }
        if id.is_empty() || id.len() > MAX_MASTER_KEY_ID_LEN || !id.chars().all(is_id_char) {
            return Err(VaultError::MalformedWrappedKey("invalid master key id"));
        }
        let blob = STANDARD
            .decode(b64)
            .map_err(|_| VaultError::MalformedWrappedKey("blob is not valid base64"))?;
        let wrapped = WrappedKey {
            master_key_id: id.to_owned(),
            blob,
        };
        wrapped.kind()?;
        Ok(wrapped)
    }
}

//! Field and document encryption with a [`DataKey`], bound to row and field by an [`Aad`].

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;

use crate::keys::DataKey;
use crate::{Result, VaultError};

/// First byte of every field ciphertext.
pub const FIELD_FORMAT_VERSION: u8 = 1;
/// Longest data key id (in bytes) a ciphertext can carry.
pub const MAX_KEY_ID_LEN: usize = 255;

const FIELD_DOMAIN: &[u8] = b"kycd-vault:field:v1\0";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Associated data bound into every field ciphertext: a ciphertext only
/// decrypts with the same organization, customer and field it was made for,
/// so one copied to another row or column fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aad<'a> {
    /// Owning organization id, e.g. `org_1`.
    pub organization_id: &'a str,
    /// Owning customer id, e.g. `cus_2`.
    pub customer_id: &'a str,
    /// Field or document name, e.g. `national_id` or `document:doc_3:front`.
    pub field: &'a str,
}

impl<'a> Aad<'a> {
    /// Shorthand constructor.
    pub fn new(organization_id: &'a str, customer_id: &'a str, field: &'a str) -> Self {
        Self {
            organization_id,
            customer_id,
            field,
        }
    }

    /// Unambiguous encoding: domain, the ciphertext header, then each part
    /// length-prefixed.
    fn encode(&self, header: &[u8]) -> Vec<u8> {
        let parts = [self.organization_id, self.customer_id, self.field];
        let len =
            FIELD_DOMAIN.len() + header.len() + parts.iter().map(|p| 8 + p.len()).sum::<usize>();
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(FIELD_DOMAIN);
        out.extend_from_slice(header);
        for part in parts {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// A parsed ciphertext: header (version, key id), nonce, body with tag.
struct Parsed<'c> {
    header: &'c [u8],
    key_id: &'c str,
    nonce: &'c [u8],
    body: &'c [u8],
    tag: &'c [u8],
}

fn parse(ciphertext: &[u8]) -> Result<Parsed<'_>> {
    let (&version, rest) = ciphertext
        .split_first()
        .ok_or(VaultError::MalformedCiphertext("empty"))?;
    if version != FIELD_FORMAT_VERSION {
        return Err(VaultError::MalformedCiphertext("unsupported version"));
    }
    let (&id_len, rest) = rest
        .split_first()
        .ok_or(VaultError::MalformedCiphertext("truncated header"))?;
    let id_len = usize::from(id_len);
    if id_len == 0 {
        return Err(VaultError::MalformedCiphertext("empty key id"));
    }
    if rest.len() < id_len + NONCE_LEN + TAG_LEN {
        return Err(VaultError::MalformedCiphertext("truncated"));
    }
    let (id, rest) = rest.split_at(id_len);
    let key_id = std::str::from_utf8(id)
        .map_err(|_| VaultError::MalformedCiphertext("key id is not UTF-8"))?;
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    Ok(Parsed {
        header: &ciphertext[..2 + id_len],
        key_id,
        nonce,
        body,
        tag,
    })
}

/// The data key id recorded in a ciphertext made by [`DataKey::encrypt`],
/// to find which key decrypts it. Not authenticated until decryption.
pub fn ciphertext_key_id(ciphertext: &[u8]) -> Result<&str> {
    parse(ciphertext).map(|p| p.key_id)
}

/// The data key id recorded in a ciphertext made by
/// [`DataKey::encrypt_to_string`].
pub fn string_ciphertext_key_id(ciphertext: &str) -> Result<String> {
    let bytes = STANDARD
        .decode(ciphertext.trim())
        .map_err(|_| VaultError::MalformedCiphertext("not valid base64"))?;
    ciphertext_key_id(&bytes).map(str::to_owned)
}

impl DataKey {
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.bytes().into())
    }

    /// Encrypt `plaintext` (a field value or a whole document) for the row
    /// and field named by `aad`.
    ///
    /// Output: `version (1 byte) || key_id length (1) || key_id || nonce (12,
    /// random) || AES-256-GCM ciphertext || tag (16)`. The header (version and
    /// key id) is authenticated too. `key_id` is the caller's id for this data
    /// key (1 to 255 bytes); [`ciphertext_key_id`] reads it back.
    pub fn encrypt(&self, key_id: &str, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
        if key_id.is_empty() {
            return Err(VaultError::InvalidKeyId("empty"));
        }
        let id_len = u8::try_from(key_id.len())
            .map_err(|_| VaultError::InvalidKeyId("longer than 255 bytes"))?;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);

        let header_len = 2 + key_id.len();
        let mut out = Vec::with_capacity(header_len + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(FIELD_FORMAT_VERSION);
        out.push(id_len);
        out.extend_from_slice(key_id.as_bytes());
        let aad_bytes = aad.encode(&out);
        out.extend_from_slice(&nonce);
        let body_start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher()
            .encrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                &aad_bytes,
                &mut out[body_start..],
            )
            .map_err(|_| VaultError::EncryptFailed)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypt a ciphertext made by [`DataKey::encrypt`] with the same key
    /// and the same [`Aad`]. Fails on any other key, AAD, or alteration.
    pub fn decrypt(&self, aad: &Aad<'_>, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let parsed = parse(ciphertext)?;
        let aad_bytes = aad.encode(parsed.header);
        let mut buf = parsed.body.to_vec();
        self.cipher()
            .decrypt_in_place_detached(
                Nonce::from_slice(parsed.nonce),
                &aad_bytes,
                &mut buf,
                Tag::from_slice(parsed.tag),
            )
            .map_err(|_| VaultError::DecryptFailed)?;
        Ok(buf)
    }

    /// [`DataKey::encrypt`] of UTF-8 text, as standard base64 for a text column.
    pub fn encrypt_to_string(
        &self,
        key_id: &str,
        aad: &Aad<'_>,
        plaintext: &str,
    ) -> Result<String> {
        self.encrypt(key_id, aad, plaintext.as_bytes())
            .map(|ct| STANDARD.encode(ct))
    }

    /// Inverse of [`DataKey::encrypt_to_string`].
    pub fn decrypt_from_string(&self, aad: &Aad<'_>, ciphertext: &str) -> Result<String> {
        let bytes = STANDARD
            .decode(ciphertext.trim())
            .map_err(|_| VaultError::MalformedCiphertext("not valid base64"))?;
        let plain = self.decrypt(aad, &bytes)?;
        String::from_utf8(plain).map_err(|e| {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            VaultError::NotUtf8
        })
    }
}

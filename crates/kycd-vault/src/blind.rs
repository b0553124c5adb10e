//! Blind indexes: keyed HMAC-SHA256 tokens for equality lookups on encrypted values.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::BlindIndexKey;

impl BlindIndexKey {
    /// Blind index of an already-normalized value: lowercase hex of
    /// HMAC-SHA256(key, kind || 0x00 || normalized_value).
    ///
    /// `kind` separates index namespaces (e.g. `"cpf"`, `"email"`), so equal
    /// values of different kinds never collide. Normalization (digits only,
    /// case folding, ...) is the caller's job; the same normalization must
    /// be used when writing and when searching.
    pub fn compute(&self, kind: &str, normalized_value: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.0.bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized_value.as_bytes());
        to_hex(&mac.finalize().into_bytes())
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

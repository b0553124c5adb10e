//! The audit log's MAC key: derived from the master key (HMAC-SHA256 of a
//! fixed label under the master key, so nothing is stored and every process
//! with the master key agrees on it), it MACs each audit entry's content
//! when it is written, before the hash chain covers it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::SecretKey32;
use crate::master::MasterKey;

/// The label the audit MAC key is derived under (a new label, a new key).
const AUDIT_LABEL: &[u8] = b"kycd-vault:derive:v1\0audit-log-mac";

/// An HMAC-SHA256 key for audit entries; see [`AuditKey::mac`].
#[derive(Clone)]
pub struct AuditKey(SecretKey32);

impl MasterKey {
    /// The audit log's MAC key, derived from this master key.
    pub fn audit_key(&self) -> AuditKey {
        let mut mac = hmac_with(self.secret().bytes());
        mac.update(AUDIT_LABEL);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&mac.finalize().into_bytes());
        let key = AuditKey(SecretKey32::from_bytes(bytes));
        zeroize::Zeroize::zeroize(&mut bytes);
        key
    }
}

fn hmac_with(key: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

impl AuditKey {
    /// Lowercase hex of HMAC-SHA256(key, content).
    pub fn mac(&self, content: &[u8]) -> String {
        let mut mac = hmac_with(self.0.bytes());
        mac.update(content);
        crate::blind::to_hex(&mac.finalize().into_bytes())
    }

    /// Whether `mac_hex` is the MAC of `content` (compared in constant time).
    pub fn verify(&self, content: &[u8], mac_hex: &str) -> bool {
        let Some(tag) = from_hex(mac_hex) else {
            return false;
        };
        let mut mac = hmac_with(self.0.bytes());
        mac.update(content);
        mac.verify_slice(&tag).is_ok()
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_master_key_one_audit_key_and_altered_content_fails() {
        let master = MasterKey::from_bytes([7; 32]);
        let (a, b) = (master.audit_key(), master.audit_key());
        let mac = a.mac(b"entry");
        assert_eq!(mac, b.mac(b"entry"), "derived, not random");
        assert!(b.verify(b"entry", &mac));
        assert!(!b.verify(b"entrY", &mac));
        assert!(!b.verify(b"entry", "zz"));
        let other = MasterKey::from_bytes([8; 32]).audit_key();
        assert!(
            !other.verify(b"entry", &mac),
            "another master key, another MAC"
        );
    }
}

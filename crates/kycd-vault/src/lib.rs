//! kycd-vault: envelope encryption of PII (AES-256-GCM) and keyed blind indexes.
//!
//! Key hierarchy:
//!
//! * a [`MasterKey`] (from `KYCD_MASTER_KEY` or a key file, see
//!   [`load_or_create_key_file`]) never touches PII; it only wraps other keys;
//! * [`DataKey`]s encrypt fields and documents ([`DataKey::encrypt`]), each
//!   ciphertext bound to its row and field through an [`Aad`];
//! * [`BlindIndexKey`]s compute deterministic HMAC tokens
//!   ([`BlindIndexKey::compute`]) so that encrypted values can still be looked
//!   up by equality.
//!
//! * an [`AuditKey`] ([`MasterKey::audit_key`], derived from the master key,
//!   never stored) MACs the audit log's entries.
//!
//! Both data keys and blind-index keys are stored wrapped by the master key
//! ([`MasterKey::wrap`], [`WrappedKey`]); rotating the master key means
//! re-wrapping them ([`rewrap`]), never re-encrypting the data.
//!
//! ```
//! use kycd_vault::{Aad, BlindIndexKey, DataKey, MasterKey, WrappedKey};
//!
//! let master = MasterKey::generate();
//! let ctx = "org:org_1/customer:cus_2";
//!
//! // New customer: a data key, stored wrapped.
//! let dek = DataKey::generate();
//! let column: String = master.wrap(&dek, ctx).to_string();
//!
//! // Encrypt a field, bound to its row and field.
//! let aad = Aad::new("org_1", "cus_2", "national_id");
//! let ct = dek.encrypt_to_string("dk_1", &aad, "12345678909")?;
//!
//! // Later: unwrap and decrypt.
//! let dek = master.unwrap(&column.parse::<WrappedKey>()?, ctx)?;
//! assert_eq!(dek.decrypt_from_string(&aad, &ct)?, "12345678909");
//!
//! // Equality search without decrypting.
//! let bik = BlindIndexKey::generate();
//! assert_eq!(bik.compute("cpf", "12345678909"), bik.compute("cpf", "12345678909"));
//! # Ok::<(), kycd_vault::VaultError>(())
//! ```
//!
//! Nothing in this crate logs, and no error message carries key or plaintext
//! bytes.

mod audit_key;
mod blind;
mod error;
mod field;
mod keyfile;
mod keys;
mod master;

pub use audit_key::AuditKey;
pub use error::VaultError;
pub use field::{
    Aad, FIELD_FORMAT_VERSION, MAX_KEY_ID_LEN, ciphertext_key_id, string_ciphertext_key_id,
};
pub use keyfile::{key_file_too_open, load_key_file, load_or_create_key_file, replace_key_file};
pub use keys::{BlindIndexKey, DataKey, KeyKind, VaultKey};
pub use master::{MasterKey, WrappedKey, rewrap};
pub use zeroize::Zeroizing;

/// Result alias for this crate.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

#[cfg(test)]
mod zeroize_tests {
    /// Compiles only when `aes/zeroize` is enabled (aes-gcm's own `zeroize`
    /// feature does not reach the block cipher): expanded round keys are wiped.
    #[test]
    fn the_aes_round_keys_are_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<aes::Aes256>();
    }
}

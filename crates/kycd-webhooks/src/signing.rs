//! Standard Webhooks signatures: `whsec_` secrets, `v1,<base64 HMAC-SHA256>` signatures, verification.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the send time, integer seconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Prefix of symmetric secrets.
pub const SECRET_PREFIX: &str = "whsec_";
/// Shortest secret allowed by the specification, in bytes.
pub const MIN_SECRET_BYTES: usize = 24;
/// Longest secret allowed by the specification, in bytes.
pub const MAX_SECRET_BYTES: usize = 64;
/// Usual timestamp tolerance for [`verify`] (five minutes).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Size of secrets made by [`generate_secret`].
const GENERATED_SECRET_BYTES: usize = 32;

/// Standard base64, padding optional (secrets made by other tools may omit it).
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A signing secret that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The part after `whsec_` is not base64.
    #[error("webhook secret is not valid base64 after the whsec_ prefix")]
    InvalidBase64,
    /// The decoded secret is shorter than 24 or longer than 64 bytes.
    #[error("webhook secret must decode to 24 to 64 bytes, got {0}")]
    InvalidLength(usize),
    /// [`signature_header`] was given no secret.
    #[error("no webhook secret to sign with")]
    NoSecrets,
}

/// Why [`verify`] rejected a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The verifying secret itself is unusable.
    #[error(transparent)]
    InvalidSecret(#[from] SecretError),
    /// `webhook-timestamp` is not an integer.
    #[error("invalid webhook-timestamp header")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows (possible replay).
    #[error("message timestamp too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    #[error("message timestamp too new")]
    TimestampTooNew,
    /// `webhook-signature` holds no `v1` signature.
    #[error("no v1 signature in webhook-signature header")]
    NoSignatures,
    /// No `v1` signature matches.
    #[error("no matching signature")]
    SignatureMismatch,
}

/// A decoded signing secret. `Debug` does not show it.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// Decode `whsec_<base64>` (the prefix is optional, as in the reference
    /// libraries); the key must be 24 to 64 bytes.
    pub fn parse(secret: &str) -> Result<Self, SecretError> {
        let b64 = secret.trim();
        let b64 = b64.strip_prefix(SECRET_PREFIX).unwrap_or(b64);
        let key = LENIENT_B64
            .decode(b64)
            .map_err(|_| SecretError::InvalidBase64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(SecretError::InvalidLength(key.len()));
        }
        Ok(Self { key })
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// `v1,<base64 HMAC-SHA256(key, msg_id "." timestamp "." body)>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(msg_id, timestamp, body)))
    }

    /// Whether any `v1` signature in `sig_header` is this secret's signature
    /// (constant-time comparison). Does not check the timestamp; see [`verify`].
    fn matches(
        &self,
        msg_id: &str,
        timestamp: i64,
        sig_header: &str,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let expected = self.mac(msg_id, timestamp, body);
        let mut seen_v1 = false;
        let mut matched = subtle::Choice::from(0);
        for sig in sig_header.split_ascii_whitespace() {
            let Some((version, value)) = sig.split_once(',') else {
                continue;
            };
            if version != "v1" {
                continue;
            }
            seen_v1 = true;
            if let Ok(candidate) = STANDARD.decode(value) {
                matched |= candidate.as_slice().ct_eq(&expected);
            }
        }
        if bool::from(matched) {
            Ok(())
        } else if seen_v1 {
            Err(VerifyError::SignatureMismatch)
        } else {
            Err(VerifyError::NoSignatures)
        }
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A new secret: `whsec_` + base64 of 32 random bytes from the OS CSPRNG.
pub fn generate_secret() -> String {
    let mut key = [0u8; GENERATED_SECRET_BYTES];
    OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `v1,<base64>` signature of one message under one secret.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SecretError> {
    Ok(WebhookSecret::parse(secret)?.sign(msg_id, timestamp, body))
}

/// The `webhook-signature` header value: the signatures under each secret,
/// in order, separated by single spaces. During a secret rotation pass both
/// the new and the old secret so receivers on either keep verifying.
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SecretError> {
    if secrets.is_empty() {
        return Err(SecretError::NoSecrets);
    }
    let sigs = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sigs.join(" "))
}

/// Verify a received message: the timestamp must be within `tolerance_secs`
/// of `now` (both Unix seconds) in either direction, and at least one of the
/// space-separated `v1` signatures in `sig_header` must match (other versions
/// are ignored). Signatures are compared in constant time.
pub fn verify(
    secret: &str,
    msg_id: &str,
    ts_header: &str,
    sig_header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let secret = WebhookSecret::parse(secret)?;
    let timestamp: i64 = ts_header
        .trim()
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now.abs_diff(timestamp) > tolerance {
        return Err(if timestamp < now {
            VerifyError::TimestampTooOld
        } else {
            VerifyError::TimestampTooNew
        });
    }
    secret.matches(msg_id, timestamp, sig_header, body)
}

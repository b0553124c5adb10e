//! Inbound provider webhooks signed with a payload digest, as Sumsub does:
//! `X-Payload-Digest` = hex HMAC of the raw body under the webhook secret,
//! with the algorithm named in `X-Payload-Digest-Alg` (`HMAC_SHA1_HEX` when
//! absent, `HMAC_SHA256_HEX`, `HMAC_SHA512_HEX`), compared in constant time.

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

/// Why a payload digest was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("missing or malformed X-Payload-Digest")]
    Malformed,
    #[error("unsupported X-Payload-Digest-Alg")]
    UnsupportedAlgorithm,
    #[error("the payload signature does not match")]
    Mismatch,
}

fn hmac_bytes<M: Mac + hmac::digest::KeyInit>(secret: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks `digest` (hex, either case, surrounding spaces ignored) over `body`
/// with the algorithm `alg` (the header values as received, `None` when absent).
pub fn verify_payload_digest(
    secret: &[u8],
    alg: Option<&str>,
    digest: Option<&str>,
    body: &[u8],
) -> Result<(), DigestError> {
    let digest = digest
        .and_then(|d| hex::decode(d.trim().to_ascii_lowercase()).ok())
        .ok_or(DigestError::Malformed)?;
    let expected = match alg.map(str::trim).unwrap_or("HMAC_SHA1_HEX") {
        "HMAC_SHA1_HEX" => hmac_bytes::<Hmac<sha1::Sha1>>(secret, body),
        "HMAC_SHA256_HEX" => hmac_bytes::<Hmac<Sha256>>(secret, body),
        "HMAC_SHA512_HEX" => hmac_bytes::<Hmac<Sha512>>(secret, body),
        _ => return Err(DigestError::UnsupportedAlgorithm),
    };
    if bool::from(subtle::ConstantTimeEq::ct_eq(
        digest.as_slice(),
        expected.as_slice(),
    )) {
        Ok(())
    } else {
        Err(DigestError::Mismatch)
    }
}

/// The digest a sender computes (hex, lowercase): for tests and fakes.
pub fn payload_digest(secret: &[u8], alg: &str, body: &[u8]) -> Option<String> {
    let bytes = match alg {
        "HMAC_SHA1_HEX" => hmac_bytes::<Hmac<sha1::Sha1>>(secret, body),
        "HMAC_SHA256_HEX" => hmac_bytes::<Hmac<Sha256>>(secret, body),
        "HMAC_SHA512_HEX" => hmac_bytes::<Hmac<Sha512>>(secret, body),
        _ => return None,
    };
    Some(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_and_a_changed_byte_fails() {
        for alg in ["HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"] {
            let d = payload_digest(b"s3cret", alg, b"{}").unwrap();
            assert_eq!(
                verify_payload_digest(b"s3cret", Some(alg), Some(&d.to_uppercase()), b"{}"),
                Ok(())
            );
            assert_eq!(
                verify_payload_digest(b"s3cret", Some(alg), Some(&d), b"{ }"),
                Err(DigestError::Mismatch)
            );
        }
        // SHA-1 when the algorithm header is absent (Sumsub's default).
        let d = payload_digest(b"k", "HMAC_SHA1_HEX", b"x").unwrap();
        assert_eq!(verify_payload_digest(b"k", None, Some(&d), b"x"), Ok(()));
        assert_eq!(
            verify_payload_digest(b"k", Some("MD5"), Some(&d), b"x"),
            Err(DigestError::UnsupportedAlgorithm)
        );
        assert_eq!(
            verify_payload_digest(b"k", None, Some("zz"), b"x"),
            Err(DigestError::Malformed)
        );
        assert_eq!(
            verify_payload_digest(b"k", None, None, b"x"),
            Err(DigestError::Malformed)
        );
    }
}

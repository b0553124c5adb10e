//! The signature headers kycd verifies or produces: Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and Sumsub's
//! `X-Payload-Digest`. No header value panics; a forged header never verifies,
//! and what kycd signs always does.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fuzz_target!(|data: &[u8]| {
    // id \x00 timestamp \x00 signature header \x00 body
    let mut parts = data.splitn(4, |b| *b == 0);
    let text = |p: Option<&[u8]>| String::from_utf8_lossy(p.unwrap_or_default()).into_owned();
    let (id, ts, sig) = (text(parts.next()), text(parts.next()), text(parts.next()));
    let body = parts.next().unwrap_or_default();
    let now = 1_700_000_000;
    if kycd_webhooks::verify(SECRET, &id, &ts, &sig, body, now, 300).is_ok() {
        // Only a header holding the real signature may verify.
        let t: i64 = ts.trim().parse().expect("a verified timestamp parses");
        let real = kycd_webhooks::sign(SECRET, &id, t, body).expect("a valid secret");
        assert!(
            sig.split_ascii_whitespace().any(|s| s == real),
            "forged signature accepted"
        );
    }
    let signed = kycd_webhooks::sign(SECRET, &id, now, body).expect("a valid secret");
    assert!(kycd_webhooks::verify(SECRET, &id, &now.to_string(), &signed, body, now, 300).is_ok());
    // Sumsub's digest, with the fuzzed text as algorithm and digest.
    let _ = kycd_webhooks::verify_payload_digest(b"sumsub-secret", Some(&id), Some(&ts), body);
    for alg in ["HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"] {
        let d =
            kycd_webhooks::payload_digest(b"sumsub-secret", alg, body).expect("a known algorithm");
        assert!(
            kycd_webhooks::verify_payload_digest(b"sumsub-secret", Some(alg), Some(&d), body)
                .is_ok()
        );
    }
});

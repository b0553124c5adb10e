//! Tests of Standard Webhooks signing and verification.

use kycd_webhooks::{
    DEFAULT_TOLERANCE_SECS, SecretError, VerifyError, WebhookSecret, generate_secret, sign,
    signature_header, verify,
};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const MSG_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const TS: i64 = 1649367553;
const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const EXPECTED: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

#[test]
fn standard_webhooks_vector() {
    assert_eq!(sign(SECRET, MSG_ID, TS, BODY).unwrap(), EXPECTED);
    assert_eq!(
        WebhookSecret::parse(SECRET).unwrap().sign(MSG_ID, TS, BODY),
        EXPECTED
    );
    // Prefix optional, as in the reference libraries.
    assert_eq!(
        sign("C2FVsBQIhrscChlQIMV+b5sSYspob7oD", MSG_ID, TS, BODY).unwrap(),
        EXPECTED
    );
    verify(
        SECRET,
        MSG_ID,
        "1649367553",
        EXPECTED,
        BODY,
        TS,
        DEFAULT_TOLERANCE_SECS,
    )
    .unwrap();
}

#[test]
fn generated_secrets_are_valid_and_distinct() {
    let a = generate_secret();
    let b = generate_secret();
    assert_ne!(a, b);
    assert!(a.starts_with("whsec_"));
    assert_eq!(a.len(), "whsec_".len() + 44); // 32 bytes
    let sig = sign(&a, MSG_ID, TS, BODY).unwrap();
    verify(&a, MSG_ID, &TS.to_string(), &sig, BODY, TS, 300).unwrap();
    assert_eq!(
        verify(&b, MSG_ID, &TS.to_string(), &sig, BODY, TS, 300),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn invalid_secrets_are_rejected() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        sign("whsec_%%%", MSG_ID, TS, BODY),
        Err(SecretError::InvalidBase64)
    );
    assert_eq!(
        sign("", MSG_ID, TS, BODY),
        Err(SecretError::InvalidLength(0))
    );
    for (len, ok) in [(23, false), (24, true), (32, true), (64, true), (65, false)] {
        let s = format!("whsec_{}", b64.encode(vec![7u8; len]));
        assert_eq!(sign(&s, MSG_ID, TS, BODY).is_ok(), ok, "{len}");
    }
    assert_eq!(
        verify("whsec_x", MSG_ID, "1", EXPECTED, BODY, 1, 300),
        Err(VerifyError::InvalidSecret(SecretError::InvalidBase64))
    );
    assert_eq!(
        format!("{:?}", WebhookSecret::parse(SECRET).unwrap()),
        "WebhookSecret(<redacted>)"
    );
    assert_eq!(
        signature_header(&[], MSG_ID, TS, BODY),
        Err(SecretError::NoSecrets)
    );
    assert_eq!(
        signature_header(&[SECRET, "whsec_bad!"], MSG_ID, TS, BODY),
        Err(SecretError::InvalidBase64)
    );
}

#[test]
fn rotation_header_verifies_under_either_secret() {
    let new = generate_secret();
    let header = signature_header(&[&new, SECRET], MSG_ID, TS, BODY).unwrap();
    let parts: Vec<&str> = header.split(' ').collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0], sign(&new, MSG_ID, TS, BODY).unwrap());
    assert_eq!(parts[1], EXPECTED);
    let ts = TS.to_string();
    verify(&new, MSG_ID, &ts, &header, BODY, TS, 300).unwrap();
    verify(SECRET, MSG_ID, &ts, &header, BODY, TS, 300).unwrap();
    let stranger = generate_secret();
    assert_eq!(
        verify(&stranger, MSG_ID, &ts, &header, BODY, TS, 300),
        Err(VerifyError::SignatureMismatch)
    );
    // One secret gives a single signature.
    assert_eq!(
        signature_header(&[SECRET], MSG_ID, TS, BODY).unwrap(),
        EXPECTED
    );
}

#[test]
fn timestamp_tolerance_window() {
    let ts = TS.to_string();
    let v = |now: i64, tol: i64| verify(SECRET, MSG_ID, &ts, EXPECTED, BODY, now, tol);
    assert_eq!(v(TS, 300), Ok(()));
    assert_eq!(v(TS + 300, 300), Ok(()));
    assert_eq!(v(TS - 300, 300), Ok(()));
    assert_eq!(v(TS + 301, 300), Err(VerifyError::TimestampTooOld));
    assert_eq!(v(TS - 301, 300), Err(VerifyError::TimestampTooNew));
    assert_eq!(v(TS, 0), Ok(()));
    assert_eq!(v(TS + 1, 0), Err(VerifyError::TimestampTooOld));
    // Negative tolerance counts as zero; extreme values do not overflow.
    assert_eq!(v(TS + 1, -5), Err(VerifyError::TimestampTooOld));
    assert_eq!(v(i64::MAX, i64::MAX), Ok(()));
    assert_eq!(v(i64::MIN, 300), Err(VerifyError::TimestampTooNew));
    let huge = i64::MIN.to_string();
    assert_eq!(
        verify(SECRET, MSG_ID, &huge, EXPECTED, BODY, i64::MAX, 300),
        Err(VerifyError::TimestampTooOld)
    );
}

#[test]
fn bad_timestamp_headers() {
    for ts in ["", "abc", "1649367553.5", "1e9", "99999999999999999999"] {
        assert_eq!(
            verify(SECRET, MSG_ID, ts, EXPECTED, BODY, TS, 300),
            Err(VerifyError::InvalidTimestamp),
            "{ts:?}"
        );
    }
    // Surrounding whitespace is tolerated.
    verify(SECRET, MSG_ID, " 1649367553 ", EXPECTED, BODY, TS, 300).unwrap();
    // The signature covers the timestamp: another one in the window fails.
    assert_eq!(
        verify(SECRET, MSG_ID, "1649367554", EXPECTED, BODY, TS, 300),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampering_fails() {
    let ts = TS.to_string();
    let tampered_body = br#"{"email":"evil@example.com","username":"test_user"}"#;
    assert_eq!(
        verify(SECRET, MSG_ID, &ts, EXPECTED, tampered_body, TS, 300),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        verify(SECRET, "msg_other", &ts, EXPECTED, BODY, TS, 300),
        Err(VerifyError::SignatureMismatch)
    );
    let mut extra = BODY.to_vec();
    extra.push(b' ');
    assert_eq!(
        verify(SECRET, MSG_ID, &ts, EXPECTED, &extra, TS, 300),
        Err(VerifyError::SignatureMismatch)
    );
    // A flipped signature character, a truncated one, garbage.
    let flipped = EXPECTED.replace("tZ1", "tZ2");
    for sig in [
        flipped.as_str(),
        &EXPECTED[..EXPECTED.len() - 2],
        "v1,!!!!",
        "v1,",
        "v1,AAAA",
    ] {
        assert_eq!(
            verify(SECRET, MSG_ID, &ts, sig, BODY, TS, 300),
            Err(VerifyError::SignatureMismatch),
            "{sig}"
        );
    }
}

#[test]
fn signature_header_parsing() {
    let ts = TS.to_string();
    let ok = |h: &str| verify(SECRET, MSG_ID, &ts, h, BODY, TS, 300);
    // Any of several signatures; other versions ignored; extra spaces tolerated.
    assert_eq!(ok(&format!("v1,AAAA {EXPECTED}")), Ok(()));
    assert_eq!(ok(&format!("v1a,xyz  {EXPECTED} v2,abc")), Ok(()));
    assert_eq!(ok(&format!("  {EXPECTED}  ")), Ok(()));
    // No v1 signature at all.
    for h in [
        "",
        "   ",
        "v1a,abc",
        "garbage",
        "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    ] {
        assert_eq!(ok(h), Err(VerifyError::NoSignatures), "{h:?}");
    }
    // The version tag must be exactly v1.
    assert_eq!(
        ok(&EXPECTED.replacen("v1", "V1", 1)),
        Err(VerifyError::NoSignatures)
    );
}

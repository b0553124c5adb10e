//! The identifier and contact validators: no input panics, and a value they
//! accept is normalised for good (validating the normalised value again
//! gives the same value back).
#![no_main]

use kycd_core::validate;
use libfuzzer_sys::fuzz_target;

fn idempotent(name: &str, f: impl Fn(&str) -> Result<String, validate::ValidationError>, s: &str) {
    if let Ok(norm) = f(s) {
        let again =
            f(&norm).unwrap_or_else(|e| panic!("{name}: {norm:?} accepted once, then {e:?}"));
        assert_eq!(again, norm, "{name}: not stable");
        let _ = validate::last4(&norm);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = validate::IDENTIFIER_KINDS[selector as usize % validate::IDENTIFIER_KINDS.len()];
    idempotent(kind, |v| validate::identifier(kind, v), s);
    idempotent("email", validate::email, s);
    idempotent("phone", validate::phone_e164, s);
    idempotent("country", validate::country, s);
    let _ = validate::date(s);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();
    let _ = validate::date_of_birth(s, today);
    let _ = validate::digits_only(s);
});

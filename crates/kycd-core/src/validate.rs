//! Validators for identifiers and contact data: pure functions returning the normalised value.
//!
//! Conventions shared by every validator here:
//!
//! * Surrounding whitespace is trimmed; an empty (or all-whitespace) input is [`codes::EMPTY`].
//! * Only ASCII digits count as digits: `"٣"` or fullwidth `"５"` are rejected, never converted.
//! * On success the *normalised* value is returned (numbers: digits only, no punctuation).
//! * On failure a [`ValidationError`] carries a stable machine `code` (see [`codes`]) and a human
//!   `message`. The message **never contains the input value**: these are sensitive identifiers,
//!   so it describes the rule that failed ("CPF check digits do not match"), not the number.
//! * No function panics, whatever the input (huge, NUL, emoji, combining marks, ...).

use chrono::{Datelike, NaiveDate};

use crate::countries;

/// The stable machine codes a [`ValidationError`] can carry.
pub mod codes {
    /// The input is empty or only whitespace.
    pub const EMPTY: &str = "empty";
    /// The input contains characters or a shape the format does not allow.
    pub const INVALID_FORMAT: &str = "invalid_format";
    /// The input has the wrong number of digits or characters.
    pub const INVALID_LENGTH: &str = "invalid_length";
    /// The check digits do not match.
    pub const INVALID_CHECKSUM: &str = "invalid_checksum";
    /// Well-formed, but a known-invalid value (all-same digits, unassigned country code, ...).
    pub const INVALID_VALUE: &str = "invalid_value";
    /// A part of the value lies outside its allowed range (SSN area, EIN prefix, dates, ...).
    pub const OUT_OF_RANGE: &str = "out_of_range";
    /// `YYYY-MM-DD` shaped but not a real calendar date (e.g. 2023-02-29).
    pub const INVALID_DATE: &str = "invalid_date";
    /// [`identifier`](super::identifier) was given a kind it does not know.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
}

/// Why a value was rejected. `message` never contains the rejected value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// Stable machine-readable code, one of [`codes`].
    pub code: &'static str,
    /// Human-readable explanation of the rule that failed (never the input).
    pub message: String,
}

impl ValidationError {
    /// Builds an error. `message` must not contain the input value.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Result of a validator.
pub type Result<T> = std::result::Result<T, ValidationError>;

/// The kinds [`identifier`] accepts, in lowercase (matching is exact).
pub const IDENTIFIER_KINDS: &[&str] = &[
    "cpf",
    "cnpj",
    "ssn",
    "itin",
    "ein",
    "passport",
    "national_id",
    "tax_id",
    "drivers_license",
];

fn err(code: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(code, message)
}

fn required(label: &str) -> ValidationError {
    err(codes::EMPTY, format!("{label} is required"))
}

/// Trims `s`, then keeps the characters accepted by `keep` (ASCII-uppercased), skipping the
/// `separators` (described in words by `separator_names`); anything else is a format error. Exactly `len` kept characters are required
/// (stops early on longer input, so huge strings cost nothing).
fn compact(
    s: &str,
    label: &str,
    len: usize,
    separators: &[char],
    separator_names: &str,
    keep: fn(char) -> bool,
    allowed: &str,
) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(required(label));
    }
    let too_long = || {
        err(
            codes::INVALID_LENGTH,
            format!("{label} must have exactly {len} {allowed}"),
        )
    };
    let mut out = String::with_capacity(len);
    for c in s.chars() {
        if keep(c) {
            if out.len() == len {
                return Err(too_long());
            }
            out.push(c.to_ascii_uppercase());
        } else if !separators.contains(&c) {
            return Err(err(
                codes::INVALID_FORMAT,
                format!("{label} may contain only {allowed}, {separator_names}"),
            ));
        }
    }
    if out.len() != len {
        return Err(too_long());
    }
    Ok(out)
}

/// Compacts a purely numeric identifier of `len` digits.
fn compact_digits(
    s: &str,
    label: &str,
    len: usize,
    separators: &[char],
    separator_names: &str,
) -> Result<String> {
    compact(
        s,
        label,
        len,
        separators,
        separator_names,
        |c| c.is_ascii_digit(),
        "digits",
    )
}

fn all_same(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(first) => bytes.all(|b| b == first),
        None => false,
    }
}

/// Numeric values of ASCII digits (`b'0'..=b'9'`) — callers pass validated digits only.
fn digit_values(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b.wrapping_sub(b'0'))).collect()
}

/// Parses three to four validated ASCII digits into a number.
fn number(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

/// Brazilian CPF (individual taxpayer number): 11 digits, two mod-11 check digits.
///
/// Accepts `"529.982.247-25"`, `"52998224725"` (dots, dashes and spaces are ignored wherever
/// they appear). Rejects all-same-digit numbers (e.g. `111.111.111-11`), which pass the checksum
/// but are never issued. Returns the 11 digits.
pub fn cpf(s: &str) -> Result<String> {
    let digits = compact_digits(s, "CPF", 11, &['.', '-', ' '], "dots, dashes and spaces")?;
    if all_same(&digits) {
        return Err(err(
            codes::INVALID_VALUE,
            "CPF cannot have all digits the same",
        ));
    }
    let d = digit_values(&digits);
    let check = |body: &[u32]| {
        let top = body.len() as u32 + 1;
        let sum: u32 = body.iter().zip((2..=top).rev()).map(|(v, w)| v * w).sum();
        let r = sum * 10 % 11;
        if r == 10 { 0 } else { r }
    };
    let first = check(&d[..9]);
    let second = check(&d[..10]);
    if first != d[9] || second != d[10] {
        return Err(err(
            codes::INVALID_CHECKSUM,
            "CPF check digits do not match",
        ));
    }
    Ok(digits)
}

/// Brazilian CNPJ (company registration number): 14 characters, two mod-11 check digits.
///
/// Accepts `"11.222.333/0001-81"` or `"11222333000181"` (dots, slashes, dashes and spaces are
/// ignored). Also accepts the alphanumeric CNPJ issued from July 2026: the first 12 positions
/// may be `0-9A-Z` (lowercase is uppercased), each valued as its ASCII code − 48; the last two
/// (the check digits) are always digits. Weights 5,4,3,2,9,8,7,6,5,4,3,2 then 6,5,4,3,2,9,...,2;
/// remainder < 2 → 0, else 11 − remainder. Rejects all-same-character values. Returns the 14
/// characters, uppercase.
pub fn cnpj(s: &str) -> Result<String> {
    let value = compact(
        s,
        "CNPJ",
        14,
        &['.', '/', '-', ' '],
        "dots, slashes, dashes and spaces",
        |c| c.is_ascii_alphanumeric(),
        "letters or digits",
    )?;
    if !value.bytes().skip(12).all(|b| b.is_ascii_digit()) {
        return Err(err(
            codes::INVALID_FORMAT,
            "CNPJ check digits (last two characters) must be digits",
        ));
    }
    if all_same(&value) {
        return Err(err(
            codes::INVALID_VALUE,
            "CNPJ cannot have all characters the same",
        ));
    }
    let v = digit_values(&value); // ASCII − 48: '0'..'9' → 0..9, 'A'..'Z' → 17..42
    const WEIGHTS: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let check = |body: &[u32]| {
        let weights = WEIGHTS.iter().skip(WEIGHTS.len() - body.len());
        let sum: u32 = body.iter().zip(weights).map(|(v, w)| v * w).sum();
        let r = sum % 11;
        if r < 2 { 0 } else { 11 - r }
    };
    let first = check(&v[..12]);
    let second = check(&v[..13]);
    if first != v[12] || second != v[13] {
        return Err(err(
            codes::INVALID_CHECKSUM,
            "CNPJ check digits do not match",
        ));
    }
    Ok(value)
}

/// US Social Security Number: `"123-45-6789"` or 9 digits.
///
/// Area (first 3) 000, 666 and 900–999 are never SSNs (9xx are ITINs); group (digits 4–5) 00
/// and serial (last 4) 0000 are invalid; the two famously misused numbers 078-05-1120
/// (Woolworth wallet card) and 219-09-9999 (advertisement) are rejected. Returns the 9 digits.
pub fn ssn(s: &str) -> Result<String> {
    let digits = compact_digits(s, "SSN", 9, &['-', ' '], "dashes and spaces")?;
    let area = number(&digits[..3]);
    if area == 0 || area == 666 || area >= 900 {
        return Err(err(
            codes::OUT_OF_RANGE,
            "SSN area number (first three digits) is never assigned",
        ));
    }
    if number(&digits[3..5]) == 0 {
        return Err(err(
            codes::OUT_OF_RANGE,
            "SSN group number (digits 4-5) cannot be all zeros",
        ));
    }
    if number(&digits[5..]) == 0 {
        return Err(err(
            codes::OUT_OF_RANGE,
            "SSN serial number (last four digits) cannot be all zeros",
        ));
    }
    if digits == "078051120" || digits == "219099999" {
        return Err(err(
            codes::INVALID_VALUE,
            "SSN is a publicly known invalid number",
        ));
    }
    Ok(digits)
}

/// US Individual Taxpayer Identification Number: 9 digits (`"9XX-7X-XXXX"`), starting with 9,
/// group (digits 4–5) in 50–65, 70–88, 90–92 or 94–99. Returns the 9 digits.
pub fn itin(s: &str) -> Result<String> {
    let digits = compact_digits(s, "ITIN", 9, &['-', ' '], "dashes and spaces")?;
    if !digits.starts_with('9') {
        return Err(err(codes::OUT_OF_RANGE, "ITIN must start with 9"));
    }
    let group = number(&digits[3..5]);
    if !matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99) {
        return Err(err(
            codes::OUT_OF_RANGE,
            "ITIN group (digits 4-5) must be in 50-65, 70-88, 90-92 or 94-99",
        ));
    }
    Ok(digits)
}

/// Whether a two-digit prefix is a valid IRS EIN campus prefix, per the IRS list "How EINs are
/// assigned and valid EIN prefixes": Andover 10, 12; Atlanta 60, 67; Austin 50, 53; Brookhaven
/// 01–06, 11, 13, 14, 16, 21–23, 25, 34, 51, 52, 54–59, 65; Cincinnati 30, 32, 35–38, 61; Fresno
/// 15, 24; Internet 20, 26, 27, 45–47, 81; Kansas City 40, 44; Memphis 94, 95; Ogden 80, 90;
/// Philadelphia 33, 39, 41–43, 48, 62–64, 66, 68, 71–77, 82–88, 91–93, 98, 99; SBA 31.
/// Unassigned: 00, 07–09, 17–19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97.
fn is_ein_prefix(prefix: u32) -> bool {
    matches!(
        prefix,
        1..=6 | 10..=16 | 20..=27 | 30..=48 | 50..=68 | 71..=77 | 80..=88 | 90..=95 | 98 | 99
    )
}

/// US Employer Identification Number: `"12-3456789"` or 9 digits, with a valid IRS campus prefix
/// (first two digits). Returns the 9 digits.
pub fn ein(s: &str) -> Result<String> {
    let digits = compact_digits(s, "EIN", 9, &['-', ' '], "dashes and spaces")?;
    if !is_ein_prefix(number(&digits[..2])) {
        return Err(err(
            codes::OUT_OF_RANGE,
            "EIN prefix (first two digits) is not a valid IRS campus prefix",
        ));
    }
    Ok(digits)
}

/// `atext` of RFC 5322 (the characters allowed in an unquoted local part, besides dots).
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// Pragmatic RFC 5321 mailbox check (ASCII only; no quoted local parts, IP literals or comments).
///
/// Exactly one `@`; local part 1–64 characters of atext and dots, with no leading, trailing or
/// double dot; domain of at least two dot-separated labels, each 1–63 letters, digits or hyphens
/// not starting or ending with a hyphen; the TLD alphabetic with at least 2 letters, or punycode
/// (`xn--...`); total at most 254 characters. Returns the address with the domain lowercased
/// (the local part keeps its case).
pub fn email(s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(required("email"));
    }
    if s.len() > 254 {
        return Err(err(
            codes::INVALID_LENGTH,
            "email must be at most 254 characters",
        ));
    }
    if !s.is_ascii() {
        return Err(err(
            codes::INVALID_FORMAT,
            "email must contain only ASCII characters (use punycode for international domains)",
        ));
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err(err(codes::INVALID_FORMAT, "email must contain an @"));
    };
    if domain.contains('@') {
        return Err(err(
            codes::INVALID_FORMAT,
            "email must contain exactly one @",
        ));
    }
    if local.is_empty() || local.len() > 64 {
        return Err(err(
            codes::INVALID_LENGTH,
            "email local part must be 1-64 characters",
        ));
    }
    if !local.bytes().all(|b| b == b'.' || is_atext(b)) {
        return Err(err(
            codes::INVALID_FORMAT,
            "email local part contains a character that is not allowed",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(err(
            codes::INVALID_FORMAT,
            "email local part cannot start or end with a dot or contain two dots in a row",
        ));
    }
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(err(
            codes::INVALID_FORMAT,
            "email domain must contain at least one dot",
        ));
    }
    for label in &labels {
        let ok = (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(err(
                codes::INVALID_FORMAT,
                "email domain labels must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen",
            ));
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok =
        (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_lowercase())) || tld.starts_with("xn--");
    if !tld_ok {
        return Err(err(
            codes::INVALID_FORMAT,
            "email top-level domain must be at least two letters",
        ));
    }
    Ok(format!("{local}@{domain}"))
}

/// E.164 phone number: `+`, then 8–15 digits, the first (country code) not 0.
///
/// Spaces, dashes, dots and parentheses after the `+` are ignored: `"+1 (555) 123-4567"` →
/// `"+15551234567"`. A missing `+` (national or `00`-prefixed numbers) is rejected: the country
/// code must be explicit. Returns the compact form `+<digits>`.
pub fn phone_e164(s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(required("phone number"));
    }
    let Some(rest) = s.strip_prefix('+') else {
        return Err(err(
            codes::INVALID_FORMAT,
            "phone number must start with + and the country code",
        ));
    };
    let mut out = String::with_capacity(16);
    out.push('+');
    for c in rest.chars() {
        if c.is_ascii_digit() {
            if out.len() > 15 {
                return Err(err(
                    codes::INVALID_LENGTH,
                    "phone number must have 8-15 digits",
                ));
            }
            out.push(c);
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')') {
            return Err(err(
                codes::INVALID_FORMAT,
                "phone number may contain only digits, spaces, dashes, dots and parentheses after the +",
            ));
        }
    }
    let digits = out.len() - 1;
    if !(8..=15).contains(&digits) {
        return Err(err(
            codes::INVALID_LENGTH,
            "phone number must have 8-15 digits",
        ));
    }
    if out.as_bytes().get(1) == Some(&b'0') {
        return Err(err(
            codes::INVALID_FORMAT,
            "phone number country code cannot start with 0",
        ));
    }
    Ok(out)
}

/// ISO 3166-1 alpha-2 country code, case-insensitive (`" br "` → `"BR"`); only the 249
/// officially assigned codes are accepted (see [`countries`]).
pub fn country(s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(required("country"));
    }
    if t.len() != 2 || !t.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(err(
            codes::INVALID_FORMAT,
            "country must be a two-letter ISO 3166-1 alpha-2 code",
        ));
    }
    countries::normalize_country(t).ok_or_else(|| {
        err(
            codes::INVALID_VALUE,
            "country is not an assigned ISO 3166-1 alpha-2 code",
        )
    })
}

fn parse_date(s: &str, label: &str) -> Result<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return Err(required(label));
    }
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Err(err(
            codes::INVALID_FORMAT,
            format!("{label} must be in YYYY-MM-DD format"),
        ));
    }
    let year = number(&s[..4]) as i32; // at most 9999
    let (month, day) = (number(&s[5..7]), number(&s[8..]));
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        err(
            codes::INVALID_DATE,
            format!("{label} is not a real calendar date"),
        )
    })
}

/// A calendar date in strict `YYYY-MM-DD` form (4-digit year, 2-digit month and day, no time
/// part or other separators), which must exist (2024-02-29 yes, 2023-02-29 no).
pub fn date(s: &str) -> Result<NaiveDate> {
    parse_date(s, "date")
}

/// The earliest accepted date of birth.
pub const MIN_DATE_OF_BIRTH: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// A date of birth: strict `YYYY-MM-DD` (see [`date`]), not after `today` (born today is
/// accepted), not before 1900-01-01.
pub fn date_of_birth(s: &str, today: NaiveDate) -> Result<NaiveDate> {
    let dob = parse_date(s, "date of birth")?;
    if dob > today {
        return Err(err(
            codes::OUT_OF_RANGE,
            "date of birth cannot be in the future",
        ));
    }
    if dob < MIN_DATE_OF_BIRTH {
        return Err(err(
            codes::OUT_OF_RANGE,
            "date of birth cannot be before 1900-01-01",
        ));
    }
    Ok(dob)
}

/// Age in full years on `on` (0 if `on` is before the birth).
///
/// A 29 February birthday is reached on 1 March in common years (the month/day comparison), so
/// someone born 2008-02-29 is 17 on 2026-02-28 and 18 on 2026-03-01. This is the conservative
/// choice for age gates: nobody is counted older earlier than in any jurisdiction.
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> u32 {
    if on <= dob {
        return 0;
    }
    let mut years = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// The ASCII digits of `s`, in order (other characters, including non-ASCII digits, dropped).
pub fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The last 4 characters of an (already normalised) value, or all of it when shorter.
pub fn last4(normalised: &str) -> String {
    let start = normalised.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    normalised[start..].to_owned()
}

/// Generic document number (passport, national ID, tax ID, driver's licence): trimmed,
/// uppercased, ASCII letters, digits and `-` only, with at least one letter or digit, 3–32
/// characters.
fn document_number(s: &str, label: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(required(label));
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        || !s.chars().any(|c| c.is_ascii_alphanumeric())
    {
        return Err(err(
            codes::INVALID_FORMAT,
            format!("{label} may contain only letters A-Z, digits and dashes"),
        ));
    }
    if !(3..=32).contains(&s.len()) {
        return Err(err(
            codes::INVALID_LENGTH,
            format!("{label} must be 3-32 characters"),
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Validates `value` as an identifier of type `kind` (exact, lowercase: see
/// [`IDENTIFIER_KINDS`]) and returns its normalised form.
///
/// `cpf`, `cnpj`, `ssn`, `itin` and `ein` go through their validators; `passport`,
/// `national_id`, `tax_id` and `drivers_license` are trimmed, uppercased, ASCII letters/digits
/// and `-` only, 3–32 characters. Any other kind is [`codes::UNKNOWN_TYPE`].
pub fn identifier(kind: &str, value: &str) -> Result<String> {
    match kind {
        "cpf" => cpf(value),
        "cnpj" => cnpj(value),
        "ssn" => ssn(value),
        "itin" => itin(value),
        "ein" => ein(value),
        "passport" => document_number(value, "passport number"),
        "national_id" => document_number(value, "national ID"),
        "tax_id" => document_number(value, "tax ID"),
        "drivers_license" => document_number(value, "driver's license number"),
        _ => Err(err(
            codes::UNKNOWN_TYPE,
            "unknown identifier type (expected cpf, cnpj, ssn, itin, ein, passport, national_id, tax_id or drivers_license)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    /// Asserts every `valid` input normalises to the expected value and every `invalid` input
    /// fails with the expected code, and that no message leaks the input.
    fn check(f: impl Fn(&str) -> Result<String>, valid: &[(&str, &str)], invalid: &[(&str, &str)]) {
        for (input, want) in valid {
            assert_eq!(f(input).as_deref(), Ok(*want), "valid input {input:?}");
        }
        for (input, code) in invalid {
            match f(input) {
                Ok(v) => panic!("invalid input {input:?} accepted as {v:?}"),
                Err(e) => {
                    assert_eq!(e.code, *code, "input {input:?}: {e}");
                    assert_no_leak(input, &e);
                }
            }
        }
    }

    fn assert_no_leak(input: &str, e: &ValidationError) {
        assert!(!e.message.is_empty());
        assert_eq!(e.to_string(), e.message);
        let t = input.trim();
        if t.chars().count() >= 4 && t.chars().any(|c| c.is_ascii_digit() || c == '@') {
            assert!(!e.message.contains(t), "message leaks input: {}", e.message);
        }
        let digits = digits_only(input);
        if digits.len() >= 5 {
            assert!(
                !e.message.contains(&digits),
                "message leaks digits: {}",
                e.message
            );
        }
    }

    #[test]
    fn cpf_table() {
        check(
            cpf,
            &[
                ("529.982.247-25", "52998224725"),
                ("52998224725", "52998224725"),
                ("111.444.777-35", "11144477735"),
                ("390.533.447-05", "39053344705"),
                ("123.456.789-09", "12345678909"),
                ("012.345.678-90", "01234567890"),
                ("  529 982 247 25\n", "52998224725"),
            ],
            &[
                ("", codes::EMPTY),
                ("   ", codes::EMPTY),
                ("529.982.247-24", codes::INVALID_CHECKSUM),
                ("529.982.247-15", codes::INVALID_CHECKSUM),
                ("52998224752", codes::INVALID_CHECKSUM),
                ("111.111.111-11", codes::INVALID_VALUE),
                ("00000000000", codes::INVALID_VALUE),
                ("99999999999", codes::INVALID_VALUE),
                ("5299822472", codes::INVALID_LENGTH),
                ("529982247250", codes::INVALID_LENGTH),
                ("529.982.247/25", codes::INVALID_FORMAT),
                ("529x98224725", codes::INVALID_FORMAT),
                ("٥٢٩٩٨٢٢٤٧٢٥", codes::INVALID_FORMAT),
                ("５２９９８２２４７２５", codes::INVALID_FORMAT),
            ],
        );
    }

    #[test]
    fn cnpj_table() {
        check(
            cnpj,
            &[
                ("11.222.333/0001-81", "11222333000181"),
                ("11222333000181", "11222333000181"),
                ("11.444.777/0001-61", "11444777000161"),
                ("33.000.167/0001-01", "33000167000101"),
                ("00.000.000/0001-91", "00000000000191"),
                ("60.701.190/0001-04", "60701190000104"),
                // Alphanumeric CNPJ (2026), the Receita Federal example.
                ("12.ABC.345/01DE-35", "12ABC34501DE35"),
                ("12.abc.345/01de-35", "12ABC34501DE35"),
            ],
            &[
                ("", codes::EMPTY),
                ("11.222.333/0001-82", codes::INVALID_CHECKSUM),
                ("11.222.333/0001-18", codes::INVALID_CHECKSUM),
                ("12.ABC.345/01DE-36", codes::INVALID_CHECKSUM),
                ("12.ABD.345/01DE-35", codes::INVALID_CHECKSUM),
                ("00.000.000/0000-00", codes::INVALID_VALUE),
                ("11111111111111", codes::INVALID_VALUE),
                ("1122233300018", codes::INVALID_LENGTH),
                ("112223330001811", codes::INVALID_LENGTH),
                ("12.ABC.345/01DE-3A", codes::INVALID_FORMAT),
                ("11.222.333_0001-81", codes::INVALID_FORMAT),
                ("11.222.333/0001-8١", codes::INVALID_FORMAT),
                ("12.ÀBC.345/01DE-35", codes::INVALID_FORMAT),
            ],
        );
    }

    #[test]
    fn ssn_table() {
        check(
            ssn,
            &[
                ("123-45-6789", "123456789"),
                ("123456789", "123456789"),
                ("001-01-0001", "001010001"),
                ("665-99-9999", "665999999"),
                ("667-01-0001", "667010001"),
                ("899-99-9999", "899999999"),
                (" 123 45 6789 ", "123456789"),
            ],
            &[
                ("", codes::EMPTY),
                ("000-12-3456", codes::OUT_OF_RANGE),
                ("666-12-3456", codes::OUT_OF_RANGE),
                ("900-12-3456", codes::OUT_OF_RANGE),
                ("950-70-1234", codes::OUT_OF_RANGE),
                ("999-99-9999", codes::OUT_OF_RANGE),
                ("123-00-4567", codes::OUT_OF_RANGE),
                ("123-45-0000", codes::OUT_OF_RANGE),
                ("078-05-1120", codes::INVALID_VALUE),
                ("219-09-9999", codes::INVALID_VALUE),
                ("123-45-678", codes::INVALID_LENGTH),
                ("123-45-67890", codes::INVALID_LENGTH),
                ("123.45.6789", codes::INVALID_FORMAT),
                ("123-45-678O", codes::INVALID_FORMAT),
            ],
        );
    }

    #[test]
    fn itin_table() {
        check(
            itin,
            &[
                ("900-50-0000", "900500000"),
                ("912-65-4321", "912654321"),
                ("912-70-1234", "912701234"),
                ("912-88-1234", "912881234"),
                ("912-90-1234", "912901234"),
                ("912-92-1234", "912921234"),
                ("912-94-1234", "912941234"),
                ("999999999", "999999999"),
            ],
            &[
                ("", codes::EMPTY),
                ("812-70-1234", codes::OUT_OF_RANGE),
                ("123-45-6789", codes::OUT_OF_RANGE),
                ("912-49-1234", codes::OUT_OF_RANGE),
                ("912-66-1234", codes::OUT_OF_RANGE),
                ("912-69-1234", codes::OUT_OF_RANGE),
                ("912-89-1234", codes::OUT_OF_RANGE),
                ("912-93-1234", codes::OUT_OF_RANGE),
                ("912-00-1234", codes::OUT_OF_RANGE),
                ("912-70-123", codes::INVALID_LENGTH),
                ("912/70/1234", codes::INVALID_FORMAT),
            ],
        );
    }

    #[test]
    fn ein_table() {
        check(
            ein,
            &[
                ("12-3456789", "123456789"),
                ("01-2345678", "012345678"),
                ("31-0000001", "310000001"),
                ("99-9999999", "999999999"),
                ("953456789", "953456789"),
            ],
            &[
                ("", codes::EMPTY),
                ("12-345678", codes::INVALID_LENGTH),
                ("12-34567890", codes::INVALID_LENGTH),
                ("12_3456789", codes::INVALID_FORMAT),
            ],
        );
        let unassigned = [
            0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97,
        ];
        for prefix in 0..100u32 {
            let input = format!("{prefix:02}-1234567");
            let got = ein(&input);
            if unassigned.contains(&prefix) {
                let e = got.expect_err(&input);
                assert_eq!(e.code, codes::OUT_OF_RANGE, "{input}");
                assert_no_leak(&input, &e);
            } else {
                assert_eq!(got, Ok(format!("{prefix:02}1234567")), "{input}");
            }
        }
    }

    #[test]
    fn email_table() {
        let local64 = "a".repeat(64);
        let local65 = "a".repeat(65);
        let label63 = "b".repeat(63);
        let label64 = "b".repeat(64);
        let ok64 = format!("{local64}@example.com");
        let ok63 = format!("x@{label63}.com");
        // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 exactly; one more is 255.
        let max = format!("{local64}@{label63}.{label63}.{}", "c".repeat(61));
        let over = format!("{local64}@{label63}.{label63}.{}", "c".repeat(62));
        assert_eq!(max.len(), 254);
        check(
            email,
            &[
                ("user@example.com", "user@example.com"),
                ("John.Doe@Example.COM", "John.Doe@example.com"),
                ("  a@b.co  ", "a@b.co"),
                ("user+tag@sub.example.org", "user+tag@sub.example.org"),
                ("o'brien@example.ie", "o'brien@example.ie"),
                (
                    "x!#$%&*/=?^_`{|}~-@example.com",
                    "x!#$%&*/=?^_`{|}~-@example.com",
                ),
                ("a@xn--80ak6aa92e.com", "a@xn--80ak6aa92e.com"),
                ("a@example.XN--P1AI", "a@example.xn--p1ai"),
                ("a@1-2.example.museum", "a@1-2.example.museum"),
                (ok64.as_str(), ok64.as_str()),
                (ok63.as_str(), ok63.as_str()),
                (max.as_str(), max.as_str()),
            ],
            &[
                ("", codes::EMPTY),
                ("plain", codes::INVALID_FORMAT),
                ("@example.com", codes::INVALID_LENGTH),
                ("a@@example.com", codes::INVALID_FORMAT),
                ("a@b@example.com", codes::INVALID_FORMAT),
                (".a@example.com", codes::INVALID_FORMAT),
                ("a.@example.com", codes::INVALID_FORMAT),
                ("a..b@example.com", codes::INVALID_FORMAT),
                ("a b@example.com", codes::INVALID_FORMAT),
                ("\"a\"@example.com", codes::INVALID_FORMAT),
                ("a(b)@example.com", codes::INVALID_FORMAT),
                ("a@localhost", codes::INVALID_FORMAT),
                ("a@", codes::INVALID_FORMAT),
                ("a@-b.com", codes::INVALID_FORMAT),
                ("a@b-.com", codes::INVALID_FORMAT),
                ("a@b..com", codes::INVALID_FORMAT),
                ("a@.b.com", codes::INVALID_FORMAT),
                ("a@b.com.", codes::INVALID_FORMAT),
                ("a@b_c.com", codes::INVALID_FORMAT),
                ("a@b.c", codes::INVALID_FORMAT),
                ("a@b.c1", codes::INVALID_FORMAT),
                ("a@b.123", codes::INVALID_FORMAT),
                ("a@b.xn--", codes::INVALID_FORMAT),
                ("a@[127.0.0.1]", codes::INVALID_FORMAT),
                ("ü@example.com", codes::INVALID_FORMAT),
                ("a@exämple.com", codes::INVALID_FORMAT),
                ("a@example.com\0", codes::INVALID_FORMAT),
                (
                    format!("{local65}@example.com").as_str(),
                    codes::INVALID_LENGTH,
                ),
                (format!("x@{label64}.com").as_str(), codes::INVALID_FORMAT),
                (over.as_str(), codes::INVALID_LENGTH),
            ],
        );
    }

    #[test]
    fn phone_table() {
        check(
            phone_e164,
            &[
                ("+5511987654321", "+5511987654321"),
                ("+55 11 98765-4321", "+5511987654321"),
                ("+1 (555) 123-4567", "+15551234567"),
                ("+44.20.7946.0958", "+442079460958"),
                (" +49 30 123456 ", "+4930123456"),
                ("+12345678", "+12345678"),
                ("+123456789012345", "+123456789012345"),
            ],
            &[
                ("", codes::EMPTY),
                ("5511987654321", codes::INVALID_FORMAT),
                ("005511987654321", codes::INVALID_FORMAT),
                ("1+5551234567", codes::INVALID_FORMAT),
                ("++15551234567", codes::INVALID_FORMAT),
                ("+0123456789", codes::INVALID_FORMAT),
                ("+1 555 123 4567 ext 2", codes::INVALID_FORMAT),
                ("+1/555/1234567", codes::INVALID_FORMAT),
                ("+1555١٢٣4567", codes::INVALID_FORMAT),
                ("+", codes::INVALID_LENGTH),
                ("+ ( ) - .", codes::INVALID_LENGTH),
                ("+1234567", codes::INVALID_LENGTH),
                ("+1234567890123456", codes::INVALID_LENGTH),
            ],
        );
    }

    #[test]
    fn country_table() {
        check(
            country,
            &[("BR", "BR"), ("br", "BR"), (" us ", "US"), ("Gb", "GB")],
            &[
                ("", codes::EMPTY),
                ("BRA", codes::INVALID_FORMAT),
                ("B", codes::INVALID_FORMAT),
                ("B1", codes::INVALID_FORMAT),
                ("ＢＲ", codes::INVALID_FORMAT),
                ("🇧🇷", codes::INVALID_FORMAT),
                ("XX", codes::INVALID_VALUE),
                ("UK", codes::INVALID_VALUE),
                ("XK", codes::INVALID_VALUE),
            ],
        );
    }

    #[test]
    fn dates() {
        assert_eq!(date("2000-01-31"), Ok(d(2000, 1, 31)));
        assert_eq!(date(" 2024-02-29 "), Ok(d(2024, 2, 29)));
        assert_eq!(date("2000-02-29"), Ok(d(2000, 2, 29)));
        for (input, code) in [
            ("", codes::EMPTY),
            ("2023-02-29", codes::INVALID_DATE),
            ("1900-02-29", codes::INVALID_DATE),
            ("2100-02-29", codes::INVALID_DATE),
            ("2024-02-30", codes::INVALID_DATE),
            ("2024-04-31", codes::INVALID_DATE),
            ("2024-13-01", codes::INVALID_DATE),
            ("2024-00-10", codes::INVALID_DATE),
            ("2024-01-00", codes::INVALID_DATE),
            ("2024-1-05", codes::INVALID_FORMAT),
            ("24-01-05", codes::INVALID_FORMAT),
            ("2024/01/05", codes::INVALID_FORMAT),
            ("05/01/2024", codes::INVALID_FORMAT),
            ("20240105", codes::INVALID_FORMAT),
            ("2024-01-05T00:00:00", codes::INVALID_FORMAT),
            ("+2024-01-05", codes::INVALID_FORMAT),
            ("-2024-01-05", codes::INVALID_FORMAT),
            ("２０２４-01-05", codes::INVALID_FORMAT),
            ("2024-01-0٥", codes::INVALID_FORMAT),
        ] {
            let e = date(input).expect_err(input);
            assert_eq!(e.code, code, "{input}");
            assert_no_leak(input, &e);
        }
    }

    #[test]
    fn dates_of_birth() {
        let today = d(2026, 5, 14);
        assert_eq!(date_of_birth("1990-07-15", today), Ok(d(1990, 7, 15)));
        assert_eq!(date_of_birth("1900-01-01", today), Ok(d(1900, 1, 1)));
        assert_eq!(date_of_birth("2026-05-14", today), Ok(today));
        assert_eq!(date_of_birth("2000-02-29", today), Ok(d(2000, 2, 29)));
        for (input, code) in [
            ("2026-05-15", codes::OUT_OF_RANGE),
            ("2999-01-01", codes::OUT_OF_RANGE),
            ("1899-12-31", codes::OUT_OF_RANGE),
            ("0001-01-01", codes::OUT_OF_RANGE),
            ("1999-02-29", codes::INVALID_DATE),
            ("1990-7-15", codes::INVALID_FORMAT),
            (" ", codes::EMPTY),
        ] {
            let e = date_of_birth(input, today).expect_err(input);
            assert_eq!(e.code, code, "{input}");
            assert_no_leak(input, &e);
        }
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d(1990, 7, 15), d(2026, 7, 14)), 35);
        assert_eq!(age_on(d(1990, 7, 15), d(2026, 7, 15)), 36);
        assert_eq!(age_on(d(1990, 7, 15), d(2026, 12, 31)), 36);
        assert_eq!(age_on(d(2008, 5, 14), d(2026, 5, 13)), 17);
        assert_eq!(age_on(d(2008, 5, 14), d(2026, 5, 14)), 18);
        // 29 February birthdays: reached on 1 March in common years, on the day in leap years.
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 2, 28)), 17);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 3, 1)), 18);
        assert_eq!(age_on(d(2008, 2, 29), d(2028, 2, 28)), 19);
        assert_eq!(age_on(d(2008, 2, 29), d(2028, 2, 29)), 20);
        // Born on 28 Feb / 1 Mar around leap days.
        assert_eq!(age_on(d(2007, 2, 28), d(2025, 2, 28)), 18);
        assert_eq!(age_on(d(2007, 3, 1), d(2024, 2, 29)), 16);
        // Same day, before birth, extremes.
        assert_eq!(age_on(d(2000, 1, 1), d(2000, 1, 1)), 0);
        assert_eq!(age_on(d(2000, 1, 1), d(2000, 12, 31)), 0);
        assert_eq!(age_on(d(2000, 1, 1), d(1990, 1, 1)), 0);
        assert_eq!(age_on(d(1900, 1, 1), d(2026, 1, 1)), 126);
        let _ = age_on(NaiveDate::MIN, NaiveDate::MAX);
        assert_eq!(age_on(NaiveDate::MAX, NaiveDate::MIN), 0);
    }

    #[test]
    fn helpers() {
        assert_eq!(digits_only("529.982.247-25"), "52998224725");
        assert_eq!(digits_only("a٣b５c1"), "1");
        assert_eq!(digits_only(""), "");
        assert_eq!(last4("52998224725"), "4725");
        assert_eq!(last4("1234"), "1234");
        assert_eq!(last4("12"), "12");
        assert_eq!(last4(""), "");
        assert_eq!(last4("ab🙂cdé"), "🙂cdé");
    }

    #[test]
    fn identifier_dispatch() {
        assert_eq!(
            identifier("cpf", "529.982.247-25").as_deref(),
            Ok("52998224725")
        );
        assert_eq!(
            identifier("cnpj", "11.222.333/0001-81").as_deref(),
            Ok("11222333000181")
        );
        assert_eq!(identifier("ssn", "123-45-6789").as_deref(), Ok("123456789"));
        assert_eq!(
            identifier("itin", "912-70-1234").as_deref(),
            Ok("912701234")
        );
        assert_eq!(identifier("ein", "12-3456789").as_deref(), Ok("123456789"));
        assert_eq!(
            identifier("cpf", "529.982.247-24").map_err(|e| e.code),
            Err(codes::INVALID_CHECKSUM)
        );
        for kind in ["passport", "national_id", "tax_id", "drivers_license"] {
            assert_eq!(identifier(kind, " ab123456 ").as_deref(), Ok("AB123456"));
            assert_eq!(identifier(kind, "X-1").as_deref(), Ok("X-1"));
            assert_eq!(identifier(kind, &"Z".repeat(32)), Ok("Z".repeat(32)));
            for (input, code) in [
                ("", codes::EMPTY),
                ("AB", codes::INVALID_LENGTH),
                (&*"Z".repeat(33), codes::INVALID_LENGTH),
                ("AB 123", codes::INVALID_FORMAT),
                ("AB/123", codes::INVALID_FORMAT),
                ("AB_123", codes::INVALID_FORMAT),
                ("ÄB123", codes::INVALID_FORMAT),
                ("AB١٢٣", codes::INVALID_FORMAT),
                ("---", codes::INVALID_FORMAT),
            ] {
                let e = identifier(kind, input).expect_err(input);
                assert_eq!(e.code, code, "{kind} {input:?}");
                assert_no_leak(input, &e);
            }
        }
        for kind in ["", "CPF", "Passport", "unknown", "ssn ", "driver_license"] {
            let e = identifier(kind, "529.982.247-25").expect_err(kind);
            assert_eq!(e.code, codes::UNKNOWN_TYPE, "{kind:?}");
            assert_no_leak("529.982.247-25", &e);
        }
        for kind in IDENTIFIER_KINDS {
            assert_ne!(
                identifier(kind, "").map_err(|e| e.code),
                Err(codes::UNKNOWN_TYPE)
            );
        }
    }

    #[test]
    fn error_serializes_code_and_message() {
        let e = cpf("529.982.247-24").expect_err("bad checksum");
        assert_eq!(e.to_string(), "CPF check digits do not match");
        let json = serde_json::to_value(&e).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({"code": "invalid_checksum", "message": "CPF check digits do not match"})
        );
        let _: &dyn std::error::Error = &e;
    }

    /// A few hundred odd strings through every function: nothing panics, every error has a
    /// known code and a message that does not echo the input.
    #[test]
    fn odd_inputs_never_panic() {
        let all_codes = [
            codes::EMPTY,
            codes::INVALID_FORMAT,
            codes::INVALID_LENGTH,
            codes::INVALID_CHECKSUM,
            codes::INVALID_VALUE,
            codes::OUT_OF_RANGE,
            codes::INVALID_DATE,
            codes::UNKNOWN_TYPE,
        ];
        let short: Vec<String> = [
            "",
            " ",
            "\0",
            "\0\0\0\0\0\0\0\0\0\0\0",
            "٣",
            "٣٣٣.٣٣٣.٣٣٣-٣٣",
            "𝟓𝟐𝟗",
            "５",
            "🙂",
            "👨‍👩‍👧‍👦",
            "🇧🇷",
            "\u{200B}",
            "\u{FEFF}",
            "\u{202E}",
            "ǅ",
            "İ",
            "ß",
            "ﬀ",
            "@",
            "@@",
            "+",
            "++",
            "-",
            "--",
            ".",
            "..",
            "/",
            "\u{0301}",
            "a\u{0301}",
            "\r\n",
            "\t",
            "\u{3000}",
            "\u{85}",
            "\u{10FFFF}",
            "\u{FFFD}",
            "𝕏",
            "Ⅻ",
            "½",
            "²",
            "xn--",
            "é@é.é",
            "(+1)",
            "0000-00-00",
            "9999-99-99",
            "-001-01-01",
            "+10000-01-01",
            "２０２０-０１-０１",
            "2020-01-01T00:00:00Z",
            "NaN",
            "-1",
            "18446744073709551616",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain((0u32..0x80).filter_map(char::from_u32).map(String::from))
        .collect();
        let mut base = short.clone();
        base.push("9".repeat(200_000));
        base.push("x".repeat(100_000));
        base.push("@".repeat(10_000));
        base.push(format!("+{}", "1".repeat(100_000)));
        base.push(format!("a@{}", "b.".repeat(50_000)));
        base.push("🙂".repeat(10_000));
        base.push("\u{0301}".repeat(10_000));
        let seeds = [
            "529.982.247-25",
            "11.222.333/0001-81",
            "12.ABC.345/01DE-35",
            "123-45-6789",
            "912-70-1234",
            "12-3456789",
            "user@example.com",
            "+5511987654321",
            "BR",
            "2000-02-29",
        ];
        let mut inputs = base.clone();
        for b in &short {
            for seed in seeds {
                inputs.push(format!("{seed}{b}"));
                inputs.push(format!("{b}{seed}"));
                let mid = seed.len() / 2; // seeds are ASCII
                inputs.push(format!("{}{b}{}", &seed[..mid], &seed[mid..]));
            }
        }
        assert!(inputs.len() > 1000, "{}", inputs.len());

        let today = d(2026, 5, 14);
        let expect_err_ok = |input: &str, r: Result<String>| {
            if let Err(e) = r {
                assert!(all_codes.contains(&e.code), "{}", e.code);
                assert_no_leak(input, &e);
            }
        };
        for s in &inputs {
            let s = s.as_str();
            expect_err_ok(s, cpf(s));
            expect_err_ok(s, cnpj(s));
            expect_err_ok(s, ssn(s));
            expect_err_ok(s, itin(s));
            expect_err_ok(s, ein(s));
            expect_err_ok(s, email(s));
            expect_err_ok(s, phone_e164(s));
            expect_err_ok(s, country(s));
            expect_err_ok(s, date(s).map(|v| v.to_string()));
            expect_err_ok(s, date_of_birth(s, today).map(|v| v.to_string()));
            for kind in IDENTIFIER_KINDS.iter().chain(&["bogus", ""]) {
                expect_err_ok(s, identifier(kind, s));
                let _ = identifier(s, s);
            }
            let digits = digits_only(s);
            assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            assert!(last4(s).chars().count() <= 4);
            assert!(s.ends_with(&last4(s)));
            let _ = countries::normalize_country(s);
            let _ = countries::is_iso_alpha2(s);
            let _ = countries::name(s);
        }
    }
}

//! Document uploads as data: the accepted types, the magic-byte sniffing, the
//! JSON body's fields with its base64 file, and the checks that turn a raw
//! upload into a `NewDocument`. Pure (no IO), so the fuzz targets and the
//! HTTP layer run the same code; `kycd-server` maps `UploadError` to its
//! error bodies.

use base64::Engine;

/// Document types accepted on upload.
pub const TYPES: &[&str] = &[
    "passport",
    "national_id",
    "drivers_license",
    "proof_of_address",
    "selfie",
    "business_formation",
];

/// Content types accepted on upload, recognised by their magic bytes.
pub const CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "application/pdf"];

/// An upload as received (JSON or multipart), before validation.
#[derive(Debug, Default)]
pub struct RawUpload {
    pub doc_type: Option<String>,
    pub side: Option<String>,
    pub content_type: Option<String>,
    /// The decoded file; `None` when the field was absent.
    pub content: Option<Vec<u8>>,
    /// The name of the field that carried the file (`content_base64` or `content`).
    pub content_param: &'static str,
}

/// A validated upload: known type and side, content type matching the bytes.
#[derive(Debug)]
pub struct NewDocument {
    pub doc_type: String,
    pub side: Option<String>,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why an upload was refused. Messages never echo a value or an unknown
/// field's name (either could be personal data sent in the wrong place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadError {
    /// The file is above the limit (bytes).
    TooLarge(usize),
    /// One field is wrong.
    Field { param: String, message: String },
    /// The body as a whole is wrong (an unknown field).
    Request(String),
}

fn field(param: impl Into<String>, message: impl Into<String>) -> UploadError {
    UploadError::Field {
        param: param.into(),
        message: message.into(),
    }
}

/// The content type the bytes are, by their magic bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// `image/JPEG; name=x` → `image/jpeg`; `image/jpg` is accepted for `image/jpeg`.
pub fn normalize_content_type(ct: &str) -> String {
    let base = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if base == "image/jpg" || base == "image/pjpeg" {
        "image/jpeg".into()
    } else {
        base
    }
}

/// Checks an upload: known type and side, declared content type matching the
/// bytes, not empty, at most `max_bytes`.
pub fn validate(raw: RawUpload, max_bytes: usize) -> Result<NewDocument, UploadError> {
    let param = if raw.content_param.is_empty() {
        "content_base64"
    } else {
        raw.content_param
    };
    let doc_type = match raw.doc_type.as_deref().map(str::trim) {
        None | Some("") => return Err(field("type", "type is required")),
        Some(t) if TYPES.contains(&t) => t.to_string(),
        Some(_) => {
            return Err(field(
                "type",
                format!("must be one of {}", TYPES.join(", ")),
            ));
        }
    };
    let side = match raw.side.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s @ ("front" | "back")) => Some(s.to_string()),
        Some(_) => return Err(field("side", "must be front, back or null")),
    };
    let declared = match raw.content_type.as_deref().map(normalize_content_type) {
        None => return Err(field("content_type", "content_type is required")),
        Some(ct) if CONTENT_TYPES.contains(&ct.as_str()) => ct,
        Some(_) => {
            return Err(field(
                "content_type",
                format!("must be one of {}", CONTENT_TYPES.join(", ")),
            ));
        }
    };
    let Some(bytes) = raw.content else {
        return Err(field(param, "the file is required"));
    };
    if bytes.is_empty() {
        return Err(field(param, "the file is empty"));
    }
    if bytes.len() > max_bytes {
        return Err(UploadError::TooLarge(max_bytes));
    }
    match sniff(&bytes) {
        None => Err(field(param, "the file is not a JPEG, PNG or PDF")),
        Some(actual) if actual != declared => Err(field(
            "content_type",
            format!("content_type is {declared} but the file is {actual}"),
        )),
        Some(_) => Ok(NewDocument {
            doc_type,
            side,
            content_type: declared,
            bytes,
        }),
    }
}

/// The JSON upload's fields (the object already parsed), the file decoded
/// from `content_base64` (at most `max` bytes).
pub fn from_json(
    body: serde_json::Map<String, serde_json::Value>,
    max: usize,
) -> Result<RawUpload, UploadError> {
    let mut raw = RawUpload {
        content_param: "content_base64",
        ..Default::default()
    };
    for (k, v) in body {
        let slot = match k.as_str() {
            "type" => &mut raw.doc_type,
            "side" => &mut raw.side,
            "content_type" => &mut raw.content_type,
            "content_base64" => {
                let Some(b64) = text_or_null(&k, v)? else {
                    continue;
                };
                raw.content = Some(decode_base64(&b64, max)?);
                continue;
            }
            _ => {
                return Err(UploadError::Request(
                    "unknown field in the body: send type, side, content_type and content_base64"
                        .into(),
                ));
            }
        };
        *slot = text_or_null(&k, v)?;
    }
    Ok(raw)
}

fn text_or_null(name: &str, v: serde_json::Value) -> Result<Option<String>, UploadError> {
    match v {
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Null => Ok(None),
        _ => Err(field(name, "must be a string")),
    }
}

/// Standard, padded base64 (whitespace ignored), refused above `max` decoded
/// bytes before decoding.
pub fn decode_base64(b64: &str, max: usize) -> Result<Vec<u8>, UploadError> {
    let clean: Vec<u8> = b64.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if clean.len() / 4 * 3 > max + 3 {
        return Err(UploadError::TooLarge(max));
    }
    base64::engine::general_purpose::STANDARD
        .decode(&clean)
        .map_err(|_| {
            field(
                "content_base64",
                "not valid base64 (standard alphabet, padded): is it truncated?",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upload(v: serde_json::Value) -> Result<NewDocument, UploadError> {
        let serde_json::Value::Object(map) = v else {
            unreachable!()
        };
        validate(from_json(map, 1024)?, 1024)
    }

    #[test]
    fn a_png_declared_as_png_passes_and_a_mismatch_names_content_type() {
        let png = base64::engine::general_purpose::STANDARD
            .encode([0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]);
        let ok = upload(
            json!({"type": "selfie", "content_type": "image/PNG; x=y", "content_base64": png}),
        )
        .unwrap();
        assert_eq!((ok.content_type.as_str(), ok.bytes.len()), ("image/png", 9));
        let e =
            upload(json!({"type": "selfie", "content_type": "image/jpeg", "content_base64": png}))
                .unwrap_err();
        assert!(
            matches!(e, UploadError::Field { ref param, .. } if param == "content_type"),
            "{e:?}"
        );
    }

    #[test]
    fn oversized_base64_is_refused_before_decoding() {
        let big = "A".repeat(4 * 400);
        assert_eq!(decode_base64(&big, 1024), Err(UploadError::TooLarge(1024)));
        assert!(matches!(
            decode_base64("abc", 1024),
            Err(UploadError::Field { .. })
        ));
    }

    #[test]
    fn unknown_fields_and_non_strings_are_refused_without_echoing() {
        let e = upload(json!({"type": "selfie", "cpf": "52998224725"})).unwrap_err();
        let UploadError::Request(m) = e else {
            panic!("{e:?}")
        };
        assert!(!m.contains("cpf"));
        let e = upload(json!({"type": 5})).unwrap_err();
        assert_eq!(e, field("type", "must be a string"));
    }
}

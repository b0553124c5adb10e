//! The catalogue of error codes: every `error.code` kycd answers, its HTTP
//! status and what the caller should do. The reference page of the docs is
//! generated from it, and a test fails when the code uses a code that is not
//! here (or the page is stale).

/// One error code of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: &'static str,
    pub status: u16,
    pub meaning: &'static str,
}

const fn e(code: &'static str, status: u16, meaning: &'static str) -> ErrorCode {
    ErrorCode {
        code,
        status,
        meaning,
    }
}

/// Every error code, by status.
pub const CATALOGUE: &[ErrorCode] = &[
    e(
        "invalid_request",
        400,
        "The body is not valid JSON, not an object, or has a field of the wrong type; nothing changed.",
    ),
    e(
        "invalid_field",
        400,
        "One field is wrong: `param` names it and `message` says why; nothing changed.",
    ),
    e(
        "invalid_api_key",
        401,
        "No API key, an unknown or revoked one.",
    ),
    e(
        "invalid_signature",
        401,
        "An inbound provider webhook whose signature does not verify; nothing was stored.",
    ),
    e(
        "requirements_not_met",
        403,
        "A reliance verification lacks items: one entry in `reasons` per missing item; nothing changed.",
    ),
    e(
        "missing_capability",
        403,
        "The customer may not do this (yet): `reasons` say why and what to do.",
    ),
    e(
        "resource_not_found",
        404,
        "No such resource in this organization and environment (another tenant's ids are 404 too).",
    ),
    e(
        "method_not_allowed",
        405,
        "The path exists but does not take this method.",
    ),
    e(
        "request_timeout",
        408,
        "The request body stalled; the connection is closed.",
    ),
    e(
        "customer_locked",
        409,
        "The customer's status does not allow this change (e.g. PATCH while `pending`).",
    ),
    e(
        "invalid_transition",
        409,
        "The lifecycle does not allow this change of status from the current one.",
    ),
    e(
        "external_id_taken",
        409,
        "Another customer of this organization and environment has this `external_id`.",
    ),
    e(
        "concurrent_update",
        409,
        "Another request changed the resource at the same time: retry.",
    ),
    e(
        "conflict",
        409,
        "The change conflicts with the current state of the resource: `message` names it.",
    ),
    e(
        "provider_not_configured",
        409,
        "The verification asks for an identity provider this environment has not configured (`PUT /v1/providers/sumsub`).",
    ),
    e(
        "idempotency_key_in_use",
        409,
        "A request with this `Idempotency-Key` is still running: retry later.",
    ),
    e(
        "retention_required",
        409,
        "The customer must be kept (a final rejection for sanctions or fraud): it cannot be erased.",
    ),
    e(
        "endpoint_disabled",
        409,
        "The webhook endpoint is disabled: enable it before redelivering to it.",
    ),
    e(
        "payload_too_large",
        413,
        "The body (or document) is larger than the limit; the connection is closed.",
    ),
    e(
        "unsupported_media_type",
        415,
        "The `Content-Type` is not one this path takes.",
    ),
    e(
        "idempotency_key_reused",
        422,
        "This `Idempotency-Key` was used with a different request.",
    ),
    e(
        "rate_limited",
        429,
        "Too many requests: wait `Retry-After` seconds.",
    ),
    e(
        "internal_error",
        500,
        "kycd failed: never the caller's fault; logged with the request id.",
    ),
    e(
        "provider_unavailable",
        502,
        "The identity provider (e.g. Sumsub) did not answer or refused the call: nothing changed; retry later.",
    ),
    e(
        "service_unavailable",
        503,
        "The database (or a limit) is unavailable right now: retry after `Retry-After`.",
    ),
];

/// The catalogue as the Markdown table of the docs' reference page.
pub fn markdown() -> String {
    let mut out = String::from("| code | status | meaning |\n|---|---|---|\n");
    for c in CATALOGUE {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.code, c.status, c.meaning
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// The string literal after `marker` and `skip` more commas.
    fn codes_after(text: &str, marker: &str, skip: usize) -> Vec<String> {
        text.match_indices(marker)
            .filter_map(|(i, _)| {
                let rest = &text[i + marker.len()..];
                let rest = rest.splitn(skip + 1, ',').nth(skip)?;
                let start = rest.find('"')?;
                let before = &rest[..start];
                if !before.trim().is_empty() {
                    return None;
                }
                let lit = &rest[start + 1..];
                Some(lit[..lit.find('"')?].to_string())
            })
            .collect()
    }

    /// Every code the server's sources build an error with is in the catalogue.
    #[test]
    fn every_code_used_is_catalogued() {
        let mut files = vec![];
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut used = vec![];
        for (path, text) in &files {
            if path.ends_with("error_codes.rs") {
                continue;
            }
            for marker in ["ApiError::new(", "Self::new("] {
                used.extend(
                    codes_after(text, marker, 2)
                        .into_iter()
                        .map(|c| (c, path.clone())),
                );
            }
            used.extend(
                codes_after(text, "Refusal::new(", 1)
                    .into_iter()
                    .map(|c| (c, path.clone())),
            );
            for marker in [
                "ApiError::conflict(",
                "Self::conflict(",
                "Refusal::conflict(",
            ] {
                used.extend(
                    codes_after(text, marker, 0)
                        .into_iter()
                        .map(|c| (c, path.clone())),
                );
            }
        }
        assert!(
            used.len() >= 15,
            "the scan finds the codes ({})",
            used.len()
        );
        for (code, path) in used {
            assert!(
                CATALOGUE.iter().any(|c| c.code == code),
                "{code} (in {path}) is not in error_codes::CATALOGUE"
            );
        }
    }

    #[test]
    fn the_errors_page_is_the_generated_one() {
        let page = include_str!("../../../docs/src/reference/errors.md");
        let (_, rest) = page
            .split_once("<!-- error-codes:start -->\n")
            .expect("the page marks the table's start");
        let (embedded, _) = rest
            .split_once("<!-- error-codes:end -->")
            .expect("the page marks the table's end");
        assert_eq!(
            embedded,
            markdown(),
            "docs/src/reference/errors.md is stale: put this between the markers\n{}",
            markdown()
        );
    }
}

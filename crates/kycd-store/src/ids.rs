//! Typed, prefixed, time-ordered ids (`cus_01j…`): lexicographic order is creation order.

/// A new id with the given prefix (`cus`, `evt`, `org`…).
pub fn new(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Whether `id` looks like an id of that prefix (cheap guard before a query).
pub fn looks_like(prefix: &str, id: &str) -> bool {
    id.len() <= 64
        && id
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

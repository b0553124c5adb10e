//! Typed, prefixed, time-ordered ids (`cus_01j…`): lexicographic order is
//! creation order (monotonic within a process, even within one millisecond).

use std::sync::Mutex;

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new id with the given prefix (`cus`, `evt`, `org`…).
pub fn new(prefix: &str) -> String {
    let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    // Overflow of the random part within one millisecond is astronomically
    // unlikely; fall back to a fresh random ULID rather than fail.
    let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    format!("{prefix}_{}", id.to_string().to_lowercase())
}

/// Whether `id` looks like an id of that prefix (cheap guard before a query).
pub fn looks_like(prefix: &str, id: &str) -> bool {
    id.len() <= 64
        && id
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new("cus")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(super::looks_like("cus", &ids[0]));
        assert!(!super::looks_like("cus", "cus_../x"));
    }
}

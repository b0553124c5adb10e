//! Typed, prefixed, time-ordered ids (`cus_01j…`): lexicographic order is
//! creation order (monotonic within a process, even within one millisecond).
//! Their types and parsing live in `kycd_core::ids`.

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

#[cfg(test)]
mod tests {
    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new("cus")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(kycd_core::ids::is_prefixed("cus", &ids[0]));
    }
}

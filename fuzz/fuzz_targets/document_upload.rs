//! The document upload decoder (JSON body, base64 file, magic bytes): no
//! input panics, and an accepted upload's bytes are what its content type says.
#![no_main]

use kycd_core::documents;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let _ = documents::sniff(data);
    let Ok(body) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(data)
    else {
        return;
    };
    let Ok(raw) = documents::from_json(body, MAX) else {
        return;
    };
    if let Ok(doc) = documents::validate(raw, MAX) {
        assert!(!doc.bytes.is_empty() && doc.bytes.len() <= MAX);
        assert_eq!(
            documents::sniff(&doc.bytes),
            Some(doc.content_type.as_str())
        );
        assert!(documents::TYPES.contains(&doc.doc_type.as_str()));
    }
});

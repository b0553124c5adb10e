//! `kycd keys rotate` end to end with the real binary on SQLite: the key-file
//! flow (new key installed, old one kept as a backup, data still readable
//! after a restart, the old key no longer works) and the rolling flow with
//! `KYCD_MASTER_KEY_PREVIOUS` (a server on the new key reads keys of both
//! while the rotation runs under it).

use crate::common::*;
use serde_json::json;
use std::path::Path;

const K3: &str = "S2V5VGhyZWVLZXlUaHJlZUtleVRocmVlS2V5VGhyZWU=";

/// Creates a customer with a CPF and a document; returns (customer id, document id).
async fn customer_with_document(
    base: &str,
    key: &str,
    ext: &str,
    cpf: &str,
    doc: &[u8],
) -> (String, String) {
    let cid = create_customer(
        base,
        key,
        json!({"type": "individual", "external_id": ext, "identifiers": [{"type": "cpf", "value": cpf}]}),
    )
    .await;
    let did = add_passport(base, key, &cid, doc).await;
    (cid, did)
}

/// The document's bytes, or the HTTP status when it cannot be read.
async fn read_document(base: &str, key: &str, cid: &str, doc: &str) -> Result<Vec<u8>, u16> {
    match document_content(base, key, cid, doc).await {
        (200..=299, bytes) => Ok(bytes),
        (status, _) => Err(status),
    }
}

fn data_args(dir: &Path) -> String {
    dir.join("data").to_str().unwrap().to_string()
}

#[tokio::test]
async fn rotate_with_the_key_file() {
    let dir = temp_dir("rotate-file");
    let data = data_args(&dir);
    let s = Server::start(&dir, "one", &[], &[]);
    let key = s.sandbox_key().unwrap();
    let doc = jpeg("rotate-file-doc");
    let (cid, did) = customer_with_document(&s.base, &key, "rot-1", "529.982.247-25", &doc).await;
    assert_eq!(
        read_document(&s.base, &key, &cid, &did).await,
        Ok(doc.clone())
    );
    s.stop();
    let key_file = dir.join("data/master.key");
    let old = std::fs::read_to_string(&key_file).unwrap();

    let out = run(&["keys", "rotate", "--data-dir", &data, "--generate"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Re-wrapped 2 keys (1 customer data keys, 1 organization keys)"),
        "{stdout}"
    );
    let new = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new, old);
    assert!(
        !stdout.contains(old.trim()) && !stdout.contains(new.trim()),
        "no key material printed"
    );
    #[cfg(unix)]
    assert_eq!(mode_of(&key_file), 0o600);
    let backups: Vec<_> = std::fs::read_dir(dir.join("data"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), old);
    assert!(!dir.join("data/master.key.new").exists());

    // Restarted on the new key file: everything reads, new customers work.
    let s = Server::start(&dir, "two", &[], &[]);
    assert_eq!(
        read_document(&s.base, &key, &cid, &did).await,
        Ok(doc.clone())
    );
    let doc2 = jpeg("after-rotation");
    let (c2, d2) = customer_with_document(&s.base, &key, "rot-2", "111.444.777-35", &doc2).await;
    assert_eq!(read_document(&s.base, &key, &c2, &d2).await, Ok(doc2));
    s.stop();
    // The audit entries' MACs (keyed from the master key) were renewed by
    // the rotation: the chain and every MAC check under the new key.
    let out = run(&["audit", "verify", "--data-dir", &data], &[]);
    let verdict = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{verdict}");
    assert!(verdict.contains("\"ok\":true"), "{verdict}");
    // The old key alone no longer unwraps anything: the server refuses to start.
    let r = serve_until_exit(&dir, "three", &[], &[("KYCD_MASTER_KEY", old.trim())]);
    assert!(!r.started && !r.success, "{}", r.output);
    assert!(r.output.contains("wrong master key"), "{}", r.output);
    // Without any key there is nothing to rotate from.
    let empty = temp_dir("rotate-empty");
    let out = run(
        &[
            "keys",
            "rotate",
            "--data-dir",
            &data_args(&empty),
            "--generate",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no current master key"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}

#[tokio::test]
async fn rolling_rotation_with_the_previous_key() {
    let dir = temp_dir("rotate-rolling");
    let data = data_args(&dir);
    let s = Server::start(&dir, "k1", &[], &[("KYCD_MASTER_KEY", K1)]);
    let key = s.sandbox_key().unwrap();
    let doc_x = jpeg("customer-x");
    let (x, dx) = customer_with_document(&s.base, &key, "x", "529.982.247-25", &doc_x).await;
    s.stop();

    // Step 1: servers switch to K2 and still accept K1 for unwrapping.
    let s = Server::start(
        &dir,
        "k2k1",
        &[],
        &[("KYCD_MASTER_KEY", K2), ("KYCD_MASTER_KEY_PREVIOUS", K1)],
    );
    assert_eq!(
        read_document(&s.base, &key, &x, &dx).await,
        Ok(doc_x.clone())
    );
    let doc_y = jpeg("customer-y");
    let (y, dy) = customer_with_document(&s.base, &key, "y", "111.444.777-35", &doc_y).await;
    // Step 2: rotate while that server runs; it keeps serving both customers.
    let out = run(
        &[
            "keys",
            "rotate",
            "--data-dir",
            &data,
            "--master-key",
            K1,
            "--new-master-key",
            K2,
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Re-wrapped 3 keys (2 customer data keys, 1 organization keys)"),
        "{stdout}"
    );
    assert!(!stdout.contains("WARNING"), "{stdout}");
    assert!(
        !dir.join("data/master.key.new").exists(),
        "an explicit new key is not written anywhere"
    );
    assert_eq!(
        read_document(&s.base, &key, &x, &dx).await,
        Ok(doc_x.clone())
    );
    assert_eq!(
        read_document(&s.base, &key, &y, &dy).await,
        Ok(doc_y.clone())
    );
    s.stop();
    // Step 3: K2 alone is enough.
    let s = Server::start(&dir, "k2", &[], &[("KYCD_MASTER_KEY", K2)]);
    assert_eq!(read_document(&s.base, &key, &x, &dx).await, Ok(doc_x));
    assert_eq!(read_document(&s.base, &key, &y, &dy).await, Ok(doc_y));
    s.stop();
    // A rerun is harmless; a wrong current key changes nothing and says so.
    let out = run(
        &[
            "keys",
            "rotate",
            "--data-dir",
            &data,
            "--master-key",
            K1,
            "--new-master-key",
            K2,
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &[
            "keys",
            "rotate",
            "--data-dir",
            &data,
            "--master-key",
            K3,
            "--new-master-key",
            K1,
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrapped by neither"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &["keys", "rotate", "--data-dir", &data, "--master-key", K2],
        &[],
    );
    assert!(
        !out.status.success(),
        "--new-master-key or --generate is required"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

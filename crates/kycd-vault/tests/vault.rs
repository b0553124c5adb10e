//! Integration tests of the vault: keys, wrapping, field encryption, blind indexes, key file.

use std::path::PathBuf;

use kycd_vault::{
    Aad, BlindIndexKey, DataKey, KeyKind, MasterKey, VaultError, WrappedKey, ciphertext_key_id,
    load_or_create_key_file, rewrap, string_ciphertext_key_id,
};

const CTX: &str = "org:org_1/customer:cus_2";

fn aad() -> Aad<'static> {
    Aad::new("org_1", "cus_2", "national_id")
}

fn seq_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = i as u8;
    }
    k
}

// ---------- master key ----------

#[test]
fn master_key_from_base64_and_id() {
    let text = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let mk = MasterKey::from_base64(text).unwrap();
    // Independently computed: "mk_" + hex(sha256("kycd-master-key-id" || key))[..16]
    assert_eq!(mk.key_id(), "mk_5c747fd3a2382e73");
    assert_eq!(mk.key_id(), MasterKey::from_bytes(seq_key()).key_id());
    assert_eq!(mk.to_base64().as_str(), text);
    // Whitespace and a missing padding are tolerated.
    let mk2 = MasterKey::from_base64("  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n").unwrap();
    assert_eq!(mk2.key_id(), mk.key_id());
}

#[test]
fn master_key_from_base64_rejects_wrong_lengths_and_garbage() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for len in [0usize, 1, 16, 31, 33, 64] {
        let text = b64.encode(vec![0x42u8; len]);
        let err = MasterKey::from_base64(&text).unwrap_err();
        assert!(
            matches!(err, VaultError::InvalidMasterKey(_)),
            "{len}: {err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("32 bytes"), "{msg}");
        assert!(msg.contains(&format!("got {len} bytes")), "{msg}");
        assert!(
            !msg.contains(&text) || text.is_empty(),
            "message leaks input: {msg}"
        );
    }
    for garbage in [
        "not base64 at all!",
        "AAEC*wQF",
        "€€€",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",
    ] {
        let err = MasterKey::from_base64(garbage).unwrap_err();
        assert!(
            matches!(err, VaultError::InvalidMasterKey(_)),
            "{garbage}: {err}"
        );
        assert!(!err.to_string().contains(garbage));
    }
}

#[test]
fn generated_master_keys_differ_and_debug_is_redacted() {
    let a = MasterKey::generate();
    let b = MasterKey::generate();
    assert_ne!(a.key_id(), b.key_id());
    assert!(a.key_id().starts_with("mk_"));
    assert_eq!(a.key_id().len(), 3 + 16);
    assert!(a.key_id()[3..].chars().all(|c| c.is_ascii_hexdigit()));
    let dbg = format!("{a:?}");
    assert!(dbg.contains(a.key_id()));
    assert!(!dbg.contains(a.to_base64().as_str()));
    assert_eq!(format!("{:?}", DataKey::generate()), "DataKey(<redacted>)");
    assert_eq!(
        format!("{:?}", BlindIndexKey::generate()),
        "BlindIndexKey(<redacted>)"
    );
}

// ---------- wrapping ----------

#[test]
fn wrap_unwrap_round_trip_through_text() {
    let mk = MasterKey::generate();
    let dek = DataKey::generate();
    let ct = dek.encrypt("dk_1", &aad(), b"123.456.789-09").unwrap();

    let wrapped = mk.wrap(&dek, CTX);
    assert_eq!(wrapped.master_key_id, mk.key_id());
    assert_eq!(wrapped.kind().unwrap(), KeyKind::DataKey);
    let text = wrapped.to_string();
    assert!(text.starts_with(&format!("v1.{}.", mk.key_id())), "{text}");
    let parsed: WrappedKey = text.parse().unwrap();
    assert_eq!(parsed, wrapped);

    let dek2 = mk.unwrap(&parsed, CTX).unwrap();
    assert_eq!(dek2.decrypt(&aad(), &ct).unwrap(), b"123.456.789-09");
    // Wrapping uses a fresh nonce each time.
    assert_ne!(mk.wrap(&dek, CTX), wrapped);
}

#[test]
fn unwrap_with_wrong_context_fails() {
    let mk = MasterKey::generate();
    let wrapped = mk.wrap(&DataKey::generate(), CTX);
    for ctx in [
        "org:org_1/customer:cus_3",
        "org:org_9/customer:cus_2",
        "",
        "org:org_1/customer:cus_2 ",
    ] {
        assert!(
            matches!(mk.unwrap(&wrapped, ctx), Err(VaultError::UnwrapFailed)),
            "{ctx:?}"
        );
    }
}

#[test]
fn unwrap_under_wrong_master_key_fails() {
    let mk = MasterKey::generate();
    let other = MasterKey::generate();
    let wrapped = mk.wrap(&DataKey::generate(), CTX);
    let err = other.unwrap(&wrapped, CTX).unwrap_err();
    match &err {
        VaultError::MasterKeyMismatch { expected, found } => {
            assert_eq!(expected, other.key_id());
            assert_eq!(found, mk.key_id());
        }
        e => panic!("unexpected {e}"),
    }
    // Even with the id forged to match, authentication fails.
    let forged = WrappedKey {
        master_key_id: other.key_id().to_owned(),
        blob: wrapped.blob.clone(),
    };
    assert!(matches!(
        other.unwrap(&forged, CTX),
        Err(VaultError::UnwrapFailed)
    ));
}

#[test]
fn tampered_wrapped_key_fails() {
    let mk = MasterKey::generate();
    let wrapped = mk.wrap(&DataKey::generate(), CTX);
    for i in 1..wrapped.blob.len() {
        let mut t = wrapped.clone();
        t.blob[i] ^= 0x01;
        assert!(
            matches!(mk.unwrap(&t, CTX), Err(VaultError::UnwrapFailed)),
            "byte {i}"
        );
    }
    // Flipping the kind byte to the other valid kind: the kind is bound as AAD.
    let mut t = wrapped.clone();
    t.blob[0] = 2;
    assert!(matches!(
        mk.unwrap_blind_index_key(&t, CTX),
        Err(VaultError::UnwrapFailed)
    ));
    t.blob[0] = 9;
    assert!(matches!(
        mk.unwrap(&t, CTX),
        Err(VaultError::MalformedWrappedKey(_))
    ));
    let mut t = wrapped.clone();
    t.blob.pop();
    assert!(matches!(
        mk.unwrap(&t, CTX),
        Err(VaultError::MalformedWrappedKey(_))
    ));
}

#[test]
fn key_kinds_are_not_interchangeable() {
    let mk = MasterKey::generate();
    let bik = BlindIndexKey::generate();
    let wrapped = mk.wrap(&bik, "org:org_1/blind-index");
    assert_eq!(wrapped.kind().unwrap(), KeyKind::BlindIndexKey);
    let err = mk.unwrap(&wrapped, "org:org_1/blind-index").unwrap_err();
    assert!(matches!(
        err,
        VaultError::KeyKindMismatch {
            expected: KeyKind::DataKey,
            found: KeyKind::BlindIndexKey
        }
    ));
    let back = mk
        .unwrap_blind_index_key(&wrapped, "org:org_1/blind-index")
        .unwrap();
    assert_eq!(back.compute("cpf", "1"), bik.compute("cpf", "1"));
    let via_generic: BlindIndexKey = mk.unwrap_key(&wrapped, "org:org_1/blind-index").unwrap();
    assert_eq!(via_generic.compute("x", "y"), bik.compute("x", "y"));
}

#[test]
fn wrapped_key_parse_rejects_malformed_text() {
    let mk = MasterKey::generate();
    let good = mk.wrap(&DataKey::generate(), CTX).to_string();
    let b64 = good.rsplit('.').next().unwrap().to_owned();
    let cases = [
        String::new(),
        "v1".to_owned(),
        format!("v1.{}", mk.key_id()),
        format!("v2.{}.{b64}", mk.key_id()),
        format!("v1..{b64}"),
        format!("v1.mk bad.{b64}"),
        format!("v1.{}.%%%", mk.key_id()),
        format!("v1.{}.{}", mk.key_id(), &b64[..b64.len() - 4]),
        format!("v1.{}.{b64}AAAA", mk.key_id()),
        format!("v1.{}.{b64}.x", mk.key_id()),
        format!("v1.{}.{b64}", "m".repeat(65)),
    ];
    for case in &cases {
        let err = case.parse::<WrappedKey>().unwrap_err();
        assert!(
            matches!(err, VaultError::MalformedWrappedKey(_)),
            "{case}: {err}"
        );
    }
    assert!(good.parse::<WrappedKey>().is_ok());
}

#[test]
fn rewrap_keeps_data_decryptable_without_reencrypting() {
    let old = MasterKey::generate();
    let new = MasterKey::generate();
    let dek = DataKey::generate();
    let aad = aad();
    let ct = dek.encrypt("dk_7", &aad, b"passport scan bytes").unwrap();
    let wrapped_old = old.wrap(&dek, CTX);
    drop(dek);

    let wrapped_new = rewrap(&old, &new, &wrapped_old, CTX).unwrap();
    assert_eq!(wrapped_new.master_key_id, new.key_id());
    assert_eq!(wrapped_new.kind().unwrap(), KeyKind::DataKey);
    // Same ciphertext, untouched, decrypts with the key unwrapped by the new master.
    let dek_new = new.unwrap(&wrapped_new, CTX).unwrap();
    assert_eq!(dek_new.decrypt(&aad, &ct).unwrap(), b"passport scan bytes");
    // The old master can no longer unwrap the new blob.
    assert!(old.unwrap(&wrapped_new, CTX).is_err());
    // Rewrap is idempotent (a rerun of an interrupted rotation).
    assert_eq!(rewrap(&old, &new, &wrapped_new, CTX).unwrap(), wrapped_new);
    // A wrong context or wrong old key fails.
    assert!(rewrap(&old, &new, &wrapped_old, "org:x/customer:y").is_err());
    let stranger = MasterKey::generate();
    assert!(rewrap(&stranger, &new, &wrapped_old, CTX).is_err());

    // Blind-index keys keep their kind through a rewrap.
    let bik = BlindIndexKey::generate();
    let w = old.wrap(&bik, "org:org_1");
    let w2 = rewrap(&old, &new, &w, "org:org_1").unwrap();
    let bik2 = new.unwrap_blind_index_key(&w2, "org:org_1").unwrap();
    assert_eq!(bik2.compute("cpf", "1"), bik.compute("cpf", "1"));
}

// ---------- field encryption ----------

#[test]
fn field_round_trip_and_format() {
    let dek = DataKey::generate();
    let ct = dek.encrypt("dk_01HXYZ", &aad(), b"12345678909").unwrap();
    assert_eq!(ct[0], 1);
    assert_eq!(usize::from(ct[1]), "dk_01HXYZ".len());
    assert_eq!(&ct[2..11], b"dk_01HXYZ");
    assert_eq!(ct.len(), 2 + 9 + 12 + 11 + 16);
    assert_eq!(ciphertext_key_id(&ct).unwrap(), "dk_01HXYZ");
    assert_eq!(dek.decrypt(&aad(), &ct).unwrap(), b"12345678909");
    // Random nonce: two encryptions differ.
    assert_ne!(
        dek.encrypt("dk_01HXYZ", &aad(), b"12345678909").unwrap(),
        ct
    );
    // Empty plaintext works.
    let e = dek.encrypt("k", &aad(), b"").unwrap();
    assert_eq!(dek.decrypt(&aad(), &e).unwrap(), b"");
}

#[test]
fn large_document_round_trip() {
    let dek = DataKey::generate();
    let doc: Vec<u8> = (0..10 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let a = Aad::new("org_1", "cus_2", "document:doc_3:front");
    let ct = dek.encrypt("dk_1", &a, &doc).unwrap();
    assert_eq!(ct.len(), doc.len() + 2 + 4 + 12 + 16);
    assert_eq!(dek.decrypt(&a, &ct).unwrap(), doc);
}

#[test]
fn wrong_aad_fails() {
    let dek = DataKey::generate();
    let ct = dek.encrypt("dk_1", &aad(), b"secret").unwrap();
    let wrong = [
        Aad::new("org_9", "cus_2", "national_id"),
        Aad::new("org_1", "cus_3", "national_id"),
        Aad::new("org_1", "cus_2", "passport_number"),
        // Moving bytes between parts must not produce the same AAD.
        Aad::new("org_1c", "us_2", "national_id"),
        Aad::new("", "", ""),
    ];
    for a in &wrong {
        assert!(
            matches!(dek.decrypt(a, &ct), Err(VaultError::DecryptFailed)),
            "{a:?}"
        );
    }
}

#[test]
fn wrong_data_key_fails() {
    let ct = DataKey::generate()
        .encrypt("dk_1", &aad(), b"secret")
        .unwrap();
    assert!(matches!(
        DataKey::generate().decrypt(&aad(), &ct),
        Err(VaultError::DecryptFailed)
    ));
}

#[test]
fn tampered_ciphertext_fails() {
    let dek = DataKey::generate();
    let ct = dek.encrypt("dk_1", &aad(), b"some secret value").unwrap();
    // Every byte after the version and length bytes: key id, nonce, body, tag.
    for i in 2..ct.len() {
        let mut t = ct.clone();
        t[i] ^= 0x80;
        let r = dek.decrypt(&aad(), &t);
        assert!(
            matches!(
                r,
                Err(VaultError::DecryptFailed | VaultError::MalformedCiphertext(_))
            ),
            "byte {i}: {r:?}"
        );
    }
    // Version and length bytes.
    let mut t = ct.clone();
    t[0] = 2;
    assert!(matches!(
        dek.decrypt(&aad(), &t),
        Err(VaultError::MalformedCiphertext(_))
    ));
    let mut t = ct.clone();
    t[1] = 5;
    assert!(dek.decrypt(&aad(), &t).is_err());
    // Truncations and appended bytes.
    for n in 0..ct.len() {
        assert!(dek.decrypt(&aad(), &ct[..n]).is_err(), "truncated to {n}");
    }
    let mut t = ct.clone();
    t.push(0);
    assert!(matches!(
        dek.decrypt(&aad(), &t),
        Err(VaultError::DecryptFailed)
    ));
}

#[test]
fn malformed_ciphertexts_never_panic() {
    let dek = DataKey::generate();
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![1],
        vec![1, 0],
        vec![1, 255],
        vec![1, 3, b'a', b'b', b'c'],
        vec![1, 1, 0xff].into_iter().chain([0u8; 28]).collect(),
        vec![0xff; 100],
    ];
    for input in &inputs {
        assert!(dek.decrypt(&aad(), input).is_err());
        let _ = ciphertext_key_id(input);
    }
    assert!(matches!(
        ciphertext_key_id(
            &[1, 1, 0xff]
                .into_iter()
                .chain([0u8; 28])
                .collect::<Vec<_>>()
        ),
        Err(VaultError::MalformedCiphertext(_))
    ));
}

#[test]
fn key_id_limits() {
    let dek = DataKey::generate();
    assert!(matches!(
        dek.encrypt("", &aad(), b"x"),
        Err(VaultError::InvalidKeyId(_))
    ));
    let long = "k".repeat(256);
    assert!(matches!(
        dek.encrypt(&long, &aad(), b"x"),
        Err(VaultError::InvalidKeyId(_))
    ));
    let max = "k".repeat(255);
    let ct = dek.encrypt(&max, &aad(), b"x").unwrap();
    assert_eq!(ciphertext_key_id(&ct).unwrap(), max);
    assert_eq!(dek.decrypt(&aad(), &ct).unwrap(), b"x");
}

#[test]
fn string_helpers_round_trip() {
    let dek = DataKey::generate();
    let s = dek
        .encrypt_to_string("dk_2", &aad(), "José da Silva")
        .unwrap();
    assert!(s.is_ascii());
    assert!(!s.contains("José"));
    assert_eq!(string_ciphertext_key_id(&s).unwrap(), "dk_2");
    assert_eq!(
        dek.decrypt_from_string(&aad(), &s).unwrap(),
        "José da Silva"
    );
    assert!(matches!(
        dek.decrypt_from_string(&Aad::new("org_1", "cus_2", "name"), &s),
        Err(VaultError::DecryptFailed)
    ));
    assert!(matches!(
        dek.decrypt_from_string(&aad(), "!!not base64!!"),
        Err(VaultError::MalformedCiphertext(_))
    ));
    assert!(string_ciphertext_key_id("!!").is_err());
    // Bytes that are not UTF-8 are refused by the string helper.
    use base64::Engine;
    let bin = dek.encrypt("dk_2", &aad(), &[0xff, 0xfe]).unwrap();
    let bin = base64::engine::general_purpose::STANDARD.encode(bin);
    assert!(matches!(
        dek.decrypt_from_string(&aad(), &bin),
        Err(VaultError::NotUtf8)
    ));
}

#[test]
fn error_messages_do_not_leak_plaintext() {
    let dek = DataKey::generate();
    let ct = dek.encrypt("dk_1", &aad(), b"SUPERSECRET").unwrap();
    let err = DataKey::generate().decrypt(&aad(), &ct).unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(!msg.contains("SUPERSECRET"));
}

// ---------- blind index ----------

#[test]
fn blind_index_known_vector() {
    let key = BlindIndexKey::from_bytes([0x0b; 32]);
    // Independently computed: HMAC-SHA256(0x0b*32, "cpf\0" "12345678909")
    assert_eq!(
        key.compute("cpf", "12345678909"),
        "bcbdc802486d309e05251522c2a8e0cd28cf226d99b2db2d6a07757e7c3eb559"
    );
}

#[test]
fn blind_index_deterministic_and_key_dependent() {
    let k1 = BlindIndexKey::generate();
    let k2 = BlindIndexKey::generate();
    let a = k1.compute("cpf", "12345678909");
    assert_eq!(a.len(), 64);
    assert!(a.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    assert_eq!(a, k1.compute("cpf", "12345678909"));
    assert_eq!(a, k1.clone().compute("cpf", "12345678909"));
    assert_ne!(a, k2.compute("cpf", "12345678909"));
    assert_ne!(a, k1.compute("cpf", "12345678908"));
    // Kinds are separate namespaces, and the separator prevents shifting.
    assert_ne!(a, k1.compute("cnpj", "12345678909"));
    assert_ne!(k1.compute("ab", "c"), k1.compute("a", "bc"));
}

// ---------- key file ----------

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "kycd-vault-test-{tag}-{}-{}",
            std::process::id(),
            &BlindIndexKey::generate().compute("t", "")[..12]
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn key_file_created_then_reloaded() {
    let dir = TempDir::new("create");
    let path = dir.0.join("sub").join("master.key");
    let (k1, created) = load_or_create_key_file(&path).unwrap();
    assert!(created);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim_end(), k1.to_base64().as_str());
    let (k2, created) = load_or_create_key_file(&path).unwrap();
    assert!(!created);
    assert_eq!(k1.key_id(), k2.key_id());
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.0.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("master.key")]);
    // Data wrapped with the first load unwraps with the second.
    let w = k1.wrap(&DataKey::generate(), CTX);
    assert!(k2.unwrap(&w, CTX).is_ok());
}

#[test]
fn key_file_existing_contents_are_used_and_never_replaced() {
    let dir = TempDir::new("existing");
    let path = dir.0.join("master.key");
    std::fs::write(&path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    let (k, created) = load_or_create_key_file(&path).unwrap();
    assert!(!created);
    assert_eq!(k.key_id(), "mk_5c747fd3a2382e73");

    for bad in [
        "",
        "   \n",
        "garbage",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
    ] {
        std::fs::write(&path, bad).unwrap();
        let err = load_or_create_key_file(&path).unwrap_err();
        assert!(
            matches!(err, VaultError::InvalidKeyFile { .. }),
            "{bad:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            bad,
            "file was replaced"
        );
    }
    std::fs::write(&path, vec![b'A'; 5000]).unwrap();
    assert!(matches!(
        load_or_create_key_file(&path),
        Err(VaultError::InvalidKeyFile { .. })
    ));
}

#[test]
fn key_file_io_error_is_reported() {
    let dir = TempDir::new("io");
    // A directory where the file should be.
    let path = dir.0.join("master.key");
    std::fs::create_dir(&path).unwrap();
    let err = load_or_create_key_file(&path).unwrap_err();
    assert!(matches!(err, VaultError::KeyFileIo { .. }), "{err}");
    assert!(err.to_string().contains("master.key"));
}

//! Bad input: at least 1,000 random and mutated bodies to POST and PATCH
//! /v1/customers get a 4xx with a stable code (or a 2xx when the mutation
//! happens to be valid), never a 5xx, and the server stays up.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const STRINGS: &[&str] = &[
    "",
    " ",
    "null",
    "0",
    "-1",
    "1e309",
    "\u{0000}",
    "💥",
    "Ω≈ç√",
    "'; DROP TABLE customers; --",
    "../../etc/passwd",
    "%s%n",
    "\u{202e}abc",
    "cus_",
    "cus_../x",
    "9999-99-99",
    "2000-02-30",
    "+",
    "+0000000000000000000",
    "@@",
    "a@b",
    "BR",
    "br",
    "ZZ",
    "529.982.247-25",
    "000-00-0000",
    "individual",
    "business",
    "partial",
    "reliance",
];

fn random_value(r: &mut Rng, depth: u32) -> Value {
    match r.below(if depth > 2 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(r.below(2) == 0),
        2 => json!(r.next() as i64),
        3 => json!(f64::from_bits(r.next() & 0x7FEF_FFFF_FFFF_FFFF)),
        4 => json!(STRINGS[r.below(STRINGS.len())]),
        5 => json!("x".repeat(r.below(5000))),
        6 => Value::Array(
            (0..r.below(4))
                .map(|_| random_value(r, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "type",
                "individual",
                "business",
                "addresses",
                "identifiers",
                "metadata",
                "external_id",
                "verification",
                "attestation",
                "first_name",
                "value",
                "country",
                "line1",
                "city",
                "primary",
                "email",
                "level",
                "mode",
                "start",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..r.below(5) {
                m.insert(
                    keys[r.below(keys.len())].to_string(),
                    random_value(r, depth + 1),
                );
            }
            Value::Object(m)
        }
    }
}

/// Replaces one random node of `v` by a random value.
fn mutate(v: &mut Value, r: &mut Rng) {
    match v {
        Value::Object(m) if !m.is_empty() && r.below(3) > 0 => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[r.below(keys.len())];
            if r.below(5) == 0 {
                m.remove(k);
            } else {
                mutate(m.get_mut(k).unwrap(), r);
            }
        }
        Value::Array(a) if !a.is_empty() && r.below(3) > 0 => {
            let i = r.below(a.len());
            mutate(&mut a[i], r);
        }
        _ => *v = random_value(r, 1),
    }
}

fn corrupt_bytes(mut b: Vec<u8>, r: &mut Rng) -> Vec<u8> {
    match r.below(4) {
        0 => {
            let n = r.below(b.len().max(1));
            b.truncate(n);
        }
        1 => {
            for _ in 0..3 {
                let i = r.below(b.len().max(1));
                if i < b.len() {
                    b[i] = r.next() as u8;
                }
            }
        }
        2 => b
            .splice(0..0, b"\xEF\xBB\xBF".iter().copied())
            .for_each(drop),
        _ => b.extend_from_slice(b"}}]]"),
    }
    b
}

#[tokio::test]
async fn a_thousand_bad_bodies_never_cause_a_5xx() {
    // A thousand requests in well under a second from one key: the rate
    // limit (tests/rate_limits.rs) is not what this test is about.
    let app = spawn_with(Backend::Sqlite, |c| c.rate_limit_per_second = None)
        .await
        .unwrap();
    let target = app
        .create_customer(complete_individual("fuzz-target"))
        .await;
    let patch_path = format!("/v1/customers/{}", target["id"].as_str().unwrap());
    let mut r = Rng(0xDEAD_BEEF_CAFE_F00D);
    let base = complete_individual("fuzz");
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..1200 {
        let bytes = match i % 3 {
            0 => {
                let mut v = base.clone();
                for _ in 0..1 + r.below(3) {
                    mutate(&mut v, &mut r);
                }
                serde_json::to_vec(&v).unwrap()
            }
            1 => serde_json::to_vec(&random_value(&mut r, 0)).unwrap(),
            _ => corrupt_bytes(serde_json::to_vec(&base).unwrap(), &mut r),
        };
        let path = if i % 2 == 0 {
            "/v1/customers".to_string()
        } else {
            patch_path.clone()
        };
        let res = if i % 2 == 0 {
            app.client.post(format!("{}{path}", app.base))
        } else {
            app.client.patch(format!("{}{path}", app.base))
        }
        .bearer_auth(&app.sandbox_key)
        .header("content-type", "application/json")
        .body(bytes.clone())
        .send()
        .await
        .expect("the server answers");
        let st = res.status();
        *counts.entry(st.as_u16()).or_default() += 1;
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            !st.is_server_error(),
            "5xx for {}: {body}",
            String::from_utf8_lossy(&bytes)
        );
        if st.is_client_error() {
            let code = body["error"]["code"].as_str().unwrap_or("");
            assert!(
                [
                    "invalid_request",
                    "invalid_field",
                    "payload_too_large",
                    "customer_locked",
                    "external_id_taken",
                    "resource_not_found",
                    "requirements_not_met",
                    "invalid_transition"
                ]
                .contains(&code),
                "unexpected code {code} for {}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    eprintln!("status counts over 1,200 bodies: {counts:?}");
    let (st, _) = app.get(&patch_path).await;
    assert_eq!(st, StatusCode::OK, "the server is still up");
}

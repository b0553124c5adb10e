//! `kycd serve --dev`: a receiver on this machine is accepted as a webhook
//! endpoint, and dev mode refuses any listen address but loopback.

use crate::common::{Server, answer, run, temp_dir};
use serde_json::{Value, json};

async fn register(base: &str, key: &str, url: &str) -> (u16, Value) {
    answer(
        reqwest::Client::new()
            .post(format!("{base}/v1/webhook_endpoints"))
            .bearer_auth(key)
            .json(&json!({"url": url, "enabled_events": ["*"]})),
    )
    .await
}

#[tokio::test]
async fn dev_mode_lets_a_local_receiver_in_and_only_on_loopback() {
    // Without --dev a local receiver is refused, and the refusal says how.
    let dir = temp_dir("plain");
    let server = Server::start(&dir, "plain", &[], &[]);
    let key = server.sandbox_key().expect("first start prints a key");
    let (st, e) = register(&server.base, &key, "http://127.0.0.1:9/hook").await;
    assert_eq!(st, 400, "{e}");
    let msg = e["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("kycd serve --dev") && msg.contains("KYCD_WEBHOOK_ALLOW_PRIVATE"),
        "{e}"
    );
    drop(server);

    let dir = temp_dir("dev");
    let server = Server::start(&dir, "dev", &["--dev"], &[]);
    let key = server.sandbox_key().expect("first start prints a key");
    let (st, e) = register(&server.base, &key, "http://127.0.0.1:9/hook").await;
    assert_eq!(st, 201, "{e}");
    let out = server.stop();
    assert!(out.contains("Dev mode:"), "{out}");

    // Dev mode on an address other machines reach: refused, nothing served.
    let dir = temp_dir("dev-public");
    let data = dir.join("data");
    let out = run(
        &[
            "serve",
            "--dev",
            "--listen",
            "0.0.0.0:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--dev only listens on loopback"),
        "{stderr}"
    );
    assert!(!data.join("kycd.db").exists(), "nothing was created");
}

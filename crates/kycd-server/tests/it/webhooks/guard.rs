//! The SSRF guard, with a server that does not allow private targets (the
//! default): refusals at registration, and at delivery time after DNS
//! resolution for endpoints registered while private targets were allowed.

use super::receiver::Receiver;
use super::{add_endpoint, attempts, event_ids, eventually};
use crate::common::*;
use serde_json::json;
use std::net::IpAddr;
use std::time::Duration;

/// This machine's host name, which resolves (without the network, through
/// /etc/hosts) only to addresses the guard forbids. The tests that use it are
/// `ignored` unless the build script found that so (cfg `kycd_private_hostname`).
async fn local_name_resolving_to_forbidden() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("the host name");
    let name = name.trim().to_string();
    let addrs: Vec<IpAddr> = tokio::net::lookup_host((name.as_str(), 80))
        .await
        .expect("the host name resolves")
        .map(|a| a.ip())
        .collect();
    assert!(
        !addrs.is_empty() && addrs.iter().all(|ip| kycd_webhooks::is_forbidden_ip(*ip)),
        "{name} resolves to {addrs:?}: not only to addresses the guard forbids"
    );
    name
}

#[tokio::test]
async fn private_targets_are_refused_at_registration() {
    let app = spawn_with(Backend::Sqlite, |c| c.webhook_allow_private = false)
        .await
        .unwrap();
    let urls = [
        "http://127.0.0.1:8080/h",
        "http://127.1/h",
        "http://0x7f000001/h",
        "http://localhost:8080/h",
        "http://api.localhost/h",
        "http://[::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://10.0.0.5/h",
        "http://172.16.3.4/h",
        "http://192.168.1.1/h",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/h",
    ];
    for url in &urls {
        let (st, v) = app.post("/v1/webhook_endpoints", json!({"url": url})).await;
        assert_eq!(st, 400, "{url} → {v}");
        assert_eq!(v["error"]["code"], "invalid_field");
        assert_eq!(v["error"]["param"], "url");
    }
    let (_, l) = app.get("/v1/webhook_endpoints").await;
    assert_eq!(l["data"], json!([]), "nothing was registered");
}

#[tokio::test]
#[cfg_attr(
    not(kycd_private_hostname),
    ignore = "needs a host name resolving to a private address in /etc/hosts"
)]
async fn refusals_say_not_a_public_address_without_echoing_it() {
    let app = spawn_with(Backend::Sqlite, |c| c.webhook_allow_private = false)
        .await
        .unwrap();
    let name = local_name_resolving_to_forbidden().await;
    let resolved: Vec<IpAddr> = tokio::net::lookup_host((name.as_str(), 80))
        .await
        .unwrap()
        .map(|a| a.ip())
        .collect();
    let (st, v) = app
        .post(
            "/v1/webhook_endpoints",
            json!({"url": format!("http://{name}:8080/h")}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"]["param"], "url");
    let message = v["error"]["message"].as_str().unwrap();
    assert_has(message, "not a public address");
    let body = v.to_string();
    for ip in &resolved {
        assert!(!body.contains(&ip.to_string()), "{ip} echoed: {body}");
    }
    assert!(!body.contains("127.0.0.1"), "{body}");
}

#[tokio::test]
async fn private_addresses_are_refused_at_delivery_time() {
    refused_at_delivery(false).await;
}

#[tokio::test]
#[cfg_attr(
    not(kycd_private_hostname),
    ignore = "needs a host name resolving to a private address in /etc/hosts"
)]
async fn private_host_names_are_refused_at_delivery_time_after_resolution() {
    refused_at_delivery(true).await;
}

async fn refused_at_delivery(host_name: bool) {
    // Endpoints registered while private targets were allowed, on a server
    // without workers; a second server on the same database, which does not
    // allow them, does the delivering.
    let first = spawn_with(Backend::Sqlite, |c| c.workers = false)
        .await
        .unwrap();
    let rx = Receiver::start().await;
    let names = if host_name {
        let name = local_name_resolving_to_forbidden().await;
        vec![format!("http://{name}:{}/hooks", rx.addr.port())]
    } else {
        vec![rx.url.clone()]
    };
    let mut endpoints = vec![];
    for url in &names {
        endpoints.push(
            add_endpoint(&first, url, json!(["customer.created"]))
                .await
                .0,
        );
    }
    let config = kycd_server::Config {
        database_url: Some(first.database_url.clone().into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: first.dir.path().to_path_buf(),
        master_key: Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
        webhook_allow_private: false,
        tick_millis: 200,
        ..kycd_server::Config::default()
    };
    let second = kycd_server::Application::build(config).await.unwrap();
    let (tx, rx_stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(second.run_until(async move {
        let _ = rx_stop.await;
    }));
    first.create_customer(json!({"type": "individual"})).await;
    first.state.outbox_notify.notify_one();
    let evt = event_ids(&first, "customer.created").await.remove(0);
    let log = eventually("refused attempts", Duration::from_secs(20), || async {
        let a = attempts(&first, &evt).await;
        (a.len() == endpoints.len() && a.iter().all(|x| !x["error"].is_null())).then_some(a)
    })
    .await;
    for a in &log {
        let err = a["error"].as_str().unwrap();
        assert!(
            err.contains("SSRF") || err.contains("not allowed"),
            "refused by the guard: {err}"
        );
        assert!(!err.contains("127.0.0.1"), "no resolved address: {err}");
        assert!(a["status_code"].is_null());
    }
    // Every attempt is recorded as refused before anything was sent (the
    // attempt row precedes the request), so the receiver's silence is final.
    assert!(rx.hits().is_empty(), "nothing reached the private address");
    let _ = tx.send(());
}

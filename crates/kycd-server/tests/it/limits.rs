//! Clean failure under abuse, through real sockets: half-sent requests
//! (slowloris) are closed, a declared body that never comes is `408`, the
//! connection cap answers `503`, a request over its deadline is `503`, bodies
//! in other media types are `415`, personal-data responses say `no-store`,
//! and `/metrics` labels stay in a closed set whatever methods and paths
//! clients send. Normal traffic keeps working throughout.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes (or `limit` passes): the bytes and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = vec![];
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

/// The JSON body of a raw HTTP/1.1 response.
fn json_body(raw: &[u8]) -> Value {
    let text = String::from_utf8_lossy(raw);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

async fn customers_work(app: &TestApp) {
    let (st, v) = app
        .post("/v1/customers", json!({"type": "individual"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = app
        .get(&format!("/v1/customers/{}", v["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn half_sent_requests_are_closed_by_the_header_timeout() {
    let mut app = spawn_with(Backend::Sqlite, |c| {
        c.header_read_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    // The 1 s header timeout also closes kept-alive connections idle that
    // long: a pooled client could send on one just as the server closes it
    // (IncompleteMessage, the usual keep-alive race, not what is tested here).
    app.client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut conns = vec![];
    for i in 0..100 {
        let mut s = TcpStream::connect(addr(&app)).await.expect("connect");
        if i % 2 == 0 {
            // Half a request line and a header, then silence.
            s.write_all(b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .unwrap();
        }
        conns.push(s);
    }
    // Normal traffic is served while the slow clients hang on.
    customers_work(&app).await;
    let closed = futures::future::join_all(
        conns
            .iter_mut()
            .map(|s| read_until_closed(s, Duration::from_secs(10))),
    )
    .await;
    for (i, (_, closed)) in closed.iter().enumerate() {
        assert!(
            closed,
            "connection {i} is still open after the header timeout"
        );
    }
    customers_work(&app).await;
}

#[tokio::test]
async fn a_connection_without_activity_is_closed() {
    // The header timeout is long; the inactivity timeout (at least the
    // request timeout plus a second) closes the connection.
    let app = spawn_with(Backend::Sqlite, |c| {
        c.header_read_timeout = Duration::from_secs(600);
        c.request_timeout = Duration::from_secs(1);
        c.idle_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(15)).await;
    assert!(closed, "an inactive connection stays open");
}

#[tokio::test]
async fn a_declared_body_that_never_comes_is_408() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.body_read_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    for (path, content_type) in [
        ("/v1/customers", "application/json"),
        ("/v1/settings", "application/json"),
    ] {
        let method = if path == "/v1/settings" {
            "PATCH"
        } else {
            "POST"
        };
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: 100\r\n\r\n{{\"type\":",
            app.sandbox_key
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let (raw, _) = read_until_closed(&mut s, Duration::from_secs(15)).await;
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 408"), "{method} {path}: {text}");
        let body = json_body(&raw);
        assert_eq!(body["error"]["code"], "request_timeout", "{text}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            body["error"]["request_id"]
                .as_str()
                .unwrap()
                .starts_with("req_")
        );
    }
    // Nothing was created.
    let (_, list) = app.get("/v1/customers").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "{list}");
    customers_work(&app).await;
}

#[tokio::test]
async fn the_connection_cap_answers_503_and_frees_slots() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.max_connections = 4;
    })
    .await
    .unwrap();
    let mut held = vec![];
    for _ in 0..4 {
        held.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    // Let the server accept all four before the fifth arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = TcpStream::connect(addr(&app)).await.unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (raw, closed) = read_until_closed(&mut extra, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    assert_eq!(json_body(&raw)["error"]["code"], "service_unavailable");
    assert!(closed);
    // The held connections are served normally.
    held[0]
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (raw, _) = read_until_closed(&mut held[0], Duration::from_secs(10)).await;
    assert!(String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 200"));
    // Closing them frees their slots.
    drop(held);
    let started = Instant::now();
    loop {
        let client = reqwest::Client::new();
        match client.get(format!("{}/healthz", app.base)).send().await {
            Ok(r) if r.status() == StatusCode::OK => break,
            _ if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => panic!("slots were not freed: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_request_over_its_deadline_is_503() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.request_timeout = Duration::from_secs(1);
    })
    .await
    .unwrap();
    // Hold SQLite's only writer connection: the create waits for it.
    let writer = app.state.store.writer().await.unwrap();
    let started = Instant::now();
    let res = app
        .client
        .post(format!("{}/v1/customers", app.base))
        .bearer_auth(&app.sandbox_key)
        .json(&json!({"type": "individual"}))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    drop(writer);
    customers_work(&app).await;
}

both_backends!(bodies_in_other_media_types_are_415, |app| async move {
    let body = serde_json::to_vec(&json!({"type": "individual"})).unwrap();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "image/jpeg",
    ] {
        let (st, e) = app
            .post_raw("/v1/customers", body.clone(), &[("content-type", ct)])
            .await;
        assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}: {e}");
        assert_eq!(e["error"]["code"], "unsupported_media_type", "{ct}");
        assert_eq!(e["error"]["type"], "invalid_request_error");
    }
    // PATCH too.
    let res = app
        .client
        .patch(format!("{}/v1/settings", app.base))
        .bearer_auth(&app.sandbox_key)
        .header("content-type", "text/plain")
        .body(r#"{"min_age": 21}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (_, settings) = app.get("/v1/settings").await;
    assert_eq!(settings["min_age"], 18, "a refused PATCH changes nothing");
    // Nothing was created by the refused bodies.
    let (_, list) = app.get("/v1/customers").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    // JSON in its spellings, and a body without Content-Type, still work.
    for headers in [
        vec![("content-type", "application/json")],
        vec![("content-type", "application/json; charset=utf-8")],
        vec![("content-type", "Application/JSON")],
        vec![],
    ] {
        let (st, v) = app.post_raw("/v1/customers", body.clone(), &headers).await;
        assert_eq!(st, StatusCode::CREATED, "{headers:?}: {v}");
    }
    // Document upload takes multipart too, but not other types.
    let cid = id_of(&app.create_customer(json!({"type": "individual"})).await);
    let path = format!("/v1/customers/{cid}/documents");
    let (st, e) = app
        .post_raw(&path, tiny_jpeg("x"), &[("content-type", "image/jpeg")])
        .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert_message(&e, "multipart/form-data");
    let (st, e) = app
        .post_raw(
            &path,
            b"--x\r\nnot a part".to_vec(),
            &[("content-type", "multipart/form-data; boundary=x")],
        )
        .await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "multipart reaches the upload parser: {e}"
    );
});

#[tokio::test]
async fn personal_data_responses_are_not_stored_by_caches() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let id = id_of(&app.create_customer(complete_individual("nostore")).await);
    let client = &app.client;
    let cases = [
        (
            Method::GET,
            format!("/v1/customers/{id}"),
            Some(&app.sandbox_key),
        ),
        (
            Method::GET,
            "/v1/customers".to_string(),
            Some(&app.sandbox_key),
        ),
        (
            Method::GET,
            "/v1/customers/cus_nope".to_string(),
            Some(&app.sandbox_key),
        ),
        (Method::GET, "/v1/settings".to_string(), None),
        (Method::GET, "/hosted/v/not-a-token".to_string(), None),
    ];
    for (method, path, key) in cases {
        let mut req = client.request(method.clone(), format!("{}{path}", app.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.unwrap();
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{method} {path} ({})",
            res.status()
        );
    }
    let res = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("cache-control").is_none());
}

#[tokio::test]
async fn metrics_labels_stay_in_a_closed_set() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    for i in 0..40 {
        let long = format!("X{}{i}", "Y".repeat(2000));
        let method = Method::from_bytes(long.as_bytes()).unwrap();
        let _ = app
            .client
            .request(method, format!("{}/v1/customers/cus_{i}/zz{i}", app.base))
            .bearer_auth(&app.sandbox_key)
            .send()
            .await
            .unwrap();
        let _ = app
            .client
            .request(
                Method::from_bytes(b"PROPFIND").unwrap(),
                format!("{}/nowhere/{i}", app.base),
            )
            .send()
            .await
            .unwrap();
        let _ = app
            .get(&format!("/v1/unknown/{i}-{}", "p".repeat(500)))
            .await;
    }
    let _ = app.get("/v1/customers").await;
    let text = app.metrics_text().await;
    assert!(text.len() < 64 * 1024, "/metrics is {} bytes", text.len());
    let known = [
        "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "other",
    ];
    let mut routes = std::collections::BTreeSet::new();
    // The HTTP series carry method and route; the others (providers, create
    // stages, group commits) have labels of their own, named in the code.
    for line in text.lines().filter(|l| l.starts_with("kycd_http_")) {
        let method = line
            .split("method=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(known.contains(&method), "method label {method:?}");
        let route = line
            .split("route=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        routes.insert(route.to_string());
    }
    for route in &routes {
        assert!(
            route == "other"
                || (route.starts_with('/')
                    && !route.contains("cus_")
                    && !route.contains("ppp")
                    && !route.contains("nowhere")),
            "route label {route:?}"
        );
    }
    assert!(routes.contains("other"), "{routes:?}");
    assert!(routes.contains("/v1/customers"), "{routes:?}");
    assert!(
        text.contains("method=\"other\""),
        "weird methods count as other"
    );
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_and_drops_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let config = kycd_server::Config {
        database_url: Some(format!("sqlite://{}", dir.path().join("kycd.db").display()).into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        master_key: Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
        ..kycd_server::Config::default()
    };
    let app = kycd_server::Application::build(config).await.unwrap();
    let key = app.bootstrap.clone().unwrap().sandbox_api_key;
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    // An idle connection that never sends anything.
    let _idle = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    // A create that waits for SQLite's writer connection, held here.
    let writer = state.store.writer().await.unwrap();
    let in_flight = tokio::spawn({
        let (base, key) = (base.clone(), key.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{base}/v1/customers"))
                .bearer_auth(key)
                .json(&json!({"type": "individual"}))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(writer);
    assert_eq!(
        in_flight
            .await
            .unwrap()
            .expect("the request in flight is answered"),
        StatusCode::CREATED
    );
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("shutdown does not wait for idle connections")
        .unwrap()
        .unwrap();
}

both_backends!(
    a_closed_database_is_503_with_retry_after_on_each_backend,
    |app| async move {
        let started = Instant::now();
        let res = app.public_get("/readyz").await;
        assert_eq!(res.status(), StatusCode::OK);
        // The store's pools closed under the server: what a database gone for
        // good looks like on either backend (SQLite cannot be stopped).
        app.state.store.close().await;
        let res = app.public_get("/readyz").await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        for _ in 0..5 {
            let res = app
                .client
                .post(format!("{}/v1/customers", app.base))
                .bearer_auth(&app.sandbox_key)
                .json(&json!({"type": "individual"}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{:?}",
                app.backend
            );
            assert!(res.headers().contains_key("retry-after"));
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "service_unavailable");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
);

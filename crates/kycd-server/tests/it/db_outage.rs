//! Database outage: kycd runs against its own throwaway PostgreSQL cluster
//! (initdb into a temporary directory on a free port; `ignored` unless the
//! PostgreSQL tests are enabled, see build.rs). The cluster is stopped under load:
//! API calls answer `503 service_unavailable` with `Retry-After` within 2 s
//! and `/readyz` says `503` within 1 s. The cluster is started again and kycd
//! recovers by itself.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of this test only.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).output().expect("run a PostgreSQL binary")
    }

    fn start_new() -> Option<Cluster> {
        let bin = pg_bin()?;
        let dir = tempfile::tempdir().ok()?;
        let as_postgres = is_root();
        if as_postgres {
            // initdb refuses to run as root: the cluster belongs to `postgres`.
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let cluster = Cluster {
            bin,
            data: dir.path().join("data"),
            port,
            as_postgres,
            _dir: dir,
        };
        let out = cluster.run(
            "initdb",
            &[
                "-D",
                cluster.data.to_str()?,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        if !out.status.success() {
            eprintln!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        cluster.start();
        Some(cluster)
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let _ = self.run(
                "pg_ctl",
                &[
                    "-D",
                    self.data.to_str().unwrap_or(""),
                    "-m",
                    "immediate",
                    "stop",
                ],
            );
        }
    }
}

/// One API call: status, body, Retry-After, how long it took.
async fn call(app: &TestApp, create: bool) -> (StatusCode, Value, Option<String>, Duration) {
    let started = Instant::now();
    let req = if create {
        app.client
            .post(format!("{}/v1/customers", app.base))
            .json(&json!({"type": "individual"}))
    } else {
        app.client.get(format!("{}/v1/customers?limit=5", app.base))
    };
    let res = req
        .bearer_auth(&app.sandbox_key)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("the server answers");
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body, retry, started.elapsed())
}

async fn readyz(app: &TestApp) -> (StatusCode, Duration) {
    let started = Instant::now();
    let res = app
        .client
        .get(format!("{}/readyz", app.base))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    (res.status(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn a_postgres_outage_answers_503_fast_and_recovers() {
    let Some(cluster) = Cluster::start_new() else {
        panic!(
            "no throwaway PostgreSQL cluster: initdb/pg_ctl missing under /usr/lib/postgresql, or initdb failed"
        );
    };
    let url = cluster.url();
    // The load retries at once on 503: no rate limit, so that every answer
    // during the outage is about the database.
    let app = spawn_with(Backend::Sqlite, move |c| {
        c.database_url = Some(url.into());
        c.rate_limit_per_second = None;
    })
    .await
    .expect("kycd on the throwaway cluster");
    assert_eq!(readyz(&app).await.0, StatusCode::OK);
    let (st, v, _, _) = call(&app, true).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // Load: a few clients reading and creating all along.
    let app = Arc::new(app);
    let stop_load = Arc::new(AtomicBool::new(false));
    let mut load = vec![];
    for i in 0..4 {
        let (app, stop_load) = (app.clone(), stop_load.clone());
        load.push(tokio::spawn(async move {
            let mut seen = vec![];
            while !stop_load.load(Ordering::SeqCst) {
                let at = Instant::now();
                seen.push((at, call(&app, i % 2 == 0).await));
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.stop();
    let stopped_at = Instant::now();

    // During the outage every API call is a clean 503 with Retry-After, fast.
    let mut outage_calls = 0;
    let (mut slowest_503, mut slowest_readyz) = (Duration::ZERO, Duration::ZERO);
    while stopped_at.elapsed() < Duration::from_secs(4) {
        for create in [false, true] {
            let (st, body, retry, took) = call(&app, create).await;
            assert_eq!(
                st,
                StatusCode::SERVICE_UNAVAILABLE,
                "during the outage: {body}"
            );
            assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
            assert_eq!(body["error"]["type"], "api_error", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                !message.contains("pool")
                    && !message.contains("sqlx")
                    && !message.contains("connection"),
                "{message}"
            );
            let retry: u64 = retry.expect("Retry-After on 503").parse().unwrap();
            assert!(retry >= 1);
            assert!(took < Duration::from_secs(2), "a 503 took {took:?}");
            slowest_503 = slowest_503.max(took);
            outage_calls += 1;
        }
        let (st, took) = readyz(&app).await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < Duration::from_secs(1), "/readyz took {took:?}");
        slowest_readyz = slowest_readyz.max(took);
    }
    assert!(outage_calls >= 4);

    let restart_began = Instant::now();
    cluster.start();
    let restarted_at = Instant::now();
    // kycd recovers by itself: no restart, no intervention.
    loop {
        let (st, body, _, _) = call(&app, false).await;
        if st == StatusCode::OK {
            break;
        }
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            restarted_at.elapsed() < Duration::from_secs(20),
            "no recovery 20 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered_after = restarted_at.elapsed();
    let (st, v, _, _) = call(&app, true).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(readyz(&app).await.0, StatusCode::OK);

    stop_load.store(true, Ordering::SeqCst);
    let mut during = 0;
    for task in load {
        for (at, (st, body, retry, took)) in task.await.unwrap() {
            // Calls that began once the database was down and ended before
            // it was started again.
            if at > stopped_at + Duration::from_millis(100) && at + took < restart_began {
                assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
                assert!(retry.is_some());
                assert!(
                    took < Duration::from_secs(2),
                    "a 503 under load took {took:?}"
                );
                during += 1;
            }
            assert!(
                !st.is_server_error() || st == StatusCode::SERVICE_UNAVAILABLE,
                "{st}: {body}"
            );
        }
    }
    assert!(during > 0, "the load saw the outage");
    eprintln!(
        "outage: {outage_calls} probing calls (slowest 503 {slowest_503:?}, slowest /readyz {slowest_readyz:?}), \
         {during} calls under load answered 503; recovered {recovered_after:?} after the database was back"
    );
}

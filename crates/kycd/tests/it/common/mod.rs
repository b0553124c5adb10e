//! Runs the real `kycd` binary for end-to-end tests: `serve` on port 0 with
//! stdout/stderr captured to files, one-shot CLI commands, and a fresh
//! PostgreSQL database when KYCD_TEST_POSTGRES_URL is set.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kycd");

/// Whether a variable of the test's own environment must not reach a kycd
/// process: every setting (`KYCD_…`), not the test suite's own (`KYCD_TEST_…`).
fn scrubbed(name: &str) -> bool {
    name.starts_with("KYCD_") && !name.starts_with("KYCD_TEST_")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held by the tests that push a kycd process hard on a timing budget (1,000
/// webhook deliveries, kill -9 under load): in one test binary they would
/// otherwise all run at once on a 2-core machine, and a 15 s delivery timeout
/// or a lease would expire because of the neighbours, not of kycd.
pub async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    HEAVY.lock().await
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "kycd-e2e-{name}-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(scrubbed) {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs a one-shot CLI command to completion.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env)
        .stdin(Stdio::null())
        .output()
        .expect("run kycd")
}

/// Spawns `kycd serve --listen 127.0.0.1:0 --data-dir DIR/data [extra]` with
/// stdout and stderr captured to `DIR/TAG.stdout` and `DIR/TAG.stderr`.
fn spawn_serve(
    dir: &Path,
    tag: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Child, PathBuf, PathBuf) {
    let stdout = dir.join(format!("{tag}.stdout"));
    let stderr = dir.join(format!("{tag}.stderr"));
    let data = dir.join("data");
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let child = command(&args, env)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("spawn kycd serve");
    (child, stdout, stderr)
}

pub struct Server {
    child: Child,
    pub base: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Server {
    /// `kycd serve --listen 127.0.0.1:0 --data-dir DIR [extra]`, waiting until it listens.
    pub fn start(dir: &Path, tag: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let (child, stdout, stderr) = spawn_serve(dir, tag, extra, env);
        let mut s = Server {
            child,
            base: String::new(),
            stdout,
            stderr,
        };
        let start = Instant::now();
        loop {
            let out = std::fs::read_to_string(&s.stdout).unwrap_or_default();
            if let Some(line) = out.lines().find(|l| l.starts_with("kycd listening on ")) {
                s.base = line
                    .trim_start_matches("kycd listening on ")
                    .trim()
                    .to_string();
                return s;
            }
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!(
                    "kycd serve exited ({status}): {}",
                    std::fs::read_to_string(&s.stderr).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "kycd serve did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The sandbox key printed on the first start (after the listening line:
    /// waits a moment for it).
    pub fn sandbox_key(&self) -> Option<String> {
        let start = Instant::now();
        loop {
            let key = std::fs::read_to_string(&self.stdout)
                .unwrap_or_default()
                .lines()
                .find_map(|l| {
                    l.split_once("Sandbox API key (shown once, store it now): ")
                        .map(|(_, k)| k.trim().to_string())
                });
            if key.is_some() || start.elapsed() > Duration::from_secs(2) {
                return key;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM (what a container runtime sends) and waits up to
    /// `timeout` for the process to exit; returns whether it exited by
    /// itself with success, and everything it wrote.
    pub fn terminate(mut self, timeout: Duration) -> (bool, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(sent.success(), "kill -TERM {pid}");
        let start = Instant::now();
        let ok = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status.success();
            }
            if start.elapsed() > timeout {
                break false;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (ok, self.stop())
    }

    /// Stops the process and returns everything it wrote (stdout then stderr).
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        format!(
            "{}\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database URL. Tests calling it are `ignored` unless
/// KYCD_TEST_POSTGRES_URL was set at build time (build.rs), so a missing
/// variable at run time is an error, never a silent pass.
pub async fn fresh_postgres_url() -> String {
    let base = std::env::var("KYCD_TEST_POSTGRES_URL")
        .expect("KYCD_TEST_POSTGRES_URL was set when the tests were built: set it to run them");
    kycd_store::create_scratch_database(&base, "kycd_e2e")
        .await
        .expect("create a test database on KYCD_TEST_POSTGRES_URL")
}

/// How a `kycd serve` that should refuse to start ended.
pub struct Refusal {
    /// The process listened instead of exiting (then it was killed).
    pub started: bool,
    pub success: bool,
    /// stdout then stderr.
    pub output: String,
}

/// Runs `kycd serve --listen 127.0.0.1:0 --data-dir DIR/data [extra]` and waits
/// for it to exit (a server that starts listening is stopped and reported).
pub fn serve_until_exit(dir: &Path, tag: &str, extra: &[&str], env: &[(&str, &str)]) -> Refusal {
    let (mut child, stdout, stderr) = spawn_serve(dir, tag, extra, env);
    let read = || {
        format!(
            "{}\n{}",
            std::fs::read_to_string(&stdout).unwrap_or_default(),
            std::fs::read_to_string(&stderr).unwrap_or_default()
        )
    };
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Refusal {
                started: false,
                success: status.success(),
                output: read(),
            };
        }
        if read().contains("kycd listening on ") || start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Refusal {
                started: true,
                success: false,
                output: read(),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every object of a list endpoint (`path` with its query, without paging),
/// walking the pages with `starting_after`.
pub async fn list_all(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
    path: &str,
) -> Vec<serde_json::Value> {
    let mut all = vec![];
    let mut after: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let mut url = format!("{base}{path}{sep}limit=100");
        if let Some(a) = &after {
            url.push_str(&format!("&starting_after={a}"));
        }
        let (_, page) = answer(client.get(url).bearer_auth(api_key)).await;
        let data = page["data"].as_array().unwrap().clone();
        after = data.last().map(|o| o["id"].as_str().unwrap().to_string());
        all.extend(data);
        if page["has_more"] != true {
            return all;
        }
    }
}

/// Runs a one-shot command with these database flags (`db`) after `args`:
/// whether it succeeded, its stdout and its stderr.
pub fn cli(args: &[&str], db: &[&str]) -> (bool, String, String) {
    let mut all = args.to_vec();
    all.extend_from_slice(db);
    let out = run(&all, &[]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The flags that point a one-shot command at a database (`--data-dir`, and
/// `--database-url` when one is given), and the environment that points a
/// server at it.
pub fn database_flags<'a>(
    data: &'a str,
    url: Option<&'a str>,
) -> (Vec<&'a str>, Vec<(&'static str, &'a str)>) {
    let mut db = vec!["--data-dir", data];
    let mut env = vec![];
    if let Some(u) = url {
        db.extend_from_slice(&["--database-url", u]);
        env.push(("KYCD_DATABASE_URL", u));
    }
    (db, env)
}

/// Runs a process test in a fresh folder named `tag` (removed after), on a
/// new PostgreSQL database when `postgres`: `test(folder, database URL)`.
pub async fn in_fresh_dir(tag: &str, postgres: bool, test: impl AsyncFnOnce(&Path, Option<&str>)) {
    let url = if postgres {
        Some(fresh_postgres_url().await)
    } else {
        None
    };
    let dir = temp_dir(tag);
    test(&dir, url.as_deref()).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fixed master key (base64 of 32 bytes) for tests that run several
/// processes on one database or restart one: they must all hold the same key.
pub const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Two more fixed master keys, for the tests that rotate or mix keys.
pub const K1: &str = "S2V5T25lS2V5T25lS2V5T25lS2V5T25lS2V5T25lMDE=";
pub const K2: &str = "S2V5VHdvS2V5VHdvS2V5VHdvS2V5VHdvS2V5VHdvMDI=";

/// A minimal JPEG (magic bytes and end marker) with a marker inside.
pub fn jpeg(marker: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend_from_slice(marker.as_bytes());
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

/// The `id` of an API object; panics showing the object when it has none.
pub fn id_of(v: &serde_json::Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// Sends a request; its status and JSON answer (`Null` when the body is
/// empty or not JSON).
pub async fn answer(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// `GET base+path` with the API key: the status and the body's bytes.
pub async fn get_bytes(base: &str, key: &str, path: &str) -> (u16, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// A document's content: the status and the bytes.
pub async fn document_content(base: &str, key: &str, customer: &str, doc: &str) -> (u16, Vec<u8>) {
    let path = format!("/v1/customers/{customer}/documents/{doc}/content");
    get_bytes(base, key, &path).await
}

/// `POST /v1/customers` with this body; asserts 201 and returns the id.
pub async fn create_customer(base: &str, key: &str, body: serde_json::Value) -> String {
    let (status, c) = answer(
        reqwest::Client::new()
            .post(format!("{base}/v1/customers"))
            .bearer_auth(key)
            .json(&body),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    id_of(&c)
}

/// Uploads a passport JPEG for the customer; returns the document's id.
pub async fn add_passport(base: &str, key: &str, customer: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    let content = base64::engine::general_purpose::STANDARD.encode(bytes);
    let (_, d) = answer(
        reqwest::Client::new()
            .post(format!("{base}/v1/customers/{customer}/documents"))
            .bearer_auth(key)
            .json(&serde_json::json!({"type": "passport", "content_type": "image/jpeg", "content_base64": content})),
    )
    .await;
    id_of(&d)
}

/// The permission bits (`0o777` part) of a file.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).unwrap().permissions()) & 0o777
}

/// `POST base+path` with the API key and a JSON body; asserts a 2xx and
/// returns the JSON answer.
pub async fn post_ok(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, v) = answer(
        client
            .post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body),
    )
    .await;
    assert!((200..300).contains(&status), "{path}: {status} {v}");
    v
}

/// The environment of a kycd process in the webhook tests: receivers on this
/// machine allowed, the shared [`MASTER_KEY`], no rate limit (many creates
/// from one key on purpose), this log filter, then `extra`.
pub fn webhook_env<'a>(log: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("KYCD_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("KYCD_MASTER_KEY", MASTER_KEY),
        ("KYCD_LOG", log),
        ("KYCD_RATE_LIMIT", "0"),
    ];
    env.extend_from_slice(extra);
    env
}

/// Registers a webhook endpoint for these event types (`POST
/// /v1/webhook_endpoints`, asserted 2xx); the endpoint.
pub async fn add_endpoint(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    url: &str,
    events: &[&str],
) -> serde_json::Value {
    let body = serde_json::json!({"url": url, "enabled_events": events});
    post_ok(client, base, key, "/v1/webhook_endpoints", body).await
}

/// Webhook attempts claimed, summed over the dispatcher's debug lines of a
/// JSON log (`KYCD_LOG=…,kycd::webhooks=debug`, `KYCD_LOG_FORMAT=json`).
pub fn claimed_in(log: &str) -> u64 {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "claimed webhook deliveries")
        .filter_map(|v| v["attempts"].as_u64())
        .sum()
}

/// A fresh database for `kycd` processes: SQLite under `dir/data`, or a new
/// PostgreSQL database; `args` are the flags that point a `kycd` command at
/// it, `url` is where a test opens it directly.
pub struct TestDb {
    pub args: Vec<String>,
    pub url: String,
}

impl TestDb {
    pub async fn new(dir: &std::path::Path, postgres: bool) -> TestDb {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut args = vec!["--data-dir".to_string(), data.display().to_string()];
        let url = if postgres {
            let url = fresh_postgres_url().await;
            args.extend(["--database-url".to_string(), url.clone()]);
            url
        } else {
            format!("sqlite://{}", data.join("kycd.db").display())
        };
        TestDb { args, url }
    }
}

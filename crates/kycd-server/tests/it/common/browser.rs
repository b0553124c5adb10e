//! Headless Chromium for the browser tests of the hosted pages, driven over
//! W3C WebDriver by Debian's `chromedriver`: each [`Browser`] starts its own
//! chromedriver on a free port and one Chromium session with a fresh profile,
//! and ends both (and any Chromium process of that profile) when closed or
//! dropped, a panicking test included. Tests that use it carry
//! `#[cfg_attr(not(kycd_chromium), ignore = ...)]` (see `build/optional_tests.rs`).
//!
//! A small client over reqwest rather than the `fantoccini` crate: that one
//! depends on `webdriver`, licensed MPL-2.0, which deny.toml does not allow.

/// Declares a browser test: SQLite only (the pages do not depend on the
/// database), `ignored` where Debian's chromium and chromium-driver are not
/// installed (shown as skipped, never as passed).
macro_rules! browser_test {
    ($name:ident, $f:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(
            not(kycd_chromium),
            ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )]
        async fn $name() {
            $crate::common::run_on($crate::common::Backend::Sqlite, $f).await;
        }
    };
}

use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A phone's viewport width, in CSS pixels.
pub const MOBILE: u32 = 375;
/// A laptop's viewport width, in CSS pixels.
pub const DESKTOP: u32 = 1280;

/// The W3C key of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long [`Browser::wait_for`] and the start of chromedriver may take.
const PATIENCE: Duration = Duration::from_secs(15);

/// Debian's Chromium: `/usr/bin/chromium`, else `chromium` on PATH.
pub fn chromium_binary() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.exists() {
        return debian;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or(debian)
}

/// Where screenshots go: `<target>/screenshots/hosted/`, the target folder
/// being the parent of CARGO_TARGET_TMPDIR (set by cargo for integration
/// tests, and following CARGO_TARGET_DIR), else `<workspace>/target`.
pub fn screenshot_dir() -> PathBuf {
    let target = option_env!("CARGO_TARGET_TMPDIR")
        .and_then(|tmp| Path::new(tmp).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots").join("hosted")
}

/// A reqwest client for the no-JavaScript tests of the hosted pages: keeps
/// cookies like a browser and does not follow redirects, so a test sees each
/// `303` and its `Location`.
pub fn form_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}

/// One headless Chromium window behind its own chromedriver. Every helper
/// panics with the WebDriver error on failure (a test failure).
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session_url: String,
    width: u32,
    owned: Option<Owned>,
}

/// What a [`Browser`] must end: its session, its chromedriver and the
/// Chromium processes of its profile.
struct Owned {
    port: u16,
    session: Option<String>,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// A phone-sized window ([`MOBILE`] px wide).
    pub async fn mobile() -> Browser {
        Browser::open(MOBILE).await
    }

    /// A desktop-sized window ([`DESKTOP`] px wide).
    pub async fn desktop() -> Browser {
        Browser::open(DESKTOP).await
    }

    /// A phone as Chromium emulates one (DevTools' device mode): a
    /// [`MOBILE`]-px-wide screen at 2 device pixels per CSS pixel, touch,
    /// and `<meta name=viewport>` applied as on a phone. A page without that
    /// tag is laid out 980 px wide and shrunk (`client_width()` is then 980),
    /// which [`Browser::mobile`], a narrow desktop window, cannot show.
    /// Screenshots are 750 px wide.
    pub async fn phone() -> Browser {
        let emulation = json!({"deviceMetrics": {
            "width": MOBILE, "height": 812, "pixelRatio": 2, "mobile": true, "touch": true
        }});
        Browser::launch(MOBILE, Some(emulation)).await
    }

    /// A window whose viewport is `width` CSS pixels wide (checked through
    /// `window.innerWidth`).
    pub async fn open(width: u32) -> Browser {
        Browser::launch(width, None).await
    }

    async fn launch(width: u32, mobile_emulation: Option<Value>) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("kycd-chromium-")
            .tempdir()
            .expect("a Chromium profile folder");
        let (port, driver) = start_chromedriver().await;
        let mut owned = Owned {
            port,
            session: None,
            driver,
            profile,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a reqwest client");
        let mut capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
            "goog:chromeOptions": {
                "binary": chromium_binary(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--lang=en-US",
                    // A fake camera answers getUserMedia (the hosted flow's capture).
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    format!("--user-data-dir={}", owned.profile.path().display()),
                ],
            },
        }}});
        if let Some(emulation) = &mobile_emulation {
            capabilities["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["mobileEmulation"] =
                emulation.clone();
        }
        let answer = http
            .post(format!("http://127.0.0.1:{port}/session"))
            .json(&capabilities)
            .send()
            .await;
        let value = match answer {
            Ok(res) => res.json::<Value>().await.unwrap_or(Value::Null),
            Err(e) => json!({"value": {"error": e.to_string()}}),
        };
        let Some(id) = value["value"]["sessionId"].as_str() else {
            owned.release();
            panic!("chromedriver opened no Chromium session: {value}");
        };
        owned.session = Some(id.to_string());
        let browser = Browser {
            http,
            session_url: format!("http://127.0.0.1:{port}/session/{id}"),
            width,
            owned: Some(owned),
        };
        if mobile_emulation.is_none() {
            browser.set_width(width).await;
        }
        browser
    }

    /// Resizes the window so that the viewport is `width` CSS pixels wide.
    /// Chromium's smallest window is 500 px when asked at launch
    /// (`--window-size`), but a resize through WebDriver goes below it.
    pub async fn set_width(&self, width: u32) {
        let height = if width < 600 { 812 } else { 900 };
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
        let inner = self.execute("return window.innerWidth", vec![]).await;
        assert_eq!(
            inner.as_u64(),
            Some(u64::from(width)),
            "the viewport is not {width} px wide after the resize"
        );
    }

    /// The width this browser was opened with.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Navigates to `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> String {
        string(
            self.command(reqwest::Method::GET, "/url", Value::Null)
                .await,
        )
    }

    /// The current page's `<title>`.
    pub async fn title(&self) -> String {
        string(
            self.command(reqwest::Method::GET, "/title", Value::Null)
                .await,
        )
    }

    /// Runs `script` (a function body: `return …`) in the page with `args`.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Saves a PNG of the viewport as `<target>/screenshots/hosted/<name>.png`
    /// (`name` without `.png`; may contain `/` for sub-folders) and prints
    /// its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .command(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        save_png(name, &string(png))
    }

    /// Like [`Browser::screenshot`], of the whole page rather than the
    /// viewport (Chromium's DevTools `Page.captureScreenshot`).
    pub async fn screenshot_full_page(&self, name: &str) -> PathBuf {
        let shot = self
            .command(
                reqwest::Method::POST,
                "/goog/cdp/execute",
                json!({"cmd": "Page.captureScreenshot",
                       "params": {"format": "png", "captureBeyondViewport": true}}),
            )
            .await;
        save_png(name, &string(shot["data"].clone()))
    }

    /// The element `css` selects (the first one), or a panic.
    pub async fn find(&self, css: &str) -> String {
        self.try_find(css)
            .await
            .unwrap_or_else(|e| panic!("no element matches {css:?}: {e}"))
    }

    /// Whether some element matches `css` now.
    pub async fn exists(&self, css: &str) -> bool {
        self.try_find(css).await.is_ok()
    }

    /// Waits (up to 15 s) until an element matches `css`.
    pub async fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.try_find(css).await {
                Ok(element) => return element,
                Err(e) if Instant::now() > deadline => {
                    panic!("no element matched {css:?} within {PATIENCE:?}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Clears the field `css` selects and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        )
        .await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Clicks the element `css` selects (scrolled into view first); when the
    /// click navigates, waits for the new page.
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    /// Chooses the file at `path` in the `<input type=file>` that `css`
    /// selects (the path is made absolute; the file must exist).
    /// Types into an element without clearing it first (`"\u{E007}"` is Enter).
    pub async fn type_keys(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Chooses an option of a `<select>` by its value, as a user would.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css).await;
        let script = "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
                      s.dispatchEvent(new Event('change', {bubbles: true})); return s.value;";
        let chosen = self.execute(script, vec![json!(css), json!(value)]).await;
        assert_eq!(chosen, json!(value), "{css} has the option {value}");
    }

    pub async fn upload(&self, css: &str, path: &Path) {
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("upload of {}: {e}", path.display()));
        let e = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": path.display().to_string()}),
        )
        .await;
    }

    /// The rendered text of the element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        string(
            self.command(
                reqwest::Method::GET,
                &format!("/element/{e}/text"),
                Value::Null,
            )
            .await,
        )
    }

    /// The value of attribute `name` of the element `css` selects.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css).await;
        self.command(
            reqwest::Method::GET,
            &format!("/element/{e}/attribute/{name}"),
            Value::Null,
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// Whether the page scrolls sideways (`scrollWidth > clientWidth` of the
    /// root element): a layout wider than the viewport.
    pub async fn has_horizontal_scroll(&self) -> bool {
        let wide = self
            .execute(
                "const r = document.documentElement; return r.scrollWidth > r.clientWidth",
                vec![],
            )
            .await;
        wide.as_bool().expect("a boolean")
    }

    /// `document.documentElement.clientWidth`: the viewport less a scrollbar.
    pub async fn client_width(&self) -> u64 {
        let w = self
            .execute("return document.documentElement.clientWidth", vec![])
            .await;
        w.as_u64().expect("a width")
    }

    /// The `id` of the focused element (`None` when it has none, or when
    /// nothing but the body has focus).
    pub async fn active_element_id(&self) -> Option<String> {
        let id = self
            .execute(
                "const a = document.activeElement; \
                 return a && a !== document.body && a.id ? a.id : null",
                vec![],
            )
            .await;
        id.as_str().map(str::to_string)
    }

    /// Presses one key where the focus is (`"a"`, or `"\u{E007}"` for Enter),
    /// as a person would: keydown then keyup through WebDriver actions.
    pub async fn press(&self, key: &str) {
        self.command(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key},
                {"type": "keyUp", "value": key}
            ]}]}),
        )
        .await;
    }

    /// Presses Tab in the focused element (keyboard navigation).
    pub async fn tab(&self) {
        self.command(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": "\u{E004}"},
                {"type": "keyUp", "value": "\u{E004}"}
            ]}]}),
        )
        .await;
    }

    /// The running processes chromedriver started (Chromium's), to check
    /// that none outlives the browser.
    pub fn chromium_pids(&self) -> Vec<u32> {
        self.owned
            .as_ref()
            .map(|o| descendants_of(o.driver.id()))
            .unwrap_or_default()
            .into_iter()
            .filter(|p| alive(*p))
            .collect()
    }

    /// Ends the session, chromedriver and Chromium. Dropping a `Browser`
    /// does the same (blocking), so a panicking test leaks nothing either.
    pub async fn close(mut self) {
        if let Some(owned) = self.owned.take() {
            tokio::task::spawn_blocking(move || owned.release())
                .await
                .expect("closing the browser");
        }
    }

    async fn try_find(&self, css: &str) -> Result<String, String> {
        let (ok, v) = self
            .send(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        match v[ELEMENT_KEY].as_str() {
            Some(e) if ok => Ok(e.to_string()),
            _ => Err(v.to_string()),
        }
    }

    /// A WebDriver command on this session; its `value`, or a panic.
    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let (ok, v) = self.send(method.clone(), path, body).await;
        assert!(ok, "WebDriver {method} {path}: {v}");
        v
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (bool, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.session_url));
        if !body.is_null() {
            req = req.json(&body);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let ok = res.status().is_success();
        let mut v: Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        (ok, v["value"].take())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(owned) = self.owned.take() {
            owned.release();
        }
    }
}

impl Owned {
    /// Deletes the session (Chromium quits and chromedriver reaps it), kills
    /// whatever process chromedriver started that is still alive after 5 s,
    /// then stops chromedriver. Blocking.
    fn release(mut self) {
        let started = descendants_of(self.driver.id());
        if let Some(id) = self.session.take() {
            delete_session(self.port, &id);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<u32> = started.iter().copied().filter(|p| alive(*p)).collect();
            if left.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                for pid in left {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
                std::thread::sleep(Duration::from_millis(200));
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The parent of process `pid`, from `/proc/<pid>/stat`, and whether it is
/// still running (not a zombie).
fn stat(pid: u32) -> Option<(u32, bool)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
    let mut rest = text[text.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((ppid, state != "Z" && state != "X"))
}

/// Whether process `pid` exists and is no zombie.
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, running)| running)
}

/// Every process below `root` (children, their children…).
fn descendants_of(root: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let parents: Vec<(u32, u32)> = dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?.0)))
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Starts `chromedriver` on a free port and waits until it is ready (a few
/// tries: another process may take the port between its choice and use).
async fn start_chromedriver() -> (u16, Child) {
    let mut last = String::new();
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver does not start ({e}): apt-get install chromium-driver")
            });
        let deadline = Instant::now() + PATIENCE;
        let status = format!("http://127.0.0.1:{port}/status");
        loop {
            if let Ok(Some(exit)) = child.try_wait() {
                last = format!("chromedriver on port {port} exited: {exit}");
                break;
            }
            if let Ok(res) = reqwest::get(&status).await
                && let Ok(v) = res.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return (port, child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                last = format!("chromedriver on port {port} not ready within {PATIENCE:?}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("{last}");
}

/// `DELETE /session/{id}` over a plain socket: usable in `Drop`, inside or
/// outside a runtime, while a test panics.
fn delete_session(port: u16, id: &str) {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(request.as_bytes()).is_err() {
        return;
    }
    // Read the whole answer, by its Content-Length: chromedriver says
    // `Connection: close` but keeps the connection open.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut chunk) {
        answer.extend_from_slice(&chunk[..n]);
        if answer_complete(&answer) {
            break;
        }
    }
}

/// Whether `answer` holds an HTTP response's head and all of its body.
fn answer_complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    answer.len() >= end + 4 + length
}

fn string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => panic!("expected a string from WebDriver, got {other}"),
    }
}

fn save_png(name: &str, base64_png: &str) -> PathBuf {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_png)
        .expect("WebDriver sends base64");
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::create_dir_all(path.parent().expect("a folder"))
        .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("screenshot: {}", path.display());
    path
}

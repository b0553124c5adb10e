//! The hosted pages in a real browser (headless Chromium through
//! chromedriver, `common::browser`), on the SQLite backend only: the pages
//! do not depend on the database. Screenshots go to
//! `target/screenshots/hosted/`. Ignored (shown as skipped, never as passed)
//! where Debian's chromium and chromium-driver are not installed.

use crate::common::browser::{Browser, DESKTOP, MOBILE};
use crate::common::{Backend, TestApp, run_on};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::json;

/// A fresh hosted link for a new individual customer.
async fn hosted_link(app: &TestApp) -> String {
    let c = app.create_customer(json!({"type": "individual"})).await;
    let id = c["id"].as_str().expect("id");
    let (st, v) = app
        .post(
            &format!("/v1/customers/{id}/verification"),
            json!({"mode": "hosted"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["verification"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("a hosted link: {v}"))
        .to_string()
}

/// What every hosted page must be at any width: a language, and nothing
/// wider than the viewport.
async fn assert_page_fits(browser: &Browser) {
    let lang = browser
        .execute("return document.documentElement.lang", vec![])
        .await;
    assert!(
        lang.as_str().is_some_and(|l| !l.is_empty()),
        "<html lang> is set: {lang}"
    );
    assert!(
        !browser.has_horizontal_scroll().await,
        "no horizontal scroll at {} px",
        browser.width()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn smoke_link_opens_at_phone_and_desktop_width() {
    run_on(Backend::Sqlite, |app| async move {
        // A link per width: the flow may take a link over on first visit.
        for (width, name) in [(MOBILE, "smoke-375"), (DESKTOP, "smoke-1280")] {
            let url = hosted_link(&app).await;
            let browser = Browser::open(width).await;
            browser.goto(&url).await;
            assert_eq!(browser.current_url().await, url);
            assert_eq!(
                browser.client_width().await,
                u64::from(width),
                "the layout viewport is the asked width"
            );
            assert_page_fits(&browser).await;
            let png = browser.screenshot(name).await;
            assert!(std::fs::metadata(&png).expect("the screenshot").len() > 0);
            browser.close().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn unknown_token_renders() {
    run_on(Backend::Sqlite, |app| async move {
        let browser = Browser::mobile().await;
        browser.goto(&format!("{}/hosted/v/nope", app.base)).await;
        assert_page_fits(&browser).await;
        browser.screenshot("unknown-token-375").await;
        browser.close().await;
    })
    .await;
}

/// The harness itself, on a page of its own (the hosted pages have no form
/// yet): fill, click, upload, text, focus, sideways scroll, and a panicking
/// test leaves no Chromium behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn harness_drives_a_form() {
    let page = r#"<!doctype html><html lang=en><meta charset=utf-8>
        <title>harness</title>
        <label for=name>Name</label><input id=name value=old>
        <input id=file type=file>
        <button id=go onclick="document.getElementById('out').textContent =
            'hello ' + document.getElementById('name').value + ' / ' +
            (document.getElementById('file').files[0] || {name: 'no file'}).name">Go</button>
        <p id=out></p>
        <div id=wide style="width: 2000px; display: none">wide</div>"#;
    let url = format!(
        "data:text/html;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(page)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("passport.jpg");
    std::fs::write(&file, crate::common::tiny_jpeg("x")).expect("a file");

    let browser = Browser::mobile().await;
    browser.goto(&url).await;
    assert_eq!(browser.title().await, "harness");
    browser.fill("#name", "Ada").await;
    assert_eq!(browser.active_element_id().await.as_deref(), Some("name"));
    browser.upload("#file", &file).await;
    browser.click("#go").await;
    assert_eq!(browser.text("#out").await, "hello Ada / passport.jpg");
    assert_eq!(browser.active_element_id().await.as_deref(), Some("go"));
    browser.tab().await;
    assert_eq!(
        browser.active_element_id().await,
        None,
        "past the last control"
    );
    assert!(!browser.has_horizontal_scroll().await);
    browser
        .execute(
            "document.getElementById('wide').style.display = 'block'",
            vec![],
        )
        .await;
    assert!(browser.has_horizontal_scroll().await);
    browser.screenshot("harness-375").await;
    let full = browser.screenshot_full_page("harness-375-full").await;
    assert!(std::fs::metadata(&full).expect("the screenshot").len() > 0);
    browser.close().await;

    // A test that panics with a browser open: the Drop guard ends Chromium.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let panicked = tokio::spawn(async move {
        let browser = Browser::mobile().await;
        browser.goto(&url).await;
        let _ = tx.send(browser.chromium_pids());
        panic!("a failing browser test");
    })
    .await;
    assert!(panicked.is_err_and(|e| e.is_panic()));
    let pids = rx.await.expect("the browser started");
    assert!(!pids.is_empty(), "Chromium ran under chromedriver");
    let left: Vec<u32> = pids
        .into_iter()
        .filter(|p| crate::common::browser::alive(*p))
        .collect();
    assert!(left.is_empty(), "Chromium processes left running: {left:?}");
}

/// `Browser::phone()` applies `<meta name=viewport>` as a phone does: without
/// it the page is laid out 980 px wide (the check the real pages need), with
/// it at the screen's 375 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn phone_emulation_applies_the_viewport_tag() {
    let data = |page: &str| {
        format!(
            "data:text/html;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(page)
        )
    };
    let browser = Browser::phone().await;
    browser
        .goto(&data("<html lang=en><p>no viewport tag"))
        .await;
    assert_eq!(browser.client_width().await, 980);
    browser
        .goto(&data(
            "<html lang=en><meta name=viewport content=\"width=device-width, initial-scale=1\"><p>tag",
        ))
        .await;
    assert_eq!(browser.client_width().await, u64::from(MOBILE));
    browser.close().await;
}

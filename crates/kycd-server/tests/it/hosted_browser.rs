//! The hosted pages in a real browser (headless Chromium through
//! chromedriver, `common::browser`), on the SQLite backend only: the pages
//! do not depend on the database. Screenshots go to
//! `target/screenshots/hosted/`. Ignored (shown as skipped, never as passed)
//! where Debian's chromium and chromium-driver are not installed.

use crate::common::browser::{Browser, DESKTOP, MOBILE};
use crate::common::{TestApp, id_of};
use base64::Engine as _;
use serde_json::json;

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

/// Writes a real PNG photo to a temporary file for the file inputs.
fn photo_file(dir: &std::path::Path, name: &str, seed: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, crate::hosted::photo_png(seed)).unwrap();
    path
}

/// Fills about you, contact and address in the browser (with a tag, a
/// screenshot of each), and waits for the national identifier step.
async fn fill_person(b: &Browser, first: &str, city: &str, shots: Option<&str>) {
    let shot = |name: &'static str| async move {
        if let Some(tag) = shots {
            assert_page_fits(b).await;
            b.screenshot(&format!("{tag}-{name}")).await;
        }
    };
    shot("1-personal").await;
    b.fill("#first_name", first).await;
    b.fill("#last_name", "Souza").await;
    b.fill("#date_of_birth", "1991-05-17").await;
    b.select("#nationality", "BR").await;
    b.click("button[type=submit]").await;
    b.wait_for("#email").await;
    shot("2-contact").await;
    b.fill("#email", "person@example.com").await;
    b.fill("#phone", "+5511912345678").await;
    b.click("button[type=submit]").await;
    b.wait_for("#line1").await;
    shot("3-address").await;
    b.fill("#line1", "Rua das Flores, 12").await;
    b.fill("#city", city).await;
    b.fill("#region", "PR").await;
    b.fill("#postal_code", "80010-000").await;
    b.select("#country", "BR").await;
    b.click("button[type=submit]").await;
    b.wait_for("#id_value").await;
}

/// Walks every step of a full individual from Brazil in the browser,
/// screenshotting each; returns the customer id.
async fn walk_the_flow(app: &TestApp, b: &Browser, tag: &str) -> String {
    let (id, link) = crate::hosted::hosted_customer(app, &format!("browser-{tag}")).await;
    let files = tempfile::tempdir().unwrap();
    b.goto(&format!("{}{link}", app.base)).await;
    b.wait_for("#first_name").await;
    assert!(
        b.current_url()
            .await
            .ends_with("/hosted/flow/step/personal"),
        "the token left the address bar"
    );
    fill_person(b, "Maria", "Curitiba", Some(tag)).await;
    assert!(
        b.text("label[for=id_value]").await.contains("CPF"),
        "labelled for Brazil"
    );
    assert_page_fits(b).await;
    b.screenshot(&format!("{tag}-4-national-id")).await;
    b.fill("#id_value", "529.982.247-25").await;
    b.click("button[type=submit]").await;
    b.wait_for("#doc_type").await;
    b.select("#doc_type", "national_id").await;
    assert_page_fits(b).await;
    b.screenshot(&format!("{tag}-5-document")).await;
    b.upload("#front", &photo_file(files.path(), "front.png", 1))
        .await;
    b.upload("#back", &photo_file(files.path(), "back.png", 2))
        .await;
    b.click("button[type=submit]").await;
    b.wait_for("#selfie").await;
    assert_page_fits(b).await;
    b.screenshot(&format!("{tag}-6-selfie")).await;
    b.upload("#selfie", &photo_file(files.path(), "selfie.png", 3))
        .await;
    b.click("button[type=submit]").await;
    b.wait_for("section.sum").await;
    assert_page_fits(b).await;
    b.screenshot_full_page(&format!("{tag}-7-summary")).await;
    b.click("button[type=submit]").await;
    wait_for_heading(b, "Thank you").await;
    b.screenshot(&format!("{tag}-8-done")).await;
    id
}

/// Waits (up to 15 s) until the page's heading says `text` (after a
/// navigation the old page's elements go stale).
async fn wait_for_heading(b: &Browser, text: &str) {
    for _ in 0..150 {
        let h = b
            .execute(
                "const h = document.querySelector('main h1'); return h ? h.textContent : '';",
                vec![],
            )
            .await;
        if h.as_str().is_some_and(|h| h.contains(text)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no heading {text:?} at {}", b.current_url().await);
}

async fn assert_submitted(app: &TestApp, id: &str) {
    crate::hosted::submitted(app, id).await;
    let (_, docs) = app.get(&format!("/v1/customers/{id}/documents")).await;
    assert_eq!(docs["data"].as_array().unwrap().len(), 3, "{docs}");
}

browser_test!(
    a_user_completes_the_flow_on_a_phone_and_on_a_desktop,
    |app| async move {
        let phone = Browser::phone().await;
        let id = walk_the_flow(&app, &phone, "375").await;
        assert_eq!(phone.client_width().await, u64::from(MOBILE));
        phone.close().await;
        assert_submitted(&app, &id).await;
        let desktop = Browser::open(DESKTOP).await;
        let id = walk_the_flow(&app, &desktop, "1280").await;
        desktop.close().await;
        assert_submitted(&app, &id).await;
    }
);

browser_test!(
    used_renewed_and_expired_links_each_say_why,
    |app| async move {
        let (id, link) = crate::hosted::hosted_customer(&app, "browser-links").await;
        let url = format!("{}{link}", app.base);
        let first = Browser::phone().await;
        first.goto(&url).await;
        first.wait_for("#first_name").await;
        first.close().await;
        let second = Browser::phone().await;
        second.goto(&url).await;
        assert!(second.text("main h1").await.contains("already opened"));
        assert_page_fits(&second).await;
        second.screenshot("link-used-375").await;
        let (_, renewed) = app.start_verification(&id).await;
        second.goto(&url).await;
        assert!(second.text("main h1").await.contains("replaced"));
        second.screenshot("link-renewed-375").await;
        let new_url = renewed["verification"]["url"].as_str().unwrap().to_string();
        app.post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": 31 * 60}),
        )
        .await;
        second.goto(&new_url).await;
        assert!(second.text("main h1").await.contains("expired"));
        assert!(second.text("main p").await.contains("new link"));
        second.screenshot("link-expired-375").await;
        second.close().await;
    }
);

browser_test!(
    a_wrong_cpf_is_shown_next_to_its_field_and_focused,
    |app| async move {
        let (_, link) = crate::hosted::hosted_customer(&app, "browser-cpf").await;
        let b = Browser::phone().await;
        b.goto(&format!("{}{link}", app.base)).await;
        b.wait_for("#first_name").await;
        fill_person(&b, "Ana", "Recife", None).await;
        b.fill("#id_value", "111.111.111-12").await;
        b.click("button[type=submit]").await;
        b.wait_for("#id_value-error").await;
        assert!(b.text("#id_value-error").await.contains("not valid"));
        assert_eq!(
            b.attribute("#id_value", "aria-invalid").await.as_deref(),
            Some("true")
        );
        assert_eq!(
            b.active_element_id().await.as_deref(),
            Some("id_value"),
            "focus on the first error"
        );
        assert_page_fits(&b).await;
        b.screenshot("national-id-error-375").await;
        b.close().await;
    }
);

browser_test!(portuguese_and_spanish_pages, |app| async move {
    let (_, link) = crate::hosted::hosted_customer(&app, "browser-lang").await;
    let b = Browser::phone().await;
    b.goto(&format!("{}{link}?lang=pt-BR", app.base)).await;
    b.wait_for("#first_name").await;
    assert_eq!(
        b.execute("return document.documentElement.lang", vec![])
            .await,
        json!("pt-BR")
    );
    assert_eq!(b.text("main h1").await, "Sobre você");
    assert!(
        b.text("label[for=date_of_birth]")
            .await
            .contains("Data de nascimento")
    );
    assert_page_fits(&b).await;
    b.screenshot("personal-pt-BR-375").await;
    b.click("a[hreflang=es]").await;
    b.wait_for("#first_name").await;
    assert_eq!(
        b.execute("return document.documentElement.lang", vec![])
            .await,
        json!("es")
    );
    assert_eq!(b.text("main h1").await, "Sobre ti");
    b.screenshot("personal-es-375").await;
    b.close().await;
});

browser_test!(
    a_step_can_be_completed_with_the_keyboard_only,
    |app| async move {
        let (_, link) = crate::hosted::hosted_customer(&app, "browser-keys").await;
        let b = Browser::open(DESKTOP).await;
        b.goto(&format!("{}{link}", app.base)).await;
        b.wait_for("#first_name").await;
        // Tab from the top of the page: the language links, then the form.
        let mut reached = false;
        for _ in 0..12 {
            b.tab().await;
            if b.active_element_id().await.as_deref() == Some("first_name") {
                reached = true;
                break;
            }
        }
        assert!(reached, "the first field is reachable with Tab");
        let steps = [
            ("first_name", "Rui"),
            ("middle_name", ""),
            ("last_name", "Costa"),
            ("date_of_birth", "1985-03-02"),
        ];
        for (i, (field, text)) in steps.iter().enumerate() {
            assert_eq!(
                b.active_element_id().await.as_deref(),
                Some(*field),
                "tab order"
            );
            if !text.is_empty() {
                b.type_keys(&format!("#{field}"), text).await;
            }
            if i + 1 < steps.len() {
                b.tab().await;
            }
        }
        b.tab().await;
        assert_eq!(b.active_element_id().await.as_deref(), Some("nationality"));
        // A select answers to typing the option's first letters.
        b.type_keys("#nationality", "Brazil").await;
        b.tab().await;
        b.type_keys("button[type=submit]", "\u{E007}").await;
        b.wait_for("#email").await;
        assert!(b.current_url().await.ends_with("/hosted/flow/step/contact"));
        b.close().await;
    }
);

browser_test!(unknown_token_renders, |app| async move {
    let browser = Browser::mobile().await;
    browser.goto(&format!("{}/hosted/v/nope", app.base)).await;
    assert_page_fits(&browser).await;
    browser.screenshot("unknown-token-375").await;
    browser.close().await;
});

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

browser_test!(a_selfie_taken_with_the_camera, |app| async move {
    let c = app
        .create_customer(crate::common::complete_individual("browser-camera"))
        .await;
    let id = id_of(&c);
    app.start_verification(&id).await;
    let (_, v) = app
        .force_verification(
            &id,
            json!({"status": "needs_information", "missing": ["selfie"]}),
        )
        .await;
    let url = v["verification"]["url"].as_str().unwrap().to_string();
    let b = Browser::phone().await;
    b.goto(&url).await;
    b.wait_for("#selfie-camera").await;
    b.click("#selfie-camera").await;
    b.wait_for("#selfie-take").await;
    // Let the fake camera deliver frames before the shot.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    b.screenshot("selfie-camera-375").await;
    b.click("#selfie-take").await;
    let mut files = json!(0);
    for _ in 0..50 {
        files = b
            .execute(
                "return document.getElementById('selfie').files.length",
                vec![],
            )
            .await;
        if files == json!(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(files, json!(1), "the photo went into the file input");
    b.click("button[type=submit]").await;
    b.wait_for("section.sum").await;
    b.click("form[action='/hosted/flow/submit'] button").await;
    wait_for_heading(&b, "Thank you").await;
    b.close().await;
    let (_, docs) = app.get(&format!("/v1/customers/{id}/documents")).await;
    let selfie = &docs["data"][0];
    assert_eq!(selfie["type"], "selfie", "{docs}");
    assert_eq!(selfie["content_type"], "image/jpeg");
    let (_, after) = app.customer(&id).await;
    assert_eq!(after["status"], "pending", "{after}");
    assert_eq!(after["verification"]["requirements"]["missing"], json!([]));
});

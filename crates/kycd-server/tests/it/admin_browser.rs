//! The back office in a real browser (headless Chromium, `common::browser`),
//! on SQLite: an operator signs in, opens the queue and a case held on
//! screening, approves it and sees the new status with its actor; the pages
//! fit a 375 px screen. Screenshots `admin-queue-1280.png`,
//! `admin-case-1280.png` (and the 375 px ones) go next to the hosted ones.

use crate::common::browser::{Browser, DESKTOP};
use crate::common::{Backend, run_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn an_operator_approves_a_held_customer_from_the_queue() {
    run_on(Backend::Sqlite, |app| async move {
        let id = crate::admin::on_hold(&app, "browser-admin").await;
        let (email, password) =
            crate::admin::operator(&app, "reviewer@ops.test", "reviewer", None).await;
        let b = Browser::open(DESKTOP).await;
        b.goto(&format!("{}/admin/queue", app.base)).await;
        b.wait_for("#email").await;
        assert!(b.current_url().await.ends_with("/admin/login"));
        b.fill("#email", &email).await;
        b.fill("#password", &password).await;
        b.click("button[type=submit]").await;
        b.wait_for("a[href='/admin/queue']").await;
        b.goto(&format!("{}/admin/queue", app.base)).await;
        let row = format!("a[href='/admin/customers/{id}']");
        b.wait_for(&row).await;
        assert!(!b.has_horizontal_scroll().await);
        b.screenshot("admin-queue-1280").await;
        b.click(&row).await;
        b.wait_for("button[data-action=approve]").await;
        assert!(b.text("h1").await.contains("on_hold"));
        b.screenshot_full_page("admin-case-1280").await;
        b.set_width(375).await;
        b.screenshot("admin-case-375").await;
        assert!(!b.has_horizontal_scroll().await, "the case fits 375 px");
        b.set_width(DESKTOP).await;
        b.fill(
            "form[action$='/actions/approve'] input[name=note]",
            "documents seen",
        )
        .await;
        b.click("button[data-action=approve]").await;
        b.wait_for(".flash").await;
        assert!(b.text("h1").await.contains("active"));
        assert!(b.text("body").await.contains("operator:op_"));
        b.screenshot_full_page("admin-case-approved-1280").await;
        b.close().await;
        let (_, c) = app.get(&format!("/v1/customers/{id}")).await;
        assert_eq!(c["status"], "active", "{c}");
    })
    .await;
}

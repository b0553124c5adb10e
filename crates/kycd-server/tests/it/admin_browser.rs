//! The back office in a real browser (headless Chromium, `common::browser`),
//! on SQLite: an operator signs in, opens the queue and a case held on
//! screening, approves it and sees the new status with its actor; the pages
//! fit a 375 px screen; a second admin approves a four-eyes request. Screenshots `admin-queue-1280.png`,
//! `admin-case-1280.png` (and the 375 px ones) go next to the hosted ones.

use crate::common::browser::{Browser, DESKTOP};
use crate::common::{Backend, TestApp, assert_has, run_on};

/// A desktop browser signed in to the back office as `email` (on the
/// dashboard, its navigation shown).
pub(crate) async fn signed_in_browser(app: &TestApp, email: &str, password: &str) -> Browser {
    let b = Browser::open(DESKTOP).await;
    b.goto(&format!("{}/admin/login", app.base)).await;
    b.wait_for("#email").await;
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("button[type=submit]").await;
    b.wait_for("a[href='/admin/queue']").await;
    b
}

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
        let (_, c) = app.customer(&id).await;
        assert_eq!(c["status"], "active", "{c}");
    })
    .await;
}

/// Four eyes in a browser: one admin (over plain HTTP) asks to overturn a
/// final sanctions rejection; a second admin signs in, finds the request in
/// the queue's four-eyes section, approves it and sees the case back in
/// `pending` with both operators in the audit trail, then the audit log page
/// filtered to the customer. Screenshots `admin-four-eyes-queue-1280.png`,
/// `admin-four-eyes-approved-1280.png`, `admin-audit-1280.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn a_second_admin_approves_a_four_eyes_request() {
    run_on(Backend::Sqlite, |app| async move {
        let id = crate::admin::on_hold(&app, "browser-4eyes").await;
        let (_, v) = app
            .post(
                &format!("/v1/test_helpers/customers/{id}/verification"),
                serde_json::json!({"status": "rejected", "rejection_reason": "sanctions_match"}),
            )
            .await;
        assert_eq!(v["status"], "rejected", "{v}");
        let (mut alice, alice_id) = crate::admin::login(&app, "admin", None).await;
        let p = crate::admin::act(
            &mut alice,
            &id,
            "overturn_rejection",
            &[("note", "namesake: different date of birth")],
        )
        .await;
        let fer = crate::admin_four_eyes::request_id(&p);
        let (email, password) =
            crate::admin::operator(&app, "second-admin@ops.test", "admin", None).await;
        let b = signed_in_browser(&app, &email, &password).await;
        b.goto(&format!("{}/admin/queue?show=four_eyes", app.base))
            .await;
        let approve = format!("button[data-request='{fer}'][data-decision=approve]");
        b.wait_for(&approve).await;
        assert!(b.text("#four-eyes").await.contains("overturn rejection"));
        assert!(!b.has_horizontal_scroll().await);
        b.screenshot("admin-four-eyes-queue-1280").await;
        b.click(&approve).await;
        b.wait_for(".flash").await;
        assert!(
            b.text("h1").await.contains("pending"),
            "{}",
            b.text("h1").await
        );
        let body = b.text("body").await;
        assert_has(&body, "admin.four_eyes_approved");
        assert_has(&body, &format!("operator:{alice_id}"));
        b.screenshot_full_page("admin-four-eyes-approved-1280")
            .await;
        // The audit log page, filtered to this customer.
        b.goto(&format!("{}/admin/audit?customer={id}", app.base))
            .await;
        b.wait_for("#audit").await;
        assert!(b.text("#audit").await.contains("admin.overturn_rejection"));
        assert!(!b.has_horizontal_scroll().await);
        b.screenshot("admin-audit-1280").await;
        b.close().await;
        let (_, c) = app.customer(&id).await;
        assert_eq!(c["status"], "pending", "{c}");
    })
    .await;
}

/// The case view's shortcut keys in a browser: a reviewer opens a held case,
/// presses `a` (the focus lands on Approve, nothing is sent yet), then Enter:
/// the case is approved through the ordinary form. `n` then opens the next
/// case of the queue. Screenshot `admin-case-keys-1280.png` (Approve
/// focused by the key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn a_reviewer_approves_with_the_keyboard() {
    run_on(Backend::Sqlite, |app| async move {
        let id = crate::admin::on_hold(&app, "browser-keys").await;
        let next = crate::admin::on_hold(&app, "browser-keys-next").await;
        let (email, password) =
            crate::admin::operator(&app, "keys@ops.test", "reviewer", None).await;
        let b = signed_in_browser(&app, &email, &password).await;
        b.goto(&format!("{}/admin/customers/{id}", app.base)).await;
        b.wait_for("button[data-action=approve]").await;
        b.wait_for("#next-case").await;
        b.press("a").await;
        let focused = b
            .execute(
                "const a = document.activeElement; return a ? a.getAttribute('data-action') : null",
                vec![],
            )
            .await;
        assert_eq!(
            focused,
            serde_json::json!("approve"),
            "the key focuses Approve"
        );
        assert!(
            b.text("h1").await.contains("on_hold"),
            "nothing sent before Enter"
        );
        b.screenshot("admin-case-keys-1280").await;
        b.press("\u{E007}").await;
        b.wait_for(".flash").await;
        assert!(
            b.text("h1").await.contains("active"),
            "{}",
            b.text("h1").await
        );
        let (_, c) = app.customer(&id).await;
        assert_eq!(c["status"], "active", "{c}");
        // `n`: the next case waiting (the approved one left the queue).
        b.press("n").await;
        b.wait_for(&format!(
            "form[action='/admin/customers/{next}/actions/approve']"
        ))
        .await;
        assert!(
            b.current_url()
                .await
                .ends_with(&format!("/admin/customers/{next}"))
        );
        b.close().await;
    })
    .await;
}

/// The dashboard's overdue counts in a browser: a case held 25 hours on the
/// sandbox clock (past its 24 h target) and a fresh one; the dashboard
/// counts one over target for `on_hold`, fits 375 px, and its link opens the
/// queue filtered to the overdue case. Screenshots `admin-dashboard-1280.png`
/// and `admin-dashboard-375.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn the_dashboard_shows_cases_over_their_target() {
    run_on(Backend::Sqlite, |app| async move {
        let old = crate::admin::on_hold(&app, "browser-dash-old").await;
        let (st, v) = app
            .post(
                "/v1/test_helpers/clock/advance",
                serde_json::json!({"seconds": 25 * 3600}),
            )
            .await;
        assert!(st.is_success(), "{v}");
        let fresh = crate::admin::on_hold(&app, "browser-dash-fresh").await;
        let (email, password) =
            crate::admin::operator(&app, "dash@ops.test", "reviewer", None).await;
        let b = signed_in_browser(&app, &email, &password).await;
        b.wait_for("#overdue-count").await;
        assert_eq!(b.text("#overdue-count").await, "1");
        assert_eq!(
            b.text("a[data-overdue-reason=on_hold]").await,
            "1 over",
            "the on_hold count links to its overdue cases"
        );
        b.screenshot_full_page("admin-dashboard-1280").await;
        b.set_width(375).await;
        assert!(
            !b.has_horizontal_scroll().await,
            "the dashboard fits 375 px"
        );
        b.screenshot_full_page("admin-dashboard-375").await;
        b.set_width(DESKTOP).await;
        b.click("a[data-overdue-reason=on_hold]").await;
        b.wait_for(&format!("a[href='/admin/customers/{old}']"))
            .await;
        assert!(b.current_url().await.contains("overdue=1"));
        assert!(
            !b.text("body").await.contains(&fresh),
            "only the overdue case"
        );
        b.close().await;
    })
    .await;
}

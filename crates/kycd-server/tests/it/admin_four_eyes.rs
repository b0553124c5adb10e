//! Four eyes, identifier reveal and the audit log in the back office (issue
//! 15), over plain HTTP forms on both backends: a request waits for a second
//! admin (the requester's own approval is 403, a reviewer's too), the
//! approval runs the action with both operators in the audit, a decline
//! leaves the customer as it was, an expired request (sandbox clock) cannot
//! be approved; reveals are audited with their reason, direct in sandbox and
//! approved-then-shown-once in live; the audit page filters and pages, the
//! JSON Lines export matches the database, and both are audited.

use crate::admin::{act, audit_of, login, many_pages, on_hold};
use crate::common::*;
use crate::hosted::{FormClient, Page};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

/// The four-eyes request id a waiting page names.
pub fn request_id(p: &Page) -> String {
    assert_eq!(p.status, StatusCode::ACCEPTED, "{}", p.body);
    assert_has(&p.body, "Waiting for a second admin");
    let at = p.body.find("fer_").expect("a request id");
    p.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Approves or declines a request with this client's session.
async fn decide(client: &mut FormClient, request: &str, decision: &str) -> Page {
    let csrf = client.get("/admin").await.csrf();
    client
        .post_form(
            &format!("/admin/requests/{request}/{decision}"),
            &[("csrf", &csrf)],
        )
        .await
}

async fn status(app: &TestApp, key: &str, id: &str) -> String {
    let (_, c) = app
        .call(key, Method::GET, &format!("/v1/customers/{id}"), None)
        .await;
    c["status"].as_str().unwrap_or("").to_string()
}

per_backend!(
    a_final_rejection_is_overturned_by_a_second_admin,
    |backend: Backend| async move {
        let app = many_pages(backend).await;
        let id = on_hold(&app, "fe-1").await;
        let (mut reviewer, reviewer_id) = login(&app, "reviewer", None).await;
        let (mut alice, alice_id) = login(&app, "admin", None).await;
        let (mut bob, bob_id) = login(&app, "admin", None).await;
        // A reviewer confirms the sanctions match: a final rejection.
        let p = act(
            &mut reviewer,
            &id,
            "reject",
            &[("rejection_reason", "sanctions_match")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let (_, c) = app.customer(&id).await;
        assert_eq!(c["verification"]["resubmittable"], false, "{c}");
        // A reviewer cannot even ask to overturn it (admins only).
        let p = act(&mut reviewer, &id, "overturn_rejection", &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);

        // Alice asks: a request waits, nothing changed yet.
        let p = act(
            &mut alice,
            &id,
            "overturn_rejection",
            &[("note", "the match was a namesake")],
        )
        .await;
        let fer = request_id(&p);
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "rejected");
        let mut conn = app.state.store.reader().await.unwrap();
        let stored = kycd_store::four_eyes::get(&mut conn, &fer)
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        assert_eq!(
            (
                stored.action.as_str(),
                stored.requested_by.as_str(),
                stored.note.as_deref(),
                stored.outcome.as_deref()
            ),
            (
                "overturn_rejection",
                alice_id.as_str(),
                Some("the match was a namesake"),
                None
            )
        );
        assert_eq!(
            stored.expires_at - stored.created_at,
            chrono::Duration::days(7)
        );
        // It shows in the queue's four-eyes section and on the case.
        let q = bob.get("/admin/queue?show=four_eyes").await;
        assert!(
            q.body.contains(&fer) && q.body.contains(&format!("/admin/requests/{fer}/approve")),
            "{}",
            q.body
        );
        let case = bob.get(&format!("/admin/customers/{id}")).await;
        assert_has(&case.body, &fer);
        let dash = bob.get("/admin").await;
        assert_has(&dash.body, "four-eyes-count\">1<");

        // Alice cannot approve her own request; a reviewer cannot approve.
        let p = decide(&mut alice, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        assert_has(&p.body, "another admin approves");
        let p = decide(&mut reviewer, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        assert_has(&p.body, "Only an admin");
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "rejected");

        // Bob approves: the overturn runs with Bob as actor.
        let p = decide(&mut bob, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(
            p.location(),
            format!("/admin/customers/{id}?done=overturn_rejection")
        );
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "pending");
        let (_, x) = app.get(&format!("/v1/customers/{id}/explanation")).await;
        let last = x["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["reason"], "rejection_overturned", "{last}");
        assert_eq!(last["actor"]["id"], json!(bob_id), "{last}");
        let trail = audit_of(&app, &id).await;
        let find = |action: &str| {
            trail
                .iter()
                .find(|(_, a, _)| a == action)
                .unwrap_or_else(|| panic!("{action} in {trail:?}"))
                .clone()
        };
        let asked = find("admin.four_eyes_requested");
        assert_eq!(asked.0, format!("operator:{alice_id}"));
        assert_eq!(asked.2["request_id"], json!(fer));
        assert_eq!(asked.2["note"], "the match was a namesake");
        let refused = find("admin.four_eyes_refused");
        assert_eq!(refused.0, format!("operator:{alice_id}"));
        let approved = find("admin.four_eyes_approved");
        assert_eq!(approved.0, format!("operator:{bob_id}"));
        assert_eq!(approved.2["requested_by"], format!("operator:{alice_id}"));
        let done = find("admin.overturn_rejection");
        assert_eq!(done.0, format!("operator:{bob_id}"));
        assert_eq!(
            (&done.2["requested_by"], &done.2["four_eyes_request"]),
            (&json!(format!("operator:{alice_id}")), &json!(fer))
        );
        // Decided once: a second approval is refused.
        let p = decide(&mut bob, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);

        // The confirmed match stays: approving the customer needs four eyes
        // too (a reviewer asks, an admin approves).
        let p = act(&mut reviewer, &id, "approve", &[]).await;
        let fer2 = request_id(&p);
        assert_has(&p.body, "confirmed screening match");
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "pending");
        let p = decide(&mut alice, &fer2, "approve").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "active");
        let trail = audit_of(&app, &id).await;
        let approve = trail
            .iter()
            .find(|(_, a, _)| a == "admin.approve")
            .expect("the approval audited");
        assert_eq!(approve.0, format!("operator:{alice_id}"));
        assert_eq!(approve.2["requested_by"], format!("operator:{reviewer_id}"));
        // A customer without a confirmed match is approved by one reviewer.
        let other = on_hold(&app, "fe-1b").await;
        let p = act(&mut reviewer, &other, "approve", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        // So is a resubmittable rejection overturned by one admin.
        let third = on_hold(&app, "fe-1c").await;
        let p = act(
            &mut reviewer,
            &third,
            "reject",
            &[("rejection_reason", "document_unreadable")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = act(&mut alice, &third, "overturn_rejection", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(status(&app, &app.sandbox_key, &third).await, "pending");
    }
);

per_backend!(
    compliance_reactivation_declined_and_expired,
    |backend: Backend| async move {
        let app = many_pages(backend).await;
        let (mut alice, _) = login(&app, "admin", None).await;
        let (mut bob, bob_id) = login(&app, "admin", None).await;
        let id = on_hold(&app, "fe-2").await;
        let p = act(&mut alice, &id, "approve", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = act(&mut alice, &id, "deactivate", &[("reason", "compliance")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "deactivated");
        // The API cannot lift an operator's compliance deactivation.
        let (st, v) = app
            .post(&format!("/v1/customers/{id}/reactivate"), json!({}))
            .await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error"]["code"], "invalid_transition");
        assert_message(&v, "compliance");

        // Asked, then declined: nothing changes.
        let p = act(&mut alice, &id, "reactivate", &[("note", "cleared")]).await;
        let fer = request_id(&p);
        let p = decide(&mut bob, &fer, "decline").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "deactivated");
        let case = bob.get(&format!("/admin/customers/{id}")).await;
        assert_has(&case.body, "declined");
        let trail = audit_of(&app, &id).await;
        let declined = trail
            .iter()
            .find(|(_, a, _)| a == "admin.four_eyes_declined")
            .expect("the decline audited");
        assert_eq!(declined.0, format!("operator:{bob_id}"));
        assert_eq!(declined.2["request_id"], json!(fer));
        let p = decide(&mut bob, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::CONFLICT, "decided: {}", p.body);

        // Asked again, left for eight days on the sandbox clock: expired.
        let p = act(&mut alice, &id, "reactivate", &[]).await;
        let fer = request_id(&p);
        let (st, v) = app
            .post(
                "/v1/test_helpers/clock/advance",
                json!({"seconds": 8 * 86_400}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let p = decide(&mut bob, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
        assert_has(&p.body, "expired");
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "deactivated");
        let q = bob.get("/admin/queue?show=four_eyes").await;
        assert!(
            q.body.contains(&fer) && !q.body.contains(&format!("/admin/requests/{fer}/approve")),
            "listed as expired, without an approve button: {}",
            q.body
        );

        // Asked once more and approved in time: reactivated by the approver.
        let p = act(&mut alice, &id, "reactivate", &[]).await;
        let fer = request_id(&p);
        let p = decide(&mut bob, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_ne!(status(&app, &app.sandbox_key, &id).await, "deactivated");

        // Another reason: one admin reactivates.
        let other = on_hold(&app, "fe-2b").await;
        let p = act(&mut alice, &other, "approve", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = act(
            &mut alice,
            &other,
            "deactivate",
            &[("reason", "customer_request")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = act(&mut alice, &other, "reactivate", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(status(&app, &app.sandbox_key, &other).await, "active");
    }
);

/// The digits of the value a reveal page shows.
fn revealed(p: &Page) -> String {
    let at = p
        .body
        .find("id=\"revealed-value\">")
        .expect("a revealed value");
    let rest = &p.body[at + 20..];
    rest[..rest.find('<').unwrap()]
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

per_backend!(
    identifiers_are_revealed_once_with_a_reason,
    |backend: Backend| async move {
        let app = many_pages(backend).await;
        const CPF: &str = "52998224725";
        // Sandbox: a reviewer reveals at once, with a reason; a viewer cannot.
        let id = on_hold(&app, "fe-3").await;
        let (mut viewer, _) = login(&app, "viewer", None).await;
        let (mut reviewer, reviewer_id) = login(&app, "reviewer", None).await;
        let case = reviewer.get(&format!("/admin/customers/{id}")).await;
        assert!(case.body.contains("•••• 4725") && !case.body.contains(CPF));
        let p = act(
            &mut viewer,
            &id,
            "reveal_identifier",
            &[("identifier", "0"), ("reason", "curious")],
        )
        .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        assert!(!p.body.contains(CPF));
        let p = act(
            &mut reviewer,
            &id,
            "reveal_identifier",
            &[("identifier", "0")],
        )
        .await;
        assert_eq!(
            p.status,
            StatusCode::BAD_REQUEST,
            "a reason is required: {}",
            p.body
        );
        let p = act(
            &mut reviewer,
            &id,
            "reveal_identifier",
            &[("identifier", "7"), ("reason", "x")],
        )
        .await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
        let p = act(
            &mut reviewer,
            &id,
            "reveal_identifier",
            &[("identifier", "cpf"), ("reason", "bank asked for the CPF")],
        )
        .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert_eq!(revealed(&p), CPF);
        assert_eq!(p.headers["cache-control"], "no-store");
        let trail = audit_of(&app, &id).await;
        let r = trail
            .iter()
            .find(|(_, a, _)| a == "admin.reveal_identifier")
            .expect("the reveal audited");
        assert_eq!(r.0, format!("operator:{reviewer_id}"));
        assert_eq!(
            (&r.2["identifier"], &r.2["reason"]),
            (&json!("cpf"), &json!("bank asked for the CPF"))
        );
        assert!(
            !r.2.to_string().contains(CPF),
            "never the value in the audit"
        );

        // Live: the reveal waits for a second admin, then shows once to the requester.
        let (st, c) = app
            .call(
                &app.live_key,
                Method::POST,
                "/v1/customers",
                Some(complete_individual("fe-3-live")),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let live = id_of(&c);
        let p = act(
            &mut reviewer,
            &live,
            "reveal_identifier",
            &[("identifier", "0"), ("reason", "court order 123")],
        )
        .await;
        let fer = request_id(&p);
        assert!(!p.body.contains(CPF));
        let mut conn = app.state.store.reader().await.unwrap();
        let stored = kycd_store::four_eyes::get(&mut conn, &fer)
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        assert!(!stored.parameters.contains(CPF));
        // Not approved yet: nothing to show.
        let csrf = reviewer.get("/admin").await.csrf();
        let p = reviewer
            .post_form(&format!("/admin/requests/{fer}/reveal"), &[("csrf", &csrf)])
            .await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
        let (mut admin, admin_id) = login(&app, "admin", None).await;
        let p = decide(&mut admin, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        // Only the requester sees it.
        let csrf = admin.get("/admin").await.csrf();
        let p = admin
            .post_form(&format!("/admin/requests/{fer}/reveal"), &[("csrf", &csrf)])
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        assert!(!p.body.contains(CPF));
        let case = reviewer.get(&format!("/admin/customers/{live}")).await;
        assert_has(&case.body, &format!("/admin/requests/{fer}/reveal"));
        let csrf = case.csrf();
        let p = reviewer
            .post_form(&format!("/admin/requests/{fer}/reveal"), &[("csrf", &csrf)])
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert_eq!(revealed(&p), CPF);
        let p = reviewer
            .post_form(&format!("/admin/requests/{fer}/reveal"), &[("csrf", &csrf)])
            .await;
        assert_eq!(p.status, StatusCode::GONE, "once: {}", p.body);
        assert!(!p.body.contains(CPF));
        let trail = audit_of(&app, &live).await;
        let reveals: Vec<_> = trail
            .iter()
            .filter(|(_, a, _)| a == "admin.reveal_identifier")
            .collect();
        assert_eq!(reveals.len(), 1, "{trail:?}");
        assert_eq!(reveals[0].0, format!("operator:{reviewer_id}"));
        assert_eq!(reveals[0].2["reason"], "court order 123");
        assert_eq!(reveals[0].2["approved_by"], format!("operator:{admin_id}"));
        assert_eq!(reveals[0].2["four_eyes_request"], json!(fer));

        // Approved, then the customer's identifiers changed: asked again.
        let p = act(
            &mut reviewer,
            &live,
            "reveal_identifier",
            &[("identifier", "0"), ("reason", "second look")],
        )
        .await;
        let fer = request_id(&p);
        let p = decide(&mut admin, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let (st, v) = app
        .call(
            &app.live_key,
            Method::PATCH,
            &format!("/v1/customers/{live}"),
            Some(json!({"identifiers": [{"type": "passport", "value": "FX123456", "country": "BR"}]})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let csrf = reviewer.get("/admin").await.csrf();
        let p = reviewer
            .post_form(&format!("/admin/requests/{fer}/reveal"), &[("csrf", &csrf)])
            .await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
        assert!(
            p.body.contains("identifiers changed") && !p.body.contains("FX123456"),
            "{}",
            p.body
        );
    }
);

/// The rows of an audit page's table: their entry ids, in order.
fn rows(p: &Page) -> Vec<String> {
    p.body
        .match_indices("<tr data-id=\"")
        .map(|(at, m)| {
            let rest = &p.body[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

per_backend!(
    the_audit_log_is_browsed_and_exported,
    |backend: Backend| async move {
        let app = many_pages(backend).await;
        let a = on_hold(&app, "fe-4a").await;
        let b = on_hold(&app, "fe-4b").await;
        let (mut admin, admin_id) = login(&app, "admin", None).await;
        let (mut reviewer, reviewer_id) = login(&app, "reviewer", None).await;
        let (mut viewer, _) = login(&app, "viewer", None).await;
        let p = act(&mut reviewer, &a, "note", &[("note", "first look")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = act(&mut reviewer, &b, "approve", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        // Only admins.
        for c in [&mut reviewer, &mut viewer] {
            assert_eq!(c.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
            assert_eq!(
                c.get("/admin/audit/export.jsonl").await.status,
                StatusCode::FORBIDDEN
            );
        }
        let all = admin.get("/admin/audit").await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        let ids = rows(&all);
        assert!(ids.len() >= 6, "{ids:?}");
        let mut sorted = ids.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(ids, sorted, "newest first");
        // The view itself is the newest entry.
        assert!(all.body.contains("admin.audit_viewed"));

        // Filters: customer, action, actor, dates.
        let only_a = admin.get(&format!("/admin/audit?customer={a}")).await;
        assert!(
            only_a.body.contains("first look") && !only_a.body.contains(&b),
            "{}",
            only_a.body
        );
        let approvals = admin.get("/admin/audit?action=admin.approve").await;
        assert_eq!(rows(&approvals).len(), 1, "{}", approvals.body);
        assert!(approvals.body.contains(&b));
        let by_reviewer = admin
            .get(&format!("/admin/audit?actor=operator:{reviewer_id}"))
            .await;
        let mut conn = app.state.store.reader().await.unwrap();
        let by_reviewer_in_db: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE actor = $1")
            .bind(format!("operator:{reviewer_id}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        drop(conn);
        assert!(by_reviewer_in_db >= 2);
        assert_eq!(
            rows(&by_reviewer).len() as i64,
            by_reviewer_in_db,
            "{}",
            by_reviewer.body
        );
        assert!(
            by_reviewer.body.contains("first look")
                && !by_reviewer.body.contains("admin.audit_viewed")
        );
        let today = chrono::Utc::now().date_naive();
        let tomorrow = today.succ_opt().unwrap();
        let p = admin.get(&format!("/admin/audit?from={tomorrow}")).await;
        assert!(
            rows(&p).is_empty() && p.body.contains("No entries match"),
            "{}",
            p.body
        );
        let p = admin
            .get(&format!(
                "/admin/audit?customer={a}&from={today}&to={today}"
            ))
            .await;
        assert_eq!(rows(&p), rows(&only_a));
        let p = admin.get("/admin/audit?from=yesterday").await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);

        // Pages of 50, keyset by id.
        let mut conn = app.state.store.writer().await.unwrap();
        let scope = kycd_store::Scope::new(&app.org_id, "sandbox");
        for n in 0..60 {
            kycd_store::customers::insert_audit(
                &mut conn,
                &*app.state.vault,
                &scope,
                "system",
                "test.filler",
                Some(&a),
                &json!({"n": n}),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        }
        drop(conn);
        let first = admin.get("/admin/audit?action=test.filler").await;
        assert_eq!(rows(&first).len(), 50);
        let next = first
            .body
            .find("/admin/audit?action=test.filler&amp;before=")
            .expect("an older page");
        let href = &first.body[next..];
        let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
        let second = admin.get(&href).await;
        assert_eq!(rows(&second).len(), 10, "{}", second.body);
        assert!(rows(&second)[0] < rows(&first)[49]);

        // The export: the same filters, JSON Lines that match the database.
        let export = admin
            .get(&format!("/admin/audit/export.jsonl?customer={a}"))
            .await;
        assert_eq!(export.status, StatusCode::OK, "{}", export.body);
        assert_eq!(export.headers["content-type"], "application/jsonl");
        let lines: Vec<Value> = export
            .body
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        let mut conn = app.state.store.reader().await.unwrap();
        let db = sqlx::query(
        "SELECT id, actor, action, details, at FROM audit_log WHERE resource_id = $1 ORDER BY id DESC",
    )
    .bind(&a)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
        drop(conn);
        assert_eq!(lines.len(), db.len());
        assert!(lines.len() > 60, "the filler and the customer's own trail");
        for (line, row) in lines.iter().zip(&db) {
            let details: Value = serde_json::from_str(&row.get::<String, _>(3)).unwrap();
            assert_eq!(line["id"], json!(row.get::<String, _>(0)));
            assert_eq!(line["actor"], json!(row.get::<String, _>(1)));
            assert_eq!(line["action"], json!(row.get::<String, _>(2)));
            assert_eq!(line["details"], details);
            assert_eq!(line["resource_id"], json!(a));
            let at = chrono::DateTime::parse_from_rfc3339(line["at"].as_str().unwrap()).unwrap();
            assert_eq!(at.timestamp_micros(), row.get::<i64, _>(4));
        }
        // An unfiltered export streams more than one batch of 500.
        let mut conn = app.state.store.writer().await.unwrap();
        for n in 0..520 {
            kycd_store::customers::insert_audit(
                &mut conn,
                &*app.state.vault,
                &scope,
                "system",
                "test.bulk",
                None,
                &json!({"n": n}),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        }
        drop(conn);
        let export = admin
            .get("/admin/audit/export.jsonl?action=test.bulk")
            .await;
        let ns: Vec<i64> = export
            .body
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["details"]["n"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ns, (0..520).rev().collect::<Vec<_>>());

        // Browsing and exporting are audited, with their filters.
        let mut conn = app.state.store.reader().await.unwrap();
        let seen = sqlx::query(
        "SELECT action, details FROM audit_log WHERE actor = $1 AND action IN ('admin.audit_viewed', 'admin.audit_exported') ORDER BY id",
    )
    .bind(format!("operator:{admin_id}"))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
        drop(conn);
        let exported: Vec<Value> = seen
            .iter()
            .filter(|r| r.get::<String, _>(0) == "admin.audit_exported")
            .map(|r| serde_json::from_str(&r.get::<String, _>(1)).unwrap())
            .collect();
        assert_eq!(exported.len(), 2, "{exported:?}");
        assert_eq!(exported[0]["filters"]["customer"], json!(a));
        assert_eq!(seen.len(), 8 + 2, "every view and export recorded");
        // The chain still verifies with all of it (the background sealer may
        // race the one `verify` runs: then again).
        let mut verdict = None;
        for _ in 0..20 {
            match kycd_server::admin::audit::verify(&app.state.store, &*app.state.vault, None).await
            {
                Ok(v) => {
                    verdict = Some(v);
                    break;
                }
                Err(kycd_store::StoreError::Conflict(_)) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(verdict.expect("a verdict").ok);
    }
);

per_backend!(
    an_organization_admin_sees_its_own_audit_only,
    |backend: Backend| async move {
        let app = many_pages(backend).await;
        let a = on_hold(&app, "fe-5").await;
        let other = kycd_server::create_org(&app.state.store, "Other")
            .await
            .unwrap();
        let (mut outsider, _) = login(&app, "admin", Some(&other.id)).await;
        let p = outsider.get(&format!("/admin/audit?customer={a}")).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(rows(&p).is_empty(), "{}", p.body);
        let p = outsider.get("/admin/audit/export.jsonl").await;
        let lines: Vec<Value> = p
            .body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!lines.is_empty(), "its own views");
        assert!(
            lines
                .iter()
                .all(|l| l["organization_id"] == json!(other.id) && l["resource_id"].is_null()),
            "{}",
            p.body
        );
        let (mut insider, _) = login(&app, "admin", Some(&app.org_id)).await;
        let p = insider.get(&format!("/admin/audit?customer={a}")).await;
        assert!(!rows(&p).is_empty(), "{}", p.body);
        // A four-eyes request of this organization is not the outsider's to decide.
        let p = act(
            &mut insider,
            &a,
            "reveal_identifier",
            &[("identifier", "0"), ("reason", "x")],
        )
        .await;
        assert_eq!(p.status, StatusCode::OK, "sandbox: direct");
    }
);

/// A customer's rows: (events, status history, audit entries about it).
async fn trail_counts(app: &TestApp, id: &str) -> (i64, i64, i64) {
    let mut conn = app.state.store.reader().await.unwrap();
    let mut counts = vec![];
    for sql in [
        "SELECT COUNT(*) FROM events WHERE customer_id = $1",
        "SELECT COUNT(*) FROM status_history WHERE customer_id = $1",
        "SELECT COUNT(*) FROM audit_log WHERE resource_id = $1",
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        counts.push(n);
    }
    (counts[0], counts[1], counts[2])
}

async fn request_outcome(app: &TestApp, fer: &str) -> Option<String> {
    let mut conn = app.state.store.reader().await.unwrap();
    kycd_store::four_eyes::get(&mut conn, fer)
        .await
        .unwrap()
        .expect("the request")
        .outcome
}

/// Makes every insert of an audit entry with this action fail (`None`: stop).
async fn fail_audit_of(app: &TestApp, action: Option<&str>) {
    let sql: Vec<String> = match (app.backend, action) {
        (Backend::Sqlite, Some(a)) => vec![format!(
            "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log \
             WHEN NEW.action = '{a}' BEGIN SELECT RAISE(ABORT, 'test: fail the audit'); END"
        )],
        (Backend::Sqlite, None) => vec!["DROP TRIGGER test_fail_audit".into()],
        (Backend::Postgres, Some(a)) => vec![
            "CREATE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'test: fail the audit'; END $$"
                .into(),
            format!(
                "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log FOR EACH ROW \
                 WHEN (NEW.action = '{a}') EXECUTE FUNCTION test_fail_audit()"
            ),
        ],
        (Backend::Postgres, None) => vec![
            "DROP TRIGGER test_fail_audit ON audit_log".into(),
            "DROP FUNCTION test_fail_audit()".into(),
        ],
    };
    let mut conn = app.state.store.writer().await.unwrap();
    for s in sql {
        sqlx::query(&s).execute(&mut *conn).await.unwrap();
    }
}

per_backend!(
    an_approval_is_one_transaction_with_its_action_and_audit,
    |backend: Backend| async move {
        let app = many_pages(backend).await;
        let id = on_hold(&app, "fe-atomic").await;
        let (mut reviewer, _) = login(&app, "reviewer", None).await;
        let (mut alice, _) = login(&app, "admin", None).await;
        let (mut bob, bob_id) = login(&app, "admin", None).await;
        let p = act(
            &mut reviewer,
            &id,
            "reject",
            &[("rejection_reason", "sanctions_match")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let fer = request_id(&act(&mut alice, &id, "overturn_rejection", &[]).await);

        // The action's own audit entry cannot be written: the approval, the
        // overturn and its event roll back with it.
        let before = trail_counts(&app, &id).await;
        fail_audit_of(&app, Some("admin.overturn_rejection")).await;
        let p = decide(&mut bob, &fer, "approve").await;
        assert!(p.status.is_server_error(), "{}: {}", p.status, p.body);
        fail_audit_of(&app, None).await;
        assert_eq!(request_outcome(&app, &fer).await, None);
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "rejected");
        let after = trail_counts(&app, &id).await;
        assert_eq!(
            (after.0, after.1),
            (before.0, before.1),
            "no event, no history"
        );
        assert!(
            !audit_of(&app, &id)
                .await
                .iter()
                .any(|(_, a, _)| a == "admin.four_eyes_approved"),
            "no approval in the audit log"
        );

        // A normal approval writes the decision, the transition, its event
        // and both audit entries.
        let before = trail_counts(&app, &id).await;
        let p = decide(&mut bob, &fer, "approve").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(
            request_outcome(&app, &fer).await.as_deref(),
            Some("approved")
        );
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "pending");
        let after = trail_counts(&app, &id).await;
        assert!(
            after.0 > before.0 && after.1 > before.1,
            "{before:?} → {after:?}"
        );
        let trail = audit_of(&app, &id).await;
        for action in ["admin.four_eyes_approved", "admin.overturn_rejection"] {
            let e = trail
                .iter()
                .find(|(_, a, _)| a == action)
                .unwrap_or_else(|| panic!("{action} in {trail:?}"));
            assert_eq!(e.0, format!("operator:{bob_id}"));
        }

        // A reviewer asks to approve (the confirmed match needs four eyes),
        // then the customer is rejected again before an admin decides: the
        // approval is refused, says why, and writes nothing.
        let fer2 = request_id(&act(&mut reviewer, &id, "approve", &[]).await);
        let p = act(
            &mut reviewer,
            &id,
            "reject",
            &[("rejection_reason", "sanctions_match")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let before = trail_counts(&app, &id).await;
        let p = decide(&mut alice, &fer2, "approve").await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
        assert!(
            p.body.contains("Approval refused") && p.body.contains("stays pending"),
            "{}",
            p.body
        );
        assert_eq!(request_outcome(&app, &fer2).await, None, "still pending");
        assert_eq!(status(&app, &app.sandbox_key, &id).await, "rejected");
        let after = trail_counts(&app, &id).await;
        assert_eq!(
            (after.0, after.1),
            (before.0, before.1),
            "no event, no history"
        );
        // Only the refusal is recorded (outside the rolled-back transaction).
        assert_eq!(after.2, before.2 + 1);
        let trail = audit_of(&app, &id).await;
        let last = trail.last().unwrap();
        assert_eq!(last.1, "admin.four_eyes_refused", "{trail:?}");
        assert_eq!(last.2["request_id"], json!(fer2));
        assert!(
            !trail
                .iter()
                .any(
                    |(_, a, d)| (a == "admin.four_eyes_approved" || a == "admin.approve")
                        && d["request_id"] == json!(fer2)
                        || d["four_eyes_request"] == json!(fer2)
                ),
            "{trail:?}"
        );
        // Still pending, it can be declined.
        let p = decide(&mut alice, &fer2, "decline").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(
            request_outcome(&app, &fer2).await.as_deref(),
            Some("declined")
        );
    }
);

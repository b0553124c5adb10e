//! Working the queue as a team (issue 15 item 4) over plain HTTP: claim,
//! release and reassign with their roles (a viewer is refused, a reviewer
//! claims, only the holder or an admin releases, only an admin reassigns),
//! the queue's "mine", "unassigned" and tag filters, tags and internal notes
//! on the case (audited, never on the API), the age against the target time
//! of each queue (overdue after the sandbox clock moves on), and the CSV
//! export of the filtered queue (content, formula cells quoted away, viewer
//! refused, audited).

use crate::admin::{act, audit_of, case_form, login, many_pages, on_hold};
use crate::common::*;
use crate::hosted::FormClient;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

async fn email_of(app: &TestApp, op: &str) -> String {
    let mut conn = app.state.store.reader().await.unwrap();
    kycd_store::operators::by_id(&mut conn, op)
        .await
        .unwrap()
        .expect("operator")
        .email
}

/// The queue row of a customer, if listed.
fn row<'a>(body: &'a str, id: &str) -> Option<&'a str> {
    let at = body.find(&format!("href=\"/admin/customers/{id}\">{id}"))?;
    let start = body[..at].rfind("<tr")?;
    let end = at + body[at..].find("</tr>")?;
    Some(&body[start..end])
}

async fn queue(client: &mut FormClient, query: &str) -> String {
    let p = client.get(&format!("/admin/queue?{query}")).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    p.body
}

per_backend!(
    claim_release_reassign_tags_and_notes,
    |backend| async move {
        let app = many_pages(backend).await;
        let a = on_hold(&app, "team-a").await;
        let b = on_hold(&app, "team-b").await;
        let (mut viewer, _) = login(&app, "viewer", None).await;
        let (mut rev, rev_id) = login(&app, "reviewer", None).await;
        let (mut rev2, rev2_id) = login(&app, "reviewer", None).await;
        let (mut admin, _) = login(&app, "admin", None).await;
        let rev_email = email_of(&app, &rev_id).await;
        let rev2_email = email_of(&app, &rev2_id).await;

        // A viewer sees the queue but claims nothing; a form without the token is refused.
        let p = case_form(&mut viewer, &a, "/claim", &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        let p = rev
            .post_form(
                &format!("/admin/customers/{a}/claim"),
                &[("csrf", "forged")],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        let q = queue(&mut viewer, "").await;
        assert!(row(&q, &a).unwrap().contains("unassigned"), "{q}");

        // A reviewer claims; the queue names the holder; a second reviewer can
        // neither claim nor release it.
        let p = case_form(&mut rev, &a, "/claim", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let q = queue(&mut viewer, "").await;
        assert!(row(&q, &a).unwrap().contains(&rev_email), "{q}");
        assert!(row(&q, &b).unwrap().contains("unassigned"), "{q}");
        let p = case_form(&mut rev2, &a, "/claim", &[]).await;
        assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
        assert_has(&p.body, &rev_email);
        let p = case_form(&mut rev2, &a, "/claim/release", &[]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);

        // "mine" and "unassigned".
        let q = queue(&mut rev, "claim=mine").await;
        assert!(row(&q, &a).is_some() && row(&q, &b).is_none(), "{q}");
        let q = queue(&mut rev, "claim=unassigned").await;
        assert!(row(&q, &a).is_none() && row(&q, &b).is_some(), "{q}");
        let q = queue(&mut rev2, "claim=mine").await;
        assert!(row(&q, &a).is_none() && row(&q, &b).is_none(), "{q}");

        // Only an admin reassigns (and only to an active reviewer or admin).
        let p = case_form(&mut rev, &a, "/claim/assign", &[("operator_id", &rev2_id)]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        let (_, viewer2_id) = login(&app, "viewer", None).await;
        let p = case_form(
            &mut admin,
            &a,
            "/claim/assign",
            &[("operator_id", &viewer2_id)],
        )
        .await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
        let p = case_form(
            &mut admin,
            &a,
            "/claim/assign",
            &[("operator_id", &rev2_id)],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let case = admin.get(&format!("/admin/customers/{a}")).await;
        let holder = case.body.split("id=\"holder\">").nth(1).unwrap();
        assert!(holder.starts_with(&rev2_email), "{holder}");
        let q = queue(&mut rev2, "claim=mine").await;
        assert!(row(&q, &a).is_some(), "{q}");
        // The new holder releases it: unassigned again.
        let p = case_form(&mut rev2, &a, "/claim/release", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let q = queue(&mut rev, "claim=unassigned").await;
        assert!(row(&q, &a).is_some(), "{q}");

        // Tags: shown on the queue, filtered on, removed.
        let p = case_form(&mut rev, &b, "/tags", &[("tag", "  VIP ")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = case_form(&mut viewer, &b, "/tags", &[("tag", "nope")]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
        let q = queue(&mut rev, "tag=vip").await;
        assert!(row(&q, &b).unwrap().contains("class=\"tag\">vip<"), "{q}");
        assert!(row(&q, &a).is_none(), "{q}");
        let p = case_form(&mut rev, &b, "/tags/remove", &[("tag", "vip")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let q = queue(&mut rev, "tag=vip").await;
        assert!(row(&q, &b).is_none(), "{q}");

        // An internal note shows on the case, never on the API.
        let p = act(
            &mut rev,
            &b,
            "note",
            &[("note", "called the bank, wait for fax")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let case = viewer.get(&format!("/admin/customers/{b}")).await;
        let notes = case.body.split("id=\"notes\"").nth(1).unwrap();
        assert_has(notes, "called the bank, wait for fax");
        for path in [
            format!("/v1/customers/{b}"),
            format!("/v1/events?customer_id={b}&limit=100"),
        ] {
            let (st, v) = app.get(&path).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            assert!(!v.to_string().contains("called the bank"), "{path}: {v}");
        }

        // Every change is in the audit trail, with its operator.
        let trail: Vec<_> = audit_of(&app, &a)
            .await
            .into_iter()
            .filter(|t| t.1.starts_with("admin."))
            .collect();
        let names: Vec<&str> = trail.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(
            names,
            ["admin.claim", "admin.reassign", "admin.release_claim"],
            "{trail:?}"
        );
        assert_eq!(trail[0].0, format!("operator:{rev_id}"));
        assert_eq!(trail[1].2, json!({"from": rev_id, "to": rev2_id}));
        assert_eq!(trail[2].0, format!("operator:{rev2_id}"));
        let trail = audit_of(&app, &b).await;
        let tags: Vec<_> = trail
            .iter()
            .filter(|t| t.1.starts_with("admin.tag_"))
            .map(|t| (t.1.as_str(), t.2["tag"].clone()))
            .collect();
        assert_eq!(
            tags,
            [
                ("admin.tag_add", json!("vip")),
                ("admin.tag_remove", json!("vip"))
            ]
        );

        // Erasing the customer (LGPD/GDPR) removes its claim and tags too.
        let p = case_form(&mut rev, &b, "/claim", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let p = case_form(&mut rev, &b, "/tags", &[("tag", "erase-me")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let mut conn = app.state.store.reader().await.unwrap();
        assert!(
            kycd_store::case_claims::claim_of(&mut conn, &b)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            kycd_store::case_claims::tags_of(&mut conn, &b)
                .await
                .unwrap(),
            ["erase-me"]
        );
        drop(conn);
        let (st, v) = app.delete(&format!("/v1/customers/{b}")).await;
        assert!(st.is_success(), "{st} {v}");
        let mut conn = app.state.store.reader().await.unwrap();
        assert!(
            kycd_store::case_claims::claim_of(&mut conn, &b)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            kycd_store::case_claims::tags_of(&mut conn, &b)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

per_backend!(target_time_and_csv_export, |backend| async move {
    let app = many_pages(backend).await;
    let mut body = complete_individual("team-csv");
    body["individual"]["first_name"] = json!("=cmd|'/c calc'!A0");
    body["individual"]["last_name"] = json!("Lovelace");
    let c = app.create_customer(body).await;
    let id = c["id"].as_str().expect("created").to_string();
    app.start_verification(&id).await;
    let (_, v) = app
        .force_verification(&id, json!({"status": "on_hold"}))
        .await;
    assert_eq!(v["status"], "on_hold", "{v}");
    let (mut rev, _) = login(&app, "reviewer", None).await;
    let (mut viewer, _) = login(&app, "viewer", None).await;

    // Fresh: within its 24 h target.
    let q = queue(&mut rev, "reason=on_hold").await;
    let r = row(&q, &id).expect("listed");
    assert!(
        r.contains("data-overdue=\"false\"") && r.contains(" of 24 h"),
        "{r}"
    );
    let q = queue(&mut rev, "reason=product_access").await;
    assert!(row(&q, &id).is_none(), "{q}");

    // 25 hours later on the sandbox clock: over, marked.
    let (st, v) = app
        .post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": 25 * 3600}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let q = queue(&mut rev, "").await;
    let r = row(&q, &id).expect("listed");
    assert_has(r, "class=\"overdue\" data-overdue=\"true\"");
    assert_has(r, "25 h of 24 h · over");
    let case = rev.get(&format!("/admin/customers/{id}")).await;
    assert!(
        case.body
            .contains("data-overdue=\"true\">25 h of 24 h · over"),
        "{}",
        case.body
    );

    // The CSV of the filtered queue: formula cells quoted away.
    let p = case_form(&mut rev, &id, "/tags", &[("tag", "-2+3")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let other = on_hold(&app, "team-csv-untagged").await;
    let p = viewer.get("/admin/queue/export.csv?tag=-2%2B3").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    let p = rev.get("/admin/queue/export.csv?tag=-2%2B3").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        p.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert_eq!(p.headers["x-content-type-options"], "nosniff");
    let lines: Vec<&str> = p.body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "customer_id,name,status,waiting_for,age_hours,target_hours,overdue,held_by,tags,organization_id,environment"
    );
    assert_eq!(lines.len(), 2, "only the tagged case: {}", p.body);
    assert!(!p.body.contains(&other));
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0], id);
    assert_eq!(cells[1], "'=cmd|'/c calc'!A0 Lovelace", "{}", lines[1]);
    assert_eq!(
        &cells[2..9],
        ["on_hold", "on_hold", "25", "24", "true", "", "'-2+3"]
    );
    assert_eq!(cells[10], "sandbox");
    for l in &lines {
        for c in l.split(',') {
            assert!(!c.starts_with(['=', '+', '-', '@']), "{c} in {l}");
        }
    }
    // No identifier or contact data leaves with it.
    for secret in ["529", "ada@example.com", "+5511"] {
        assert!(!p.body.contains(secret), "{secret}: {}", p.body);
    }

    // The export is audited, with its filters and row count.
    let mut conn = app.state.store.reader().await.unwrap();
    let rows =
        sqlx::query("SELECT actor, details FROM audit_log WHERE action = 'admin.queue_export'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the viewer's refused export is not an export"
    );
    let details: Value = serde_json::from_str(&rows[0].get::<String, _>(1)).unwrap();
    assert_eq!(details["rows"], 1);
    assert_eq!(details["filters"]["tag"], "-2+3");
    assert!(rows[0].get::<String, _>(0).starts_with("operator:op_"));
});

/// The dashboard's count of cases over the target of one queue reason.
fn overdue_on_dashboard(body: &str, reason: &str) -> String {
    let at = body
        .find(&format!("data-overdue-reason=\"{reason}\""))
        .unwrap_or_else(|| panic!("no {reason} count in {body}"));
    let text = &body[at..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find('<').unwrap()].to_string()
}

per_backend!(
    the_dashboard_counts_cases_over_their_target,
    |backend| async move {
        let app = many_pages(backend).await;
        let old = on_hold(&app, "dash-old").await;
        let (mut rev, _) = login(&app, "reviewer", None).await;
        let dash = rev.get("/admin").await;
        assert_eq!(dash.status, StatusCode::OK, "{}", dash.body);
        assert_has(&dash.body, "id=\"overdue-count\">0<");
        assert_eq!(overdue_on_dashboard(&dash.body, "on_hold"), "0");

        // 25 hours later on the sandbox clock the case is past its 24 h
        // target; a case put on hold now is not.
        let (st, v) = app
            .post(
                "/v1/test_helpers/clock/advance",
                json!({"seconds": 25 * 3600}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let fresh = on_hold(&app, "dash-fresh").await;
        let dash = rev.get("/admin").await;
        assert_has(&dash.body, "id=\"overdue-count\">1<");
        assert!(
            dash.body.contains("the oldest for 1d 1h"),
            "on the sandbox clock: {}",
            dash.body
        );
        assert_eq!(overdue_on_dashboard(&dash.body, "on_hold"), "1 over");
        assert_eq!(overdue_on_dashboard(&dash.body, "awaiting_review"), "0");
        assert!(
            dash.body
                .contains("href=\"/admin/queue?reason=on_hold&amp;overdue=1\""),
            "{}",
            dash.body
        );

        // The link: the queue filtered to the overdue cases of that reason.
        let q = queue(&mut rev, "reason=on_hold&overdue=1").await;
        assert!(row(&q, &old).is_some(), "{q}");
        assert!(row(&q, &fresh).is_none(), "{q}");
        assert_has(&q, "name=\"overdue\" value=\"1\" checked");
        let q = queue(&mut rev, "reason=on_hold").await;
        assert!(row(&q, &old).is_some() && row(&q, &fresh).is_some(), "{q}");
        // The filter carries into the CSV export.
        let p = rev.get("/admin/queue/export.csv?overdue=1").await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert!(
            p.body.contains(&old) && !p.body.contains(&fresh),
            "{}",
            p.body
        );
    }
);

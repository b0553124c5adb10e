//! The back office over plain HTTP, forms only: operators created through
//! the code the CLI runs, sign-in (wrong password, lockout, CSRF, session
//! cookie flags, logout), roles (a viewer's action is 403), organization
//! scoping (another organization's customer is 404), the queue and the case,
//! and decisions (approve, reject, request information) through the same
//! domain operations as the API, with the operator as actor, in sandbox and live.

use crate::common::*;
use crate::hosted::{FormClient, Page};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An operator created as `kycd operator create` does; its email and password.
pub async fn operator(
    app: &TestApp,
    email: &str,
    role: &str,
    org: Option<&str>,
) -> (String, String) {
    let op = kycd_server::admin::operators::create(&app.state.store, email, role, org)
        .await
        .expect("operator");
    assert!(op.id.starts_with("op_"));
    (op.email, op.password.expect("a password shown once"))
}

pub async fn try_login(client: &mut FormClient, email: &str, password: &str) -> Page {
    let form = client.get("/admin/login").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    client
        .post_form(
            "/admin/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
}

/// A server whose per-address limit of the back office is off: these tests
/// open many pages from one address in a second (the limit has its own tests).
pub async fn many_pages(backend: Backend) -> TestApp {
    spawn_with(backend, |c| c.address_rate_limit_per_second = None)
        .await
        .expect("a test server")
}

/// A browser signed in as a new operator with this role; its operator id.
pub async fn login(app: &TestApp, role: &str, org: Option<&str>) -> (FormClient, String) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let op = kycd_server::admin::operators::create(
        &app.state.store,
        &format!("{role}-{n}@ops.test"),
        role,
        org,
    )
    .await
    .expect("operator");
    let mut client = FormClient::new(app);
    let p = try_login(&mut client, &op.email, op.password.as_deref().unwrap()).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), "/admin");
    (client, op.id)
}

/// A browser signed in as a new operator with this role.
pub async fn signed_in(app: &TestApp, role: &str, org: Option<&str>) -> FormClient {
    login(app, role, org).await.0
}

/// Audit entries about a customer: (actor, action, details), oldest first.
pub async fn audit_of(app: &TestApp, id: &str) -> Vec<(String, String, Value)> {
    let mut conn = app.state.store.reader().await.unwrap();
    kycd_store::operators::audit_of(&mut conn, id)
        .await
        .unwrap()
        .into_iter()
        .map(|(actor, action, details, _)| (actor, action, serde_json::from_str(&details).unwrap()))
        .collect()
}

/// A sandbox customer held on a screening match (through the sandbox helper).
pub async fn on_hold(app: &TestApp, external_id: &str) -> String {
    let c = app.create_customer(complete_individual(external_id)).await;
    let id = id_of(&c);
    app.start_verification(&id).await;
    let (_, v) = app
        .force_verification(&id, json!({"status": "on_hold"}))
        .await;
    assert_eq!(v["status"], "on_hold", "{v}");
    id
}

/// Posts a form of the case page (`path` after the customer's) with the
/// page's CSRF token.
pub async fn case_form(
    client: &mut FormClient,
    id: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Page {
    let case = client.get(&format!("/admin/customers/{id}")).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    let csrf = case.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    client
        .post_form(&format!("/admin/customers/{id}{path}"), &all)
        .await
}

/// Posts a case action from the case page's form (its CSRF token).
pub async fn act(client: &mut FormClient, id: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    case_form(client, id, &format!("/actions/{action}"), fields).await
}

async fn events_of(app: &TestApp, key: &str, id: &str) -> Vec<String> {
    let (_, v) = app
        .call(
            key,
            Method::GET,
            &format!("/v1/events?customer_id={id}&limit=100"),
            None,
        )
        .await;
    v["data"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect()
}

both_backends!(sign_in_sessions_and_lockout, |app: TestApp| async move {
    // Without a session every page leads to the sign-in form.
    let mut anon = FormClient::new(&app);
    for path in ["/admin", "/admin/queue", "/admin/customers?q=x"] {
        let p = anon.get(path).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(p.location(), "/admin/login");
    }
    let (email, password) = operator(&app, "Alice@Ops.test", "reviewer", None).await;
    assert_eq!(email, "alice@ops.test");

    // A form without the token of this browser is refused.
    let mut client = FormClient::new(&app);
    let p = client
        .post_form(
            "/admin/login",
            &[
                ("csrf", "forged"),
                ("email", &email),
                ("password", &password),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);

    // A wrong password, then the right one.
    let p = try_login(&mut client, &email, "not-the-password").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert_has(&p.body, "Wrong email or password");
    let p = try_login(&mut client, "ALICE@ops.test", &password).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let set = p.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.starts_with("kycd_admin="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let home = client.get("/admin").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Dashboard") && home.body.contains("alice@ops.test"));
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(home.headers["cache-control"], "no-store");
    // Only the hash of the session id is stored.
    let sid = set.split(';').next().unwrap().split_once('=').unwrap().1;
    let mut conn = app.state.store.reader().await.unwrap();
    assert!(
        kycd_store::operators::session(&mut conn, sid)
            .await
            .unwrap()
            .is_none()
            && kycd_store::operators::session(&mut conn, &kycd_server::web::sha256_hex(sid))
                .await
                .unwrap()
                .is_some()
    );
    drop(conn);

    // Logout needs the token too, then ends the session.
    let p = client.post_form("/admin/logout", &[("csrf", "x")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let csrf = home.csrf();
    let p = client.post_form("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(client.get("/admin").await.status, StatusCode::SEE_OTHER);

    // Five failures lock the account, even for the right password.
    let mut other = FormClient::new(&app);
    for _ in 0..5 {
        let p = try_login(&mut other, &email, "guess").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    let p = try_login(&mut other, &email, &password).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.body);
    assert_has(&p.body, "Too many failed sign-ins for this account");
    // A reset lifts it.
    let reset = kycd_server::admin::operators::reset_password(&app.state.store, &email)
        .await
        .unwrap();
    let p = try_login(&mut other, &email, reset.password.as_deref().unwrap()).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    // Twenty failures from one address lock the address, whatever the
    // account (fourteen more recorded directly: sent one by one they would
    // meet the per-address request rate limit first).
    let mut conn = app.state.store.writer().await.unwrap();
    for _ in 0..13 {
        kycd_store::operators::record_failure(
            &mut conn,
            &["address:127.0.0.1"],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let p = try_login(&mut other, "nobody@ops.test", "guess").await;
    assert_eq!(
        p.status,
        StatusCode::UNAUTHORIZED,
        "the 20th failure: {}",
        p.body
    );
    let p = try_login(&mut other, &email, reset.password.as_deref().unwrap()).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.body);
    assert_has(&p.body, "for this address");
});

both_backends!(queue_case_and_approval, |app: TestApp| async move {
    let id = on_hold(&app, "adm-1").await;
    let mut client = signed_in(&app, "reviewer", None).await;
    let q = client.get("/admin/queue").await;
    assert_eq!(q.status, StatusCode::OK);
    assert_has(&q.body, &id);
    assert!(q.body.contains("screening match on hold"));
    let q = client.get("/admin/queue?environment=live").await;
    assert!(!q.body.contains(&id), "the filter");
    let dash = client.get("/admin").await;
    assert_has(&dash.body, "1</strong> cases wait");
    // Search by id (straight to the case), external id and email (blind index).
    let s = client.get(&format!("/admin/customers?q={id}")).await;
    assert_eq!(s.location(), format!("/admin/customers/{id}"));
    let s = client.get("/admin/customers?q=adm-1").await;
    assert!(s.body.contains(&id));
    let s = client.get("/admin/customers?q=ADA%40example.com").await;
    assert_has(&s.body, &id);
    let s = client.get("/admin/customers?q=nobody%40example.com").await;
    assert!(!s.body.contains(&id));

    // The case masks identifiers.
    let case = client.get(&format!("/admin/customers/{id}")).await;
    assert_has(&case.body, "•••• 4725");
    assert!(!case.body.contains("529.982.247-25"));

    // Without the session's token: refused, nothing changes.
    let p = client
        .post_form(
            &format!("/admin/customers/{id}/actions/approve"),
            &[("csrf", "nope")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let (_, c) = app.customer(&id).await;
    assert_eq!(c["status"], "on_hold");

    let p = act(&mut client, &id, "approve", &[("note", "checked by hand")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), format!("/admin/customers/{id}?done=approve"));
    let (_, c) = app.customer(&id).await;
    assert_eq!(c["status"], "active", "{c}");
    assert!(
        events_of(&app, &app.sandbox_key, &id)
            .await
            .iter()
            .any(|t| t == "customer.verification.approved")
    );
    let case = client
        .get(&format!("/admin/customers/{id}?done=approve"))
        .await;
    assert!(
        case.body.contains("operator:op_"),
        "the actor in the history"
    );
    // The API's explanation names the operator as the decision's actor (API.md).
    let (_, x) = app.get(&format!("/v1/customers/{id}/explanation")).await;
    let last = x["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"]["type"], "operator", "{last}");
    assert!(
        last["actor"]["id"].as_str().unwrap().starts_with("op_"),
        "{last}"
    );
    assert!(
        case.body.contains("checked by hand"),
        "the note in the trail"
    );
    // The queue no longer lists it.
    assert!(!client.get("/admin/queue").await.body.contains(&id));
    // An action the state forbids is refused with the domain's message.
    let p = act(&mut client, &id, "release", &[]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
});

both_backends!(reject_and_request_information, |app: TestApp| async move {
    let mut client = signed_in(&app, "reviewer", None).await;
    let a = on_hold(&app, "adm-r").await;
    let p = act(&mut client, &a, "reject", &[]).await;
    assert_eq!(
        p.status,
        StatusCode::BAD_REQUEST,
        "a reason is required: {}",
        p.body
    );
    let p = act(
        &mut client,
        &a,
        "reject",
        &[("rejection_reason", "fraud_suspected")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, c) = app.customer(&a).await;
    assert_eq!(c["status"], "rejected", "{c}");
    assert_eq!(c["verification"]["rejection_reason"], "fraud_suspected");

    let b = on_hold(&app, "adm-i").await;
    let p = act(
        &mut client,
        &b,
        "request_information",
        &[("missing", "nonsense")],
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    let p = act(
        &mut client,
        &b,
        "request_information",
        &[("missing", "proof_of_address")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, c) = app.customer(&b).await;
    assert_eq!(c["status"], "needs_information", "{c}");
    assert!(
        c["verification"]["requirements"]["missing"]
            .to_string()
            .contains("proof_of_address")
    );
    assert!(
        events_of(&app, &app.sandbox_key, &b)
            .await
            .iter()
            .any(|t| t == "customer.verification.needs_information")
    );
});

both_backends!(roles_and_organizations, |app: TestApp| async move {
    let id = on_hold(&app, "adm-v").await;
    // A viewer reads but cannot act.
    let mut viewer = signed_in(&app, "viewer", None).await;
    let case = viewer.get(&format!("/admin/customers/{id}")).await;
    assert_eq!(case.status, StatusCode::OK);
    assert!(
        !case.body.contains("/actions/approve"),
        "no action forms for a viewer"
    );
    let csrf = case.csrf();
    let p = viewer
        .post_form(
            &format!("/admin/customers/{id}/actions/approve"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.body);
    // A reviewer cannot deactivate (admins only).
    let mut reviewer = signed_in(&app, "reviewer", None).await;
    let p = act(&mut reviewer, &id, "deactivate", &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let (_, c) = app.customer(&id).await;
    assert_eq!(c["status"], "on_hold");

    // An operator of another organization sees nothing of this one.
    let other = kycd_server::create_org(&app.state.store, "Other")
        .await
        .unwrap();
    let mut outsider = signed_in(&app, "admin", Some(&other.id)).await;
    let p = outsider.get(&format!("/admin/customers/{id}")).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(!outsider.get("/admin/queue").await.body.contains(&id));
    assert!(
        !outsider
            .get("/admin/customers?q=adm-v")
            .await
            .body
            .contains(&id)
    );
    assert!(!outsider.get("/admin").await.body.contains(&app.org_id));
    let csrf = outsider.get("/admin").await.csrf();
    let p = outsider
        .post_form(
            &format!("/admin/customers/{id}/actions/approve"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    // The organization's own operator does.
    let mut insider = signed_in(&app, "admin", Some(&app.org_id)).await;
    assert!(insider.get("/admin/queue").await.body.contains(&id));
    let p = act(&mut insider, &id, "deactivate", &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, c) = app.customer(&id).await;
    assert_eq!(c["status"], "deactivated");
});

both_backends!(decisions_in_live, |app: TestApp| async move {
    // No live key can decide: an operator can.
    let key = app.live_key.clone();
    let (st, c) = app
        .call(
            &key,
            Method::POST,
            "/v1/customers",
            Some(complete_individual("live-1")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = id_of(&c);
    let (_, started) = app
        .call(
            &key,
            Method::POST,
            &format!("/v1/customers/{id}/verification"),
            Some(json!({})),
        )
        .await;
    let mut client = signed_in(&app, "reviewer", None).await;
    if started["status"] != "on_hold" {
        let p = act(&mut client, &id, "hold", &[]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{} from {started}", p.body);
    }
    assert!(
        client
            .get("/admin/queue?environment=live")
            .await
            .body
            .contains(&id)
    );
    let p = act(&mut client, &id, "approve", &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, c) = app
        .call(&key, Method::GET, &format!("/v1/customers/{id}"), None)
        .await;
    assert_eq!(c["status"], "active", "{c}");
    assert!(
        events_of(&app, &key, &id)
            .await
            .iter()
            .any(|t| t == "customer.verification.approved")
    );
    let _: Value = c;
});

both_backends!(documents_and_product_access, |app: TestApp| async move {
    let mut client = signed_in(&app, "reviewer", None).await;
    let id = id_of(&app.create_customer(complete_individual("adm-d")).await);
    let mut docs = vec![];
    for t in ["passport", "selfie"] {
        let (st, d) = app.upload_jpeg(&id, t).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        docs.push(id_of(&d));
    }
    let (_, c) = app.verify(&id, json!({"level": "full"})).await;
    assert_eq!(c["status"], "pending", "{c}");
    let q = client.get("/admin/queue").await;
    assert!(
        q.body.contains(&id) && q.body.contains("documents in review"),
        "{}",
        q.body
    );
    let case = client.get(&format!("/admin/customers/{id}")).await;
    assert!(case.body.contains(&docs[0]) && case.body.contains("/actions/document_accept"));

    let p = act(
        &mut client,
        &id,
        "document_accept",
        &[("document_id", "doc_nope")],
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.body);
    let p = act(
        &mut client,
        &id,
        "document_accept",
        &[("document_id", &docs[0])],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = act(
        &mut client,
        &id,
        "document_reject",
        &[
            ("document_id", &docs[1]),
            ("rejection_reason", "document_unreadable"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, list) = app.get(&format!("/v1/customers/{id}/documents")).await;
    let statuses: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (id_of(d), d["status"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        statuses.contains(&(docs[0].clone(), "accepted".into())),
        "{list}"
    );
    assert!(
        statuses.contains(&(docs[1].clone(), "rejected".into())),
        "{list}"
    );
    let types = events_of(&app, &app.sandbox_key, &id).await;
    assert!(
        types.iter().filter(|t| *t == "document.reviewed").count() == 2,
        "{types:?}"
    );

    // A manual product-access request waits in the queue; a reviewer grants it.
    let (st, s) = app
        .patch(
            "/v1/settings",
            json!({"products": {"cards": {"approval": "manual"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    let active = id_of(&app.create_customer(complete_individual("adm-p")).await);
    for t in ["passport", "selfie"] {
        let (_, d) = app.upload_jpeg(&active, t).await;
        let (st, r) = app
            .set_document(&id_of(&d), json!({"status": "accepted"}))
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
    }
    let (_, c) = app.verify(&active, json!({"level": "full"})).await;
    if c["status"] != "active" {
        let (_, v) = app
            .force_verification(&active, json!({"status": "approved"}))
            .await;
        assert_eq!(v["status"], "active", "{v}");
    }
    let (st, pa) = app
        .post(
            &format!("/v1/customers/{active}/product_access"),
            json!({"product": "cards"}),
        )
        .await;
    assert_status(st, &pa, StatusCode::CREATED, "pending");
    let pa_id = id_of(&pa);
    let q = client.get("/admin/queue").await;
    assert!(
        q.body.contains(&active) && q.body.contains("1 product access pending"),
        "{}",
        q.body
    );
    // Only a request of this customer.
    let p = act(
        &mut client,
        &id,
        "grant_product",
        &[("product_access_id", &pa_id)],
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.body);
    let p = act(
        &mut client,
        &active,
        "grant_product",
        &[("product_access_id", &pa_id)],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, got) = app
        .get(&format!("/v1/customers/{active}/product_access/{pa_id}"))
        .await;
    assert_eq!(got["status"], "granted", "{got}");
    assert!(!client.get("/admin/queue").await.body.contains(&active));

    // A session unused for longer than the idle limit ends.
    let mut conn = app.state.store.writer().await.unwrap();
    sqlx::query("UPDATE operator_sessions SET last_seen_at = 0")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let p = client.get("/admin/queue").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/admin/login?expired=1");
});

per_backend!(
    screening_matches_are_decided_from_the_case,
    |backend: Backend| async move {
        let (app, _list) = spawn_screening(backend, "list.csv", SANCTIONS_CSV)
            .await
            .expect("a test server");
        let mut client = signed_in(&app, "reviewer", None).await;
        let mut ids = vec![];
        for ext in ["adm-s1", "adm-s2"] {
            let body = sanctioned_individual(ext);
            let id = id_of(&app.create_customer(body).await);
            let (_, v) = app.start_verification(&id).await;
            assert_eq!(v["status"], "on_hold", "{v}");
            ids.push(id);
        }
        let case = client.get(&format!("/admin/customers/{}", ids[0])).await;
        assert!(case.body.contains("Viktor Petrovich Baranov") && case.body.contains("SDGT"));
        let p = act(
            &mut client,
            &ids[0],
            "dismiss_match",
            &[("match_id", "S-9")],
        )
        .await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
        let p = act(
            &mut client,
            &ids[0],
            "dismiss_match",
            &[("match_id", "S-1")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let (_, c) = app.get(&format!("/v1/customers/{}", ids[0])).await;
        assert_ne!(c["status"], "on_hold", "{c}");
        let p = act(
            &mut client,
            &ids[1],
            "confirm_match",
            &[("match_id", "S-1")],
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let (_, c) = app.get(&format!("/v1/customers/{}", ids[1])).await;
        assert_eq!(c["status"], "rejected", "{c}");
        assert_eq!(c["verification"]["rejection_reason"], "sanctions_match");
    }
);

// Several sealers at once (each node's worker, `kycd audit verify` beside a
// running server) all succeed and leave one unbroken chain: a pass whose
// sequence numbers another took gives way instead of failing.
both_backends!(
    concurrent_audit_sealers_all_succeed,
    |app: TestApp| async move {
        for round in 0..4 {
            for n in 0..30 {
                let (st, v) = app
                    .post(
                        "/v1/customers",
                        json!({"type": "individual", "external_id": format!("seal-{round}-{n}")}),
                    )
                    .await;
                assert_eq!(st, StatusCode::CREATED, "{v}");
            }
            let store = &app.state.store;
            let vault = &*app.state.vault;
            let seal = || kycd_server::admin::audit::seal_all(store, vault);
            let (a, b, c, d) = tokio::join!(seal(), seal(), seal(), seal());
            for r in [a, b, c, d] {
                r.expect("a sealer gives way to another, it does not fail");
            }
            let v = kycd_server::admin::audit::verify(store, vault, None)
                .await
                .unwrap();
            assert!(v.ok && v.entries >= 30 * (round + 1), "{v:?}");
        }
    }
);

both_backends!(
    the_audit_chain_names_an_altered_or_missing_entry,
    |app: TestApp| async move {
        let id = on_hold(&app, "adm-audit").await;
        let mut client = signed_in(&app, "reviewer", None).await;
        let p = act(&mut client, &id, "approve", &[("note", "ok")]).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        let store = &app.state.store;
        let v = kycd_server::admin::audit::verify(store, &*app.state.vault, None)
            .await
            .unwrap();
        assert!(v.ok && v.entries >= 5, "{v:?}");
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"entries": v.entries, "ok": true})
        );
        // Someone edits one entry in the database.
        let mut conn = store.writer().await.unwrap();
        let row = sqlx::query("SELECT id, details FROM audit_log WHERE seq = 3")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        use sqlx::Row;
        let (row_id, details): (String, String) = (row.get(0), row.get(1));
        sqlx::query("UPDATE audit_log SET details = $1 WHERE seq = 3")
            .bind(r#"{"note":"nothing to see"}"#)
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        let v = kycd_server::admin::audit::verify(store, &*app.state.vault, None)
            .await
            .unwrap();
        assert!(!v.ok, "{v:?}");
        let bad = v.first_bad.unwrap();
        assert_eq!((bad.seq, bad.id.as_deref()), (3, Some(row_id.as_str())));
        assert_has(&bad.problem, "altered");
        assert_eq!(v.entries, 2, "the entries before it hold");
        // Put back, the chain holds again; remove one and it is named as missing.
        let mut conn = store.writer().await.unwrap();
        sqlx::query("UPDATE audit_log SET details = $1 WHERE seq = 3")
            .bind(&details)
            .execute(&mut *conn)
            .await
            .unwrap();
        assert!(
            kycd_store::audit::verify(&mut conn, &*app.state.vault, None)
                .await
                .unwrap()
                .ok
        );
        sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        let v = kycd_server::admin::audit::verify(store, &*app.state.vault, None)
            .await
            .unwrap();
        let bad = v.first_bad.unwrap();
        assert_eq!((bad.seq, bad.id), (2, None));
        assert_has(&bad.problem, "missing");
    }
);

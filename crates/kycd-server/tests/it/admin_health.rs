//! Health on the back office's pages (both backends): the dashboard lists a
//! failing endpoint and the deliveries failed in the last 24 hours for its
//! organization and environment, and each screening list's freshness (stale
//! once not read for more than twice the refresh interval); another
//! organization's operator sees none of it; the case shows the customer's
//! events and webhook deliveries with their status.

use crate::admin::signed_in;
use crate::common::*;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;
use std::time::Duration;

per_backend!(
    dashboard_and_case_show_webhook_and_list_health,
    |backend: Backend| async move {
        let (app, _list) = spawn_screening(backend, "watch.csv", SANCTIONS_CSV)
            .await
            .expect("a test server");
        let mut client = signed_in(&app, "viewer", None).await;
        let p = client.get("/admin").await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert_has(&p.body, "None: every endpoint delivers.");
        assert_has(&p.body, "watch");
        assert_has(&p.body, ">fresh<");

        // An endpoint nobody answers, and a customer whose event it receives.
        let (endpoint, _) =
            crate::webhooks::add_endpoint(&app, "http://127.0.0.1:9/hook", json!(["*"])).await;
        let id = id_of(&app.create_customer(complete_individual("adm-health")).await);
        let store = &app.state.store;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let delivery: String = loop {
            let mut conn = store.reader().await.unwrap();
            let row = sqlx::query(
                "SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE e.customer_id = $1 AND d.endpoint_id = $2",
            )
            .bind(&id)
            .bind(&endpoint)
            .fetch_optional(&mut *conn)
            .await
            .unwrap();
            if let Some(r) = row {
                break r.get(0);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no delivery was created"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // It failed for good, and the endpoint fails since two hours.
        let now = chrono::Utc::now().timestamp_micros();
        {
            let mut conn = store.writer().await.unwrap();
            sqlx::query("UPDATE deliveries SET status = 'failed', attempts = 9, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&delivery)
            .execute(&mut *conn)
            .await
            .unwrap();
            sqlx::query("UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2")
                .bind(now - 2 * 3600 * 1_000_000)
                .bind(&endpoint)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        // The list was last read three refresh intervals ago.
        let refresh = chrono::Duration::from_std(app.state.config.screening_refresh).unwrap();
        for l in app.state.screening.loaded.lock().await.iter_mut() {
            l.checked_at = chrono::Utc::now() - refresh * 3;
        }

        let p = client.get("/admin").await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let endpoints = &p.body[p.body.find("id=\"webhook-endpoints\"").unwrap()..];
        assert!(endpoints.contains(&endpoint), "{}", p.body);
        assert!(
            endpoints.contains(">failing<") && endpoints.contains(" for 2h"),
            "{}",
            p.body
        );
        let failed = &p.body[p.body.find("id=\"failed-deliveries\"").unwrap()..];
        let row = format!(
            "<td>{}</td><td>sandbox</td><td><strong>1</strong>",
            app.org_id
        );
        assert!(failed.contains(&row), "{}", p.body);
        let lists = &p.body[p.body.find("id=\"screening-lists\"").unwrap()..];
        assert!(lists.contains(">stale<"), "{}", p.body);

        // Another organization's operator sees neither the endpoint nor the count.
        let other = kycd_server::create_org(&app.state.store, "Other")
            .await
            .unwrap();
        let mut outsider = signed_in(&app, "admin", Some(&other.id)).await;
        let p = outsider.get("/admin").await;
        assert!(
            !p.body.contains(&endpoint) && !p.body.contains(&app.org_id),
            "{}",
            p.body
        );

        // The case: the customer's events and the delivery with its status.
        let p = client.get(&format!("/admin/customers/{id}")).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let events = &p.body[p.body.find("id=\"case-events\"").unwrap()..];
        assert!(events.contains("customer.created"), "{}", p.body);
        let deliveries = &p.body[p.body.find("id=\"case-deliveries\"").unwrap()..];
        assert!(deliveries.contains(&endpoint), "{}", p.body);
        assert!(
            deliveries.contains(">failed<") && deliveries.contains("<td>9</td>"),
            "{}",
            p.body
        );
    }
);

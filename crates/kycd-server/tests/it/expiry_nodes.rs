//! Several kycd nodes on one PostgreSQL: their schedulers race to send expiry
//! notices and expire customers, and each customer is notified and expired
//! exactly once.

use crate::common::*;

#[tokio::test]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn three_nodes_expire_each_customer_once() {
    let app = spawn_with(Backend::Postgres, |c| c.tick_millis = 50)
        .await
        .expect("a PostgreSQL test server");
    let peers = [spawn_peer(&app).await, spawn_peer(&app).await];
    let mut ids = vec![];
    for i in 0..30 {
        let c = app
            .create_customer(complete_individual(&format!("node-{i}")))
            .await;
        let id = id_of(&c);
        app.start_and_approve(&id).await;
        ids.push(id);
    }
    // Move the sandbox clock without running what is due: the three schedulers race for it.
    let scope = kycd_store::Scope::new(&app.org_id, "sandbox");
    let mut conn = app.state.store.writer().await.unwrap();
    kycd_store::orgs::advance_clock(&mut conn, &scope, "{}", 400 * 86_400)
        .await
        .unwrap();
    drop(conn);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, list) = app.get("/v1/customers?status=expired&limit=100").await;
        if list["data"].as_array().unwrap().len() == ids.len()
            || std::time::Instant::now() > deadline
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for id in &ids {
        let (_, c) = peers[0].get(&format!("/v1/customers/{id}")).await;
        assert_eq!(c["status"], "expired");
        for t in [
            "customer.verification.expiring",
            "customer.verification.expired",
        ] {
            let (_, ev) = app
                .get(&format!("/v1/events?customer_id={id}&type={t}"))
                .await;
            assert_eq!(ev["data"].as_array().unwrap().len(), 1, "{t} once for {id}");
        }
    }
}

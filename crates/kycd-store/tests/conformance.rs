//! Store conformance suite: the same tests against SQLite and, when
//! KYCD_TEST_POSTGRES_URL is set, a fresh database on a real PostgreSQL.

use chrono::{Duration, Utc};
use kycd_core::customer::{Customer, CustomerType, Verification};
use kycd_core::lifecycle::StatusChange;
use kycd_core::status::CustomerStatus;
use kycd_store::customers::DocCipher;
use kycd_store::idempotency::{self, Claim, Claimant};
use kycd_store::{KeyOwner, Scope, Store, StoreError, customers, events, hosted, ids, orgs, usage};

/// The store's side of document sealing: it hands documents to a cipher and
/// never stores them as given. (The real cipher, the vault, is proven at rest
/// by the server's tests.) This one tags and reverses the text, and checks
/// that it is given the customer's own wrapped key.
struct TagCipher;

impl DocCipher for TagCipher {
    fn seal_doc(&self, org: &str, id: &str, wrapped: &str, doc: &str) -> Result<String, String> {
        assert_eq!(wrapped, format!("wk:{org}:{id}"));
        Ok(format!("sealed:{}", doc.chars().rev().collect::<String>()))
    }
    fn open_doc(&self, org: &str, id: &str, wrapped: &str, sealed: &str) -> Result<String, String> {
        assert_eq!(wrapped, format!("wk:{org}:{id}"));
        let body = sealed.strip_prefix("sealed:").ok_or("not sealed")?;
        Ok(body.chars().rev().collect())
    }
    fn new_wrapped_key(&self, org: &str, id: &str) -> String {
        format!("wk:{org}:{id}")
    }
}

/// Inserts `c` sealed, with its key, as the service does.
async fn insert_customer(
    conn: &mut kycd_store::Conn,
    scope: &Scope,
    c: &Customer,
) -> Result<(), StoreError> {
    let org = &scope.organization_id;
    let wrapped = TagCipher.new_wrapped_key(org, &c.id);
    let doc = TagCipher
        .seal_doc(org, &c.id, &wrapped, &customers::encode(c)?)
        .unwrap();
    customers::insert(conn, scope, c, &doc).await?;
    customers::put_customer_key(conn, KeyOwner::scoped(scope, &c.id), &wrapped).await?;
    Ok(())
}

async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    (sqlite, dir)
}

/// A fresh database on KYCD_TEST_POSTGRES_URL (the test is `ignored` when it
/// was unset at build time, see build.rs).
async fn postgres_store() -> Store {
    let base = std::env::var("KYCD_TEST_POSTGRES_URL").expect(
        "KYCD_TEST_POSTGRES_URL was set at build time: set it to run, or rebuild without it",
    );
    let url = kycd_store::create_scratch_database(&base, "kycd_conf")
        .await
        .unwrap();
    let pg = Store::connect(&url).await.unwrap();
    pg.migrate().await.unwrap();
    pg
}

/// One conformance test per backend: `NAME::sqlite` and `NAME::postgres`.
macro_rules! conformance {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = sqlite_store().await;
                ($body)(store).await;
            }
            #[tokio::test]
            #[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
            async fn postgres() {
                ($body)(postgres_store().await).await;
            }
        }
    };
}

fn customer(id: &str, ext: Option<&str>) -> Customer {
    // Documents keep millisecond precision, like the API.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    Customer {
        id: id.into(),
        object: "customer".into(),
        customer_type: CustomerType::Individual,
        external_id: ext.map(String::from),
        status: CustomerStatus::NotStarted,
        verification: Verification::default(),
        individual: None,
        business: None,
        addresses: vec![],
        identifiers: vec![],
        attestation: None,
        metadata: Default::default(),
        created_at: now,
        updated_at: now,
    }
}

conformance!(
    customers_round_trip_with_versions_and_scoping,
    |store: Store| async move {
        let a = Scope::new("org_a", "sandbox");
        let b = Scope::new("org_a", "live");
        let mut tx = store.begin().await.unwrap();
        let c = customer(&ids::new("cus"), Some("ext-1"));
        insert_customer(&mut tx, &a, &c).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.reader().await.unwrap();
        let got = customers::get(&mut conn, &TagCipher, &a, &c.id)
            .await
            .unwrap();
        assert_eq!(got.customer, c);
        assert_eq!(got.version, 1);
        assert!(
            matches!(
                customers::get(&mut conn, &TagCipher, &b, &c.id).await,
                Err(StoreError::NotFound)
            ),
            "other environment"
        );
        drop(conn);

        // external_id unique per org + env; the same in another env is fine.
        let mut w = store.writer().await.unwrap();
        let dup = insert_customer(&mut w, &a, &customer(&ids::new("cus"), Some("ext-1"))).await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(ref what)) if what == "external_id"),
            "{dup:?}"
        );
        insert_customer(&mut w, &b, &customer(&ids::new("cus"), Some("ext-1")))
            .await
            .unwrap();

        // Optimistic concurrency: a stale version is refused.
        let mut changed = c.clone();
        changed.status = CustomerStatus::Pending;
        assert_eq!(
            customers::update(&mut w, &TagCipher, &a, &changed, 1)
                .await
                .unwrap(),
            2
        );
        assert!(matches!(
            customers::update(&mut w, &TagCipher, &a, &changed, 1).await,
            Err(StoreError::VersionConflict)
        ));

        let h = StatusChange {
            from: CustomerStatus::NotStarted,
            to: CustomerStatus::Pending,
            reason: "r".into(),
            actor: "t".into(),
            at: Utc::now(),
        };
        customers::insert_history(&mut w, &a, &c.id, &h)
            .await
            .unwrap();
        let hist = customers::history(&mut w, &a, &c.id).await.unwrap();
        assert_eq!(hist.len(), 1);
        assert_eq!(hist[0].to_status, "pending");
        assert!(
            customers::history(&mut w, &b, &c.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

conformance!(
    list_paginates_newest_first_with_filters,
    |store: Store| async move {
        let s = Scope::new("org_l", "sandbox");
        let mut w = store.writer().await.unwrap();
        let mut ids_made = vec![];
        for i in 0..5 {
            let mut c = customer(&ids::new("cus"), Some(&format!("e{i}")));
            if i % 2 == 0 {
                c.status = CustomerStatus::Active;
            }
            insert_customer(&mut w, &s, &c).await.unwrap();
            ids_made.push(c.id);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let f = customers::ListFilter {
            limit: 2,
            ..Default::default()
        };
        let (page1, more) = customers::list(&mut w, &TagCipher, &s, &f).await.unwrap();
        assert!(more);
        assert_eq!(
            page1.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            vec![ids_made[4].clone(), ids_made[3].clone()]
        );
        let f = customers::ListFilter {
            limit: 10,
            starting_after: Some(ids_made[3].clone()),
            ..Default::default()
        };
        let (rest, more) = customers::list(&mut w, &TagCipher, &s, &f).await.unwrap();
        assert!(!more);
        assert_eq!(rest.len(), 3);
        let f = customers::ListFilter {
            limit: 10,
            status: Some("active".into()),
            ..Default::default()
        };
        assert_eq!(
            customers::list(&mut w, &TagCipher, &s, &f)
                .await
                .unwrap()
                .0
                .len(),
            3
        );
        let f = customers::ListFilter {
            limit: 10,
            external_id: Some("e1".into()),
            ..Default::default()
        };
        assert_eq!(
            customers::list(&mut w, &TagCipher, &s, &f).await.unwrap().0[0].id,
            ids_made[1]
        );
    }
);

fn who<'a>(owner: &'a str, token: &'a str) -> Claimant<'a> {
    Claimant { owner, token }
}

conformance!(
    idempotency_claims_are_exclusive,
    |store: Store| async move {
        let s = Scope::new("org_i", "sandbox");
        let now = Utc::now();
        // Concurrent claims of one key: exactly one wins.
        let mut handles = vec![];
        for n in 0..10 {
            let store = store.clone();
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                let mut w = store.writer().await.unwrap();
                let token = format!("t{n}");
                let c = idempotency::claim(&mut w, &s, "k", "h1", &who("node-a", &token), now)
                    .await
                    .unwrap();
                (c, token)
            }));
        }
        let mut winners = vec![];
        for h in handles {
            let (c, token) = h.await.unwrap();
            match c {
                Claim::Claimed => winners.push(token),
                Claim::Running { owner, token: held } => {
                    assert_eq!(owner.as_deref(), Some("node-a"));
                    assert!(held.is_some());
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(winners.len(), 1);
        let winner = &winners[0];
        let mut w = store.writer().await.unwrap();
        assert_eq!(
            idempotency::claim(&mut w, &s, "k", "h2", &who("node-a", "x"), now)
                .await
                .unwrap(),
            Claim::Mismatch
        );
        // Only the holder's token completes the claim.
        assert!(
            !idempotency::complete(&mut w, &s, "k", "t-other", 201, "{}", None)
                .await
                .unwrap()
        );
        assert!(
            idempotency::complete(&mut w, &s, "k", winner, 201, "{}", Some("cus_1"))
                .await
                .unwrap()
        );
        assert_eq!(
            idempotency::claim(&mut w, &s, "k", "h1", &who("node-b", "y"), now)
                .await
                .unwrap(),
            Claim::Replay {
                status: 201,
                body: "{}".into(),
                subject_id: Some("cus_1".into()),
            }
        );
        // A done key is never released by a late failure of its holder.
        idempotency::release(&mut w, &s, "k", winner).await.unwrap();
        assert!(matches!(
            idempotency::claim(&mut w, &s, "k", "h1", &who("node-b", "y"), now)
                .await
                .unwrap(),
            Claim::Replay { .. }
        ));
        // Another scope has its own keys; an expired key can be reused.
        assert_eq!(
            idempotency::claim(
                &mut w,
                &Scope::new("org_j", "sandbox"),
                "k",
                "h1",
                &who("n", "z"),
                now
            )
            .await
            .unwrap(),
            Claim::Claimed
        );
        let later = now + Duration::hours(25);
        assert_eq!(
            idempotency::claim(&mut w, &s, "k", "h9", &who("n", "z2"), later)
                .await
                .unwrap(),
            Claim::Claimed
        );
        // An abandoned claim (crashed request): taken over past its lease, or
        // at once by whoever knows its node is dead; the old holder can then
        // no longer complete it.
        idempotency::claim(&mut w, &s, "crash", "h", &who("dead", "c1"), now)
            .await
            .unwrap();
        assert_eq!(
            idempotency::claim(&mut w, &s, "crash", "h", &who("alive", "c2"), now)
                .await
                .unwrap(),
            Claim::Running {
                owner: Some("dead".into()),
                token: Some("c1".into())
            }
        );
        assert_eq!(
            idempotency::take_over(
                &mut w,
                &s,
                "crash",
                "h",
                &who("alive", "c2"),
                Some("c1"),
                now
            )
            .await
            .unwrap(),
            Claim::Claimed
        );
        // A second taker with the stale token loses.
        assert!(matches!(
            idempotency::take_over(
                &mut w,
                &s,
                "crash",
                "h",
                &who("other", "c3"),
                Some("c1"),
                now
            )
            .await
            .unwrap(),
            Claim::Running { .. }
        ));
        assert!(
            !idempotency::complete(&mut w, &s, "crash", "c1", 201, "{}", None)
                .await
                .unwrap()
        );
        idempotency::claim(&mut w, &s, "lease", "h", &who("n1", "l1"), now)
            .await
            .unwrap();
        assert_eq!(
            idempotency::claim(
                &mut w,
                &s,
                "lease",
                "h",
                &who("n2", "l2"),
                now + Duration::minutes(2)
            )
            .await
            .unwrap(),
            Claim::Claimed
        );
        // A failed request releases its own claim only.
        idempotency::release(&mut w, &s, "lease", "l1")
            .await
            .unwrap();
        assert!(matches!(
            idempotency::claim(
                &mut w,
                &s,
                "lease",
                "h",
                &who("n3", "l3"),
                now + Duration::minutes(2)
            )
            .await
            .unwrap(),
            Claim::Running { .. }
        ));
        idempotency::release(&mut w, &s, "lease", "l2")
            .await
            .unwrap();
        assert_eq!(
            idempotency::claim(
                &mut w,
                &s,
                "lease",
                "h",
                &who("n3", "l3"),
                now + Duration::minutes(2)
            )
            .await
            .unwrap(),
            Claim::Claimed
        );
    }
);

conformance!(
    customer_documents_are_sealed_by_the_cipher,
    |store: Store| async move {
        let s = Scope::new("org_seal", "sandbox");
        let mut w = store.writer().await.unwrap();
        let mut c = customer(&ids::new("cus"), Some("ext-seal"));
        c.metadata
            .insert("marker".into(), "sealed-marker-77".into());
        insert_customer(&mut w, &s, &c).await.unwrap();
        c.status = CustomerStatus::Pending;
        customers::update(&mut w, &TagCipher, &s, &c, 1)
            .await
            .unwrap();
        use sqlx::Row;
        let raw: String = sqlx::query("SELECT doc FROM customers WHERE id = $1")
            .bind(&c.id)
            .fetch_one(&mut *w)
            .await
            .unwrap()
            .try_get("doc")
            .unwrap();
        assert!(raw.starts_with("sealed:"), "{raw}");
        assert!(!raw.contains("sealed-marker-77"));
        assert_eq!(
            customers::get(&mut w, &TagCipher, &s, &c.id)
                .await
                .unwrap()
                .customer,
            c
        );
        // A document an older version stored in clear is sealed on request.
        let legacy = customer(&ids::new("cus"), Some("ext-legacy"));
        customers::insert(&mut w, &s, &legacy, &customers::encode(&legacy).unwrap())
            .await
            .unwrap();
        assert_eq!(
            customers::get(&mut w, &TagCipher, &s, &legacy.id)
                .await
                .unwrap()
                .customer,
            legacy
        );
        assert_eq!(
            customers::seal_plain_documents(&mut w, &TagCipher, 100)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            customers::seal_plain_documents(&mut w, &TagCipher, 100)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            customers::get(&mut w, &TagCipher, &s, &legacy.id)
                .await
                .unwrap()
                .customer,
            legacy
        );
    }
);

conformance!(events_usage_keys_and_links, |store: Store| async move {
    let s = Scope::new("org_e", "sandbox");
    let mut w = store.writer().await.unwrap();
    for t in ["customer.created", "customer.updated", "customer.created"] {
        let e = events::Event {
            id: ids::new("evt"),
            event_type: t.into(),
            customer_id: Some("cus_1".into()),
            data: serde_json::json!({"a": 1}),
            created_at: Utc::now(),
        };
        events::insert(&mut w, &s, &e).await.unwrap();
    }
    let f = events::EventFilter {
        event_type: Some("customer.created".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(events::list(&mut w, &s, &f).await.unwrap().0.len(), 2);
    let f = events::EventFilter {
        limit: 10,
        ..Default::default()
    };
    assert!(
        events::list(&mut w, &Scope::new("org_x", "sandbox"), &f)
            .await
            .unwrap()
            .0
            .is_empty()
    );

    let now = Utc::now();
    usage::record(&mut w, &s, usage::CUSTOMERS_CREATED, "cus_1", now)
        .await
        .unwrap();
    usage::record(&mut w, &s, usage::CUSTOMERS_CREATED, "cus_1", now)
        .await
        .unwrap();
    usage::record(&mut w, &s, usage::CUSTOMERS_CREATED, "cus_2", now)
        .await
        .unwrap();
    let month = now.format("%Y-%m").to_string();
    assert_eq!(
        usage::count(&mut w, &s, &month, usage::CUSTOMERS_CREATED)
            .await
            .unwrap(),
        2
    );

    // Blind-index keys: one per environment, the first writer wins.
    let live_e = Scope::new("org_e", "live");
    let sandbox_e = Scope::new("org_e", "sandbox");
    assert!(
        customers::put_blind_index_key(&mut w, &live_e, "w1")
            .await
            .unwrap()
    );
    assert!(
        !customers::put_blind_index_key(&mut w, &live_e, "w2")
            .await
            .unwrap(),
        "first key wins"
    );
    assert_eq!(
        customers::get_blind_index_key(&mut w, &live_e)
            .await
            .unwrap()
            .as_deref(),
        Some("w1")
    );
    assert_eq!(
        customers::get_blind_index_key(&mut w, &sandbox_e)
            .await
            .unwrap(),
        None,
        "another environment has its own key"
    );

    insert_customer(&mut w, &s, &customer("cus_l1", None))
        .await
        .unwrap();
    customers::insert_link(
        &mut w,
        &s,
        "cus_l1",
        "hash1",
        now + Duration::minutes(30),
        now,
    )
    .await
    .unwrap();
    let link = hosted::link(&mut w, "hash1").await.unwrap().unwrap();
    assert_eq!(
        (link.customer_id.as_str(), link.retired, link.opened_at),
        ("cus_l1", false, None)
    );
    assert_eq!(
        link.expires_at.timestamp_micros(),
        (now + Duration::minutes(30)).timestamp_micros()
    );
    assert!(hosted::link(&mut w, "nope").await.unwrap().is_none());
    // A link opens one session: the second browser loses.
    let session = |id: &'static str| hosted::NewSession {
        id_hash: id,
        token_hash: "hash1",
        csrf_token: "csrf",
        now,
    };
    assert!(hosted::open(&mut w, &link, &session("s1")).await.unwrap());
    assert!(!hosted::open(&mut w, &link, &session("s2")).await.unwrap());
    assert!(hosted::session(&mut w, "s2").await.unwrap().is_none());
    let s1 = hosted::session(&mut w, "s1").await.unwrap().unwrap();
    assert_eq!(
        (s1.customer_id.as_str(), s1.link_retired),
        ("cus_l1", false)
    );
    hosted::touch(&mut w, "s1", now + Duration::minutes(5))
        .await
        .unwrap();
    let s1 = hosted::session(&mut w, "s1").await.unwrap().unwrap();
    assert_eq!(
        s1.last_seen_at.timestamp_micros(),
        (now + Duration::minutes(5)).timestamp_micros()
    );
    customers::insert_link(
        &mut w,
        &s,
        "cus_l1",
        "hash2",
        now + Duration::minutes(30),
        now,
    )
    .await
    .unwrap();
    assert!(
        hosted::link(&mut w, "hash1")
            .await
            .unwrap()
            .unwrap()
            .retired,
        "superseded"
    );
    assert!(
        hosted::session(&mut w, "s1")
            .await
            .unwrap()
            .unwrap()
            .link_retired,
        "a renewal ends the old link's session"
    );
    hosted::end(&mut w, "s1").await.unwrap();
    assert!(hosted::session(&mut w, "s1").await.unwrap().is_none());

    customers::replace_blind_indexes(
        &mut w,
        &s,
        "cus_l1",
        "identifier:",
        &[("identifier:cpf".into(), "abc".into())],
        false,
    )
    .await
    .unwrap();
    insert_customer(&mut w, &s, &customer("cus_l2", None))
        .await
        .unwrap();
    customers::replace_blind_indexes(
        &mut w,
        &s,
        "cus_l2",
        "identifier:",
        &[("identifier:cpf".into(), "abc".into())],
        false,
    )
    .await
    .unwrap();
    let m = customers::duplicates_of(&mut w, &s, "cus_l2")
        .await
        .unwrap();
    assert_eq!(
        m,
        vec![("identifier:cpf".to_string(), "cus_l1".to_string())]
    );
    let other = Scope::new("org_e", "live");
    assert!(
        customers::duplicates_of(&mut w, &other, "cus_l2")
            .await
            .unwrap()
            .is_empty()
    );
});

conformance!(organizations_keys_and_settings, |store: Store| async move {
    let mut w = store.writer().await.unwrap();
    let org = orgs::Organization {
        id: ids::new("org"),
        name: "acme".into(),
        created_at: Utc::now(),
    };
    orgs::insert_org(&mut w, &org).await.unwrap();
    let s = Scope::new(&org.id, "live");
    orgs::insert_key(&mut w, "key_1", &s, "hash", "sk_live_abcd", Utc::now())
        .await
        .unwrap();
    let (owner, h) = orgs::find_key(&mut w, "hash").await.unwrap().unwrap();
    assert_eq!((owner.scope, h.as_str()), (s.clone(), "hash"));
    assert!(orgs::find_key(&mut w, "nope").await.unwrap().is_none());
    orgs::put_settings(&mut w, &s, "{\"min_age\": 21}")
        .await
        .unwrap();
    assert_eq!(orgs::advance_clock(&mut w, &s, "{}", 60).await.unwrap(), 60);
    assert_eq!(
        orgs::advance_clock(&mut w, &s, "{}", 60).await.unwrap(),
        120
    );
    let (body, off) = orgs::get_settings(&mut w, &s).await.unwrap().unwrap();
    assert_eq!((body.as_str(), off), ("{\"min_age\": 21}", 120));
    assert_eq!(orgs::clock_offsets(&mut w).await.unwrap().len(), 1);
});

// A unique violation names the constraint it broke, the same on both
// backends: a taken external_id is not a reused customer id.
conformance!(
    unique_violations_name_their_constraint,
    |store: Store| async move {
        let a = Scope::new("org_a", "sandbox");
        let c = customer(&ids::new("cus"), Some("ext-unique"));
        let mut w = store.writer().await.unwrap();
        insert_customer(&mut w, &a, &c).await.unwrap();

        let same_external =
            insert_customer(&mut w, &a, &customer(&ids::new("cus"), Some("ext-unique"))).await;
        assert!(
            matches!(same_external, Err(StoreError::Conflict(ref what)) if what == "external_id"),
            "{same_external:?}"
        );
        let same_id = insert_customer(&mut w, &a, &customer(&c.id, Some("ext-other"))).await;
        assert!(
            matches!(same_id, Err(StoreError::Conflict(ref what)) if what == "customer id"),
            "{same_id:?}"
        );
    }
);

// Sealed values are read and written only through the customer's own scope.
conformance!(secrets_are_scoped, |store: Store| async move {
    let a = Scope::new("org_a", "sandbox");
    let other_env = Scope::new("org_a", "live");
    let c = customer(&ids::new("cus"), None);
    let mut w = store.writer().await.unwrap();
    insert_customer(&mut w, &a, &c).await.unwrap();
    customers::put_secret(&mut w, &a, &c.id, "hosted_url", "sealed-1")
        .await
        .unwrap();
    assert_eq!(
        customers::get_secret(&mut w, &a, &c.id, "hosted_url")
            .await
            .unwrap()
            .as_deref(),
        Some("sealed-1")
    );
    assert_eq!(
        customers::get_secret(&mut w, &other_env, &c.id, "hosted_url")
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        customers::put_secret(&mut w, &other_env, &c.id, "hosted_url", "x").await,
        Err(StoreError::NotFound)
    ));
    customers::delete_secrets(&mut w, &other_env, &c.id, "hosted")
        .await
        .unwrap();
    assert!(
        customers::get_secret(&mut w, &a, &c.id, "hosted_url")
            .await
            .unwrap()
            .is_some(),
        "another scope deletes nothing"
    );
    // The data key: read under its owner's organization and environment only.
    assert!(
        customers::get_customer_key(&mut w, KeyOwner::scoped(&a, &c.id))
            .await
            .unwrap()
            .is_some(),
        "positive control: the owner's scope reads its key"
    );
    let other_org = Scope::new("org_b", &a.environment);
    for scope in [&other_org, &other_env] {
        assert!(
            customers::get_customer_key(&mut w, KeyOwner::scoped(scope, &c.id))
                .await
                .unwrap()
                .is_none(),
            "{scope:?} reads no key of {a:?}"
        );
    }
    assert!(
        customers::get_customer_key(&mut w, KeyOwner::organization_wide("org_a", &c.id))
            .await
            .unwrap()
            .is_none(),
        "a scoped key is not an organization-wide one"
    );
    // An organization-wide owner's key is stored once and read as such.
    let subject = ids::new("idem");
    assert!(
        customers::put_customer_key(&mut w, KeyOwner::organization_wide("org_a", &subject), "w")
            .await
            .unwrap()
    );
    assert_eq!(
        customers::get_customer_key(&mut w, KeyOwner::organization_wide("org_a", &subject))
            .await
            .unwrap()
            .as_deref(),
        Some("w")
    );
    assert!(
        customers::get_customer_key(&mut w, KeyOwner::scoped(&a, &subject))
            .await
            .unwrap()
            .is_none()
    );
});

// Owner links: replaced per business, found per owner within the scope, and
// gone when either side is erased.
conformance!(business_owner_links, |store: Store| async move {
    let a = Scope::new("org_a", "sandbox");
    let other_env = Scope::new("org_a", "live");
    let (o1, o2) = (ids::new("cus"), ids::new("cus"));
    let (b1, b2) = (ids::new("cus"), ids::new("cus"));
    let mut w = store.writer().await.unwrap();
    for id in [&o1, &o2, &b1, &b2] {
        insert_customer(&mut w, &a, &customer(id, None))
            .await
            .unwrap();
    }
    customers::replace_owner_links(&mut w, &a, &b1, &[o1.clone(), o2.clone()])
        .await
        .unwrap();
    customers::replace_owner_links(&mut w, &a, &b2, std::slice::from_ref(&o1))
        .await
        .unwrap();
    let mut both = vec![b1.clone(), b2.clone()];
    both.sort();
    assert_eq!(
        customers::businesses_owned_by(&mut w, &a, &o1)
            .await
            .unwrap(),
        both
    );
    assert!(
        customers::businesses_owned_by(&mut w, &other_env, &o1)
            .await
            .unwrap()
            .is_empty(),
        "another scope sees none"
    );
    // Replacing drops the owners no longer named.
    customers::replace_owner_links(&mut w, &a, &b1, std::slice::from_ref(&o2))
        .await
        .unwrap();
    assert_eq!(
        customers::businesses_owned_by(&mut w, &a, &o1)
            .await
            .unwrap(),
        vec![b2.clone()]
    );
    // An erased business no longer depends on anyone; an erased owner has no businesses.
    let minimal = customer(&b2, None);
    customers::erase(&mut w, &a, &minimal, Utc::now())
        .await
        .unwrap();
    assert!(
        customers::businesses_owned_by(&mut w, &a, &o1)
            .await
            .unwrap()
            .is_empty()
    );
    customers::erase(&mut w, &a, &customer(&o2, None), Utc::now())
        .await
        .unwrap();
    assert!(
        customers::businesses_owned_by(&mut w, &a, &o2)
            .await
            .unwrap()
            .is_empty()
    );
    // A business stored before the links existed gets them from the one-off pass.
    let mut old = customer(&ids::new("cus"), None);
    old.customer_type = CustomerType::Business;
    old.business = Some(kycd_core::customer::Business {
        beneficial_owners: vec![kycd_core::customer::BeneficialOwner::bare(o1.clone())],
        ..Default::default()
    });
    insert_customer(&mut w, &a, &old).await.unwrap();
    assert!(
        customers::businesses_owned_by(&mut w, &a, &o1)
            .await
            .unwrap()
            .is_empty()
    );
    let mut after = String::new();
    while let Some(last) = customers::link_business_owners(&mut w, &TagCipher, &after, 2)
        .await
        .unwrap()
    {
        after = last;
    }
    assert_eq!(
        customers::businesses_owned_by(&mut w, &a, &o1)
            .await
            .unwrap(),
        vec![old.id.clone()]
    );
});

conformance!(screening_dismissals_are_scoped, |store: Store| async move {
    use kycd_store::screening;
    let mine = Scope::new("org_dis_a", "sandbox");
    let other_org = Scope::new("org_dis_b", "sandbox");
    let other_env = Scope::new("org_dis_a", "live");
    let mut w = store.writer().await.unwrap();
    let c = customer(&ids::new("cus"), None);
    insert_customer(&mut w, &mine, &c).await.unwrap();
    let now = Utc::now();
    // A dismissal under another scope writes nothing.
    for wrong in [&other_org, &other_env] {
        screening::dismiss(&mut w, wrong, &c.id, "ofac", "e-1", "op", now)
            .await
            .unwrap();
    }
    assert!(
        screening::dismissed(&mut w, &mine, &c.id)
            .await
            .unwrap()
            .is_empty()
    );
    screening::dismiss(&mut w, &mine, &c.id, "ofac", "e-1", "op", now)
        .await
        .unwrap();
    assert_eq!(
        screening::dismissed(&mut w, &mine, &c.id).await.unwrap(),
        vec![("ofac".to_string(), "e-1".to_string())]
    );
    // A read with another organization's (or environment's) scope finds nothing.
    for wrong in [&other_org, &other_env] {
        assert!(
            screening::dismissed(&mut w, wrong, &c.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
});

conformance!(
    provider_applicant_events_are_scoped,
    |store: Store| async move {
        use kycd_store::providers;
        let mine = Scope::new("org_app_a", "sandbox");
        let other_org = Scope::new("org_app_b", "sandbox");
        let mut w = store.writer().await.unwrap();
        let now = Utc::now();
        providers::put_applicant(&mut w, &mine, "sumsub", "app-1", "cus_x", now)
            .await
            .unwrap();
        // Another organization's scope moves nothing, neither way in.
        assert!(
            !providers::advance_event(&mut w, &other_org, "sumsub", "app-1", 10)
                .await
                .unwrap()
        );
        assert!(
            !providers::mark_reconciled(&mut w, &other_org, "sumsub", "app-1", 20)
                .await
                .unwrap()
        );
        let stored = providers::applicant(&mut w, "sumsub", "app-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.last_event_ms, 0);
        assert!(
            providers::applicant_of(&mut w, &other_org, "sumsub", "cus_x")
                .await
                .unwrap()
                .is_none()
        );
        // Its own scope does.
        assert!(
            providers::advance_event(&mut w, &mine, "sumsub", "app-1", 10)
                .await
                .unwrap()
        );
        assert!(
            providers::mark_reconciled(&mut w, &mine, "sumsub", "app-1", 20)
                .await
                .unwrap()
        );
        let stored = providers::applicant_of(&mut w, &mine, "sumsub", "cus_x")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.last_event_ms, 20);
        assert_eq!(stored.scope, mine);
    }
);

conformance!(
    scope_check_reads_by_primary_key,
    |store: Store| async move {
        use sqlx::Row;
        // The scope check of rows keyed by customer id (sealed values, screening
        // dismissals), planned as a prepared statement's generic plan on a
        // nearly empty table (as on a new database, before any ANALYZE): it must
        // look the customer up by primary key, never scan an index of the scope.
        let scope = Scope::new("org_plan", "sandbox");
        let mut w = store.writer().await.unwrap();
        for n in 0..20 {
            let c = customer(&ids::new("cus"), Some(&format!("plan-{n}")));
            insert_customer(&mut w, &scope, &c).await.unwrap();
        }
        let condition = customers::customer_in_scope(2, 3);
        let plan: Vec<String> = match store.dialect {
            kycd_store::db::Dialect::Postgres => {
                sqlx::query("SET plan_cache_mode = force_generic_plan")
                    .execute(&mut *w)
                    .await
                    .unwrap();
                sqlx::query(&format!(
                    "PREPARE scope_check (text, text, text) AS SELECT 1 AS one WHERE {condition}"
                ))
                .execute(&mut *w)
                .await
                .unwrap();
                let rows =
                    sqlx::query("EXPLAIN EXECUTE scope_check ('cus_x', 'org_plan', 'sandbox')")
                        .fetch_all(&mut *w)
                        .await
                        .unwrap();
                for reset in ["DEALLOCATE scope_check", "RESET plan_cache_mode"] {
                    sqlx::query(reset).execute(&mut *w).await.unwrap();
                }
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
            kycd_store::db::Dialect::Sqlite => {
                let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN SELECT 1 WHERE {condition}"))
                    .bind("cus_x")
                    .bind("org_plan")
                    .bind("sandbox")
                    .fetch_all(&mut *w)
                    .await
                    .unwrap();
                rows.iter().map(|r| r.get::<String, _>(3)).collect()
            }
        };
        let plan = plan.join("\n");
        let by_key = match store.dialect {
            kycd_store::db::Dialect::Postgres => "customers_pkey",
            kycd_store::db::Dialect::Sqlite => "sqlite_autoindex_customers_1 (id=?)",
        };
        assert!(plan.contains(by_key), "{plan}");
        assert!(!plan.contains("customers_status"), "{plan}");
        // And it still tells the scope apart.
        let c = customer(&ids::new("cus"), None);
        insert_customer(&mut w, &scope, &c).await.unwrap();
        customers::put_secret(&mut w, &scope, &c.id, "f", "v")
            .await
            .unwrap();
        let other = Scope::new("org_plan", "live");
        assert!(matches!(
            customers::put_secret(&mut w, &other, &c.id, "f", "x").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            customers::get_secret(&mut w, &scope, &c.id, "f")
                .await
                .unwrap()
                .as_deref(),
            Some("v")
        );
    }
);

/// A stand-in for the vault's audit key: the sealer only needs MACs that
/// check.
struct SumMac;

impl kycd_store::audit::EntryMac for SumMac {
    fn mac(&self, content: &[u8]) -> String {
        let sum: u64 = content.iter().map(|b| u64::from(*b)).sum();
        format!("{sum:016x}")
    }
    fn check(&self, content: &[u8], mac: &str) -> bool {
        self.mac(content) == mac
    }
}

conformance!(
    audit_sealer_finds_entries_by_index,
    |store: Store| async move {
        use kycd_store::audit::{self, Entry};
        use sqlx::Row;
        // A backlog of unsealed entries, as under load between two passes.
        let mut w = store.writer().await.unwrap();
        for n in 0..300 {
            let e = Entry {
                id: ids::new("aud"),
                organization_id: "org_seal".into(),
                environment: "sandbox".into(),
                actor: "test".into(),
                action: "customer.create".into(),
                resource_id: Some(format!("cus_{n}")),
                details: "{}".into(),
                at: n,
                seq: None,
                prev_hash: None,
                hash: None,
                mac: None,
            };
            audit::insert(&mut w, &SumMac, &e).await.unwrap();
        }
        drop(w);
        // On SQLite (no statistics, like a new database), a pass reads its
        // entries in id order from the index of unsealed entries, without
        // sorting the backlog, and chains each entry found by its id: never
        // the backlog scanned once per entry, as the pass did while `seq`
        // NULLs were in the unique index (a pass grew with the backlog).
        if store.dialect == kycd_store::db::Dialect::Sqlite {
            let mut r = store.reader().await.unwrap();
            let plan = |rows: Vec<sqlx::any::AnyRow>| {
                rows.iter()
                    .map(|r| r.get::<String, _>(3))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let read = sqlx::query(&format!(
                "EXPLAIN QUERY PLAN {}",
                audit::unsealed_batch_sql()
            ))
            .bind(128i64)
            .fetch_all(&mut *r)
            .await
            .unwrap();
            let read = plan(read);
            assert!(read.contains("audit_log_unsealed"), "{read}");
            assert!(!read.contains("TEMP B-TREE"), "{read}");
            let explain = format!("EXPLAIN QUERY PLAN {}", audit::write_links_sql(100));
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
            for n in 0..100i64 {
                q = q.bind(n).bind("p").bind("h").bind(format!("aud_{n}"));
            }
            let write = q.fetch_all(&mut *r).await.unwrap();
            let write: Vec<&str> = write.iter().map(|r| r.3.as_str()).collect();
            let audit_log = write
                .iter()
                .find(|l| l.contains("audit_log"))
                .unwrap_or_else(|| panic!("{write:?}"));
            assert!(
                audit_log.contains("sqlite_autoindex_audit_log_1 (id=?)"),
                "{write:?}"
            );
        }
        // A pass chains the oldest entries; a second sealer that read the
        // same entries before that pass committed is refused, nothing written.
        let mut r = store.reader().await.unwrap();
        let first = audit::unsealed_batch(&mut r, 128).await.unwrap();
        assert_eq!(first.len(), 128);
        assert!(first.windows(2).all(|w| w[0].id < w[1].id));
        let mut tx = store.begin().await.unwrap();
        let sealed = audit::seal(&mut tx, &SumMac, &first).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!((sealed.count, sealed.head.map(|h| h.seq)), (128, Some(128)));
        assert!(sealed.mac_failed.is_empty());
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            audit::seal(&mut tx, &SumMac, &first).await,
            Err(StoreError::Conflict(_))
        ));
        tx.rollback().await.unwrap();
        // The rest, then the whole chain checks.
        loop {
            let next = audit::unsealed_batch(&mut r, 128).await.unwrap();
            if next.is_empty() {
                break;
            }
            assert!(next[0].id > first[127].id);
            let mut tx = store.begin().await.unwrap();
            audit::seal(&mut tx, &SumMac, &next).await.unwrap();
            tx.commit().await.unwrap();
        }
        let verdict = audit::verify(&mut r, &SumMac, None).await.unwrap();
        assert!(verdict.ok, "{verdict:?}");
        assert_eq!(verdict.entries, 300);
    }
);

conformance!(
    the_outbox_fans_out_each_committed_event_once,
    |store: Store| async move {
        use kycd_store::webhooks::{self, deliveries};
        let s = Scope::new("org_outbox", "sandbox");
        let now = Utc::now();
        let mut w = store.writer().await.unwrap();
        webhooks::insert(
            &mut w,
            &webhooks::Endpoint {
                id: ids::new("we"),
                scope: s.clone(),
                url: "https://example.com/hooks".into(),
                enabled_events: vec!["customer.created".into()],
                description: None,
                secrets: "sealed".into(),
                status: webhooks::ENABLED.into(),
                disabled_reason: None,
                failing_since: None,
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
        drop(w);
        let event = |t: &str| events::Event {
            id: ids::new("evt"),
            event_type: t.into(),
            customer_id: None,
            data: serde_json::json!({}),
            created_at: now,
        };
        // Five committed events (one of a type the endpoint does not take) and
        // one rolled back: only the committed ones are queued.
        let mut tx = store.begin().await.unwrap();
        for t in ["customer.created"; 4]
            .into_iter()
            .chain(["customer.updated"])
        {
            events::insert(&mut tx, &s, &event(t)).await.unwrap();
        }
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        events::insert(&mut tx, &s, &event("customer.created"))
            .await
            .unwrap();
        tx.rollback().await.unwrap();

        let d = store.dialect;
        if store.dialect == kycd_store::Dialect::Postgres {
            // Two nodes at once: the second skips what the first holds.
            let mut first = store.begin().await.unwrap();
            assert_eq!(
                deliveries::fan_out(&mut first, d, 3, now).await.unwrap(),
                (3, 3)
            );
            let mut second = store.begin().await.unwrap();
            assert_eq!(
                deliveries::fan_out(&mut second, d, 10, now).await.unwrap(),
                (2, 1)
            );
            second.commit().await.unwrap();
            first.commit().await.unwrap();
        } else {
            let mut tx = store.begin().await.unwrap();
            assert_eq!(
                deliveries::fan_out(&mut tx, d, 3, now).await.unwrap(),
                (3, 3)
            );
            assert_eq!(
                deliveries::fan_out(&mut tx, d, 10, now).await.unwrap(),
                (2, 1)
            );
            tx.commit().await.unwrap();
        }
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            deliveries::fan_out(&mut tx, d, 10, now).await.unwrap(),
            (0, 0),
            "taken once"
        );
        tx.commit().await.unwrap();
        let mut r = store.reader().await.unwrap();
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox")
            .fetch_one(&mut *r)
            .await
            .unwrap();
        let made: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(&mut *r)
            .await
            .unwrap();
        assert_eq!((queued, made), (0, 4));
    }
);

conformance!(
    the_expiry_scheduler_finds_only_due_customers,
    |store: Store| async move {
        use sqlx::Row;
        let s = Scope::new("org_expiry", "sandbox");
        let now = Utc::now();
        let mut w = store.writer().await.unwrap();
        // Many new customers (no expiry, no notice), and approved ones whose
        // notice or expiry is past, or not yet due.
        for n in 0..200 {
            insert_customer(&mut w, &s, &customer(&format!("cus_new{n:03}"), None))
                .await
                .unwrap();
        }
        let approved = |id: &str, expires_in: Duration| {
            let mut c = customer(id, None);
            c.status = CustomerStatus::Active;
            c.verification.expires_at = Some(now + expires_in);
            c
        };
        for (id, expires_in, notice_in) in [
            ("cus_expired", Duration::days(-1), None),
            (
                "cus_notice_due",
                Duration::days(20),
                Some(Duration::days(-1)),
            ),
            (
                "cus_not_due",
                Duration::days(300),
                Some(Duration::days(270)),
            ),
            ("cus_no_notice_yet", Duration::days(300), None),
        ] {
            insert_customer(&mut w, &s, &approved(id, expires_in))
                .await
                .unwrap();
            if let Some(notice) = notice_in {
                customers::schedule_expiry(&mut w, id, now + notice)
                    .await
                    .unwrap();
            }
        }
        let mut due: Vec<String> = customers::due_for_expiry(&mut w, Some(&s), now, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        due.sort();
        assert_eq!(due, ["cus_expired", "cus_notice_due"]);
        // On SQLite the scheduler's query reads the two (partial) schedule
        // indexes, never every customer: new customers are in neither.
        if store.dialect == kycd_store::db::Dialect::Sqlite {
            let plan = sqlx::query(
                "EXPLAIN QUERY PLAN SELECT id FROM customers \
                 WHERE status IN ('active', 'verified', 'update_requested') AND erased_at IS NULL \
                 AND ((expiring_notified = 0 AND notice_at <= $1) OR expires_at <= $1) ORDER BY expires_at LIMIT $2",
            )
            .bind(0i64)
            .bind(10i64)
            .fetch_all(&mut *w)
            .await
            .unwrap();
            let plan: Vec<String> = plan.iter().map(|r| r.get::<String, _>(3)).collect();
            let plan = plan.join("\n");
            assert!(plan.contains("customers_notice (notice_at<?)"), "{plan}");
            assert!(plan.contains("customers_expiry (expires_at<?)"), "{plan}");
        }
    }
);

//! Unit tests of product access and capabilities: every customer status, every access state.

use super::*;
use crate::customer::*;
use crate::policy::Evidence;

fn now() -> Timestamp {
    crate::time::parse("2026-06-01T12:00:00Z").unwrap()
}

fn customer(level: Level) -> Customer {
    Customer {
        id: "cus_1".into(),
        object: "customer".into(),
        customer_type: CustomerType::Individual,
        external_id: None,
        status: CustomerStatus::Active,
        verification: Verification {
            level,
            ..Default::default()
        },
        individual: Some(Individual {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 1, 31),
            nationality: Some("BR".into()),
            email: Some("ada@example.com".into()),
            email_verified: true,
            phone: Some("+5511999990000".into()),
            phone_verified: true,
            ..Default::default()
        }),
        business: None,
        addresses: vec![Address {
            line1: "Rua A, 1".into(),
            line2: None,
            city: "São Paulo".into(),
            region: None,
            postal_code: None,
            country: "BR".into(),
            primary: true,
        }],
        identifiers: vec![Identifier {
            kind: "cpf".into(),
            country: Some("BR".into()),
            last4: "4725".into(),
        }],
        attestation: None,
        metadata: Default::default(),
        created_at: now(),
        updated_at: now(),
    }
}

fn docs(types: &[&str]) -> Evidence {
    Evidence {
        document_types: types.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

fn facts(status: CustomerStatus) -> CustomerFacts {
    CustomerFacts {
        status: Some(status),
        expires_at: Some(now() + chrono::Duration::days(30)),
        ..Default::default()
    }
}

fn access(status: AccessStatus, suspended: bool) -> ProductAccess {
    let (mut pa, _) = ProductAccess::request(
        "pa_1".into(),
        "cus_1".into(),
        Product::Cards,
        AccessRequirements::default(),
        ApprovalPolicy::Manual,
        now(),
    );
    pa.status = status;
    pa.suspended = suspended;
    pa
}

#[test]
fn basic_customer_lacks_level_full_and_its_documents() {
    let s = Settings::defaults(false);
    let c = customer(Level::Basic);
    assert_eq!(
        product_missing(&s, &c, &docs(&[]), Product::Cards),
        vec!["level_full", "identity_document", "selfie"]
    );
    // Documents on file do not make a basic verification a full one.
    assert_eq!(
        product_missing(&s, &c, &docs(&["passport", "selfie"]), Product::Cards),
        vec!["level_full"]
    );
}

#[test]
fn full_customer_meets_cards_and_virtual_accounts_asks_for_proof_of_address() {
    let s = Settings::defaults(false);
    let mut c = customer(Level::Full);
    let ev = docs(&["passport", "selfie"]);
    assert!(product_missing(&s, &c, &ev, Product::Cards).is_empty());
    assert_eq!(
        product_missing(&s, &c, &ev, Product::VirtualAccounts),
        vec!["proof_of_address"]
    );
    c.individual.as_mut().unwrap().phone_verified = false;
    assert_eq!(
        product_missing(&s, &c, &ev, Product::Cards),
        vec!["phone_verified"]
    );
    c.identifiers.clear();
    let both = product_missing(
        &s,
        &c,
        &docs(&["passport", "selfie", "proof_of_address"]),
        Product::VirtualAccounts,
    );
    assert_eq!(both, vec!["national_id", "tax_id"]);
}

#[test]
fn a_basic_level_product_policy_needs_no_level_full() {
    let mut s = Settings::defaults(false);
    s.products.cards.level = Level::Basic;
    let c = customer(Level::Basic);
    assert!(product_missing(&s, &c, &docs(&[]), Product::Cards).is_empty());
}

#[test]
fn request_follows_requirements_and_approval() {
    let mk = |missing: Vec<String>, approval| {
        let req = AccessRequirements {
            missing,
            pending_verification: vec![],
        };
        ProductAccess::request(
            "pa_1".into(),
            "cus_1".into(),
            Product::Cards,
            req,
            approval,
            now(),
        )
    };
    let (pa, ev) = mk(vec![], ApprovalPolicy::Auto);
    assert_eq!(
        (pa.status, ev),
        (AccessStatus::Granted, "product_access.granted")
    );
    assert_eq!(pa.decided_at, Some(now()));
    let (pa, ev) = mk(vec![], ApprovalPolicy::Manual);
    assert_eq!(
        (pa.status, ev),
        (AccessStatus::Pending, "product_access.pending")
    );
    assert_eq!(pa.decided_at, None);
    let (pa, ev) = mk(vec!["selfie".into()], ApprovalPolicy::Auto);
    assert_eq!(
        (pa.status, ev),
        (AccessStatus::Rejected, "product_access.rejected")
    );
    assert_eq!(pa.rejection_reason.as_deref(), Some("requirements_not_met"));
    assert_eq!(pa.requirements.missing, vec!["selfie"]);
    let json = serde_json::to_value(&pa).unwrap();
    assert_eq!(json["object"], "product_access");
    assert_eq!(json["product"], "cards");
    assert_eq!(json["status"], "rejected");
    let back: ProductAccess = serde_json::from_value(json).unwrap();
    assert_eq!(back, pa);
}

#[test]
fn documents_in_review_make_a_request_wait_for_a_reviewer() {
    let s = Settings::defaults(false);
    let c = customer(Level::Full);
    let strict = docs(&["passport", "selfie"]);
    let lenient = docs(&["passport", "selfie", "proof_of_address"]);
    let gaps = product_gaps(&s, &c, &strict, &lenient, Product::VirtualAccounts);
    assert!(gaps.missing.is_empty());
    assert_eq!(gaps.pending_verification, vec!["proof_of_address"]);
    let (pa, ev) = ProductAccess::request(
        "pa_1".into(),
        "cus_1".into(),
        Product::VirtualAccounts,
        gaps,
        ApprovalPolicy::Auto,
        now(),
    );
    assert_eq!(
        (pa.status, ev),
        (AccessStatus::Pending, "product_access.pending")
    );
    let gaps = product_gaps(&s, &c, &strict, &strict, Product::VirtualAccounts);
    assert_eq!(gaps.missing, vec!["proof_of_address"]);
    assert!(gaps.pending_verification.is_empty());
}

#[test]
fn only_pending_requests_are_decided() {
    let mut pa = access(AccessStatus::Pending, false);
    assert_eq!(pa.decide(true, None, now()), Ok("product_access.granted"));
    assert!(pa.decide(false, None, now()).is_err());
    let mut pa = access(AccessStatus::Pending, false);
    assert_eq!(pa.decide(false, None, now()), Ok("product_access.rejected"));
    assert_eq!(pa.rejection_reason.as_deref(), Some("rejected_by_reviewer"));
    assert!(
        access(AccessStatus::Rejected, false)
            .decide(true, None, now())
            .is_err()
    );
}

#[test]
fn suspension_and_restoration() {
    let mut pa = access(AccessStatus::Granted, false);
    assert_eq!(
        pa.suspend(CustomerStatus::Expired, now()),
        Some("product_access.suspended")
    );
    assert_eq!(pa.suspension_reason.as_deref(), Some("customer_expired"));
    assert_eq!(pa.suspend(CustomerStatus::Expired, now()), None, "once");
    assert_eq!(pa.resume(vec![], now()), Some("product_access.restored"));
    assert!(!pa.suspended && pa.status == AccessStatus::Granted);
    assert_eq!(pa.resume(vec![], now()), None, "nothing to restore");

    pa.suspend(CustomerStatus::Deactivated, now());
    assert_eq!(
        pa.resume(vec!["phone_verified".into()], now()),
        Some("product_access.rejected")
    );
    assert_eq!(pa.status, AccessStatus::Rejected);
    assert_eq!(pa.requirements.missing, vec!["phone_verified"]);
    assert!(!pa.suspended);

    let mut pending = access(AccessStatus::Pending, false);
    assert_eq!(pending.suspend(CustomerStatus::OnHold, now()), None);
}

/// Every status: the expected reason code and a message naming the step.
#[test]
fn every_customer_status_has_a_reason_for_every_capability() {
    use CustomerStatus::*;
    let table: [(CustomerStatus, Option<&str>, &str); 10] = [
        (
            NotStarted,
            Some("verification_not_started"),
            "complete identity verification",
        ),
        (
            Pending,
            Some("verification_pending"),
            "complete identity verification",
        ),
        (
            NeedsInformation,
            Some("verification_needs_information"),
            "complete identity verification",
        ),
        (OnHold, Some("verification_on_hold"), "on hold"),
        (
            Verified,
            Some("activation_required"),
            "activate the customer",
        ),
        (Active, None, ""),
        (
            UpdateRequested,
            Some("verification_update_pending"),
            "re-verification",
        ),
        (Rejected, Some("verification_rejected"), "rejected"),
        (
            Expired,
            Some("verification_expired"),
            "verification expired on 2026-07-01, start a new verification",
        ),
        (
            Deactivated,
            Some("customer_deactivated"),
            "customer is deactivated",
        ),
    ];
    assert_eq!(table.len(), CustomerStatus::ALL.len());
    let granted = access(AccessStatus::Granted, false);
    for (status, code, words) in table {
        let f = facts(status);
        for cap in Capability::ALL {
            let st = evaluate(cap, &f, Some(&granted), now());
            assert_eq!(st.reason, code, "{status} {}", cap.as_str());
            assert_eq!(st.is_enabled(), code.is_none(), "{status}");
            if let Some(m) = &st.message {
                assert!(m.contains(words), "{status}: {m}");
            }
        }
    }
}

#[test]
fn rejected_messages_say_whether_a_resubmission_helps() {
    let mut f = facts(CustomerStatus::Rejected);
    f.rejection_reason = Some(RejectionReason::DocumentUnreadable);
    f.resubmittable = Some(true);
    let m = evaluate(Capability::Transact, &f, None, now())
        .message
        .unwrap();
    assert!(
        m.contains("document_unreadable") && m.contains("start a new verification"),
        "{m}"
    );
    f.rejection_reason = Some(RejectionReason::SanctionsMatch);
    f.resubmittable = Some(false);
    let m = evaluate(Capability::Transact, &f, None, now())
        .message
        .unwrap();
    assert!(m.contains("cannot be resubmitted"), "{m}");
}

#[test]
fn needs_information_names_the_items() {
    let mut f = facts(CustomerStatus::NeedsInformation);
    f.missing = vec!["identity_document".into(), "selfie".into()];
    let m = evaluate(Capability::Cards, &f, None, now())
        .message
        .unwrap();
    assert!(m.contains("identity_document, selfie"), "{m}");
}

#[test]
fn an_active_customer_past_its_expiry_cannot_act() {
    let mut f = facts(CustomerStatus::Active);
    f.expires_at = Some(now() - chrono::Duration::seconds(1));
    let st = evaluate(Capability::Transact, &f, None, now());
    assert_eq!(st.reason, Some("verification_expired"));
    assert!(st.message.unwrap().contains("2026-06-01"));
}

#[test]
fn product_capabilities_follow_the_access() {
    let f = facts(CustomerStatus::Active);
    let cases: [(Option<ProductAccess>, Option<&str>, &str); 5] = [
        (
            None,
            Some("product_access_not_requested"),
            "request access to cards",
        ),
        (
            Some(access(AccessStatus::Pending, false)),
            Some("product_access_pending"),
            "access to cards is pending review",
        ),
        (Some(access(AccessStatus::Granted, false)), None, ""),
        (
            Some(access(AccessStatus::Granted, true)),
            Some("product_access_suspended"),
            "suspended",
        ),
        (
            Some({
                let mut pa = access(AccessStatus::Pending, false);
                pa.resume(vec![], now());
                pa.status = AccessStatus::Rejected;
                pa.rejection_reason = Some(REQUIREMENTS_NOT_MET.into());
                pa.requirements.missing = vec!["level_full".into(), "selfie".into()];
                pa
            }),
            Some("product_access_rejected"),
            "missing level_full, selfie",
        ),
    ];
    for (pa, code, words) in cases {
        let st = evaluate(Capability::Cards, &f, pa.as_ref(), now());
        assert_eq!(st.reason, code);
        if let Some(m) = st.message {
            assert!(m.contains(words), "{m}");
        }
        assert!(
            evaluate(Capability::Transact, &f, pa.as_ref(), now()).is_enabled(),
            "transact does not depend on products"
        );
    }
}

#[test]
fn latest_prefers_the_open_request() {
    let mut old = access(AccessStatus::Granted, false);
    old.id = "pa_01a".into();
    let mut newer = access(AccessStatus::Rejected, false);
    newer.id = "pa_01b".into();
    let list = vec![old.clone(), newer.clone()];
    assert_eq!(latest(&list, Product::Cards).unwrap().id, "pa_01a");
    old.status = AccessStatus::Rejected;
    let list = vec![old, newer];
    assert_eq!(latest(&list, Product::Cards).unwrap().id, "pa_01b");
    assert!(latest(&list, Product::VirtualAccounts).is_none());
}

#[test]
fn capability_names_round_trip() {
    for c in Capability::ALL {
        assert_eq!(Capability::parse(c.as_str()), Some(c));
    }
    assert_eq!(Capability::parse("payments"), None);
    assert_eq!(Capability::Transact.product(), None);
}

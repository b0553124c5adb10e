//! Unit and property tests of the lifecycle operations.

use super::*;
use crate::customer::*;
use crate::status::can_transition;
use proptest::prelude::*;

fn now() -> Timestamp {
    crate::time::parse("2026-01-01T00:00:00Z").unwrap()
}

fn customer() -> Customer {
    Customer {
        id: "cus_1".into(),
        object: "customer".into(),
        customer_type: CustomerType::Individual,
        external_id: Some("u1".into()),
        status: NotStarted,
        verification: Verification::default(),
        individual: Some(Individual::default()),
        business: None,
        addresses: vec![],
        identifiers: vec![],
        attestation: None,
        metadata: Default::default(),
        created_at: now(),
        updated_at: now(),
    }
}

fn hit() -> ScreeningHit {
    ScreeningHit {
        list: "ofac".into(),
        entry_id: "1".into(),
        name: "X".into(),
        matched_name: "X".into(),
        score: 0.9,
        programs: vec![],
        pep: false,
        subject: "cus_1".into(),
    }
}

#[test]
fn approval_sets_dates_and_events() {
    let s = Settings::defaults(false);
    let mut ch = Change::new(customer(), "test", now());
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    apply_decision(&mut ch, Decision::Approve { notes: vec![] }, &s).unwrap();
    assert_eq!(ch.customer.status, Active);
    assert_eq!(
        ch.customer.verification.expires_at,
        Some(now() + chrono::Duration::days(365))
    );
    let types: Vec<_> = ch.events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        vec![
            events::CUSTOMER_STATUS_CHANGED,
            events::VERIFICATION_STARTED,
            events::CUSTOMER_STATUS_CHANGED,
            events::VERIFICATION_APPROVED
        ]
    );
    assert_eq!(ch.history.len(), 2);
}

#[test]
fn manual_activation_goes_through_verified() {
    let mut s = Settings::defaults(false);
    s.activation = Activation::Manual;
    let mut ch = Change::new(customer(), "test", now());
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    apply_decision(&mut ch, Decision::Approve { notes: vec![] }, &s).unwrap();
    assert_eq!(ch.customer.status, Verified);
    activate(&mut ch).unwrap();
    assert_eq!(ch.customer.status, Active);
    assert!(activate(&mut ch).is_err());
}

#[test]
fn final_rejection_refuses_resubmission() {
    let s = Settings::defaults(false);
    let mut ch = Change::new(customer(), "test", now());
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    apply_decision(
        &mut ch,
        Decision::Reject(RejectionReason::SanctionsMatch),
        &s,
    )
    .unwrap();
    assert!(matches!(
        start_verification(&mut ch, Level::Basic, Mode::Hosted),
        Err(LifecycleError::Refused(_))
    ));
    let mut ch = Change::new(customer(), "test", now());
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    apply_decision(
        &mut ch,
        Decision::Reject(RejectionReason::DocumentUnreadable),
        &s,
    )
    .unwrap();
    assert_eq!(ch.customer.verification.resubmittable, Some(true));
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    assert_eq!(ch.customer.status, Pending);
    assert_eq!(ch.customer.verification.rejection_reason, None);
}

#[test]
fn decide_orders_outcomes() {
    let fail = CheckResult::Fail(RejectionReason::Underage);
    let hold = CheckResult::Hold(vec![hit()]);
    let review = CheckResult::Review {
        code: "r".into(),
        message: "m".into(),
    };
    let missing = vec!["email".to_string()];
    assert_eq!(
        decide(&missing, &[hold.clone(), fail.clone()]),
        Decision::Reject(RejectionReason::Underage)
    );
    assert!(matches!(
        decide(&missing, &[hold.clone(), review.clone()]),
        Decision::Hold(_)
    ));
    assert!(matches!(
        decide(&missing, std::slice::from_ref(&review)),
        Decision::NeedsInformation(_)
    ));
    assert!(matches!(
        decide(&[], std::slice::from_ref(&review)),
        Decision::Review(_)
    ));
    assert!(matches!(
        decide(&[], &[CheckResult::Pass]),
        Decision::Approve { .. }
    ));
    let final_ = CheckResult::Fail(RejectionReason::FraudSuspected);
    assert_eq!(
        decide(&[], &[fail, final_]),
        Decision::Reject(RejectionReason::FraudSuspected)
    );
}

#[test]
fn an_overturned_rejection_waits_for_a_reviewer() {
    let s = Settings::defaults(false);
    let mut ch = Change::new(customer(), "operator:op_b", now());
    assert!(overturn_rejection(&mut ch).is_err(), "only a rejection");
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    apply_decision(
        &mut ch,
        Decision::Reject(RejectionReason::SanctionsMatch),
        &s,
    )
    .unwrap();
    overturn_rejection(&mut ch).unwrap();
    assert_eq!(ch.customer.status, Pending);
    assert_eq!(ch.customer.verification.rejection_reason, None);
    assert_eq!(ch.customer.verification.resubmittable, None);
    assert_eq!(
        ch.customer.verification.requirements.issues[0].code,
        "awaiting_review"
    );
    let last = ch.history.last().unwrap();
    assert_eq!(
        (
            last.from,
            last.to,
            last.reason.as_str(),
            last.actor.as_str()
        ),
        (Rejected, Pending, "rejection_overturned", "operator:op_b")
    );
    apply_decision(&mut ch, Decision::Approve { notes: vec![] }, &s).unwrap();
    assert_eq!(ch.customer.status, Active);
}

#[test]
fn reactivation_after_lapse_expires() {
    let s = Settings::defaults(false);
    let mut ch = Change::new(customer(), "test", now());
    start_verification(&mut ch, Level::Basic, Mode::Hosted).unwrap();
    apply_decision(&mut ch, Decision::Approve { notes: vec![] }, &s).unwrap();
    deactivate(&mut ch, "fraud_review").unwrap();
    ch.now = now() + chrono::Duration::days(400);
    reactivate(&mut ch).unwrap();
    assert_eq!(ch.customer.status, Expired);
}

#[derive(Debug, Clone)]
enum Cmd {
    Start(bool),
    Decide(u8),
    Activate,
    Deactivate,
    Reactivate,
    Expire,
    RequestInfo,
    Confirm,
    Release,
    Hold,
    OwnersLost,
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        any::<bool>().prop_map(Cmd::Start),
        (0u8..5).prop_map(Cmd::Decide),
        Just(Cmd::Activate),
        Just(Cmd::Deactivate),
        Just(Cmd::Reactivate),
        Just(Cmd::Expire),
        Just(Cmd::RequestInfo),
        Just(Cmd::Confirm),
        Just(Cmd::Release),
        Just(Cmd::Hold),
        Just(Cmd::OwnersLost),
    ]
}

proptest! {
    /// Random command sequences: every status change is in the table, every
    /// change has its history row and status_changed event, and a refused
    /// command changes nothing.
    #[test]
    fn random_commands_respect_the_table(cmds in proptest::collection::vec(cmd(), 1..40), manual in any::<bool>()) {
        let mut s = Settings::defaults(false);
        if manual { s.activation = Activation::Manual; }
        let mut current = customer();
        for c in cmds {
            let mut ch = Change::new(current.clone(), "prop", now());
            let r = match c {
                Cmd::Start(full) => start_verification(&mut ch, if full { Level::Full } else { Level::Basic }, Mode::Hosted),
                Cmd::Decide(k) => {
                    let d = match k {
                        0 => Decision::Approve { notes: vec![] },
                        1 => Decision::Reject(RejectionReason::DocumentUnreadable),
                        2 => Decision::Reject(RejectionReason::SanctionsMatch),
                        3 => Decision::NeedsInformation(vec!["email".into()]),
                        _ => Decision::Hold(vec![hit()]),
                    };
                    apply_decision(&mut ch, d, &s)
                }
                Cmd::Activate => activate(&mut ch),
                Cmd::Deactivate => deactivate(&mut ch, "ops"),
                Cmd::Reactivate => reactivate(&mut ch),
                Cmd::Expire => expire(&mut ch),
                Cmd::RequestInfo => request_information(&mut ch, vec!["phone".into()]),
                Cmd::Confirm => confirm_match(&mut ch),
                Cmd::Release => release_hold(&mut ch),
                Cmd::Hold => hold_for_screening(&mut ch, vec![hit()]),
                Cmd::OwnersLost => owners_lost(&mut ch),
            };
            match r {
                Err(_) => {
                    // Refused: the caller discards the change, nothing is committed.
                    continue;
                }
                Ok(()) => {
                    let mut status = current.status;
                    for h in &ch.history {
                        prop_assert_eq!(h.from, status);
                        prop_assert!(can_transition(h.from, h.to), "{} → {}", h.from, h.to);
                        status = h.to;
                    }
                    prop_assert_eq!(status, ch.customer.status, "a status change without a history row");
                    let changed = ch.events.iter().filter(|e| e.event_type == events::CUSTOMER_STATUS_CHANGED).count();
                    prop_assert_eq!(changed, ch.history.len());
                    current = ch.customer;
                }
            }
        }
    }
}

#[test]
fn a_business_losing_its_owners_needs_information() {
    let s = Settings::defaults(false);
    for from in [Active, Verified, Pending, UpdateRequested] {
        let mut c = customer();
        c.status = from;
        let mut ch = Change::new(c, "system", now());
        owners_lost(&mut ch).unwrap();
        assert_eq!(ch.status(), NeedsInformation, "from {from}");
        assert_eq!(
            ch.customer.verification.requirements.missing,
            vec!["beneficial_owner"]
        );
        let types: Vec<_> = ch.events.iter().map(|e| e.event_type).collect();
        assert_eq!(
            types,
            vec![
                events::CUSTOMER_STATUS_CHANGED,
                events::VERIFICATION_NEEDS_INFORMATION
            ]
        );
        assert_eq!(ch.history[0].reason, "beneficial_owner_lost");
        // Once asked, asking again changes nothing.
        let mut again = Change::new(ch.customer.clone(), "system", now());
        owners_lost(&mut again).unwrap();
        assert!(again.events.is_empty() && again.history.is_empty());
    }
    // Already needing other items: beneficial_owner joins them.
    let mut c = customer();
    c.status = NeedsInformation;
    c.verification.requirements.missing = vec!["email".into()];
    let mut ch = Change::new(c, "system", now());
    owners_lost(&mut ch).unwrap();
    assert_eq!(
        ch.customer.verification.requirements.missing,
        vec!["email", "beneficial_owner"]
    );
    assert!(ch.history.is_empty());
    for other in [NotStarted, OnHold, Rejected, Expired, Deactivated] {
        let mut c = customer();
        c.status = other;
        assert!(owners_lost(&mut Change::new(c, "system", now())).is_err());
    }
    let _ = s;
}

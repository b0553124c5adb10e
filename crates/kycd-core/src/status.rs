//! The customer status machine: the ten statuses and the one transition table
//! every state change must pass through.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a customer stands in the verification lifecycle.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    NotStarted,
    Pending,
    NeedsInformation,
    OnHold,
    Verified,
    Active,
    UpdateRequested,
    Rejected,
    Expired,
    Deactivated,
}

use CustomerStatus::*;

impl CustomerStatus {
    pub const ALL: [CustomerStatus; 10] = [
        NotStarted,
        Pending,
        NeedsInformation,
        OnHold,
        Verified,
        Active,
        UpdateRequested,
        Rejected,
        Expired,
        Deactivated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotStarted => "not_started",
            Pending => "pending",
            NeedsInformation => "needs_information",
            OnHold => "on_hold",
            Verified => "verified",
            Active => "active",
            UpdateRequested => "update_requested",
            Rejected => "rejected",
            Expired => "expired",
            Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A `status` filter: kycd's names, or seed 004's (`CREATED`,
    /// `UNDER_REVIEW`, `NEEDS_ADDITIONAL_INFORMATION`, `ACTIVE`, `REJECTED`,
    /// `DEACTIVATED`) for platforms coming from that API.
    pub fn parse_filter(s: &str) -> Option<Self> {
        Self::parse(s).or(match s {
            "CREATED" => Some(NotStarted),
            "UNDER_REVIEW" => Some(Pending),
            "NEEDS_ADDITIONAL_INFORMATION" => Some(NeedsInformation),
            "ACTIVE" => Some(Active),
            "REJECTED" => Some(Rejected),
            "DEACTIVATED" => Some(Deactivated),
            _ => None,
        })
    }

    /// Whether the platform may PATCH the customer in this status (API.md table).
    pub fn patch_allowed(self) -> bool {
        matches!(self, NotStarted | NeedsInformation | Active | Expired)
    }

    /// Statuses in which a verification decision is awaited.
    pub fn is_under_review(self) -> bool {
        matches!(self, Pending | UpdateRequested | OnHold)
    }

    /// Whether this status has an approval behind it that can expire.
    pub fn holds_approval(self) -> bool {
        matches!(self, Active | Verified | UpdateRequested)
    }
}

impl fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one transition table. `(from, to)`: every legal change of status.
///
/// - starting verification: not_started / rejected (resubmittable) / expired → pending;
///   active → update_requested (a change of verified data, or a new level)
/// - a decision from pending / update_requested / on_hold / needs_information:
///   → active (approved, automatic activation), → verified (approved, manual activation),
///   → rejected, → needs_information, → on_hold
/// - needs_information → pending (the missing items were supplied: automatic re-submission)
/// - on_hold → pending (hold released, checks run again)
/// - verified → active (activate)
/// - active / verified / update_requested → expired (approval aged past its validity)
/// - active / verified / update_requested / on_hold → deactivated; deactivated → active (reactivate)
///   or → expired (reactivated after the approval lapsed)
/// - active / verified / update_requested → on_hold (re-screening found a possible match)
/// - active / verified → needs_information (a business whose beneficial owners no
///   longer meet the policy: an owner left `active` or was erased)
pub const TRANSITIONS: &[(CustomerStatus, CustomerStatus)] = &[
    (NotStarted, Pending),
    (Rejected, Pending),
    (Expired, Pending),
    (Active, UpdateRequested),
    (Pending, Active),
    (Pending, Verified),
    (Pending, Rejected),
    (Pending, NeedsInformation),
    (Pending, OnHold),
    (UpdateRequested, Active),
    (UpdateRequested, Verified),
    (UpdateRequested, Rejected),
    (UpdateRequested, NeedsInformation),
    (UpdateRequested, OnHold),
    (OnHold, Active),
    (OnHold, Verified),
    (OnHold, Rejected),
    (OnHold, NeedsInformation),
    (OnHold, Pending),
    (NeedsInformation, Pending),
    (NeedsInformation, Rejected),
    (NeedsInformation, OnHold),
    (Verified, Active),
    (Active, Expired),
    (Verified, Expired),
    (UpdateRequested, Expired),
    (Active, Deactivated),
    (Verified, Deactivated),
    (UpdateRequested, Deactivated),
    (OnHold, Deactivated),
    (Deactivated, Active),
    (Deactivated, Expired),
    (Active, OnHold),
    (Verified, OnHold),
    (Active, NeedsInformation),
    (Verified, NeedsInformation),
];

/// The transition table as a Mermaid state diagram (the docs show it; a
/// test fails when the page is stale).
pub fn transition_diagram() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> not_started\n");
    for (from, to) in TRANSITIONS {
        out.push_str(&format!("    {from} --> {to}\n"));
    }
    out
}

/// Whether `from → to` is in the transition table.
pub fn can_transition(from: CustomerStatus, to: CustomerStatus) -> bool {
    TRANSITIONS.iter().any(|&(f, t)| f == from && t == to)
}

/// An illegal transition was requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a customer in status {from} cannot move to {to}")]
pub struct InvalidTransition {
    pub from: CustomerStatus,
    pub to: CustomerStatus,
}

/// Checks a transition against the table.
pub fn transition(
    from: CustomerStatus,
    to: CustomerStatus,
) -> Result<CustomerStatus, InvalidTransition> {
    if can_transition(from, to) {
        Ok(to)
    } else {
        Err(InvalidTransition { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lifecycle page of the docs shows this table (generated; a stale page fails).
    #[test]
    fn the_lifecycle_page_shows_the_transition_table() {
        let page = include_str!("../../../docs/src/concepts/lifecycle.md");
        let (_, rest) = page
            .split_once("<!-- transitions:start -->\n```mermaid\n")
            .expect("the page marks the diagram's start");
        let (embedded, _) = rest
            .split_once("```\n<!-- transitions:end -->")
            .expect("the page marks the diagram's end");
        let generated = transition_diagram();
        assert_eq!(
            embedded, generated,
            "docs/src/concepts/lifecycle.md is stale: put this between the markers\n{generated}"
        );
    }

    /// The full 10×10 matrix, written out independently of TRANSITIONS.
    /// Rows: from; columns in the order of `CustomerStatus::ALL`.
    /// ns pe ni oh ve ac ur re ex de
    const MATRIX: [[u8; 10]; 10] = [
        [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], // not_started
        [0, 0, 1, 1, 1, 1, 0, 1, 0, 0], // pending
        [0, 1, 0, 1, 0, 0, 0, 1, 0, 0], // needs_information
        [0, 1, 1, 0, 1, 1, 0, 1, 0, 1], // on_hold
        [0, 0, 1, 1, 0, 1, 0, 0, 1, 1], // verified
        [0, 0, 1, 1, 0, 0, 1, 0, 1, 1], // active
        [0, 0, 1, 1, 1, 1, 0, 1, 1, 1], // update_requested
        [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], // rejected
        [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], // expired
        [0, 0, 0, 0, 0, 1, 0, 0, 1, 0], // deactivated
    ];

    #[test]
    fn every_pair_matches_the_matrix() {
        for (i, from) in CustomerStatus::ALL.iter().enumerate() {
            for (j, to) in CustomerStatus::ALL.iter().enumerate() {
                let expected = MATRIX[i][j] == 1;
                assert_eq!(can_transition(*from, *to), expected, "{from} → {to}");
                assert_eq!(transition(*from, *to).is_ok(), expected, "{from} → {to}");
            }
        }
    }

    #[test]
    fn no_self_transitions_and_no_duplicates() {
        for (i, (f, t)) in TRANSITIONS.iter().enumerate() {
            assert_ne!(f, t);
            assert!(
                !TRANSITIONS[i + 1..].contains(&(*f, *t)),
                "duplicate {f}→{t}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for st in CustomerStatus::ALL {
            assert_eq!(CustomerStatus::parse(st.as_str()), Some(st));
            assert_eq!(serde_json::to_value(st).unwrap(), st.as_str());
        }
        assert_eq!(CustomerStatus::parse("nope"), None);
    }

    #[test]
    fn patch_rules_follow_the_contract() {
        let allowed: Vec<_> = CustomerStatus::ALL
            .into_iter()
            .filter(|s| s.patch_allowed())
            .collect();
        assert_eq!(allowed, vec![NotStarted, NeedsInformation, Active, Expired]);
    }
}

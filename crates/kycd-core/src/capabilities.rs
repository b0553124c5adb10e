//! Product access and capabilities, pure: the product-access record and its
//! operations (request, reviewer decision, suspension, restoration), and the
//! one function that says whether a customer may use a capability and, when
//! not, which step is left — for every customer status and access state.

use crate::customer::{Customer, Level};
use crate::events;
use crate::policy::{self, ApprovalPolicy, Evidence, Product, Settings};
use crate::reasons::RejectionReason;
use crate::status::CustomerStatus;
use crate::time::{Timestamp, rfc3339, rfc3339_opt};
use serde::{Deserialize, Serialize};

/// `rejection_reason` of a request whose requirements were not met.
pub const REQUIREMENTS_NOT_MET: &str = "requirements_not_met";
/// `rejection_reason` of a reviewer's refusal that named no reason.
pub const REJECTED_BY_REVIEWER: &str = "rejected_by_reviewer";
/// Missing item: the customer was verified at a lower level than the product asks
/// (start a verification at level `full` once the other items are supplied).
pub const LEVEL_FULL: &str = "level_full";

/// Where a product-access request stands (a granted access whose customer left
/// `active` stays `granted` with `suspended: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProductAccessStatus)]
pub enum AccessStatus {
    Pending,
    Granted,
    Rejected,
}

impl AccessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessStatus::Pending => "pending",
            AccessStatus::Granted => "granted",
            AccessStatus::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Granted, Self::Rejected]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ProductAccessRequirements)]
pub struct AccessRequirements {
    /// Requirement codes not met (`level_full` first when the customer was
    /// verified below the product's level).
    pub missing: Vec<String>,
    /// Requirement codes met only by documents a reviewer has not accepted yet.
    #[serde(default)]
    #[schema(required = true)]
    pub pending_verification: Vec<String>,
}

/// A request for access to a product, as the domain owns it and the store
/// keeps it (the API shows it through `kycd_server::wire::ProductAccessResponse`).
/// `status` stays in the contract's three values; a granted access whose
/// customer left `active` is `suspended` (capability off) until it returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAccess {
    pub id: String,
    pub object: String,
    pub customer_id: String,
    pub product: Product,
    pub status: AccessStatus,
    /// A granted access is suspended (capability off) while its customer is not `active`.
    pub suspended: bool,
    /// Why it is suspended: `customer_<status>` (e.g. `customer_expired`).
    pub suspension_reason: Option<String>,
    pub requirements: AccessRequirements,
    /// `requirements_not_met`, `rejected_by_reviewer` or the reviewer's code.
    pub rejection_reason: Option<String>,
    #[serde(with = "rfc3339_opt", default)]
    pub decided_at: Option<Timestamp>,
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
}

/// What `product` still needs from this customer: `level_full` first when the
/// customer was verified below the product's level, then the unmet
/// requirement codes of the product's level and extras, in policy order.
pub fn product_missing(
    settings: &Settings,
    c: &Customer,
    e: &Evidence,
    product: Product,
) -> Vec<String> {
    let p = settings.product(product);
    let codes =
        policy::product_requirements(settings, c.customer_type, product, c.verification.mode);
    let mut missing: Vec<String> = codes
        .into_iter()
        .filter(|code| !policy::is_met(code, c, e))
        .collect();
    if p.level == Level::Full && c.verification.level != Level::Full {
        missing.insert(0, LEVEL_FULL.into());
    }
    missing
}

/// What `product` still needs, counting documents in review (`lenient`) or
/// only accepted ones (`strict`): the missing codes, and the codes met only by
/// documents waiting for a reviewer.
pub fn product_gaps(
    settings: &Settings,
    c: &Customer,
    strict: &Evidence,
    lenient: &Evidence,
    product: Product,
) -> AccessRequirements {
    let missing = product_missing(settings, c, lenient, product);
    let pending_verification = product_missing(settings, c, strict, product)
        .into_iter()
        .filter(|m| !missing.contains(m))
        .collect();
    AccessRequirements {
        missing,
        pending_verification,
    }
}

impl ProductAccess {
    /// A new request decided by the policy: requirements missing → rejected;
    /// met with documents still in review, or approval `manual` → pending
    /// review; met and approval `auto` → granted. Returns the request and the
    /// event to emit.
    pub fn request(
        id: String,
        customer_id: String,
        product: Product,
        requirements: AccessRequirements,
        approval: ApprovalPolicy,
        now: Timestamp,
    ) -> (ProductAccess, &'static str) {
        let in_review = !requirements.pending_verification.is_empty();
        let (status, reason, event) = if !requirements.missing.is_empty() {
            (
                AccessStatus::Rejected,
                Some(REQUIREMENTS_NOT_MET.to_string()),
                events::PRODUCT_ACCESS_REJECTED,
            )
        } else if approval == ApprovalPolicy::Auto && !in_review {
            (AccessStatus::Granted, None, events::PRODUCT_ACCESS_GRANTED)
        } else {
            (AccessStatus::Pending, None, events::PRODUCT_ACCESS_PENDING)
        };
        let decided = (status != AccessStatus::Pending).then_some(now);
        let pa = ProductAccess {
            id,
            object: "product_access".into(),
            customer_id,
            product,
            status,
            suspended: false,
            suspension_reason: None,
            requirements,
            rejection_reason: reason,
            decided_at: decided,
            created_at: now,
            updated_at: now,
        };
        (pa, event)
    }

    /// Pending or granted: a new request for the product returns this one.
    pub fn is_open(&self) -> bool {
        matches!(self.status, AccessStatus::Pending | AccessStatus::Granted)
    }

    /// A reviewer's decision on a pending request.
    pub fn decide(
        &mut self,
        grant: bool,
        reason: Option<String>,
        now: Timestamp,
    ) -> Result<&'static str, String> {
        if self.status != AccessStatus::Pending {
            return Err(format!(
                "product access {} is {}: only a pending request can be decided",
                self.id,
                self.status.as_str()
            ));
        }
        self.decided_at = Some(now);
        self.updated_at = now;
        if grant {
            self.status = AccessStatus::Granted;
            Ok(events::PRODUCT_ACCESS_GRANTED)
        } else {
            self.status = AccessStatus::Rejected;
            self.rejection_reason = Some(reason.unwrap_or_else(|| REJECTED_BY_REVIEWER.into()));
            Ok(events::PRODUCT_ACCESS_REJECTED)
        }
    }

    /// The customer left `active`: a granted access is suspended. Returns the
    /// event when something changed.
    pub fn suspend(&mut self, status: CustomerStatus, now: Timestamp) -> Option<&'static str> {
        if self.status != AccessStatus::Granted || self.suspended {
            return None;
        }
        self.suspended = true;
        self.suspension_reason = Some(format!("customer_{}", status.as_str()));
        self.updated_at = now;
        Some(events::PRODUCT_ACCESS_SUSPENDED)
    }

    /// The customer is `active` again: a suspended access is restored when
    /// nothing is missing under the current policy, else it is rejected with
    /// the missing items (a new request may follow once they are supplied).
    pub fn resume(&mut self, missing: Vec<String>, now: Timestamp) -> Option<&'static str> {
        if self.status != AccessStatus::Granted || !self.suspended {
            return None;
        }
        self.suspended = false;
        self.suspension_reason = None;
        self.updated_at = now;
        if missing.is_empty() {
            return Some(events::PRODUCT_ACCESS_RESTORED);
        }
        self.reject_unmet(missing, now)
    }

    /// A granted access kept through a re-verification (`update_access:
    /// keep`) is checked against the re-verified data when it ends: one whose
    /// requirements are no longer met is rejected.
    pub fn recheck(&mut self, missing: Vec<String>, now: Timestamp) -> Option<&'static str> {
        if self.status != AccessStatus::Granted || self.suspended || missing.is_empty() {
            return None;
        }
        self.updated_at = now;
        self.reject_unmet(missing, now)
    }

    fn reject_unmet(&mut self, missing: Vec<String>, now: Timestamp) -> Option<&'static str> {
        self.status = AccessStatus::Rejected;
        self.rejection_reason = Some(REQUIREMENTS_NOT_MET.into());
        self.requirements = AccessRequirements {
            missing,
            pending_verification: vec![],
        };
        self.decided_at = Some(now);
        Some(events::PRODUCT_ACCESS_REJECTED)
    }
}

/// What a money-movement service may ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Transact,
    Cards,
    VirtualAccounts,
}

impl Capability {
    pub const ALL: [Capability; 3] = [
        Capability::Transact,
        Capability::Cards,
        Capability::VirtualAccounts,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Transact => "transact",
            Capability::Cards => "cards",
            Capability::VirtualAccounts => "virtual_accounts",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
    /// The product behind a product capability.
    pub fn product(self) -> Option<Product> {
        match self {
            Capability::Transact => None,
            Capability::Cards => Some(Product::Cards),
            Capability::VirtualAccounts => Some(Product::VirtualAccounts),
        }
    }
}

/// The few facts about a customer a capability depends on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerFacts {
    pub status: Option<CustomerStatus>,
    pub expires_at: Option<Timestamp>,
    pub rejection_reason: Option<RejectionReason>,
    pub resubmittable: Option<bool>,
    pub missing: Vec<String>,
    /// `update_requested` with the previous approval's capabilities kept.
    pub access_kept: bool,
}

impl CustomerFacts {
    pub fn of(c: &Customer) -> CustomerFacts {
        CustomerFacts {
            access_kept: c.verification.access_kept,
            status: Some(c.status),
            expires_at: c.verification.expires_at,
            rejection_reason: c.verification.rejection_reason,
            resubmittable: c.verification.resubmittable,
            missing: c.verification.requirements.missing.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapabilityStatus {
    Enabled,
    Disabled,
}

/// A capability as `GET /v1/customers/{id}/capabilities` shows it: when
/// disabled, `reason` is a stable code and `message` names the step to take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapabilityState {
    pub status: CapabilityStatus,
    pub reason: Option<&'static str>,
    pub message: Option<String>,
}

impl CapabilityState {
    pub fn enabled() -> Self {
        CapabilityState {
            status: CapabilityStatus::Enabled,
            reason: None,
            message: None,
        }
    }
    fn disabled(reason: &'static str, message: String) -> Self {
        CapabilityState {
            status: CapabilityStatus::Disabled,
            reason: Some(reason),
            message: Some(message),
        }
    }
    pub fn is_enabled(&self) -> bool {
        self.status == CapabilityStatus::Enabled
    }
}

fn day(ts: Option<Timestamp>) -> String {
    ts.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "an unknown date".into())
}

/// Why a customer in this state may not act at all (None: it is active and current).
pub fn customer_block(f: &CustomerFacts, now: Timestamp) -> Option<(&'static str, String)> {
    use CustomerStatus::*;
    let status = f.status?;
    let r = match status {
        Active if f.expires_at.is_some_and(|e| e <= now) => (
            "verification_expired",
            format!(
                "verification expired on {}, start a new verification",
                day(f.expires_at)
            ),
        ),
        Active => return None,
        // Re-verifying updated data with the previous approval kept: usable
        // while that approval is current.
        UpdateRequested if f.access_kept && f.expires_at.is_some_and(|e| e > now) => return None,
        NotStarted => (
            "verification_not_started",
            "complete identity verification: no verification was started for this customer".into(),
        ),
        Pending => (
            "verification_pending",
            "complete identity verification: it is in progress".into(),
        ),
        NeedsInformation => (
            "verification_needs_information",
            if f.missing.is_empty() {
                "complete identity verification: the customer must provide more information".into()
            } else {
                format!(
                    "complete identity verification: provide the missing items ({})",
                    f.missing.join(", ")
                )
            },
        ),
        OnHold => (
            "verification_on_hold",
            "verification is on hold for additional checks: wait for a reviewer's decision".into(),
        ),
        Verified => (
            "activation_required",
            "activate the customer: its verification was approved and waits for activation".into(),
        ),
        UpdateRequested => (
            "verification_update_pending",
            "complete the re-verification of the customer's updated data".into(),
        ),
        Rejected => {
            let code = f.rejection_reason.map(|r| r.as_str()).unwrap_or("rejected");
            let msg = if f.resubmittable == Some(false) {
                format!("verification was rejected ({code}) and cannot be resubmitted")
            } else {
                format!(
                    "verification was rejected ({code}): start a new verification with corrected information"
                )
            };
            ("verification_rejected", msg)
        }
        Expired => (
            "verification_expired",
            format!(
                "verification expired on {}, start a new verification",
                day(f.expires_at)
            ),
        ),
        Deactivated => (
            "customer_deactivated",
            "customer is deactivated: reactivate it to restore access".into(),
        ),
    };
    Some(r)
}

/// Whether the customer may use `cap`. `access` is the customer's latest
/// request for the capability's product (ignored for `transact`). `transact`
/// is enabled only for an active customer whose approval is current; a
/// product also needs a granted, unsuspended access.
pub fn evaluate(
    cap: Capability,
    f: &CustomerFacts,
    access: Option<&ProductAccess>,
    now: Timestamp,
) -> CapabilityState {
    if let Some((code, msg)) = customer_block(f, now) {
        return CapabilityState::disabled(code, msg);
    }
    let Some(product) = cap.product() else {
        return CapabilityState::enabled();
    };
    let name = product.as_str();
    let Some(pa) = access else {
        return CapabilityState::disabled(
            "product_access_not_requested",
            format!("request access to {name}"),
        );
    };
    match pa.status {
        AccessStatus::Granted if !pa.suspended => CapabilityState::enabled(),
        AccessStatus::Granted => CapabilityState::disabled(
            "product_access_suspended",
            format!("access to {name} is suspended: request access to {name} again"),
        ),
        AccessStatus::Pending => CapabilityState::disabled(
            "product_access_pending",
            format!("access to {name} is pending review"),
        ),
        AccessStatus::Rejected => {
            let reason = pa
                .rejection_reason
                .as_deref()
                .unwrap_or(REJECTED_BY_REVIEWER);
            let msg = if pa.requirements.missing.is_empty() {
                format!("access to {name} was rejected ({reason})")
            } else {
                format!(
                    "access to {name} was rejected ({reason}: missing {}): supply them and request access to {name} again",
                    pa.requirements.missing.join(", ")
                )
            };
            CapabilityState::disabled("product_access_rejected", msg)
        }
    }
}

/// The current request for a product among `list`: the open one (at most one
/// per product), else the latest (ids are time-ordered).
pub fn latest(list: &[ProductAccess], product: Product) -> Option<&ProductAccess> {
    let of_product = list.iter().filter(|p| p.product == product);
    of_product
        .clone()
        .find(|p| p.is_open())
        .or_else(|| of_product.max_by(|a, b| a.id.cmp(&b.id)))
}

#[cfg(test)]
mod tests;

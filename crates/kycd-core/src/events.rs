//! Event types written to the outbox and delivered by webhooks.

use serde_json::Value;

pub const CUSTOMER_CREATED: &str = "customer.created";
pub const CUSTOMER_UPDATED: &str = "customer.updated";
pub const CUSTOMER_DELETED: &str = "customer.deleted";
pub const CUSTOMER_STATUS_CHANGED: &str = "customer.status_changed";
pub const VERIFICATION_STARTED: &str = "customer.verification.started";
pub const VERIFICATION_APPROVED: &str = "customer.verification.approved";
pub const VERIFICATION_REJECTED: &str = "customer.verification.rejected";
pub const VERIFICATION_NEEDS_INFORMATION: &str = "customer.verification.needs_information";
pub const VERIFICATION_ON_HOLD: &str = "customer.verification.on_hold";
pub const VERIFICATION_EXPIRING: &str = "customer.verification.expiring";
pub const VERIFICATION_EXPIRED: &str = "customer.verification.expired";
/// The end user finished the hosted flow (API.md).
pub const VERIFICATION_SUBMITTED: &str = "customer.verification.submitted";
pub const PRODUCT_ACCESS_GRANTED: &str = "product_access.granted";
pub const PRODUCT_ACCESS_REJECTED: &str = "product_access.rejected";
pub const PRODUCT_ACCESS_PENDING: &str = "product_access.pending";
pub const PRODUCT_ACCESS_SUSPENDED: &str = "product_access.suspended";
pub const PRODUCT_ACCESS_RESTORED: &str = "product_access.restored";
pub const DOCUMENT_UPLOADED: &str = "document.uploaded";
pub const DOCUMENT_REVIEWED: &str = "document.reviewed";
pub const SCREENING_MATCH: &str = "screening.possible_match";
pub const WEBHOOK_ENDPOINT_DISABLED: &str = "webhook_endpoint.disabled";

/// Every event type kycd emits (webhook endpoints may filter on these).
pub const ALL: &[&str] = &[
    CUSTOMER_CREATED,
    CUSTOMER_UPDATED,
    CUSTOMER_DELETED,
    CUSTOMER_STATUS_CHANGED,
    VERIFICATION_STARTED,
    VERIFICATION_APPROVED,
    VERIFICATION_REJECTED,
    VERIFICATION_NEEDS_INFORMATION,
    VERIFICATION_ON_HOLD,
    VERIFICATION_EXPIRING,
    VERIFICATION_EXPIRED,
    VERIFICATION_SUBMITTED,
    PRODUCT_ACCESS_GRANTED,
    PRODUCT_ACCESS_REJECTED,
    PRODUCT_ACCESS_PENDING,
    PRODUCT_ACCESS_SUSPENDED,
    PRODUCT_ACCESS_RESTORED,
    DOCUMENT_UPLOADED,
    DOCUMENT_REVIEWED,
    SCREENING_MATCH,
    WEBHOOK_ENDPOINT_DISABLED,
];

/// An event to write to the outbox with the state change that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub customer_id: Option<String>,
    pub data: Value,
}

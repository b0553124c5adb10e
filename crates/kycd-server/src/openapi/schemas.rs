//! Component schemas of responses that handlers assemble as JSON rather than
//! serialise from one type (the error envelope, lists, the explanation, usage,
//! events). The customer, its parts, the settings, the reasons and every
//! request body derive their schemas where they are defined (kycd-core and
//! the handlers); `tests/openapi.rs` validates real responses against the
//! document strictly (an undeclared or missing field fails).

#![allow(dead_code)]

use super::enums::*;
use super::resources::{DeliveryAttempt, Document, ProductAccess, ScreeningList, WebhookEndpoint};
use crate::wire::CustomerResponse as Customer;
use chrono::{DateTime, Utc};
use kycd_core::reasons::ReasonInfo;
use kycd_core::status::CustomerStatus;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// A string that is always `value` (the `object` field of every resource).
pub(super) fn constant(value: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
}

macro_rules! object_tags {
    ($($f:ident = $v:literal),* $(,)?) => {
        $(pub(crate) fn $f() -> ObjectBuilder { constant($v) })*
    };
}
object_tags!(
    customer_tag = "customer",
    list_tag = "list",
    explanation_tag = "explanation",
    settings_tag = "settings",
    usage_tag = "usage",
    event_tag = "event",
    test_clock_tag = "test_clock",
    document_tag = "document",
    product_access_tag = "product_access",
    webhook_endpoint_tag = "webhook_endpoint",
    delivery_attempt_tag = "webhook_delivery_attempt",
    redelivery_tag = "redelivery",
    screening_result_tag = "screening_result",
    capabilities_tag = "capabilities",
    capability_check_tag = "capability_check",
    screening_list_tag = "screening_list",
    screening_comparison_tag = "screening_comparison",
);

/// The error envelope of every 4xx and 5xx response.
#[derive(Serialize, ToSchema)]
pub struct Error {
    pub error: ErrorBody,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// `invalid_request_error`, `authentication_error`, `idempotency_error` or `api_error`.
    #[serde(rename = "type")]
    #[schema(example = "invalid_request_error")]
    pub error_type: String,
    /// A stable code: `invalid_request`, `invalid_field`, `invalid_api_key`,
    /// `requirements_not_met`, `missing_capability`, `resource_not_found`, `method_not_allowed`,
    /// `customer_locked`, `invalid_transition`, `external_id_taken`,
    /// `retention_required`, `concurrent_update`, `idempotency_key_in_use`,
    /// `idempotency_key_reused`, `payload_too_large`, `request_timeout`,
    /// `unsupported_media_type`, `rate_limited`, `internal_error`, `provider_unavailable`, `service_unavailable`, …
    #[schema(example = "invalid_field")]
    pub code: String,
    /// A human-readable explanation (never contains internals or identifier values).
    pub message: String,
    /// The field the error is about, e.g. `identifiers[0].value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub param: Option<String>,
    /// One entry per unmet item (`requirements_not_met`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<ErrorReason>,
    /// The request id, also in the `X-Request-Id` header (`req_…`).
    #[schema(example = "req_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorReason {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub param: Option<String>,
}

/// Declares `{"object": "list", "data": [T], "has_more": bool}` as a named schema.
macro_rules! list {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            #[schema(schema_with = list_tag)]
            pub object: String,
            pub data: Vec<$item>,
            /// Whether more items follow: fetch them with `starting_after` = the last id.
            pub has_more: bool,
        }
    };
}

list!(
    /// A page of customers, newest first.
    CustomerList,
    Customer
);
list!(
    /// A page of events, newest first.
    EventList,
    Event
);
list!(
    /// The requirements to collect.
    RequirementList,
    Requirement
);
list!(
    /// The catalog of rejection reasons.
    RejectionReasonList,
    ReasonInfo
);
list!(
    /// The documents of a customer.
    DocumentList,
    Document
);
list!(
    /// The product-access requests of a customer.
    ProductAccessList,
    ProductAccess
);
list!(
    /// The identity providers configured for this organization and environment.
    ProviderList,
    super::resources::Provider
);
list!(
    /// The webhook endpoints of this organization and environment.
    WebhookEndpointList,
    WebhookEndpoint
);
list!(
    /// The delivery attempts of an event, newest first.
    DeliveryAttemptList,
    DeliveryAttempt
);
list!(
    /// The screening lists loaded in this kycd.
    ScreeningListList,
    ScreeningList
);

/// `{"id", "object": "customer", "deleted": true}` after an erasure (the
/// handler's answer).
#[derive(Serialize, ToSchema)]
pub struct DeletedCustomer {
    pub id: String,
    #[schema(schema_with = customer_tag)]
    pub object: &'static str,
    pub deleted: bool,
}

/// Why the customer is blocked or what happens next, in plain words (the
/// handler's answer).
#[derive(Serialize, ToSchema)]
pub struct Explanation {
    #[schema(schema_with = explanation_tag)]
    pub object: &'static str,
    pub customer_id: String,
    pub status: CustomerStatus,
    pub summary: String,
    pub next_steps: Vec<String>,
    /// For a business: its beneficial owners, each with its status and what
    /// the `beneficial_owner` requirement asks of it. Absent for an individual.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub beneficial_owners: Option<Vec<OwnerExplanation>>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
}

/// A business's beneficial owner as the policy sees it.
#[derive(Serialize, ToSchema)]
pub struct OwnerExplanation {
    #[serde(flatten)]
    pub owner: kycd_core::customer::BeneficialOwner,
    /// The owner's status; `null`: no such individual customer any more.
    #[schema(required = true)]
    pub status: Option<CustomerStatus>,
    /// It counts as verified (`active`, `verified`, or `update_requested`
    /// while its update is re-verified).
    pub verified: bool,
    /// The policy requires it to be verified: a share at or above the
    /// organization's `beneficial_owner_threshold_percent`, or a controller.
    /// With nobody required, one verified owner meets the requirement.
    pub required: bool,
}

impl From<kycd_core::policy::OwnerStanding> for OwnerExplanation {
    fn from(s: kycd_core::policy::OwnerStanding) -> Self {
        OwnerExplanation {
            owner: s.owner,
            status: s.status,
            verified: s.verified,
            required: s.required,
        }
    }
}

/// One change of status in the history (kycd-store's `HistoryRow`, with its
/// actor spelled out).
#[derive(Serialize, ToSchema)]
pub struct StatusChange {
    #[schema(value_type = Option<CustomerStatus>, required = true)]
    pub from_status: Option<String>,
    #[schema(value_type = CustomerStatus)]
    pub to_status: String,
    pub reason: String,
    pub actor: Actor,
    #[serde(with = "kycd_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
}

impl From<kycd_store::customers::HistoryRow> for StatusChange {
    fn from(r: kycd_store::customers::HistoryRow) -> Self {
        StatusChange {
            from_status: r.from_status,
            to_status: r.to_status,
            reason: r.reason,
            actor: Actor::parse(&r.actor),
            at: r.at,
        }
    }
}

/// Who made a change (API.md: every decision records its actor). Decisions
/// come from `system` (the automated checks and the scheduler), a
/// `provider` (e.g. `sumsub`) or an `operator` (`op_…`); the platform's own
/// calls are `api_key` (`key_…`), the sandbox's `test_helper` (`key_…`), and
/// the end user's hosted flow `end_user` (`hosted`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Actor {
    #[serde(rename = "type")]
    #[schema(example = "operator")]
    pub kind: String,
    #[schema(example = "op_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
}

impl Actor {
    /// From the stored form: `kind:id`, or a bare `system` / `hosted`.
    pub fn parse(stored: &str) -> Actor {
        let (kind, id) = match stored.split_once(':') {
            Some((kind, id)) => (kind.to_string(), id.to_string()),
            None if stored == "hosted" => ("end_user".to_string(), "hosted".to_string()),
            None => ("system".to_string(), stored.to_string()),
        };
        Actor { kind, id }
    }
}

#[cfg(test)]
mod actor_tests {
    use super::Actor;

    #[test]
    fn stored_actors_are_spelled_out() {
        let a = |k: &str, i: &str| Actor {
            kind: k.into(),
            id: i.into(),
        };
        assert_eq!(Actor::parse("operator:op_1"), a("operator", "op_1"));
        assert_eq!(Actor::parse("provider:sumsub"), a("provider", "sumsub"));
        assert_eq!(Actor::parse("api_key:key_1"), a("api_key", "key_1"));
        assert_eq!(Actor::parse("system"), a("system", "system"));
        assert_eq!(Actor::parse("hosted"), a("end_user", "hosted"));
    }
}

/// One requirement: what to collect, upload or pass.
pub type Requirement = kycd_core::policy::Requirement;

/// Billable usage of one month for the key's organization and environment
/// (the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct Usage {
    #[schema(schema_with = usage_tag)]
    pub object: &'static str,
    #[schema(example = "2025-01", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: String,
    #[schema(value_type = Environment)]
    pub environment: String,
    #[schema(minimum = 0)]
    pub customers_created: i64,
    #[schema(minimum = 0)]
    pub verifications_started: i64,
    #[schema(minimum = 0)]
    pub product_access_requests: i64,
}

/// `sandbox` (keys `sk_test_…`) or `live` (keys `sk_live_…`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Sandbox,
    Live,
}

/// An event of the outbox, as delivered to webhook endpoints.
#[derive(Serialize, ToSchema)]
pub struct Event {
    #[schema(example = "evt_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = event_tag)]
    pub object: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: DateTime<Utc>,
    /// The event's payload, e.g. `customer_id`, `external_id`,
    /// `previous_status` and `status` for `customer.status_changed`.
    pub data: serde_json::Map<String, serde_json::Value>,
}

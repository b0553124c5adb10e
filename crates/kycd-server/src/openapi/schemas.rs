//! Component schemas of the OpenAPI document: mirror types of the JSON that
//! kycd reads and writes, with `#[derive(ToSchema)]`. They are never used to
//! (de)serialise traffic: kycd-core stays free of documentation concerns, and
//! `tests/openapi.rs` validates real responses against these schemas strictly
//! (an undeclared or missing field fails), so a drift shows up as a test failure.

#![allow(dead_code)]

use super::enums::*;
use super::resources::{DeliveryAttempt, Document, ProductAccess, ScreeningList, WebhookEndpoint};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// A string that is always `value` (the `object` field of every resource).
pub(super) fn constant(value: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
}

macro_rules! object_tags {
    ($($f:ident = $v:literal),* $(,)?) => {
        $(pub(super) fn $f() -> ObjectBuilder { constant($v) })*
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
);

/// `metadata`: your own key-value pairs (at most 50 keys of up to 40
/// characters; values are strings of up to 500 characters, numbers or booleans).
#[derive(Serialize)]
pub struct Metadata;
impl utoipa::PartialSchema for Metadata {
    fn schema() -> RefOr<Schema> {
        metadata_schema(false).into()
    }
}
impl ToSchema for Metadata {}

/// `metadata` in a PATCH: keys merge into the stored metadata; `null` removes a key.
#[derive(Serialize)]
pub struct MetadataUpdate;
impl utoipa::PartialSchema for MetadataUpdate {
    fn schema() -> RefOr<Schema> {
        metadata_schema(true).into()
    }
}
impl ToSchema for MetadataUpdate {}

fn metadata_schema(null: bool) -> ObjectBuilder {
    let mut types = vec![Type::String, Type::Number, Type::Boolean];
    if null {
        types.push(Type::Null);
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(
            ObjectBuilder::new().schema_type(SchemaType::from_iter(types)),
        ))
}

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
    /// `requirements_not_met`, `missing_capability`, `resource_not_found`,
    /// `customer_locked`, `invalid_transition`, `external_id_taken`,
    /// `retention_required`, `concurrent_update`, `idempotency_key_in_use`,
    /// `idempotency_key_reused`, `payload_too_large`, `request_timeout`,
    /// `unsupported_media_type`, `rate_limited`, `internal_error`, `service_unavailable`, …
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
    RejectionReasonInfo
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

/// A customer: a person (KYC) or a business (KYB).
#[derive(Serialize, ToSchema)]
pub struct Customer {
    #[schema(example = "cus_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = customer_tag)]
    pub object: String,
    #[serde(rename = "type")]
    pub customer_type: CustomerType,
    /// Your own id for the customer, unique per organization and environment.
    #[schema(required = true, example = "your-user-001")]
    pub external_id: Option<String>,
    pub status: CustomerStatus,
    pub verification: Verification,
    #[schema(required = true)]
    pub individual: Option<Individual>,
    #[schema(required = true)]
    pub business: Option<Business>,
    pub addresses: Vec<Address>,
    /// Identifiers as shown: the full value is stored encrypted and never returned.
    pub identifiers: Vec<Identifier>,
    #[schema(required = true)]
    pub attestation: Option<Attestation>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The verification object of a customer.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    pub level: Level,
    pub mode: Mode,
    /// The hosted verification link (single use; while `pending`).
    #[schema(required = true)]
    pub url: Option<String>,
    #[schema(required = true)]
    pub url_expires_at: Option<DateTime<Utc>>,
    pub requirements: Requirements,
    #[schema(required = true)]
    pub rejection_reason: Option<RejectionReason>,
    /// Whether a new submission may succeed (set when `rejected`).
    #[schema(required = true)]
    pub resubmittable: Option<bool>,
    #[schema(required = true)]
    pub approved_at: Option<DateTime<Utc>>,
    /// When the approval expires (approved_at + the validity setting).
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Possible sanctions or PEP matches waiting for a reviewer (`on_hold`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screening_matches: Vec<ScreeningHit>,
}

/// What is still missing and what looks wrong.
#[derive(Serialize, ToSchema)]
pub struct Requirements {
    /// Requirement codes still to provide (see `GET /v1/requirements`).
    pub missing: Vec<String>,
    pub issues: Vec<RequirementIssue>,
}

/// A problem found by a check that the end user or a reviewer must address.
#[derive(Serialize, ToSchema)]
pub struct RequirementIssue {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub param: Option<String>,
}

/// A possible sanctions or PEP match recorded on a customer for review.
#[derive(Serialize, ToSchema)]
pub struct ScreeningHit {
    pub list: String,
    pub entry_id: String,
    pub name: String,
    pub matched_name: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    pub programs: Vec<String>,
    pub pep: bool,
    /// Whose name matched: `customer` itself or a beneficial owner (`cus_…`).
    pub subject: String,
}

#[derive(Serialize, ToSchema)]
pub struct Individual {
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub middle_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(required = true)]
    pub date_of_birth: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2.
    #[schema(required = true, example = "BR")]
    pub nationality: Option<String>,
    #[schema(required = true, format = Email)]
    pub email: Option<String>,
    pub email_verified: bool,
    /// E.164.
    #[schema(required = true, example = "+5511999990000")]
    pub phone: Option<String>,
    pub phone_verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Business {
    #[schema(required = true)]
    pub legal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub trade_name: Option<String>,
    #[schema(required = true)]
    pub registration_number: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(required = true)]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub incorporation_date: Option<NaiveDate>,
    #[schema(required = true, format = Email)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    /// Ids (`cus_…`) of the individual customers who own or control the business.
    pub beneficial_owners: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line2: Option<String>,
    pub city: String,
    #[schema(required = true)]
    pub region: Option<String>,
    #[schema(required = true)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Exactly one address is primary.
    pub primary: bool,
}

/// An identifier as shown: type, country and the last four characters only.
#[derive(Serialize, ToSchema)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: IdentifierType,
    #[schema(required = true)]
    pub country: Option<String>,
    #[schema(example = "4725")]
    pub last4: String,
}

/// The platform's statement that it verified the user with a trusted provider.
#[derive(Serialize, ToSchema)]
pub struct Attestation {
    #[schema(example = "sumsub")]
    pub provider: String,
    /// The last four characters of the provider's reference (stored encrypted).
    pub reference_last4: String,
    pub verified_at: DateTime<Utc>,
    /// Whether the provider checked liveness (stands in for the selfie).
    pub liveness: bool,
}

/// `{"id", "object": "customer", "deleted": true}` after an erasure.
#[derive(Serialize, ToSchema)]
pub struct DeletedCustomer {
    pub id: String,
    #[schema(schema_with = customer_tag)]
    pub object: String,
    pub deleted: bool,
}

/// Why the customer is blocked or what happens next, in plain words.
#[derive(Serialize, ToSchema)]
pub struct Explanation {
    #[schema(schema_with = explanation_tag)]
    pub object: String,
    pub customer_id: String,
    pub status: CustomerStatus,
    pub summary: String,
    pub next_steps: Vec<String>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusChange {
    #[schema(required = true)]
    pub from_status: Option<CustomerStatus>,
    pub to_status: CustomerStatus,
    pub reason: String,
    /// Who made the change (`api_key:…`, `system`, `operator:…`, `test_helper:…`).
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// One requirement: what to collect, upload or pass.
#[derive(Serialize, ToSchema)]
pub struct Requirement {
    pub code: RequirementCode,
    pub kind: RequirementKind,
    pub description: String,
}

/// One entry of the rejection-reason catalog.
#[derive(Serialize, ToSchema)]
pub struct RejectionReasonInfo {
    pub code: RejectionReason,
    /// Whether a new submission may succeed.
    pub resubmittable: bool,
    /// Whether the law requires keeping the record (erasure is refused).
    pub retention_required: bool,
    /// A message safe to show the end user (English).
    pub message: String,
    pub messages: ReasonMessages,
}

#[derive(Serialize, ToSchema)]
pub struct ReasonMessages {
    pub en: String,
    #[serde(rename = "pt-BR")]
    pub pt_br: String,
}

/// Billable usage of one month for the key's organization and environment.
#[derive(Serialize, ToSchema)]
pub struct Usage {
    #[schema(schema_with = usage_tag)]
    pub object: String,
    #[schema(example = "2025-01", pattern = r"^\d{4}-\d{2}$")]
    pub month: String,
    pub environment: Environment,
    pub customers_created: u64,
    pub verifications_started: u64,
    pub product_access_requests: u64,
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

//! Component schemas of the other resources: settings, documents, product
//! access, capabilities, webhook endpoints and deliveries, screening, the
//! sandbox clock. Mirror types, like `schemas.rs`.

#![allow(dead_code)]

use super::enums::*;
use super::schemas::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The organization's policy for one environment.
#[derive(Serialize, ToSchema)]
pub struct Settings {
    #[schema(schema_with = settings_tag)]
    pub object: String,
    pub environment: Environment,
    pub activation: Activation,
    /// How long an approval is valid, in days.
    #[schema(minimum = 1, maximum = 3650, example = 365)]
    pub verification_validity_days: u32,
    /// How many days before expiry `customer.verification.expiring` is sent.
    #[schema(example = 7)]
    pub expiring_notice_days: u32,
    /// Lifetime of a hosted verification link.
    #[schema(minimum = 1, maximum = 10080, example = 30)]
    pub link_ttl_minutes: u32,
    #[schema(maximum = 125, example = 18)]
    pub min_age: u32,
    /// ISO 3166-1 alpha-2 codes of the countries of residence accepted; `null`: all.
    #[schema(required = true)]
    pub allowed_countries: Option<Vec<String>>,
    /// Screening matches scoring at least this much are possible matches.
    #[schema(minimum = 0.5, maximum = 1.0, example = 0.85)]
    pub screening_threshold: f64,
    /// What the decision does when no screening list is loaded.
    pub unscreened: SignalPolicy,
    /// What an identifier or document number already used by another customer does.
    pub duplicate_identifier: SignalPolicy,
    /// Hosted verifications whose checks all pass are approved without a
    /// reviewer (data-only KYC). Off by default: the hosted flow or a reviewer decides.
    pub auto_approve_hosted: bool,
    pub products: Products,
    /// Requests per second each API key of this environment may make (burst
    /// twice that); absent: the server's default (`KYCD_RATE_LIMIT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000, nullable = false, example = 100)]
    pub rate_limit_per_second: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Products {
    pub cards: ProductPolicy,
    pub virtual_accounts: ProductPolicy,
}

/// What a product requires and how requests for it are decided.
#[derive(Serialize, ToSchema)]
pub struct ProductPolicy {
    /// The verification level the product needs.
    pub level: Level,
    /// Requirements beyond the level.
    pub requirements: Vec<RequirementCode>,
    pub approval: ApprovalPolicy,
}

/// A sandbox clock after an advance.
#[derive(Serialize, ToSchema)]
pub struct TestClock {
    #[schema(schema_with = test_clock_tag)]
    pub object: String,
    /// How far the sandbox clock is ahead of real time.
    pub offset_seconds: i64,
    /// The sandbox's current time.
    pub now: DateTime<Utc>,
    /// How many due jobs (expiry notices, expiries, retries) ran.
    pub processed: u64,
}

/// A document's metadata (its bytes are stored encrypted and only served by
/// the content endpoint).
#[derive(Serialize, ToSchema)]
pub struct Document {
    #[schema(example = "doc_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = document_tag)]
    pub object: String,
    pub customer_id: String,
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    #[schema(required = true)]
    pub side: Option<DocumentSide>,
    pub status: DocumentStatus,
    pub content_type: DocumentContentType,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    #[schema(required = true)]
    pub rejection_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// A request for access to a product.
#[derive(Serialize, ToSchema)]
pub struct ProductAccess {
    #[schema(example = "pa_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = product_access_tag)]
    pub object: String,
    pub customer_id: String,
    pub product: Product,
    pub status: ProductAccessStatus,
    /// A granted access is suspended (capability off) while its customer is not `active`.
    pub suspended: bool,
    /// Why it is suspended: `customer_<status>` (e.g. `customer_expired`).
    #[schema(required = true)]
    pub suspension_reason: Option<String>,
    pub requirements: ProductAccessRequirements,
    /// `requirements_not_met`, `rejected_by_reviewer` or the reviewer's code.
    #[schema(required = true)]
    pub rejection_reason: Option<String>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductAccessRequirements {
    /// Requirement codes not met (`level_full` first when the customer was
    /// verified below the product's level).
    pub missing: Vec<String>,
    /// Requirement codes met only by documents a reviewer has not accepted yet.
    pub pending_verification: Vec<String>,
}

/// What the customer may do now.
#[derive(Serialize, ToSchema)]
pub struct Capabilities {
    #[schema(schema_with = capabilities_tag)]
    pub object: String,
    pub customer_id: String,
    pub customer_status: CustomerStatus,
    pub transact: CapabilityState,
    pub cards: ProductCapabilityState,
    pub virtual_accounts: ProductCapabilityState,
}

/// When disabled, `reason` is a stable code and `message` names the step to take.
#[derive(Serialize, ToSchema)]
pub struct CapabilityState {
    pub status: CapabilityStatus,
    #[schema(required = true, example = "verification_expired")]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub message: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductCapabilityState {
    pub status: CapabilityStatus,
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub message: Option<String>,
    /// The product-access request behind it (`pa_…`).
    #[schema(required = true)]
    pub product_access_id: Option<String>,
}

/// A capability check that passed (a refusal is `403 missing_capability`).
#[derive(Serialize, ToSchema)]
pub struct CapabilityCheck {
    #[schema(schema_with = capability_check_tag)]
    pub object: String,
    /// Always `true` here.
    pub allowed: bool,
    pub customer_id: String,
    pub capability: Capability,
    pub status: CapabilityStatus,
}

/// A webhook endpoint. `secret` (`whsec_…`) is present only in the responses
/// of create and `rotate_secret`: store it then.
#[derive(Serialize, ToSchema)]
pub struct WebhookEndpoint {
    #[schema(example = "we_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = webhook_endpoint_tag)]
    pub object: String,
    #[schema(example = "https://example.com/webhooks/kycd")]
    pub url: String,
    pub enabled_events: Vec<EnabledEvent>,
    #[schema(required = true)]
    pub description: Option<String>,
    pub status: WebhookEndpointStatus,
    /// `manual`, or why kycd disabled it.
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    pub environment: Environment,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret (create and `rotate_secret` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")]
    pub secret: Option<String>,
    /// Until when the previous secret keeps signing (`rotate_secret` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedWebhookEndpoint {
    pub id: String,
    #[schema(schema_with = webhook_endpoint_tag)]
    pub object: String,
    pub deleted: bool,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub id: String,
    #[schema(schema_with = delivery_attempt_tag)]
    pub object: String,
    pub event_id: String,
    pub endpoint_id: String,
    #[schema(required = true)]
    pub url: Option<String>,
    pub delivery_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub status: DeliveryAttemptStatus,
    /// The receiver's HTTP status.
    #[schema(required = true)]
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    #[schema(required = true)]
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivery_status: DeliveryStatus,
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The deliveries scheduled by a redelivery (`202 Accepted`).
#[derive(Serialize, ToSchema)]
pub struct Redelivery {
    #[schema(schema_with = redelivery_tag)]
    pub object: String,
    pub event_id: String,
    pub deliveries: Vec<ScheduledDelivery>,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduledDelivery {
    pub delivery_id: String,
    pub endpoint_id: String,
    pub status: DeliveryStatus,
}

/// A possible match of a screening search.
#[derive(Serialize, ToSchema)]
pub struct ScreeningMatch {
    /// The list the entry comes from.
    pub list: String,
    pub entry_id: String,
    /// The entry's primary name.
    pub name: String,
    /// The name (primary or alias) that matched.
    pub matched_name: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    pub programs: Vec<String>,
    #[serde(rename = "type")]
    pub kind: ScreeningEntryType,
    /// Whether the entry is a politically exposed person.
    pub pep: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ScreeningSearchResult {
    #[schema(schema_with = screening_result_tag)]
    pub object: String,
    /// Best first.
    pub matches: Vec<ScreeningMatch>,
    /// The threshold applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub threshold: Option<f64>,
    /// `0` when no list is loaded (then `matches` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lists_loaded: Option<u64>,
}

/// A loaded list version.
#[derive(Serialize, ToSchema)]
pub struct ScreeningList {
    #[schema(schema_with = screening_list_tag)]
    pub object: String,
    pub name: String,
    /// `ofac_csv`, `un_xml`, `ftm_json`, `senzing_json` or `csv`.
    pub format: String,
    pub entries: u64,
    pub loaded_at: DateTime<Utc>,
    /// Hex SHA-256 of the source.
    pub checksum: String,
}

//! Component schemas of request bodies. Unknown fields are refused by kycd
//! (`400 invalid_field`), hence `additionalProperties: false` on most of them.

#![allow(dead_code)]

use super::enums::*;
use super::schemas::{Metadata, MetadataUpdate};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of `POST /v1/customers`. `{"type": "individual"}` is enough to start.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerCreate {
    #[serde(rename = "type")]
    pub customer_type: CustomerType,
    /// Your own id for the customer, unique per organization and environment
    /// (a duplicate is `409 external_id_taken`).
    pub external_id: Option<String>,
    /// Only for `individual` customers.
    pub individual: Option<IndividualInput>,
    /// Only for `business` customers.
    pub business: Option<BusinessInput>,
    /// At most 10; exactly one `primary` when any is given.
    pub addresses: Option<Vec<AddressInput>>,
    /// At most 10. Values are validated, stored encrypted and shown by `last4` only.
    pub identifiers: Option<Vec<IdentifierInput>>,
    /// Reliance mode: the platform's statement that it verified the user.
    pub attestation: Option<AttestationInput>,
    pub metadata: Option<Metadata>,
    /// With `start: true` the verification starts in the same call.
    pub verification: Option<VerificationRequest>,
}

/// The body of `PATCH /v1/customers/{id}`. Nested objects (`individual`,
/// `business`, `metadata`) merge field by field; arrays (`addresses`,
/// `identifiers`) are replaced whole. `type` and `verification` cannot change here.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdate {
    /// `null` clears it.
    pub external_id: Option<String>,
    pub individual: Option<IndividualInput>,
    pub business: Option<BusinessInput>,
    pub addresses: Option<Vec<AddressInput>>,
    pub identifiers: Option<Vec<IdentifierInput>>,
    pub attestation: Option<AttestationInput>,
    pub metadata: Option<MetadataUpdate>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndividualInput {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    /// Not in the future.
    pub date_of_birth: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "BR")]
    pub nationality: Option<String>,
    #[schema(format = Email)]
    pub email: Option<String>,
    /// Whether the platform verified the email (a changed email is unverified
    /// unless this says otherwise).
    pub email_verified: Option<bool>,
    /// E.164.
    #[schema(example = "+5511999990000")]
    pub phone: Option<String>,
    pub phone_verified: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessInput {
    pub legal_name: Option<String>,
    pub trade_name: Option<String>,
    /// E.g. the CNPJ or the state registration number.
    pub registration_number: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub incorporation_date: Option<NaiveDate>,
    #[schema(format = Email)]
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Ids (`cus_…`) of individual customers of the same organization and environment.
    pub beneficial_owners: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierInput {
    #[serde(rename = "type")]
    pub kind: IdentifierType,
    /// The full value (write-only: responses carry `last4`).
    #[schema(example = "529.982.247-25")]
    pub value: String,
    /// ISO 3166-1 alpha-2; defaults to BR for CPF/CNPJ and US for SSN/ITIN/EIN.
    pub country: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationInput {
    #[schema(example = "sumsub")]
    pub provider: String,
    /// The provider's reference (stored encrypted; responses show its last four characters).
    pub reference: String,
    pub verified_at: DateTime<Utc>,
    /// Whether the provider checked liveness; required for raw documents in reliance mode.
    #[serde(default)]
    pub liveness: bool,
}

/// `verification` on create, and the body of `POST /v1/customers/{id}/verification`
/// (defaults: the customer's previous choice, else `basic` and `hosted`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    pub level: Option<Level>,
    pub mode: Option<Mode>,
    /// On create: start the verification in the same call.
    #[serde(default)]
    pub start: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateRequest {
    /// Why the customer is deactivated (kept in the status history).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// The body of `PATCH /v1/settings`: objects merge key by key, anything else replaces.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub activation: Option<Activation>,
    #[schema(minimum = 1, maximum = 3650)]
    pub verification_validity_days: Option<u32>,
    /// Shorter than the validity.
    pub expiring_notice_days: Option<u32>,
    #[schema(minimum = 1, maximum = 10080)]
    pub link_ttl_minutes: Option<u32>,
    #[schema(maximum = 125)]
    pub min_age: Option<u32>,
    /// `null`: every country.
    pub allowed_countries: Option<Vec<String>>,
    #[schema(minimum = 0.5, maximum = 1.0)]
    pub screening_threshold: Option<f64>,
    pub unscreened: Option<SignalPolicy>,
    pub duplicate_identifier: Option<SignalPolicy>,
    pub auto_approve_hosted: Option<bool>,
    pub products: Option<ProductsUpdate>,
    /// Requests per second per API key (burst twice that); `null`: back to the server's default.
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_limit_per_second: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductsUpdate {
    pub cards: Option<ProductPolicyUpdate>,
    pub virtual_accounts: Option<ProductPolicyUpdate>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPolicyUpdate {
    pub level: Option<Level>,
    pub requirements: Option<Vec<RequirementCode>>,
    pub approval: Option<ApprovalPolicy>,
}

/// The JSON form of a document upload.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentUpload {
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    pub side: Option<DocumentSide>,
    /// Must match the bytes.
    pub content_type: DocumentContentType,
    /// The file, base64-encoded (standard alphabet, padded).
    #[schema(content_encoding = "base64")]
    pub content_base64: String,
}

/// The multipart form of a document upload: the same fields, the file in
/// `content` (its part's Content-Type stands in for a missing `content_type`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentUploadForm {
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    pub side: Option<DocumentSide>,
    pub content_type: Option<DocumentContentType>,
    /// The file (JPEG, PNG or PDF).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub content: Vec<u8>,
}

/// The body of `POST /v1/customers/{id}/product_access`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductAccessRequest {
    pub product: Product,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilityCheckRequest {
    #[schema(example = "cus_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub customer_id: String,
    pub capability: Capability,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointCreate {
    /// Where to deliver; private and loopback addresses are refused unless
    /// the operator allows them.
    #[schema(example = "https://example.com/webhooks/kycd")]
    pub url: String,
    /// Event types to deliver, or `["*"]` (the default) for all.
    pub enabled_events: Option<Vec<EnabledEvent>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// The body of `PATCH /v1/webhook_endpoints/{id}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointUpdate {
    pub url: Option<String>,
    pub enabled_events: Option<Vec<EnabledEvent>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `true` disables the endpoint (pending deliveries are canceled); `false`
    /// re-enables it and resumes the deliveries its disabling canceled.
    pub disabled: Option<bool>,
}

/// The optional body of `POST /v1/events/{id}/redeliver`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeliverRequest {
    /// Only to this endpoint (`we_…`); default: every enabled endpoint subscribed to the event's type.
    pub endpoint_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningSearchRequest {
    #[schema(example = "Vladimir Putin", max_length = 300)]
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: Option<ScreeningEntityType>,
    /// `YYYY-MM-DD` or `YYYY`: evidence that raises or lowers the score.
    #[schema(example = "1952-10-07")]
    pub date_of_birth: Option<String>,
    /// ISO 3166-1 alpha-2: evidence that raises or lowers the score.
    pub country: Option<String>,
    /// Minimum score of a match (default: the organization's screening threshold).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
    /// At most this many matches (default 10).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Forces a verification outcome (sandbox only).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForceVerificationRequest {
    pub status: ForcedVerificationOutcome,
    /// For `rejected` (default `data_mismatch`).
    pub rejection_reason: Option<RejectionReason>,
    /// For `needs_information`: the missing requirement codes (default `["identity_document"]`).
    pub missing: Option<Vec<String>>,
}

/// Decides a pending product-access request as a reviewer would (sandbox only).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideProductAccessRequest {
    pub status: ForcedProductAccessOutcome,
    /// Only with `rejected`: a snake_case code of at most 64 characters.
    pub rejection_reason: Option<String>,
}

/// Reviews a document as a reviewer would (sandbox only).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDocumentRequest {
    pub status: ForcedDocumentOutcome,
    /// Why it is rejected.
    pub reason: Option<String>,
}

/// Confirms or dismisses the possible screening matches of a customer `on_hold` (sandbox only).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningDecisionRequest {
    pub decision: ScreeningDecision,
}

/// Moves the sandbox clock forward; give `days`, `seconds` or both (at most ten years).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClockRequest {
    #[schema(minimum = 0, example = 30)]
    pub days: Option<i64>,
    #[schema(minimum = 0)]
    pub seconds: Option<i64>,
}

//! What the API sends, apart from what the domain holds and the store keeps:
//! response types built from domain values (`From<&Customer>`, `From<&ProductAccess>`), from which the
//! OpenAPI schemas are derived. The JSON shape is the API contract; the domain
//! type may change (and its stored document stay readable) without moving it.

use kycd_core::capabilities::{AccessRequirements, AccessStatus, ProductAccess};
use kycd_core::customer::{
    Address, Attestation, Business, Customer, CustomerType, Identifier, Individual, Level, Mode,
    Requirements, ScreeningHit,
};
use kycd_core::policy::Product;
use kycd_core::reasons::RejectionReason;
use kycd_core::status::CustomerStatus;
use kycd_core::time::{Timestamp, rfc3339, rfc3339_opt};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The customer record. Serialised as is, it is the API's customer object: a
/// person (KYC) or a business (KYB).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Customer)]
pub struct CustomerResponse {
    #[schema(example = "cus_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = kycd_core::schema::customer_tag)]
    pub object: &'static str,
    #[serde(rename = "type")]
    pub customer_type: CustomerType,
    /// Your own id for the customer, unique per organization and environment.
    #[schema(required = true, example = "your-user-001")]
    pub external_id: Option<String>,
    pub status: CustomerStatus,
    pub verification: VerificationResponse,
    #[schema(required = true)]
    pub individual: Option<Individual>,
    #[schema(required = true)]
    pub business: Option<Business>,
    pub addresses: Vec<Address>,
    /// Identifiers as shown: the full value is stored encrypted and never returned.
    pub identifiers: Vec<Identifier>,
    #[schema(required = true)]
    pub attestation: Option<Attestation>,
    #[schema(schema_with = kycd_core::schema::metadata)]
    pub metadata: Map<String, Value>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The verification object of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Verification)]
pub struct VerificationResponse {
    pub level: Level,
    pub mode: Mode,
    /// The hosted verification link (single use; while `pending`).
    #[schema(required = true)]
    pub url: Option<String>,
    #[serde(with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub url_expires_at: Option<Timestamp>,
    pub requirements: Requirements,
    #[schema(required = true)]
    pub rejection_reason: Option<RejectionReason>,
    /// Whether a new submission may succeed (set when `rejected`).
    #[schema(required = true)]
    pub resubmittable: Option<bool>,
    #[serde(with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub approved_at: Option<Timestamp>,
    /// When the approval expires (approved_at + the validity setting).
    #[serde(with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub expires_at: Option<Timestamp>,
    /// Possible sanctions or PEP matches waiting for a reviewer (`on_hold`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub screening_matches: Vec<ScreeningHit>,
    /// Who carries the verification: `kycd` (the built-in hosted flow) or
    /// `sumsub` (`url` is Sumsub's WebSDK link); set once it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider: Option<kycd_core::providers::ProviderKind>,
}

/// `GET /v1/customers/{id}/verification`: the verification with whose it is
/// and the customer's status, so a poll needs nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CustomerVerification)]
pub struct CustomerVerificationResponse {
    #[schema(example = "cus_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub customer_id: String,
    pub status: CustomerStatus,
    #[serde(flatten)]
    pub verification: VerificationResponse,
}

impl From<&Customer> for CustomerVerificationResponse {
    fn from(c: &Customer) -> Self {
        CustomerVerificationResponse {
            customer_id: c.id.clone(),
            status: c.status,
            verification: (&c.verification).into(),
        }
    }
}

impl From<&kycd_core::customer::Verification> for VerificationResponse {
    fn from(v: &kycd_core::customer::Verification) -> Self {
        VerificationResponse {
            level: v.level,
            mode: v.mode,
            url: v.url.clone(),
            url_expires_at: v.url_expires_at,
            requirements: v.requirements.clone(),
            rejection_reason: v.rejection_reason,
            resubmittable: v.resubmittable,
            approved_at: v.approved_at,
            expires_at: v.expires_at,
            screening_matches: v.screening_matches.clone(),
            provider: v.provider,
        }
    }
}

impl From<&Customer> for CustomerResponse {
    fn from(c: &Customer) -> Self {
        CustomerResponse {
            id: c.id.clone(),
            object: "customer",
            customer_type: c.customer_type,
            external_id: c.external_id.clone(),
            status: c.status,
            verification: (&c.verification).into(),
            individual: c.individual.clone(),
            business: c.business.clone(),
            addresses: c.addresses.clone(),
            identifiers: c.identifiers.clone(),
            attestation: c.attestation.clone(),
            metadata: c.metadata.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl From<Customer> for CustomerResponse {
    fn from(c: Customer) -> Self {
        (&c).into()
    }
}

/// A request for access to a product; serialised as is, it is the API object.
/// `status` stays in the contract's three values; a granted access whose
/// customer left `active` is `suspended` (capability off) until it returns.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = ProductAccess)]
pub struct ProductAccessResponse {
    #[schema(example = "pa_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = kycd_core::schema::product_access_tag)]
    pub object: &'static str,
    pub customer_id: String,
    pub product: Product,
    pub status: AccessStatus,
    /// A granted access is suspended (capability off) while its customer is not `active`.
    pub suspended: bool,
    /// Why it is suspended: `customer_<status>` (e.g. `customer_expired`).
    #[schema(required = true)]
    pub suspension_reason: Option<String>,
    pub requirements: AccessRequirements,
    /// `requirements_not_met`, `rejected_by_reviewer` or the reviewer's code.
    #[schema(required = true)]
    pub rejection_reason: Option<String>,
    #[serde(with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub decided_at: Option<Timestamp>,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&ProductAccess> for ProductAccessResponse {
    fn from(pa: &ProductAccess) -> Self {
        ProductAccessResponse {
            id: pa.id.clone(),
            object: "product_access",
            customer_id: pa.customer_id.clone(),
            product: pa.product,
            status: pa.status,
            suspended: pa.suspended,
            suspension_reason: pa.suspension_reason.clone(),
            requirements: pa.requirements.clone(),
            rejection_reason: pa.rejection_reason.clone(),
            decided_at: pa.decided_at,
            created_at: pa.created_at,
            updated_at: pa.updated_at,
        }
    }
}

impl From<ProductAccess> for ProductAccessResponse {
    fn from(pa: ProductAccess) -> Self {
        (&pa).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kycd_core::customer::Verification;

    fn sample() -> Customer {
        let now = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        Customer {
            id: "cus_01j9z8k3m4n5p6q7r8s9t0v1w2".into(),
            object: "customer".into(),
            customer_type: CustomerType::Individual,
            external_id: Some("ext".into()),
            status: CustomerStatus::Pending,
            verification: Verification {
                url: Some("https://kycd.test/v/abc".into()),
                url_expires_at: Some(now),
                ..Default::default()
            },
            individual: Some(Individual {
                first_name: Some("Ada".into()),
                ..Default::default()
            }),
            business: None,
            addresses: vec![],
            identifiers: vec![Identifier {
                kind: "cpf".into(),
                country: Some("BR".into()),
                last4: "4725".into(),
            }],
            attestation: None,
            metadata: Map::new(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_wire_form_is_the_customer_object_byte_for_byte() {
        // The stored document (the domain's serde form) and the API object
        // have been the same JSON so far: the wire type keeps that shape.
        let c = sample();
        let domain = serde_json::to_string(&c).unwrap();
        let wire = serde_json::to_string(&CustomerResponse::from(&c)).unwrap();
        assert_eq!(wire, domain);
        let mut on_hold = c.clone();
        on_hold.verification.screening_matches = vec![ScreeningHit {
            list: "ofac".into(),
            entry_id: "1".into(),
            name: "X".into(),
            matched_name: "X".into(),
            score: 0.9,
            programs: vec![],
            pep: false,
            subject: on_hold.id.clone(),
        }];
        assert_eq!(
            serde_json::to_string(&CustomerResponse::from(&on_hold)).unwrap(),
            serde_json::to_string(&on_hold).unwrap()
        );
    }

    #[test]
    fn the_wire_form_is_the_product_access_object_byte_for_byte() {
        let now = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let mut pa = ProductAccess {
            id: "pa_01j9z8k3m4n5p6q7r8s9t0v1w2".into(),
            object: "product_access".into(),
            customer_id: "cus_01j9z8k3m4n5p6q7r8s9t0v1w2".into(),
            product: Product::Cards,
            status: AccessStatus::Pending,
            suspended: false,
            suspension_reason: None,
            requirements: AccessRequirements::default(),
            rejection_reason: None,
            decided_at: None,
            created_at: now,
            updated_at: now,
        };
        let same = |pa: &ProductAccess| {
            assert_eq!(
                serde_json::to_string(&ProductAccessResponse::from(pa)).unwrap(),
                serde_json::to_string(pa).unwrap()
            )
        };
        same(&pa);
        pa.decided_at = Some(now);
        pa.rejection_reason = Some("requirements_not_met".into());
        same(&pa);
    }
}

/// The answer of `POST /v1/customers/batch` (and what `kycd import` reads):
/// one result per item, in the order of the request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = CustomerBatch)]
pub struct CustomerBatchResponse {
    pub data: Vec<CustomerBatchResult>,
}

/// One item's result: `{"status": 201, "customer": {…}}`, or `{"status":
/// 400|403|409…, "error": {…}}` with the error object `POST /v1/customers`
/// would have answered for that item alone.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerBatchResult {
    /// The HTTP status a single `POST /v1/customers` of this item would have
    /// had: `201` when it was created, else its error's (`400`, `403`, `409`).
    #[schema(minimum = 201, maximum = 499, example = 201)]
    pub status: u16,
    /// The customer created (with `status` 201).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub customer: Option<CustomerResponse>,
    /// Why this item was not created (with a 4xx `status`); nothing of it was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::schemas::ErrorBody>, nullable = false)]
    pub error: Option<Value>,
}

impl CustomerBatchResult {
    /// An item created.
    pub fn created(customer: CustomerResponse) -> Self {
        CustomerBatchResult {
            status: axum::http::StatusCode::CREATED.as_u16(),
            customer: Some(customer),
            error: None,
        }
    }

    /// An item refused: the status and error object a single create of it
    /// would have answered.
    pub fn refused(refusal: crate::service::Refusal, request_id: &str) -> Self {
        let e = crate::error::ApiError::from(refusal);
        let mut body = e.body(request_id);
        CustomerBatchResult {
            status: e.status.as_u16(),
            customer: None,
            error: Some(body["error"].take()),
        }
    }

    /// The stable error code of a failed item.
    pub fn error_code(&self) -> Option<&str> {
        self.error.as_ref().and_then(|e| e["code"].as_str())
    }
}

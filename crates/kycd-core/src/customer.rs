//! The customer record as the domain owns it; its JSON is the stored document
//! (the API object is `kycd_server::wire::CustomerResponse`, the same shape).

use crate::reasons::RejectionReason;
use crate::status::CustomerStatus;
use crate::time::{Timestamp, rfc3339, rfc3339_opt};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `individual` (KYC) or `business` (KYB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerType {
    Individual,
    Business,
}

impl CustomerType {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerType::Individual => "individual",
            CustomerType::Business => "business",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "individual" => Some(Self::Individual),
            "business" => Some(Self::Business),
            _ => None,
        }
    }
}

/// Verification level. On input, `partial` (seed 003's PARTIAL) is an alias
/// of `basic`, and case does not matter (`FULL`, `Partial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Basic,
    Full,
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Level::parse(&s.to_ascii_lowercase())
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, &["basic", "partial", "full"]))
    }
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Basic => "basic",
            Level::Full => "full",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "basic" | "partial" => Some(Self::Basic),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

/// How the verification is carried out: `hosted` (the end user completes it through a kycd
/// link) or `reliance` (the platform verified the user with a trusted provider and sends the
/// verified data with an attestation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The end user completes verification through kycd's hosted link.
    #[default]
    Hosted,
    /// The platform verified the user with a trusted provider and sends the data.
    Reliance,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Hosted => "hosted",
            Mode::Reliance => "reliance",
        }
    }
}

/// What is still missing and what looks wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Requirements {
    /// Requirement codes still to provide (see `GET /v1/requirements`).
    pub missing: Vec<String>,
    pub issues: Vec<RequirementIssue>,
}

/// A problem found by a check that the end user or a reviewer must address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RequirementIssue {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub param: Option<String>,
}

/// The verification state of a customer (shown by `kycd_server::wire`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Verification {
    pub level: Level,
    pub mode: Mode,
    /// The hosted verification link (single use; while `pending`).
    pub url: Option<String>,
    #[serde(with = "rfc3339_opt", default)]
    pub url_expires_at: Option<Timestamp>,
    pub requirements: Requirements,
    pub rejection_reason: Option<RejectionReason>,
    /// Whether a new submission may succeed (set when `rejected`).
    pub resubmittable: Option<bool>,
    #[serde(with = "rfc3339_opt", default)]
    pub approved_at: Option<Timestamp>,
    /// When the approval expires (approved_at + the validity setting).
    #[serde(with = "rfc3339_opt", default)]
    pub expires_at: Option<Timestamp>,
    /// Possible sanctions or PEP matches waiting for a reviewer (`on_hold`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screening_matches: Vec<ScreeningHit>,
    /// In `update_requested`: the previous approval keeps its capabilities
    /// (the organization's `update_access` when the re-verification began).
    /// Stored only; not part of the API's verification object.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub access_kept: bool,
    /// Who carries the verification (`kycd` or `sumsub`), set when it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<crate::providers::ProviderKind>,
}

/// A possible sanctions or PEP match recorded on a customer for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScreeningHit {
    pub list: String,
    pub entry_id: String,
    pub name: String,
    pub matched_name: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    pub programs: Vec<String>,
    pub pep: bool,
    /// Whose name matched: the customer itself or a beneficial owner (`cus_…`).
    pub subject: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
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
    #[schema(value_type = Option<crate::schema::Country>, required = true)]
    pub nationality: Option<String>,
    #[schema(required = true, format = Email)]
    pub email: Option<String>,
    pub email_verified: bool,
    /// E.164.
    #[schema(required = true, example = "+5511999990000")]
    pub phone: Option<String>,
    pub phone_verified: bool,
}

impl Individual {
    /// "First Middle Last", skipping what is absent.
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.middle_name, &self.last_name]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Business {
    #[schema(required = true)]
    pub legal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub trade_name: Option<String>,
    #[schema(required = true)]
    pub registration_number: Option<String>,
    #[schema(value_type = Option<crate::schema::Country>, required = true)]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub incorporation_date: Option<NaiveDate>,
    #[schema(required = true, format = Email)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    /// The individual customers who own or control the business, with their
    /// share and roles.
    pub beneficial_owners: Vec<BeneficialOwner>,
}

/// What a person is to a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerRole {
    /// Holds a share of the business.
    Owner,
    Director,
    /// May sign for the business.
    Signatory,
    /// Controls the business otherwise than by shares (must always be verified).
    Controller,
}

impl OwnerRole {
    pub const ALL: [OwnerRole; 4] = [
        OwnerRole::Owner,
        OwnerRole::Director,
        OwnerRole::Signatory,
        OwnerRole::Controller,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerRole::Owner => "owner",
            OwnerRole::Director => "director",
            OwnerRole::Signatory => "signatory",
            OwnerRole::Controller => "controller",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A beneficial owner of a business: an individual customer of the same
/// organization and environment, its share and its roles.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BeneficialOwner {
    #[schema(example = "cus_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub customer_id: String,
    /// The share of the business it owns, in percent (0 to 100, at most two
    /// decimals); `null`: not stated (a bare id on input).
    #[serde(serialize_with = "percent")]
    #[schema(value_type = Option<f64>, required = true, minimum = 0, maximum = 100, example = 25)]
    pub ownership_percent: Option<f64>,
    /// At least one; `["owner"]` when not stated.
    #[schema(min_items = 1)]
    pub roles: Vec<OwnerRole>,
}

impl BeneficialOwner {
    /// A bare id: an owner whose share is not stated.
    pub fn bare(customer_id: impl Into<String>) -> Self {
        BeneficialOwner {
            customer_id: customer_id.into(),
            ownership_percent: None,
            roles: vec![OwnerRole::Owner],
        }
    }
    pub fn has_role(&self, role: OwnerRole) -> bool {
        self.roles.contains(&role)
    }
}

/// A whole percentage is written as an integer (`25`, not `25.0`).
fn percent<S: serde::Serializer>(p: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(v) if v.fract() == 0.0 && (0.0..=100.0).contains(v) => s.serialize_u64(*v as u64),
        Some(v) => s.serialize_f64(*v),
        None => s.serialize_none(),
    }
}

/// Documents stored before owners had shares and roles hold bare ids.
impl<'de> Deserialize<'de> for BeneficialOwner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full {
            customer_id: String,
            #[serde(default)]
            ownership_percent: Option<f64>,
            #[serde(default)]
            roles: Vec<OwnerRole>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Bare(String),
            Full(Full),
        }
        Ok(match Stored::deserialize(d)? {
            Stored::Bare(id) => BeneficialOwner::bare(id),
            Stored::Full(f) => BeneficialOwner {
                customer_id: f.customer_id,
                ownership_percent: f.ownership_percent,
                roles: if f.roles.is_empty() {
                    vec![OwnerRole::Owner]
                } else {
                    f.roles
                },
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
    #[schema(value_type = crate::schema::Country)]
    pub country: String,
    /// Exactly one address is primary.
    pub primary: bool,
}

/// An identifier as shown: type, country and the last four characters only.
/// The full value lives encrypted in the vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Identifier {
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::identifier_type)]
    pub kind: String,
    #[schema(value_type = Option<crate::schema::Country>, required = true)]
    pub country: Option<String>,
    #[schema(example = "4725")]
    pub last4: String,
}

/// The platform's statement that it verified the user with a trusted provider.
/// The provider's reference is kept encrypted; only its last four characters show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attestation {
    #[schema(example = "sumsub")]
    pub provider: String,
    /// The last four characters of the provider's reference (stored encrypted).
    pub reference_last4: String,
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub verified_at: Timestamp,
    /// Whether the provider checked liveness (stands in for the selfie).
    pub liveness: bool,
    /// The identity document the provider checked (`passport`, `national_id`,
    /// `drivers_license`), when it attests one instead of the platform uploading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "passport")]
    pub document_type: Option<String>,
}

/// The customer record as the domain owns it: a person (KYC) or a business
/// (KYB). Its serde form is the stored document; the API shows it through
/// `kycd_server::wire::CustomerResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub customer_type: CustomerType,
    /// Your own id for the customer, unique per organization and environment.
    pub external_id: Option<String>,
    pub status: CustomerStatus,
    pub verification: Verification,
    pub individual: Option<Individual>,
    pub business: Option<Business>,
    pub addresses: Vec<Address>,
    /// Identifiers as shown: the full value is stored encrypted and never returned.
    pub identifiers: Vec<Identifier>,
    pub attestation: Option<Attestation>,
    pub metadata: Map<String, Value>,
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
}

impl Customer {
    /// The name screening and support see: the person's full name or the legal name.
    pub fn display_name(&self) -> Option<String> {
        match self.customer_type {
            CustomerType::Individual => self.individual.as_ref().and_then(Individual::full_name),
            CustomerType::Business => self.business.as_ref().and_then(|b| b.legal_name.clone()),
        }
    }

    pub fn primary_address(&self) -> Option<&Address> {
        self.addresses.iter().find(|a| a.primary)
    }

    /// The country of residence: primary address, else nationality / business country.
    pub fn residence_country(&self) -> Option<&str> {
        if let Some(a) = self.primary_address() {
            return Some(&a.country);
        }
        match self.customer_type {
            CustomerType::Individual => self.individual.as_ref()?.nationality.as_deref(),
            CustomerType::Business => self.business.as_ref()?.country.as_deref(),
        }
    }

    pub fn has_identifier(&self, kind: &str) -> bool {
        self.identifiers.iter().any(|i| i.kind == kind)
    }
}

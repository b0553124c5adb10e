//! The customer record as the domain owns it; its JSON is the API object.

use crate::reasons::RejectionReason;
use crate::status::CustomerStatus;
use crate::time::{Timestamp, rfc3339, rfc3339_opt};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Verification level. `partial` is accepted on input as an alias of `basic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    #[serde(alias = "partial")]
    Basic,
    Full,
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

/// How the verification is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requirements {
    pub missing: Vec<String>,
    pub issues: Vec<RequirementIssue>,
}

/// A problem found by a check that the end user or a reviewer must address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequirementIssue {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// The verification object of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Verification {
    pub level: Level,
    pub mode: Mode,
    pub url: Option<String>,
    #[serde(with = "rfc3339_opt", default)]
    pub url_expires_at: Option<Timestamp>,
    pub requirements: Requirements,
    pub rejection_reason: Option<RejectionReason>,
    pub resubmittable: Option<bool>,
    #[serde(with = "rfc3339_opt", default)]
    pub approved_at: Option<Timestamp>,
    #[serde(with = "rfc3339_opt", default)]
    pub expires_at: Option<Timestamp>,
    /// Screening hits waiting for a reviewer (on_hold), without list internals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screening_matches: Vec<ScreeningHit>,
}

/// A possible sanctions or PEP match recorded on a customer for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningHit {
    pub list: String,
    pub entry_id: String,
    pub name: String,
    pub matched_name: String,
    pub score: f64,
    pub programs: Vec<String>,
    pub pep: bool,
    /// Whose name matched: the customer itself or a beneficial owner (`cus_…`).
    pub subject: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Individual {
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub nationality: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Business {
    pub legal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_name: Option<String>,
    pub registration_number: Option<String>,
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incorporation_date: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Ids (`cus_…`) of individual customers who own or control the business.
    pub beneficial_owners: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub primary: bool,
}

/// An identifier as shown: type, country and the last four characters only.
/// The full value lives encrypted in the vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: String,
    pub country: Option<String>,
    pub last4: String,
}

/// The platform's statement that it verified the user with a trusted provider.
/// The provider's reference is kept encrypted; only its last four characters show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attestation {
    pub provider: String,
    pub reference_last4: String,
    #[serde(with = "rfc3339")]
    pub verified_at: Timestamp,
    pub liveness: bool,
}

/// The customer record. Serialised as is, it is the API's customer object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub customer_type: CustomerType,
    pub external_id: Option<String>,
    pub status: CustomerStatus,
    pub verification: Verification,
    pub individual: Option<Individual>,
    pub business: Option<Business>,
    pub addresses: Vec<Address>,
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

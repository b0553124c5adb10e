//! Request bodies for customers and their parsing into validated domain values
//! (parse, don't validate). Every failure names the field it is about.

use crate::customer::{
    Address, Attestation, BeneficialOwner, Business, CustomerType, Individual, Level, Mode,
    OwnerRole,
};
use crate::time::Timestamp;
use crate::validate;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A bad value, pointing at the field (`param`) it was found in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub param: String,
    pub message: String,
}

impl FieldError {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            param: param.into(),
            message: message.into(),
        }
    }
}

pub type FieldResult<T> = Result<T, FieldError>;

const MAX_TEXT: usize = 200;
const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY: usize = 40;
const MAX_METADATA_VALUE: usize = 500;
const MAX_ADDRESSES: usize = 10;
const MAX_IDENTIFIERS: usize = 10;
const MAX_OWNERS: usize = 25;

/// The body of `POST /v1/customers`. `{"type": "individual"}` is enough to start.
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerCreate)]
pub struct CustomerInput {
    #[serde(rename = "type")]
    #[schema(value_type = CustomerType)]
    pub customer_type: Option<CustomerType>,
    /// Your own id for the customer, unique per organization and environment
    /// (a duplicate is `409 external_id_taken`); at most 128 bytes.
    #[schema(schema_with = crate::schema::external_id_input)]
    pub external_id: Option<String>,
    /// Only for `individual` customers.
    pub individual: Option<IndividualInput>,
    /// Only for `business` customers.
    pub business: Option<BusinessInput>,
    /// At most 10; at most one `primary` (with none, the first is primary).
    #[schema(max_items = 10)]
    pub addresses: Option<Vec<AddressInput>>,
    /// At most 10. Values are validated, stored encrypted and shown by `last4` only.
    #[schema(max_items = 10)]
    pub identifiers: Option<Vec<IdentifierInput>>,
    /// Reliance mode: the platform's statement that it verified the user.
    pub attestation: Option<AttestationInput>,
    #[schema(schema_with = crate::schema::metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    /// With `start: true` the verification starts in the same call.
    pub verification: Option<VerificationRequest>,
}

/// The body of `PATCH /v1/customers/{id}`. Nested objects (`individual`,
/// `business`, `metadata`) merge field by field; arrays (`addresses`,
/// `identifiers`) are replaced whole. `type` and `verification` cannot change here.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerUpdate)]
pub struct CustomerPatch {
    /// `null` clears it.
    #[schema(value_type = Option<String>, schema_with = crate::schema::external_id_input)]
    #[serde(default)]
    pub external_id: crate::patch::Patch<String>,
    /// Only for `individual` customers; merges field by field.
    #[schema(value_type = Option<IndividualInput>)]
    pub individual: Option<Map<String, Value>>,
    /// Only for `business` customers; merges field by field.
    #[schema(value_type = Option<BusinessInput>)]
    pub business: Option<Map<String, Value>>,
    #[schema(max_items = 10)]
    pub addresses: Option<Vec<AddressInput>>,
    #[schema(max_items = 10)]
    pub identifiers: Option<Vec<IdentifierInput>>,
    pub attestation: Option<AttestationInput>,
    #[schema(schema_with = crate::schema::metadata_update_input)]
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndividualInput {
    #[schema(schema_with = crate::schema::text_input)]
    pub first_name: Option<String>,
    #[schema(schema_with = crate::schema::text_input)]
    pub middle_name: Option<String>,
    #[schema(schema_with = crate::schema::text_input)]
    pub last_name: Option<String>,
    /// Not in the future, not before 1900-01-01.
    #[schema(schema_with = crate::schema::date_input)]
    pub date_of_birth: Option<String>,
    #[schema(value_type = Option<crate::schema::Country>)]
    pub nationality: Option<String>,
    #[schema(schema_with = crate::schema::email_input)]
    pub email: Option<String>,
    /// Whether the platform verified the email (a changed email is unverified
    /// unless this says otherwise).
    pub email_verified: Option<bool>,
    /// E.164.
    #[schema(schema_with = crate::schema::phone_input)]
    pub phone: Option<String>,
    pub phone_verified: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessInput {
    #[schema(schema_with = crate::schema::text_input)]
    pub legal_name: Option<String>,
    #[schema(schema_with = crate::schema::text_input)]
    pub trade_name: Option<String>,
    /// E.g. the CNPJ or the state registration number.
    #[schema(schema_with = crate::schema::text_input)]
    pub registration_number: Option<String>,
    #[schema(value_type = Option<crate::schema::Country>)]
    pub country: Option<String>,
    /// Not in the future.
    #[schema(schema_with = crate::schema::date_input)]
    pub incorporation_date: Option<String>,
    #[schema(schema_with = crate::schema::email_input)]
    pub email: Option<String>,
    #[schema(schema_with = crate::schema::phone_input)]
    pub phone: Option<String>,
    /// Individual customers of the same organization and environment who own
    /// or control the business, at most 25: each
    /// `{"customer_id", "ownership_percent", "roles"}`, or a bare id (`cus_…`:
    /// share not stated, role `owner`). Shares add up to 100 at most.
    #[schema(schema_with = crate::schema::beneficial_owners_input)]
    pub beneficial_owners: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    #[schema(schema_with = crate::schema::required_text_input)]
    pub line1: String,
    #[schema(schema_with = crate::schema::text_input)]
    pub line2: Option<String>,
    #[schema(schema_with = crate::schema::required_text_input)]
    pub city: String,
    #[schema(schema_with = crate::schema::text_input)]
    pub region: Option<String>,
    #[schema(schema_with = crate::schema::text_input)]
    pub postal_code: Option<String>,
    #[schema(value_type = crate::schema::Country)]
    pub country: String,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierInput {
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::identifier_type)]
    pub kind: String,
    /// The full value (write-only: responses carry `last4`), validated for its type.
    #[schema(example = "529.982.247-25", min_length = 1)]
    pub value: String,
    /// Defaults to BR for CPF/CNPJ and US for SSN/ITIN/EIN.
    #[schema(value_type = Option<crate::schema::Country>)]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationInput {
    #[schema(schema_with = crate::schema::required_text_input)]
    pub provider: String,
    /// The provider's reference (stored encrypted; responses show its last four characters).
    #[schema(schema_with = crate::schema::required_text_input)]
    pub reference: String,
    /// RFC 3339, not in the future.
    #[schema(format = DateTime)]
    pub verified_at: String,
    /// Whether the provider checked liveness; required for raw documents in reliance mode.
    #[serde(default)]
    pub liveness: bool,
    /// The identity document the provider checked (`passport`, `national_id`,
    /// `drivers_license`): meets the `full` level's `identity_document` without an upload.
    #[serde(default)]
    pub document_type: Option<String>,
}

/// `verification` on create, and the body of `POST /v1/customers/{id}/verification`
/// (defaults: the customer's previous choice, else `basic` and `hosted`).
#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    pub level: Option<Level>,
    pub mode: Option<Mode>,
    /// On create: start the verification in the same call.
    #[serde(default)]
    pub start: bool,
    /// Who carries a hosted verification: `sumsub` (default when configured
    /// for the environment) or `kycd` (the built-in hosted flow).
    #[serde(default)]
    pub provider: Option<crate::providers::ProviderKind>,
}

/// A validated identifier with its full normalised value (to be sealed by the vault).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidIdentifier {
    pub kind: String,
    pub country: Option<String>,
    pub value: String,
}

impl ValidIdentifier {
    pub fn last4(&self) -> String {
        validate::last4(&self.value)
    }
}

/// A validated attestation with the provider reference still in clear (to be sealed).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidAttestation {
    pub provider: String,
    pub reference: String,
    pub verified_at: Timestamp,
    pub liveness: bool,
    pub document_type: Option<String>,
}

impl ValidAttestation {
    pub fn public(&self) -> Attestation {
        Attestation {
            provider: self.provider.clone(),
            reference_last4: validate::last4(&self.reference),
            verified_at: self.verified_at,
            liveness: self.liveness,
            document_type: self.document_type.clone(),
        }
    }
}

/// Everything a create or a patch sets, validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    pub external_id: Option<String>,
    pub individual: Option<Individual>,
    pub business: Option<Business>,
    pub addresses: Vec<Address>,
    pub metadata: Map<String, Value>,
}

fn text(param: &str, v: &Option<String>) -> FieldResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            if t.chars().count() > MAX_TEXT {
                return Err(FieldError::new(
                    param,
                    format!("must be at most {MAX_TEXT} characters"),
                ));
            }
            if t.chars().any(|c| c.is_control()) {
                return Err(FieldError::new(
                    param,
                    "must not contain control characters",
                ));
            }
            Ok(Some(t.to_string()))
        }
    }
}

fn required_text(param: &str, v: &str) -> FieldResult<String> {
    text(param, &Some(v.to_string()))?.ok_or_else(|| FieldError::new(param, "must not be empty"))
}

fn checked<T>(param: &str, r: Result<T, validate::ValidationError>) -> FieldResult<T> {
    r.map_err(|e| FieldError::new(param, e.message))
}

fn country(param: &str, v: &Option<String>) -> FieldResult<Option<String>> {
    match text(param, v)? {
        None => Ok(None),
        Some(c) => checked(param, validate::country(&c)).map(Some),
    }
}

pub fn parse_external_id(v: &Option<String>) -> FieldResult<Option<String>> {
    let id = text("external_id", v)?;
    if let Some(id) = &id
        && id.len() > 128
    {
        return Err(FieldError::new("external_id", "must be at most 128 bytes"));
    }
    Ok(id)
}

pub fn parse_individual(i: &IndividualInput, today: NaiveDate) -> FieldResult<Individual> {
    let p = |f: &str| format!("individual.{f}");
    let date_of_birth = match text(&p("date_of_birth"), &i.date_of_birth)? {
        None => None,
        Some(d) => Some(checked(
            &p("date_of_birth"),
            validate::date_of_birth(&d, today),
        )?),
    };
    let email = match text(&p("email"), &i.email)? {
        None => None,
        Some(e) => Some(checked(&p("email"), validate::email(&e))?),
    };
    let phone = match text(&p("phone"), &i.phone)? {
        None => None,
        Some(e) => Some(checked(&p("phone"), validate::phone_e164(&e))?),
    };
    Ok(Individual {
        first_name: text(&p("first_name"), &i.first_name)?,
        middle_name: text(&p("middle_name"), &i.middle_name)?,
        last_name: text(&p("last_name"), &i.last_name)?,
        date_of_birth,
        nationality: country(&p("nationality"), &i.nationality)?,
        email_verified: email.is_some() && i.email_verified.unwrap_or(false),
        email,
        phone_verified: phone.is_some() && i.phone_verified.unwrap_or(false),
        phone,
    })
}

pub fn parse_business(b: &BusinessInput, today: NaiveDate) -> FieldResult<Business> {
    let p = |f: &str| format!("business.{f}");
    let incorporation_date = match text(&p("incorporation_date"), &b.incorporation_date)? {
        None => None,
        Some(d) => {
            let date = checked(&p("incorporation_date"), validate::date(&d))?;
            if date > today {
                return Err(FieldError::new(
                    p("incorporation_date"),
                    "must not be in the future",
                ));
            }
            Some(date)
        }
    };
    let owners = parse_owners(b.beneficial_owners.as_deref().unwrap_or_default())?;
    let email = match text(&p("email"), &b.email)? {
        None => None,
        Some(e) => Some(checked(&p("email"), validate::email(&e))?),
    };
    let phone = match text(&p("phone"), &b.phone)? {
        None => None,
        Some(e) => Some(checked(&p("phone"), validate::phone_e164(&e))?),
    };
    Ok(Business {
        legal_name: text(&p("legal_name"), &b.legal_name)?,
        trade_name: text(&p("trade_name"), &b.trade_name)?,
        registration_number: text(&p("registration_number"), &b.registration_number)?,
        country: country(&p("country"), &b.country)?,
        incorporation_date,
        email,
        phone,
        beneficial_owners: owners,
    })
}

fn is_customer_id(s: &str) -> bool {
    s.starts_with("cus_")
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Beneficial owners: bare ids or `{customer_id, ownership_percent, roles}`;
/// no customer twice, shares (0–100, two decimals at most) adding up to 100 at most.
pub fn parse_owners(list: &[Value]) -> FieldResult<Vec<BeneficialOwner>> {
    const PARAM: &str = "business.beneficial_owners";
    if list.len() > MAX_OWNERS {
        return Err(FieldError::new(
            PARAM,
            format!("at most {MAX_OWNERS} owners"),
        ));
    }
    let mut out: Vec<BeneficialOwner> = Vec::with_capacity(list.len());
    // Hundredths of a percent: exact sums.
    let mut total: u64 = 0;
    for (i, item) in list.iter().enumerate() {
        let at = |f: &str| format!("{PARAM}[{i}]{f}");
        let not_id = || FieldError::new(at(""), "must be the id (cus_…) of an individual customer");
        let owner = match item {
            Value::String(id) if is_customer_id(id) => BeneficialOwner::bare(id.clone()),
            Value::String(_) => return Err(not_id()),
            Value::Object(o) => {
                if let Some(k) = o
                    .keys()
                    .find(|k| !["customer_id", "ownership_percent", "roles"].contains(&k.as_str()))
                {
                    return Err(FieldError::new(
                        at(&format!(".{k}")),
                        "unknown field (customer_id, ownership_percent, roles)",
                    ));
                }
                let customer_id = match o.get("customer_id") {
                    Some(Value::String(id)) if is_customer_id(id) => id.clone(),
                    _ => {
                        return Err(FieldError::new(
                            at(".customer_id"),
                            "required: the id (cus_…) of an individual customer",
                        ));
                    }
                };
                let ownership_percent = match o.get("ownership_percent") {
                    None | Some(Value::Null) => None,
                    Some(v) => {
                        let hundredths = v
                            .as_f64()
                            .filter(|p| (0.0..=100.0).contains(p))
                            .map(|p| p * 100.0)
                            .filter(|h| (h - h.round()).abs() < 1e-6);
                        match hundredths {
                            Some(h) => {
                                total += h.round() as u64;
                                Some(h.round() / 100.0)
                            }
                            None => {
                                return Err(FieldError::new(
                                    at(".ownership_percent"),
                                    "must be a number from 0 to 100 with at most two decimals",
                                ));
                            }
                        }
                    }
                };
                let roles = match o.get("roles") {
                    None | Some(Value::Null) => vec![OwnerRole::Owner],
                    Some(Value::Array(names)) if !names.is_empty() => {
                        let mut roles = vec![];
                        for n in names {
                            let Some(r) = n.as_str().and_then(OwnerRole::parse) else {
                                return Err(FieldError::new(
                                    at(".roles"),
                                    "roles are owner, director, signatory or controller",
                                ));
                            };
                            if !roles.contains(&r) {
                                roles.push(r);
                            }
                        }
                        roles
                    }
                    Some(_) => {
                        return Err(FieldError::new(
                            at(".roles"),
                            "a non-empty list of: owner, director, signatory, controller",
                        ));
                    }
                };
                BeneficialOwner {
                    customer_id,
                    ownership_percent,
                    roles,
                }
            }
            _ => return Err(not_id()),
        };
        if out.iter().any(|o| o.customer_id == owner.customer_id) {
            return Err(FieldError::new(at(""), "the customer is listed twice"));
        }
        out.push(owner);
    }
    if total > 100 * 100 {
        return Err(FieldError::new(
            PARAM,
            "the ownership shares add up to more than 100 percent",
        ));
    }
    Ok(out)
}

pub fn parse_addresses(list: &[AddressInput]) -> FieldResult<Vec<Address>> {
    if list.len() > MAX_ADDRESSES {
        return Err(FieldError::new(
            "addresses",
            format!("at most {MAX_ADDRESSES} addresses"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let p = |f: &str| format!("addresses[{i}].{f}");
        let c = required_text(&p("country"), &a.country)?;
        out.push(Address {
            line1: required_text(&p("line1"), &a.line1)?,
            line2: text(&p("line2"), &a.line2)?,
            city: required_text(&p("city"), &a.city)?,
            region: text(&p("region"), &a.region)?,
            postal_code: text(&p("postal_code"), &a.postal_code)?,
            country: checked(&p("country"), validate::country(&c))?,
            primary: a.primary,
        });
    }
    let primaries = out.iter().filter(|a| a.primary).count();
    if primaries > 1 {
        return Err(FieldError::new(
            "addresses",
            "only one address may be primary",
        ));
    }
    if primaries == 0
        && let Some(first) = out.first_mut()
    {
        // With no primary flag the first address is the primary one.
        first.primary = true;
    }
    Ok(out)
}

pub fn parse_identifiers(list: &[IdentifierInput]) -> FieldResult<Vec<ValidIdentifier>> {
    if list.len() > MAX_IDENTIFIERS {
        return Err(FieldError::new(
            "identifiers",
            format!("at most {MAX_IDENTIFIERS} identifiers"),
        ));
    }
    let mut out: Vec<ValidIdentifier> = Vec::with_capacity(list.len());
    for (i, id) in list.iter().enumerate() {
        let kind = id.kind.trim().to_ascii_lowercase();
        if !KNOWN_IDENTIFIERS.contains(&kind.as_str()) {
            return Err(FieldError::new(
                format!("identifiers[{i}].type"),
                format!("must be one of {}", KNOWN_IDENTIFIERS.join(", ")),
            ));
        }
        let value = checked(
            &format!("identifiers[{i}].value"),
            validate::identifier(&kind, &id.value),
        )?;
        let default_country = match kind.as_str() {
            "cpf" | "cnpj" => Some("BR".to_string()),
            "ssn" | "itin" | "ein" => Some("US".to_string()),
            _ => None,
        };
        let country =
            country(&format!("identifiers[{i}].country"), &id.country)?.or(default_country);
        if out.iter().any(|o| o.kind == kind && o.country == country) {
            return Err(FieldError::new(
                format!("identifiers[{i}]"),
                "duplicate identifier type",
            ));
        }
        out.push(ValidIdentifier {
            kind,
            country,
            value,
        });
    }
    Ok(out)
}

pub const KNOWN_IDENTIFIERS: &[&str] = &[
    "cpf",
    "cnpj",
    "ssn",
    "itin",
    "ein",
    "passport",
    "national_id",
    "tax_id",
    "drivers_license",
];

pub fn parse_attestation(a: &AttestationInput, now: Timestamp) -> FieldResult<ValidAttestation> {
    let provider = required_text("attestation.provider", &a.provider)?;
    let reference = required_text("attestation.reference", &a.reference)?;
    let verified_at = crate::time::parse(a.verified_at.trim()).ok_or_else(|| {
        FieldError::new("attestation.verified_at", "must be an RFC 3339 timestamp")
    })?;
    if verified_at > now + chrono::Duration::minutes(5) {
        return Err(FieldError::new(
            "attestation.verified_at",
            "must not be in the future",
        ));
    }
    let document_type = match a.document_type.as_deref().map(str::trim) {
        None => None,
        Some(t) if crate::policy::IDENTITY_DOCUMENTS.contains(&t) => Some(t.to_string()),
        Some(_) => {
            return Err(FieldError::new(
                "attestation.document_type",
                "must be one of passport, national_id, drivers_license",
            ));
        }
    };
    Ok(ValidAttestation {
        provider,
        reference,
        verified_at,
        liveness: a.liveness,
        document_type,
    })
}

pub fn parse_metadata(m: &Map<String, Value>) -> FieldResult<Map<String, Value>> {
    if m.len() > MAX_METADATA_KEYS {
        return Err(FieldError::new(
            "metadata",
            format!("at most {MAX_METADATA_KEYS} keys"),
        ));
    }
    for (k, v) in m {
        let param = format!("metadata.{k}");
        if k.is_empty() || k.chars().count() > MAX_METADATA_KEY {
            return Err(FieldError::new(
                "metadata",
                format!("keys must be 1 to {MAX_METADATA_KEY} characters"),
            ));
        }
        match v {
            Value::String(s) if s.chars().count() > MAX_METADATA_VALUE => {
                return Err(FieldError::new(
                    param,
                    format!("must be at most {MAX_METADATA_VALUE} characters"),
                ));
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            _ => {
                return Err(FieldError::new(
                    param,
                    "metadata values must be strings, numbers or booleans",
                ));
            }
        }
    }
    Ok(m.clone())
}

/// Validates a create body into a profile, identifiers and attestation.
pub fn parse_create(
    input: &CustomerInput,
    now: Timestamp,
) -> FieldResult<(
    CustomerType,
    Profile,
    Vec<ValidIdentifier>,
    Option<ValidAttestation>,
)> {
    let today = now.date_naive();
    let customer_type = input
        .customer_type
        .ok_or_else(|| FieldError::new("type", "is required"))?;
    match customer_type {
        CustomerType::Individual if input.business.is_some() => {
            return Err(FieldError::new(
                "business",
                "an individual customer has no business details",
            ));
        }
        CustomerType::Business if input.individual.is_some() => {
            return Err(FieldError::new(
                "individual",
                "a business customer has no individual details",
            ));
        }
        _ => {}
    }
    let profile = Profile {
        external_id: parse_external_id(&input.external_id)?,
        individual: match customer_type {
            CustomerType::Individual => Some(parse_individual(
                &input.individual.clone().unwrap_or_default(),
                today,
            )?),
            CustomerType::Business => None,
        },
        business: match customer_type {
            CustomerType::Business => Some(parse_business(
                &input.business.clone().unwrap_or_default(),
                today,
            )?),
            CustomerType::Individual => None,
        },
        addresses: parse_addresses(input.addresses.as_deref().unwrap_or_default())?,
        metadata: parse_metadata(&input.metadata.clone().unwrap_or_default())?,
    };
    let identifiers = parse_identifiers(input.identifiers.as_deref().unwrap_or_default())?;
    let attestation = input
        .attestation
        .as_ref()
        .map(|a| parse_attestation(a, now))
        .transpose()?;
    Ok((customer_type, profile, identifiers, attestation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        crate::time::parse("2026-01-01T00:00:00Z").unwrap()
    }

    fn input(v: Value) -> CustomerInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn owners_are_bare_ids_or_shares_with_roles() {
        let ok = parse_owners(&[json!("cus_a")]).unwrap();
        assert_eq!(ok, vec![BeneficialOwner::bare("cus_a")]);
        let ok = parse_owners(&[
            json!({"customer_id": "cus_a", "ownership_percent": 33.33, "roles": ["owner", "director", "owner"]}),
            json!({"customer_id": "cus_b", "ownership_percent": 66.67}),
        ])
        .unwrap();
        assert_eq!(ok[0].ownership_percent, Some(33.33));
        assert_eq!(ok[0].roles, vec![OwnerRole::Owner, OwnerRole::Director]);
        assert_eq!(ok[1].roles, vec![OwnerRole::Owner]);
        let param = |v: Vec<Value>| parse_owners(&v).unwrap_err().param;
        assert_eq!(
            param(vec![
                json!({"customer_id": "cus_a", "ownership_percent": 50.01}),
                json!({"customer_id": "cus_b", "ownership_percent": 50})
            ]),
            "business.beneficial_owners"
        );
        assert_eq!(
            param(vec![json!({"customer_id": "cus_a", "roles": ["boss"]})]),
            "business.beneficial_owners[0].roles"
        );
        assert_eq!(
            param(vec![
                json!({"customer_id": "cus_a", "ownership_percent": 0.001})
            ]),
            "business.beneficial_owners[0].ownership_percent"
        );
        assert_eq!(
            param(vec![json!("cus_a"), json!("cus_a")]),
            "business.beneficial_owners[1]"
        );
        assert_eq!(param(vec![json!("x")]), "business.beneficial_owners[0]");
    }

    #[test]
    fn stored_bare_ids_read_as_owners() {
        let b: Business = serde_json::from_value(
            json!({"legal_name": null, "registration_number": null, "country": null,
                "email": null, "phone": null, "beneficial_owners": ["cus_a"]}),
        )
        .unwrap();
        assert_eq!(b.beneficial_owners, vec![BeneficialOwner::bare("cus_a")]);
        let v = serde_json::to_value(&b.beneficial_owners).unwrap();
        assert_eq!(
            v,
            json!([{"customer_id": "cus_a", "ownership_percent": null, "roles": ["owner"]}])
        );
        let o = BeneficialOwner {
            ownership_percent: Some(25.0),
            ..BeneficialOwner::bare("cus_a")
        };
        assert_eq!(
            serde_json::to_value(&o).unwrap()["ownership_percent"],
            json!(25)
        );
    }

    #[test]
    fn minimal_individual_is_valid() {
        let (t, p, ids, att) =
            parse_create(&input(serde_json::json!({"type": "individual"})), now()).unwrap();
        assert_eq!(t, CustomerType::Individual);
        assert!(p.individual.is_some() && ids.is_empty() && att.is_none());
    }

    #[test]
    fn bad_values_point_at_their_field() {
        let cases = [
            (
                serde_json::json!({"type": "individual", "individual": {"email": "nope"}}),
                "individual.email",
            ),
            (
                serde_json::json!({"type": "individual", "individual": {"date_of_birth": "2099-01-01"}}),
                "individual.date_of_birth",
            ),
            (
                serde_json::json!({"type": "individual", "identifiers": [{"type": "cpf", "value": "111.111.111-11"}]}),
                "identifiers[0].value",
            ),
            (
                serde_json::json!({"type": "individual", "addresses": [{"line1": "a", "city": "b", "country": "XX"}]}),
                "addresses[0].country",
            ),
            (
                serde_json::json!({"type": "individual", "addresses": [{"line1": "a", "city": "b", "country": "BR", "primary": true}, {"line1": "a", "city": "b", "country": "BR", "primary": true}]}),
                "addresses",
            ),
            (serde_json::json!({"individual": {}}), "type"),
        ];
        for (body, param) in cases {
            let err = parse_create(&input(body.clone()), now()).unwrap_err();
            assert_eq!(err.param, param, "{body}");
        }
    }

    #[test]
    fn first_address_becomes_primary() {
        let body = serde_json::json!({"type": "individual", "addresses": [{"line1": "a", "city": "b", "country": "br"}]});
        let (_, p, _, _) = parse_create(&input(body), now()).unwrap();
        assert!(p.addresses[0].primary);
        assert_eq!(p.addresses[0].country, "BR");
    }

    #[test]
    fn error_messages_never_echo_identifier_values() {
        let body = serde_json::json!({"type": "individual", "identifiers": [{"type": "ssn", "value": "666-12-3456"}]});
        let err = parse_create(&input(body), now()).unwrap_err();
        assert!(!err.message.contains("666"), "{}", err.message);
    }
}

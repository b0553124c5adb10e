//! Component schemas of the other resources: settings, documents, product
//! access, capabilities, webhook endpoints and deliveries, screening, the
//! sandbox clock, whose handlers assemble their JSON; the settings are
//! kycd-core's own type with the two fields the handler adds.

#![allow(dead_code)]

use super::enums::*;
use super::schemas::*;
use chrono::{DateTime, Utc};
use kycd_core::status::CustomerStatus;
use serde::Serialize;
use utoipa::PartialSchema;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// The organization's policy for one environment: kycd-core's `Settings`
/// with the `object` and `environment` the handler adds.
pub struct Settings;

impl utoipa::PartialSchema for Settings {
    fn schema() -> RefOr<Schema> {
        let mut schema = <kycd_core::policy::Settings as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(o)) = &mut schema {
            o.properties
                .insert("object".into(), Schema::from(settings_tag()).into());
            o.properties
                .insert("environment".into(), Environment::schema());
            o.required
                .extend(["object".to_string(), "environment".to_string()]);
            o.description = Some("The organization's policy for one environment.".into());
        }
        schema
    }
}

impl ToSchema for Settings {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        <kycd_core::policy::Settings as ToSchema>::schemas(out);
        out.push((Environment::name().into_owned(), Environment::schema()));
    }
}

/// The body of `PATCH /v1/settings`: kycd-core's `Settings` as a merge patch
/// (every field optional; objects merge key by key, anything else replaces).
pub struct SettingsUpdate;

impl utoipa::PartialSchema for SettingsUpdate {
    fn schema() -> RefOr<Schema> {
        let mut parts = vec![];
        <kycd_core::policy::Settings as ToSchema>::schemas(&mut parts);
        let mut schema = <kycd_core::policy::Settings as utoipa::PartialSchema>::schema();
        as_merge_patch(&mut schema, &parts);
        if let RefOr::T(Schema::Object(o)) = &mut schema {
            o.description = Some(
                "The body of `PATCH /v1/settings`: objects merge key by key, anything else replaces. The result is validated as a whole (e.g. `expiring_notice_days` shorter than `verification_validity_days`)."
                    .into(),
            );
        }
        schema
    }
}

impl ToSchema for SettingsUpdate {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        <kycd_core::policy::Settings as ToSchema>::schemas(out);
    }
}

/// Makes every property of an object schema optional and refuses unknown
/// properties, in nested objects too (a referenced object schema is inlined
/// as its own merge patch; enums stay references).
fn as_merge_patch(schema: &mut RefOr<Schema>, parts: &[(String, RefOr<Schema>)]) {
    if let RefOr::Ref(r) = schema {
        let name = r.ref_location.rsplit('/').next().unwrap_or_default();
        if let Some((_, target)) = parts.iter().find(|(n, _)| n == name)
            && matches!(target, RefOr::T(Schema::Object(o)) if !o.properties.is_empty())
        {
            *schema = target.clone();
        }
    }
    if let RefOr::T(Schema::Object(o)) = schema
        && !o.properties.is_empty()
    {
        o.required.clear();
        o.additional_properties = Some(Box::new(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ));
        for (_, p) in o.properties.iter_mut() {
            as_merge_patch(p, parts);
        }
    }
}

/// A sandbox clock after an advance (the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct TestClock {
    #[schema(schema_with = test_clock_tag)]
    pub object: &'static str,
    /// How far the sandbox clock is ahead of real time.
    pub offset_seconds: i64,
    /// The sandbox's current time.
    #[serde(with = "kycd_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub now: DateTime<Utc>,
    /// How many due jobs (expiry notices, expiries, retries) ran.
    pub processed: usize,
}

/// The document object: the service's own type.
pub type Document = crate::service::documents::Document;

/// A request for access to a product: kycd-core's own type.
pub type ProductAccess = crate::wire::ProductAccessResponse;

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

/// A capability check that passed (a refusal is `403 missing_capability`;
/// the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct CapabilityCheck {
    #[schema(schema_with = capability_check_tag)]
    pub object: &'static str,
    /// Always `true` here.
    pub allowed: bool,
    pub customer_id: String,
    #[schema(schema_with = super::enums::capability)]
    pub capability: &'static str,
    #[schema(value_type = CapabilityStatus)]
    pub status: &'static str,
}

/// A webhook endpoint: the handler's own view type.
pub type WebhookEndpoint = crate::api::webhook_endpoints::EndpointView;

/// `{"id", "object": "webhook_endpoint", "deleted": true}` (the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct DeletedWebhookEndpoint {
    pub id: String,
    #[schema(schema_with = webhook_endpoint_tag)]
    pub object: &'static str,
    pub deleted: bool,
}

/// One attempt to deliver an event to an endpoint (the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub id: String,
    #[schema(schema_with = delivery_attempt_tag)]
    pub object: &'static str,
    pub event_id: String,
    pub endpoint_id: String,
    #[schema(required = true)]
    pub url: Option<String>,
    pub delivery_id: String,
    /// 1 for the first attempt.
    #[schema(minimum = 1)]
    pub attempt: i64,
    #[schema(value_type = DeliveryAttemptStatus)]
    pub status: &'static str,
    /// The receiver's HTTP status.
    #[schema(required = true, minimum = 100, maximum = 999)]
    pub status_code: Option<i64>,
    #[schema(minimum = 0)]
    pub duration_ms: i64,
    #[schema(required = true)]
    pub error: Option<String>,
    #[serde(with = "kycd_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = DeliveryStatus)]
    pub delivery_status: String,
    #[serde(with = "kycd_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The deliveries scheduled by a redelivery (`202 Accepted`; the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct Redelivery {
    #[schema(schema_with = redelivery_tag)]
    pub object: &'static str,
    pub event_id: String,
    pub deliveries: Vec<ScheduledDelivery>,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduledDelivery {
    pub delivery_id: String,
    pub endpoint_id: String,
    #[schema(value_type = DeliveryStatus)]
    pub status: &'static str,
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
    /// Why it matched: aligned name parts and the rule for each (`exact`, `typo`,
    /// `nickname`, `spelling_variant`, `glued`, `acronym`, ...), unmatched parts, legal
    /// forms, date-of-birth, country and kind adjustments, and a one-line summary.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
}

/// Why two names match or not (`POST /v1/screening/compare`).
#[derive(Serialize, ToSchema)]
pub struct ScreeningComparison {
    #[schema(schema_with = screening_comparison_tag)]
    pub object: String,
    /// Name score in [0, 1] (legal forms included; no date or country evidence).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    /// The same explanation as a search match's.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
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

/// An identity provider's configuration as `/v1/providers` shows it (the
/// handler's answer): never the app token, secret key or webhook secret.
#[derive(Serialize, ToSchema)]
pub struct Provider {
    /// Always `provider`.
    #[schema(example = "provider")]
    pub object: String,
    pub provider: kycd_core::providers::ProviderKind,
    #[schema(example = "sandbox")]
    pub environment: String,
    /// The Sumsub level used when `levels` names none for the kycd level.
    #[schema(example = "basic-kyc-level")]
    pub level_name: String,
    /// kycd level (`basic`, `full`) → Sumsub level name.
    pub levels: std::collections::BTreeMap<String, String>,
    #[schema(example = "https://api.sumsub.com")]
    pub base_url: String,
    pub configured_at: DateTime<Utc>,
}

/// The body of `PUT /v1/providers/sumsub` (unknown fields are refused).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfiguration {
    /// Sumsub's app token (Dashboard → Dev space → App tokens). Sealed, never returned.
    #[schema(example = "sbx:…")]
    pub app_token: String,
    /// The app token's secret key. Sealed, never returned.
    pub secret_key: String,
    /// The Sumsub verification level.
    #[schema(example = "basic-kyc-level")]
    pub level_name: String,
    /// The secret Sumsub signs webhooks with (`X-Payload-Digest`). Sealed, never returned.
    pub webhook_secret: String,
    /// Default `https://api.sumsub.com`.
    #[schema(nullable = false)]
    pub base_url: Option<String>,
    /// kycd level (`basic`, `full`) → Sumsub level name.
    #[schema(nullable = false)]
    pub levels: Option<std::collections::BTreeMap<String, String>>,
}

/// `{"object": "provider", "provider", "deleted": true}` (the handler's answer).
#[derive(Serialize, ToSchema)]
pub struct DeletedProvider {
    #[schema(example = "provider")]
    pub object: String,
    pub provider: kycd_core::providers::ProviderKind,
    pub deleted: bool,
}

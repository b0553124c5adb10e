//! String enums of the OpenAPI document, generated from kycd-core's own
//! constants (statuses, rejection reasons, requirement codes, event types,
//! products…) so the document cannot drift from the domain's vocabulary.
//! Each is a component schema referenced by name; the `fn`s at the end are the
//! inline schemas of request fields whose Rust type is a plain string.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// The JSON names of serialisable domain values (their serde representation).
fn names<T: Serialize>(values: &[T]) -> Vec<Value> {
    values
        .iter()
        .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
        .collect()
}

fn strs(values: &[&str]) -> Vec<Value> {
    values.iter().map(|s| Value::from(*s)).collect()
}

fn string_enum(description: &str, values: Vec<Value>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Declares a unit type whose schema is a named string enum.
macro_rules! string_enum {
    ($(#[$meta:meta])* $ty:ident, $description:expr, $values:expr) => {
        $(#[$meta])*
        #[derive(Serialize)]
        pub struct $ty;
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                string_enum($description, $values)
            }
        }
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($ty))
            }
        }
    };
}

string_enum!(
    EventType,
    "An event type kycd emits.",
    strs(kycd_core::events::ALL)
);
string_enum!(
    EnabledEvent,
    "An event type, or `*` for every event.",
    std::iter::once(Value::from("*"))
        .chain(strs(kycd_core::events::ALL))
        .collect()
);
string_enum!(
    CapabilityStatus,
    "Whether the customer may use the capability now.",
    names(&[
        kycd_core::capabilities::CapabilityStatus::Enabled,
        kycd_core::capabilities::CapabilityStatus::Disabled
    ])
);
string_enum!(
    DocumentType,
    "The kind of document.",
    strs(crate::api::documents::TYPES)
);
string_enum!(
    DocumentContentType,
    "The file format, checked against the bytes' magic numbers.",
    strs(crate::api::documents::CONTENT_TYPES)
);
string_enum!(
    DocumentSide,
    "Which side of a two-sided document; omit or `null` for one-sided documents.",
    strs(&["front", "back"])
);
string_enum!(
    DocumentStatus,
    "`pending` (waiting for a reviewer), `accepted` or `rejected`.",
    strs(&["pending", "accepted", "rejected"])
);
string_enum!(
    WebhookEndpointStatus,
    "`disabled` endpoints receive nothing (disabled by you, or by kycd after days of failures or a 410).",
    strs(&[
        kycd_store::webhooks::ENABLED,
        kycd_store::webhooks::DISABLED
    ])
);
string_enum!(
    DeliveryAttemptStatus,
    "The outcome of one attempt.",
    strs(&["succeeded", "failed", "in_progress"])
);
string_enum!(
    DeliveryStatus,
    "Where the delivery stands: retried with backoff while `pending`, `failed` after the last retry.",
    strs(&[
        kycd_store::webhooks::deliveries::PENDING,
        kycd_store::webhooks::deliveries::SUCCEEDED,
        kycd_store::webhooks::deliveries::FAILED,
        kycd_store::webhooks::deliveries::CANCELED
    ])
);
string_enum!(
    ScreeningEntryType,
    "What kind of party a list entry is.",
    names(&[
        kycd_screening::EntityKind::Person,
        kycd_screening::EntityKind::Organization,
        kycd_screening::EntityKind::Vessel,
        kycd_screening::EntityKind::Aircraft,
        kycd_screening::EntityKind::Unknown
    ])
);

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn inline_enum(description: &str, values: &[&str]) -> Schema {
    string()
        .description(Some(description))
        .enum_values(Some(values.iter().copied()))
        .build()
        .into()
}

fn or_null(schema: impl Into<RefOr<Schema>>) -> Schema {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// `capability` of a capability check.
pub fn capability() -> Schema {
    let names = kycd_core::capabilities::Capability::ALL.map(|c| c.as_str());
    inline_enum(
        "What a customer may do: `transact` (money movement) or use a product.",
        &names,
    )
}

/// The searched name: 1 to 300 characters once trimmed.
pub fn screening_name() -> Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(300))
        .pattern(Some(format!("[^{}]", kycd_core::schema::SPACE)))
        .examples(["Vladimir Putin"])
        .build()
        .into()
}

/// `person` or `organization`.
pub fn screening_entity_type() -> Schema {
    or_null(string().enum_values(Some(["person", "organization"])))
}

/// `YYYY-MM-DD` or `YYYY`.
pub fn screening_date() -> Schema {
    or_null(
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(
                string()
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Date,
                    )))
                    .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
            )
            .item(string().pattern(Some("^[0-9]{4}$")))
            .examples(["1952-10-07"]),
    )
}

/// The outcome a test helper forces on a verification.
pub fn forced_verification_outcome() -> Schema {
    inline_enum(
        "The outcome to force.",
        &[
            "approved",
            "rejected",
            "needs_information",
            "on_hold",
            "expired",
        ],
    )
}

/// Requirement codes a reviewer (or the sandbox helper) may ask for.
pub fn requirement_codes() -> Schema {
    let codes: Vec<&str> = kycd_core::policy::REQUIREMENTS
        .iter()
        .map(|r| r.code)
        .collect();
    or_null(
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(RefOr::T(inline_enum(
                "A requirement code (`GET /v1/requirements`).",
                &codes,
            )))
            .build(),
    )
}

/// A reviewer's decision on a product-access request.
pub fn forced_product_access_outcome() -> Schema {
    inline_enum(
        "The reviewer's decision to force.",
        &["granted", "rejected"],
    )
}

/// A reviewer's decision on a document.
pub fn forced_document_outcome() -> Schema {
    inline_enum(
        "The reviewer's decision to force.",
        &["accepted", "rejected"],
    )
}

/// A reviewer's snake_case code.
pub fn reviewer_code() -> Schema {
    or_null(
        string()
            .pattern(Some("^[a-z0-9_]{1,64}$"))
            .max_length(Some(64)),
    )
}

/// `confirm` or `dismiss` the possible screening matches.
pub fn screening_decision() -> Schema {
    inline_enum(
        "`confirm` the possible match (the customer is rejected: `sanctions_match`, or `pep_match` when every hit is a PEP) or `dismiss` it (the entry is not raised again for this customer).",
        &["confirm", "dismiss"],
    )
}

/// An `http` or `https` URL with a host name (letters, digits, hyphens) or
/// an IPv4 address, an optional port, no credentials.
fn url() -> ObjectBuilder {
    string()
        .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
        .max_length(Some(kycd_webhooks::MAX_URL_LEN))
        .pattern(Some(
            r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][\s\S]*)?$",
        ))
        .examples(["https://example.com/webhooks/kycd"])
}

/// A webhook endpoint's URL on create.
pub fn webhook_url() -> Schema {
    url().build().into()
}

/// A webhook endpoint's URL in a PATCH.
pub fn webhook_url_update() -> Schema {
    or_null(url())
}

/// `enabled_events`: at least one event type, or `["*"]` alone.
pub fn enabled_events() -> Schema {
    let one_type = string().enum_values(Some(kycd_core::events::ALL.iter().copied()));
    let types = utoipa::openapi::schema::ArrayBuilder::new()
        .items(RefOr::T(Schema::from(one_type)))
        .min_items(Some(1));
    let all = utoipa::openapi::schema::ArrayBuilder::new()
        .items(RefOr::T(Schema::from(string().enum_values(Some(["*"])))))
        .min_items(Some(1));
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(types)
        .item(all)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("Event types to deliver, or `[\"*\"]` for all."))
        .build()
        .into()
}

/// The schema of a named enum of this module, by component name.
pub fn by_name(name: &str) -> RefOr<Schema> {
    use utoipa::PartialSchema;
    match name {
        "DocumentType" => DocumentType::schema(),
        "DocumentSide" => DocumentSide::schema(),
        "DocumentContentType" => DocumentContentType::schema(),
        _ => ObjectBuilder::new().into(),
    }
}

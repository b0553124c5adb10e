//! String enums of the OpenAPI document, generated from kycd-core's own
//! constants (statuses, rejection reasons, requirement codes, event types,
//! products…) so the document cannot drift from the domain's vocabulary.
//! Each is a component schema that the mirror types reference by name.

use kycd_core::customer as c;
use kycd_core::policy as p;
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
    CustomerStatus,
    "Where the customer stands in the verification lifecycle.",
    names(&kycd_core::status::CustomerStatus::ALL)
);
string_enum!(
    CustomerType,
    "`individual` (KYC) or `business` (KYB).",
    names(&[c::CustomerType::Individual, c::CustomerType::Business])
);
string_enum!(
    Level,
    "Verification level. On input `partial` is accepted as an alias of `basic`.",
    names(&[c::Level::Basic, c::Level::Full])
);
string_enum!(
    Mode,
    "`hosted`: the end user completes verification through a kycd link. `reliance`: the platform \
     verified the user with a trusted provider and sends the verified data with an attestation.",
    names(&[c::Mode::Hosted, c::Mode::Reliance])
);
string_enum!(
    RejectionReason,
    "Why a verification was rejected (see `GET /v1/rejection_reasons`).",
    names(&kycd_core::reasons::RejectionReason::ALL)
);
string_enum!(
    Product,
    "A product a customer may request access to.",
    names(&p::Product::ALL)
);
string_enum!(
    RequirementCode,
    "A requirement code: the vocabulary of `requirements.missing` and of 403 `reasons`.",
    p::REQUIREMENTS
        .iter()
        .map(|r| Value::from(r.code))
        .collect()
);
string_enum!(
    RequirementKind,
    "Data to collect (`field`), a document to upload (`document`) or a check to pass (`check`).",
    names(&[
        p::RequirementKind::Field,
        p::RequirementKind::Document,
        p::RequirementKind::Check
    ])
);
string_enum!(
    Activation,
    "`automatic`: an approved customer becomes `active` at once; `manual`: it waits in \
     `verified` for `POST /v1/customers/{id}/activate`.",
    names(&[p::Activation::Automatic, p::Activation::Manual])
);
string_enum!(
    SignalPolicy,
    "What a weak signal does to the decision: `pass` (recorded in `requirements.issues`), \
     `review` (stays `pending` for a reviewer) or `reject`.",
    names(&[
        p::SignalPolicy::Pass,
        p::SignalPolicy::Review,
        p::SignalPolicy::Reject
    ])
);
string_enum!(
    ApprovalPolicy,
    "How a product-access request is decided once its requirements are met.",
    names(&[p::ApprovalPolicy::Auto, p::ApprovalPolicy::Manual])
);
string_enum!(
    IdentifierType,
    "Identifier type. CPF, CNPJ, SSN and ITIN are validated (check digits or format rules).",
    strs(kycd_core::input::KNOWN_IDENTIFIERS)
);
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
    Capability,
    "What a customer may do: `transact` (money movement) or use a product.",
    strs(&kycd_core::capabilities::Capability::ALL.map(|c| c.as_str()))
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
    ProductAccessStatus,
    "Where a product-access request stands (a granted access whose customer left `active` \
     stays `granted` with `suspended: true`).",
    names(&[
        kycd_core::capabilities::AccessStatus::Pending,
        kycd_core::capabilities::AccessStatus::Granted,
        kycd_core::capabilities::AccessStatus::Rejected
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
    ScreeningEntityType,
    "Whether the searched name is a person's or an organization's.",
    strs(&["person", "organization"])
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
string_enum!(
    ForcedVerificationOutcome,
    "The outcome to force.",
    strs(&[
        "approved",
        "rejected",
        "needs_information",
        "on_hold",
        "expired"
    ])
);
string_enum!(
    ForcedProductAccessOutcome,
    "The reviewer's decision to force.",
    strs(&["granted", "rejected"])
);
string_enum!(
    ForcedDocumentOutcome,
    "The reviewer's decision to force.",
    strs(&["accepted", "rejected"])
);
string_enum!(
    ScreeningDecision,
    "`confirm` the possible match (the customer is rejected: `sanctions_match`, or `pep_match` when every hit is a PEP) or `dismiss` it (the entry is not raised again for this customer).",
    strs(&["confirm", "dismiss"])
);

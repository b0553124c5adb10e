//! OpenAPI schema pieces of the domain's own types, used by their
//! `#[derive(ToSchema)]` (`schema_with = …`) where a Rust type alone cannot say
//! what the validation accepts: ISO country codes, identifier types, free text
//! limits, dates given as text, metadata and the constant `object` tags.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat};
use utoipa::openapi::schema::{KnownFormat, SchemaType, Type};

/// Longest free-text field, in characters (after trimming).
pub const MAX_TEXT: usize = 200;
/// Metadata limits.
pub const MAX_METADATA_KEYS: usize = 50;
pub const MAX_METADATA_KEY: usize = 40;
pub const MAX_METADATA_VALUE: usize = 500;
/// C0 and C1 control characters (Rust's `char::is_control`), as a regex class body.
const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
/// What Rust's `str::trim` removes (Unicode `White_Space`), as a regex class body.
pub const SPACE: &str =
    r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// Text that has no control character once trimmed.
fn no_control_pattern() -> String {
    format!("^[{SPACE}]*[^{CONTROL}]*[{SPACE}]*$")
}

/// Text that, once trimmed, is not empty and has no control character.
fn non_blank_pattern() -> String {
    format!("^[{SPACE}]*[^{CONTROL}]*[^{CONTROL}{SPACE}][^{CONTROL}]*[{SPACE}]*$")
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable(schema: impl Into<RefOr<Schema>>) -> Schema {
    AnyOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// A string that is always `value` (the `object` field of every resource).
pub fn constant(value: &str) -> Schema {
    string().enum_values(Some([value])).build().into()
}

/// `object: "customer"`.
pub fn customer_tag() -> Schema {
    constant("customer")
}

/// `object: "product_access"`.
pub fn product_access_tag() -> Schema {
    constant("product_access")
}

/// An assigned ISO 3166-1 alpha-2 code (input is trimmed and case-insensitive):
/// the `Country` component, referenced by every country field.
pub struct Country;

impl utoipa::PartialSchema for Country {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some(
                "ISO 3166-1 alpha-2, an assigned code (on input, case and surrounding spaces do not matter).",
            ))
            .enum_values(Some(crate::countries::ALPHA2.iter().copied()))
            .examples(["BR"])
            .build()
            .into()
    }
}

impl utoipa::ToSchema for Country {}

/// Identifier types kycd knows.
pub fn identifier_type() -> Schema {
    string()
        .description(Some(
            "Identifier type. CPF, CNPJ, SSN and ITIN are validated (check digits or format rules).",
        ))
        .enum_values(Some(crate::input::KNOWN_IDENTIFIERS.iter().copied()))
        .build()
        .into()
}

/// Free text on input: at most 200 characters, no control characters; an
/// empty string means "not given" (`null`).
pub fn text_input() -> Schema {
    nullable(
        string()
            .max_length(Some(MAX_TEXT))
            .pattern(Some(no_control_pattern())),
    )
}

/// Required free text on input: 1 to 200 characters, no control characters.
pub fn required_text_input() -> Schema {
    string()
        .min_length(Some(1))
        .max_length(Some(MAX_TEXT))
        .pattern(Some(non_blank_pattern()))
        .build()
        .into()
}

/// `external_id` on input: at most 128 bytes, no control characters.
pub fn external_id_input() -> Schema {
    nullable(
        string()
            .max_length(Some(128))
            .pattern(Some(no_control_pattern())),
    )
}

/// A calendar date `YYYY-MM-DD` on input; an empty string means "not given".
pub fn date_input() -> Schema {
    AnyOfBuilder::new()
        .item(
            string()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
        )
        .item(string().max_length(Some(0)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "`YYYY-MM-DD`, not in the future; an empty string means not given.",
        ))
        .build()
        .into()
}

/// An email address on input (an empty string means "not given").
pub fn email_input() -> Schema {
    AnyOfBuilder::new()
        .item(
            string()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                .max_length(Some(254)),
        )
        .item(string().max_length(Some(0)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// An E.164 phone number on input (`+`, 8 to 15 digits; spaces, dashes, dots
/// and parentheses are ignored); an empty string means "not given".
pub fn phone_input() -> Schema {
    AnyOfBuilder::new()
        .item(
            string()
                .pattern(Some(r"^\+[1-9][0-9]{7,14}$"))
                .examples(["+5511999990000"]),
        )
        .item(string().max_length(Some(0)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// `metadata`: your own key-value pairs.
pub fn metadata() -> Schema {
    metadata_schema(false)
}

/// `metadata` in a PATCH: keys merge into the stored metadata; `null` removes a key.
pub fn metadata_update() -> Schema {
    metadata_schema(true)
}

fn metadata_schema(null: bool) -> Schema {
    let mut types = vec![Type::String, Type::Number, Type::Boolean];
    if null {
        types.push(Type::Null);
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Your own key-value pairs: at most 50 keys of 1 to 40 characters; values are strings of up to 500 characters, numbers or booleans.",
        ))
        .max_properties(Some(MAX_METADATA_KEYS))
        .property_names(Some(
            string().min_length(Some(1)).max_length(Some(MAX_METADATA_KEY)),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter(types))
                .max_length(Some(MAX_METADATA_VALUE)),
        ))
        .build()
        .into()
}

/// An optional metadata object on input.
pub fn metadata_input() -> Schema {
    nullable(metadata())
}

/// An optional metadata object in a PATCH.
pub fn metadata_update_input() -> Schema {
    nullable(metadata_update())
}

/// Ids (`cus_…`) of individual customers, at most 25.
pub fn beneficial_owners_input() -> Schema {
    let id = || {
        string()
            .pattern(Some(r"^cus_[A-Za-z0-9_]+$"))
            .max_length(Some(64))
    };
    let percent = AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .maximum(Some(100)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "The share owned, in percent, at most two decimals; null or absent: not stated.",
        ));
    let roles = ArrayBuilder::new()
        .items(string().enum_values(Some(
            crate::customer::OwnerRole::ALL.iter().map(|r| r.as_str()),
        )))
        .min_items(Some(1))
        .description(Some("At least one; absent: `[\"owner\"]`."));
    let owner = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("customer_id", id())
        .required("customer_id")
        .property("ownership_percent", percent)
        .property("roles", roles)
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::<Schema>::FreeForm(false),
        ));
    AnyOfBuilder::new()
        .item(
            ArrayBuilder::new()
                .items(id())
                .max_items(Some(25))
                .unique_items(true),
        )
        .item(
            ArrayBuilder::new()
                .items(owner)
                .max_items(Some(25)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "Bare ids (`cus_…`: share not stated, role `owner`) or owner objects, not mixed; no customer twice; the shares add up to 100 at most.",
        ))
        .build()
        .into()
}

/// A requirement code: the vocabulary of `requirements.missing` and of 403 `reasons`.
pub fn requirement_code() -> Schema {
    string()
        .description(Some(
            "A requirement code: the vocabulary of `requirements.missing` and of 403 `reasons`.",
        ))
        .enum_values(Some(crate::policy::REQUIREMENTS.iter().map(|r| r.code)))
        .build()
        .into()
}

/// A list of requirement codes.
pub fn requirement_codes() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(requirement_code()))
        .build()
        .into()
}

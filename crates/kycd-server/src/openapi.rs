//! The OpenAPI 3.1 document of everything under `/v1`, built in code from
//! one table (`operations::OPERATIONS`) and the component schemas: request
//! bodies and the customer derive theirs where they are defined (kycd-core's
//! types, the handlers' body structs), the rest come from `enums`, `schemas`
//! and `resources`; served at `/openapi.json`.
//! `/docs` serves Swagger UI from assets compiled into the binary (`docs`).
//! Neither needs an API key.

pub mod docs;
pub mod enums;
pub mod operations;
pub mod resources;
pub mod schemas;

use axum::response::IntoResponse;
use operations::{Body, Extra, Method, OPERATIONS, Op, QueryType, Reply, TAGS};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::ToSchema;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref,
    RefOr, Required,
};

const SECURITY: &str = "bearerAuth";

const DESCRIPTION: &str = "\
kycd is a self-hosted KYC/KYB server: it holds the customer record, runs the verification \
lifecycle, decides who may use which product, and tells your platform what changed.

**Authentication**: `Authorization: Bearer <api key>`. A key belongs to one organization and \
one environment (`sk_test_…` sandbox, `sk_live_…` live); data of different organizations and \
environments never mix.

**Idempotency**: send an `Idempotency-Key` header on every POST. The first response (status \
and body) is stored for 24 h and replayed for a retry with the same key; the same key with a \
different body is `422 idempotency_key_reused`; a retry while the first is still running is \
`409 idempotency_key_in_use`.

**Lists**: `?limit=` (1–100, default 20) and `?starting_after=<id>`; responses are \
`{\"object\": \"list\", \"data\": [...], \"has_more\": bool}`.

**Errors**: an HTTP status and `{\"error\": {\"type\", \"code\", \"message\", \"param\", \
\"reasons\", \"request_id\"}}`. Every response carries `X-Request-Id`.

**Sensitive identifiers** (CPF, SSN, document numbers…) are stored encrypted and never \
returned whole: responses carry `last4` only.";

/// The document, built once.
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(build)
}

/// The document as pretty JSON, rendered once (with `refine`'s additions).
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut doc = serde_json::to_value(document()).unwrap_or_default();
        refine(&mut doc);
        serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
    })
}

/// Where a created resource's id goes next: (creating operation, success
/// status, target operation, parameter → runtime expression). Clients and
/// tools (schemathesis' stateful phase) follow them as OpenAPI links.
type Link = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

const LINKS: &[Link] = &[
    (
        "createCustomer",
        "201",
        &[
            "retrieveCustomer",
            "updateCustomer",
            "deleteCustomer",
            "retrieveExplanation",
            "startVerification",
            "retrieveVerification",
            "activateCustomer",
            "deactivateCustomer",
            "reactivateCustomer",
            "uploadDocument",
            "listDocuments",
            "requestProductAccess",
            "listProductAccess",
            "retrieveCapabilities",
            "forceVerificationOutcome",
            "decideScreeningMatch",
        ],
        &[("id", "$response.body#/id")],
    ),
    (
        "uploadDocument",
        "201",
        &["retrieveDocument", "downloadDocumentContent"],
        &[("id", "$request.path.id"), ("doc_id", "$response.body#/id")],
    ),
    (
        "uploadDocument",
        "201",
        &["reviewDocument"],
        &[("doc_id", "$response.body#/id")],
    ),
    (
        "requestProductAccess",
        "201",
        &["retrieveProductAccess"],
        &[("id", "$request.path.id"), ("pa_id", "$response.body#/id")],
    ),
    (
        "requestProductAccess",
        "201",
        &["decideProductAccess"],
        &[("id", "$response.body#/id")],
    ),
    (
        "createWebhookEndpoint",
        "201",
        &[
            "retrieveWebhookEndpoint",
            "updateWebhookEndpoint",
            "deleteWebhookEndpoint",
            "rotateWebhookEndpointSecret",
        ],
        &[("id", "$response.body#/id")],
    ),
];

/// Adds `LINKS` to the success responses of the creating operations.
fn add_links(doc: &mut serde_json::Value) {
    for (from, status, targets, params) in LINKS {
        let Some(op) = OPERATIONS.iter().find(|o| o.id == *from) else {
            continue;
        };
        let method = op.method.as_str().to_ascii_lowercase();
        let response = &mut doc["paths"][op.path][&method]["responses"][*status];
        for target in *targets {
            let parameters: serde_json::Map<String, serde_json::Value> = params
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect();
            response["links"][*target] =
                serde_json::json!({"operationId": target, "parameters": parameters});
        }
    }
}

/// Rules across fields of one body, which a derive cannot state: JSON Schema
/// keywords added to the derived component schemas; and the links between
/// operations.
fn refine(doc: &mut serde_json::Value) {
    use serde_json::json;
    add_links(doc);
    let schemas = &mut doc["components"]["schemas"];
    // An individual has no business details and a business no individual ones.
    schemas["CustomerCreate"]["oneOf"] = json!([
        {"properties": {"type": {"const": "individual"}, "business": {"type": "null"}}},
        {"properties": {"type": {"const": "business"}, "individual": {"type": "null"}}}
    ]);
    // A batch item's result holds the customer (201) or the error (4xx),
    // never both: two closed objects.
    let result = schemas["CustomerBatchResult"].clone();
    let props = &result["properties"];
    let mut created_status = props["status"].clone();
    created_status["enum"] = json!([201]);
    let mut failed_status = props["status"].clone();
    failed_status["minimum"] = json!(400);
    failed_status["example"] = json!(400);
    schemas["CustomerBatchResult"] = json!({
        "description": result["description"],
        "oneOf": [
            {"type": "object", "required": ["status", "customer"], "additionalProperties": false,
             "properties": {"status": created_status, "customer": props["customer"]}},
            {"type": "object", "required": ["status", "error"], "additionalProperties": false,
             "properties": {"status": failed_status, "error": props["error"]}}
        ]
    });
    // The base64 decodes to the declared kind of file.
    schemas["DocumentUpload"]["oneOf"] = crate::api::documents::upload_content_rules();
    // A reviewer's code only with a rejection.
    schemas["DecideProductAccessRequest"]["oneOf"] = json!([
        {"properties": {"status": {"const": "granted"}, "rejection_reason": {"type": "null"}}},
        {"properties": {"status": {"const": "rejected"}}}
    ]);
    // In the settings PATCH, `null` resets a field the settings may omit.
    let settings_required = schemas["Settings"]["required"].clone();
    if let Some(props) = schemas["SettingsUpdate"]["properties"].as_object_mut() {
        for (name, prop) in props.iter_mut() {
            let omittable = !settings_required
                .as_array()
                .is_some_and(|r| r.iter().any(|n| n == name.as_str()));
            if omittable && let Some(t) = prop["type"].as_str().map(str::to_string) {
                prop["type"] = json!([t, "null"]);
            }
        }
    }
    // A document's rejection reason only with a rejection.
    schemas["ReviewDocumentRequest"]["oneOf"] = json!([
        {"properties": {"status": {"const": "accepted"}, "reason": {"type": "null"}}},
        {"properties": {"status": {"const": "rejected"}}}
    ]);
    // Give days, seconds or both: a positive amount.
    schemas["AdvanceClockRequest"]["anyOf"] = json!([
        {"required": ["days"], "properties": {"days": {"type": "integer", "minimum": 1}}},
        {"required": ["seconds"], "properties": {"seconds": {"type": "integer", "minimum": 1}}}
    ]);
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> impl IntoResponse {
    (
        [
            ("content-type", "application/json"),
            ("cache-control", "no-cache"),
            ("access-control-allow-origin", "*"),
        ],
        document_json(),
    )
}

/// Builds the document from the operation table and the component schemas.
pub fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for op in OPERATIONS {
        paths = paths.path(
            op.path,
            PathItem::new(http_method(op.method), operation(op)),
        );
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("kycd")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name("Apache-2.0")
                        .identifier(Some("Apache-2.0"))
                        .build(),
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url("/")
            .description(Some("This kycd server"))
            .build()]))
        .paths(paths.build())
        .components(Some(components()))
        .security(Some([SecurityRequirement::new(
            SECURITY,
            Vec::<String>::new(),
        )]))
        .tags(Some(TAGS.iter().map(|(name, description)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*description))
                .build()
        })))
        .build()
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Patch => HttpMethod::Patch,
        Method::Put => HttpMethod::Put,
        Method::Delete => HttpMethod::Delete,
    }
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// What the id of a path parameter looks like, from its name or the segment before it.
fn path_param_description(op: &Op, name: &str) -> String {
    let segs: Vec<&str> = op.path.split('/').collect();
    let pos = segs
        .iter()
        .position(|s| *s == format!("{{{name}}}"))
        .unwrap_or(0);
    let before = segs.get(pos.wrapping_sub(1)).copied().unwrap_or("");
    let (what, prefix) = match (name, before) {
        ("doc_id", _) | (_, "documents") => ("document", "doc_"),
        ("pa_id", _) | (_, "product_access") => ("product-access request", "pa_"),
        (_, "customers") => ("customer", "cus_"),
        (_, "events") => ("event", "evt_"),
        (_, "webhook_endpoints") => ("webhook endpoint", "we_"),
        _ => ("resource", ""),
    };
    if name == "provider" {
        return "The identity provider: `sumsub`.".into();
    }
    format!("The {what} id (`{prefix}…`).")
}

fn operation(op: &Op) -> utoipa::openapi::path::Operation {
    let mut b = OperationBuilder::new()
        .operation_id(Some(op.id))
        .tag(op.tag)
        .summary(Some(op.summary))
        .description((!op.description.is_empty()).then_some(op.description));
    let has_path_id = op.path_params().next().is_some();
    for name in op.path_params() {
        b = b.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(path_param_description(op, name)))
                .schema(Some(string())),
        );
    }
    for qp in op.query {
        let schema: RefOr<Schema> = match qp.kind {
            QueryType::String => string().into(),
            QueryType::Ref(name) => schema_ref(name),
            QueryType::Month => string()
                .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
                .examples(["2025-01"])
                .into(),
        };
        b = b.parameter(query_param(qp.name, qp.description, schema));
    }
    if op.paginated {
        let limit = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(100))
            .default(Some(20.into()));
        b = b
            .parameter(query_param(
                "limit",
                "How many items (1–100).",
                limit.into(),
            ))
            .parameter(query_param(
                "starting_after",
                "A cursor: the id of the last item of the previous page.",
                match op.cursor_prefix {
                    None => string().into(),
                    Some(prefix) => string()
                        .pattern(Some(format!("^{prefix}_[A-Za-z0-9]+$")))
                        .max_length(Some(64))
                        .into(),
                },
            ));
    }
    if op.method == Method::Post {
        b = b.parameter(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes the POST safe to retry: the first response is stored for 24 h and replayed.",
                ))
                .schema(Some(string().min_length(Some(1)).max_length(Some(255)))),
        );
    }
    b = b.request_body(match op.body {
        Body::None => None,
        Body::Json { schema, required } => Some(
            RequestBodyBuilder::new()
                .required(Some(if required {
                    Required::True
                } else {
                    Required::False
                }))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref(schema)))
                        .build(),
                )
                .build(),
        ),
        Body::JsonOrMultipart { json, form } => Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(schema_ref(json))).build(),
                )
                .content(
                    "multipart/form-data",
                    ContentBuilder::new().schema(Some(schema_ref(form))).build(),
                )
                .build(),
        ),
    });
    let mut responses =
        ResponsesBuilder::new().response(op.status.to_string(), success(op, op.status));
    if op.also != 0 {
        responses = responses.response(op.also.to_string(), success(op, op.also));
    }
    let has_input = op.body != Body::None || !op.query.is_empty() || op.paginated;
    let mut errors: Vec<&str> = vec![];
    if has_input || op.method == Method::Post {
        errors.push("400");
    }
    errors.push("401");
    if op.extra.contains(&Extra::Forbidden) {
        errors.push("403");
    }
    if has_path_id || op.extra.contains(&Extra::NotFound) {
        errors.push("404");
    }
    if op.method == Method::Post || op.extra.contains(&Extra::Conflict) {
        errors.push("409");
    }
    if op.body != Body::None || op.method == Method::Post {
        errors.push("408");
        errors.push("413");
        errors.push("415");
    }
    if op.method == Method::Post {
        errors.push("422");
    }
    errors.push("429");
    errors.push("500");
    if op.extra.contains(&Extra::BadGateway) {
        errors.push("502");
    }
    errors.push("503");
    for code in errors {
        responses = responses.response(code, RefOr::Ref(Ref::from_response_name(code_name(code))));
    }
    b.responses(responses.build()).build()
}

fn query_param(name: &str, description: &str, schema: RefOr<Schema>) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
}

fn request_id_header() -> Header {
    HeaderBuilder::new()
        .schema(string().examples(["req_01j9z8k3m4n5p6q7r8s9t0v1w2"]))
        .description(Some("The request id (also in error bodies)."))
        .build()
}

fn success(op: &Op, status: u16) -> Response {
    let description = match status {
        201 => "Created.",
        202 => "Accepted.",
        _ => "OK.",
    };
    let b = ResponseBuilder::new()
        .description(description)
        .header("X-Request-Id", request_id_header());
    match op.reply {
        Reply::Json(schema) => b.content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(schema_ref(schema)))
                .build(),
        ),
        Reply::File => {
            let file: Schema = string()
                .content_media_type("application/octet-stream")
                .build()
                .into();
            ["image/jpeg", "image/png", "application/pdf"]
                .into_iter()
                .fold(b, |b, mime| {
                    b.content(
                        mime,
                        ContentBuilder::new().schema(Some(file.clone())).build(),
                    )
                })
        }
    }
    .build()
}

/// The component response names of the error statuses.
fn code_name(code: &str) -> &'static str {
    ERROR_RESPONSES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, name, _)| *name)
        .unwrap_or("InternalError")
}

const ERROR_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "`invalid_request` (malformed JSON, unknown field, wrong type) or `invalid_field` with `param` naming the field.",
    ),
    (
        "401",
        "Unauthorized",
        "`invalid_api_key`: the key is missing, malformed or unknown.",
    ),
    (
        "403",
        "Forbidden",
        "`requirements_not_met` (one entry in `reasons` per missing item) or `missing_capability` (the message names the step to complete).",
    ),
    (
        "404",
        "NotFound",
        "`resource_not_found`: no such resource in this organization and environment.",
    ),
    (
        "409",
        "Conflict",
        "`idempotency_key_in_use` (a retry while the first request is still running), `customer_locked`, `invalid_transition`, `external_id_taken`, `retention_required` or `concurrent_update`.",
    ),
    (
        "408",
        "RequestTimeout",
        "`request_timeout`: the request declared a body and did not send it in time.",
    ),
    (
        "413",
        "PayloadTooLarge",
        "`payload_too_large`: the body is over the size limit.",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "`unsupported_media_type`: the body is neither JSON nor (document upload only) `multipart/form-data`.",
    ),
    (
        "422",
        "UnprocessableEntity",
        "`idempotency_key_reused`: the same `Idempotency-Key` was used with a different request.",
    ),
    (
        "429",
        "TooManyRequests",
        "`rate_limited`: over the API key's rate limit (or the address's, for failed authentication); retry after `Retry-After` seconds. `RateLimit-Policy` and `RateLimit` describe the limit.",
    ),
    (
        "500",
        "InternalError",
        "`internal_error`: something went wrong on kycd's side; the body never contains internals.",
    ),
    (
        "502",
        "BadGateway",
        "`provider_unavailable`: the identity provider (Sumsub) did not answer or refused the call after retries; nothing was changed.",
    ),
    (
        "503",
        "ServiceUnavailable",
        "`service_unavailable`: the database is unreachable, the request took too long or the server is at its connection cap; retry after `Retry-After` seconds.",
    ),
];

/// Adds `T` and every schema it references.
fn add<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

fn components() -> Components {
    use crate::api;
    use resources::*;
    use schemas::*;
    let mut s = vec![];
    add::<Error>(&mut s);
    // The types handlers really parse and return.
    add::<crate::wire::CustomerResponse>(&mut s);
    add::<crate::wire::CustomerVerificationResponse>(&mut s);
    add::<kycd_core::input::CustomerInput>(&mut s);
    add::<api::customers::BatchBody>(&mut s);
    add::<crate::wire::CustomerBatchResponse>(&mut s);
    add::<kycd_core::input::CustomerPatch>(&mut s);
    add::<kycd_core::input::VerificationRequest>(&mut s);
    add::<kycd_core::status::CustomerStatus>(&mut s);
    add::<kycd_core::policy::Product>(&mut s);
    add::<kycd_core::customer::CustomerType>(&mut s);
    add::<kycd_core::customer::Level>(&mut s);
    add::<kycd_core::customer::Mode>(&mut s);
    add::<api::customers::DeactivateBody>(&mut s);
    add::<api::test_helpers::ForceBody>(&mut s);
    add::<api::test_helpers::AdvanceBody>(&mut s);
    add::<api::test_helpers::ProductAccessBody>(&mut s);
    add::<api::test_helpers::documents::ReviewBody>(&mut s);
    add::<api::test_helpers::screening::Body>(&mut s);
    add::<api::documents::DocumentUpload>(&mut s);
    add::<api::documents::DocumentUploadForm>(&mut s);
    add::<api::products::RequestBody>(&mut s);
    add::<api::products::CheckBody>(&mut s);
    add::<api::webhook_endpoints::CreateBody>(&mut s);
    add::<api::webhook_endpoints::UpdateBody>(&mut s);
    add::<api::events::RedeliverBody>(&mut s);
    add::<api::screening::SearchBody>(&mut s);
    add::<api::screening::CompareBody>(&mut s);
    // kycd-core's settings, with what the handler adds, and as a merge patch.
    add::<Settings>(&mut s);
    add::<SettingsUpdate>(&mut s);
    // Responses the handlers assemble.
    add::<CustomerList>(&mut s);
    add::<DeletedCustomer>(&mut s);
    add::<Explanation>(&mut s);
    add::<RequirementList>(&mut s);
    add::<RejectionReasonList>(&mut s);
    add::<Usage>(&mut s);
    add::<EventList>(&mut s);
    add::<TestClock>(&mut s);
    add::<DocumentList>(&mut s);
    add::<ProductAccessList>(&mut s);
    add::<Capabilities>(&mut s);
    add::<CapabilityCheck>(&mut s);
    add::<WebhookEndpointList>(&mut s);
    add::<DeletedWebhookEndpoint>(&mut s);
    add::<ProviderList>(&mut s);
    add::<ProviderConfiguration>(&mut s);
    add::<DeletedProvider>(&mut s);
    add::<DeliveryAttemptList>(&mut s);
    add::<Redelivery>(&mut s);
    add::<ScreeningSearchResult>(&mut s);
    add::<ScreeningComparison>(&mut s);
    add::<ScreeningListList>(&mut s);
    for name in ["DocumentType", "DocumentSide", "DocumentContentType"] {
        s.push((name.to_string(), enums::by_name(name)));
    }
    let schemas: BTreeMap<String, RefOr<Schema>> = s.into_iter().collect();
    let mut b = ComponentsBuilder::new().schemas_from_iter(schemas);
    for (_, name, description) in ERROR_RESPONSES {
        b = b.response(
            *name,
            ResponseBuilder::new()
                .description(*description)
                .header("X-Request-Id", request_id_header())
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref("Error")))
                        .build(),
                )
                .build(),
        );
    }
    b.security_scheme(
        SECURITY,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("sk_test_… or sk_live_…")
                .description(Some("An API key of one organization and environment."))
                .build(),
        ),
    )
    .build()
}

#[cfg(test)]
mod tests;

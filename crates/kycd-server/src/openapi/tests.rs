//! Unit checks of the document's internal consistency.

use super::*;
use serde_json::Value;

fn doc() -> Value {
    serde_json::from_str(document_json()).expect("the document is JSON")
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let d = doc();
    let mut all = vec![];
    refs(&d, &mut all);
    assert!(all.len() > 50, "the document uses references");
    for r in all {
        let ptr = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(d.pointer(ptr).is_some(), "dangling $ref {r}");
    }
}

#[test]
fn operation_ids_and_routes_are_unique() {
    let mut ids = std::collections::HashSet::new();
    let mut routes = std::collections::HashSet::new();
    for op in OPERATIONS {
        assert!(ids.insert(op.id), "duplicate operationId {}", op.id);
        assert!(
            routes.insert((op.method, op.path)),
            "duplicate {} {}",
            op.method.as_str(),
            op.path
        );
        assert!(op.path.starts_with("/v1/"), "{} is under /v1", op.path);
        assert!(!op.summary.is_empty(), "{} has a summary", op.id);
        assert!(
            TAGS.iter().any(|(t, _)| *t == op.tag),
            "{} has a known tag",
            op.id
        );
    }
    let d = doc();
    let n: usize = d["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |m| m.len()))
        .sum();
    assert_eq!(
        n,
        OPERATIONS.len(),
        "every operation of the table is in the document"
    );
}

#[test]
fn posts_take_an_idempotency_key_and_everything_needs_the_key() {
    let d = doc();
    assert_eq!(d["openapi"], "3.1.0");
    assert_eq!(d["security"][0]["bearerAuth"], serde_json::json!([]));
    for op in OPERATIONS {
        let o = &d["paths"][op.path][op.method.as_str().to_ascii_lowercase()];
        let params = o["parameters"].as_array().cloned().unwrap_or_default();
        let has_key = params
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
        assert_eq!(has_key, op.method == Method::Post, "{}", op.id);
        assert!(o["responses"]["401"].is_object(), "{} documents 401", op.id);
        for name in op.path_params() {
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path"),
                "{} declares {name}",
                op.id
            );
        }
    }
}

#[test]
fn enums_come_from_the_domain() {
    let d = doc();
    // The contract's lists (API.md), written out: not recomputed from the
    // code that generates the document.
    assert_eq!(
        d["components"]["schemas"]["CustomerStatus"]["enum"],
        serde_json::json!([
            "not_started",
            "pending",
            "needs_information",
            "on_hold",
            "verified",
            "active",
            "update_requested",
            "rejected",
            "expired",
            "deactivated"
        ])
    );
    assert_eq!(
        d["components"]["schemas"]["RejectionReason"]["enum"],
        serde_json::json!([
            "document_unreadable",
            "document_expired",
            "liveness_failed",
            "data_mismatch",
            "duplicate_customer",
            "underage",
            "unsupported_country",
            "pep_match",
            "sanctions_match",
            "fraud_suspected"
        ])
    );
}

#[test]
fn component_schemas_are_derived_from_the_types_handlers_use() {
    let d = doc();
    let s = &d["components"]["schemas"];
    let derived = |schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
        serde_json::to_value(schema).expect("schema JSON")
    };
    use utoipa::PartialSchema;
    assert_eq!(
        s["Customer"],
        derived(crate::wire::CustomerResponse::schema())
    );
    assert_eq!(
        s["CustomerUpdate"],
        derived(kycd_core::input::CustomerPatch::schema())
    );
    // `refine` only adds keywords to the derived schema.
    let create = derived(kycd_core::input::CustomerInput::schema());
    for (k, v) in create.as_object().expect("an object schema") {
        assert_eq!(&s["CustomerCreate"][k], v, "CustomerCreate.{k}");
    }
    assert!(s["CustomerCreate"]["oneOf"].is_array());
    // Validation vocabularies are the domain's own lists.
    let identifier_types = &s["IdentifierInput"]["properties"]["type"]["enum"];
    assert_eq!(
        identifier_types,
        &serde_json::json!(kycd_core::input::KNOWN_IDENTIFIERS)
    );
    for t in ["cpf", "cnpj", "passport"] {
        assert!(
            identifier_types
                .as_array()
                .unwrap()
                .contains(&Value::from(t)),
            "{t}"
        );
    }
    // ISO 3166-1 alpha-2 has 249 officially assigned codes.
    let countries = s["Country"]["enum"].as_array().expect("country enum");
    assert_eq!(countries.len(), 249);
    for (code, listed) in [
        ("BR", true),
        ("US", true),
        ("ZW", true),
        ("XX", false),
        ("UK", false),
    ] {
        assert_eq!(countries.contains(&Value::from(code)), listed, "{code}");
    }
    assert_eq!(
        s["AddressInput"]["properties"]["country"]["$ref"],
        "#/components/schemas/Country"
    );
    assert_eq!(s["CustomerCreate"]["additionalProperties"], false);
}

#[test]
fn every_operation_lists_rate_limits_and_unavailability() {
    let d = doc();
    for op in OPERATIONS {
        let o = &d["paths"][op.path][op.method.as_str().to_ascii_lowercase()];
        for code in ["401", "429", "500", "503"] {
            assert!(o["responses"][code].is_object(), "{} lists {code}", op.id);
        }
        let has_body = op.body != Body::None || op.method == Method::Post;
        for code in ["408", "413", "415"] {
            assert_eq!(
                o["responses"][code].is_object(),
                has_body,
                "{} lists {code} exactly when it takes a body or is a POST",
                op.id
            );
        }
    }
    let events = &d["paths"]["/v1/events"]["get"]["parameters"];
    let type_param = events
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "type"))
        .expect("?type");
    assert_eq!(
        type_param["schema"]["$ref"], "#/components/schemas/EventType",
        "the event type filter is the closed list the server checks"
    );
}

#[test]
fn links_name_real_operations_and_their_path_parameters() {
    let d = doc();
    let mut seen = 0;
    for op in OPERATIONS {
        let o = &d["paths"][op.path][op.method.as_str().to_ascii_lowercase()];
        for (_, response) in o["responses"].as_object().into_iter().flatten() {
            for (_, link) in response["links"].as_object().into_iter().flatten() {
                seen += 1;
                let target = OPERATIONS
                    .iter()
                    .find(|t| link["operationId"] == t.id)
                    .unwrap_or_else(|| panic!("{}: link to an unknown operation {link}", op.id));
                let params: Vec<&str> = target.path_params().collect();
                for (name, _) in link["parameters"].as_object().expect("parameters") {
                    assert!(
                        params.contains(&name.as_str()),
                        "{} → {}: {name} is a path parameter",
                        op.id,
                        target.id
                    );
                }
                assert_eq!(
                    link["parameters"].as_object().map(|m| m.len()),
                    Some(params.len()),
                    "{} → {}: every path parameter is given",
                    op.id,
                    target.id
                );
            }
        }
    }
    assert!(seen >= 20, "the creating operations link onwards ({seen})");
}

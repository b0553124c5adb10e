//! Senzing JSON lines loader (the shape OpenSanctions exports: NAMES, DATES, COUNTRIES, RISKS).

use serde_json::Value;

use super::{EntryExt, checksum, empty_entry, finish};
use crate::model::{EntityKind, Format, LoadError, LoadedList};

const COUNTRY_KEYS: &[&str] = &[
    "NATIONALITY",
    "CITIZENSHIP",
    "COUNTRY",
    "COUNTRY_OF_ASSOCIATION",
    "REGISTRATION_COUNTRY",
    "ADDR_COUNTRY",
];

/// Every object reachable from the record's top level and its arrays (Senzing puts
/// features either flat on the record or in lists such as `DATES` and `COUNTRIES`).
fn feature_objects(v: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    if let Some(obj) = v.as_object() {
        out.push(obj);
        for val in obj.values() {
            for item in val.as_array().into_iter().flatten() {
                if let Some(o) = item.as_object() {
                    out.push(o);
                }
            }
        }
    }
    out
}

fn name_of(n: &serde_json::Map<String, Value>) -> Option<String> {
    let get = |k: &str| {
        n.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
    };
    for k in ["NAME_FULL", "NAME_ORG"] {
        if !get(k).is_empty() {
            return Some(get(k).to_string());
        }
    }
    let parts: Vec<&str> = ["NAME_FIRST", "NAME_MIDDLE", "NAME_LAST"]
        .iter()
        .map(|k| get(k))
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Parses Senzing JSON lines: `RECORD_ID`, `RECORD_TYPE` (PERSON / ORGANIZATION),
/// `NAMES` (`NAME_FULL`, `NAME_ORG` or `NAME_FIRST`/`NAME_MIDDLE`/`NAME_LAST`, with
/// `NAME_TYPE` PRIMARY first), `DATE_OF_BIRTH`, nationality/citizenship/country fields and
/// `RISKS`/`TOPICS` (a topic containing `role.pep` marks a PEP). Records without a
/// record type and without risks (relationship anchors such as positions) are skipped.
pub fn parse_senzing_json(bytes: &[u8], name: &str) -> Result<LoadedList, LoadError> {
    let mut entries = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let lineno = i + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_slice(line)
            .map_err(|e| LoadError::new(name, lineno, format!("invalid JSON: {e}")))?;
        let id = match v.get("RECORD_ID") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(LoadError::new(name, lineno, "record without RECORD_ID")),
        };
        let record_type = v.get("RECORD_TYPE").and_then(Value::as_str);
        let mut topics: Vec<&str> = Vec::new();
        for key in ["RISKS", "TOPICS"] {
            for r in v.get(key).and_then(Value::as_array).into_iter().flatten() {
                match r {
                    Value::String(s) => topics.push(s),
                    Value::Object(o) => {
                        topics.extend(o.get("TOPIC").and_then(Value::as_str));
                    }
                    _ => {}
                }
            }
        }
        if record_type.is_none() && topics.is_empty() {
            continue;
        }
        let kind = match record_type.map(str::to_ascii_uppercase).as_deref() {
            Some("PERSON") => EntityKind::Person,
            Some("ORGANIZATION") | Some("COMPANY") => EntityKind::Organization,
            Some("VESSEL") => EntityKind::Vessel,
            Some("AIRCRAFT") => EntityKind::Aircraft,
            _ => EntityKind::Unknown,
        };
        let mut e = empty_entry(&id, kind);
        let names: Vec<&serde_json::Map<String, Value>> = v
            .get("NAMES")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let is_primary = |n: &serde_json::Map<String, Value>| {
            n.get("NAME_TYPE").and_then(Value::as_str) == Some("PRIMARY")
        };
        let primary_first = names
            .iter()
            .filter(|n| is_primary(n))
            .chain(names.iter().filter(|n| !is_primary(n)));
        for n in primary_first {
            if let Some(full) = name_of(n) {
                e.add_name(&full);
            }
        }
        if let Some(top) = v.as_object().and_then(name_of_flat) {
            e.add_name(&top);
        }
        if e.names.is_empty() {
            return Err(LoadError::new(
                name,
                lineno,
                format!("record {id} has no name"),
            ));
        }
        for obj in feature_objects(&v) {
            if let Some(d) = obj.get("DATE_OF_BIRTH").and_then(Value::as_str) {
                e.add_dates(d);
            }
            for k in COUNTRY_KEYS {
                if let Some(c) = obj.get(*k).and_then(Value::as_str) {
                    e.add_country(c);
                }
            }
        }
        e.pep = topics.iter().any(|t| t.contains("role.pep"));
        entries.push(e);
    }
    Ok(finish(
        name,
        Format::SenzingJson,
        entries,
        checksum(&[bytes]),
    ))
}

/// A name written flat on the record (older Senzing exports).
fn name_of_flat(obj: &serde_json::Map<String, Value>) -> Option<String> {
    if obj.contains_key("NAME_FULL")
        || obj.contains_key("NAME_ORG")
        || obj.contains_key("NAME_LAST")
    {
        name_of(obj)
    } else {
        None
    }
}

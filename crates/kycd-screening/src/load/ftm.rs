//! FollowTheMoney (OpenSanctions / yente) entity loader: one JSON object per line.

use std::collections::HashMap;

use serde_json::Value;

use super::{EntryExt, checksum, empty_entry, finish};
use crate::model::{EntityKind, Format, ListEntry, LoadError, LoadedList};

fn kind_of(schema: &str) -> Option<EntityKind> {
    Some(match schema {
        "Person" => EntityKind::Person,
        "Organization" | "Company" | "LegalEntity" | "PublicBody" => EntityKind::Organization,
        "Vessel" => EntityKind::Vessel,
        "Airplane" => EntityKind::Aircraft,
        _ => return None,
    })
}

fn strings<'a>(props: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    props
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Parses FollowTheMoney JSON lines. Entities of the schemas Person, Organization,
/// Company, LegalEntity, PublicBody, Vessel and Airplane become entries (names from
/// `name`, `alias`, `weakAlias`, `previousName`; `birthDate`; `nationality`,
/// `citizenship`, `country`; `programId`). Topics containing `role.pep` mark PEPs;
/// `Sanction` entities add their program to the entity they point at.
pub fn parse_ftm_json(bytes: &[u8], name: &str) -> Result<LoadedList, LoadError> {
    let mut entries: Vec<ListEntry> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut sanctions: Vec<(String, Vec<String>)> = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let lineno = i + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_slice(line)
            .map_err(|e| LoadError::new(name, lineno, format!("invalid JSON: {e}")))?;
        let (Some(id), Some(schema)) = (
            v.get("id").and_then(Value::as_str),
            v.get("schema").and_then(Value::as_str),
        ) else {
            return Err(LoadError::new(name, lineno, "entity without id or schema"));
        };
        let props = v.get("properties").unwrap_or(&Value::Null);
        if schema == "Sanction" {
            let programs: Vec<String> = strings(props, "programId")
                .chain(strings(props, "program").take(1))
                .take(1)
                .map(str::to_string)
                .collect();
            for target in strings(props, "entity") {
                sanctions.push((target.to_string(), programs.clone()));
            }
            continue;
        }
        let Some(kind) = kind_of(schema) else {
            continue;
        };
        let mut e = empty_entry(id, kind);
        for key in ["name", "alias", "weakAlias", "previousName"] {
            for n in strings(props, key) {
                e.add_name(n);
            }
        }
        if e.names.is_empty()
            && let Some(c) = v.get("caption").and_then(Value::as_str)
        {
            e.add_name(c);
        }
        if e.names.is_empty() {
            continue;
        }
        for d in strings(props, "birthDate") {
            e.add_dates(d);
        }
        for key in ["nationality", "citizenship", "country"] {
            for c in strings(props, key) {
                e.add_country(c);
            }
        }
        for p in strings(props, "programId") {
            e.add_program(p);
        }
        e.pep = strings(props, "topics").any(|t| t.contains("role.pep"));
        by_id.insert(id.to_string(), entries.len());
        entries.push(e);
    }
    for (target, programs) in sanctions {
        if let Some(&i) = by_id.get(&target) {
            for p in &programs {
                entries[i].add_program(p);
            }
        }
    }
    Ok(finish(name, Format::FtmJson, entries, checksum(&[bytes])))
}

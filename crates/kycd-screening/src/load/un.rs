//! UN Security Council consolidated list loader (XML, read with quick-xml).

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{EntryExt, checksum, empty_entry, finish, line_of};
use crate::model::{EntityKind, Format, ListEntry, LoadError, LoadedList};

/// The record being read: its entry, its name parts and its date-range bounds.
struct Current {
    entry: ListEntry,
    parts: [String; 4],
    dataid: String,
    from_year: String,
    to_year: String,
}

/// Parses the UN consolidated XML: `INDIVIDUALS/INDIVIDUAL` and `ENTITIES/ENTITY` with
/// `FIRST_NAME`..`FOURTH_NAME`, aliases, original-script names, dates of birth,
/// nationalities, address countries, `UN_LIST_TYPE` (program) and `REFERENCE_NUMBER` (id).
pub fn parse_un_xml(bytes: &[u8], name: &str) -> Result<LoadedList, LoadError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut cur: Option<Current> = None;
    let mut entries = Vec::new();
    let err = |pos: u64, msg: String| LoadError::new(name, line_of(bytes, pos as usize), msg);
    loop {
        let ev = reader.read_event();
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => return Err(err(reader.error_position(), e.to_string())),
        };
        match ev {
            Event::Start(s) => {
                let tag = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                if tag == "INDIVIDUAL" || tag == "ENTITY" {
                    let kind = if tag == "INDIVIDUAL" {
                        EntityKind::Person
                    } else {
                        EntityKind::Organization
                    };
                    cur = Some(Current {
                        entry: empty_entry("", kind),
                        parts: Default::default(),
                        dataid: String::new(),
                        from_year: String::new(),
                        to_year: String::new(),
                    });
                }
                stack.push(tag);
                text.clear();
            }
            Event::Text(t) => {
                let t = t
                    .unescape()
                    .map_err(|e| err(reader.buffer_position(), e.to_string()))?;
                text.push_str(&t);
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::End(_) => {
                let Some(tag) = stack.pop() else {
                    return Err(err(reader.buffer_position(), "unbalanced end tag".into()));
                };
                if let Some(c) = cur.as_mut() {
                    let parent = stack.last().map(String::as_str).unwrap_or("");
                    field(c, &tag, parent, text.trim());
                }
                if (tag == "INDIVIDUAL" || tag == "ENTITY")
                    && let Some(c) = cur.take()
                {
                    entries.push(finish_entry(c).map_err(|m| err(reader.buffer_position(), m))?);
                }
                text.clear();
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(err(
                        bytes.len() as u64,
                        format!("unexpected end of file inside <{open}> (truncated file?)"),
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    if entries.is_empty() && !bytes.is_empty() && !contains(bytes, b"CONSOLIDATED_LIST") {
        return Err(LoadError::new(
            name,
            1,
            "not a UN consolidated list (no CONSOLIDATED_LIST element)",
        ));
    }
    Ok(finish(name, Format::UnXml, entries, checksum(&[bytes])))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn field(c: &mut Current, tag: &str, parent: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    match (parent, tag) {
        ("INDIVIDUAL" | "ENTITY", "FIRST_NAME") => c.parts[0] = value.to_string(),
        ("INDIVIDUAL" | "ENTITY", "SECOND_NAME") => c.parts[1] = value.to_string(),
        ("INDIVIDUAL" | "ENTITY", "THIRD_NAME") => c.parts[2] = value.to_string(),
        ("INDIVIDUAL" | "ENTITY", "FOURTH_NAME") => c.parts[3] = value.to_string(),
        ("INDIVIDUAL" | "ENTITY", "REFERENCE_NUMBER") => c.entry.id = value.to_string(),
        ("INDIVIDUAL" | "ENTITY", "DATAID") => c.dataid = value.to_string(),
        ("INDIVIDUAL" | "ENTITY", "UN_LIST_TYPE") => c.entry.add_program(value),
        ("INDIVIDUAL_ALIAS" | "ENTITY_ALIAS", "ALIAS_NAME") => {
            c.entry.names.push(value.to_string())
        }
        ("INDIVIDUAL" | "ENTITY", "NAME_ORIGINAL_SCRIPT") => c.entry.names.push(value.to_string()),
        ("INDIVIDUAL_DATE_OF_BIRTH", "DATE" | "YEAR") => c.entry.add_dates(value),
        ("INDIVIDUAL_DATE_OF_BIRTH", "FROM_YEAR") => c.from_year = value.to_string(),
        ("INDIVIDUAL_DATE_OF_BIRTH", "TO_YEAR") => c.to_year = value.to_string(),
        ("NATIONALITY", "VALUE") if !value.eq_ignore_ascii_case("na") => c.entry.add_country(value),
        ("INDIVIDUAL_ADDRESS" | "ENTITY_ADDRESS", "COUNTRY") => c.entry.add_country(value),
        _ => {}
    }
}

fn finish_entry(mut c: Current) -> Result<ListEntry, String> {
    if c.entry.id.is_empty() {
        c.entry.id = std::mem::take(&mut c.dataid);
    }
    if c.entry.id.is_empty() {
        return Err("record without REFERENCE_NUMBER or DATAID".into());
    }
    if !c.from_year.is_empty() && !c.to_year.is_empty() {
        let range = format!("{} to {}", c.from_year, c.to_year);
        c.entry.add_dates(&range);
    }
    let primary = c
        .parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let aliases = std::mem::take(&mut c.entry.names);
    c.entry.add_name(&primary);
    for a in &aliases {
        c.entry.add_name(a);
    }
    if c.entry.names.is_empty() {
        return Err(format!("record {} has no name", c.entry.id));
    }
    Ok(c.entry)
}

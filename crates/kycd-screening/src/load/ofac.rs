//! OFAC SDN CSV loader (`sdn.csv`, optionally merged with `alt.csv` and `add.csv`).

use std::collections::HashMap;

use super::{EntryExt, LineCounter, checksum, empty_entry, finish};
use crate::model::{EntityKind, Format, ListEntry, LoadError, LoadedList};

const SDN_FIELDS: usize = 12;
const ALT_FIELDS: usize = 5;
const ADD_FIELDS: usize = 6;

/// Parses an OFAC `sdn.csv` (no header, `-0-` for empty, CRLF, a trailing 0x1A byte),
/// merging the aliases of `alt.csv` and the address countries of `add.csv` when given.
/// Errors name the file as `name` (for sdn.csv), `alt.csv` or `add.csv`.
pub fn parse_ofac_csv(
    sdn: &[u8],
    alt: Option<&[u8]>,
    add: Option<&[u8]>,
    name: &str,
) -> Result<LoadedList, LoadError> {
    let mut entries: Vec<ListEntry> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for_each_record(sdn, name, SDN_FIELDS, |line, f| {
        let id = f[0].clone();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid ent_num {id:?}"));
        }
        if f[1].is_empty() {
            return Err("empty SDN name".to_string());
        }
        let kind = match f[2].to_ascii_lowercase().as_str() {
            "individual" => EntityKind::Person,
            "vessel" => EntityKind::Vessel,
            "aircraft" => EntityKind::Aircraft,
            "" => EntityKind::Organization,
            other => return Err(format!("unknown SDN type {other:?}")),
        };
        let mut e = empty_entry(&id, kind);
        e.add_name(&f[1]);
        for p in f[3].split("] [") {
            e.add_program(p.trim_matches(|c| c == '[' || c == ']' || c == ' '));
        }
        if kind == EntityKind::Vessel {
            e.add_country(&f[9]);
        }
        parse_remarks(&mut e, &f[11]);
        if by_id.insert(id, entries.len()).is_some() {
            return Err(format!("duplicate ent_num on line {line}"));
        }
        entries.push(e);
        Ok(())
    })?;
    if let Some(alt) = alt {
        for_each_record(alt, "alt.csv", ALT_FIELDS, |_, f| {
            let Some(&i) = by_id.get(&f[0]) else {
                return Ok(()); // alias of an entry that is not in this sdn.csv
            };
            entries[i].add_name(&f[3]);
            Ok(())
        })?;
    }
    if let Some(add) = add {
        for_each_record(add, "add.csv", ADD_FIELDS, |_, f| {
            if let Some(&i) = by_id.get(&f[0]) {
                entries[i].add_country(&f[4]);
            }
            Ok(())
        })?;
    }
    let mut parts: Vec<&[u8]> = vec![sdn];
    parts.extend(alt);
    parts.extend(add);
    Ok(finish(name, Format::OfacCsv, entries, checksum(&parts)))
}

/// Runs `f(line, fields)` on every record of an OFAC CSV file, with `-0-` turned into
/// empty strings. A record with the wrong number of fields (a truncated file) is an error.
fn for_each_record(
    bytes: &[u8],
    file: &str,
    fields: usize,
    mut f: impl FnMut(usize, &[String]) -> Result<(), String>,
) -> Result<(), LoadError> {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], 0x1a | b'\r' | b'\n' | b' ' | b'\t') {
        end -= 1;
    }
    let body = &bytes[..end];
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rec = csv::ByteRecord::new();
    let mut values: Vec<String> = Vec::with_capacity(fields);
    let mut lines = LineCounter::new(body);
    loop {
        let line = lines.line_at(rdr.position().byte());
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| lines.line_at(p.byte()));
                return Err(LoadError::new(file, line, e.to_string()));
            }
        }
        let line = rec.position().map_or(line, |p| lines.line_at(p.byte()));
        if rec.len() == 1 && rec[0].iter().all(|b| b.is_ascii_whitespace() || *b == 0x1a) {
            continue;
        }
        if rec.len() != fields {
            return Err(LoadError::new(
                file,
                line,
                format!(
                    "expected {fields} fields, found {} (truncated or malformed record)",
                    rec.len()
                ),
            ));
        }
        values.clear();
        for field in rec.iter() {
            let v = String::from_utf8_lossy(field);
            let v = v.trim();
            values.push(if v == "-0-" {
                String::new()
            } else {
                v.to_string()
            });
        }
        f(line, &values).map_err(|m| LoadError::new(file, line, m))?;
    }
    Ok(())
}

/// Reads a.k.a./f.k.a./n.k.a. names, dates of birth, nationality and citizenship
/// from an SDN Remarks column.
fn parse_remarks(e: &mut ListEntry, remarks: &str) {
    if remarks.is_empty() {
        return;
    }
    for alias in quoted_aliases(remarks) {
        e.add_name(alias);
    }
    for seg in remarks.split(';') {
        let seg = seg.trim();
        let seg = seg.strip_prefix("alt. ").unwrap_or(seg);
        if let Some(d) = seg.strip_prefix("DOB ") {
            e.add_dates(d);
        } else if let Some(c) = seg
            .strip_prefix("nationality ")
            .or_else(|| seg.strip_prefix("citizenship "))
            .or_else(|| seg.strip_prefix("Nationality of Registration "))
        {
            e.add_country(c.trim_end_matches('.'));
        }
    }
}

/// The quoted names after `a.k.a.`, `f.k.a.` and `n.k.a.` in a remarks text. A quote
/// closes a name only when followed by `;`, `.`, `,`, `)` or the end of the text, so
/// names with apostrophes (`'ABD-AL-'IZ`) survive.
fn quoted_aliases(remarks: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = remarks.as_bytes();
    let mut i = 0;
    while let Some(pos) = find_marker(&remarks[i..]) {
        let mut j = i + pos + 7; // past "a.k.a. "
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() {
            break;
        }
        let q = bytes[j];
        if q != b'\'' && q != b'"' {
            i = j;
            continue;
        }
        let start = j + 1;
        let mut k = start;
        let mut end = None;
        while k < bytes.len() {
            if bytes[k] == q && k > start {
                let next = bytes.get(k + 1).copied();
                if matches!(next, None | Some(b';' | b'.' | b',' | b')')) {
                    end = Some(k);
                    break;
                }
            }
            k += 1;
        }
        let end = end.unwrap_or(bytes.len());
        out.push(remarks[start..end].trim());
        i = (end + 1).min(bytes.len());
    }
    out
}

fn find_marker(s: &str) -> Option<usize> {
    ["a.k.a. ", "f.k.a. ", "n.k.a. "]
        .iter()
        .filter_map(|m| s.find(m))
        .min()
}

#[cfg(test)]
mod tests {
    use super::quoted_aliases;

    #[test]
    fn aliases_with_apostrophes() {
        let r = "a.k.a. ''ABD-AL-'IZ'; a.k.a. \"ABU HAFS\"; f.k.a. 'ANA I'.";
        assert_eq!(quoted_aliases(r), vec!["'ABD-AL-'IZ", "ABU HAFS", "ANA I"]);
        assert_eq!(
            quoted_aliases("a.k.a. 'O'NEILL, Pat'"),
            vec!["O'NEILL, Pat"]
        );
        assert!(quoted_aliases("Linked To: X.").is_empty());
    }
}

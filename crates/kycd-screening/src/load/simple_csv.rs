//! The in-house CSV list format (see the crate docs for its columns).

use std::str::FromStr;

use super::{EntryExt, LineCounter, checksum, empty_entry, finish};
use crate::model::{EntityKind, Format, LoadError, LoadedList};

const COLUMNS: [&str; 7] = [
    "id",
    "name",
    "type",
    "aliases",
    "date_of_birth",
    "country",
    "programs",
];

/// Parses the in-house CSV: a header naming the columns `id,name,type,aliases,
/// date_of_birth,country,programs` (any order; `id` and `name` required, an optional
/// `pep` column with `true`/`false`), multi-valued cells `;`-separated.
pub fn parse_csv(bytes: &[u8], name: &str) -> Result<LoadedList, LoadError> {
    let bytes_no_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes_no_bom);
    let headers = rdr
        .headers()
        .map_err(|e| LoadError::new(name, 1, format!("invalid header: {e}")))?
        .clone();
    let col = |c: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(c))
    };
    let idx: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let pep_col = col("pep");
    let (Some(id_col), Some(name_col)) = (idx[0], idx[1]) else {
        return Err(LoadError::new(
            name,
            1,
            format!("header must name the columns {}", COLUMNS.join(",")),
        ));
    };
    let mut entries = Vec::new();
    let mut lines = LineCounter::new(bytes_no_bom);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
            LoadError::new(name, line, e.to_string())
        })?;
        let line = rec.position().map_or(0, |p| lines.line_at(p.byte()));
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim();
        let id = get(Some(id_col));
        let primary = get(Some(name_col));
        if id.is_empty() || primary.is_empty() {
            return Err(LoadError::new(name, line, "id and name must not be empty"));
        }
        let kind = EntityKind::from_str(get(idx[2])).map_err(|m| LoadError::new(name, line, m))?;
        let mut e = empty_entry(id, kind);
        e.add_name(primary);
        let multi = |i: Option<usize>| get(i).split(';').map(str::trim).filter(|s| !s.is_empty());
        for a in multi(idx[3]) {
            e.add_name(a);
        }
        for d in multi(idx[4]) {
            e.add_dates(d);
        }
        for c in multi(idx[5]) {
            e.add_country(c);
        }
        for p in multi(idx[6]) {
            e.add_program(p);
        }
        e.pep = matches!(
            get(pep_col).to_ascii_lowercase().as_str(),
            "true" | "yes" | "1"
        );
        entries.push(e);
    }
    Ok(finish(name, Format::Csv, entries, checksum(&[bytes])))
}

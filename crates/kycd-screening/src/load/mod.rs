//! List loaders: reading a file of any supported format into a [`LoadedList`], and list deltas.

mod ftm;
mod ofac;
mod senzing;
mod simple_csv;
mod un;

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::countries::country_code;
use crate::dates::parse_dates;
use crate::model::{EntityKind, Format, ListEntry, ListKind, LoadError, LoadedList};

pub use ftm::parse_ftm_json;
pub use ofac::parse_ofac_csv;
pub use senzing::parse_senzing_json;
pub use simple_csv::parse_csv;
pub use un::parse_un_xml;

/// Reads and parses the list at `path`. For [`Format::OfacCsv`], `alt.csv` and `add.csv`
/// in the same folder are merged in when present. Errors name the file and the line.
pub fn load(format: Format, path: &Path, name: &str) -> Result<LoadedList, LoadError> {
    let shown = path.display().to_string();
    let bytes = read(path)?;
    let relabel = |mut e: LoadError| {
        e.file = match e.file.as_str() {
            "alt.csv" | "add.csv" => path.with_file_name(&e.file).display().to_string(),
            _ => shown.clone(),
        };
        e
    };
    match format {
        Format::OfacCsv => {
            let alt = read_optional(&path.with_file_name("alt.csv"))?;
            let add = read_optional(&path.with_file_name("add.csv"))?;
            parse_ofac_csv(&bytes, alt.as_deref(), add.as_deref(), name).map_err(relabel)
        }
        Format::UnXml => parse_un_xml(&bytes, name).map_err(relabel),
        Format::FtmJson => parse_ftm_json(&bytes, name).map_err(relabel),
        Format::SenzingJson => parse_senzing_json(&bytes, name).map_err(relabel),
        Format::Csv => parse_csv(&bytes, name).map_err(relabel),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| LoadError::new(&path.display().to_string(), 0, e.to_string()))
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, LoadError> {
    if path.is_file() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}

/// The entries of `new` that are not in `old` (by id) or that differ from the entry with
/// the same id in `old`: what has to be re-screened after a list refresh.
pub fn changed_entries(old: &LoadedList, new: &LoadedList) -> Vec<ListEntry> {
    let before: HashMap<&str, &ListEntry> =
        old.entries.iter().map(|e| (e.id.as_str(), e)).collect();
    new.entries
        .iter()
        .filter(|e| before.get(e.id.as_str()).is_none_or(|o| *o != *e))
        .cloned()
        .collect()
}

/// sha256 (hex) over the given byte slices in order.
pub(crate) fn checksum(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Builds a [`LoadedList`], deriving the list kind from the entries.
pub(crate) fn finish(
    name: &str,
    format: Format,
    entries: Vec<ListEntry>,
    checksum: String,
) -> LoadedList {
    let kind = if !entries.is_empty() && entries.iter().all(|e| e.pep) {
        ListKind::Pep
    } else {
        ListKind::Sanctions
    };
    LoadedList {
        name: name.to_string(),
        format,
        kind,
        entries,
        checksum,
    }
}

/// 1-based line number of byte offset `pos` in `bytes`.
pub(crate) fn line_of(bytes: &[u8], pos: usize) -> usize {
    let end = pos.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Maps byte offsets of CSV records to 1-based lines, counting line breaks incrementally
/// (offsets are asked in increasing order, so a whole file costs one pass).
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// The line of a record starting at byte `pos`. The csv crate may point at the line
    /// break before a record in CRLF files, so breaks at `pos` are skipped first.
    pub fn line_at(&mut self, pos: u64) -> usize {
        let mut p = (pos as usize).min(self.bytes.len());
        while p < self.bytes.len() && matches!(self.bytes[p], b'\r' | b'\n') {
            p += 1;
        }
        if p < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.pos..p]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos = p;
        self.line
    }
}

/// Small helpers to fill a [`ListEntry`] without duplicates.
pub(crate) trait EntryExt {
    fn add_name(&mut self, name: &str);
    fn add_dates(&mut self, text: &str);
    fn add_country(&mut self, text: &str);
    fn add_program(&mut self, text: &str);
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !s.is_empty() && !v.contains(&s) {
        v.push(s);
    }
}

impl EntryExt for ListEntry {
    fn add_name(&mut self, name: &str) {
        let name = clean(name);
        if name.is_empty() {
            return;
        }
        if self.names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            return;
        }
        self.names.push(name);
    }

    fn add_dates(&mut self, text: &str) {
        for d in parse_dates(text) {
            push_unique(&mut self.dates_of_birth, d);
        }
    }

    fn add_country(&mut self, text: &str) {
        if let Some(code) = country_code(text) {
            push_unique(&mut self.countries, code.to_string());
        }
    }

    fn add_program(&mut self, text: &str) {
        push_unique(&mut self.programs, clean(text));
    }
}

/// Trims and collapses inner whitespace.
pub(crate) fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A new entry with no names yet.
pub(crate) fn empty_entry(id: &str, kind: EntityKind) -> ListEntry {
    let mut e = ListEntry::new(id, kind, "");
    e.names.clear();
    e
}

//! Data model shared by the loaders and the matcher: lists, entries, kinds, formats and errors.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of party a list entry (or a query) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Person,
    Organization,
    Vessel,
    Aircraft,
    Unknown,
}

impl EntityKind {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Organization => "organization",
            EntityKind::Vessel => "vessel",
            EntityKind::Aircraft => "aircraft",
            EntityKind::Unknown => "unknown",
        }
    }
}

impl FromStr for EntityKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "person" | "individual" | "people" => Ok(EntityKind::Person),
            "organization" | "organisation" | "company" | "entity" | "legalentity" => {
                Ok(EntityKind::Organization)
            }
            "vessel" => Ok(EntityKind::Vessel),
            "aircraft" | "airplane" => Ok(EntityKind::Aircraft),
            "unknown" | "" => Ok(EntityKind::Unknown),
            other => Err(format!("unknown entity kind {other:?}")),
        }
    }
}

/// Whether a list is a sanctions list or a list of politically exposed persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Sanctions,
    Pep,
}

/// The source formats the loaders understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// OFAC `sdn.csv` (with `alt.csv` / `add.csv` beside it when present).
    OfacCsv,
    /// UN Security Council consolidated list XML.
    UnXml,
    /// FollowTheMoney entities, one JSON object per line.
    FtmJson,
    /// Senzing JSON lines as exported by OpenSanctions.
    SenzingJson,
    /// The in-house CSV (`id,name,type,aliases,date_of_birth,country,programs`).
    Csv,
}

impl Format {
    /// The snake_case name, as accepted by [`Format::from_str`].
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OfacCsv => "ofac_csv",
            Format::UnXml => "un_xml",
            Format::FtmJson => "ftm_json",
            Format::SenzingJson => "senzing_json",
            Format::Csv => "csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "ofac_csv" | "ofac" => Ok(Format::OfacCsv),
            "un_xml" | "un" => Ok(Format::UnXml),
            "ftm_json" | "ftm" => Ok(Format::FtmJson),
            "senzing_json" | "senzing" => Ok(Format::SenzingJson),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown list format {other:?} (expected ofac_csv, un_xml, ftm_json, senzing_json or csv)"
            )),
        }
    }
}

/// One sanctioned or politically exposed party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The identifier in the source list (OFAC ent_num, UN reference number, ...).
    pub id: String,
    pub kind: EntityKind,
    /// Primary name first, aliases after (no duplicates).
    pub names: Vec<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub dates_of_birth: Vec<String>,
    /// ISO 3166-1 alpha-2 (uppercase) when the source country could be mapped.
    pub countries: Vec<String>,
    pub programs: Vec<String>,
    pub pep: bool,
}

impl ListEntry {
    /// An entry with an id, a kind and a primary name, everything else empty.
    pub fn new(id: impl Into<String>, kind: EntityKind, name: impl Into<String>) -> ListEntry {
        ListEntry {
            id: id.into(),
            kind,
            names: vec![name.into()],
            dates_of_birth: Vec::new(),
            countries: Vec::new(),
            programs: Vec::new(),
            pep: false,
        }
    }

    /// The primary name (empty when the entry has none).
    pub fn primary_name(&self) -> &str {
        self.names.first().map(String::as_str).unwrap_or("")
    }
}

/// A parsed list, as returned by the loaders.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedList {
    pub name: String,
    pub format: Format,
    /// Sanctions, or PEP when every entry is a PEP.
    pub kind: ListKind,
    pub entries: Vec<ListEntry>,
    /// sha256 (hex) of the source bytes (of every file read, in order).
    pub checksum: String,
}

/// What [`crate::Screener::lists`] reports about a loaded list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    pub name: String,
    /// `ofac_csv`, `un_xml`, `ftm_json`, `senzing_json`, `csv`, or `entries` for a
    /// screener built with [`crate::Screener::from_entries`].
    pub format: String,
    pub entries: usize,
    pub checksum: String,
}

/// A list that could not be read or parsed: which file, which line (1-based, 0 when
/// the whole file is concerned), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl LoadError {
    pub fn new(file: &str, line: usize, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

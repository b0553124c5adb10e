//! Sanctions and PEP screening for kycd: list loaders, a name normaliser and transliterator,
//! an indexed fuzzy matcher with date-of-birth and country evidence, and an evaluation and
//! benchmark harness.
//!
//! # Lists
//!
//! [`load`] reads a list file of a given [`Format`] into a [`LoadedList`]:
//!
//! | format | source |
//! |---|---|
//! | `ofac_csv` | OFAC `sdn.csv` (no header, `-0-` empties, CRLF, trailing 0x1A), merged with `alt.csv` and `add.csv` when they sit beside it. Aliases (`a.k.a.`, `f.k.a.`, `n.k.a.`), dates of birth and nationality/citizenship are read from the Remarks column. |
//! | `un_xml` | UN Security Council consolidated list XML. |
//! | `ftm_json` | FollowTheMoney entities, one JSON object per line (OpenSanctions / yente). |
//! | `senzing_json` | Senzing JSON lines as exported by OpenSanctions. |
//! | `csv` | The in-house CSV described below. |
//!
//! ## The in-house CSV format
//!
//! UTF-8, comma-separated, quoted as usual for CSV, with a header line naming the columns
//! (any order, names case-insensitive):
//!
//! ```text
//! id,name,type,aliases,date_of_birth,country,programs
//! X-1,"DOE, John",person,Johnny Doe;J. Doe,1970-01-31,US,SDGT;CYBER2
//! X-2,Acme Trading LLC,organization,,,"Iran",IRAN
//! ```
//!
//! - `id` (required): unique within the list.
//! - `name` (required): primary name; `LAST, First` is understood.
//! - `type`: `person` or `organization` (also `vessel`, `aircraft`); empty means unknown.
//! - `aliases`: `;`-separated other names.
//! - `date_of_birth`: `;`-separated dates, `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
//! - `country`: `;`-separated alpha-2 codes or English country names.
//! - `programs`: `;`-separated sanction programs.
//! - `pep` (optional column): `true` marks a politically exposed person.
//!
//! # Matching
//!
//! [`Screener::search`] normalises the query name (transliteration of Cyrillic, Greek,
//! Arabic, Chinese, Korean and other scripts, accents, punctuation, `LAST, First`,
//! honorifics, company forms), selects candidate names through an inverted index (exact
//! tokens, glued neighbours, single-deletion variants, consonant skeletons), scores them
//! with an IDF-weighted token alignment built on Jaro-Winkler (initials, nicknames, missing
//! middle names, glued words and reordered tokens are handled), then moves the score with
//! the evidence of date of birth, country and kind ([`evidence`]).
//!
//! [`DEFAULT_THRESHOLD`] is 0.80: an exact or near-exact name with no contradicting
//! evidence scores well above it, a missing middle name or a spelling variant stays above
//! it, while one matching name part out of two, or an exact name whose year of birth is
//! more than a year off, falls below it.

pub mod countries;
pub mod dates;
pub mod eval;
pub mod evidence;
mod load;
mod matcher;
mod model;
pub mod normalize;
mod screener;

pub use load::{
    changed_entries, load, parse_csv, parse_ftm_json, parse_ofac_csv, parse_senzing_json,
    parse_un_xml,
};
pub use matcher::jaro_winkler;
pub use model::{EntityKind, Format, ListEntry, ListInfo, ListKind, LoadError, LoadedList};
pub use screener::{DEFAULT_LIMIT, DEFAULT_THRESHOLD, Explained, Match, Query, Screener};

//! The screener: built once from loaded lists, searched concurrently by name with date of
//! birth, country and kind as supporting evidence.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::countries::country_code;
use crate::dates::{PartialDate, parse_one};
use crate::evidence;
use crate::matcher::index::Index;
use crate::matcher::score::{Tok, name_score};
use crate::model::{EntityKind, ListEntry, ListInfo, LoadedList};
use crate::normalize::{NameContext, Token, tokenize};

/// Default alert threshold on the final score (see the crate docs for how it was chosen).
pub const DEFAULT_THRESHOLD: f64 = 0.80;
/// Default number of matches returned.
pub const DEFAULT_LIMIT: usize = 10;
/// Names fully scored per search (the best by index pre-score).
const CANDIDATES: usize = 64;
/// A name must share at least this part of the query's token weight to be scored.
const MIN_SHARE: f32 = 0.3;
/// Token weights use at least this many names as the IDF reference, so that small lists
/// (tests, delta screening) weigh tokens like a realistic list would.
const MIN_REFERENCE_NAMES: f32 = 10_000.0;

/// A screening request. When deserialised, missing fields take their defaults
/// ([`DEFAULT_THRESHOLD`], [`DEFAULT_LIMIT`], no evidence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    pub name: String,
    /// What the screened party is (`person` for customers); `None` when unknown.
    #[serde(default)]
    pub kind: Option<EntityKind>,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (also `DD.MM.YYYY`, `10 Oct 1959`).
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// ISO 3166-1 alpha-2 code or English country name (nationality or residence).
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_threshold() -> f64 {
    DEFAULT_THRESHOLD
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}

impl Query {
    /// A query for `name` with the default threshold and limit and no other evidence.
    pub fn new(name: impl Into<String>) -> Query {
        Query {
            name: name.into(),
            kind: None,
            date_of_birth: None,
            country: None,
            threshold: DEFAULT_THRESHOLD,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Default for Query {
    fn default() -> Self {
        Query::new("")
    }
}

/// One list entry matching a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub list: String,
    pub entry_id: String,
    /// The entry's primary name.
    pub name: String,
    /// The entry name (primary or alias) that matched best.
    pub matched_name: String,
    pub score: f64,
    pub programs: Vec<String>,
    pub kind: EntityKind,
    pub pep: bool,
}

/// A match with the parts of its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    pub matched: Match,
    /// Name similarity before evidence, in [0, 1].
    pub name_score: f64,
    /// Date-of-birth adjustment.
    pub dob: f64,
    /// Country adjustment.
    pub country: f64,
    /// Kind adjustment (person vs organisation, vessel, aircraft).
    pub kind: f64,
}

struct ListMeta {
    info: ListInfo,
}

struct EntryRec {
    list: u16,
    entry: ListEntry,
    dobs: Vec<PartialDate>,
}

struct NameRec {
    entry: u32,
    alias: u16,
    toks: Vec<Tok>,
}

/// Screens names against loaded sanctions and PEP lists. `Send + Sync`: build it once
/// and search it from many threads.
pub struct Screener {
    lists: Vec<ListMeta>,
    entries: Vec<EntryRec>,
    names: Vec<NameRec>,
    index: Index,
    ref_names: f32,
}

impl Screener {
    /// Builds the index over every entry of every list.
    pub fn new(lists: Vec<LoadedList>) -> Screener {
        let mut s = Screener {
            lists: Vec::new(),
            entries: Vec::new(),
            names: Vec::new(),
            index: Index::default(),
            ref_names: MIN_REFERENCE_NAMES,
        };
        let mut raw: Vec<Vec<Token>> = Vec::new();
        for list in lists {
            let list_id = s.lists.len() as u16;
            s.lists.push(ListMeta {
                info: ListInfo {
                    name: list.name.clone(),
                    format: list.format.as_str().to_string(),
                    entries: list.entries.len(),
                    checksum: list.checksum.clone(),
                },
            });
            for entry in list.entries {
                s.add_entry(list_id, entry, &mut raw);
            }
        }
        s.finish(raw);
        s
    }

    /// Builds a screener over a bare set of entries (for example the entries that changed
    /// in a list refresh, see [`crate::changed_entries`]), reported as list `list_name`.
    pub fn from_entries(list_name: &str, entries: Vec<ListEntry>) -> Screener {
        let bytes = serde_json::to_vec(&entries).unwrap_or_default();
        let list = LoadedList {
            name: list_name.to_string(),
            format: crate::model::Format::Csv,
            kind: crate::model::ListKind::Sanctions,
            entries,
            checksum: crate::load::checksum(&[&bytes]),
        };
        let mut s = Screener::new(vec![list]);
        if let Some(l) = s.lists.first_mut() {
            l.info.format = "entries".to_string();
        }
        s
    }

    fn add_entry(&mut self, list: u16, entry: ListEntry, raw: &mut Vec<Vec<Token>>) {
        let entry_id = self.entries.len() as u32;
        let ctx = NameContext::for_kind(Some(entry.kind));
        let mut seen: HashSet<String> = HashSet::new();
        for (alias, name) in entry.names.iter().enumerate().take(u16::MAX as usize) {
            let toks = tokenize(name, ctx);
            if toks.is_empty() {
                continue;
            }
            let mut sig: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
            sig.sort_unstable();
            if !seen.insert(sig.join(" ")) {
                continue; // same tokens as another name of this entry
            }
            self.names.push(NameRec {
                entry: entry_id,
                alias: alias as u16,
                toks: Vec::new(),
            });
            raw.push(toks);
        }
        let dobs = entry
            .dates_of_birth
            .iter()
            .filter_map(|d| PartialDate::parse_iso(d))
            .collect();
        self.entries.push(EntryRec { list, entry, dobs });
    }

    fn finish(&mut self, raw: Vec<Vec<Token>>) {
        let as_toks =
            |toks: &[Token]| -> Vec<Tok> { toks.iter().map(|t| to_tok(t, 0.0)).collect() };
        for (id, toks) in raw.iter().enumerate() {
            self.index.add(id as u32, &as_toks(toks));
        }
        self.index.shrink();
        self.ref_names = (self.names.len() as f32).max(MIN_REFERENCE_NAMES);
        for (rec, toks) in self.names.iter_mut().zip(&raw) {
            rec.toks = toks
                .iter()
                .map(|t| to_tok(t, weight(&self.index, self.ref_names, t.text.as_bytes())))
                .collect();
        }
        let totals = self
            .names
            .iter()
            .map(|n| n.toks.iter().map(|t| t.weight).sum())
            .collect();
        self.index.set_name_weights(totals);
    }

    /// The lists this screener was built from.
    pub fn lists(&self) -> Vec<ListInfo> {
        self.lists.iter().map(|l| l.info.clone()).collect()
    }

    /// Number of entries over all lists.
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    /// Number of indexed names (primary names and aliases) over all lists.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// The entry `id` of list `list` (a linear scan: for reports, not for hot paths).
    pub fn entry(&self, list: &str, id: &str) -> Option<&ListEntry> {
        self.entries
            .iter()
            .find(|e| e.entry.id == id && self.lists[e.list as usize].info.name == list)
            .map(|e| &e.entry)
    }

    /// Matches sorted by score (highest first), at most `q.limit`, each at least
    /// `q.threshold`. Empty or unusable names give an empty result.
    pub fn search(&self, q: &Query) -> Vec<Match> {
        self.explain(q).into_iter().map(|e| e.matched).collect()
    }

    /// Like [`Screener::search`], with the parts of each score: the name score and the
    /// date-of-birth, country and kind adjustments (for alert review and tuning).
    pub fn explain(&self, q: &Query) -> Vec<Explained> {
        if q.limit == 0 || self.names.is_empty() {
            return Vec::new();
        }
        let qtoks: Vec<Tok> = tokenize(&q.name, NameContext::for_kind(q.kind))
            .iter()
            .map(|t| to_tok(t, weight(&self.index, self.ref_names, t.text.as_bytes())))
            .collect();
        if qtoks.is_empty() {
            return Vec::new();
        }
        let qdob = q.date_of_birth.as_deref().and_then(parse_one);
        let qcountry = q.country.as_deref().and_then(country_code);
        let mut best: Vec<(u32, f32, u32)> = Vec::new(); // (entry, name score, name id)
        for nid in self.index.candidates(&qtoks, CANDIDATES, MIN_SHARE) {
            let rec = &self.names[nid as usize];
            let kind = self.entries[rec.entry as usize].entry.kind;
            let lenient = kind == EntityKind::Person
                || (kind == EntityKind::Unknown && q.kind == Some(EntityKind::Person));
            let s = name_score(&qtoks, &rec.toks, lenient);
            match best.iter_mut().find(|b| b.0 == rec.entry) {
                Some(b) if b.1 < s => *b = (rec.entry, s, nid),
                Some(_) => {}
                None => best.push((rec.entry, s, nid)),
            }
        }
        let mut out: Vec<Explained> = best
            .into_iter()
            .filter_map(|(eid, name_s, nid)| {
                let e = &self.entries[eid as usize];
                let name_score = name_s as f64;
                let dob = evidence::dob(qdob, &e.dobs);
                let country = evidence::country(qcountry, &e.entry.countries);
                let kind = evidence::kind(q.kind, e.entry.kind);
                let score = evidence::combine(name_score, &[dob, country, kind]);
                let score = (score * 10_000.0).round() / 10_000.0;
                (score >= q.threshold).then(|| Explained {
                    matched: self.to_match(e, nid, score),
                    name_score,
                    dob,
                    country,
                    kind,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            let (a, b) = (&a.matched, &b.matched);
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.list.cmp(&b.list))
                .then_with(|| a.entry_id.cmp(&b.entry_id))
        });
        out.truncate(q.limit);
        out
    }

    fn to_match(&self, e: &EntryRec, nid: u32, score: f64) -> Match {
        let alias = self.names[nid as usize].alias as usize;
        Match {
            list: self.lists[e.list as usize].info.name.clone(),
            entry_id: e.entry.id.clone(),
            name: e.entry.primary_name().to_string(),
            matched_name: e.entry.names.get(alias).cloned().unwrap_or_default(),
            score,
            programs: e.entry.programs.clone(),
            kind: e.entry.kind,
            pep: e.entry.pep,
        }
    }
}

fn to_tok(t: &Token, weight: f32) -> Tok {
    Tok {
        text: t.text.as_bytes().into(),
        skel: t.skel.as_bytes().into(),
        variant: t.variant.as_bytes().into(),
        weight,
        abjad: t.abjad,
        nick: t.nick,
    }
}

/// IDF weight of a token in [0.15, 1]; initials weigh 0.1.
fn weight(index: &Index, ref_names: f32, text: &[u8]) -> f32 {
    if text.len() <= 1 {
        return 0.1;
    }
    let df = index.df(text) as f32;
    let w = ((ref_names + 1.0) / (df + 1.0)).ln() / (ref_names + 1.0).ln();
    w.clamp(0.15, 1.0)
}

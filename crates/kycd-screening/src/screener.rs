//! The screener: built once from loaded lists, searched concurrently by name with date of
//! birth, country and kind as supporting evidence.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::countries::country_code;
use crate::dates::{PartialDate, parse_one};
use crate::evidence;
use crate::matcher::index::Index;
use crate::matcher::score::{Alignment, Why, align};
use crate::matcher::score::{Tok, name_score};
use crate::model::{EntityKind, ListEntry, ListInfo, LoadedList};
use crate::normalize::{LegalForm, NameContext, Normalized, Token, is_particle, normalize};

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
/// Taken off the name score when two organisation names carry legal forms of different
/// kinds (GmbH vs AG, LLC vs JSC): probably two companies of the same group or name, so an
/// otherwise exact name falls just under the default threshold (0.79).
pub const LEGAL_FORM_CONFLICT: f64 = 0.21;
/// Weight of a name particle (bin, al, van der) whatever its frequency.
const PARTICLE_WEIGHT: f32 = 0.05;

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
    /// Why: the aligned name parts and what moved the score.
    pub explanation: Explanation,
}

/// One aligned group of name parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedTokens {
    /// Normalised (transliterated) parts of the query name.
    pub query: Vec<String>,
    /// Normalised parts of the list name.
    pub candidate: Vec<String>,
    pub similarity: f64,
    /// `exact`, `initial`, `nickname`, `spelling_variant`, `phonetic`, `consonants`,
    /// `typo`, `glued`, `acronym` or `truncated`.
    pub rule: &'static str,
}

/// Why a name matched (or not): the evidence behind a score, for a reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Explanation {
    /// The query name after normalisation (transliteration, titles, legal forms removed).
    pub query_normalized: String,
    /// The list name (primary or alias) that matched best, normalised.
    pub candidate_normalized: String,
    /// Whether the best name is an alias rather than the primary name.
    pub via_alias: bool,
    /// Whether either name was transliterated from another script.
    pub transliterated: bool,
    pub aligned: Vec<AlignedTokens>,
    pub unmatched_query: Vec<String>,
    pub unmatched_candidate: Vec<String>,
    /// Matched parts appear in another order (a small penalty).
    pub reordered: bool,
    /// Legal forms of the two organisation names (comparison forms), when recognised.
    pub legal_forms: Option<(String, String)>,
    /// Taken off for legal forms of different kinds.
    pub legal_form_penalty: f64,
    /// Name similarity in [0, 1] after the legal-form penalty.
    pub name_score: f64,
    pub dob: f64,
    pub country: f64,
    pub kind: f64,
    /// One sentence summing it up.
    pub summary: String,
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
    form: Option<LegalForm>,
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
            let Normalized { tokens, form, alt } = normalize(name, ctx);
            // Both readings of a name that has two (kanji as Chinese and as Japanese).
            for toks in [tokens, alt] {
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
                    form,
                });
                raw.push(toks);
            }
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
            let org =
                self.entries[self.names[id].entry as usize].entry.kind == EntityKind::Organization;
            self.index.add(id as u32, &as_toks(toks), org);
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
        self.run(q, false).into_iter().map(|e| e.matched).collect()
    }

    /// Like [`Screener::search`], with the parts of each score: the name score and the
    /// date-of-birth, country and kind adjustments (for alert review and tuning).
    pub fn explain(&self, q: &Query) -> Vec<Explained> {
        self.run(q, true)
    }

    fn run(&self, q: &Query, explain: bool) -> Vec<Explained> {
        if q.limit == 0 || self.names.is_empty() {
            return Vec::new();
        }
        let qnorm = normalize(&q.name, NameContext::for_kind(q.kind));
        // One token list per reading of the query (two for kanji-only or ambiguous
        // Arabic-script names), each searched; an entry keeps its best.
        let readings: Vec<Vec<Tok>> = qnorm
            .readings()
            .map(|r| self.toks(r))
            .filter(|t| !t.is_empty())
            .collect();
        if readings.is_empty() {
            return Vec::new();
        }
        let qdob = q.date_of_birth.as_deref().and_then(parse_one);
        let qcountry = q.country.as_deref().and_then(country_code);
        // (entry, name score, name id, query reading)
        let mut best: Vec<(u32, f32, u32, usize)> = Vec::new();
        for (ri, qtoks) in readings.iter().enumerate() {
            for nid in self.index.candidates(qtoks, CANDIDATES, MIN_SHARE) {
                let rec = &self.names[nid as usize];
                let kind = self.entries[rec.entry as usize].entry.kind;
                let lenient = is_lenient(kind, q.kind);
                let mut s = name_score(qtoks, &rec.toks, lenient);
                if form_conflict(qnorm.form, rec.form) {
                    s = (s - LEGAL_FORM_CONFLICT as f32).max(0.0);
                }
                match best.iter_mut().find(|b| b.0 == rec.entry) {
                    Some(b) if b.1 < s => *b = (rec.entry, s, nid, ri),
                    Some(_) => {}
                    None => best.push((rec.entry, s, nid, ri)),
                }
            }
        }
        let mut out: Vec<Explained> = best
            .into_iter()
            .filter_map(|(eid, name_s, nid, ri)| {
                let e = &self.entries[eid as usize];
                let name_score = name_s as f64;
                let dob = evidence::dob(qdob, &e.dobs);
                let country = evidence::country(qcountry, &e.entry.countries);
                let kind = evidence::kind(q.kind, e.entry.kind);
                let score = evidence::combine(name_score, &[dob, country, kind]);
                let score = (score * 10_000.0).round() / 10_000.0;
                (score >= q.threshold)
                    .then_some((eid, nid, ri, name_score, dob, country, kind, score))
            })
            .map(|(eid, nid, ri, name_score, dob, country, kind, score)| {
                let e = &self.entries[eid as usize];
                if !explain {
                    return Explained {
                        matched: self.to_match(e, nid, score),
                        name_score,
                        dob,
                        country,
                        kind,
                        explanation: Explanation::default(),
                    };
                }
                let rec = &self.names[nid as usize];
                let lenient = is_lenient(e.entry.kind, q.kind);
                let qtoks = &readings[ri];
                let al = align(qtoks, &rec.toks, lenient, true);
                let mut x = explanation(
                    qtoks,
                    qnorm.form,
                    &rec.toks,
                    rec.form,
                    &al,
                    is_transliterated(&q.name)
                        || e.entry
                            .names
                            .get(rec.alias as usize)
                            .is_some_and(|n| is_transliterated(n)),
                );
                x.via_alias = rec.alias > 0;
                x.name_score = (name_score * 10_000.0).round() / 10_000.0;
                (x.dob, x.country, x.kind) = (dob, country, kind);
                x.summary = summary(&x, score);
                Explained {
                    matched: self.to_match(e, nid, score),
                    name_score,
                    dob,
                    country,
                    kind,
                    explanation: x,
                }
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

    /// Compares two names directly (`POST /v1/screening/compare`): the name score (legal
    /// forms included, no date or country evidence) and its explanation. Token weights
    /// come from this screener's lists.
    pub fn compare(&self, a: &str, b: &str, kind: Option<EntityKind>) -> (f64, Explanation) {
        compare_with(a, b, kind, |t| {
            weight(&self.index, self.ref_names, t.as_bytes())
        })
    }

    fn toks(&self, toks: &[Token]) -> Vec<Tok> {
        toks.iter()
            .map(|t| to_tok(t, weight(&self.index, self.ref_names, t.text.as_bytes())))
            .collect()
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

/// Compares two names without lists: every name part weighs the same (particles less).
pub fn compare_names(a: &str, b: &str, kind: Option<EntityKind>) -> (f64, Explanation) {
    compare_with(a, b, kind, |t| {
        if t.len() <= 1 {
            0.1
        } else if is_particle(t) {
            PARTICLE_WEIGHT
        } else {
            1.0
        }
    })
}

fn compare_with(
    a: &str,
    b: &str,
    kind: Option<EntityKind>,
    w: impl Fn(&str) -> f32,
) -> (f64, Explanation) {
    let ctx = NameContext::for_kind(kind);
    let (na, nb) = (normalize(a, ctx), normalize(b, ctx));
    let toks = |r: &[Token]| -> Vec<Tok> { r.iter().map(|t| to_tok(t, w(&t.text))).collect() };
    let lenient = kind != Some(EntityKind::Organization)
        && kind != Some(EntityKind::Vessel)
        && kind != Some(EntityKind::Aircraft);
    // The best pair of readings (a name in kanji only is read as Chinese and as Japanese).
    let mut best: Option<(Vec<Tok>, Vec<Tok>, Alignment)> = None;
    for ra in na.readings() {
        for rb in nb.readings() {
            let (ta, tb) = (toks(ra), toks(rb));
            let al = align(&ta, &tb, lenient, true);
            if best.as_ref().is_none_or(|b| al.score > b.2.score) {
                best = Some((ta, tb, al));
            }
        }
    }
    let (ta, tb, al) = best.unwrap_or_default();
    let mut x = explanation(
        &ta,
        na.form,
        &tb,
        nb.form,
        &al,
        is_transliterated(a) || is_transliterated(b),
    );
    let score = ((al.score as f64 - x.legal_form_penalty).max(0.0) * 10_000.0).round() / 10_000.0;
    x.name_score = score;
    x.summary = summary(&x, score);
    (score, x)
}

fn is_lenient(kind: EntityKind, query: Option<EntityKind>) -> bool {
    kind == EntityKind::Person || (kind == EntityKind::Unknown && query == Some(EntityKind::Person))
}

fn form_conflict(a: Option<LegalForm>, b: Option<LegalForm>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.conflicts(&b))
}

fn is_transliterated(name: &str) -> bool {
    name.chars()
        .any(|c| c.is_alphabetic() && !c.is_ascii() && !('\u{00C0}'..='\u{024F}').contains(&c))
}

fn words_of(toks: &[Tok], mask: u32) -> Vec<String> {
    toks.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, t)| String::from_utf8_lossy(&t.text).into_owned())
        .collect()
}

fn joined(toks: &[Tok]) -> String {
    words_of(toks, u32::MAX).join(" ")
}

fn explanation(
    q: &[Tok],
    qform: Option<LegalForm>,
    c: &[Tok],
    cform: Option<LegalForm>,
    al: &Alignment,
    transliterated: bool,
) -> Explanation {
    let all = |n: usize| if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
    let mut pairs = al.pairs.clone();
    pairs.sort_by_key(|e| e.q.trailing_zeros());
    Explanation {
        query_normalized: joined(q),
        candidate_normalized: joined(c),
        transliterated,
        aligned: pairs
            .iter()
            .map(|e| AlignedTokens {
                query: words_of(q, e.q),
                candidate: words_of(c, e.c),
                similarity: (e.sim as f64 * 1000.0).round() / 1000.0,
                rule: e.why.as_str(),
            })
            .collect(),
        unmatched_query: words_of(q, all(q.len()) & !al.used_q),
        unmatched_candidate: words_of(c, all(c.len()) & !al.used_c),
        reordered: al.reordered,
        legal_forms: match (qform, cform) {
            (None, None) => None,
            (a, b) => Some((
                a.map_or("", |f| f.compare).to_string(),
                b.map_or("", |f| f.compare).to_string(),
            )),
        },
        legal_form_penalty: if form_conflict(qform, cform) {
            LEGAL_FORM_CONFLICT
        } else {
            0.0
        },
        ..Explanation::default()
    }
}

fn summary(x: &Explanation, score: f64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let rules: Vec<&str> = x
        .aligned
        .iter()
        .filter(|a| a.rule != Why::Exact.as_str())
        .map(|a| a.rule)
        .collect();
    parts.push(format!(
        "{} of {} name parts aligned{}",
        x.aligned.iter().map(|a| a.query.len()).sum::<usize>(),
        x.aligned.iter().map(|a| a.query.len()).sum::<usize>() + x.unmatched_query.len(),
        if rules.is_empty() {
            " exactly".to_string()
        } else {
            format!(" ({})", rules.join(", "))
        }
    ));
    if !x.unmatched_candidate.is_empty() {
        parts.push(format!(
            "list name has also {}",
            x.unmatched_candidate.join(" ")
        ));
    }
    if x.reordered {
        parts.push("in another order".into());
    }
    if x.transliterated {
        parts.push("transliterated from another script".into());
    }
    if x.via_alias {
        parts.push("matched on an alias".into());
    }
    if x.legal_form_penalty > 0.0 {
        parts.push(format!(
            "different legal forms -{:.2}",
            x.legal_form_penalty
        ));
    }
    for (what, v) in [
        ("date of birth", x.dob),
        ("country", x.country),
        ("kind", x.kind),
    ] {
        if v != 0.0 {
            parts.push(format!("{what} {v:+.2}"));
        }
    }
    format!("{score:.2}: {}", parts.join("; "))
}

fn to_tok(t: &Token, weight: f32) -> Tok {
    Tok {
        syllabic: t.syllabic,
        country: t.country,
        trunc: t.trunc,
        text: t.text.as_bytes().into(),
        skel: t.skel.as_bytes().into(),
        variant: t.variant.as_bytes().into(),
        weight,
        abjad: t.abjad,
        nick: t.nick,
        hangul: t.hangul.as_slice().into(),
        loose: t.loose,
    }
}

/// IDF weight of a token in [0.15, 1]; initials weigh 0.1.
fn weight(index: &Index, ref_names: f32, text: &[u8]) -> f32 {
    if text.len() <= 1 {
        return 0.1;
    }
    if std::str::from_utf8(text).is_ok_and(is_particle) {
        return PARTICLE_WEIGHT;
    }
    let df = index.df(text) as f32;
    let w = ((ref_names + 1.0) / (df + 1.0)).ln() / (ref_names + 1.0).ln();
    w.clamp(0.15, 1.0)
}

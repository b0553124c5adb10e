//! The per-category evaluation set, built from the loaded lists themselves: each entry's
//! own aliases as positives (query an alias, expect the entry), perturbations per category
//! (organisations, people, scripts) as positives, and different entities made to look alike
//! (another given name, another organisation word, another legal form, one other CJK
//! character) as negatives. Precision, recall and F1 per category, per script and per
//! threshold.

use std::collections::BTreeMap;
use std::fmt;

use super::perturb::Lcg;
use super::{par_map, ratio};
use crate::model::{EntityKind, LoadedList};
use crate::screener::{Query, Screener};

/// Most cases generated per perturbation kind.
const PER_KIND: usize = 400;
/// Thresholds of the precision/recall curve.
pub const CURVE: [f64; 7] = [0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.95];

/// One labelled query: does `name` match entry `target` of `list`?
#[derive(Debug, Clone)]
pub struct QualityCase {
    pub category: &'static str,
    pub kind_name: &'static str,
    pub script: &'static str,
    pub query: String,
    pub entity: EntityKind,
    pub list: String,
    pub target: String,
    pub positive: bool,
}

/// The script of a name (the first letter outside ASCII decides; Latin with accents is Latin).
pub fn script_of(name: &str) -> &'static str {
    for c in name.chars().filter(|c| c.is_alphabetic() && !c.is_ascii()) {
        return match c as u32 {
            0x00C0..=0x024F | 0x1E00..=0x1EFF => continue,
            0x0370..=0x03FF | 0x1F00..=0x1FFF => "greek",
            0x0400..=0x04FF => "cyrillic",
            0x0590..=0x05FF => "hebrew",
            0x0600..=0x06FF | 0x0750..=0x077F => "arabic",
            0x0980..=0x09FF => "bengali",
            0x1780..=0x17FF => "khmer",
            0x3040..=0x30FF => "japanese",
            0x3400..=0x4DBF | 0x4E00..=0x9FFF => "chinese",
            0xAC00..=0xD7A3 => "korean",
            _ => "other",
        };
    }
    "latin"
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Written-out and abbreviated legal forms (invented pairs of well-known forms).
const FORM_PAIRS: &[(&str, &str)] = &[
    ("LLC", "Limited Liability Company"),
    ("JSC", "Joint Stock Company"),
    ("AG", "Aktiengesellschaft"),
    ("LTD", "Limited"),
    ("LTD.", "Limited"),
    ("LIMITED", "Ltd"),
    ("CO.", "Company"),
    ("COMPANY", "Co."),
    ("GMBH", "Gesellschaft mit beschränkter Haftung"),
    ("INC.", "Incorporated"),
    ("CORPORATION", "Corp."),
    ("S.A.", "Sociedad Anónima"),
];

/// A legal form of another kind for the negatives (LLC → JSC and back).
fn other_form(w: &str) -> Option<&'static str> {
    match w.to_ascii_uppercase().trim_end_matches(['.', ',']) {
        "LLC" | "LTD" | "LIMITED" | "GMBH" => Some("JSC"),
        "JSC" | "AG" | "PJSC" | "OJSC" | "CJSC" | "PLC" => Some("LLC"),
        _ => None,
    }
}

/// Builds the evaluation set from the lists.
pub fn build_cases(lists: &[LoadedList]) -> Vec<QualityCase> {
    let mut out: Vec<QualityCase> = Vec::new();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut rng = Lcg::new(16);
    // Donor words for negatives: given names of persons, long words of organisations.
    let mut given: Vec<&str> = Vec::new();
    let mut org_words: Vec<&str> = Vec::new();
    let mut cjk: Vec<char> = Vec::new();
    let mut freq: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in lists.iter().flat_map(|l| &l.entries) {
        if e.kind == EntityKind::Organization {
            for w in words(e.primary_name()) {
                *freq.entry(w.to_ascii_lowercase()).or_default() += 1;
            }
        }
    }
    for l in lists {
        for e in &l.entries {
            let ws = words(e.primary_name());
            match e.kind {
                EntityKind::Person if ws.len() >= 2 && !e.primary_name().contains(',') => {
                    given.push(ws[0])
                }
                EntityKind::Organization => org_words.extend(ws.iter().filter(|w| {
                    w.len() >= 6
                        && w.chars().all(char::is_alphabetic)
                        && freq.get(&w.to_ascii_lowercase()).is_some_and(|&n| n <= 3)
                })),
                _ => {}
            }
            for n in &e.names {
                cjk.extend(
                    n.chars()
                        .filter(|c| matches!(script_of(&c.to_string()), "chinese" | "korean")),
                );
            }
        }
    }
    for l in lists {
        for (ei, e) in l.entries.iter().enumerate() {
            let mut push =
                |category: &'static str, kind_name: &'static str, query: String, positive: bool| {
                    let n = counts.entry(kind_name).or_default();
                    if *n >= PER_KIND
                        || query.trim().is_empty()
                        || e.names.contains(&query) && !positive
                    {
                        return;
                    }
                    *n += 1;
                    out.push(QualityCase {
                        category,
                        kind_name,
                        script: script_of(&query),
                        query,
                        entity: e.kind,
                        list: l.name.clone(),
                        target: e.id.clone(),
                        positive,
                    });
                };
            let primary = e.primary_name();
            let ws = words(primary);
            let cat = match e.kind {
                EntityKind::Person => "person",
                EntityKind::Organization => "organization",
                _ => continue,
            };
            // The list's own aliases (other spellings, other scripts).
            for alias in e.names.iter().skip(1) {
                let script = script_of(alias);
                let k = if script == "latin" {
                    "alias"
                } else {
                    "alias_other_script"
                };
                push(
                    if script == "latin" { cat } else { "script" },
                    k,
                    alias.clone(),
                    true,
                );
            }
            if e.names
                .iter()
                .any(|n| matches!(script_of(n), "chinese" | "korean" | "japanese"))
                && !cjk.is_empty()
            {
                let n = e
                    .names
                    .iter()
                    .find(|n| matches!(script_of(n), "chinese" | "korean"))
                    .cloned()
                    .unwrap_or_default();
                let chars: Vec<char> = n.chars().collect();
                if chars.len() >= 2 {
                    let at = chars.len() - 1;
                    let mut repl = cjk[rng.below(cjk.len())];
                    if repl == chars[at] {
                        repl = cjk[(rng.below(cjk.len()) + 1) % cjk.len()];
                    }
                    let mut c2 = chars.clone();
                    c2[at] = repl;
                    if repl != chars[at] {
                        push(
                            "script",
                            "cjk_one_char_other",
                            c2.into_iter().collect(),
                            false,
                        );
                    }
                }
            }
            if ws.len() < 2 || ei % 3 != 0 {
                continue;
            }
            if e.kind == EntityKind::Organization {
                let last = ws[ws.len() - 1];
                if let Some((_, full)) = FORM_PAIRS
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(last))
                {
                    push(
                        cat,
                        "org_legal_form",
                        format!("{} {full}", ws[..ws.len() - 1].join(" ")),
                        true,
                    );
                }
                if let Some(f) = other_form(last) {
                    push(
                        cat,
                        "org_other_legal_form",
                        format!("{} {f}", ws[..ws.len() - 1].join(" ")),
                        false,
                    );
                }
                if primary.chars().count() > 50 {
                    push(
                        cat,
                        "org_truncated_48",
                        primary.chars().take(48).collect(),
                        true,
                    );
                }
                push(
                    cat,
                    "org_country_qualifier",
                    format!("{} (Cyprus) {}", ws[..ws.len() - 1].join(" "), last),
                    true,
                );
                if primary.to_ascii_uppercase().contains("INTERNATIONAL") {
                    push(
                        cat,
                        "org_intl",
                        primary
                            .replace("INTERNATIONAL", "INT'L")
                            .replace("International", "Int'l"),
                        true,
                    );
                }
                // One distinctive word replaced by a distinctive word of another organisation.
                let rare = |w: &str| freq.get(&w.to_ascii_lowercase()).copied().unwrap_or(0);
                if let Some(i) = (0..ws.len())
                    .filter(|&i| ws[i].len() >= 5 && ws[i].chars().all(char::is_alphabetic))
                    .min_by_key(|&i| rare(ws[i]))
                    .filter(|&i| rare(ws[i]) <= 3)
                    && !org_words.is_empty()
                {
                    let donor = org_words[rng.below(org_words.len())];
                    if !donor.eq_ignore_ascii_case(ws[i]) {
                        let mut w2: Vec<&str> = ws.clone();
                        w2[i] = donor;
                        push(cat, "org_other_word", w2.join(" "), false);
                    }
                }
            } else if !primary.contains(',') {
                push(
                    cat,
                    "person_glued",
                    format!("{}{} {}", ws[0], ws[1], ws[2..].join(" ")),
                    true,
                );
                push(
                    cat,
                    "person_reordered",
                    ws.iter().rev().copied().collect::<Vec<_>>().join(" "),
                    true,
                );
                push(cat, "person_title", format!("Dr. {primary}"), true);
                let digits = primary.replacen('o', "0", 1).replacen('i', "1", 1);
                if digits != primary {
                    push(cat, "person_digits", digits, true);
                }
                let first: String = ws[0].chars().take(1).collect();
                push(
                    cat,
                    "person_initial",
                    format!("{first}. {}", ws[1..].join(" ")),
                    true,
                );
                if let Some(v) = translit_variant(primary) {
                    push(cat, "person_translit_variant", v, true);
                }
                if !given.is_empty() {
                    let donor = given[rng.below(given.len())];
                    if !donor.eq_ignore_ascii_case(ws[0]) && donor.len() > 2 {
                        push(
                            cat,
                            "person_other_given_name",
                            format!("{donor} {}", ws[1..].join(" ")),
                            false,
                        );
                    }
                }
            }
        }
    }
    out
}

/// A transliteration variant of a Latin name (Sergey → Sergei, Aleksandr → Alexandr).
fn translit_variant(name: &str) -> Option<String> {
    for (a, b) in [
        ("ey", "ei"),
        ("ks", "x"),
        ("kh", "h"),
        ("ou", "u"),
        ("y", "i"),
        ("j", "y"),
    ] {
        if name.contains(a) {
            return Some(name.replacen(a, b, 1));
        }
        let up = a.to_ascii_uppercase();
        if name.contains(&up) {
            return Some(name.replacen(&up, &b.to_ascii_uppercase(), 1));
        }
    }
    None
}

/// Precision, recall and F1 of a group of cases at one threshold.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prf {
    pub positives: usize,
    pub negatives: usize,
    pub tp: usize,
    pub fp: usize,
}

impl Prf {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.positives)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn add(&mut self, positive: bool, alert: bool) {
        if positive {
            self.positives += 1;
            self.tp += usize::from(alert);
        } else {
            self.negatives += 1;
            self.fp += usize::from(alert);
        }
    }
}

/// The per-category evaluation figures.
#[derive(Debug, Clone, Default)]
pub struct QualityReport {
    pub threshold: f64,
    pub cases: usize,
    pub by_category: BTreeMap<String, Prf>,
    pub by_script: BTreeMap<String, Prf>,
    /// Per perturbation kind: positives found or negatives alerted.
    pub by_kind: BTreeMap<String, Prf>,
    pub curve: Vec<(f64, Prf)>,
    pub missed: Vec<String>,
    pub false_alerts: Vec<String>,
}

/// Scores every case (the target entity's best score, 0 when not returned) and sums up.
pub fn run_quality(
    screener: &Screener,
    cases: &[QualityCase],
    threshold: f64,
    threads: usize,
) -> QualityReport {
    let scores: Vec<f64> = par_map(cases, threads, |c| {
        let q = Query {
            name: c.query.clone(),
            kind: Some(c.entity),
            date_of_birth: None,
            country: None,
            threshold: 0.5,
            limit: 50,
        };
        screener
            .search(&q)
            .iter()
            .filter(|m| m.list == c.list && m.entry_id == c.target)
            .map(|m| m.score)
            .fold(0.0, f64::max)
    });
    let mut r = QualityReport {
        threshold,
        cases: cases.len(),
        ..QualityReport::default()
    };
    for (c, &s) in cases.iter().zip(&scores) {
        let alert = s >= threshold;
        r.by_category
            .entry(c.category.to_string())
            .or_default()
            .add(c.positive, alert);
        r.by_script
            .entry(c.script.to_string())
            .or_default()
            .add(c.positive, alert);
        r.by_kind
            .entry(c.kind_name.to_string())
            .or_default()
            .add(c.positive, alert);
        r.by_category
            .entry("all".to_string())
            .or_default()
            .add(c.positive, alert);
        if c.positive && !alert && r.missed.len() < 25 {
            r.missed
                .push(format!("[{}] {} ({:.3})", c.kind_name, c.query, s));
        }
        if !c.positive && alert && r.false_alerts.len() < 25 {
            r.false_alerts
                .push(format!("[{}] {} ({:.3})", c.kind_name, c.query, s));
        }
    }
    r.curve = CURVE
        .iter()
        .map(|&t| {
            let mut p = Prf::default();
            for (c, &s) in cases.iter().zip(&scores) {
                p.add(c.positive, s >= t);
            }
            (t, p)
        })
        .collect();
    r
}

fn row(f: &mut fmt::Formatter<'_>, name: &str, p: &Prf) -> fmt::Result {
    writeln!(
        f,
        "    {name:<26} {:>5} {:>5}  P {:.3}  R {:.3}  F1 {:.3}",
        p.positives,
        p.negatives,
        p.precision(),
        p.recall(),
        p.f1()
    )
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  own evaluation set ({} cases from the lists' aliases, perturbations and look-alike negatives; name only; threshold {:.2})",
            self.cases, self.threshold
        )?;
        writeln!(f, "    {:<26} {:>5} {:>5}", "per category", "pos", "neg")?;
        for (k, p) in &self.by_category {
            row(f, k, p)?;
        }
        writeln!(f, "    per script")?;
        for (k, p) in &self.by_script {
            row(f, k, p)?;
        }
        writeln!(
            f,
            "    per perturbation (positives: recall; negatives: alerted = FP)"
        )?;
        for (k, p) in &self.by_kind {
            if p.positives > 0 {
                writeln!(
                    f,
                    "    {k:<26} recall {:.3} ({}/{})",
                    p.recall(),
                    p.tp,
                    p.positives
                )?;
            } else {
                writeln!(
                    f,
                    "    {k:<26} false alerts {:.3} ({}/{})",
                    ratio(p.fp, p.negatives),
                    p.fp,
                    p.negatives
                )?;
            }
        }
        writeln!(f, "    curve")?;
        for (t, p) in &self.curve {
            row(f, &format!("threshold {t:.2}"), p)?;
        }
        for m in &self.missed {
            writeln!(f, "    missed {m}")?;
        }
        for m in &self.false_alerts {
            writeln!(f, "    false alert {m}")?;
        }
        Ok(())
    }
}

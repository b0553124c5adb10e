//! Deterministic name perturbations (typos, reordering, initials, dropped or added middle
//! names, "LAST, First", accents) used to measure how recall holds up on noisy queries.

use super::{Case, EvalOptions, PEP_LIST, PerturbedRecall, par_map, ratio};
use crate::screener::Screener;

/// A small deterministic generator (64-bit LCG), so every run perturbs the same way.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if n == 0 {
            0
        } else {
            ((self.0 >> 33) % n as u64) as usize
        }
    }
}

/// The perturbations applied, by name.
pub const PERTURBATIONS: &[&str] = &[
    "none",
    "typo",
    "two_typos",
    "glued",
    "transposition",
    "drop_middle",
    "add_middle",
    "last_comma_first",
    "reordered",
    "first_initial",
    "accents_case",
    "double_letter",
];

fn words(name: &str) -> Vec<String> {
    name.split_whitespace().map(str::to_string).collect()
}

/// Index of the longest word (ties: the last one), the one a typo most likely hits.
fn longest(ws: &[String]) -> usize {
    let mut best = 0;
    for (i, w) in ws.iter().enumerate() {
        if w.chars().count() >= ws[best].chars().count() {
            best = i;
        }
    }
    best
}

/// Applies perturbation `kind` to `name`; `None` when it does not apply to this name.
pub fn perturb(name: &str, kind: &str, rng: &mut Lcg) -> Option<String> {
    let mut ws = words(name);
    if ws.is_empty() {
        return None;
    }
    let n = ws.len();
    let suffix = |w: &str| {
        let w = w.trim_end_matches('.').to_ascii_lowercase();
        matches!(w.as_str(), "jr" | "sr" | "ii" | "iii" | "iv")
    };
    if n >= 2 && suffix(&ws[n - 1]) {
        ws.pop();
        let joined = ws.join(" ");
        return perturb(joined.trim_end_matches(','), kind, rng);
    }
    match kind {
        "none" => Some(ws.join(" ")),
        "two_typos" => {
            let once = perturb(name, "typo", rng)?;
            let mut ws2 = words(&once);
            // a second typo in another word long enough
            let i = longest(&ws2);
            let j = (0..ws2.len())
                .rev()
                .find(|&j| j != i && ws2[j].chars().count() >= 4)?;
            let mut cs: Vec<char> = ws2[j].chars().collect();
            let p = 1 + rng.below(cs.len() - 2);
            cs[p] = if cs[p] == 'e' { 'a' } else { 'e' };
            ws2[j] = cs.into_iter().collect();
            Some(ws2.join(" "))
        }
        "glued" if n >= 2 => {
            let last = ws.pop().unwrap_or_default();
            let before = ws.pop().unwrap_or_default();
            ws.push(format!("{before}{}", last.to_lowercase()));
            Some(ws.join(" "))
        }
        "typo" | "transposition" | "double_letter" => {
            let i = longest(&ws);
            let mut cs: Vec<char> = ws[i].chars().collect();
            if cs.len() < 4 {
                return None;
            }
            let p = 1 + rng.below(cs.len() - 2);
            match kind {
                "typo" => {
                    let letters: Vec<char> = "aeioulnrst".chars().collect();
                    let mut c = letters[rng.below(letters.len())];
                    if c == cs[p].to_ascii_lowercase() {
                        c = 'k';
                    }
                    cs[p] = c;
                }
                "transposition" => cs.swap(p, p + 1),
                _ => {
                    let dup = (1..cs.len()).find(|&k| cs[k] == cs[k - 1]);
                    match dup {
                        Some(k) => {
                            cs.remove(k);
                        }
                        None => cs.insert(p, cs[p]),
                    }
                }
            }
            ws[i] = cs.into_iter().collect();
            Some(ws.join(" "))
        }
        "drop_middle" if n >= 3 => {
            ws.remove(1 + rng.below(n - 2));
            Some(ws.join(" "))
        }
        "add_middle" if n == 2 => {
            const MIDDLES: [&str; 8] = [
                "Anne", "James", "Lee", "Marie", "Ray", "Lynn", "John", "Edward",
            ];
            ws.insert(1, MIDDLES[rng.below(MIDDLES.len())].to_string());
            Some(ws.join(" "))
        }
        "last_comma_first" if n >= 2 => {
            let last = ws.pop().unwrap_or_default().to_uppercase();
            Some(format!("{last}, {}", ws.join(" ")))
        }
        "reordered" if n >= 2 => {
            let last = ws.pop().unwrap_or_default();
            Some(format!("{last} {}", ws.join(" ")))
        }
        "first_initial" if n >= 2 && ws[0].chars().count() > 2 => {
            let first = ws[0].chars().next().unwrap_or('x');
            ws[0] = format!("{first}.");
            Some(ws.join(" "))
        }
        "accents_case" => {
            let accented: String = name
                .chars()
                .map(|c| match c {
                    'a' => 'á',
                    'e' => 'é',
                    'o' => 'ö',
                    'n' => 'ñ',
                    'c' => 'ç',
                    other => other,
                })
                .collect();
            Some(if rng.below(2) == 0 {
                accented.to_uppercase()
            } else {
                accented.to_lowercase()
            })
        }
        _ => None,
    }
}

/// Recall of the perturbed forms of `found` (positives found unperturbed), per
/// perturbation, with and without the date of birth in the query.
pub fn perturbed_recall(
    screener: &Screener,
    found: &[&Case],
    opts: &EvalOptions,
) -> Vec<PerturbedRecall> {
    let mut out = Vec::new();
    for with_dob in [true, false] {
        for (k, kind) in PERTURBATIONS.iter().enumerate() {
            let mut rng = Lcg::new(k as u64 + 1);
            let cases: Vec<Case> = found
                .iter()
                .filter_map(|c| {
                    perturb(&c.name, kind, &mut rng).map(|name| Case {
                        name,
                        date_of_birth: if with_dob {
                            c.date_of_birth.clone()
                        } else {
                            None
                        },
                        country: c.country.clone(),
                    })
                })
                .collect();
            let hits = par_map(&cases, opts.threads, |c| {
                let ms = screener.search(&c.query(opts.threshold));
                ms.iter().any(|m| m.list == PEP_LIST)
            });
            let n = hits.iter().filter(|h| **h).count();
            out.push(PerturbedRecall {
                perturbation: kind.to_string(),
                with_dob,
                queries: cases.len(),
                found: n,
                recall: ratio(n, cases.len()),
                missed_examples: cases
                    .iter()
                    .zip(&hits)
                    .filter(|(_, h)| !**h)
                    .take(6)
                    .map(|(c, _)| c.name.clone())
                    .collect(),
            });
        }
    }
    out
}

/// One query expected to find entry `target` of a list.
#[derive(Debug, Clone)]
pub struct TargetedCase {
    pub name: String,
    pub list: String,
    pub target: String,
}

/// The people of list `list_name`, each written with one typo and, separately, with two
/// adjacent letters swapped (in the longest word, as [`perturb`] does): the style of a
/// sanctions list screened against customers who misspell their names.
pub fn list_typo_cases(lists: &[crate::LoadedList], list_name: &str) -> Vec<TargetedCase> {
    let mut rng = Lcg::new(2024);
    let mut out = Vec::new();
    for list in lists.iter().filter(|l| l.name == list_name) {
        for e in list
            .entries
            .iter()
            .filter(|e| e.kind == crate::EntityKind::Person)
        {
            for kind in ["typo", "transposition"] {
                if let Some(name) = perturb(e.primary_name(), kind, &mut rng) {
                    out.push(TargetedCase {
                        name,
                        list: list.name.clone(),
                        target: e.id.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Recall of [`list_typo_cases`] on the name only (person queries, no date of birth).
pub fn list_typo_recall(
    screener: &Screener,
    cases: &[TargetedCase],
    threshold: f64,
    threads: usize,
) -> PerturbedRecall {
    let hits = par_map(cases, threads, |c| {
        let q = crate::Query {
            name: c.name.clone(),
            kind: Some(crate::EntityKind::Person),
            date_of_birth: None,
            country: None,
            threshold,
            limit: 50,
        };
        screener
            .search(&q)
            .iter()
            .any(|m| m.list == c.list && m.entry_id == c.target)
    });
    let n = hits.iter().filter(|h| **h).count();
    PerturbedRecall {
        perturbation: "list_typo".to_string(),
        with_dob: false,
        queries: cases.len(),
        found: n,
        recall: ratio(n, cases.len()),
        missed_examples: cases
            .iter()
            .zip(&hits)
            .filter(|(_, h)| !**h)
            .take(8)
            .map(|(c, _)| c.name.clone())
            .collect(),
    }
}

//! The naive baseline: plain Jaro-Winkler of the whole normalised query name against every
//! normalised list name, without an index (what a simple screening tool does).

use crate::matcher::jaro_winkler;
use crate::model::LoadedList;
use crate::normalize::normalize_name;

/// Every list name, normalised, with the entry it belongs to.
pub struct NaiveMatcher {
    names: Vec<(String, u32)>,
    entries: Vec<(String, bool)>, // (list name, pep)
}

impl NaiveMatcher {
    pub fn new(lists: &[LoadedList]) -> NaiveMatcher {
        let mut names = Vec::new();
        let mut entries = Vec::new();
        for list in lists {
            for e in &list.entries {
                let id = entries.len() as u32;
                entries.push((list.name.clone(), e.pep));
                for n in &e.names {
                    let n = normalize_name(n);
                    if !n.is_empty() {
                        names.push((n, id));
                    }
                }
            }
        }
        NaiveMatcher { names, entries }
    }

    /// Number of names compared per search.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there is no name at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The entries (list name, pep) whose best name similarity reaches `threshold`,
    /// best first, at most `limit`.
    pub fn search(&self, name: &str, threshold: f64, limit: usize) -> Vec<(String, bool, f64)> {
        let q = normalize_name(name);
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u32, f64)> = Vec::new();
        for (n, id) in &self.names {
            let s = jaro_winkler(q.as_bytes(), n.as_bytes()) as f64;
            if s >= threshold {
                match hits.iter_mut().find(|h| h.0 == *id) {
                    Some(h) => h.1 = h.1.max(s),
                    None => hits.push((*id, s)),
                }
            }
        }
        hits.sort_by(|a, b| b.1.total_cmp(&a.1));
        hits.truncate(limit);
        hits.into_iter()
            .map(|(id, s)| {
                let (list, pep) = &self.entries[id as usize];
                (list.clone(), *pep, s)
            })
            .collect()
    }
}

//! Candidate selection: an inverted index from token keys (exact token, glued neighbours,
//! single-deletion variants, consonant skeleton) to names, with capped posting lists.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::score::Tok;
use crate::normalize::loose::Loose;

/// Key namespaces.
const NS_EXACT: u8 = 1;
const NS_DELETE: u8 = 2;
const NS_SKEL: u8 = 3;
/// Coarse loose key of a Latin token (Bengali and Khmer rules, see
/// `normalize::loose::coarse`): searched only by tokens read from those scripts.
const NS_LOOSE: u8 = 4;
/// Latin spellings of a Hangul token of a list name (see `normalize::korean`).
const NS_ROMAN: u8 = 5;
/// First bytes hashed under `NS_LOOSE` and `NS_ROMAN`: [`key`] mixes the namespace and the
/// first byte in one step, so without them a key of these namespaces could equal an
/// `NS_EXACT` one (4 ^ 'r' = 1 ^ 'w': "rm" would count in the frequency of "wm"). No
/// ASCII first byte meets 4 ^ 0xFF or 5 ^ 0xFD.
const LOOSE_MARK: &[u8] = &[0xFF];
const ROMAN_MARK: &[u8] = &[0xFD];

/// Posting lists longer than this are skipped for fuzzy keys (too common to select).
const MAX_FUZZY_POSTINGS: usize = 1_500;
/// Posting lists longer than this are skipped even for exact tokens.
const MAX_EXACT_POSTINGS: usize = 8_000;
/// How much a key kind contributes to a candidate's pre-score.
const F_EXACT: f32 = 1.0;
const F_DELETE: f32 = 0.8;
const F_SKEL: f32 = 0.7;

/// Identity hasher for keys that already are 64-bit hashes.
#[derive(Default)]
pub(crate) struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// FNV-1a over a namespace byte and the key bytes, finished with a mixer.
pub(crate) fn key(ns: u8, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ ns as u64;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The index key of a token's coarse loose key (see `normalize::loose::coarse`).
fn loose_key(text: &[u8]) -> u64 {
    let mut buf = [0u8; 32];
    let n = crate::normalize::loose::coarse(text, &mut buf);
    key(NS_LOOSE, &[LOOSE_MARK, &buf[..n]])
}

/// Calls `f` with every single-byte deletion of `t` (tokens of 4 bytes or more).
fn deletions(t: &[u8], mut f: impl FnMut(u64)) {
    if t.len() < 4 {
        return;
    }
    for i in 0..t.len() {
        if i > 0 && t[i] == t[i - 1] {
            continue; // same variant as the previous deletion
        }
        f(key(NS_DELETE, &[&t[..i], &t[i + 1..]]));
    }
}

/// The inverted index over all names of a screener.
#[derive(Default)]
pub(crate) struct Index {
    postings: KeyMap<Vec<u32>>,
    names: usize,
    /// Total token weight of each name (for ranking candidates by a Dice-like estimate).
    name_weight: Vec<f32>,
    /// Some list name has Hangul (`NS_ROMAN` keys to look up).
    has_roman: bool,
}

impl Index {
    /// Adds name `id` with its tokens. Names must be added in increasing id order.
    pub fn add(&mut self, id: u32, toks: &[Tok], org: bool) {
        self.names = self.names.max(id as usize + 1);
        self.has_roman |= toks.iter().any(|t| !t.hangul.is_empty());
        let mut push = |k: u64| {
            let list = self.postings.entry(k).or_default();
            if list.last() != Some(&id) {
                list.push(id);
            }
        };
        for (i, t) in toks.iter().enumerate() {
            push(key(NS_EXACT, &[&t.text]));
            push(key(NS_DELETE, &[&t.text]));
            deletions(&t.text, &mut push);
            if t.skel.len() >= 2 {
                push(key(NS_SKEL, &[&t.skel]));
            }
            if let Some(n) = toks.get(i + 1) {
                push(key(NS_EXACT, &[&t.text, &n.text]));
            }
            if t.loose == Loose::None && !t.syllabic && !t.abjad && t.text.len() >= 2 {
                push(loose_key(&t.text));
            }
            // A Hangul token under each of its Latin spellings (Park Ji-sung, Pak Chi-song),
            // in a namespace of their own: the document frequency of Latin tokens stays.
            crate::normalize::korean::spellings(&t.hangul, |s| {
                push(key(NS_ROMAN, &[ROMAN_MARK, s]))
            });
        }
        // Organisations are also found by their acronym (IRGC).
        if org && (3..=6).contains(&toks.len()) && toks.iter().all(|t| t.text.len() > 1) {
            let acr: Vec<u8> = toks.iter().map(|t| t.text[0]).collect();
            push(key(NS_EXACT, &[&acr]));
        }
    }

    /// Number of names containing the exact token (its document frequency).
    pub fn df(&self, token: &[u8]) -> usize {
        self.postings
            .get(&key(NS_EXACT, &[token]))
            .map_or(0, Vec::len)
    }

    /// Sets the total token weight of each name (index = name id).
    pub fn set_name_weights(&mut self, weights: Vec<f32>) {
        self.name_weight = weights;
    }

    pub fn shrink(&mut self) {
        for v in self.postings.values_mut() {
            v.shrink_to_fit();
        }
    }

    /// The ids of at most `limit` names sharing the most weight with the query tokens,
    /// best first, among those reaching `min_share` of the query's total weight.
    pub fn candidates(&self, q: &[Tok], limit: usize, min_share: f32) -> Vec<u32> {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.prepare(self.names);
            let total: f32 = q.iter().map(|t| t.weight).sum();
            let mut keys: Vec<(u64, usize)> = Vec::with_capacity(16);
            // Each query token (and each glued pair) adds its weight at most once per name.
            let units = q.len() + q.len().saturating_sub(1);
            for u in 0..units {
                let (w, first_key, roman_key) = if u < q.len() {
                    let t: &[u8] = &q[u].text;
                    (
                        q[u].weight,
                        key(NS_EXACT, &[t]),
                        key(NS_ROMAN, &[ROMAN_MARK, t]),
                    )
                } else {
                    let i = u - q.len();
                    let w = 0.5 * (q[i].weight + q[i + 1].weight);
                    let (a, b): (&[u8], &[u8]) = (&q[i].text, &q[i + 1].text);
                    (
                        w,
                        key(NS_EXACT, &[a, b]),
                        key(NS_ROMAN, &[ROMAN_MARK, a, b]),
                    )
                };
                s.next_stamp();
                self.walk(&mut s, first_key, w * F_EXACT, MAX_EXACT_POSTINGS);
                // Hangul list names under the Latin spellings of their syllables.
                if self.has_roman {
                    self.walk(&mut s, roman_key, w * F_EXACT, MAX_EXACT_POSTINGS);
                }
                if u >= q.len() {
                    continue;
                }
                let t = &q[u];
                if !t.hangul.is_empty() {
                    // Every Latin spelling of the syllables, as a token or two glued ones.
                    crate::normalize::korean::spellings(&t.hangul, |sp| {
                        self.walk(
                            &mut s,
                            key(NS_EXACT, &[sp]),
                            w * F_EXACT,
                            MAX_EXACT_POSTINGS,
                        )
                    });
                }
                if t.text.len() == 1 {
                    continue; // initials select nothing on their own
                }
                keys.clear();
                keys.push((key(NS_DELETE, &[&t.text]), 0));
                deletions(&t.text, |k| keys.push((k, 0)));
                for &(k, _) in &keys {
                    self.walk(&mut s, k, w * F_DELETE, MAX_FUZZY_POSTINGS);
                }
                if t.loose != Loose::None {
                    let k = loose_key(&t.text);
                    self.walk(&mut s, k, w * F_SKEL, MAX_FUZZY_POSTINGS);
                }
                if t.skel.len() >= 2 {
                    self.walk(
                        &mut s,
                        key(NS_SKEL, &[&t.skel]),
                        w * F_SKEL,
                        MAX_FUZZY_POSTINGS,
                    );
                }
            }
            let min = total * min_share;
            // Rank by 2·shared / (query weight + name weight): among names sharing the same
            // tokens, the ones without extra tokens come first.
            let name_w = |id: u32| self.name_weight.get(id as usize).copied().unwrap_or(0.0);
            let mut found: Vec<(f32, u32)> = s
                .touched
                .iter()
                .map(|&id| (s.acc[id as usize], id))
                .filter(|&(a, _)| a >= min)
                .map(|(a, id)| (2.0 * a / (total + name_w(id)).max(1e-6), id))
                .collect();
            s.reset();
            if found.len() > limit {
                found.select_nth_unstable_by(limit, |a, b| b.0.total_cmp(&a.0));
                found.truncate(limit);
            }
            found.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            found.into_iter().map(|(_, id)| id).collect()
        })
    }

    fn walk(&self, s: &mut Scratch, k: u64, w: f32, cap: usize) {
        let Some(list) = self.postings.get(&k) else {
            return;
        };
        if list.len() > cap {
            return;
        }
        let stamp = s.stamp;
        for &id in list {
            let i = id as usize;
            if s.seen[i] != stamp {
                s.seen[i] = stamp;
                if s.acc[i] == 0.0 {
                    s.touched.push(id);
                }
                s.acc[i] += w;
            }
        }
    }
}

/// Per-thread work arrays, sized to the largest index searched from the thread.
#[derive(Default)]
struct Scratch {
    acc: Vec<f32>,
    seen: Vec<u32>,
    touched: Vec<u32>,
    stamp: u32,
}

impl Scratch {
    fn prepare(&mut self, n: usize) {
        if self.acc.len() < n {
            self.acc.resize(n, 0.0);
            self.seen.resize(n, 0);
        }
    }
    fn next_stamp(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
    }
    fn reset(&mut self) {
        for &id in &self.touched {
            self.acc[id as usize] = 0.0;
        }
        self.touched.clear();
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

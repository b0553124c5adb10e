//! Name scoring: Jaro-Winkler on bytes, token similarity (initials, nicknames, phonetic
//! skeletons, abjad scripts) and a weighted token alignment that handles reordered,
//! missing, extra and glued name parts.

use crate::normalize::loose::{self, Loose};

/// A name part prepared for scoring.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub text: Box<[u8]>,
    pub skel: Box<[u8]>,
    /// Spelling-variant form (y/i, kh/h, ...).
    pub variant: Box<[u8]>,
    /// Information weight in (0, 1]: rare tokens weigh more (IDF over the loaded names).
    pub weight: f32,
    pub abjad: bool,
    pub nick: &'static [u16],
    /// From Chinese, Japanese or Korean script: no typo tolerance.
    pub syllabic: bool,
    /// A country name: matches only itself.
    pub country: bool,
    /// The last token of a name cut at the list's field length: may be a prefix.
    pub trunc: bool,
    /// The Hangul syllables of a Korean token (empty otherwise).
    pub hangul: Box<[char]>,
    /// Read from Bengali or Khmer (compared with Latin tokens by loose keys too).
    pub loose: Loose,
}

/// How two name parts were found to match (for explanations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Exact,
    Initial,
    Nickname,
    Variant,
    Skeleton,
    Abjad,
    Fuzzy,
    Glued,
    Acronym,
    Truncated,
    Romanised,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Exact => "exact",
            Why::Initial => "initial",
            Why::Nickname => "nickname",
            Why::Variant => "spelling_variant",
            Why::Skeleton => "phonetic",
            Why::Abjad => "consonants",
            Why::Fuzzy => "typo",
            Why::Glued => "glued",
            Why::Acronym => "acronym",
            Why::Truncated => "truncated",
            Why::Romanised => "romanisation",
        }
    }
}

impl Tok {
    fn is_initial(&self) -> bool {
        self.text.len() == 1
    }
}

/// Token similarity below which two tokens are not considered the same name part.
const MIN_JW: f32 = 0.80;
/// An initial against a full token starting with that letter (it only half-confirms it).
const INITIAL_SIM: f32 = 0.60;
/// Two given names the nickname table pairs (Bob / Robert), when another part of the name
/// agrees exactly (or as a spelling variant): Bob Smith / Robert Smith.
const NICK_SIM: f32 = 0.82;
/// The same pair when nothing else agrees that well: a nickname plus a merely similar
/// surname (Bobby Bright / Robert Wright) is two guesses, not one person.
const NICK_ALONE_SIM: f32 = 0.65;
/// Same consonant skeleton (Mohammed / Muhammad) for Latin tokens of five letters or more
/// that are also close in edit distance.
const SKEL_SIM: f32 = 0.85;
/// Same spelling-variant form (Sergey / Sergei, Shoygu / Shoigu, Khalid / Halid).
const VARIANT_SIM: f32 = 0.93;
/// Same consonant skeleton when one side comes from Arabic or Hebrew script.
const ABJAD_SKEL_SIM: f32 = 0.88;
/// Multiplier when matched tokens appear in a different order (Putin Vladimir).
const REORDER_FACTOR: f32 = 0.95;
/// Weight kept by an unmatched middle name when the other side has an unmatched middle
/// name too (Richard vs H.: a conflict, not a missing part).
const MIDDLE_CONFLICT: f32 = 0.9;
/// Weight kept by an unmatched middle name (a name part that is neither first nor last).
const MIDDLE_UNMATCHED: f32 = 0.6;
/// Weight counted for an unmatched first or last name part of a person (as a multiple of
/// its own weight): a matched part counts on both sides, so a part that one name has and
/// the other lacks at its edge (Michael Christopher Smith / Christopher Smith) must count
/// more than once to say that the two names disagree there.
const EDGE_UNMATCHED: f32 = 1.4;
/// Glued words ("abdulrahman" / "abdul rahman") must be at least this similar.
const MERGE_MIN: f32 = 0.85;
/// Edit similarity below this does not count (one edit in a 4-letter token is 0.75).
const MIN_EDIT: f32 = 0.75;

/// How many edits a typo in a person's name part of `len` letters may take: one up to
/// seven letters, two up to eleven, three beyond. More is another name (Wells / Weller,
/// Brent / Brenda, Laura / Lamar), unless only the vowels differ (Yusuf / Yousef).
fn typo_tolerance(len: usize) -> usize {
    match len {
        0..=7 => 1,
        8..=11 => 2,
        _ => 3,
    }
}

/// A fuzzy similarity past the tolerated edits: most of it goes (0.9 → 0.7, 0.8 → 0.4).
fn beyond_tolerance(s: f32) -> f32 {
    (3.0 * s - 2.0).max(0.0)
}
/// A token cut by the list's field length against the full token it starts.
const TRUNC_SIM: f32 = 0.95;
/// A Latin token that spells the syllables of a Hangul token in one of their usual
/// romanisations (RR, McCune-Reischauer, passport spellings; see `normalize::korean`).
const ROMANISED_SIM: f32 = 0.95;
/// An acronym against the words it abbreviates (organisations).
const ACRONYM_SIM: f32 = 0.92;

/// Jaro-Winkler similarity of two ASCII byte strings (at most 64 bytes are compared).
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f32 {
    if a == b {
        return 1.0;
    }
    let a = &a[..a.len().min(64)];
    let b = &b[..b.len().min(64)];
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return 0.0;
    }
    let range = (la.max(lb) / 2).saturating_sub(1);
    let mut a_match = 0u64;
    let mut b_match = 0u64;
    let mut m = 0u32;
    for (i, &ai) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(lb);
        for (j, &bj) in b.iter().enumerate().take(hi).skip(lo) {
            if b_match & (1 << j) == 0 && ai == bj {
                a_match |= 1 << i;
                b_match |= 1 << j;
                m += 1;
                break;
            }
        }
    }
    if m == 0 {
        return 0.0;
    }
    let mut t = 0u32;
    let mut j = 0usize;
    for (i, &ai) in a.iter().enumerate() {
        if a_match & (1 << i) != 0 {
            while b_match & (1 << j) == 0 {
                j += 1;
            }
            if ai != b[j] {
                t += 1;
            }
            j += 1;
        }
    }
    let m = m as f32;
    let jaro = (m / la as f32 + m / lb as f32 + (m - t as f32 / 2.0) / m) / 3.0;
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f32;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// Optimal-string-alignment distance (Levenshtein with adjacent transpositions) of two
/// byte strings of at most 64 bytes.
pub fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    let a = &a[..a.len().min(64)];
    let b = &b[..b.len().min(64)];
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return n.max(m);
    }
    // three rolling rows: i-2, i-1, i
    let mut rows = [[0usize; 65]; 3];
    for (j, v) in rows[0].iter_mut().enumerate().take(m + 1) {
        *v = j;
    }
    for i in 1..=n {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur][0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[prev][j] + 1)
                .min(rows[cur][j - 1] + 1)
                .min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = v;
        }
    }
    rows[n % 3][m]
}

/// Similarity from the edit distance: 1 - distance / longer length.
fn edit_sim(a: &[u8], b: &[u8]) -> f32 {
    let len = a.len().max(b.len()).min(64);
    if len == 0 {
        return 0.0;
    }
    1.0 - osa_distance(a, b) as f32 / len as f32
}

/// Token similarity from Jaro-Winkler and edit distance: the mean of the stretched
/// Jaro-Winkler (good at transpositions and shared prefixes) and the edit similarity (good
/// at insertions in long tokens). When the lengths differ by three or more, the prefix
/// bonus of Jaro-Winkler misleads (David / Davidson), so only the edit similarity counts.
fn string_sim(a: &[u8], b: &[u8]) -> f32 {
    let jw = jaro_winkler(a, b);
    if jw < 0.7 {
        return 0.0;
    }
    let e = edit_sim(a, b);
    if a.len().abs_diff(b.len()) >= 3 {
        return if e >= MIN_EDIT { e } else { 0.0 };
    }
    let s = stretch(jw);
    if s == 0.0 && e < MIN_EDIT {
        return 0.0;
    }
    0.5 * (s + e)
}

/// Maps a raw Jaro-Winkler value to a similarity: below [`MIN_JW`] nothing, above it a
/// steeper scale so that near misses count less than exact tokens.
fn stretch(jw: f32) -> f32 {
    if jw < MIN_JW {
        0.0
    } else {
        1.0 - (1.0 - jw) * 2.0
    }
}

/// Similarity of two tokens in [0, 1], with the rule that gave it.
pub(crate) fn token_sim_why(q: &Tok, c: &Tok) -> (f32, Why) {
    if q.text == c.text {
        return (1.0, Why::Exact);
    }
    if (q.trunc && c.text.starts_with(&q.text)) || (c.trunc && q.text.starts_with(&c.text)) {
        return (TRUNC_SIM, Why::Truncated);
    }
    if q.is_initial() || c.is_initial() {
        let both = q.is_initial() && c.is_initial();
        return if !both && q.text[0] == c.text[0] {
            (INITIAL_SIM, Why::Initial)
        } else {
            (0.0, Why::Initial)
        };
    }
    let mut best = (0.0f32, Why::Fuzzy);
    if crate::normalize::nicknames::share(q.nick, c.nick) {
        best = (NICK_SIM, Why::Nickname);
    }
    if q.variant == c.variant {
        return if best.0 > VARIANT_SIM {
            best
        } else {
            (VARIANT_SIM, Why::Variant)
        };
    }
    if q.country && c.country {
        // Iran / Iraq: two countries are never a typo of each other.
        return best;
    }
    if let Some(s) = romanised(q, c) {
        return if best.0 > s {
            best
        } else {
            (s, Why::Romanised)
        };
    }
    if q.syllabic || c.syllabic {
        // One character is one syllable: a different syllable is a different name. Only
        // the spelling of Japanese long vowels may differ (Tarou / Taro, Ohno / Ono).
        if long_vowels_folded(&q.text) == long_vowels_folded(&c.text) && best.0 < VARIANT_SIM {
            best = (VARIANT_SIM, Why::Variant);
        }
        return best;
    }
    let min_len = q.text.len().min(c.text.len());
    let mut up = |s: f32, w: Why| {
        if s > best.0 {
            best = (s, w);
        }
    };
    if let Some(s) = loose_sim(q, c) {
        up(s, Why::Romanised);
    }
    if q.abjad || c.abjad {
        // Vowels are not written: compare consonant skeletons, which must start alike
        // and differ by one consonant at most (zhra / bshr, bs / b are other names).
        if q.skel.len() >= 2 && q.skel == c.skel {
            up(ABJAD_SKEL_SIM, Why::Abjad);
            return best;
        }
        if q.skel.len() >= 3
            && c.skel.len() >= 3
            && q.skel[0] == c.skel[0]
            && osa_distance(&q.skel, &c.skel) <= 1
        {
            up(stretch(jaro_winkler(&q.skel, &c.skel)) * 0.9, Why::Abjad);
        }
    }
    if min_len >= 5 && q.skel.len() >= 3 && q.skel == c.skel && edit_sim(&q.text, &c.text) >= 0.7 {
        up(SKEL_SIM, Why::Skeleton);
    }
    if min_len <= 3 {
        // Short tokens: one edit is a big change, and a prefix is not a match (Jin / Jinho).
        let jw = jaro_winkler(&q.text, &c.text);
        if jw < 0.9 || q.text.len().abs_diff(c.text.len()) > 1 {
            return best;
        }
        up(0.5 * (stretch(jw) + edit_sim(&q.text, &c.text)), Why::Fuzzy);
        return best;
    }
    up(string_sim(&q.text, &c.text), Why::Fuzzy);
    best
}

/// A Hangul token against a Latin one: [`ROMANISED_SIM`] when the Latin token spells the
/// syllables, 0 when it does not (another syllable is another name), `None` when neither
/// token is Hangul against Latin.
fn romanised(q: &Tok, c: &Tok) -> Option<f32> {
    let (h, l) = match (q.hangul.is_empty(), c.hangul.is_empty()) {
        (false, true) if !c.syllabic => (q, c),
        (true, false) if !q.syllabic => (c, q),
        _ => return None,
    };
    Some(if crate::normalize::korean::matches(&h.hangul, &l.text) {
        ROMANISED_SIM
    } else {
        0.0
    })
}

/// The script whose loose keys compare `q` and `c`: one token read from Bengali or
/// Khmer, the other Latin (not from any other script).
pub(crate) fn loose_script(q: &Tok, c: &Tok) -> Loose {
    let latin = |t: &Tok| t.loose == Loose::None && !t.syllabic && !t.abjad;
    match (q.loose, c.loose) {
        (s, Loose::None) if s != Loose::None && latin(c) => s,
        (Loose::None, s) if s != Loose::None && latin(q) => s,
        _ => Loose::None,
    }
}

/// A Bengali or Khmer token against a Latin one by their loose keys (see
/// `normalize::loose`): the same key is a spelling of the same name; the same consonants
/// with one vowel folded otherwise (Hossain / hosen) a likely one.
fn loose_sim(q: &Tok, c: &Tok) -> Option<f32> {
    let script = loose_script(q, c);
    if script == Loose::None {
        return None;
    }
    let (kq, kc) = (loose::key(script, &q.text), loose::key(script, &c.text));
    if kq == kc {
        return Some(VARIANT_SIM);
    }
    let skel = |k: &[u8]| crate::normalize::skeleton(std::str::from_utf8(k).unwrap_or(""));
    (kq.len() >= 4 && kc.len() >= 4 && osa_distance(&kq, &kc) <= 1 && skel(&kq) == skel(&kc))
        .then_some(ABJAD_SKEL_SIM)
}

/// A romanised Japanese token with its long vowels written short, as in passports: "ou",
/// "oo" and "oh" before a consonant become "o", "uu" becomes "u" (Satou, Satoh → sato).
fn long_vowels_folded(t: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let c = t[i];
        out.push(c);
        i += 1;
        let next = t.get(i).copied();
        let after = t.get(i + 1).copied();
        let vowel = |b: Option<u8>| matches!(b, Some(b'a' | b'e' | b'i' | b'o' | b'u'));
        if (c == b'o' && matches!(next, Some(b'u' | b'o')))
            || (c == b'u' && next == Some(b'u'))
            || (c == b'o' && next == Some(b'h') && !vowel(after))
        {
            i += 1;
        }
    }
    out
}

/// Similarity of the two tokens `a`+`b` glued against `c` (0 when clearly different).
/// The rule of a glued match against `c`: a romanisation when `c` is Hangul spelled
/// otherwise by the glued parts (Ji-sung / 지성 read jisong).
fn glued_why(c: &Tok, s: f32) -> Why {
    if !c.hangul.is_empty() && s < 1.0 {
        Why::Romanised
    } else {
        Why::Glued
    }
}

fn merged_sim(a: &Tok, b: &Tok, c: &Tok) -> f32 {
    let len = a.text.len() + b.text.len();
    let hangul = !c.hangul.is_empty() && !a.syllabic && !b.syllabic;
    if !hangul && (a.text.len() < 2 || b.text.len() < 2 || len.abs_diff(c.text.len()) > 2) {
        return 0.0;
    }
    if a.text[0] != c.text[0] && !hangul {
        return 0.0;
    }
    let mut buf = [0u8; 64];
    let n = len.min(64);
    let (la, lb) = (
        a.text.len().min(n),
        (n - a.text.len().min(n)).min(b.text.len()),
    );
    buf[..la].copy_from_slice(&a.text[..la]);
    buf[la..la + lb].copy_from_slice(&b.text[..lb]);
    if hangul {
        // Ji-sung / 지성: the glued parts must spell the Hangul syllables.
        return if buf[..la + lb] == c.text[..] {
            1.0
        } else if crate::normalize::korean::matches(&c.hangul, &buf[..la + lb]) {
            ROMANISED_SIM
        } else {
            0.0
        };
    }
    let s = string_sim(&buf[..la + lb], &c.text);
    if s >= MERGE_MIN { s } else { 0.0 }
}

/// One aligned group: query tokens (bit mask), candidate tokens (bit mask), similarity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edge {
    pub sim: f32,
    pub q: u32,
    pub c: u32,
    pub why: Why,
}

fn mask_weight(toks: &[Tok], mask: u32) -> f32 {
    toks.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, t)| t.weight)
        .sum()
}

/// The alignment of two names: the score and the matched groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Alignment {
    pub score: f32,
    pub pairs: Vec<Edge>,
    pub used_q: u32,
    pub used_c: u32,
    pub reordered: bool,
}

/// Score of a query name against a candidate name in [0, 1]. `lenient_middle` (persons)
/// lets an unmatched middle name cost less than an unmatched first or last name; without
/// it (organisations) a word two edits away from another is a different word, not a typo.
pub(crate) fn name_score(q: &[Tok], c: &[Tok], lenient_middle: bool) -> f32 {
    align(q, c, lenient_middle, false).score
}

/// Acronym edges: a token of 2 to 6 letters against as many consecutive words of the
/// other name starting with those letters (IRGC / Islamic Revolutionary Guard Corps).
fn acronym_edges(short: &[Tok], long: &[Tok], sim: f32, flip: bool, edges: &mut Vec<Edge>) {
    for (i, t) in short.iter().enumerate() {
        let n = t.text.len();
        if !(2..=6).contains(&n) || n > long.len() || t.text.iter().any(u8::is_ascii_digit) {
            continue;
        }
        for j in 0..=long.len() - n {
            if long[j..j + n]
                .iter()
                .zip(t.text.iter())
                .all(|(w, &ch)| w.text.len() > 1 && w.text[0] == ch)
            {
                let (sm, lm) = (1u32 << i, ((1u32 << n) - 1) << j);
                let (q, c) = if flip { (lm, sm) } else { (sm, lm) };
                edges.push(Edge {
                    sim,
                    q,
                    c,
                    why: Why::Acronym,
                });
            }
        }
    }
}

/// The full alignment behind [`name_score`]; `keep` records the matched groups.
pub(crate) fn align(q: &[Tok], c: &[Tok], lenient_middle: bool, keep: bool) -> Alignment {
    if q.is_empty() || c.is_empty() {
        return Alignment::default();
    }
    let q = &q[..q.len().min(16)];
    let c = &c[..c.len().min(16)];
    let mut edges: Vec<Edge> = Vec::with_capacity(q.len() * c.len() + 4);
    for (i, qt) in q.iter().enumerate() {
        for (j, ct) in c.iter().enumerate() {
            let (mut s, why) = token_sim_why(qt, ct);
            if why == Why::Fuzzy && s > 0.0 && !qt.abjad && !ct.abjad {
                // Organisations: Petrochemical / Petromechanical are two words, not a
                // typo; only a single edit is forgiven. Persons: as many edits as the
                // length tolerates, and any number of vowels.
                let tolerated = if lenient_middle {
                    typo_tolerance(qt.text.len().min(ct.text.len()))
                } else {
                    1
                };
                let vowels_only = lenient_middle && qt.skel == ct.skel;
                // Edits are counted as written or between the spelling-variant forms
                // (x / ks, y / i), whichever is fewer.
                if !vowels_only
                    && osa_distance(&qt.text, &ct.text) > tolerated
                    && osa_distance(&qt.variant, &ct.variant) > tolerated
                {
                    s = beyond_tolerance(s);
                }
            }
            if s > 0.0 {
                edges.push(Edge {
                    sim: s,
                    q: 1 << i,
                    c: 1 << j,
                    why,
                });
            }
        }
    }
    for i in 0..q.len().saturating_sub(1) {
        for (j, ct) in c.iter().enumerate() {
            let s = merged_sim(&q[i], &q[i + 1], ct);
            if s > 0.0 {
                edges.push(Edge {
                    sim: s,
                    q: 0b11 << i,
                    c: 1 << j,
                    why: glued_why(ct, s),
                });
            }
        }
    }
    for j in 0..c.len().saturating_sub(1) {
        for (i, qt) in q.iter().enumerate() {
            let s = merged_sim(&c[j], &c[j + 1], qt);
            if s > 0.0 {
                edges.push(Edge {
                    sim: s,
                    q: 1 << i,
                    c: 0b11 << j,
                    why: glued_why(qt, s),
                });
            }
        }
    }
    let acr = if lenient_middle {
        INITIAL_SIM
    } else {
        ACRONYM_SIM
    };
    acronym_edges(q, c, acr, false, &mut edges);
    acronym_edges(c, q, acr, true, &mut edges);
    // Best pairs first; on ties prefer the edge covering more tokens, then edges on first
    // or last name parts (so that a repeated token leaves a middle one unmatched).
    let (nq, nc) = (q.len(), c.len());
    let rank = |e: &Edge| {
        let qi = e.q.trailing_zeros() as usize;
        let ci = e.c.trailing_zeros() as usize;
        (
            e.q.count_ones() + e.c.count_ones(),
            !is_middle(nq, qi) as u32 + !is_middle(nc, ci) as u32,
        )
    };
    edges.sort_by(|a, b| b.sim.total_cmp(&a.sim).then(rank(b).cmp(&rank(a))));
    let (mut used_q, mut used_c) = (0u32, 0u32);
    let (mut num, mut den) = (0.0f32, 0.0f32);
    let mut taken: Vec<(u32, u32)> = Vec::with_capacity(q.len());
    let mut chosen: Vec<Edge> = Vec::with_capacity(q.len());
    let (mut cut_q, mut cut_c) = (u32::MAX, u32::MAX);
    for e in &edges {
        if used_q & e.q != 0 || used_c & e.c != 0 {
            continue;
        }
        used_q |= e.q;
        used_c |= e.c;
        taken.push((e.q.trailing_zeros(), e.c.trailing_zeros()));
        // Words after the last part of a cut name are missing from it, not different.
        let (qi, ci) = (31 - e.q.leading_zeros(), 31 - e.c.leading_zeros());
        if q[qi as usize].trunc {
            cut_c = ci;
        }
        if c[ci as usize].trunc {
            cut_q = qi;
        }
        chosen.push(*e);
    }
    // A nickname counts fully only beside a part that agrees as well as a spelling variant.
    let anchored = chosen.iter().any(|e| {
        e.why != Why::Nickname
            && e.sim >= VARIANT_SIM
            && (e.q.count_ones() > 1 || !q[e.q.trailing_zeros() as usize].is_initial())
    });
    for e in chosen.iter_mut() {
        if e.why == Why::Nickname && !anchored {
            e.sim = e.sim.min(NICK_ALONE_SIM);
        }
        let w = mask_weight(q, e.q) + mask_weight(c, e.c);
        num += e.sim * w;
        den += w;
    }
    let pairs = if keep { chosen } else { Vec::new() };
    let conflict = lenient_middle && has_middle(q.len(), used_q) && has_middle(c.len(), used_c);
    let middle_factor = if conflict {
        MIDDLE_CONFLICT
    } else {
        MIDDLE_UNMATCHED
    };
    let (middle_factor, edge_factor) = if lenient_middle {
        (middle_factor, EDGE_UNMATCHED)
    } else {
        (1.0, 1.0)
    };
    den += unmatched_cost(
        q,
        used_q | after(cut_q, q.len()),
        middle_factor,
        edge_factor,
    ) + unmatched_cost(
        c,
        used_c | after(cut_c, c.len()),
        middle_factor,
        edge_factor,
    );
    if den <= 0.0 {
        return Alignment::default();
    }
    taken.sort_unstable();
    let reordered = taken.windows(2).any(|w| w[1].1 < w[0].1);
    let s = num / den * if reordered { REORDER_FACTOR } else { 1.0 };
    Alignment {
        score: s.clamp(0.0, 1.0),
        pairs,
        used_q,
        used_c,
        reordered,
    }
}

/// Bit mask of the positions after `i` (none when `i` is `u32::MAX`).
fn after(i: u32, n: usize) -> u32 {
    if i >= 31 || n == 0 {
        return 0;
    }
    let all = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
    all & !((1u32 << (i + 1)) - 1)
}

fn is_middle(n: usize, i: usize) -> bool {
    n >= 3 && i > 0 && i + 1 < n
}

/// Whether some middle token (neither first nor last) is left unmatched.
fn has_middle(n: usize, used: u32) -> bool {
    (0..n).any(|i| is_middle(n, i) && used & (1 << i) == 0)
}

fn unmatched_cost(toks: &[Tok], used: u32, middle_factor: f32, edge_factor: f32) -> f32 {
    let n = toks.len();
    toks.iter()
        .enumerate()
        .filter(|(i, _)| used & (1 << i) == 0)
        .map(|(i, t)| {
            // A syllable of a Chinese, Japanese or Korean name is no optional middle
            // name: 张建平 is not 张建.
            if is_middle(n, i) && !t.syllabic {
                t.weight * middle_factor
            } else {
                t.weight * edge_factor
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::jaro_winkler;

    #[test]
    fn jaro_winkler_reference_values() {
        assert!((jaro_winkler(b"martha", b"marhta") - 0.9611).abs() < 1e-3);
        assert!((jaro_winkler(b"dwayne", b"duane") - 0.84).abs() < 1e-3);
        assert!((jaro_winkler(b"dixon", b"dicksonx") - 0.8133).abs() < 1e-3);
        assert_eq!(jaro_winkler(b"", b"abc"), 0.0);
        assert_eq!(jaro_winkler(b"abc", b"abc"), 1.0);
    }

    #[test]
    fn osa_reference_values() {
        use super::osa_distance;
        assert_eq!(osa_distance(b"diazabalart", b"diazbalart"), 1);
        assert_eq!(osa_distance(b"ca", b"ac"), 1);
        assert_eq!(osa_distance(b"kitten", b"sitting"), 3);
        assert_eq!(osa_distance(b"", b"abc"), 3);
        assert_eq!(osa_distance(b"anna", b"kwanza"), 3);
        assert_eq!(osa_distance(b"castro", b"castor"), 1);
    }
}

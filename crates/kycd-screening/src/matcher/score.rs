//! Name scoring: Jaro-Winkler on bytes, token similarity (initials, nicknames, phonetic
//! skeletons, abjad scripts) and a weighted token alignment that handles reordered,
//! missing, extra and glued name parts.

/// A name part prepared for scoring.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub text: Box<[u8]>,
    pub skel: Box<[u8]>,
    /// Information weight in (0, 1]: rare tokens weigh more (IDF over the loaded names).
    pub weight: f32,
    pub abjad: bool,
    pub nick: u128,
}

impl Tok {
    fn is_initial(&self) -> bool {
        self.text.len() == 1
    }
}

/// Token similarity below which two tokens are not considered the same name part.
const MIN_JW: f32 = 0.80;
/// An initial against a full token starting with that letter.
const INITIAL_SIM: f32 = 0.80;
/// Two given names of the same nickname group (Bob / Robert).
const NICK_SIM: f32 = 0.88;
/// Same consonant skeleton (Mohammed / Muhammad), tokens of four letters or more.
const SKEL_SIM: f32 = 0.88;
/// Weight kept by an unmatched middle name (a name part that is neither first nor last).
const MIDDLE_UNMATCHED: f32 = 0.45;
/// Glued words ("abdulrahman" / "abdul rahman") must be at least this similar.
const MERGE_MIN: f32 = 0.90;

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
    for i in 0..la {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(lb);
        for j in lo..hi {
            if b_match & (1 << j) == 0 && a[i] == b[j] {
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
    for i in 0..la {
        if a_match & (1 << i) != 0 {
            while b_match & (1 << j) == 0 {
                j += 1;
            }
            if a[i] != b[j] {
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

/// Maps a raw Jaro-Winkler value to a similarity: below [`MIN_JW`] nothing, above it a
/// steeper scale so that near misses count less than exact tokens.
fn stretch(jw: f32) -> f32 {
    if jw < MIN_JW { 0.0 } else { 1.0 - (1.0 - jw) * 2.0 }
}

/// Similarity of two tokens in [0, 1].
pub(crate) fn token_sim(q: &Tok, c: &Tok) -> f32 {
    if q.text == c.text {
        return 1.0;
    }
    if q.is_initial() || c.is_initial() {
        let both = q.is_initial() && c.is_initial();
        return if !both && q.text[0] == c.text[0] { INITIAL_SIM } else { 0.0 };
    }
    let mut best = 0.0f32;
    if q.nick & c.nick != 0 {
        best = NICK_SIM;
    }
    let min_len = q.text.len().min(c.text.len());
    if q.abjad || c.abjad {
        // Vowels are not written: compare consonant skeletons.
        if !q.skel.is_empty() && q.skel == c.skel {
            return best.max(SKEL_SIM);
        }
        if q.skel.len() >= 2 && c.skel.len() >= 2 {
            best = best.max(stretch(jaro_winkler(&q.skel, &c.skel)) * 0.9);
        }
    }
    if min_len >= 4 && q.skel.len() >= 2 && q.skel == c.skel {
        best = best.max(SKEL_SIM);
    }
    let jw = jaro_winkler(&q.text, &c.text);
    let s = if min_len <= 3 && jw < 0.9 { 0.0 } else { stretch(jw) };
    best.max(s)
}

/// Similarity of the two tokens `a`+`b` glued against `c` (0 when clearly different).
fn merged_sim(a: &Tok, b: &Tok, c: &Tok) -> f32 {
    let len = a.text.len() + b.text.len();
    if a.text.len() < 2 || b.text.len() < 2 || len.abs_diff(c.text.len()) > 2 {
        return 0.0;
    }
    if a.text[0] != c.text[0] {
        return 0.0;
    }
    let mut buf = [0u8; 64];
    let n = len.min(64);
    let (la, lb) = (a.text.len().min(n), (n - a.text.len().min(n)).min(b.text.len()));
    buf[..la].copy_from_slice(&a.text[..la]);
    buf[la..la + lb].copy_from_slice(&b.text[..lb]);
    let s = stretch(jaro_winkler(&buf[..la + lb], &c.text));
    if s >= MERGE_MIN { s } else { 0.0 }
}

/// One aligned group: query tokens (bit mask), candidate tokens (bit mask), similarity.
#[derive(Clone, Copy)]
struct Edge {
    sim: f32,
    q: u32,
    c: u32,
}

fn mask_weight(toks: &[Tok], mask: u32) -> f32 {
    toks.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, t)| t.weight)
        .sum()
}

/// Score of a query name against a candidate name in [0, 1]. `lenient_middle` lets an
/// unmatched middle name (persons) cost less than an unmatched first or last name.
pub(crate) fn name_score(q: &[Tok], c: &[Tok], lenient_middle: bool) -> f32 {
    if q.is_empty() || c.is_empty() {
        return 0.0;
    }
    let q = &q[..q.len().min(16)];
    let c = &c[..c.len().min(16)];
    let mut edges: Vec<Edge> = Vec::with_capacity(q.len() * c.len() + 4);
    for (i, qt) in q.iter().enumerate() {
        for (j, ct) in c.iter().enumerate() {
            let s = token_sim(qt, ct);
            if s > 0.0 {
                edges.push(Edge { sim: s, q: 1 << i, c: 1 << j });
            }
        }
    }
    for i in 0..q.len().saturating_sub(1) {
        for (j, ct) in c.iter().enumerate() {
            let s = merged_sim(&q[i], &q[i + 1], ct);
            if s > 0.0 {
                edges.push(Edge { sim: s, q: 0b11 << i, c: 1 << j });
            }
        }
    }
    for j in 0..c.len().saturating_sub(1) {
        for (i, qt) in q.iter().enumerate() {
            let s = merged_sim(&c[j], &c[j + 1], qt);
            if s > 0.0 {
                edges.push(Edge { sim: s, q: 1 << i, c: 0b11 << j });
            }
        }
    }
    // Best pairs first; on ties prefer the edge covering more tokens.
    edges.sort_unstable_by(|a, b| {
        b.sim
            .total_cmp(&a.sim)
            .then((b.q.count_ones() + b.c.count_ones()).cmp(&(a.q.count_ones() + a.c.count_ones())))
    });
    let (mut used_q, mut used_c) = (0u32, 0u32);
    let (mut num, mut den) = (0.0f32, 0.0f32);
    for e in &edges {
        if used_q & e.q != 0 || used_c & e.c != 0 {
            continue;
        }
        used_q |= e.q;
        used_c |= e.c;
        let w = mask_weight(q, e.q) + mask_weight(c, e.c);
        num += e.sim * w;
        den += w;
    }
    den += unmatched_cost(q, used_q, lenient_middle) + unmatched_cost(c, used_c, lenient_middle);
    if den <= 0.0 { 0.0 } else { (num / den).clamp(0.0, 1.0) }
}

fn unmatched_cost(toks: &[Tok], used: u32, lenient_middle: bool) -> f32 {
    let n = toks.len();
    toks.iter()
        .enumerate()
        .filter(|(i, _)| used & (1 << i) == 0)
        .map(|(i, t)| {
            let middle = lenient_middle && n >= 3 && i > 0 && i + 1 < n;
            if middle { t.weight * MIDDLE_UNMATCHED } else { t.weight }
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
}

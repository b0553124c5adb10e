//! Hangul names against their Latin spellings. A Hangul syllable is an initial consonant,
//! a vowel and an optional final consonant; each has a small set of Latin spellings: the
//! Revised Romanization of Korean (RR, Ministry of Culture and Tourism, 2000), McCune–
//! Reischauer without its breves and apostrophes (MR: k/g, p/b, t/d, ch/j at a syllable's
//! start, ŏ → o, ŭ → u) and the customary spellings seen in passports, the press and the
//! UN and OFAC lists (eo → u before a final consonant as in Sung, Jung, Hyun, Suk;
//! u → oo as in Joon, Soo, Moon; ui → ee or i as in Hee; yeo → you as in Young). A Latin token matches a Hangul token when
//! it can be cut into the syllables in order, each spelled one of its ways: a different
//! syllable (성 seong against "min") finds no spelling, so one different syllable still
//! makes another name.
//!
//! Surnames also follow the initial-sound rule (두음법칙: 李 is 이 in the South and 리 in
//! the North, 林 임 / 림, 盧 노 / 로), so a name's first syllable may be spelled with r, l or
//! n where Hangul writes ㅇ or ㄴ, and one-syllable names may add an h after the vowel
//! (Oh, Koh, Ahn, Sohn, Suh, Uhm). The few customary surname spellings that follow no rule
//! (Park for 박, Lee, Yi and Rhee for 이) are listed in [`customary`].

/// Hangul syllables block.
const FIRST: u32 = 0xAC00;
const LAST: u32 = 0xD7A3;

/// Whether `c` is a precomposed Hangul syllable.
pub fn is_hangul(c: char) -> bool {
    (FIRST..=LAST).contains(&(c as u32))
}

/// (initial, vowel, final) indices of a Hangul syllable.
fn jamo(c: char) -> Option<(usize, usize, usize)> {
    let s = (c as u32).checked_sub(FIRST).filter(|_| is_hangul(c))? as usize;
    Some((s / (21 * 28), (s / 28) % 21, s % 28))
}

/// Spellings of the 19 initial consonants (ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ).
const INITIALS: [&[&str]; 19] = [
    &["g", "k"],
    &["kk", "gg", "k", "g"],
    &["n"],
    &["d", "t"],
    &["tt", "dd", "t", "d"],
    &["r", "l"],
    &["m"],
    &["b", "p"],
    &["pp", "bb", "p", "b"],
    &["s"],
    &["ss", "s"],
    &[""],
    &["j", "ch"],
    &["jj", "tch", "ch", "j"],
    &["ch"],
    &["k", "kh"],
    &["t", "th"],
    &["p", "ph"],
    &["h"],
];

/// Spellings of the 21 vowels (ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ).
const VOWELS: [&[&str]; 21] = [
    &["a"],
    &["ae", "ai", "e"],
    &["ya"],
    &["yae", "ye"],
    &["eo", "o"],
    &["e"],
    &["yeo", "yo"],
    &["ye"],
    &["o"],
    &["wa"],
    &["wae", "we"],
    &["oe", "oi", "we"],
    &["yo"],
    &["u", "oo", "ou"],
    &["wo", "weo"],
    &["we"],
    &["wi", "wee"],
    &["yu", "yoo", "you"],
    &["eu", "u"],
    &["ui", "eui", "i", "ee"],
    &["i", "ee"],
];

/// Spellings of the 28 finals (none, ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ ㄿ ㅀ ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ
/// ㅈ ㅊ ㅋ ㅌ ㅍ ㅎ).
const FINALS: [&[&str]; 28] = [
    &[""],
    &["k", "g"],
    &["k", "kk"],
    &["k"],
    &["n"],
    &["n"],
    &["n"],
    &["t", "d"],
    &["l", "r"],
    &["k", "l"],
    &["m"],
    &["l"],
    &["l"],
    &["l"],
    &["p"],
    &["l"],
    &["m"],
    &["p", "b"],
    &["p"],
    &["t", "s"],
    &["t", "s"],
    &["ng"],
    &["t", "j"],
    &["t"],
    &["k"],
    &["t"],
    &["p"],
    &["t", "h"],
];

/// Vowels that start with an i or y sound (ㅑ ㅒ ㅕ ㅖ ㅛ ㅟ ㅠ ㅢ ㅣ): ㅅ before them is often
/// written sh (Shin, Shim), and ㅇ before them stands for a dropped ㄹ or ㄴ (Ri, Ryu, Lim).
fn i_like(v: usize) -> bool {
    matches!(v, 2 | 3 | 6 | 7 | 12 | 16 | 17 | 19 | 20)
}

/// Customary spellings of one-syllable surnames that no rule above gives.
fn customary(c: char) -> &'static [&'static str] {
    match c {
        '박' => &["park", "bark"],
        '이' | '리' => &["lee", "yi", "rhee", "yee", "rhie"],
        '최' => &["choy", "chey"],
        '서' => &["suh"],
        '유' | '류' => &["ryu", "rhyu", "lyu"],
        _ => &[],
    }
}

/// One position of a Latin spelling: a set of alternatives.
type Slot = Vec<&'static str>;

/// The slots of a Hangul token: initial, vowel, (h), final per syllable.
fn slots(syls: &[char]) -> Vec<Slot> {
    let mut out = Vec::with_capacity(syls.len() * 3);
    for (k, &c) in syls.iter().enumerate() {
        let Some((l, v, t)) = jamo(c) else { continue };
        let mut init: Slot = INITIALS[l].to_vec();
        if l == 9 && i_like(v) {
            init.push("sh");
        }
        if k == 0 {
            // The initial-sound rule: a dropped ㄹ (or ㄴ) may be written back.
            match l {
                11 if i_like(v) => init.extend(["r", "l", "n"]),
                2 => init.extend(["r", "l"]),
                _ => {}
            }
        }
        let mut vow: Slot = VOWELS[v].to_vec();
        if t != 0 {
            // ㅓ and ㅕ before a final consonant: the u of Sung, Jung, Hyun, Suk, Young
            // (not in an open syllable: 서 is Seo or Suh, not Su).
            match v {
                4 => vow.push("u"),
                6 => vow.extend(["yu", "you"]),
                _ => {}
            }
        }
        if l == 11 && v == 13 {
            // 우 is often Woo.
            vow.extend(["woo", "wu"]);
        }
        out.push(init);
        out.push(vow);
        if syls.len() == 1 {
            out.push(vec!["", "h"]);
        }
        out.push(FINALS[t].to_vec());
    }
    out
}

/// Whether `latin` (lowercase ASCII letters) spells the Hangul syllables `syls`.
pub fn matches(syls: &[char], latin: &[u8]) -> bool {
    if syls.is_empty() || latin.is_empty() || syls.len() > 6 {
        return false;
    }
    if syls.len() == 1 && customary(syls[0]).iter().any(|s| s.as_bytes() == latin) {
        return true;
    }
    let slots = slots(syls);
    fits(&slots, latin)
}

fn fits(slots: &[Slot], rest: &[u8]) -> bool {
    let Some((first, others)) = slots.split_first() else {
        return rest.is_empty();
    };
    first
        .iter()
        .any(|alt| rest.starts_with(alt.as_bytes()) && fits(others, &rest[alt.len()..]))
}

/// Most spellings given by [`spellings`] for one token.
pub const MAX_SPELLINGS: usize = 256;

/// Calls `f` with the Latin spellings of the Hangul syllables `syls` (at most
/// [`MAX_SPELLINGS`]), for finding candidates by their spelling.
pub fn spellings(syls: &[char], mut f: impl FnMut(&[u8])) {
    if syls.is_empty() || syls.len() > 6 {
        return;
    }
    if syls.len() == 1 {
        for s in customary(syls[0]) {
            f(s.as_bytes());
        }
    }
    let slots = slots(syls);
    let mut buf: Vec<u8> = Vec::with_capacity(32);
    let mut count = 0usize;
    walk(&slots, &mut buf, &mut count, &mut f);
}

fn walk(slots: &[Slot], buf: &mut Vec<u8>, count: &mut usize, f: &mut impl FnMut(&[u8])) {
    if *count >= MAX_SPELLINGS {
        return;
    }
    let Some((first, others)) = slots.split_first() else {
        *count += 1;
        f(buf);
        return;
    };
    for alt in first {
        let len = buf.len();
        buf.extend_from_slice(alt.as_bytes());
        walk(others, buf, count, f);
        buf.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(h: &str, l: &str) -> bool {
        let syls: Vec<char> = h.chars().collect();
        matches(&syls, l.as_bytes())
    }

    #[test]
    fn given_names_in_rr_mr_and_passport_spellings() {
        for l in ["jisung", "jiseong", "chisong", "jisong", "chisung"] {
            assert!(m("지성", l), "{l}");
        }
        for l in ["jongun", "jeongeun", "chongun", "jungeun"] {
            assert!(m("정은", l), "{l}");
        }
        assert!(m("희", "hee"));
        assert!(m("희", "hui"));
        assert!(m("준", "joon"));
        assert!(m("영", "young"));
        assert!(m("현", "hyun"));
        assert!(m("석", "suk"));
        assert!(m("수", "soo"));
    }

    #[test]
    fn surnames_by_rule_and_by_custom() {
        for l in ["park", "pak", "bak"] {
            assert!(m("박", l), "{l}");
        }
        for l in ["lee", "yi", "rhee", "ri", "li", "i"] {
            assert!(m("이", l), "{l}");
        }
        for l in ["choi", "choe"] {
            assert!(m("최", l), "{l}");
        }
        for l in ["jung", "chung", "jeong"] {
            assert!(m("정", l), "{l}");
        }
        for l in ["oh", "o"] {
            assert!(m("오", l), "{l}");
        }
        assert!(m("안", "ahn"));
        assert!(m("손", "sohn"));
        assert!(m("임", "lim"));
        assert!(m("노", "roh"));
        assert!(m("윤", "yoon"));
        assert!(m("신", "shin"));
    }

    #[test]
    fn another_syllable_is_another_name() {
        assert!(!m("지성", "jimin"));
        assert!(!m("지성", "jisang"));
        assert!(!m("정은", "jongil"));
        assert!(!m("박", "pok"));
        assert!(!m("김", "kang"));
        assert!(!m("지성", "ji"));
        assert!(!m("지성", "jisungho"));
        // eo is u only before a final consonant: 서 is Seo, So or Suh, 수 is Su
        assert!(!m("서영", "suyong"));
        assert!(m("서영", "seoyoung"));
        assert!(m("서", "suh"));
    }

    #[test]
    fn spellings_include_the_usual_ones() {
        let mut all = Vec::new();
        spellings(&['지', '성'], |s| {
            all.push(String::from_utf8_lossy(s).into_owned())
        });
        assert!(all.contains(&"jisung".to_string()));
        assert!(all.contains(&"jiseong".to_string()));
        assert!(all.len() <= MAX_SPELLINGS);
    }
}

//! Organisation name facts: legal forms (OpenSanctions rigour `org_types.yml`, MIT, see
//! `data/org_types.tsv`), ordinal and cardinal numbers (rigour `ordinals.yml` plus English
//! cardinals) and the usual abbreviations of organisation words (`Int'l`, `Natl`, `Mfg`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::translit::to_ascii;

/// A legal form recognised in a name: its comparison form and its generic class
/// (`LLC`, `JSC`, `LP`, ...; empty when the source gives none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegalForm {
    pub compare: &'static str,
    pub generic: &'static str,
}

impl LegalForm {
    /// Whether two forms name different kinds of company (GmbH vs AG). Forms of the same
    /// generic class (Ltd / LLC / GmbH) do not conflict.
    pub fn conflicts(&self, other: &LegalForm) -> bool {
        if !self.generic.is_empty() && !other.generic.is_empty() {
            return self.generic != other.generic;
        }
        !self.compare.eq_ignore_ascii_case(other.compare)
    }
}

const ORG_TYPES: &str = include_str!("../../data/org_types.tsv");
const ORDINALS: &str = include_str!("../../data/ordinals.tsv");

/// Longest legal-form phrase, in words.
pub const MAX_FORM_WORDS: usize = 8;

/// Words of a phrase the way the tokenizer splits names (apostrophes join).
fn words(s: &str) -> Vec<String> {
    let mut ascii = String::new();
    to_ascii(s, &mut ascii);
    let ascii: String = ascii.chars().filter(|c| !matches!(c, '\'' | '`')).collect();
    ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Words with each whitespace chunk glued ("S.A." → "sa", "o.o." → "oo").
fn glued_words(s: &str) -> Vec<String> {
    let mut ascii = String::new();
    to_ascii(s, &mut ascii);
    ascii
        .split_whitespace()
        .map(|c| c.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
        .filter(|w: &String| !w.is_empty())
        .collect()
}

/// Legal-form phrases (words joined by spaces) → form.
pub fn forms() -> &'static HashMap<String, LegalForm> {
    static T: OnceLock<HashMap<String, LegalForm>> = OnceLock::new();
    T.get_or_init(|| {
        let mut map = HashMap::new();
        for (phrase, compare, generic) in EXTRA_FORMS {
            map.insert((*phrase).to_string(), LegalForm { compare, generic });
        }
        for line in ORG_TYPES.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split('\t');
            let (Some(alias), Some(compare), generic) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let form = LegalForm {
                compare,
                generic: generic.unwrap_or(""),
            };
            for ws in [words(alias), glued_words(alias)] {
                if ws.is_empty() || ws.len() > MAX_FORM_WORDS {
                    continue;
                }
                // Lone one- or two-letter words ("in", "ky") are name parts too often.
                if ws.len() == 1 && ws[0].len() <= 2 && !SHORT_FORMS.contains(&ws[0].as_str()) {
                    continue;
                }
                map.entry(ws.join(" ")).or_insert(form);
            }
        }
        map
    })
}

/// Transliteration variants and cut phrases the table does not spell out (kycd's own).
const EXTRA_FORMS: &[(&str, &str, &str)] = &[
    ("joint stock", "JSC", "JSC"),
    ("closed joint stock", "CJSC", "JSC"),
    ("open joint stock", "OJSC", "JSC"),
    ("public joint stock", "PJSC", "JSC"),
    ("obshchestvo s ogranichennoi otvetstvennostiu", "OOO", "LLC"),
    ("obshchestvo s ogranichennoy otvetstvennostyu", "OOO", "LLC"),
    ("obshchestvo s ogranichennoi otvetstvennostyu", "OOO", "LLC"),
    ("obshestvo s ogranichennoy otvetstvennostyu", "OOO", "LLC"),
    ("aktsionernoe obshchestvo", "AO", "JSC"),
    ("aktsionernoye obshchestvo", "AO", "JSC"),
    ("zakrytoe aktsionernoe obshchestvo", "ZAO", "JSC"),
    ("otkrytoe aktsionernoe obshchestvo", "OAO", "JSC"),
    ("publichnoe aktsionernoe obshchestvo", "PAO", "JSC"),
    ("spolka z ograniczona odpowiedzialnoscia", "Spzoo", "LLC"),
];

/// Two-letter forms recognised alone (the others need a longer phrase around them).
const SHORT_FORMS: &[&str] = &[
    "ag", "kg", "sa", "bv", "nv", "oy", "ab", "as", "co", "cv", "ao", "pt", "sl", "ad", "dd", "ep",
    "ky", "se", "ug", "oo",
];

/// Number words → digits: ordinals from the rigour table (English and other languages,
/// "1st", "first", "erste") and English cardinals.
pub fn numbers() -> &'static HashMap<String, String> {
    static T: OnceLock<HashMap<String, String>> = OnceLock::new();
    T.get_or_init(|| {
        let mut map = HashMap::new();
        for line in ORDINALS.lines().filter(|l| !l.starts_with('#')) {
            let Some((n, form)) = line.split_once('\t') else {
                continue;
            };
            let ws = words(form);
            // Single words only, and not bare digits or roman numerals ("i", "v").
            if ws.len() == 1 && ws[0].len() >= 3 && ws[0] != n && !is_roman(&ws[0]) {
                map.entry(ws[0].clone()).or_insert_with(|| n.to_string());
            }
        }
        for (i, w) in CARDINALS.iter().enumerate() {
            map.insert((*w).to_string(), i.to_string());
        }
        for (n, w) in [(30, "thirty"), (40, "forty"), (50, "fifty"), (60, "sixty")] {
            map.insert(w.to_string(), n.to_string());
        }
        for (n, w) in [
            (70, "seventy"),
            (80, "eighty"),
            (90, "ninety"),
            (100, "hundred"),
        ] {
            map.insert(w.to_string(), n.to_string());
        }
        map
    })
}

fn is_roman(w: &str) -> bool {
    w.bytes()
        .all(|b| matches!(b, b'i' | b'v' | b'x' | b'l' | b'c' | b'd' | b'm'))
        || w.ends_with("th") && w[..w.len() - 2].bytes().all(|b| b"ivxlcdm".contains(&b))
}

const CARDINALS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Abbreviated organisation words → the written-out word.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("intl", "international"),
    ("natl", "national"),
    ("mfg", "manufacturing"),
    ("mfrs", "manufacturers"),
    ("bros", "brothers"),
    ("assn", "association"),
    ("assoc", "association"),
    ("dept", "department"),
    ("govt", "government"),
    ("inds", "industries"),
    ("indus", "industrial"),
    ("tech", "technology"),
    ("svcs", "services"),
    ("grp", "group"),
    ("hldgs", "holdings"),
    ("hldg", "holding"),
    ("mgmt", "management"),
    ("univ", "university"),
    ("petrochem", "petrochemical"),
    ("st", "saint"),
    ("mt", "mount"),
];

/// Words dropped inside organisation names ("Bank of Foo" / "Foo Bank").
pub const ORG_STOPWORDS: &[&str] = &["and", "the", "of", "und", "et", "y", "for"];

/// The written-out form of an organisation word, or the number it spells ("twelfth" → 12).
pub fn canonical_org_word(w: &str) -> Option<String> {
    if let Some((_, full)) = ABBREVIATIONS.iter().find(|(a, _)| *a == w) {
        return Some((*full).to_string());
    }
    if let Some(n) = numbers().get(w) {
        return Some(n.clone());
    }
    // 1st, 2nd, 3rd, 12th → the digits
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty() && matches!(&w[digits.len()..], "st" | "nd" | "rd" | "th") {
        return Some(digits);
    }
    None
}

/// The legal form at the end (or the start) of `words`: the longest phrase of the table
/// that leaves at least one word, with the number of words it covers.
pub fn trailing_form(words: &[String]) -> Option<(usize, LegalForm)> {
    let t = forms();
    let max = (words.len().saturating_sub(1)).min(MAX_FORM_WORDS);
    (1..=max).rev().find_map(|n| {
        let key = words[words.len() - n..].join(" ");
        t.get(&key).map(|f| (n, *f))
    })
}

/// Same as [`trailing_form`] at the start of the name ("OOO Romashka").
pub fn leading_form(words: &[String]) -> Option<(usize, LegalForm)> {
    let t = forms();
    let max = (words.len().saturating_sub(1)).min(MAX_FORM_WORDS);
    (1..=max).rev().find_map(|n| {
        let key = words[..n].join(" ");
        t.get(&key).map(|f| (n, *f))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn written_out_and_abbreviated_forms_meet() {
        let f = |s: &str| trailing_form(&w(s)).map(|(_, f)| f);
        assert_eq!(f("Acme AG"), f("Acme Aktiengesellschaft"));
        assert_eq!(f("Acme LLC"), f("Acme Limited Liability Company"));
        assert_eq!(f("Acme JSC"), f("Acme Joint Stock Company"));
        assert!(f("Acme Sp. z o.o.").is_some());
        assert!(f("Acme GmbH").unwrap().conflicts(&f("Acme AG").unwrap()));
        assert!(!f("Acme Ltd").unwrap().conflicts(&f("Acme LLC").unwrap()));
        let l = |s: &str| leading_form(&w(s)).map(|(_, f)| f);
        assert_eq!(l("OOO Romashka"), l("ООО Romashka"));
    }

    #[test]
    fn numbers_and_abbreviations() {
        assert_eq!(canonical_org_word("twelve").as_deref(), Some("12"));
        assert_eq!(canonical_org_word("first").as_deref(), Some("1"));
        assert_eq!(canonical_org_word("1st").as_deref(), Some("1"));
        assert_eq!(canonical_org_word("twelfth").as_deref(), Some("12"));
        assert_eq!(canonical_org_word("intl").as_deref(), Some("international"));
        assert_eq!(canonical_org_word("acme"), None);
    }
}

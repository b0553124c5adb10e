//! Name normalisation: transliteration, case and punctuation, "LAST, First" order,
//! honorifics, generational suffixes and company forms, then tokens with phonetic keys.

mod nicknames;
mod translit;

use crate::model::EntityKind;

pub use translit::to_ascii;

/// Longest name considered (characters); longer input is cut.
pub const MAX_NAME_CHARS: usize = 200;
/// Most tokens kept from one name.
pub const MAX_TOKENS: usize = 12;
/// Longest token kept (bytes, ASCII after transliteration).
pub const MAX_TOKEN_LEN: usize = 32;

/// One normalised name part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lowercase ASCII letters and digits.
    pub text: String,
    /// Consonant skeleton (phonetic key): vowels dropped, doubled letters collapsed.
    pub skel: String,
    /// Spelling-variant form (see [`variant_form`]): Sergey and Sergei share "sergei".
    pub variant: String,
    /// Came from a script that does not write short vowels (Arabic, Hebrew).
    pub abjad: bool,
    /// Given-name equivalence groups (nicknames), as a bit set.
    pub nick: u128,
}

const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "doctor",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "lady",
    "sheikh",
    "shaikh",
    "sheik",
    "shaykh",
    "cheikh",
    "haji",
    "hajji",
    "hadji",
    "alhaji",
    "alhaj",
    "hajj",
    "imam",
    "mullah",
    "mulla",
    "maulana",
    "mawlana",
    "maulvi",
    "mawlawi",
    "rev",
    "reverend",
    "fr",
    "father",
    "gen",
    "general",
    "col",
    "colonel",
    "maj",
    "major",
    "capt",
    "captain",
    "lt",
    "sgt",
    "hon",
    "honorable",
    "honourable",
    "senator",
    "sen",
    "rep",
    "mme",
    "mlle",
    "herr",
    "frau",
    "sra",
    "srta",
    "sr",
    "sri",
    "shri",
    "smt",
];

const SUFFIXES: &[&str] = &[
    "jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "esq",
];

/// Company forms removed at the end of organisation names ("de" only inside a chain).
const FORMS_TRAILING: &[&str] = &[
    "llc",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "sl",
    "bv",
    "nv",
    "oy",
    "oyj",
    "ab",
    "as",
    "asa",
    "aps",
    "kft",
    "sro",
    "doo",
    "ooo",
    "oao",
    "zao",
    "pao",
    "jsc",
    "ojsc",
    "cjsc",
    "pjsc",
    "llp",
    "lp",
    "pte",
    "pty",
    "bhd",
    "sdn",
    "tbk",
    "cv",
    "rl",
    "lda",
    "ltda",
    "sae",
    "sal",
    "fze",
    "fzco",
    "fzc",
    "fzllc",
    "wll",
    "est",
    "pvt",
    "private",
    "ulc",
    "ug",
    "sapi",
    "spa",
];

/// Company forms removed at the start of organisation names.
const FORMS_LEADING: &[&str] = &[
    "ooo", "oao", "zao", "pao", "ao", "jsc", "ojsc", "cjsc", "pjsc", "tov", "pt", "cv", "the",
];

/// Spelled-out legal forms removed at either end of organisation names (after
/// transliteration: the Russian "общество с ограниченной ответственностью" is an OOO).
const FORM_PHRASES: &[&[&str]] = &[
    &["obshchestvo", "s", "ogranichennoy", "otvetstvennostyu"],
    &["publichnoye", "aktsionernoye", "obshchestvo"],
    &["zakrytoye", "aktsionernoye", "obshchestvo"],
    &["otkrytoye", "aktsionernoye", "obshchestvo"],
    &["aktsionernoye", "obshchestvo"],
    &["tovarystvo", "z", "obmezhenoyu", "vidpovidalnistyu"],
    &["limited", "liability", "company"],
    &["public", "joint", "stock", "company"],
    &["closed", "joint", "stock", "company"],
    &["open", "joint", "stock", "company"],
    &["joint", "stock", "company"],
    &["sociedad", "de", "responsabilidad", "limitada"],
    &["sociedad", "anonima"],
    &["societe", "anonyme"],
];

/// How a name is cleaned depends on what it names.
#[derive(Debug, Clone, Copy)]
pub struct NameContext {
    pub strip_titles: bool,
    pub strip_company_forms: bool,
}

impl NameContext {
    /// Titles are removed from persons, company forms from the others; both when unknown.
    pub fn for_kind(kind: Option<EntityKind>) -> NameContext {
        match kind {
            Some(EntityKind::Person) => NameContext {
                strip_titles: true,
                strip_company_forms: false,
            },
            Some(EntityKind::Organization | EntityKind::Vessel | EntityKind::Aircraft) => {
                NameContext {
                    strip_titles: false,
                    strip_company_forms: true,
                }
            }
            _ => NameContext {
                strip_titles: true,
                strip_company_forms: true,
            },
        }
    }
}

fn is_company_form(word: &str) -> bool {
    FORMS_TRAILING.contains(&word) || FORMS_LEADING.contains(&word)
}

fn is_form_or_suffix(word: &str) -> bool {
    SUFFIXES.contains(&word) || FORMS_TRAILING.contains(&word) || word == "de"
}

/// Words of a name part, lowercase ASCII, dotted abbreviations glued ("S.A." → "sa").
fn simple_words(part: &str) -> Vec<String> {
    let mut ascii = String::new();
    to_ascii(part, &mut ascii);
    ascii
        .split_whitespace()
        .flat_map(|chunk| {
            let glued: String = chunk
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            if chunk.contains('.') && is_form_or_suffix(&glued) {
                vec![glued]
            } else {
                chunk
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect()
            }
        })
        .collect()
}

/// Turns "LAST, First" into "First LAST", keeping trailing ", Jr." / ", S.A." parts at the end.
fn reorder_comma(raw: &str) -> String {
    if !raw.contains(',') {
        return raw.to_string();
    }
    let mut parts: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut tail: Vec<&str> = Vec::new();
    while parts.len() > 1 {
        let words = simple_words(parts[parts.len() - 1]);
        if !words.is_empty() && words.iter().all(|w| is_form_or_suffix(w)) {
            tail.insert(0, parts.pop().unwrap_or_default());
        } else {
            break;
        }
    }
    let mut out = if parts.len() == 2 && simple_words(parts[0]).len() <= 4 {
        format!("{} {}", parts[1], parts[0])
    } else {
        parts.join(" ")
    };
    for t in tail {
        out.push(' ');
        out.push_str(t);
    }
    out
}

/// The consonant skeleton of a token: a phonetic key tolerant to vowel spelling
/// (Mohammed / Muhammad → "mhmd") and to doubled letters. A token starting with a vowel
/// gets a leading `@`, so that Ahmad ("@hmd") and Hamid ("hmd") stay apart while Osama
/// and Usama ("@sm") meet.
pub fn skeleton(t: &str) -> String {
    let b = t.as_bytes();
    let mut out = String::with_capacity(b.len() + 1);
    if matches!(b.first(), Some(b'a' | b'e' | b'i' | b'o' | b'u' | b'y')) {
        out.push('@');
    }
    let mut last = 0u8;
    let mut i = 0;
    while i < b.len() {
        let mut c = b[i];
        match c {
            b'p' if b.get(i + 1) == Some(&b'h') => {
                c = b'f';
                i += 1;
            }
            b'c' if b.get(i + 1) == Some(&b'k') => {
                c = b'k';
                i += 1;
            }
            b'q' | b'c' => c = b'k',
            b'z' => c = b's',
            b'w' => c = b'v',
            _ => {}
        }
        i += 1;
        if matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y') {
            last = 0;
            continue;
        }
        if c != last {
            out.push(c as char);
        }
        last = c;
    }
    out
}

/// A spelling-variant form of a token, folding the usual transliteration alternatives:
/// y/i, kh/h, ph/f, ck/k, q/k, w/v, ou/oo/u, ee/i, tch/ch, sch/sh, doubled letters.
pub fn variant_form(t: &str) -> String {
    const RULES: [(&str, &str); 10] = [
        ("tch", "ch"),
        ("sch", "sh"),
        ("kh", "h"),
        ("ph", "f"),
        ("ck", "k"),
        ("ou", "u"),
        ("oo", "u"),
        ("ee", "i"),
        ("q", "k"),
        ("w", "v"),
    ];
    let mut s = t.replace('y', "i");
    for (from, to) in RULES {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut last = '\0';
    for c in s.chars() {
        if c != last {
            out.push(c);
        }
        last = c;
    }
    out
}

fn make_token(text: &str, abjad: bool) -> Token {
    let text: String = text.chars().take(MAX_TOKEN_LEN).collect();
    Token {
        skel: skeleton(&text),
        variant: variant_form(&text),
        nick: nicknames::groups(&text),
        abjad,
        text,
    }
}

/// Normalises a name into tokens. Never panics; input is capped at [`MAX_NAME_CHARS`]
/// characters and [`MAX_TOKENS`] tokens.
pub fn tokenize(raw: &str, ctx: NameContext) -> Vec<Token> {
    let capped: String = raw.chars().take(MAX_NAME_CHARS).collect();
    let reordered = reorder_comma(&capped);
    let mut ascii = String::with_capacity(reordered.len() + 8);
    let seen = to_ascii(&reordered, &mut ascii);
    let mut words: Vec<String> = Vec::new();
    for chunk in ascii.split_whitespace() {
        if words.len() > MAX_TOKENS * 2 {
            break;
        }
        let glued: String = chunk
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        if chunk.contains('.') && ctx.strip_company_forms && is_company_form(&glued) {
            words.push(glued);
            continue;
        }
        // Apostrophes join (O'Rourke → orourke); every other mark separates.
        let cleaned: String = chunk.chars().filter(|c| !matches!(c, '\'' | '`')).collect();
        words.extend(
            cleaned
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
    }
    strip(&mut words, ctx);
    words.truncate(MAX_TOKENS);
    words.iter().map(|w| make_token(w, seen.abjad)).collect()
}

fn strip(words: &mut Vec<String>, ctx: NameContext) {
    if ctx.strip_titles {
        // A title is only dropped when two name parts remain ("Shri Thanedar" stays).
        while words.len() > 2 && TITLES.contains(&words[0].as_str()) {
            words.remove(0);
        }
        while words.len() > 1 && SUFFIXES.contains(&words[words.len() - 1].as_str()) {
            words.pop();
        }
    }
    if ctx.strip_company_forms {
        for phrase in FORM_PHRASES {
            let n = phrase.len();
            if words.len() > n && words[..n].iter().zip(*phrase).all(|(w, p)| w == p) {
                words.drain(..n);
            }
            let len = words.len();
            if len > n && words[len - n..].iter().zip(*phrase).all(|(w, p)| w == p) {
                words.truncate(len - n);
            }
        }
        let mut popped = false;
        while words.len() > 1 {
            let last = words[words.len() - 1].as_str();
            if FORMS_TRAILING.contains(&last) || (popped && last == "de") {
                words.pop();
                popped = true;
            } else {
                break;
            }
        }
        while words.len() > 1 && FORMS_LEADING.contains(&words[0].as_str()) {
            words.remove(0);
        }
    }
}

/// The normalised form of a name as one string (tokens joined by spaces), treating the
/// name as of unknown kind (titles and company forms both removed).
pub fn normalize_name(raw: &str) -> String {
    tokenize(raw, NameContext::for_kind(None))
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

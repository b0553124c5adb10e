//! Name normalisation: transliteration, case and punctuation, "LAST, First" order,
//! honorifics, generational suffixes and company forms, then tokens with phonetic keys.

mod indic;
mod japanese;
pub mod korean;
pub mod loose;
pub(crate) mod nicknames;
pub mod orgs;
mod translit;

use crate::model::EntityKind;
pub use orgs::LegalForm;

pub use translit::{to_ascii, to_ascii_reading};

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
    /// Nickname pairs (see `nicknames::groups`): own number, then the paired names.
    pub nick: &'static [u16],
    /// Came from a script where one character is a syllable (Chinese, Japanese, Korean):
    /// one different character is a different name, so no typo tolerance.
    pub syllabic: bool,
    /// A country name ("iran", "iraq"): must match exactly, never as a typo.
    pub country: bool,
    /// The last token of a name that looks cut at a field length (44 to 48 characters):
    /// it may be the start of a longer word.
    pub trunc: bool,
    /// The Hangul syllables the token was read from (empty unless Korean): compared with
    /// a Latin token by their spellings (see [`korean`]), not by the one romanisation.
    pub hangul: Vec<char>,
    /// Read from Bengali or Khmer: compared with a Latin token by loose keys too.
    pub loose: loose::Loose,
}

/// Names this long (characters) may have been cut by a list's 48-character field.
pub const TRUNCATION_LENGTHS: std::ops::RangeInclusive<usize> = 44..=48;

/// A normalised name: its tokens and, for organisations, the legal form removed from it.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub tokens: Vec<Token>,
    pub form: Option<LegalForm>,
    /// The tokens of the name's second reading, when it has one that differs (a name in
    /// kanji only read as Japanese, an Arabic-script name read as Persian); empty when none.
    pub alt: Vec<Token>,
}

impl Normalized {
    /// The readings of the name: the tokens, then the second reading's when there is one.
    pub fn readings(&self) -> impl Iterator<Item = &[Token]> {
        std::iter::once(self.tokens.as_slice())
            .chain((!self.alt.is_empty()).then_some(self.alt.as_slice()))
    }
}

/// Name particles (`bin`, `al`, `van der`): they carry almost no identity, so they weigh
/// little when present and cost little when missing.
pub const PARTICLES: &[&str] = &[
    "al", "el", "bin", "ibn", "bint", "ben", "binti", "van", "der", "den", "von", "de", "del",
    "della", "di", "da", "du", "dos", "das", "la", "le", "ter", "ul", "ud", "ad", "ould", "ag",
];

/// Whether a token is a name particle (see [`PARTICLES`]).
pub fn is_particle(t: &str) -> bool {
    PARTICLES.contains(&t)
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
    // Bengali শেখ as romanised (শেখ মুজিবুর রহমান: Sheikh Mujibur Rahman)
    "shekh",
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
    "president",
    "minister",
    "princess",
    "emir",
    "ayatollah",
    "mufti",
    "ambassador",
    "chairman",
    "hrh",
    "excellency",
    "highness",
    "engineer",
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
    FORMS_TRAILING.contains(&word)
        || FORMS_LEADING.contains(&word)
        || orgs::forms().contains_key(word)
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
/// y/i, kh/h, ph/f, ck/k, q/k, w/v, x/ks, ou/oo/u, ee/i, tch/ch, sch/sh, doubled letters,
/// a final -ej/-aj/-ij (Sergej), Baltic -js/-rs endings and Belarusian -liak- (Aliaksandr).
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
    // Baltic masculine endings (Latvian Sergejs, Aleksandrs) and Belarusian "ia" (Aliaksandr).
    let t = match t.strip_suffix('s') {
        Some(stem) if stem.len() >= 4 && (stem.ends_with('j') || stem.ends_with('r')) => stem,
        _ => t,
    };
    let mut s = t
        .replace('y', "i")
        .replace('x', "ks")
        .replace("liak", "lek");
    for (from, to) in [("ej", "ei"), ("aj", "ai"), ("oj", "oi"), ("ij", "i")] {
        if s.ends_with(from) {
            s.truncate(s.len() - 2);
            s.push_str(to);
        }
    }
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

fn make_token(text: &str, seen: translit::Seen) -> Token {
    let text: String = text.chars().take(MAX_TOKEN_LEN).collect();
    Token {
        skel: skeleton(&text),
        variant: variant_form(&text),
        nick: nicknames::groups(&text),
        abjad: seen.abjad,
        syllabic: seen.syllabic,
        country: text.len() >= 4 && crate::countries::is_country_word(&text),
        trunc: false,
        hangul: Vec::new(),
        loose: seen.loose,
        text,
    }
}

/// Letters written as digits inside a word of a person's name ("Ig0r", "Mu5tafa").
fn digits_for_letters(w: &str) -> Option<String> {
    let letters = w.bytes().filter(u8::is_ascii_alphabetic).count();
    if letters < 2 || letters == w.len() {
        return None;
    }
    let out: String = w
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '8' => 'b',
            other => other,
        })
        .collect();
    out.bytes().all(|b| b.is_ascii_alphabetic()).then_some(out)
}

/// Removes bracketed country qualifiers from an organisation name ("Acme (Cyprus) Ltd").
fn drop_country_brackets(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find(['(', '[']) {
        let close_ch = if rest[open..].starts_with('(') {
            ')'
        } else {
            ']'
        };
        let Some(len) = rest[open..].find(close_ch) else {
            break;
        };
        let inner = &rest[open + 1..open + len];
        out.push_str(&rest[..open]);
        if inner.chars().count() < 4 || crate::countries::country_code(inner).is_none() {
            out.push(' ');
            out.push_str(inner);
            out.push(' ');
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Normalises a name into tokens. Never panics; input is capped at [`MAX_NAME_CHARS`]
/// characters and [`MAX_TOKENS`] tokens.
pub fn tokenize(raw: &str, ctx: NameContext) -> Vec<Token> {
    normalize(raw, ctx).tokens
}

/// Like [`tokenize`], also returning the legal form removed from an organisation name and
/// the second reading of the name when it has one.
pub fn normalize(raw: &str, ctx: NameContext) -> Normalized {
    let (mut n, seen) = normalize_reading(raw, ctx, false);
    if seen.alternative {
        let (a, aseen) = normalize_reading(raw, ctx, true);
        let same = a
            .tokens
            .iter()
            .map(|t| &t.text)
            .eq(n.tokens.iter().map(|t| &t.text));
        if !aseen.unreadable && !same && !a.tokens.is_empty() {
            n.alt = a.tokens;
        }
    }
    n
}

fn normalize_reading(raw: &str, ctx: NameContext, alt: bool) -> (Normalized, translit::Seen) {
    let mut capped: String = raw.chars().take(MAX_NAME_CHARS).collect();
    if ctx.strip_company_forms && capped.contains(['(', '[']) {
        capped = drop_country_brackets(&capped);
    }
    let reordered = reorder_comma(&capped);
    let mut ascii = String::with_capacity(reordered.len() + 8);
    let seen = to_ascii_reading(&reordered, &mut ascii, alt);
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
    if ctx.strip_titles && !ctx.strip_company_forms {
        for w in words.iter_mut() {
            if let Some(fixed) = digits_for_letters(w) {
                *w = fixed;
            }
        }
    }
    let form = strip(&mut words, ctx);
    if ctx.strip_company_forms {
        for w in words.iter_mut() {
            if let Some(c) = orgs::canonical_org_word(w) {
                *w = c;
            }
        }
        if words.len() > 2 {
            let kept: Vec<String> = words
                .iter()
                .filter(|w| !orgs::ORG_STOPWORDS.contains(&w.as_str()))
                .cloned()
                .collect();
            if kept.len() >= 2 {
                words = kept;
            }
        }
    }
    words.truncate(MAX_TOKENS);
    let mut tokens: Vec<Token> = words.iter().map(|w| make_token(w, seen)).collect();
    if seen.syllabic && reordered.chars().any(korean::is_hangul) {
        let mut hangul = translit::hangul_words(&reordered);
        for t in tokens.iter_mut() {
            if let Some(k) = hangul.iter().position(|(text, _)| *text == t.text) {
                t.hangul = hangul.remove(k).1;
            }
        }
    }
    let cut = TRUNCATION_LENGTHS.contains(&raw.trim().chars().count())
        && raw.trim_end().ends_with(|c: char| c.is_alphanumeric());
    if let Some(last) = tokens.last_mut().filter(|_| cut) {
        last.trunc = true;
    }
    (
        Normalized {
            tokens,
            form,
            alt: Vec::new(),
        },
        seen,
    )
}

fn strip(words: &mut Vec<String>, ctx: NameContext) -> Option<LegalForm> {
    let mut form: Option<LegalForm> = None;
    let mut note = |key: &str| {
        if form.is_none() {
            form = orgs::forms().get(key).copied();
        }
    };
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
                note(&phrase.join(" "));
                words.drain(..n);
            }
            let len = words.len();
            if len > n && words[len - n..].iter().zip(*phrase).all(|(w, p)| w == p) {
                note(&phrase.join(" "));
                words.truncate(len - n);
            }
        }
        loop {
            // The maintained table (rigour org_types) first, longest phrase first.
            if let Some((n, _)) = orgs::trailing_form(words) {
                let len = words.len();
                note(&words[len - n..].join(" "));
                words.truncate(len - n);
                continue;
            }
            if words.len() > 1 && FORMS_TRAILING.contains(&words[words.len() - 1].as_str()) {
                let last = words.pop().unwrap_or_default();
                note(&last);
                // "S.A. de C.V.": a "de" left between two forms goes too
                if words.len() > 1 && words[words.len() - 1] == "de" {
                    words.pop();
                }
                continue;
            }
            break;
        }
        loop {
            if let Some((n, _)) = orgs::leading_form(words) {
                note(&words[..n].join(" "));
                words.drain(..n);
                continue;
            }
            if words.len() > 1 && FORMS_LEADING.contains(&words[0].as_str()) {
                let first = words.remove(0);
                note(&first);
                continue;
            }
            break;
        }
    }
    form
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

//! Transliteration to lowercase ASCII: rule tables for Cyrillic (BGN/PCGN-like), modern
//! Greek (ELOT 743-like) and Arabic/Persian (consonantal, marked as abjad; Persian values
//! when Persian letters are present), Japanese (Hepburn, kanji names read with IPADIC's name
//! data, see [`super::japanese`]), Bengali (ISO 15919) and Khmer (UNGEGN), syllable grouping
//! for Chinese and Korean, and deunicode for every other script and for Latin diacritics.
//!
//! Some names can be read two ways: kanji-only names as Chinese or as Japanese,
//! Arabic-script names without Persian letters as Arabic or as Persian (ض is d in Arabic,
//! z in Persian), and Bengali names with জ or য with j or with z (Ziaur, Aziz).
//! [`to_ascii_reading`] gives the second reading; [`Seen::alternative`] says
//! whether there is one.

use super::korean::is_hangul;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// What the transliteration saw, beyond the text itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen {
    /// Arabic or Hebrew script: vowels are mostly not written, compare consonants.
    pub abjad: bool,
    /// Chinese characters, Japanese kana and kanji or Korean Hangul: one character is one
    /// syllable, so no typo tolerance.
    pub syllabic: bool,
    /// The text has a second reading (kanji as Japanese, Arabic letters as Persian,
    /// Bengali জ and য as z).
    pub alternative: bool,
    /// In the second reading: a part could not be read that way (a kanji name not in
    /// the name data), so the reading is not to be used.
    pub unreadable: bool,
    /// Bengali or Khmer script: its Latin spellings differ from the romanisation by
    /// known rules (see [`super::loose`]).
    pub loose: super::loose::Loose,
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}
fn is_greek(c: char) -> bool {
    ('\u{0370}'..='\u{03FF}').contains(&c) || ('\u{1F00}'..='\u{1FFF}').contains(&c)
}
fn is_arabic(c: char) -> bool {
    ('\u{0600}'..='\u{06FF}').contains(&c) || ('\u{0750}'..='\u{077F}').contains(&c)
}
fn is_hebrew(c: char) -> bool {
    ('\u{0590}'..='\u{05FF}').contains(&c)
}
fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c) || c == '々'
}
fn is_bengali(c: char) -> bool {
    ('\u{0980}'..='\u{09FF}').contains(&c)
}
fn is_khmer(c: char) -> bool {
    ('\u{1780}'..='\u{17FF}').contains(&c) || ('\u{19E0}'..='\u{19FF}').contains(&c)
}
/// Letters only Persian (and Urdu) write: پ چ ژ گ, keheh ک and Farsi yeh ی.
fn is_persian_marker(c: char) -> bool {
    matches!(c, 'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی')
}
/// Letters read differently in Arabic and Persian (ض d/z, ذ dh/z, ظ z, ث th/s).
fn differs_in_persian(c: char) -> bool {
    matches!(c, 'ض' | 'ذ' | 'ث')
}

/// Appends the ASCII transliteration of `s` (lowercased) to `out`.
pub fn to_ascii(s: &str, out: &mut String) -> Seen {
    to_ascii_reading(s, out, false)
}

/// Like [`to_ascii`]; with `alt`, the second reading (kanji as Japanese, Arabic letters
/// as Persian, Bengali জ and য as z) when there is one.
pub fn to_ascii_reading(s: &str, out: &mut String, alt: bool) -> Seen {
    let mut seen = Seen::default();
    if s.is_ascii() {
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        return seen;
    }
    let chars: Vec<char> = s.nfc().collect();
    let has_kana = chars.iter().any(|&c| super::japanese::is_kana(c));
    let has_han = chars.iter().any(|&c| is_han(c));
    let persian_marked = chars.iter().any(|&c| is_persian_marker(c));
    // Kana present: Japanese. Kanji only: Chinese first, Japanese as the second reading.
    let japanese = has_kana || (alt && has_han);
    // Persian letters present: Persian. Otherwise Arabic first, Persian second when a
    // letter reads differently.
    let persian = persian_marked || alt;
    seen.alternative = (has_han && !has_kana)
        || (!persian_marked && chars.iter().any(|&c| differs_in_persian(c)))
        || chars.iter().enumerate().any(|(i, &c)| {
            // য with a nukta is য় (y), after a virama a ya-phala (y): neither is a z.
            chars.get(i + 1) != Some(&'\u{09BC}')
                && super::indic::is_j_or_z(c, i > 0 && chars[i - 1] == '\u{09CD}')
        });
    let mut jp = super::japanese::Reader::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run_end = |pred: fn(char) -> bool| {
            let mut j = i;
            while j < chars.len() && pred(chars[j]) {
                j += 1;
            }
            j
        };
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            i += 1;
        } else if is_cyrillic(c) {
            let j = run_end(is_cyrillic);
            cyrillic(&chars[i..j], out);
            i = j;
        } else if is_greek(c) {
            let j = run_end(is_greek);
            greek(&chars[i..j], out);
            i = j;
        } else if japanese && (is_han(c) || super::japanese::is_kana(c)) {
            let j = run_end(|c| is_han(c) || super::japanese::is_kana(c));
            if !jp.read(&chars[i..j], out) {
                seen.unreadable = true;
            }
            // Kana and kanji: one character is a syllable (long vowels are folded when
            // compared, Tarou / Taro).
            seen.syllabic = true;
            i = j;
        } else if is_arabic(c) || (c == '\u{200C}' && i > 0 && is_arabic(chars[i - 1])) {
            // A zero-width non-joiner inside a Persian word (Ahmadi‌nejad) joins it.
            let j = run_end(|c| is_arabic(c) || c == '\u{200C}');
            arabic(&chars[i..j], persian, out);
            seen.abjad = true;
            i = j;
        } else if is_bengali(c) {
            let j = run_end(is_bengali);
            super::indic::bengali(&chars[i..j], out, alt);
            seen.loose = super::loose::Loose::Bengali;
            i = j;
        } else if is_khmer(c) {
            let j = run_end(is_khmer);
            super::indic::khmer(&chars[i..j], out);
            seen.loose = super::loose::Loose::Khmer;
            i = j;
        } else if is_hebrew(c) {
            let j = run_end(is_hebrew);
            for &h in &chars[i..j] {
                push_deunicode(h, out);
            }
            seen.abjad = true;
            i = j;
        } else if is_han(c) {
            let j = run_end(is_han);
            syllables(&chars[i..j], false, out);
            seen.syllabic = true;
            i = j;
        } else if is_hangul(c) {
            let j = run_end(is_hangul);
            syllables(&chars[i..j], true, out);
            seen.syllabic = true;
            i = j;
        } else {
            // Latin with diacritics and everything else: strip marks, then deunicode.
            for d in c.to_string().nfd() {
                if !is_combining_mark(d) {
                    push_deunicode(d, out);
                }
            }
            i += 1;
        }
    }
    seen
}

fn push_deunicode(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if let Some(t) = deunicode::deunicode_char(c) {
        out.extend(t.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push(' ');
    }
}

fn cyrillic(run: &[char], out: &mut String) {
    let lower: Vec<char> = run.iter().flat_map(|c| c.to_lowercase()).collect();
    for (k, &c) in lower.iter().enumerate() {
        let prev = if k == 0 { None } else { Some(lower[k - 1]) };
        let word_start = prev.is_none();
        let after_vowel = prev.is_some_and(|p| "аеёиоуыэюяіїєьъй".contains(p));
        let t = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ґ' => "g",
            'д' => "d",
            'е' if word_start || after_vowel => "ye",
            'е' | 'э' => "e",
            'ё' => "yo",
            'ж' => "zh",
            'з' => "z",
            'и' | 'і' => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ў' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            'ї' => "yi",
            'є' => "ye",
            'ђ' => "dj",
            'ј' => "j",
            'љ' => "lj",
            'њ' => "nj",
            'ћ' => "c",
            'џ' => "dz",
            'ѓ' => "gj",
            'ќ' => "kj",
            'ѕ' => "dz",
            other => {
                push_deunicode(other, out);
                continue;
            }
        };
        out.push_str(t);
    }
}

fn greek(run: &[char], out: &mut String) {
    // Strip accents and diaeresis, lowercase.
    let lower: Vec<char> = run
        .iter()
        .flat_map(|c| c.to_lowercase())
        .collect::<String>()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect();
    let voiceless = |c: Option<char>| c.is_some_and(|c| "θκξπστφχψ".contains(c)) || c.is_none();
    let mut k = 0;
    while k < lower.len() {
        let c = lower[k];
        let next = lower.get(k + 1).copied();
        let start = k == 0;
        let (t, used) = match (c, next) {
            ('α' | 'ε' | 'η', Some('υ')) => {
                let v = match c {
                    'α' => "a",
                    'ε' => "e",
                    _ => "i",
                };
                out.push_str(v);
                (
                    if voiceless(lower.get(k + 2).copied()) {
                        "f"
                    } else {
                        "v"
                    },
                    2,
                )
            }
            ('ο', Some('υ')) => ("ou", 2),
            ('μ', Some('π')) if start => ("b", 2),
            ('ν', Some('τ')) if start => ("d", 2),
            ('γ', Some('γ')) => ("ng", 2),
            ('γ', Some('κ')) if start => ("g", 2),
            ('γ', Some('κ' | 'ξ' | 'χ')) => ("n", 1),
            _ => (
                match c {
                    'α' => "a",
                    'β' => "v",
                    'γ' => "g",
                    'δ' => "d",
                    'ε' => "e",
                    'ζ' => "z",
                    'η' | 'ι' => "i",
                    'θ' => "th",
                    'κ' => "k",
                    'λ' => "l",
                    'μ' => "m",
                    'ν' => "n",
                    'ξ' => "x",
                    'ο' | 'ω' => "o",
                    'π' => "p",
                    'ρ' => "r",
                    'σ' | 'ς' => "s",
                    'τ' => "t",
                    'υ' => "y",
                    'φ' => "f",
                    'χ' => "ch",
                    'ψ' => "ps",
                    other => {
                        push_deunicode(other, out);
                        k += 1;
                        continue;
                    }
                },
                1,
            ),
        };
        out.push_str(t);
        k += used;
    }
}

/// Arabic script, consonantal. `persian` gives the Persian values of the letters that
/// Persian reads differently (ض ذ ظ → z, ث → s, و → v as a consonant, a final silent ه
/// → "eh", ژ → j), which is how Persian names are spelled in Latin (Reza, Morteza, Javad,
/// Fatemeh); without it the Arabic ones (Rida, Murtada, Jawad).
fn arabic(run: &[char], persian: bool, out: &mut String) {
    let is_vowel_letter = |c: Option<&char>| matches!(c, Some('ا' | 'آ' | 'أ' | 'إ' | 'ى'));
    let mut k = 0;
    while k < run.len() {
        let c = run[k];
        let word_start = k == 0 || run[k - 1] == '\u{200C}';
        let next = run.get(k + 1);
        let word_end = next.is_none_or(|&n| n == '\u{200C}');
        let after_long = k > 0 && matches!(run[k - 1], 'ا' | 'و' | 'ی' | 'ي' | 'ل');
        // The article "al-" is written glued to the next word: keep it as a separate token.
        if k == 0 && c == 'ا' && run.get(1) == Some(&'ل') && run.len() > 3 {
            out.push_str("al ");
            k += 2;
            continue;
        }
        let t = match c {
            '\u{200C}' => "",
            'ا' | 'أ' | 'آ' | 'ٱ' | 'ى' | 'ة' => "a",
            'إ' => "i",
            'ء' | 'ؤ' | 'ئ' | 'ـ' | 'ْ' | 'ّ' | 'ً' | 'ٌ' | 'ٍ' => "",
            'َ' => "a",
            'ُ' => "u",
            'ِ' => "i",
            'ب' => "b",
            'ت' | 'ط' => "t",
            'ث' if persian => "s",
            'ث' => "th",
            'ج' => "j",
            // A silent final ه marks an "e": Fatemeh at the end, Khamene‌i inside a word.
            // (After a long vowel or in Allah it is an h: Shah, Abdollah.)
            'ه' if persian && next.is_none() && !word_start && !after_long => "eh",
            'ه' if persian && word_end && !word_start && !after_long => "e",
            'ح' | 'ه' => "h",
            'خ' => "kh",
            'ض' if persian => "z",
            'د' | 'ض' => "d",
            'ذ' if persian => "z",
            'ذ' => "dh",
            'ر' => "r",
            'ز' | 'ظ' => "z",
            'س' | 'ص' => "s",
            'ش' => "sh",
            'ع' => "a",
            'غ' => "gh",
            'ف' => "f",
            'ق' => "q",
            'ك' | 'ک' => "k",
            'ل' => "l",
            'م' => "m",
            'ن' => "n",
            // A consonant before a vowel letter or a yeh (Javad, Parviz, Mousavi).
            'و' if word_start || is_vowel_letter(next) || matches!(next, Some('ی' | 'ي')) => {
                if persian {
                    "v"
                } else {
                    "w"
                }
            }
            'و' => "u",
            'ي' | 'ی' if word_start || is_vowel_letter(next) => "y",
            'ي' | 'ی' => "i",
            'پ' => "p",
            'چ' => "ch",
            // ژ is "zh" in the tables but mostly "j" in names (Ahmadinejad, Bijan, Manijeh).
            'ژ' => "j",
            'گ' => "g",
            '،' => ",",
            other => {
                push_deunicode(other, out);
                k += 1;
                continue;
            }
        };
        out.push_str(t);
        k += 1;
    }
}

/// Common Korean surnames in their usual Latin spelling.
fn korean_surname(s: char) -> Option<&'static str> {
    Some(match s {
        '김' => "kim",
        '이' => "lee",
        '리' => "ri",
        '박' => "park",
        '최' => "choi",
        '정' => "jung",
        '강' => "kang",
        '조' => "cho",
        '윤' => "yoon",
        '장' => "jang",
        '임' => "lim",
        '한' => "han",
        '오' => "oh",
        '서' => "seo",
        '신' => "shin",
        '권' => "kwon",
        '황' => "hwang",
        '안' => "ahn",
        '송' => "song",
        '유' => "yoo",
        '홍' => "hong",
        '전' => "jeon",
        '고' => "ko",
        '문' => "moon",
        '양' => "yang",
        '손' => "son",
        '배' => "bae",
        '백' => "baek",
        _ => return None,
    })
}

/// Chinese and Korean names: one syllable per character. The family name (first
/// character) becomes its own token and the given-name syllables are glued, as lists
/// write them ("习近平" → "xi jinping", "김정은" → "kim jongun").
fn syllables(run: &[char], korean: bool, out: &mut String) {
    out.push(' ');
    if korean {
        let pieces = korean_pieces(run);
        for (k, piece) in pieces.iter().enumerate() {
            korean_piece(piece, (k == 0 && pieces.len() > 1) || run.len() == 1, out);
            out.push(' ');
        }
        return;
    }
    let surname_len = match run.len() {
        1..=3 => 1,
        _ => 2,
    };
    for (k, &c) in run.iter().enumerate() {
        chinese_syllable(c, out);
        if k + 1 == surname_len && run.len() > surname_len {
            out.push(' ');
        }
    }
    out.push(' ');
}

fn chinese_syllable(c: char, out: &mut String) {
    if let Some(t) = deunicode::deunicode_char(c) {
        out.push_str(&t.trim().to_ascii_lowercase());
    }
}

/// A Korean name run cut into its name parts: a surname of one syllable before a given
/// name of two (three syllables), otherwise the run as one part.
fn korean_pieces(run: &[char]) -> Vec<&[char]> {
    if run.len() == 3 {
        vec![&run[..1], &run[1..]]
    } else {
        vec![run]
    }
}

/// One Korean name part, in Revised Romanization with "eo"/"eu" written "o"/"u" as most
/// lists do (McCune-Reischauer: Jong Un, not Jeong Eun); a surname in its usual spelling.
fn korean_piece(piece: &[char], surname: bool, out: &mut String) {
    if surname
        && piece.len() == 1
        && let Some(s) = korean_surname(piece[0])
    {
        out.push_str(s);
        return;
    }
    for &c in piece {
        if let Some(t) = deunicode::deunicode_char(c) {
            let t = t.trim().to_ascii_lowercase();
            out.push_str(&t.replace("eo", "o").replace("eu", "u"));
        }
    }
}

/// The Korean name parts of `s` (NFC), each with its romanisation as [`to_ascii`] writes
/// it and its Hangul syllables, in order: the Hangul of a token, for comparing it with
/// the other Latin spellings of the same syllables (see [`super::korean`]).
pub fn hangul_words(s: &str) -> Vec<(String, Vec<char>)> {
    let chars: Vec<char> = s.nfc().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_hangul(chars[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && is_hangul(chars[j]) {
            j += 1;
        }
        let run = &chars[i..j];
        let pieces = korean_pieces(run);
        for (k, piece) in pieces.iter().enumerate() {
            let mut text = String::new();
            korean_piece(
                piece,
                (k == 0 && pieces.len() > 1) || run.len() == 1,
                &mut text,
            );
            out.push((text, piece.to_vec()));
        }
        i = j;
    }
    out
}

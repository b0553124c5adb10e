//! Bengali and Khmer to Latin letters, with their vowels. Bengali: the ISO 15919 values
//! folded to ASCII the way Bengali names are spelled in Latin (diacritics dropped, c → ch,
//! ś and ṣ → sh), with the inherent vowel dropped where it is not pronounced (word-final,
//! and between two pronounced vowels: রহমান → "rahman"); জ and য, j in ISO 15919, are
//! also read z as a second reading (জিয়া → "jiya" and "ziya": Zia). Khmer: the UNGEGN romanisation
//! (BGN/PCGN 1972, adopted by the UN Group of Experts on Geographical Names), vowels read
//! by the consonant's series and final consonants in their final values (ហ៊ុន សែន →
//! "hun sen").

/// One Bengali syllable as written: consonant cluster and vowel.
struct Aksara {
    cons: String,
    /// Written vowel (sign or independent letter); `None` with `halant`: no vowel.
    vowel: Option<&'static str>,
    /// Ends with a virama (no vowel, the next consonant joins the cluster).
    halant: bool,
    /// More than one consonant (a conjunct keeps its inherent vowel).
    conjunct: bool,
    /// Nasalisation and visarga written after the vowel.
    tail: &'static str,
}

/// Whether a Bengali letter is read j in ISO 15919 but z in many names (জ, and য on its
/// own): জিয়াউর → Ziaur, আজিজ → Aziz, যাকির → Zakir, as much as মুজিব → Mujib.
pub fn is_j_or_z(c: char, after_virama: bool) -> bool {
    c == 'জ' || (c == 'য' && !after_virama)
}

fn bengali_consonant(c: char, after_virama: bool, z: bool) -> Option<&'static str> {
    if z && is_j_or_z(c, after_virama) {
        return Some("z");
    }
    Some(match c {
        'ক' => "k",
        'খ' => "kh",
        'গ' => "g",
        'ঘ' => "gh",
        'ঙ' => "ng",
        'চ' => "ch",
        'ছ' => "chh",
        'জ' => "j",
        'ঝ' => "jh",
        'ঞ' => "n",
        'ট' => "t",
        'ঠ' => "th",
        'ড' => "d",
        'ঢ' => "dh",
        'ণ' => "n",
        'ত' | 'ৎ' => "t",
        'থ' => "th",
        'দ' => "d",
        'ধ' => "dh",
        'ন' => "n",
        'প' => "p",
        'ফ' => "ph",
        // ba-phalā (ব after a virama) is a w (বিশ্বাস → Biswas).
        'ব' if after_virama => "w",
        'ব' => "b",
        'ভ' => "bh",
        'ম' => "m",
        // ya-phalā is a y, a ya on its own reads j (যশোর → Jashor).
        'য' if after_virama => "y",
        'য' => "j",
        'র' | 'ৰ' => "r",
        'ল' => "l",
        'শ' | 'ষ' => "sh",
        'স' => "s",
        'হ' => "h",
        '\u{09DC}' => "r",
        '\u{09DD}' => "rh",
        '\u{09DF}' => "y",
        'ৱ' => "w",
        _ => return None,
    })
}

fn bengali_vowel(c: char) -> Option<(&'static str, bool)> {
    // (value, independent letter)
    Some(match c {
        'অ' => ("a", true),
        'আ' => ("a", true),
        'ই' | 'ঈ' => ("i", true),
        'উ' | 'ঊ' => ("u", true),
        'ঋ' => ("ri", true),
        'ঌ' => ("li", true),
        'এ' => ("e", true),
        'ঐ' => ("oi", true),
        'ও' => ("o", true),
        'ঔ' => ("ou", true),
        'া' => ("a", false),
        'ি' | 'ী' => ("i", false),
        'ু' | 'ূ' => ("u", false),
        'ৃ' | 'ৄ' => ("ri", false),
        'ে' => ("e", false),
        'ৈ' => ("oi", false),
        'ো' => ("o", false),
        'ৌ' => ("ou", false),
        _ => return None,
    })
}

/// Appends the romanisation of a run of Bengali script; with `z`, জ and য are read z (the
/// second reading of a name that has them, see [`is_j_or_z`]).
pub fn bengali(run: &[char], out: &mut String, z: bool) {
    let mut word: Vec<Aksara> = Vec::new();
    let mut k = 0;
    while k < run.len() {
        let mut c = run[k];
        // Nukta forms (ড় ঢ় য় decompose under NFC).
        if run.get(k + 1) == Some(&'\u{09BC}') {
            c = match c {
                'ড' => '\u{09DC}',
                'ঢ' => '\u{09DD}',
                'য' => '\u{09DF}',
                other => other,
            };
            k += 1;
        }
        k += 1;
        let joining = word.last().is_some_and(|a| a.halant);
        if let Some(t) = bengali_consonant(c, joining, z) {
            match word.last_mut().filter(|_| joining) {
                Some(a) => {
                    a.cons.push_str(t);
                    a.halant = false;
                    a.conjunct = true;
                }
                None => word.push(Aksara {
                    cons: t.to_string(),
                    vowel: None,
                    halant: false,
                    conjunct: false,
                    tail: "",
                }),
            }
            continue;
        }
        if let Some((v, independent)) = bengali_vowel(c) {
            match word
                .last_mut()
                .filter(|a| !independent && a.vowel.is_none())
            {
                Some(a) => a.vowel = Some(v),
                None => word.push(Aksara {
                    cons: String::new(),
                    vowel: Some(v),
                    halant: false,
                    conjunct: false,
                    tail: "",
                }),
            }
            continue;
        }
        match c {
            '\u{09CD}' => {
                if let Some(a) = word.last_mut() {
                    a.halant = true;
                }
            }
            'ং' => {
                if let Some(a) = word.last_mut() {
                    a.tail = "ng";
                }
            }
            'ঃ' => {
                if let Some(a) = word.last_mut() {
                    a.tail = "h";
                }
            }
            'ঁ' | '\u{09D7}' | '\u{200C}' | '\u{200D}' => {}
            '০'..='৯' => {
                flush_bengali(&mut word, out);
                out.push(char::from(b'0' + (c as u32 - '০' as u32) as u8));
            }
            _ => {
                flush_bengali(&mut word, out);
                out.push(' ');
            }
        }
    }
    flush_bengali(&mut word, out);
}

/// Writes one word: the inherent vowel is dropped at the end of a word of two syllables
/// or more (unless after a conjunct) and between two syllables that keep their vowels.
fn flush_bengali(word: &mut Vec<Aksara>, out: &mut String) {
    let n = word.len();
    // Does the syllable keep a vowel? Decided right to left.
    let mut voiced = vec![true; n];
    for i in (0..n).rev() {
        let a = &word[i];
        if a.vowel.is_some() || a.cons.is_empty() {
            continue;
        }
        if a.halant {
            voiced[i] = false;
        } else if i + 1 == n {
            voiced[i] = n == 1 || a.conjunct || !a.tail.is_empty();
        } else if i > 0 && voiced[i - 1] && voiced[i + 1] && !a.conjunct && a.tail.is_empty() {
            voiced[i] = false;
        }
    }
    for (i, (a, v)) in word.iter().zip(&voiced).enumerate() {
        // ো or ও before য়া is a w: আনোয়ার → anwar, ওয়াজেদ → wajed.
        let next = word.get(i + 1);
        let wa =
            a.vowel == Some("o") && next.is_some_and(|n| n.cons == "y" && n.vowel == Some("a"));
        let after_wa =
            i > 0 && word[i - 1].vowel == Some("o") && a.cons == "y" && a.vowel == Some("a");
        if wa {
            out.push_str(&a.cons);
            out.push_str(a.tail);
            continue;
        }
        out.push_str(if after_wa { "w" } else { &a.cons });
        match (a.vowel, *v) {
            (Some(vowel), _) => out.push_str(vowel),
            (None, true) => out.push('a'),
            (None, false) => {}
        }
        out.push_str(a.tail);
    }
    word.clear();
}

/// Consonant series: the second (o) series reads its vowels differently.
fn khmer_o_series(c: char) -> bool {
    matches!(
        c,
        'គ' | 'ឃ'
            | 'ង'
            | 'ជ'
            | 'ឈ'
            | 'ញ'
            | 'ឌ'
            | 'ឍ'
            | 'ទ'
            | 'ធ'
            | 'ន'
            | 'ព'
            | 'ភ'
            | 'ម'
            | 'យ'
            | 'រ'
            | 'ល'
            | 'វ'
    )
}

/// (initial value, final value) of a Khmer consonant.
fn khmer_consonant(c: char) -> Option<(&'static str, &'static str)> {
    Some(match c {
        'ក' => ("k", "k"),
        'ខ' => ("kh", "k"),
        'គ' => ("k", "k"),
        'ឃ' => ("kh", "k"),
        'ង' => ("ng", "ng"),
        'ច' => ("ch", "ch"),
        'ឆ' => ("chh", "ch"),
        'ជ' => ("ch", "ch"),
        'ឈ' => ("chh", "ch"),
        'ញ' => ("nh", "nh"),
        'ដ' => ("d", "t"),
        'ឋ' => ("th", "t"),
        'ឌ' => ("d", "t"),
        'ឍ' => ("th", "t"),
        'ណ' => ("n", "n"),
        'ត' => ("t", "t"),
        'ថ' => ("th", "t"),
        'ទ' => ("t", "t"),
        'ធ' => ("th", "t"),
        'ន' => ("n", "n"),
        'ប' => ("b", "p"),
        'ផ' => ("ph", "p"),
        'ព' => ("p", "p"),
        'ភ' => ("ph", "p"),
        'ម' => ("m", "m"),
        'យ' => ("y", "y"),
        'រ' => ("r", "r"),
        'ល' => ("l", "l"),
        'វ' => ("v", "v"),
        'ឝ' | 'ឞ' | 'ស' => ("s", "s"),
        'ហ' => ("h", "h"),
        'ឡ' => ("l", "l"),
        'អ' => ("", ""),
        _ => return None,
    })
}

/// (first series, second series) value of a dependent vowel.
fn khmer_vowel(c: char) -> Option<(&'static str, &'static str)> {
    Some(match c {
        'ា' => ("a", "ea"),
        'ិ' => ("e", "i"),
        'ី' => ("ei", "i"),
        'ឹ' => ("oe", "ue"),
        'ឺ' => ("eu", "eu"),
        'ុ' => ("o", "u"),
        'ូ' => ("ou", "u"),
        'ួ' => ("uo", "uo"),
        'ើ' => ("aeu", "eu"),
        'ឿ' => ("oea", "oea"),
        'ៀ' => ("ie", "ie"),
        'េ' => ("e", "e"),
        'ែ' => ("e", "e"),
        'ៃ' => ("ai", "ey"),
        'ោ' => ("ao", "o"),
        'ៅ' => ("au", "ov"),
        _ => return None,
    })
}

fn khmer_independent(c: char) -> Option<&'static str> {
    Some(match c {
        'ឣ' | 'ឤ' => "a",
        'ឥ' => "e",
        'ឦ' => "ei",
        'ឧ' => "o",
        'ឨ' | 'ឩ' => "ou",
        'ឪ' => "au",
        'ឫ' => "rue",
        'ឬ' => "rueu",
        'ឭ' => "lue",
        'ឮ' => "lueu",
        'ឯ' => "ae",
        'ឰ' => "ai",
        'ឱ' | 'ឲ' => "ao",
        'ឳ' => "au",
        _ => return None,
    })
}

/// One Khmer written syllable: base consonant, subscript consonants, series, vowel.
#[derive(Default)]
struct KhmerSyllable {
    base: Option<char>,
    subs: Vec<char>,
    o_series: bool,
    vowel: Option<char>,
    independent: Option<&'static str>,
    nikahit: bool,
    reahmuk: bool,
    /// Musikatoan on ប: a p.
    hard_b: bool,
}

impl KhmerSyllable {
    fn has_vowel(&self) -> bool {
        self.vowel.is_some() || self.independent.is_some() || self.nikahit || self.reahmuk
    }
}

/// Appends the romanisation of a run of Khmer script.
pub fn khmer(run: &[char], out: &mut String) {
    let mut word: Vec<KhmerSyllable> = Vec::new();
    let mut k = 0;
    while k < run.len() {
        let c = run[k];
        k += 1;
        if khmer_consonant(c).is_some() {
            word.push(KhmerSyllable {
                base: Some(c),
                o_series: khmer_o_series(c),
                ..KhmerSyllable::default()
            });
            continue;
        }
        if let Some(v) = khmer_independent(c) {
            word.push(KhmerSyllable {
                independent: Some(v),
                ..KhmerSyllable::default()
            });
            continue;
        }
        let Some(s) = word.last_mut() else {
            if !('\u{17B4}'..='\u{17DD}').contains(&c) {
                out.push(' ');
            }
            continue;
        };
        match c {
            // Coeng: the next consonant is written below, part of this syllable.
            '\u{17D2}' => {
                if let Some(&n) = run.get(k).filter(|n| khmer_consonant(**n).is_some()) {
                    s.subs.push(n);
                    k += 1;
                }
            }
            '\u{17C9}' => {
                s.o_series = false;
                s.hard_b = s.base == Some('ប');
            }
            '\u{17CA}' => s.o_series = true,
            '\u{17C6}' => s.nikahit = true,
            '\u{17C7}' | '\u{17C8}' => s.reahmuk = true,
            _ if khmer_vowel(c).is_some() => s.vowel = Some(c),
            '\u{17B4}'..='\u{17DD}' => {}
            '០'..='៩' => {
                flush_khmer(&mut word, out);
                out.push(char::from(b'0' + (c as u32 - '០' as u32) as u8));
            }
            _ => {
                flush_khmer(&mut word, out);
                out.push(' ');
            }
        }
    }
    flush_khmer(&mut word, out);
}

/// Writes one word: a consonant without a vowel after a pronounced vowel is a final
/// consonant (its final value); otherwise it starts a syllable with the inherent vowel
/// of its series (a or o).
fn flush_khmer(word: &mut Vec<KhmerSyllable>, out: &mut String) {
    let mut open = false; // the previous syllable ends in a vowel
    let mut after_nikahit = false; // the previous syllable ends in nikahit (m)
    let n = word.len();
    let bare = |s: &KhmerSyllable| s.base.is_some() && !s.has_vowel();
    for (i, s) in word.iter().enumerate() {
        if let Some(v) = s.independent {
            out.push_str(v);
            open = true;
            after_nikahit = false;
            continue;
        }
        let Some(base) = s.base else { continue };
        let (initial, fin) = khmer_consonant(base).unwrap_or(("", ""));
        let last = i + 1 == n;
        // ំង: the nikahit before a final ng is not read m (តាំង → "tang").
        if after_nikahit && bare(s) && s.subs.is_empty() && base == 'ង' {
            if out.ends_with('m') {
                out.pop();
            }
            out.push_str("ng");
            after_nikahit = false;
            continue;
        }
        after_nikahit = false;
        // A bare consonant followed by the bare last consonant of the word starts a
        // syllable of its own, which that one closes (សុផល → so-phal, not sop-lo).
        let starts_syllable = i + 2 == n && bare(&word[i + 1]);
        if open && bare(s) && !starts_syllable {
            out.push_str(fin);
            if s.subs.is_empty() || last {
                // The last consonant of a word, with or without one below, is final
                // (ធីរិទ្ធ → "thirit", វង្ស → "vong").
                open = false;
                continue;
            }
            // A final consonant with a consonant below: that one starts the next syllable.
            for &sub in &s.subs {
                out.push_str(khmer_consonant(sub).map_or("", |c| c.0));
            }
            out.push_str(if s.o_series { "o" } else { "a" });
            continue;
        }
        // ប before a consonant below is a p (ប្រាក់ → "prak"); ហ before one only marks
        // the sound of that one (ហ្គ → g, ហ្វ → f).
        let initial = if s.hard_b || (base == 'ប' && !s.subs.is_empty()) {
            "p"
        } else if base == 'ហ' && !s.subs.is_empty() {
            ""
        } else {
            initial
        };
        out.push_str(initial);
        for &sub in &s.subs {
            let value = match (base, sub) {
                ('ហ', 'គ') => "g",
                ('ហ', 'វ') => "f",
                _ => khmer_consonant(sub).map_or("", |c| c.0),
            };
            out.push_str(value);
        }
        let pick = |(a, o): (&'static str, &'static str)| if s.o_series { o } else { a };
        match (s.vowel.and_then(khmer_vowel), s.nikahit) {
            (Some(v), false) => out.push_str(pick(v)),
            (Some(v), true) => {
                out.push_str(match pick(v) {
                    "a" => "am",
                    "ea" => "oam",
                    "o" | "u" => {
                        if s.o_series {
                            "um"
                        } else {
                            "om"
                        }
                    }
                    other => other,
                });
                if !matches!(pick(v), "a" | "ea" | "o" | "u") {
                    out.push('m');
                }
            }
            (None, true) => out.push_str(if s.o_series { "um" } else { "am" }),
            (None, false) if s.reahmuk => out.push_str(if s.o_series { "eah" } else { "ah" }),
            (None, false) => out.push_str(if s.o_series { "o" } else { "a" }),
        }
        if s.reahmuk && s.vowel.is_some() {
            out.push('h');
        }
        // A syllable closed by nikahit (m) or reahmuk (h): the next consonant starts one.
        open = !(s.nikahit || s.reahmuk);
        after_nikahit = s.nikahit;
    }
    word.clear();
}

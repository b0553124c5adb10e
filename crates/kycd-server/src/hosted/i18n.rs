//! The hosted flow's languages: one catalogue per language (`i18n/*.txt`,
//! `key = value`), the language a request asks for (`?lang=`, then the
//! `kycd_lang` cookie, then Accept-Language) and lookups with `{name}`
//! placeholders.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A language of the hosted pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    PtBr,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::PtBr, Lang::Es];

    /// The BCP 47 tag (`<html lang>`, `?lang=`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
            Lang::Es => "es",
        }
    }

    /// A tag as a user or browser writes it: `pt-BR`, `pt_br`, `pt`, `es-MX`, `EN`…
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "pt" => Some(Lang::PtBr),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The best language of an Accept-Language header (by q-value, then order).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("i18n/en.txt"),
            Lang::PtBr => include_str!("i18n/pt-BR.txt"),
            Lang::Es => include_str!("i18n/es.txt"),
        }
    }

    /// The string for `key`; a key missing from a catalogue is a bug that the
    /// catalogue test catches, and shows the key itself rather than nothing.
    pub fn t(self, key: &str) -> &'static str {
        CATALOGUES[&self].get(key).copied().unwrap_or_else(|| {
            tracing::error!(key, lang = self.tag(), "hosted page string missing");
            // Leaked once per missing key at most in practice: keys are literals.
            Box::leak(key.to_string().into_boxed_str())
        })
    }

    /// The string for `key` with `{name}` placeholders filled.
    pub fn f(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

/// Parses a catalogue: `key = value` lines, `#` comments, blank lines.
pub fn parse_catalogue(src: &'static str) -> HashMap<&'static str, &'static str> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

static CATALOGUES: LazyLock<HashMap<Lang, HashMap<&'static str, &'static str>>> =
    LazyLock::new(|| {
        Lang::ALL
            .into_iter()
            .map(|l| (l, parse_catalogue(l.source())))
            .collect()
    });

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(l: Lang) -> BTreeSet<&'static str> {
        parse_catalogue(l.source()).into_keys().collect()
    }

    #[test]
    fn every_language_has_every_key() {
        let en = keys(Lang::En);
        for l in Lang::ALL {
            let k = keys(l);
            let missing: Vec<_> = en.difference(&k).collect();
            let extra: Vec<_> = k.difference(&en).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", l.tag());
            assert!(extra.is_empty(), "{} has keys en lacks: {extra:?}", l.tag());
            for line in l.source().lines().map(str::trim) {
                if !line.is_empty() && !line.starts_with('#') {
                    assert!(line.contains(" = "), "{}: malformed line {line:?}", l.tag());
                }
            }
        }
    }

    /// Every key the pages use (`t("…")`, `f("…"` in the hosted sources, and
    /// the keys built from step slugs, identifier and document types and
    /// rejection reasons) is in the catalogues.
    #[test]
    fn every_key_used_exists() {
        let en = keys(Lang::En);
        let mut used: Vec<String> = vec![];
        for src in [include_str!("pages.rs"), include_str!("mod.rs")] {
            for marker in [".t(\"", ".f(\""] {
                for piece in src.split(marker).skip(1) {
                    used.push(piece.split('"').next().unwrap_or("").to_string());
                }
            }
        }
        for s in kycd_core::hosted::Step::ORDER {
            used.push(format!("step.{}", s.slug()));
        }
        for t in ["cpf", "ssn", "itin", "national_id", "passport", "tax_id"] {
            used.push(format!("idtype.{t}"));
            used.push(format!("hint.{t}"));
        }
        for (t, _) in kycd_core::hosted::IDENTITY_DOCUMENT_TYPES {
            used.push(format!("doctype.{t}"));
        }
        for r in kycd_core::reasons::RejectionReason::ALL {
            used.push(format!("reason.{}", r.as_str()));
        }
        // The message pages (`say(…, key)`): a title and a body each.
        for page in [
            "notfound", "renewed", "expired", "used", "session", "done", "nothing", "failure",
            "csrf", "too_big",
        ] {
            used.push(format!("{page}.title"));
            used.push(format!("{page}.body"));
        }
        used.retain(|k| !k.is_empty() && !k.ends_with('.'));
        assert!(used.len() > 60, "the scan found the keys ({})", used.len());
        for k in &used {
            assert!(
                en.contains(k.as_str()),
                "key {k:?} is used but not in en.txt"
            );
        }
    }

    /// The rejection messages are the API's (`/v1/rejection_reasons`) where
    /// the API has the language.
    #[test]
    fn rejection_messages_match_the_api() {
        for r in kycd_core::reasons::RejectionReason::ALL {
            let m = r.messages();
            let key = format!("reason.{}", r.as_str());
            assert_eq!(Lang::En.t(&key), m.en);
            assert_eq!(Lang::PtBr.t(&key), m.pt_br);
        }
    }

    #[test]
    fn languages_from_the_browser() {
        assert_eq!(
            Lang::from_accept_language("pt-BR,pt;q=0.9,en;q=0.8"),
            Some(Lang::PtBr)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, es;q=0.5, en;q=0.4"),
            Some(Lang::Es)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::parse("PT_br"), Some(Lang::PtBr));
        assert_eq!(
            Lang::En.f("progress", &[("n", "3"), ("total", "6")]),
            "Step 3 of 6"
        );
    }
}

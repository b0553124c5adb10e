//! Matcher tests: name variations, evidence, companies, limits and hostile input.

use std::time::{Duration, Instant};

use kycd_screening::{
    DEFAULT_THRESHOLD, EntityKind, ListEntry, Match, Query, Screener, parse_ofac_csv,
};

fn person(id: &str, name: &str, dob: &[&str], countries: &[&str]) -> ListEntry {
    let mut e = ListEntry::new(id, EntityKind::Person, name);
    e.dates_of_birth = dob.iter().map(|s| s.to_string()).collect();
    e.countries = countries.iter().map(|s| s.to_string()).collect();
    e
}

fn screener() -> Screener {
    let mut zawahiri = person("z", "AL-ZAWAHIRI, Ayman", &["1951-06-19"], &["EG"]);
    zawahiri
        .names
        .push("Ayman Muhammad Rabi al-Zawahiri".into());
    let mut org = ListEntry::new("acme", EntityKind::Organization, "ACME TRADING CO., LTD.");
    org.programs = vec!["IRAN".into()];
    let vessel = ListEntry::new("ship", EntityKind::Vessel, "MARIA STELLA");
    let mut pep = person("pep", "Jennifer L. McClellan", &["1972"], &["US"]);
    pep.pep = true;
    let entries = vec![
        zawahiri,
        person(
            "abd",
            "Abdulrahman Mohammed Al Amri",
            &["1980-03-01"],
            &["SA"],
        ),
        person("smith", "John Robert Smith", &["1965-04-12"], &["GB"]),
        person("garcia", "GARCIA LOPEZ, Maria Fernanda", &["1975"], &["MX"]),
        person("bob", "Robert Menendez", &["1954-01-01"], &["US"]),
        pep,
        org,
        vessel,
        ListEntry::new("bank", EntityKind::Organization, "Bank Melli Iran"),
    ];
    let mut entries = entries;
    for (i, b) in [
        "Saderat",
        "Mellat",
        "Sepah",
        "Tejarat",
        "Refah",
        "Keshavarzi",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("Bank {b} Iran");
        entries.push(ListEntry::new(
            format!("bank{i}"),
            EntityKind::Organization,
            name,
        ));
    }
    Screener::from_entries("test", entries)
}

fn search(s: &Screener, name: &str) -> Vec<Match> {
    let mut q = Query::new(name);
    q.threshold = 0.0;
    s.search(&q)
}

fn score_of(s: &Screener, q: &Query, id: &str) -> f64 {
    let mut q = q.clone();
    q.threshold = 0.0;
    q.limit = 50;
    s.search(&q)
        .iter()
        .find(|m| m.entry_id == id)
        .map_or(0.0, |m| m.score)
}

fn name_score(s: &Screener, name: &str, id: &str) -> f64 {
    score_of(s, &Query::new(name), id)
}

#[test]
fn exact_and_reordered_names() {
    let s = screener();
    assert_eq!(name_score(&s, "Ayman al-Zawahiri", "z"), 1.0);
    assert!(name_score(&s, "Zawahiri Ayman Al", "z") >= 0.9);
    assert!(name_score(&s, "Smith John Robert", "smith") >= 0.9);
    assert!(name_score(&s, "AL-ZAWAHIRI, Ayman", "z") >= 0.99);
}

#[test]
fn last_comma_first_query() {
    let s = screener();
    assert!(name_score(&s, "SMITH, John Robert", "smith") >= 0.99);
    assert!(name_score(&s, "McClellan, Jennifer", "pep") >= DEFAULT_THRESHOLD);
}

#[test]
fn initials_and_missing_middle_names() {
    let s = screener();
    let full = name_score(&s, "John Robert Smith", "smith");
    let no_middle = name_score(&s, "John Smith", "smith");
    let initial = name_score(&s, "John R. Smith", "smith");
    let first_initial = name_score(&s, "J. R. Smith", "smith");
    assert_eq!(full, 1.0);
    assert!(no_middle >= DEFAULT_THRESHOLD, "{no_middle}");
    assert!(
        initial > no_middle && initial < full,
        "{initial} {no_middle}"
    );
    assert!(first_initial < no_middle, "{first_initial}");
    assert!(name_score(&s, "Jennifer McClellan", "pep") >= 0.9);
    // a surname alone is not enough
    assert!(name_score(&s, "Smith", "smith") < DEFAULT_THRESHOLD);
    // different first name, same surname
    assert!(name_score(&s, "Peter Smith", "smith") < DEFAULT_THRESHOLD);
}

#[test]
fn glued_and_split_words() {
    let s = screener();
    assert!(name_score(&s, "Abdul Rahman Mohammed Al Amri", "abd") >= 0.95);
    assert!(name_score(&s, "Abdulrahman Mohammed Alamri", "abd") >= 0.95);
    assert!(name_score(&s, "Ayman Alzawahiri", "z") >= 0.95);
}

#[test]
fn spelling_variants_and_typos() {
    let s = screener();
    assert!(name_score(&s, "Abdulrahman Muhammad Al Amri", "abd") >= 0.9);
    assert!(name_score(&s, "Aiman al-Zawahri", "z") >= DEFAULT_THRESHOLD);
    assert!(name_score(&s, "Jenifer McClelan", "pep") >= DEFAULT_THRESHOLD);
    assert!(name_score(&s, "John Robert Smtih", "smith") >= 0.9);
    assert!(name_score(&s, "Bob Menendez", "bob") >= DEFAULT_THRESHOLD);
    assert!(name_score(&s, "Jane Robertson Smithers", "smith") < 0.6);
}

#[test]
fn date_of_birth_evidence() {
    let s = screener();
    let base = Query::new("John Smith");
    let plain = score_of(&s, &base, "smith");
    let exact = score_of(
        &s,
        &Query {
            date_of_birth: Some("1965-04-12".into()),
            ..base.clone()
        },
        "smith",
    );
    let year = score_of(
        &s,
        &Query {
            date_of_birth: Some("1965".into()),
            ..base.clone()
        },
        "smith",
    );
    let off_by_one = score_of(
        &s,
        &Query {
            date_of_birth: Some("1966".into()),
            ..base.clone()
        },
        "smith",
    );
    let wrong = score_of(
        &s,
        &Query {
            date_of_birth: Some("1990-01-01".into()),
            ..base.clone()
        },
        "smith",
    );
    assert!(exact > year && year > plain, "{exact} {year} {plain}");
    assert!(off_by_one < plain, "{off_by_one} {plain}");
    assert!(wrong < off_by_one && wrong < DEFAULT_THRESHOLD, "{wrong}");
    // even an exact name drops below the threshold when the year is far off
    let exact_name = Query {
        date_of_birth: Some("1990".into()),
        ..Query::new("John Robert Smith")
    };
    assert!(score_of(&s, &exact_name, "smith") < DEFAULT_THRESHOLD);
}

#[test]
fn country_evidence() {
    let s = screener();
    let base = Query::new("John Smith");
    let plain = score_of(&s, &base, "smith");
    let same = score_of(
        &s,
        &Query {
            country: Some("United Kingdom".into()),
            ..base.clone()
        },
        "smith",
    );
    let code = score_of(
        &s,
        &Query {
            country: Some("gb".into()),
            ..base.clone()
        },
        "smith",
    );
    let other = score_of(
        &s,
        &Query {
            country: Some("Brazil".into()),
            ..base.clone()
        },
        "smith",
    );
    assert!(same > plain && other < plain, "{same} {plain} {other}");
    assert_eq!(same, code);
}

#[test]
fn kind_evidence() {
    let s = screener();
    let q = Query {
        kind: Some(EntityKind::Person),
        ..Query::new("Maria Stella")
    };
    let vessel_for_person = score_of(&s, &q, "ship");
    let any = score_of(&s, &Query::new("Maria Stella"), "ship");
    assert_eq!(any, 1.0);
    assert!(vessel_for_person < DEFAULT_THRESHOLD);
}

#[test]
fn company_suffixes() {
    let s = screener();
    assert_eq!(name_score(&s, "Acme Trading Ltd", "acme"), 1.0);
    assert_eq!(name_score(&s, "ACME TRADING LLC", "acme"), 1.0);
    assert_eq!(name_score(&s, "Acme Trading Company Limited", "acme"), 1.0);
    // the distinctive word is missing; the common ones ("bank", "iran") weigh less
    assert!(name_score(&s, "Bank Iran", "bank") < DEFAULT_THRESHOLD);
    assert!(name_score(&s, "Bank Melli", "bank") >= DEFAULT_THRESHOLD);
    assert!(name_score(&s, "Zenith Trading LLC", "acme") < DEFAULT_THRESHOLD);
}

#[test]
fn results_are_sorted_limited_and_thresholded() {
    let s = screener();
    let all = search(&s, "Maria Garcia");
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(all.iter().all(|m| (0.0..=1.0).contains(&m.score)));
    let mut q = Query::new("Maria Garcia");
    q.threshold = 0.0;
    q.limit = 1;
    assert_eq!(s.search(&q).len(), 1);
    q.limit = 0;
    assert!(s.search(&q).is_empty());
    let m = &search(&s, "Jennifer L. McClellan")[0];
    assert_eq!(m.entry_id, "pep");
    assert!(m.pep);
    assert_eq!(m.list, "test");
    assert_eq!(m.kind, EntityKind::Person);
    let default = s.search(&Query::new("Completely Different Person"));
    assert!(default.is_empty());
}

#[test]
fn matched_name_is_the_alias() {
    let s = screener();
    let m = &search(&s, "Ayman Muhammad Rabi al-Zawahiri")[0];
    assert_eq!(m.name, "AL-ZAWAHIRI, Ayman");
    assert_eq!(m.matched_name, "Ayman Muhammad Rabi al-Zawahiri");
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["kind"], "person");
    assert_eq!(json["entry_id"], "z");
    let q: Query =
        serde_json::from_str(r#"{"name": "Ayman al-Zawahiri", "kind": "person"}"#).unwrap();
    assert_eq!(
        (q.threshold, q.limit),
        (DEFAULT_THRESHOLD, kycd_screening::DEFAULT_LIMIT)
    );
    assert_eq!(s.search(&q)[0].entry_id, "z");
}

/// Hostile queries: 10,000 characters of repeated names, combining marks and
/// mixed scripts, and one 10,000-character token.
fn hostile_queries() -> Vec<String> {
    vec![
        "Ayman Zawahiri ".repeat(700).chars().take(10_000).collect(),
        "ж\u{301}漢ا-".repeat(2_500),
        "x".repeat(10_000),
        // one long kanji run (read as Japanese too), kana, Bengali conjuncts, Khmer
        // subscripts and Persian joiners
        "山田".repeat(5_000),
        "ッャー".repeat(3_000),
        "ক্".repeat(5_000),
        "ក្ហ៊ុ".repeat(2_000),
        "ض\u{200C}ه".repeat(3_000),
    ]
}

#[test]
fn empty_and_huge_queries_are_safe() {
    let s = screener();
    for name in ["", "   ", "!!!", "\u{0}\u{1}", "a"] {
        let _ = s.search(&Query::new(name));
    }
    assert!(s.search(&Query::new("")).is_empty());
    for q in hostile_queries() {
        let _ = s.search(&Query::new(q));
    }
    let empty = Screener::new(Vec::new());
    assert!(empty.search(&Query::new("John Smith")).is_empty());
}

/// A timing bound means something only in an optimised build: in a debug
/// build (the default `cargo test`) it is ignored, visibly.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "a timing bound: cargo test --release -p kycd-screening --test it -- hostile_queries_are_quick"
)]
fn hostile_queries_are_quick_in_a_release_build() {
    let s = screener();
    let start = Instant::now();
    for q in hostile_queries() {
        let _ = s.search(&Query::new(q));
    }
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn screener_is_send_sync_and_reports_lists() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Screener>();
    let sdn =
        b"1,\"DOE, John\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n";
    let list = parse_ofac_csv(sdn, None, None, "ofac").unwrap();
    let checksum = list.checksum.clone();
    let s = Screener::new(vec![list]);
    let info = s.lists();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].name, "ofac");
    assert_eq!(info[0].format, "ofac_csv");
    assert_eq!(info[0].entries, 1);
    assert_eq!(info[0].checksum, checksum);
    std::thread::scope(|t| {
        for _ in 0..2 {
            t.spawn(|| assert_eq!(s.search(&Query::new("John Doe")).len(), 1));
        }
    });
}

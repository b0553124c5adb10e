//! Normaliser and transliteration tests: case, accents, punctuation, "LAST, First",
//! honorifics, company forms, Cyrillic, Greek, Arabic, Chinese and Korean.

use kycd_screening::normalize::{NameContext, normalize_name, skeleton, tokenize};
use kycd_screening::{EntityKind, ListEntry, Query, Screener};

fn person(name: &str) -> String {
    tokenize(name, NameContext::for_kind(Some(EntityKind::Person)))
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join(" ")
}

fn org(name: &str) -> String {
    tokenize(name, NameContext::for_kind(Some(EntityKind::Organization)))
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn case_accents_punctuation() {
    assert_eq!(normalize_name("  José  MARÍA   Núñez "), "jose maria nunez");
    assert_eq!(normalize_name("Beto O'Rourke"), "beto orourke");
    assert_eq!(normalize_name("Jean-Pierre Lefèvre"), "jean pierre lefevre");
    assert_eq!(normalize_name("Łukasz Żółć"), "lukasz zolc");
    assert_eq!(normalize_name("Straße"), "strasse");
    assert_eq!(normalize_name(""), "");
    assert_eq!(normalize_name("!!! ..."), "");
}

#[test]
fn last_comma_first() {
    assert_eq!(
        person("PUTIN, Vladimir Vladimirovich"),
        "vladimir vladimirovich putin"
    );
    assert_eq!(person("Donald S. Beyer, Jr."), "donald s beyer");
    assert_eq!(person("BEYER, Donald S., Jr."), "donald s beyer");
    assert_eq!(
        person("GONZALEZ GONZALEZ, Jose Luis"),
        "jose luis gonzalez gonzalez"
    );
}

#[test]
fn honorifics_and_suffixes() {
    assert_eq!(person("Mr. John Smith"), "john smith");
    assert_eq!(person("Dr. Ayman al-Zawahiri"), "ayman al zawahiri");
    assert_eq!(person("Sheikh Hajji Abdul Rahman"), "abdul rahman");
    assert_eq!(person("Martin Luther King III"), "martin luther king");
    // a title is kept when it would leave a single name part
    assert_eq!(person("Shri Thanedar"), "shri thanedar");
}

#[test]
fn company_forms() {
    assert_eq!(org("ANGLO-CARIBBEAN CO., LTD."), "anglo caribbean");
    assert_eq!(org("CECOEX, S.A."), "cecoex");
    assert_eq!(org("Grupo Industrial S.A. de C.V."), "grupo industrial");
    assert_eq!(org("OOO Romashka"), "romashka");
    assert_eq!(
        org("ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ \"ИЖТЕЛЕКОМ\""),
        "izhtelekom"
    );
    assert_eq!(org("Публичное акционерное общество Сбербанк"), "sberbank");
    assert_eq!(org("Romashka Limited Liability Company"), "romashka");
    assert_eq!(org("Siemens GmbH"), "siemens");
    assert_eq!(org("Rosneft Oil Company PJSC"), "rosneft oil");
    assert_eq!(org("Acme Holdings PLC"), "acme holdings");
    assert_eq!(org("Acme Inc."), "acme");
    assert_eq!(org("LLC"), "llc", "a name made only of a form keeps it");
    // persons keep tokens that look like forms
    assert_eq!(person("Kim Sa"), "kim sa");
}

#[test]
fn cyrillic() {
    assert_eq!(normalize_name("Владимир Путин"), "vladimir putin");
    assert_eq!(normalize_name("Сергей Шойгу"), "sergey shoygu");
    assert_eq!(normalize_name("Юрий Щербаков"), "yuriy shcherbakov");
    assert_eq!(normalize_name("Евгений Пригожин"), "yevgeniy prigozhin");
    assert_eq!(
        normalize_name("Захарова Марія Олександрівна"),
        "zakharova mariya oleksandrivna"
    );
}

#[test]
fn greek() {
    assert_eq!(normalize_name("Αλέξης Τσίπρας"), "alexis tsipras");
    assert_eq!(normalize_name("Κυριάκος Μητσοτάκης"), "kyriakos mitsotakis");
    assert_eq!(
        normalize_name("Ελευθέριος Βενιζέλος"),
        "eleftherios venizelos"
    );
}

#[test]
fn arabic() {
    assert_eq!(normalize_name("محمد بن سلمان"), "mhmd bn slman");
    assert_eq!(normalize_name("أسامة بن لادن"), "asama bn ladn");
    assert_eq!(normalize_name("عبد الرحمن"), "abd al rhmn");
    // the consonant skeleton is what gets compared
    assert_eq!(skeleton("mhmd"), skeleton("mohammed"));
    assert_eq!(skeleton("muhammad"), skeleton("mohammed"));
    assert_ne!(skeleton("ahmad"), skeleton("hamid"));
}

#[test]
fn chinese_and_korean() {
    assert_eq!(normalize_name("习近平"), "xi jinping");
    assert_eq!(normalize_name("李鹏"), "li peng");
    assert_eq!(normalize_name("김정은"), "kim jongun");
}

#[test]
fn input_is_capped() {
    let long = "Abdul ".repeat(2000);
    let toks = tokenize(&long, NameContext::for_kind(None));
    assert!(toks.len() <= kycd_screening::normalize::MAX_TOKENS);
    let one_word = "x".repeat(10_000);
    let toks = tokenize(&one_word, NameContext::for_kind(None));
    assert_eq!(toks.len(), 1);
    assert!(toks[0].text.len() <= kycd_screening::normalize::MAX_TOKEN_LEN);
}

fn screener() -> Screener {
    let mut putin = ListEntry::new("1", EntityKind::Person, "PUTIN, Vladimir Vladimirovich");
    putin.dates_of_birth = vec!["1952-10-07".into()];
    let mbs = ListEntry::new("2", EntityKind::Person, "Mohammed bin Salman Al Saud");
    let tsipras = ListEntry::new("3", EntityKind::Person, "Alexis Tsipras");
    let xi = ListEntry::new("4", EntityKind::Person, "XI Jinping");
    let osama = ListEntry::new("5", EntityKind::Person, "BIN LADIN, Usama");
    let kim = ListEntry::new("6", EntityKind::Person, "KIM Jong Un");
    let shoigu = ListEntry::new("7", EntityKind::Person, "Sergei Kuzhugetovich SHOIGU");
    Screener::from_entries("list", vec![putin, mbs, tsipras, xi, osama, kim, shoigu])
}

fn top(s: &Screener, name: &str) -> Option<(String, f64)> {
    let mut q = Query::new(name);
    q.kind = Some(EntityKind::Person);
    s.search(&q).first().map(|m| (m.entry_id.clone(), m.score))
}

#[test]
fn transliterated_names_match_latin_entries() {
    let s = screener();
    assert_eq!(top(&s, "Владимир Путин").map(|m| m.0), Some("1".into()));
    assert_eq!(
        top(&s, "Путин Владимир Владимирович").map(|m| m.0),
        Some("1".into())
    );
    assert_eq!(
        top(&s, "محمد بن سلمان آل سعود").map(|m| m.0),
        Some("2".into())
    );
    assert_eq!(top(&s, "Αλέξης Τσίπρας").map(|m| m.0), Some("3".into()));
    assert_eq!(top(&s, "习近平").map(|m| m.0), Some("4".into()));
    assert_eq!(top(&s, "أسامة بن لادن").map(|m| m.0), Some("5".into()));
    assert_eq!(top(&s, "김정은").map(|m| m.0), Some("6".into()));
    assert_eq!(top(&s, "Сергей Шойгу").map(|m| m.0), Some("7".into()));
}

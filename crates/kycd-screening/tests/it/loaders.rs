//! Loader tests on small fixtures: OFAC CSV quirks and alt/add merge, UN XML, FollowTheMoney,
//! Senzing, the in-house CSV, error lines of truncated files, and list deltas.

use std::path::PathBuf;
use std::str::FromStr;

use kycd_screening::{
    EntityKind, Format, ListKind, changed_entries, load, parse_csv, parse_ftm_json, parse_ofac_csv,
    parse_senzing_json, parse_un_xml,
};

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

const SDN: &[u8] = b"36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
306,\"BANCO NACIONAL DE CUBA\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"a.k.a. 'BNC'.\"\r\n\
7,\"AL-ZAWAHIRI, Ayman\",\"individual\",\"SDGT] [SDT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 19 Jun 1951; POB Giza, Egypt; nationality Egypt; a.k.a. 'ABU MUHAMMAD'; a.k.a. \"\"AL-ZAWAHRI, Aiman\"\"; DOB circa 1950.\"\r\n\
8,\"BOEING 707\",\"aircraft\",\"IRAN\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a";

#[test]
fn ofac_quirks() {
    let list = parse_ofac_csv(SDN, None, None, "sdn").unwrap();
    assert_eq!(list.entries.len(), 4);
    assert_eq!(list.kind, ListKind::Sanctions);
    assert_eq!(list.format, Format::OfacCsv);
    let bnc = &list.entries[1];
    assert_eq!(bnc.kind, EntityKind::Organization);
    assert_eq!(bnc.names, vec!["BANCO NACIONAL DE CUBA", "BNC"]);
    assert_eq!(bnc.programs, vec!["CUBA"]);
    let z = &list.entries[2];
    assert_eq!(z.id, "7");
    assert_eq!(z.kind, EntityKind::Person);
    assert_eq!(
        z.names,
        vec!["AL-ZAWAHIRI, Ayman", "ABU MUHAMMAD", "AL-ZAWAHRI, Aiman"]
    );
    assert_eq!(z.programs, vec!["SDGT", "SDT"]);
    assert_eq!(z.dates_of_birth, vec!["1951-06-19", "1950"]);
    assert_eq!(z.countries, vec!["EG"]);
    assert_eq!(list.entries[3].kind, EntityKind::Aircraft);
    // -0- means empty: no program-less empties, no remarks names
    assert!(list.entries[0].dates_of_birth.is_empty());
    assert_eq!(list.entries[0].names.len(), 1);
    // checksum is the sha256 of the bytes
    use sha2::Digest;
    assert_eq!(list.checksum, hex::encode(sha2::Sha256::digest(SDN)));
}

#[test]
fn ofac_truncated_file_reports_its_line() {
    let cut = &SDN[..SDN.len() - 60];
    let err = parse_ofac_csv(cut, None, None, "sdn.csv").unwrap_err();
    assert_eq!(err.file, "sdn.csv");
    assert_eq!(err.line, 4, "{err}");
    assert!(err.message.contains("fields"), "{err}");
    let garbage = b"1,\"X\",individual\r\n";
    let err = parse_ofac_csv(garbage, None, None, "sdn.csv").unwrap_err();
    assert_eq!(err.line, 1);
}

#[test]
fn ofac_alt_and_add_are_merged_from_beside_the_file() {
    let list = load(Format::OfacCsv, &fixture("ofac/sdn.csv"), "ofac").unwrap();
    assert_eq!(list.entries.len(), 3);
    let acme = &list.entries[0];
    assert_eq!(acme.names, vec!["ACME TRADING CO., LTD.", "ACME INTL"]);
    assert_eq!(acme.programs, vec!["IRAN", "SDGT"]);
    assert_eq!(acme.countries, vec!["AE"]);
    let doe = &list.entries[1];
    assert_eq!(
        doe.names,
        vec![
            "DOE, John Michael",
            "DOE, Johnny",
            "ABU JOHN",
            "DOE, Jonathan"
        ]
    );
    assert_eq!(doe.dates_of_birth, vec!["1959-10-10", "1960"]);
    assert_eq!(doe.countries, vec!["IR", "IQ"]);
    let ship = &list.entries[2];
    assert_eq!(ship.kind, EntityKind::Vessel);
    assert_eq!(ship.names, vec!["SEA STAR", "ANA I", "OCEAN STAR"]);
    assert_eq!(ship.countries, vec!["CU"]);
}

#[test]
fn load_errors_name_the_file() {
    let err = load(Format::Csv, &fixture("missing.csv"), "x").unwrap_err();
    assert!(err.file.ends_with("missing.csv"));
    assert_eq!(err.line, 0);
}

const UN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID>
      <FIRST_NAME>ERIC</FIRST_NAME>
      <SECOND_NAME>BADEGE</SECOND_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE>
      <REFERENCE_NUMBER>CDi.001</REFERENCE_NUMBER>
      <NAME_ORIGINAL_SCRIPT>Эрик Бадеге</NAME_ORIGINAL_SCRIPT>
      <NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>ERIC B &amp; CO</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME/></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ADDRESS><COUNTRY>Rwanda</COUNTRY></INDIVIDUAL_ADDRESS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1971</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1972</FROM_YEAR><TO_YEAR>1973</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>2</DATAID>
      <FIRST_NAME>ALLIED DEMOCRATIC FORCES</FIRST_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE>
      <REFERENCE_NUMBER>CDe.001</REFERENCE_NUMBER>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>ADF</ALIAS_NAME></ENTITY_ALIAS>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"#;

#[test]
fn un_xml() {
    let list = parse_un_xml(UN.as_bytes(), "un").unwrap();
    assert_eq!(list.entries.len(), 2);
    let e = &list.entries[0];
    assert_eq!(e.id, "CDi.001");
    assert_eq!(e.kind, EntityKind::Person);
    assert_eq!(e.names, vec!["ERIC BADEGE", "Эрик Бадеге", "ERIC B & CO"]);
    assert_eq!(e.dates_of_birth, vec!["1971", "1972", "1973"]);
    assert_eq!(e.countries, vec!["CD", "RW"]);
    assert_eq!(e.programs, vec!["DRC"]);
    let adf = &list.entries[1];
    assert_eq!(adf.kind, EntityKind::Organization);
    assert_eq!(adf.names, vec!["ALLIED DEMOCRATIC FORCES", "ADF"]);
}

#[test]
fn un_xml_truncated_reports_a_line() {
    let cut = &UN[..UN.find("<ENTITIES>").unwrap() + 30];
    let err = parse_un_xml(cut.as_bytes(), "un.xml").unwrap_err();
    assert_eq!(err.file, "un.xml");
    assert!(err.line >= 20, "{err}");
    let broken = UN.replace(
        "</FIRST_NAME>\n      <SECOND_NAME>",
        "</FIRST>\n      <SECOND_NAME>",
    );
    let err = parse_un_xml(broken.as_bytes(), "un.xml").unwrap_err();
    assert_eq!(err.line, 6, "{err}");
}

#[test]
fn ftm_json() {
    let text = r#"{"id": "p1", "schema": "Person", "properties": {"name": ["Maria Osetrova", "Мария Осетрова"], "alias": ["Mariya O."], "birthDate": ["1988-01-07"], "nationality": ["ru"], "topics": ["role.pep"]}}
{"id": "c1", "schema": "Company", "properties": {"name": ["ZALA AERO"], "country": ["ru"], "topics": ["sanction"]}}

{"id": "s1", "schema": "Sanction", "properties": {"entity": ["c1"], "programId": ["US-RUSHAR"]}}
{"id": "a1", "schema": "Address", "properties": {"full": ["Izhevsk"]}}
"#;
    let list = parse_ftm_json(text.as_bytes(), "zala").unwrap();
    assert_eq!(list.entries.len(), 2);
    let p = &list.entries[0];
    assert!(p.pep);
    assert_eq!(p.kind, EntityKind::Person);
    assert_eq!(
        p.names,
        vec!["Maria Osetrova", "Мария Осетрова", "Mariya O."]
    );
    assert_eq!(p.dates_of_birth, vec!["1988-01-07"]);
    assert_eq!(p.countries, vec!["RU"]);
    let c = &list.entries[1];
    assert!(!c.pep);
    assert_eq!(c.kind, EntityKind::Organization);
    assert_eq!(c.programs, vec!["US-RUSHAR"]);
    assert_eq!(list.kind, ListKind::Sanctions);
    let bad = format!(
        "{}{{\"id\": \"x\", \"schema\": ",
        &text[..text.find('\n').unwrap() + 1]
    );
    let err = parse_ftm_json(bad.as_bytes(), "zala.json").unwrap_err();
    assert_eq!((err.file.as_str(), err.line), ("zala.json", 2));
}

#[test]
fn senzing_json() {
    let text = r#"{"DATA_SOURCE":"OS","RECORD_ID":"Q1","RECORD_TYPE":"PERSON","NAMES":[{"NAME_TYPE":"ALIAS","NAME_FULL":"Katie Britt"},{"NAME_TYPE":"PRIMARY","NAME_FULL":"Katie Boyd Britt"}],"RISKS":[{"TOPIC":"role.pep"}],"DATES":[{"DATE_OF_BIRTH":"1982"}],"COUNTRIES":[{"NATIONALITY":"us"}]}
{"DATA_SOURCE":"OS","RECORD_ID":"Q2","RECORD_TYPE":"PERSON","NAMES":[{"NAME_TYPE":"PRIMARY","NAME_FIRST":"John","NAME_LAST":"Smith"}],"RISKS":[{"TOPIC":"role.pep"}],"DATE_OF_BIRTH":"1950-02-03","CITIZENSHIP":"Canada"}
{"DATA_SOURCE":"OS","RECORD_ID":"Q3","RECORD_TYPE":null,"NAMES":[{"NAME_TYPE":"PRIMARY","NAME_FULL":"United States senator"}],"COUNTRIES":[{"NATIONALITY":"us"}]}
"#;
    let list = parse_senzing_json(text.as_bytes(), "pep").unwrap();
    assert_eq!(list.entries.len(), 2, "position records are skipped");
    assert_eq!(list.kind, ListKind::Pep);
    let k = &list.entries[0];
    assert_eq!(k.names, vec!["Katie Boyd Britt", "Katie Britt"]);
    assert_eq!(k.dates_of_birth, vec!["1982"]);
    assert_eq!(k.countries, vec!["US"]);
    assert!(k.pep);
    let j = &list.entries[1];
    assert_eq!(j.names, vec!["John Smith"]);
    assert_eq!(j.dates_of_birth, vec!["1950-02-03"]);
    assert_eq!(j.countries, vec!["CA"]);
    let err = parse_senzing_json(&text.as_bytes()[..300], "pep.json").unwrap_err();
    assert_eq!(err.line, 2);
}

#[test]
fn in_house_csv() {
    let text = "id,name,type,aliases,date_of_birth,country,programs\n\
X-1,\"DOE, John\",person,Johnny Doe;J. Doe,1970-01-31,US,SDGT;CYBER2\n\
X-2,Acme Trading LLC,organization,,,Iran,IRAN\n";
    let list = parse_csv(text.as_bytes(), "inhouse").unwrap();
    assert_eq!(list.entries.len(), 2);
    let j = &list.entries[0];
    assert_eq!(j.names, vec!["DOE, John", "Johnny Doe", "J. Doe"]);
    assert_eq!(j.programs, vec!["SDGT", "CYBER2"]);
    assert_eq!(j.countries, vec!["US"]);
    assert_eq!(j.dates_of_birth, vec!["1970-01-31"]);
    assert_eq!(list.entries[1].kind, EntityKind::Organization);
    assert_eq!(list.entries[1].countries, vec!["IR"]);
    let bad = "id,name,type,aliases,date_of_birth,country,programs\nX-1,A,person,,,,\nX-2,B,spaceship,,,,\n";
    let err = parse_csv(bad.as_bytes(), "in.csv").unwrap_err();
    assert_eq!(err.line, 3);
    let crlf = bad.replace('\n', "\r\n");
    assert_eq!(parse_csv(crlf.as_bytes(), "in.csv").unwrap_err().line, 3);
    let short = "id,name,type,aliases,date_of_birth,country,programs\nX-1,A,person\n";
    assert_eq!(parse_csv(short.as_bytes(), "in.csv").unwrap_err().line, 2);
    assert_eq!(parse_csv(b"foo,bar\n1,2\n", "in.csv").unwrap_err().line, 1);
}

#[test]
fn formats_parse_from_str() {
    for (s, f) in [
        ("ofac_csv", Format::OfacCsv),
        ("un_xml", Format::UnXml),
        ("ftm_json", Format::FtmJson),
        ("senzing_json", Format::SenzingJson),
        ("csv", Format::Csv),
    ] {
        assert_eq!(Format::from_str(s).unwrap(), f);
        assert_eq!(f.as_str(), s);
    }
    assert!(Format::from_str("xlsx").is_err());
}

#[test]
fn changed_entries_finds_added_and_modified() {
    let old = parse_ofac_csv(SDN, None, None, "sdn").unwrap();
    let mut new = old.clone();
    new.entries.remove(0); // removed: not reported
    new.entries[0].names.push("NEW ALIAS".into()); // changed
    let mut added = new.entries[1].clone();
    added.id = "9999".into();
    new.entries.push(added); // added
    let changed = changed_entries(&old, &new);
    let ids: Vec<&str> = changed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["306", "9999"]);
    assert!(changed_entries(&old, &old).is_empty());
}

#[test]
fn never_panics_on_garbage() {
    let junk: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
    for f in [parse_csv, parse_ftm_json, parse_senzing_json, parse_un_xml] {
        let _ = f(&junk, "junk");
        let _ = f(b"", "empty");
    }
    let _ = parse_ofac_csv(&junk, Some(&junk), Some(&junk), "junk");
    assert!(
        parse_ofac_csv(b"", None, None, "empty")
            .unwrap()
            .entries
            .is_empty()
    );
}

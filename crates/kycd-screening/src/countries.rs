//! Country names (English, as written by OFAC, the UN and common data sets) to ISO 3166-1 alpha-2.

use std::collections::HashMap;
use std::sync::OnceLock;

/// `(code, names)`: the short English name first, then variants seen in lists.
const COUNTRIES: &[(&str, &[&str])] = &[
    ("AF", &["afghanistan"]),
    ("AL", &["albania"]),
    ("DZ", &["algeria"]),
    ("AS", &["american samoa"]),
    ("AD", &["andorra"]),
    ("AO", &["angola"]),
    ("AI", &["anguilla"]),
    ("AG", &["antigua and barbuda"]),
    ("AR", &["argentina"]),
    ("AM", &["armenia"]),
    ("AW", &["aruba"]),
    ("AU", &["australia"]),
    ("AT", &["austria"]),
    ("AZ", &["azerbaijan"]),
    ("BS", &["bahamas", "the bahamas", "bahamas the"]),
    ("BH", &["bahrain"]),
    ("BD", &["bangladesh"]),
    ("BB", &["barbados"]),
    ("BY", &["belarus", "byelorussia"]),
    ("BE", &["belgium"]),
    ("BZ", &["belize"]),
    ("BJ", &["benin"]),
    ("BM", &["bermuda"]),
    ("BT", &["bhutan"]),
    ("BO", &["bolivia", "bolivia plurinational state of"]),
    (
        "BA",
        &["bosnia and herzegovina", "bosnia herzegovina", "bosnia"],
    ),
    ("BW", &["botswana"]),
    ("BR", &["brazil"]),
    ("VG", &["british virgin islands", "virgin islands british"]),
    ("BN", &["brunei", "brunei darussalam"]),
    ("BG", &["bulgaria"]),
    ("BF", &["burkina faso"]),
    ("BI", &["burundi"]),
    ("CV", &["cabo verde", "cape verde"]),
    ("KH", &["cambodia"]),
    ("CM", &["cameroon"]),
    ("CA", &["canada"]),
    ("KY", &["cayman islands"]),
    ("CF", &["central african republic"]),
    ("TD", &["chad"]),
    ("CL", &["chile"]),
    ("CN", &["china", "peoples republic of china", "prc"]),
    ("CO", &["colombia"]),
    ("KM", &["comoros"]),
    (
        "CG",
        &[
            "congo",
            "republic of the congo",
            "congo republic of the",
            "congo brazzaville",
        ],
    ),
    (
        "CD",
        &[
            "democratic republic of the congo",
            "congo democratic republic of the",
            "dr congo",
            "drc",
            "congo kinshasa",
            "zaire",
        ],
    ),
    ("CK", &["cook islands"]),
    ("CR", &["costa rica"]),
    ("CI", &["cote d ivoire", "cote divoire", "ivory coast"]),
    ("HR", &["croatia"]),
    ("CU", &["cuba"]),
    ("CW", &["curacao"]),
    ("CY", &["cyprus"]),
    ("CZ", &["czech republic", "czechia"]),
    ("DK", &["denmark"]),
    ("DJ", &["djibouti"]),
    ("DM", &["dominica"]),
    ("DO", &["dominican republic"]),
    ("EC", &["ecuador"]),
    ("EG", &["egypt"]),
    ("SV", &["el salvador"]),
    ("GQ", &["equatorial guinea"]),
    ("ER", &["eritrea"]),
    ("EE", &["estonia"]),
    ("SZ", &["eswatini", "swaziland"]),
    ("ET", &["ethiopia"]),
    ("FJ", &["fiji"]),
    ("FI", &["finland"]),
    ("FR", &["france"]),
    ("GA", &["gabon"]),
    ("GM", &["gambia", "the gambia", "gambia the"]),
    ("GE", &["georgia"]),
    ("DE", &["germany", "federal republic of germany"]),
    ("GH", &["ghana"]),
    ("GI", &["gibraltar"]),
    ("GR", &["greece"]),
    ("GD", &["grenada"]),
    ("GU", &["guam"]),
    ("GT", &["guatemala"]),
    ("GG", &["guernsey"]),
    ("GN", &["guinea"]),
    ("GW", &["guinea bissau"]),
    ("GY", &["guyana"]),
    ("HT", &["haiti"]),
    ("VA", &["holy see", "vatican", "vatican city"]),
    ("HN", &["honduras"]),
    ("HK", &["hong kong", "hong kong sar"]),
    ("HU", &["hungary"]),
    ("IS", &["iceland"]),
    ("IN", &["india"]),
    ("ID", &["indonesia"]),
    (
        "IR",
        &[
            "iran",
            "iran islamic republic of",
            "islamic republic of iran",
        ],
    ),
    ("IQ", &["iraq"]),
    ("IE", &["ireland"]),
    ("IM", &["isle of man"]),
    ("IL", &["israel"]),
    ("IT", &["italy"]),
    ("JM", &["jamaica"]),
    ("JP", &["japan"]),
    ("JE", &["jersey"]),
    ("JO", &["jordan"]),
    ("KZ", &["kazakhstan"]),
    ("KE", &["kenya"]),
    ("KI", &["kiribati"]),
    (
        "KP",
        &[
            "north korea",
            "korea north",
            "democratic peoples republic of korea",
            "korea democratic peoples republic of",
            "dprk",
        ],
    ),
    (
        "KR",
        &[
            "south korea",
            "korea south",
            "republic of korea",
            "korea republic of",
            "korea",
        ],
    ),
    ("XK", &["kosovo"]),
    ("KW", &["kuwait"]),
    ("KG", &["kyrgyzstan", "kyrgyz republic"]),
    (
        "LA",
        &["laos", "lao peoples democratic republic", "lao pdr"],
    ),
    ("LV", &["latvia"]),
    ("LB", &["lebanon"]),
    ("LS", &["lesotho"]),
    ("LR", &["liberia"]),
    ("LY", &["libya", "libyan arab jamahiriya"]),
    ("LI", &["liechtenstein"]),
    ("LT", &["lithuania"]),
    ("LU", &["luxembourg"]),
    ("MO", &["macau", "macao"]),
    ("MG", &["madagascar"]),
    ("MW", &["malawi"]),
    ("MY", &["malaysia"]),
    ("MV", &["maldives"]),
    ("ML", &["mali"]),
    ("MT", &["malta"]),
    ("MH", &["marshall islands"]),
    ("MR", &["mauritania"]),
    ("MU", &["mauritius"]),
    ("MX", &["mexico"]),
    ("FM", &["micronesia", "micronesia federated states of"]),
    (
        "MD",
        &["moldova", "republic of moldova", "moldova republic of"],
    ),
    ("MC", &["monaco"]),
    ("MN", &["mongolia"]),
    ("ME", &["montenegro"]),
    ("MA", &["morocco"]),
    ("MZ", &["mozambique"]),
    ("MM", &["myanmar", "burma"]),
    ("NA", &["namibia"]),
    ("NR", &["nauru"]),
    ("NP", &["nepal"]),
    ("NL", &["netherlands", "the netherlands", "holland"]),
    ("NZ", &["new zealand"]),
    ("NI", &["nicaragua"]),
    ("NE", &["niger"]),
    ("NG", &["nigeria"]),
    (
        "MK",
        &[
            "north macedonia",
            "macedonia",
            "north macedonia the republic of",
            "republic of north macedonia",
            "the former yugoslav republic of macedonia",
        ],
    ),
    ("NO", &["norway"]),
    ("OM", &["oman"]),
    ("PK", &["pakistan"]),
    ("PW", &["palau"]),
    (
        "PS",
        &[
            "palestine",
            "state of palestine",
            "palestinian",
            "palestinian territories",
            "west bank",
            "gaza",
            "region gaza",
        ],
    ),
    ("PA", &["panama"]),
    ("PG", &["papua new guinea"]),
    ("PY", &["paraguay"]),
    ("PE", &["peru"]),
    ("PH", &["philippines", "the philippines"]),
    ("PL", &["poland"]),
    ("PT", &["portugal"]),
    ("PR", &["puerto rico"]),
    ("QA", &["qatar"]),
    ("RO", &["romania"]),
    ("RU", &["russia", "russian federation"]),
    ("RW", &["rwanda"]),
    ("KN", &["saint kitts and nevis", "st kitts and nevis"]),
    ("LC", &["saint lucia", "st lucia"]),
    (
        "VC",
        &[
            "saint vincent and the grenadines",
            "st vincent and the grenadines",
        ],
    ),
    ("WS", &["samoa"]),
    ("SM", &["san marino"]),
    ("ST", &["sao tome and principe"]),
    ("SA", &["saudi arabia"]),
    ("SN", &["senegal"]),
    ("RS", &["serbia"]),
    ("SC", &["seychelles"]),
    ("SL", &["sierra leone"]),
    ("SG", &["singapore"]),
    ("SX", &["sint maarten"]),
    ("SK", &["slovakia", "slovak republic"]),
    ("SI", &["slovenia"]),
    ("SB", &["solomon islands"]),
    ("SO", &["somalia"]),
    ("ZA", &["south africa"]),
    ("SS", &["south sudan"]),
    ("ES", &["spain"]),
    ("LK", &["sri lanka"]),
    ("SD", &["sudan"]),
    ("SR", &["suriname"]),
    ("SE", &["sweden"]),
    ("CH", &["switzerland"]),
    ("SY", &["syria", "syrian arab republic"]),
    (
        "TW",
        &["taiwan", "taiwan province of china", "republic of china"],
    ),
    ("TJ", &["tajikistan"]),
    (
        "TZ",
        &[
            "tanzania",
            "united republic of tanzania",
            "tanzania united republic of",
        ],
    ),
    ("TH", &["thailand"]),
    ("TL", &["timor leste", "east timor"]),
    ("TG", &["togo"]),
    ("TO", &["tonga"]),
    ("TT", &["trinidad and tobago"]),
    ("TN", &["tunisia"]),
    ("TR", &["turkey", "turkiye"]),
    ("TM", &["turkmenistan"]),
    ("TC", &["turks and caicos islands"]),
    ("TV", &["tuvalu"]),
    ("UG", &["uganda"]),
    ("UA", &["ukraine"]),
    ("AE", &["united arab emirates", "uae"]),
    (
        "GB",
        &[
            "united kingdom",
            "uk",
            "great britain",
            "britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "united kingdom of great britain and northern ireland",
        ],
    ),
    (
        "US",
        &[
            "united states",
            "united states of america",
            "usa",
            "america",
            "u s a",
            "u s",
        ],
    ),
    ("UY", &["uruguay"]),
    ("UZ", &["uzbekistan"]),
    ("VU", &["vanuatu"]),
    ("VE", &["venezuela", "venezuela bolivarian republic of"]),
    ("VN", &["vietnam", "viet nam"]),
    ("YE", &["yemen"]),
    ("ZM", &["zambia"]),
    ("ZW", &["zimbabwe"]),
    ("SU", &["former soviet union", "soviet union", "ussr"]),
];

fn key(s: &str) -> String {
    let ascii = deunicode::deunicode(s)
        .to_ascii_lowercase()
        .replace(['\'', '`'], "");
    let mut out = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn table() -> &'static HashMap<String, &'static str> {
    static TABLE: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        for (code, names) in COUNTRIES {
            for name in *names {
                map.insert(key(name), *code);
            }
            map.insert(code.to_ascii_lowercase(), *code);
        }
        map
    })
}

/// Maps a country name (or an alpha-2 code, any case) to its ISO 3166-1 alpha-2 code.
/// Qualifiers such as "possibly" are ignored. Returns `None` when the name is unknown.
pub fn country_code(name: &str) -> Option<&'static str> {
    let k = key(name);
    let k = k
        .strip_prefix("possibly ")
        .or_else(|| k.strip_prefix("probably "))
        .unwrap_or(&k);
    if k.is_empty() {
        return None;
    }
    table().get(k).copied()
}

/// Whether a single normalised word is a country name ("iran", "iraq"; not a code).
pub(crate) fn is_country_word(word: &str) -> bool {
    word.len() >= 4 && table().contains_key(word)
}

#[cfg(test)]
mod tests {
    use super::country_code;

    #[test]
    fn maps_list_spellings() {
        assert_eq!(country_code("Korea, North"), Some("KP"));
        assert_eq!(
            country_code("Democratic People's Republic of Korea"),
            Some("KP")
        );
        assert_eq!(country_code("Iran (Islamic Republic of)"), Some("IR"));
        assert_eq!(country_code("Türkiye"), Some("TR"));
        assert_eq!(country_code("us"), Some("US"));
        assert_eq!(country_code("possibly Palestinian"), Some("PS"));
        assert_eq!(
            country_code("Congo, Democratic Republic of the"),
            Some("CD")
        );
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(country_code(""), None);
    }
}

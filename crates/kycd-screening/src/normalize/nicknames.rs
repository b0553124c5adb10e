//! Given-name equivalence groups: common English hypocorisms and a few well-known
//! cross-language forms (Bob = Robert, Sasha = Alexander). At most 128 groups.

use std::collections::HashMap;
use std::sync::OnceLock;

const GROUPS: &[&[&str]] = &[
    &["robert", "rob", "robbie", "bob", "bobby", "bert"],
    &[
        "william", "will", "willie", "willy", "bill", "billy", "liam",
    ],
    &["richard", "rich", "richie", "rick", "ricky", "dick"],
    &["james", "jim", "jimmy", "jamie"],
    &["michael", "mike", "mikey", "mick", "mickey"],
    &["david", "dave", "davy", "davey"],
    &["daniel", "dan", "danny"],
    &["thomas", "tom", "tommy"],
    &["joseph", "joe", "joey"],
    &["charles", "charlie", "chuck", "chas"],
    &["edward", "ed", "eddie", "ted", "teddy", "ned"],
    &["anthony", "antony", "tony"],
    &["stephen", "steven", "steve", "stevie"],
    &["christopher", "chris", "kit"],
    &["christine", "christina", "chris", "tina"],
    &["matthew", "matt", "matty"],
    &["nicholas", "nick", "nicky", "nico"],
    &["patrick", "pat", "paddy"],
    &["patricia", "pat", "patty", "trish"],
    &[
        "katherine",
        "catherine",
        "kathryn",
        "kate",
        "katie",
        "kathy",
        "cathy",
        "kat",
    ],
    &["kathleen", "kathy", "kate"],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "betsy",
        "eliza",
        "libby",
    ],
    &["margaret", "maggie", "meg", "peggy", "marge", "margie"],
    &["susan", "sue", "susie", "suzanne"],
    &["jennifer", "jen", "jenny"],
    &["kenneth", "ken", "kenny"],
    &["lawrence", "laurence", "larry"],
    &["gerald", "gerry", "jerry"],
    &["jerome", "jerry"],
    &["andrew", "andy", "drew"],
    &["gregory", "greg"],
    &["jeffrey", "geoffrey", "jeff", "geoff"],
    &["joshua", "josh"],
    &["benjamin", "ben", "benny"],
    &["samuel", "sam", "sammy"],
    &["frederick", "fred", "freddie", "freddy"],
    &["henry", "hank", "harry"],
    &["harold", "harry", "hal"],
    &["john", "johnny", "jack", "jon"],
    &["jonathan", "jon", "jonny"],
    &[
        "alexander",
        "alex",
        "alec",
        "sasha",
        "aleksandr",
        "alexandr",
        "sandy",
    ],
    &["alexandra", "alex", "sasha", "sandra", "sandy"],
    &["nathaniel", "nathan", "nate", "nat"],
    &["douglas", "doug"],
    &["donald", "don", "donnie"],
    &["ronald", "ron", "ronnie"],
    &["timothy", "tim", "timmy"],
    &["vincent", "vince", "vinny"],
    &["walter", "walt", "wally"],
    &["eugene", "gene"],
    &["raymond", "ray"],
    &["peter", "pete"],
    &["philip", "phillip", "phil"],
    &["terrence", "terence", "terry"],
    &["zachary", "zach", "zack"],
    &["abraham", "abe"],
    &["manuel", "manny"],
    &["jose", "pepe"],
    &["francisco", "paco", "pancho"],
    &["francis", "frank", "frankie"],
    &["franklin", "frank"],
    &["albert", "bert", "bertie"],
    &["arthur", "art", "artie"],
    &["bradley", "brad"],
    &["randall", "randy"],
    &["rodney", "rod"],
    &["gary", "garry"],
    &["leonard", "leo", "len", "lenny"],
    &["mitchell", "mitch"],
    &["russell", "russ"],
    &["stanley", "stan"],
    &["theodore", "theo", "ted", "teddy"],
    &["valerie", "val"],
    &["victoria", "vicky", "tori"],
    &["deborah", "debra", "debbie", "deb"],
    &["barbara", "barb", "barbie"],
    &["rebecca", "becky", "becca"],
    &["jacqueline", "jackie"],
    &["pamela", "pam"],
    &["cynthia", "cindy"],
    &["kimberly", "kim"],
    &["samantha", "sam"],
    &["melissa", "missy", "mel"],
    &["dorothy", "dot", "dottie"],
    &["carolyn", "caroline", "carol", "carrie"],
    &["judith", "judy"],
    &["theresa", "teresa", "terri", "terry", "tess"],
    &["virginia", "ginny", "ginger"],
    &["vladimir", "volodya", "vova"],
    &["dmitry", "dmitri", "dmitriy", "dima"],
    &["yevgeny", "yevgeniy", "evgeny", "evgeniy", "zhenya"],
    &[
        "mohammed", "mohammad", "muhammad", "muhammed", "mohamed", "mohamad", "mohd", "md",
    ],
];

fn table() -> &'static HashMap<&'static str, u128> {
    static TABLE: OnceLock<HashMap<&'static str, u128>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map: HashMap<&'static str, u128> = HashMap::new();
        for (i, group) in GROUPS.iter().enumerate().take(128) {
            for name in *group {
                *map.entry(name).or_default() |= 1u128 << i;
            }
        }
        map
    })
}

/// The groups a given name belongs to, as a bit set (0 when none).
pub fn groups(token: &str) -> u128 {
    table().get(token).copied().unwrap_or(0)
}

//! Cross-script pairs: names written in Japanese (kanji and kana), Bengali, Khmer, Persian,
//! Arabic, Chinese and Korean against their usual Latin spelling (public figures and
//! invented names, written for this set), and look-alikes in the same script (one other
//! character, syllable or name part) that must match none of them. The Latin spellings
//! are the entries of a list of their own; every query must find its own entry and only it.

use std::collections::BTreeMap;
use std::fmt;

use super::quality::Prf;
use crate::model::{EntityKind, ListEntry};
use crate::screener::{Query, Screener};

/// (script, name in that script, Latin spelling as a list would write it).
pub const PAIRS: &[(&str, &str, &str)] = &[
    ("japanese_kanji", "山田太郎", "YAMADA, Taro"),
    ("japanese_kanji", "鈴木一郎", "Ichiro SUZUKI"),
    ("japanese_kanji", "佐藤健", "Ken Sato"),
    ("japanese_kanji", "田中角栄", "Kakuei Tanaka"),
    ("japanese_kanji", "安倍晋三", "Shinzo Abe"),
    ("japanese_kanji", "小泉純一郎", "Junichiro Koizumi"),
    ("japanese_kanji", "中村美咲", "Misaki Nakamura"),
    ("japanese_kanji", "高橋洋一", "TAKAHASHI Yoichi"),
    ("japanese_kanji", "渡辺直美", "Naomi Watanabe"),
    ("japanese_kanji", "伊藤博文", "Hirobumi Ito"),
    ("japanese_kanji", "木村拓哉", "Takuya Kimura"),
    ("japanese_kanji", "林 修", "Osamu Hayashi"),
    ("japanese_kanji", "松本 清", "Kiyoshi Matsumoto"),
    ("japanese_kanji", "佐々木 恵子", "Keiko Sasaki"),
    ("japanese_kana", "ヤマモト ケンジ", "Kenji Yamamoto"),
    ("japanese_kana", "さとう ゆうこ", "Yuko Sato"),
    ("japanese_kana", "イノウエ キョウコ", "Kyoko Inoue"),
    ("japanese_kana", "ハットリ ヘイジ", "HATTORI, Heiji"),
    ("japanese_kana", "たなか まさる", "Masaru Tanaka"),
    ("japanese_kana", "オオタ シュンスケ", "Shunsuke Ota"),
    ("bengali", "মুজিবুর রহমান", "Mujibur Rahman"),
    ("bengali", "শেখ হাসিনা", "Sheikh Hasina"),
    ("bengali", "খালেদা জিয়া", "Khaleda Zia"),
    ("bengali", "তারেক রহমান", "Tarique Rahman"),
    ("bengali", "মাহমুদুল হাসান", "Mahmudul Hasan"),
    ("bengali", "কামাল হোসেন", "Kamal Hossain"),
    ("bengali", "মোহাম্মদ ইউনূস", "Muhammad Yunus"),
    ("bengali", "সাকিব আল হাসান", "Shakib Al Hasan"),
    ("bengali", "আবদুল হামিদ", "Abdul Hamid"),
    ("bengali", "ফখরুল ইসলাম", "Fakhrul Islam"),
    ("bengali", "নাসির উদ্দিন", "Nasir Uddin"),
    ("bengali", "আনোয়ার হোসেন", "Anwar Hossain"),
    ("khmer", "ហ៊ុន សែន", "Hun Sen"),
    ("khmer", "ហ៊ុន ម៉ាណែត", "Hun Manet"),
    ("khmer", "ប៉ុល ពត", "Pol Pot"),
    ("khmer", "នួន ជា", "Nuon Chea"),
    ("khmer", "ខៀវ សំផន", "Khieu Samphan"),
    ("khmer", "អៀង សារី", "Ieng Sary"),
    ("khmer", "ហេង សំរិន", "Heng Samrin"),
    ("khmer", "ជា ស៊ីម", "Chea Sim"),
    ("khmer", "សម រង្ស៊ី", "Sam Rainsy"),
    ("khmer", "កឹម សុខា", "Kem Sokha"),
    ("khmer", "ស ខេង", "Sar Kheng"),
    ("khmer", "តា ម៉ុក", "Ta Mok"),
    ("persian", "محمد جواد ظریف", "Mohammad Javad Zarif"),
    ("persian", "قاسم سلیمانی", "Qasem Soleimani"),
    ("persian", "علی خامنه‌ای", "Ali Khamenei"),
    ("persian", "حسن روحانی", "Hassan Rouhani"),
    ("persian", "محمود احمدی‌نژاد", "Mahmoud Ahmadinejad"),
    ("persian", "ابراهیم رئیسی", "Ebrahim Raisi"),
    ("persian", "مرتضی رضایی", "Morteza Rezaei"),
    ("persian", "پرویز فتاح", "Parviz Fattah"),
    ("persian", "رضا پهلوی", "Reza Pahlavi"),
    ("persian", "عباس عراقچی", "Abbas Araghchi"),
    ("persian", "فضل‌الله زاهدی", "Fazlollah Zahedi"),
    ("persian", "رمضان شریف", "Ramezan Sharif"),
    ("arabic", "محمد بن سلمان", "Mohammed bin Salman"),
    ("arabic", "أسامة بن لادن", "Usama bin Ladin"),
    ("arabic", "عبد الرحمن الرشيد", "Abdul Rahman al-Rashid"),
    ("arabic", "رضا حسن", "Rida Hassan"),
    ("chinese", "习近平", "XI Jinping"),
    ("chinese", "王建国", "Wang Jianguo"),
    ("chinese", "李克强", "Li Keqiang"),
    ("chinese", "张伟", "Zhang Wei"),
    ("korean", "김정은", "KIM Jong Un"),
    ("korean", "박지성", "Park Jisung"),
    // Korean names as their owners, the press and the UN and OFAC lists spell them
    // (Revised Romanization, McCune-Reischauer and passport spellings).
    ("korean", "이명박", "Lee Myung-bak"),
    ("korean", "문재인", "Moon Jae-in"),
    ("korean", "반기문", "Ban Ki-moon"),
    ("korean", "노무현", "Roh Moo-hyun"),
    ("korean", "김대중", "Kim Dae-jung"),
    ("korean", "이건희", "Lee Kun-hee"),
    ("korean", "정몽구", "Chung Mong-koo"),
    ("korean", "윤석열", "Yoon Suk-yeol"),
    ("korean", "손흥민", "Son Heung-min"),
    ("korean", "김여정", "KIM Yo Jong"),
    ("korean", "최룡해", "CHOE Ryong Hae"),
    ("korean", "리병철", "RI Pyong Chol"),
    ("korean", "박봉주", "PAK Pong Ju"),
    // Bengali names in the Latin spellings their owners use.
    ("bengali", "শফিকুল ইসলাম", "Shafiqul Islam"),
    ("bengali", "ওবায়দুল কাদের", "Obaidul Quader"),
    ("bengali", "সজীব ওয়াজেদ", "Sajeeb Wazed"),
    ("bengali", "ফারুক খান", "Farooq Khan"),
    ("bengali", "জুনায়েদ আহমেদ পলক", "Zunaid Ahmed Palak"),
    (
        "bengali",
        "মির্জা ফখরুল ইসলাম আলমগীর",
        "Mirza Fakhrul Islam Alamgir",
    ),
    ("bengali", "আসাদুজ্জামান খান", "Asaduzzaman Khan"),
    ("bengali", "আনিসুল হক", "Anisul Huq"),
    // Khmer names in French- and Pali-based spellings.
    ("khmer", "នរោត្តម សីហមុនី", "Norodom Sihamoni"),
    ("khmer", "នរោត្តម សីហនុ", "Norodom Sihanouk"),
    ("khmer", "ប៊ុន រ៉ានី", "Bun Rany"),
    ("khmer", "ឡុន ណុល", "Lon Nol"),
    ("khmer", "ហោ ណាំហុង", "Hor Namhong"),
    ("khmer", "ទៀ បាញ់", "Tea Banh"),
    ("khmer", "សឺន សេន", "Son Sen"),
];

/// (script, look-alike name in that script): another person whose name is one character,
/// syllable or name part away from a name of [`PAIRS`]; it must alert on no entry.
pub const LOOKALIKES: &[(&str, &str)] = &[
    ("japanese_kanji", "山田次郎"),
    ("japanese_kanji", "鈴木二郎"),
    ("japanese_kanji", "佐藤誠"),
    ("japanese_kanji", "中村美香"),
    ("japanese_kanji", "高橋洋二"),
    ("japanese_kanji", "木村拓真"),
    ("japanese_kanji", "山本太郎"),
    ("japanese_kana", "ヤマモト ケンタ"),
    ("japanese_kana", "さとう ゆうき"),
    ("japanese_kana", "たなか まさお"),
    ("bengali", "মিজানুর রহমান"),
    ("bengali", "শেখ রেহানা"),
    ("bengali", "খালেদা আক্তার"),
    ("bengali", "কামাল উদ্দিন"),
    ("bengali", "আবদুল করিম"),
    ("khmer", "ហ៊ុន ម៉ានី"),
    ("khmer", "ហេង សារិន"),
    ("khmer", "ជា សុខា"),
    ("khmer", "សម សារី"),
    ("persian", "علی لاریجانی"),
    ("persian", "محمد جواد باهنر"),
    ("persian", "قاسم رضایی"),
    ("persian", "رضا فتاح"),
    ("arabic", "محمد بن نايف"),
    ("chinese", "习近民"),
    ("chinese", "王建华"),
    ("chinese", "李克明"),
    ("korean", "김정일"),
    ("korean", "박지민"),
    ("korean", "이명수"),
    ("korean", "문재원"),
    ("korean", "김여진"),
    ("korean", "최룡수"),
    ("korean", "박봉수"),
    ("korean", "손흥수"),
    ("bengali", "শফিকুর রহমান"),
    ("bengali", "ফারুক আহমেদ"),
    ("bengali", "তারিক সিদ্দিক"),
    ("bengali", "সজীব আহমেদ"),
    ("khmer", "នរោត្តម ចក្រាពង្ស"),
    ("khmer", "ប៊ុន ស៊ីម"),
    ("khmer", "ឡុន រិទ្ធ"),
];

/// Precision, recall and F1 per script on [`PAIRS`] and [`LOOKALIKES`].
#[derive(Debug, Clone, Default)]
pub struct CrossScriptReport {
    pub threshold: f64,
    pub by_script: BTreeMap<String, Prf>,
    pub all: Prf,
    pub missed: Vec<String>,
    pub false_alerts: Vec<String>,
}

/// Runs the cross-script set at `threshold` (name only, persons).
pub fn run_cross_script(threshold: f64) -> CrossScriptReport {
    let entries: Vec<ListEntry> = PAIRS
        .iter()
        .enumerate()
        .map(|(i, (_, _, latin))| ListEntry::new(format!("p{i}"), EntityKind::Person, *latin))
        .collect();
    let screener = Screener::from_entries("cross_script", entries);
    let mut r = CrossScriptReport {
        threshold,
        ..CrossScriptReport::default()
    };
    let queries = PAIRS
        .iter()
        .enumerate()
        .map(|(i, (s, name, _))| (*s, *name, Some(format!("p{i}"))))
        .chain(LOOKALIKES.iter().map(|(s, name)| (*s, *name, None)));
    for (script, name, target) in queries {
        let mut q = Query::new(name);
        q.kind = Some(EntityKind::Person);
        q.threshold = threshold;
        let matches = screener.search(&q);
        let own = target
            .as_ref()
            .is_some_and(|t| matches.iter().any(|m| &m.entry_id == t));
        let wrong: Vec<&str> = matches
            .iter()
            .filter(|m| Some(&m.entry_id) != target.as_ref())
            .map(|m| m.name.as_str())
            .collect();
        for p in [
            r.by_script.entry(script.to_string()).or_default(),
            &mut r.all,
        ] {
            if target.is_some() {
                p.positives += 1;
                p.tp += usize::from(own);
            } else {
                p.negatives += 1;
            }
            p.fp += usize::from(!wrong.is_empty());
        }
        if target.is_some() && !own {
            r.missed.push(format!("[{script}] {name}"));
        }
        if !wrong.is_empty() {
            r.false_alerts
                .push(format!("[{script}] {name} -> {}", wrong.join(" | ")));
        }
    }
    r
}

impl fmt::Display for CrossScriptReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  cross-script pairs ({} names against their Latin spelling, {} look-alikes; name only; threshold {:.2})",
            self.all.positives, self.all.negatives, self.threshold
        )?;
        writeln!(
            f,
            "    {:<26} {:>5} {:>5}  found  wrong-entry alerts",
            "script", "pos", "neg"
        )?;
        for (k, p) in self
            .by_script
            .iter()
            .chain([(&"all".to_string(), &self.all)])
        {
            writeln!(
                f,
                "    {k:<26} {:>5} {:>5}  {:>2}/{:<2}  {:>2}   P {:.3}  R {:.3}  F1 {:.3}",
                p.positives,
                p.negatives,
                p.tp,
                p.positives,
                p.fp,
                p.precision(),
                p.recall(),
                p.f1()
            )?;
        }
        for m in &self.missed {
            writeln!(f, "    missed {m}")?;
        }
        for m in &self.false_alerts {
            writeln!(f, "    false alert {m}")?;
        }
        Ok(())
    }
}

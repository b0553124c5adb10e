//! Evaluation on labelled queries (recall on PEP positives, false alerts on negatives),
//! with list load timings and the naive baseline measured in the same run.

mod baseline;
mod bench;
pub mod cross_script;
pub mod perturb;
pub mod quality;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use baseline::NaiveMatcher;
pub use bench::{BenchOptions, BenchReport, run_bench};

use crate::model::{EntityKind, Format, LoadedList};
use crate::screener::{DEFAULT_THRESHOLD, Query, Screener};

/// Name given to the PEP list (US Congress, Senzing) in evaluations.
pub const PEP_LIST: &str = "us_congress_pep";
/// Threshold used for the plain Jaro-Winkler baseline (full-name Jaro-Winkler needs a
/// higher cut than the token scorer to keep false alerts in check).
pub const BASELINE_THRESHOLD: f64 = 0.90;

/// The data directory used when none is given (relative to the working directory).
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("../shared/data/sanctions")
}

/// How long a list took to read and parse.
#[derive(Debug, Clone)]
pub struct ListTiming {
    pub name: String,
    pub file: String,
    pub entries: usize,
    pub millis: f64,
}

/// Loads the evaluation lists from `dir`: OFAC SDN 2024-05-03, the UN consolidated list
/// and the US Congress PEP list (Senzing), timing each.
pub fn load_standard_lists(dir: &Path) -> Result<(Vec<LoadedList>, Vec<ListTiming>), String> {
    let specs = [
        (Format::OfacCsv, "sdn_2024-05-03.csv", "us_ofac_sdn"),
        (Format::UnXml, "UN_consolidated.xml", "un_sc_consolidated"),
        (
            Format::SenzingJson,
            "opensanctions_us_congress_senzing.json",
            PEP_LIST,
        ),
    ];
    let mut lists = Vec::new();
    let mut timings = Vec::new();
    for (format, file, name) in specs {
        let start = Instant::now();
        let list = crate::load(format, &dir.join(file), name).map_err(|e| e.to_string())?;
        timings.push(ListTiming {
            name: name.to_string(),
            file: file.to_string(),
            entries: list.entries.len(),
            millis: start.elapsed().as_secs_f64() * 1e3,
        });
        lists.push(list);
    }
    Ok((lists, timings))
}

/// One labelled query (a row of the positives or negatives CSV).
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub date_of_birth: Option<String>,
    pub country: Option<String>,
}

impl Case {
    /// The query an integrator screening a customer would send.
    pub fn query(&self, threshold: f64) -> Query {
        Query {
            name: self.name.clone(),
            kind: Some(EntityKind::Person),
            date_of_birth: self.date_of_birth.clone(),
            country: self.country.clone(),
            threshold,
            limit: 10,
        }
    }
}

/// Reads a yente benchmark CSV (`full_name,...,date_of_birth,place_of_birth,nationality`),
/// at most `limit` rows.
pub fn read_cases(path: &Path, limit: Option<usize>) -> Result<Vec<Case>, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    let (name, dob, nat) = (col("full_name"), col("date_of_birth"), col("nationality"));
    let name = name.ok_or_else(|| format!("{}: no full_name column", path.display()))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
        let get = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        out.push(Case {
            name: get(Some(name)).unwrap_or_default(),
            date_of_birth: get(dob),
            country: get(nat),
        });
    }
    Ok(out)
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub threshold: f64,
    /// Use only the first N negatives (all when `None`).
    pub negatives_limit: Option<usize>,
    /// Number of positives and of negatives run through the naive baseline (0: none).
    pub baseline_sample: usize,
    pub threads: usize,
    /// Also measure recall on perturbed positives (see [`perturb`]).
    pub perturbations: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            threshold: DEFAULT_THRESHOLD,
            negatives_limit: None,
            baseline_sample: 500,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            perturbations: true,
        }
    }
}

/// Baseline figures on a sample.
#[derive(Debug, Clone)]
pub struct BaselineEval {
    pub threshold: f64,
    pub positives: usize,
    pub recall: f64,
    pub negatives: usize,
    pub false_alerts_per_1000: f64,
}

/// The evaluation figures.
#[derive(Debug, Clone)]
pub struct EvalReport {
    pub threshold: f64,
    pub lists: Vec<ListTiming>,
    pub index_millis: f64,
    pub positives: usize,
    /// Positives whose matches include an entry of the PEP list.
    pub positives_found: usize,
    pub recall: f64,
    /// Positives whose matches include a PEP entry with the same year of birth.
    pub positives_found_same_year: usize,
    pub negatives: usize,
    /// Negatives with at least one match (every one is a false alert).
    pub negatives_alerted: usize,
    pub false_alerts_per_1000: f64,
    /// The same when the queries carry the name only (no date of birth, no country).
    pub false_alerts_per_1000_name_only: f64,
    /// Alerted positives / all alerted queries (positives and negatives together).
    pub precision: f64,
    /// Recall on the UN list's people written with one typo, name only (see
    /// [`perturb::list_typo_recall`]): with the name-only false alerts above, the trade-off
    /// of a screening run where customers carry no date of birth.
    pub un_typos: PerturbedRecall,
    /// Recall and false alerts at other thresholds.
    pub sweep: Vec<SweepPoint>,
    pub missed_examples: Vec<String>,
    pub false_alert_examples: Vec<String>,
    /// The name-only false alerts (query → best match), at most [`NAME_ONLY_EXAMPLES`].
    pub false_alert_examples_name_only: Vec<String>,
    pub baseline: Option<BaselineEval>,
    /// Recall on perturbed positives, per perturbation (positives found unperturbed only).
    pub perturbed: Vec<PerturbedRecall>,
    /// Precision, recall and F1 per category and script on the set built from the lists.
    pub quality: quality::QualityReport,
    /// Names in other scripts against their Latin spelling, per script.
    pub cross_script: cross_script::CrossScriptReport,
}

/// Recall and false alerts at one threshold.
#[derive(Debug, Clone, Copy)]
pub struct SweepPoint {
    pub threshold: f64,
    pub recall: f64,
    pub false_alerts_per_1000: f64,
}

/// Recall on one kind of perturbed positive.
#[derive(Debug, Clone)]
pub struct PerturbedRecall {
    pub perturbation: String,
    /// Whether the query carried the date of birth.
    pub with_dob: bool,
    pub queries: usize,
    pub found: usize,
    pub recall: f64,
    pub missed_examples: Vec<String>,
}

/// Runs `f` over `items` on `threads` threads, keeping the order of results.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Most name-only false alerts listed in the report.
pub const NAME_ONLY_EXAMPLES: usize = 60;

/// Thresholds reported in the sweep.
pub const SWEEP: [f64; 6] = [0.70, 0.75, 0.80, 0.85, 0.90, 0.95];

/// Runs the evaluation on the files in `dir`.
pub fn run_eval(dir: &Path, opts: &EvalOptions) -> Result<EvalReport, String> {
    let (lists, timings) = load_standard_lists(dir)?;
    let positives = read_cases(&dir.join("positives_us_congress_untreated.csv"), None)?;
    let negatives = read_cases(&dir.join("negatives_us.csv"), opts.negatives_limit)?;
    let naive = (opts.baseline_sample > 0).then(|| NaiveMatcher::new(&lists));
    let quality_cases = quality::build_cases(&lists);
    let un_typo_cases = perturb::list_typo_cases(&lists, "un_sc_consolidated");
    let start = Instant::now();
    let screener = Screener::new(lists);
    let index_millis = start.elapsed().as_secs_f64() * 1e3;
    // Search once at the lowest threshold of interest; higher thresholds filter the scores.
    let low = opts.threshold.min(SWEEP[0]);
    let pos_results: Vec<(f64, bool)> = par_map(&positives, opts.threads, |c| {
        let ms = screener.search(&c.query(low));
        let year = c.date_of_birth.as_deref().map(|d| d.get(..4).unwrap_or(d));
        let pep = ms.iter().filter(|m| m.list == PEP_LIST);
        let best = pep.clone().map(|m| m.score).fold(0.0, f64::max);
        let same_year = pep
            .filter(|m| m.score >= opts.threshold)
            .any(|m| year.is_some_and(|y| entry_has_year(&screener, m, y)));
        (best, same_year)
    });
    let neg_results: Vec<(f64, String)> = par_map(&negatives, opts.threads, |c| {
        let ms = screener.search(&c.query(low));
        ms.first().map_or((0.0, String::new()), |m| {
            let dob = c.date_of_birth.as_deref().unwrap_or("-");
            let text = format!(
                "{} ({dob}) -> {} [{}] {:.3}",
                c.name, m.matched_name, m.list, m.score
            );
            (m.score, text)
        })
    });
    let t = opts.threshold;
    let neg_name_only: Vec<Option<String>> = par_map(&negatives, opts.threads, |c| {
        let q = Case {
            name: c.name.clone(),
            date_of_birth: None,
            country: None,
        }
        .query(t);
        screener.search(&q).first().map(|m| {
            format!(
                "{} -> {} [{}] {:.3}",
                c.name, m.matched_name, m.list, m.score
            )
        })
    });
    let negatives_alerted_name_only = neg_name_only.iter().flatten().count();
    let false_alert_examples_name_only = neg_name_only
        .into_iter()
        .flatten()
        .take(NAME_ONLY_EXAMPLES)
        .collect();
    let un_typos = perturb::list_typo_recall(&screener, &un_typo_cases, t, opts.threads);
    let positives_found = pos_results.iter().filter(|r| r.0 >= t).count();
    let positives_found_same_year = pos_results.iter().filter(|r| r.1).count();
    let negatives_alerted = neg_results.iter().filter(|r| r.0 >= t).count();
    let sweep = SWEEP
        .iter()
        .map(|&t| SweepPoint {
            threshold: t,
            recall: ratio(
                pos_results.iter().filter(|r| r.0 >= t).count(),
                positives.len(),
            ),
            false_alerts_per_1000: 1000.0
                * ratio(
                    neg_results.iter().filter(|r| r.0 >= t).count(),
                    negatives.len(),
                ),
        })
        .collect();
    let missed_examples = positives
        .iter()
        .zip(&pos_results)
        .filter(|(_, r)| r.0 < t)
        .map(|(c, _)| format!("{} ({})", c.name, c.date_of_birth.as_deref().unwrap_or("-")))
        .collect();
    let false_alert_examples = neg_results
        .iter()
        .filter(|r| r.0 >= t)
        .take(40)
        .map(|r| r.1.clone())
        .collect();
    let baseline = naive.map(|n| baseline_eval(&n, &positives, &negatives, opts));
    let perturbed = if opts.perturbations {
        let found: Vec<&Case> = positives
            .iter()
            .zip(&pos_results)
            .filter(|(_, r)| r.0 >= t)
            .map(|(c, _)| c)
            .collect();
        perturb::perturbed_recall(&screener, &found, opts)
    } else {
        Vec::new()
    };
    let quality = quality::run_quality(&screener, &quality_cases, t, opts.threads);
    Ok(EvalReport {
        quality,
        cross_script: cross_script::run_cross_script(t),
        threshold: t,
        lists: timings,
        index_millis,
        positives: positives.len(),
        positives_found,
        recall: ratio(positives_found, positives.len()),
        positives_found_same_year,
        negatives: negatives.len(),
        negatives_alerted,
        false_alerts_per_1000: 1000.0 * ratio(negatives_alerted, negatives.len()),
        false_alerts_per_1000_name_only: 1000.0
            * ratio(negatives_alerted_name_only, negatives.len()),
        precision: ratio(positives_found, positives_found + negatives_alerted),
        un_typos,
        sweep,
        missed_examples,
        false_alert_examples,
        false_alert_examples_name_only,
        baseline,
        perturbed,
    })
}

fn entry_has_year(screener: &Screener, m: &crate::Match, year: &str) -> bool {
    screener
        .entry(&m.list, &m.entry_id)
        .is_some_and(|e| e.dates_of_birth.iter().any(|d| d.starts_with(year)))
}

fn baseline_eval(n: &NaiveMatcher, pos: &[Case], neg: &[Case], opts: &EvalOptions) -> BaselineEval {
    let t = BASELINE_THRESHOLD;
    let pos = &pos[..pos.len().min(opts.baseline_sample)];
    let neg = &neg[..neg.len().min(opts.baseline_sample)];
    let found = par_map(pos, opts.threads, |c| {
        n.search(&c.name, t, 10).iter().any(|h| h.0 == PEP_LIST)
    });
    let alerted = par_map(neg, opts.threads, |c| !n.search(&c.name, t, 1).is_empty());
    BaselineEval {
        threshold: t,
        positives: pos.len(),
        recall: ratio(found.iter().filter(|f| **f).count(), pos.len()),
        negatives: neg.len(),
        false_alerts_per_1000: 1000.0 * ratio(alerted.iter().filter(|f| **f).count(), neg.len()),
    }
}

pub(crate) fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "screening evaluation (threshold {:.2})", self.threshold)?;
        for l in &self.lists {
            writeln!(
                f,
                "  load {:<20} {:>6} entries  {:>8.1} ms  ({})",
                l.name, l.entries, l.millis, l.file
            )?;
        }
        writeln!(
            f,
            "  index build                          {:>8.1} ms",
            self.index_millis
        )?;
        writeln!(
            f,
            "  recall on PEP positives:      {:.4}  ({}/{}; same year of birth: {})",
            self.recall, self.positives_found, self.positives, self.positives_found_same_year
        )?;
        writeln!(
            f,
            "  false alerts per 1,000:       {:.2}  ({} of {} negatives alerted)",
            self.false_alerts_per_1000, self.negatives_alerted, self.negatives
        )?;
        writeln!(
            f,
            "  false alerts per 1,000 with the name only (no date of birth, no country): {:.2}",
            self.false_alerts_per_1000_name_only
        )?;
        writeln!(
            f,
            "  precision (alerted positives / all alerted queries): {:.4}",
            self.precision
        )?;
        writeln!(
            f,
            "  recall on UN people with one typo, name only: {:.4}  ({}/{})  missed e.g. {}",
            self.un_typos.recall,
            self.un_typos.found,
            self.un_typos.queries,
            self.un_typos.missed_examples.join(" | ")
        )?;
        if let Some(b) = &self.baseline {
            writeln!(
                f,
                "  baseline (plain Jaro-Winkler, no index, threshold {:.2}): recall {:.4} on {} positives, {:.2} false alerts per 1,000 on {} negatives",
                b.threshold, b.recall, b.positives, b.false_alerts_per_1000, b.negatives
            )?;
        }
        for p in &self.sweep {
            writeln!(
                f,
                "  at threshold {:.2}: recall {:.4}, false alerts per 1,000 {:.2}",
                p.threshold, p.recall, p.false_alerts_per_1000
            )?;
        }
        for p in &self.perturbed {
            writeln!(
                f,
                "  recall on perturbed positives [{:<16} {}] {:.4}  ({}/{})  missed e.g. {}",
                p.perturbation,
                if p.with_dob { "+dob" } else { "name" },
                p.recall,
                p.found,
                p.queries,
                p.missed_examples.join(" | ")
            )?;
        }
        write!(f, "{}", self.quality)?;
        write!(f, "{}", self.cross_script)?;
        if !self.missed_examples.is_empty() {
            writeln!(f, "  missed positives ({}):", self.missed_examples.len())?;
            for m in self.missed_examples.iter().take(30) {
                writeln!(f, "    {m}")?;
            }
        }
        if !self.false_alert_examples.is_empty() {
            writeln!(
                f,
                "  false alerts (first {}):",
                self.false_alert_examples.len()
            )?;
            for m in &self.false_alert_examples {
                writeln!(f, "    {m}")?;
            }
        }
        if !self.false_alert_examples_name_only.is_empty() {
            writeln!(
                f,
                "  false alerts with the name only (first {}):",
                self.false_alert_examples_name_only.len()
            )?;
            for m in &self.false_alert_examples_name_only {
                writeln!(f, "    {m}")?;
            }
        }
        Ok(())
    }
}

//! Throughput and latency benchmark of the screener on 1..N threads, against the naive
//! baseline measured in the same run.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{Case, ListTiming, NaiveMatcher, load_standard_lists, read_cases};
use crate::screener::{DEFAULT_THRESHOLD, Query, Screener};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Queries per throughput run (positives and negatives interleaved, repeated as needed).
    pub queries: usize,
    /// Thread counts to measure throughput on.
    pub threads: Vec<usize>,
    /// Queries run through the naive baseline.
    pub baseline_queries: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            queries: 20_000,
            threads: vec![1, 2],
            baseline_queries: 200,
        }
    }
}

/// One throughput measurement.
#[derive(Debug, Clone)]
pub struct ThroughputRun {
    pub threads: usize,
    pub queries: usize,
    pub seconds: f64,
    pub qps: f64,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

fn latency(mut d: Vec<Duration>) -> Latency {
    d.sort_unstable();
    let at = |p: f64| {
        if d.is_empty() {
            0.0
        } else {
            let i = ((d.len() as f64 * p).ceil() as usize).clamp(1, d.len()) - 1;
            d[i].as_secs_f64() * 1e6
        }
    };
    Latency {
        p50_us: at(0.50),
        p99_us: at(0.99),
        max_us: at(1.0),
    }
}

/// The benchmark figures.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub cores: usize,
    pub lists: Vec<ListTiming>,
    pub index_millis: f64,
    pub names: usize,
    pub runs: Vec<ThroughputRun>,
    pub latency: Latency,
    /// Microseconds for an empty name and for a 10,000-character name.
    pub empty_us: f64,
    pub huge_us: f64,
    pub baseline_queries: usize,
    pub baseline_names: usize,
    pub baseline_qps: f64,
    pub baseline_latency: Latency,
}

fn workload(dir: &Path, n: usize) -> Result<Vec<Query>, String> {
    let pos = read_cases(&dir.join("positives_us_congress_untreated.csv"), None)?;
    let neg = read_cases(&dir.join("negatives_us.csv"), Some(n))?;
    let mut cases: Vec<&Case> = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while cases.len() < n && !(pos.is_empty() && neg.is_empty()) {
        // one positive for every four negatives
        if cases.len().is_multiple_of(5) && !pos.is_empty() {
            cases.push(&pos[i % pos.len()]);
            i += 1;
        } else if !neg.is_empty() {
            cases.push(&neg[j % neg.len()]);
            j += 1;
        } else {
            cases.push(&pos[i % pos.len()]);
            i += 1;
        }
    }
    Ok(cases.iter().map(|c| c.query(DEFAULT_THRESHOLD)).collect())
}

/// Loads the lists from `dir`, then measures the screener and the naive baseline.
pub fn run_bench(dir: &Path, opts: &BenchOptions) -> Result<BenchReport, String> {
    let (lists, timings) = load_standard_lists(dir)?;
    let naive = NaiveMatcher::new(&lists);
    let start = Instant::now();
    let screener = Screener::new(lists);
    let index_millis = start.elapsed().as_secs_f64() * 1e3;
    let queries = workload(dir, opts.queries)?;
    // warm-up (thread-local scratch, caches)
    for q in queries.iter().take(500) {
        std::hint::black_box(screener.search(q));
    }
    let mut durations = Vec::with_capacity(queries.len());
    let mut runs = Vec::new();
    for &threads in &opts.threads {
        let threads = threads.max(1);
        let start = Instant::now();
        if threads == 1 {
            durations.clear();
            for q in &queries {
                let t = Instant::now();
                std::hint::black_box(screener.search(q));
                durations.push(t.elapsed());
            }
        } else {
            let chunk = queries.len().div_ceil(threads);
            std::thread::scope(|s| {
                for part in queries.chunks(chunk) {
                    let screener = &screener;
                    s.spawn(move || {
                        for q in part {
                            std::hint::black_box(screener.search(q));
                        }
                    });
                }
            });
        }
        let seconds = start.elapsed().as_secs_f64();
        runs.push(ThroughputRun {
            threads,
            queries: queries.len(),
            seconds,
            qps: queries.len() as f64 / seconds,
        });
    }
    let time_one = |name: String| {
        let q = Query::new(name);
        let t = Instant::now();
        std::hint::black_box(screener.search(&q));
        t.elapsed().as_secs_f64() * 1e6
    };
    let empty_us = time_one(String::new());
    let huge_us = time_one(
        "Abdul Rahman Mohammed "
            .repeat(455)
            .chars()
            .take(10_000)
            .collect(),
    );
    let sample: Vec<&Query> = queries.iter().take(opts.baseline_queries).collect();
    let mut bl = Vec::with_capacity(sample.len());
    let start = Instant::now();
    for q in &sample {
        let t = Instant::now();
        std::hint::black_box(naive.search(&q.name, super::BASELINE_THRESHOLD, q.limit));
        bl.push(t.elapsed());
    }
    let bl_secs = start.elapsed().as_secs_f64();
    Ok(BenchReport {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        lists: timings,
        index_millis,
        names: screener.name_count(),
        runs,
        latency: latency(durations),
        empty_us,
        huge_us,
        baseline_queries: sample.len(),
        baseline_names: naive.len(),
        baseline_qps: if bl_secs > 0.0 {
            sample.len() as f64 / bl_secs
        } else {
            0.0
        },
        baseline_latency: latency(bl),
    })
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "screening benchmark ({} cores available)", self.cores)?;
        for l in &self.lists {
            writeln!(
                f,
                "  load {:<20} {:>6} entries  {:>8.1} ms  ({})",
                l.name, l.entries, l.millis, l.file
            )?;
        }
        writeln!(
            f,
            "  index build ({} names)            {:>8.1} ms",
            self.names, self.index_millis
        )?;
        for r in &self.runs {
            writeln!(
                f,
                "  {} thread(s): {:>9.0} searches/s  ({} searches in {:.2} s)",
                r.threads, r.qps, r.queries, r.seconds
            )?;
        }
        let l = self.latency;
        writeln!(
            f,
            "  latency (1 thread): p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            l.p50_us, l.p99_us, l.max_us
        )?;
        writeln!(
            f,
            "  empty name: {:.1} µs; 10,000-character name: {:.1} µs",
            self.empty_us, self.huge_us
        )?;
        let b = self.baseline_latency;
        writeln!(
            f,
            "  baseline (plain Jaro-Winkler over all {} names, 1 thread, {} searches): {:.0} searches/s, p50 {:.0} µs, p99 {:.0} µs",
            self.baseline_names, self.baseline_queries, self.baseline_qps, b.p50_us, b.p99_us
        )?;
        if let Some(r) = self.runs.first()
            && self.baseline_qps > 0.0
        {
            writeln!(
                f,
                "  speed-up over baseline (1 thread): {:.0}x",
                r.qps / self.baseline_qps
            )?;
        }
        Ok(())
    }
}

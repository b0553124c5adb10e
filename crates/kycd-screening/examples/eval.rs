//! Runs the screening evaluation or benchmark on the real data files, or explains the
//! matches of one name:
//! `cargo run --release -p kycd-screening --example eval -- eval|bench [DATA_DIR]`,
//! `cargo run --release -p kycd-screening --example eval -- explain NAME [DOB] [COUNTRY]`,
//! or runs the cross-script pairs alone: `... --example eval -- cross`, or lists every
//! name-only false alert on the negatives with its explanation: `... -- false-alerts`.

use std::path::PathBuf;

use kycd_screening::eval::{BenchOptions, EvalOptions, load_standard_lists, run_bench, run_eval};
use kycd_screening::{EntityKind, Query, Screener};

fn data_dir(arg: Option<&String>) -> PathBuf {
    arg.map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sanctions")
    })
}

fn explain(args: &[String]) -> Result<String, String> {
    let (lists, _) = load_standard_lists(&data_dir(None))?;
    let screener = Screener::new(lists);
    let mut q = Query::new(args.first().cloned().unwrap_or_default());
    q.kind = Some(EntityKind::Person);
    q.date_of_birth = args.get(1).filter(|s| !s.is_empty()).cloned();
    q.country = args.get(2).filter(|s| !s.is_empty()).cloned();
    q.threshold = 0.5;
    let mut out = String::new();
    for e in screener.explain(&q) {
        out.push_str(&format!(
            "{:.4}  name {:.4} dob {:+.2} country {:+.2} kind {:+.2}  {} [{} {}]\n        {}\n",
            e.matched.score,
            e.name_score,
            e.dob,
            e.country,
            e.kind,
            e.matched.matched_name,
            e.matched.list,
            e.matched.entry_id,
            e.explanation.summary
        ));
    }
    Ok(out)
}

fn false_alerts() -> Result<String, String> {
    let dir = data_dir(None);
    let (lists, _) = load_standard_lists(&dir)?;
    let screener = Screener::new(lists);
    let negatives = kycd_screening::eval::read_cases(&dir.join("negatives_us.csv"), None)?;
    let mut out = String::new();
    for c in negatives {
        let mut q = Query::new(c.name.clone());
        q.kind = Some(EntityKind::Person);
        if let Some(e) = screener.explain(&q).first() {
            out.push_str(&format!(
                "{} -> {} [{}] {}\n",
                c.name, e.matched.matched_name, e.matched.list, e.explanation.summary
            ));
        }
    }
    Ok(out)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("eval");
    let result = match mode {
        "eval" => run_eval(&data_dir(args.get(1)), &EvalOptions::default()).map(|r| r.to_string()),
        "bench" => {
            run_bench(&data_dir(args.get(1)), &BenchOptions::default()).map(|r| r.to_string())
        }
        "explain" => explain(&args[1..]),
        "false-alerts" => false_alerts(),
        "cross" => Ok(kycd_screening::eval::cross_script::run_cross_script(
            kycd_screening::DEFAULT_THRESHOLD,
        )
        .to_string()),
        other => Err(format!(
            "unknown mode {other:?} (expected eval, bench, explain, false-alerts or cross)"
        )),
    };
    match result {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

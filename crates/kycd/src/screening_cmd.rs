//! `kycd screening eval|bench`: evaluation and benchmark of sanctions and PEP screening on
//! the real data files (thin clap wrapper over `kycd_screening::eval`).

use std::path::PathBuf;

use anyhow::Context;
use kycd_screening::eval::{self, BenchOptions, EvalOptions};

/// Screening evaluation and benchmark commands.
#[derive(clap::Subcommand, Debug)]
pub enum ScreeningCommand {
    /// Recall on the PEP positives, false alerts on the negatives, precision, list load
    /// times and a naive Jaro-Winkler baseline measured in the same run; then precision,
    /// recall and F1 per category (organisations, people, scripts), per script and per
    /// threshold on an evaluation set built from the lists' own aliases, perturbations and
    /// look-alike negatives.
    Eval(EvalArgs),
    /// Searches per second on 1 and 2 threads, p50/p99 latency, list load times and the
    /// naive baseline measured in the same run.
    Bench(BenchArgs),
}

/// Options of `kycd screening eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Folder with the lists and labelled queries (sdn_2024-05-03.csv, UN_consolidated.xml,
    /// opensanctions_us_congress_senzing.json, positives_us_congress_untreated.csv,
    /// negatives_us.csv).
    #[arg(long, default_value = "../shared/data/sanctions")]
    pub data_dir: PathBuf,
    /// Alert threshold on the final score.
    #[arg(long, default_value_t = kycd_screening::DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Use only the first N negatives (default: all).
    #[arg(long)]
    pub negatives: Option<usize>,
    /// Positives and negatives run through the naive baseline (0 to skip it).
    #[arg(long, default_value_t = 500)]
    pub baseline_sample: usize,
    /// Skip the recall measurements on perturbed positives.
    #[arg(long)]
    pub no_perturbations: bool,
}

/// Options of `kycd screening bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Folder with the lists and labelled queries.
    #[arg(long, default_value = "../shared/data/sanctions")]
    pub data_dir: PathBuf,
    /// Searches per throughput run.
    #[arg(long, default_value_t = 20_000)]
    pub queries: usize,
    /// Searches run through the naive baseline.
    #[arg(long, default_value_t = 200)]
    pub baseline_queries: usize,
}

/// Runs a screening command, printing its report to stdout.
pub fn run(cmd: ScreeningCommand) -> anyhow::Result<()> {
    match cmd {
        ScreeningCommand::Eval(args) => {
            let opts = EvalOptions {
                threshold: args.threshold,
                negatives_limit: args.negatives,
                baseline_sample: args.baseline_sample,
                perturbations: !args.no_perturbations,
                ..EvalOptions::default()
            };
            let report = eval::run_eval(&args.data_dir, &opts)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("screening eval on {}", args.data_dir.display()))?;
            print!("{report}");
        }
        ScreeningCommand::Bench(args) => {
            let opts = BenchOptions {
                queries: args.queries,
                baseline_queries: args.baseline_queries,
                ..BenchOptions::default()
            };
            let report = eval::run_bench(&args.data_dir, &opts)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("screening bench on {}", args.data_dir.display()))?;
            print!("{report}");
        }
    }
    Ok(())
}

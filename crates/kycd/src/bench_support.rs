//! What the benchmarks share: a fresh database per run and the server
//! configuration they measure (a throwaway data dir, port 0, no per-key limit).

use kycd_server::Config;
use std::path::Path;

/// A fixed master key for the benchmark's throwaway database.
const BENCH_MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A SQLite file in `dir`, or a fresh database `kycd_<tag>_<pid>_<n>` on the
/// PostgreSQL server of `postgres` (those of earlier runs are dropped).
pub async fn fresh_database(
    postgres: Option<&str>,
    dir: &Path,
    tag: &str,
) -> anyhow::Result<String> {
    match postgres {
        None => Ok(format!("sqlite://{}", dir.join("bench.db").display())),
        Some(base) => Ok(kycd_store::create_scratch_database(base, &format!("kycd_{tag}")).await?),
    }
}

/// The server a benchmark measures: listening on port 0 over `url`, keys in
/// `dir`, and no per-key rate limit (one key drives thousands of requests
/// per second).
pub fn server_config(url: String, dir: &Path) -> anyhow::Result<Config> {
    Ok(Config {
        database_url: Some(url.into()),
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.to_path_buf(),
        master_key: Some(BENCH_MASTER_KEY.into()),
        rate_limit_per_second: None,
        ..Config::default()
    })
}

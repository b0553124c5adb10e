//! `kycd import FILE.jsonl`: creates customers in bulk, one `POST
//! /v1/customers` body per line, through the service of `POST
//! /v1/customers/batch` (no HTTP): chunks of lines, one transaction each.
//!
//! Resumable: after each committed chunk `FILE.jsonl.checkpoint` records the
//! lines done, and a re-run starts after them. Each chunk runs under an
//! idempotency key derived from its first line number and its content, so a
//! crash between a chunk's commit and its checkpoint replays the stored
//! answer on the re-run instead of creating anything twice. Lines refused are
//! listed in `FILE.jsonl.errors` (one JSON object per line: line number,
//! status, code, param, message); the exit code is 2 when any line was
//! refused, 1 when the import stopped (re-run it to resume).

use anyhow::{Context, bail};
use futures::StreamExt;
use kycd_server::Application;
use kycd_server::idempotency::{Keyed, run_keyed};
use kycd_server::service::customer_batch::{self, Item, MAX_ITEMS};
use kycd_store::Scope;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The file: one customer per line, each a `POST /v1/customers` body
    /// (JSON object). Blank lines are skipped.
    file: PathBuf,
    /// The organization (`org_…`). Default: the only organization of the
    /// database (an error when there are several).
    #[arg(long)]
    organization: Option<String>,
    /// `sandbox` (default) or `live`.
    #[arg(long, default_value = "sandbox")]
    environment: String,
    /// Lines per transaction (1 to 1,000).
    #[arg(long, default_value_t = 500)]
    chunk_size: usize,
    /// Chunks in flight at once, each in its own transaction (1 to 16). On
    /// PostgreSQL they run side by side; on SQLite they queue for the one
    /// writer, and only the validation and sealing overlap. Above 1, two
    /// lines of different chunks with the same external_id may be created in
    /// either order (the other is `external_id_taken`): raise it for files
    /// whose external_ids are unique.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// The database and the master key, as for `serve`.
    #[command(flatten)]
    config: Box<kycd_server::Config>,
}

/// What the checkpoint file holds: lines done (every line up to and including
/// `lines_done` is committed) and the totals so far.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Checkpoint {
    lines_done: u64,
    created: u64,
    failed: u64,
}

impl Checkpoint {
    fn read(path: &Path) -> anyhow::Result<Checkpoint> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Checkpoint::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a kycd import checkpoint", path.display()))?;
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        Ok(Checkpoint {
            lines_done: n("lines_done"),
            created: n("created"),
            failed: n("failed"),
        })
    }

    /// Written to a temporary file, synced, then renamed over the old one.
    fn write(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = with_suffix(path, ".tmp");
        let mut f = std::fs::File::create(&tmp)?;
        let body =
            json!({"lines_done": self.lines_done, "created": self.created, "failed": self.failed});
        writeln!(f, "{body}")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// How progress is shown: a bar on a terminal, plain lines otherwise.
enum Progress {
    Bar(indicatif::ProgressBar),
    Lines { last: Instant },
}

impl Progress {
    fn new(total: u64, done: u64) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} lines {per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_position(done);
            bar.reset_eta();
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                last: Instant::now(),
            }
        }
    }

    fn update(&mut self, cp: &Checkpoint, total: u64, rate: f64) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(cp.lines_done);
                bar.set_message(format!("{} created, {} failed", cp.created, cp.failed));
            }
            Progress::Lines { last } => {
                // At most one line a second (and the last chunk's).
                if last.elapsed().as_secs_f64() >= 1.0 || cp.lines_done >= total {
                    *last = Instant::now();
                    eprintln!(
                        "import: {}/{total} lines, {} created, {} failed, {rate:.0} customers/s",
                        cp.lines_done, cp.created, cp.failed
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }
}

/// One refused line, as written to `FILE.errors`.
fn error_line(line: u64, status: u16, error: &Value) -> Value {
    let mut v =
        json!({"line": line, "status": status, "code": error["code"], "message": error["message"]});
    if let Some(p) = error["param"].as_str() {
        v["param"] = p.into();
    }
    v
}

/// Keeps the entries of the errors file up to `lines_done` (those of chunks
/// the checkpoint covers), dropping any a crashed run wrote after them, so a
/// replayed chunk does not list its errors twice.
fn trim_errors(path: &Path, lines_done: u64) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .and_then(|v| v["line"].as_u64())
                .is_some_and(|n| n <= lines_done)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(path, kept)?;
    Ok(())
}

/// The organization to import into: the one named, else the only one.
async fn organization(
    state: &kycd_server::state::AppState,
    given: Option<&str>,
) -> anyhow::Result<String> {
    let mut conn = state.store.reader().await?;
    if let Some(id) = given {
        if kycd_store::orgs::get_org(&mut conn, id).await?.is_none() {
            bail!("no organization {id}");
        }
        return Ok(id.to_string());
    }
    let all = kycd_store::orgs::first_orgs(&mut conn, 11).await?;
    match all.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => bail!(
            "the database has no organization yet: start `kycd serve` once, or `kycd org create`"
        ),
        many => bail!(
            "the database has several organizations: name one with --organization ({}{})",
            many.iter()
                .take(10)
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if many.len() > 10 { ", …" } else { "" }
        ),
    }
}

/// A chunk read from the file: its line numbers and items, and the last line
/// it covers (blank lines included).
struct Chunk {
    lines: Vec<u64>,
    items: Vec<Item>,
    hash: Sha256,
    last_line: u64,
}

/// The file's chunks, in order, from where the checkpoint left off.
struct Chunks {
    lines: Box<dyn Iterator<Item = (usize, std::io::Result<String>)> + Send>,
    size: usize,
}

impl Iterator for Chunks {
    type Item = anyhow::Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut chunk = Chunk {
            lines: vec![],
            items: vec![],
            hash: Sha256::new(),
            last_line: 0,
        };
        for (i, line) in self.lines.by_ref() {
            let n = i as u64 + 1;
            let line = match line {
                Ok(l) => l,
                Err(e) => return Some(Err(anyhow::anyhow!("reading line {n}: {e}"))),
            };
            chunk.last_line = n;
            if line.trim().is_empty() {
                continue;
            }
            chunk.hash.update(n.to_string());
            chunk.hash.update(b"\n");
            chunk.hash.update(line.as_bytes());
            chunk.hash.update(b"\n");
            chunk.lines.push(n);
            chunk
                .items
                .push(kycd_server::http::parse_json(line.as_bytes()));
            if chunk.items.len() == self.size {
                break;
            }
        }
        (chunk.last_line > 0).then_some(Ok(chunk))
    }
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    if !matches!(args.environment.as_str(), "sandbox" | "live") {
        bail!("--environment must be sandbox or live");
    }
    if args.chunk_size == 0 || args.chunk_size > MAX_ITEMS {
        bail!("--chunk-size must be 1 to {MAX_ITEMS}");
    }
    if !(1..=16).contains(&args.concurrency) {
        bail!("--concurrency must be 1 to 16");
    }
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let total = BufReader::new(&file).lines().count() as u64;
    let checkpoint_path = with_suffix(&args.file, ".checkpoint");
    let errors_path = with_suffix(&args.file, ".errors");
    let mut cp = Checkpoint::read(&checkpoint_path)?;
    trim_errors(&errors_path, cp.lines_done)?;
    let mut errors = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&errors_path)
        .with_context(|| format!("opening {}", errors_path.display()))?;

    let state = Application::command_state(*args.config).await?;
    let org = organization(&state, args.organization.as_deref()).await?;
    let scope = Scope::new(&org, &args.environment);
    if cp.lines_done > 0 {
        eprintln!(
            "import: resuming after line {} ({} created, {} failed so far)",
            cp.lines_done, cp.created, cp.failed
        );
    }

    let started = Instant::now();
    let mut created_now = 0u64;
    let mut replayed = 0u64;
    let mut progress = Progress::new(total, cp.lines_done);
    let reader = BufReader::new(std::fs::File::open(&args.file)?);
    let chunks = Chunks {
        lines: Box::new(reader.lines().enumerate().skip(cp.lines_done as usize)),
        size: args.chunk_size,
    };
    // Up to `concurrency` chunks in flight (each its own transaction), their
    // results taken in file order: the checkpoint only ever covers a prefix
    // of the file, and a chunk committed past it is replayed on a re-run.
    let (state_ref, scope_ref) = (&state, &scope);
    let mut results = futures::stream::iter(chunks)
        .map(|chunk| async move {
            let chunk = chunk?;
            let last_line = chunk.last_line;
            let done = match chunk.items.is_empty() {
                true => None,
                false => Some(import_chunk(state_ref, scope_ref, chunk).await?),
            };
            anyhow::Ok((last_line, done))
        })
        .buffered(args.concurrency);
    while let Some(next) = results.next().await {
        let (last_line, done) = next?;
        if let Some(done) = done {
            for (line, status, error) in &done.refused {
                writeln!(errors, "{}", error_line(*line, *status, error))?;
            }
            cp.created += done.created;
            cp.failed += done.refused.len() as u64;
            if done.replayed {
                replayed += 1;
            } else {
                created_now += done.created;
            }
        }
        errors.sync_data()?;
        cp.lines_done = last_line;
        cp.write(&checkpoint_path)?;
        let rate = created_now as f64 / started.elapsed().as_secs_f64().max(1e-9);
        progress.update(&cp, total, rate);
    }
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "import: {} lines, {} customers created, {} failed ({} created in this run in {secs:.1} s, {:.0} customers/s)",
        cp.lines_done,
        cp.created,
        cp.failed,
        created_now,
        created_now as f64 / secs.max(1e-9)
    );
    if replayed > 0 {
        println!(
            "import: {replayed} chunk(s) had been committed by an earlier run (after its last checkpoint): their results were replayed, nothing was created twice"
        );
    }
    if cp.failed > 0 {
        println!(
            "import: the refused lines are listed in {} (line, status, code, param, message)",
            errors_path.display()
        );
        std::process::exit(2);
    }
    Ok(())
}

/// What one chunk came to.
struct ChunkDone {
    created: u64,
    /// The refused lines: line number, status, error object.
    refused: Vec<(u64, u16, Value)>,
    /// An earlier run had committed it: its stored answer was read back.
    replayed: bool,
}

/// Imports one chunk under its idempotency key.
async fn import_chunk(
    state: &kycd_server::state::AppState,
    scope: &Scope,
    chunk: Chunk,
) -> anyhow::Result<ChunkDone> {
    let Chunk {
        lines, items, hash, ..
    } = chunk;
    let hash = hex::encode(hash.finalize());
    let key = format!("kycd-import:{}:{}", lines[0], &hash[..32]);
    let outcome = run_keyed(state, scope, &key, &hash, move || async move {
        let cx = kycd_server::service::context_for(state, scope, "system:import".into()).await?;
        customer_batch::create_many(state, &cx, items, "import").await
    })
    .await
    .map_err(|e| {
        let api = kycd_server::error::ApiError::from(e);
        anyhow::anyhow!("{}: {}", api.code, api.message)
    })?;
    let (body, replayed): (Value, bool) = match outcome {
        Keyed::Fresh(response) => (serde_json::to_value(&response)?, false),
        Keyed::Replayed { body, .. } => (serde_json::from_str(&body)?, true),
    };
    let results = body["data"].as_array().cloned().unwrap_or_default();
    if results.len() != lines.len() {
        bail!(
            "the answer for lines {}..{} holds {} results, not {}",
            lines[0],
            lines[lines.len() - 1],
            results.len(),
            lines.len()
        );
    }
    let (mut created, mut refused) = (0, vec![]);
    for (line, r) in lines.iter().zip(&results) {
        let status = r["status"].as_u64().unwrap_or(0) as u16;
        if status == 201 {
            created += 1;
        } else {
            refused.push((*line, status, r["error"].clone()));
        }
    }
    Ok(ChunkDone {
        created,
        refused,
        replayed,
    })
}

//! `kycd import FILE.jsonl` as a process, on SQLite and PostgreSQL: a small
//! file with refused lines (summary, errors file, exit code 2, a re-run does
//! nothing more); then a large file killed with SIGKILL mid-import and run
//! again until done, and once more without its checkpoint (as if the crash
//! had come between a chunk's commit and its checkpoint): every line is
//! created exactly once, counted in the database.

use crate::common::{MASTER_KEY, TestDb as Db, command, run, temp_dir};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

impl Db {
    fn kycd(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.args.iter().map(String::as_str));
        run(&all, &[("KYCD_MASTER_KEY", MASTER_KEY)])
    }

    fn import_args<'a>(
        &'a self,
        file: &'a str,
        org: &'a str,
        chunk: &'a str,
        concurrency: &'a str,
    ) -> Vec<&'a str> {
        let mut all = vec![
            "import",
            file,
            "--concurrency",
            concurrency,
            "--organization",
            org,
            "--environment",
            "live",
            "--chunk-size",
            chunk,
        ];
        all.extend(self.args.iter().map(String::as_str));
        all
    }

    /// (customers, distinct external ids) of the organization's live environment.
    async fn counts(&self, org: &str) -> (i64, i64) {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .unwrap();
        let row = sqlx::query(
            "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM customers \
             WHERE organization_id = $1 AND environment = 'live'",
        )
        .bind(org)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        (sqlx::Row::get(&row, 0), sqlx::Row::get(&row, 1))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn errors_of(file: &Path) -> Vec<Value> {
    let path = format!("{}.errors", file.display());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn lines_done(file: &Path) -> u64 {
    std::fs::read_to_string(format!("{}.checkpoint", file.display()))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["lines_done"].as_u64())
        .unwrap_or(0)
}

async fn import_resumes_after_kill_9(postgres: bool) {
    let dir = temp_dir("import");
    let db = Db::new(&dir, postgres).await;
    let out = db.kycd(&["org", "create", "--name", "importer"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let org: Value = serde_json::from_slice(&out.stdout).unwrap();
    let org = org["id"].as_str().unwrap().to_string();

    // A small file: refused lines are listed, the others created.
    let small = dir.join("small.jsonl");
    std::fs::write(
        &small,
        [
            json!({"type": "individual", "external_id": "s-1"}).to_string(),
            json!({"type": "individual", "external_id": "s-2", "individual": {"email": "nope"}})
                .to_string(),
            String::new(),
            json!({"type": "individual", "external_id": "s-1"}).to_string(),
            "not json".to_string(),
            json!({"type": "business", "external_id": "s-5"}).to_string(),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let small_path = small.display().to_string();
    let out = run(
        &db.import_args(&small_path, &org, "2", "1"),
        &[("KYCD_MASTER_KEY", MASTER_KEY)],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("6 lines, 2 customers created, 3 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("small.jsonl.errors"), "{stdout}");
    // Not a terminal: progress comes as plain lines.
    assert!(stderr.contains("import: 6/6 lines"), "{stderr}");
    let errors = errors_of(&small);
    let got: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "invalid_field"),
            (4, "external_id_taken"),
            (5, "invalid_request")
        ]
    );
    assert_eq!(errors[0]["param"], "individual.email");
    assert_eq!(errors[0]["status"], 400);
    assert_eq!(db.counts(&org).await, (2, 2));
    // Done already: a re-run creates nothing and lists nothing twice.
    let out = run(
        &db.import_args(&small_path, &org, "2", "1"),
        &[("KYCD_MASTER_KEY", MASTER_KEY)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("0 created in this run"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(errors_of(&small).len(), 3);
    assert_eq!(db.counts(&org).await, (2, 2));

    // A large file, half of it without external_id (only the chunk's
    // idempotency key keeps those from being created twice), one bad line.
    const N: u64 = 4000;
    let big = dir.join("big.jsonl");
    let mut body = String::new();
    for n in 1..=N {
        let line = if n == 777 {
            json!({"type": "individual", "external_id": format!("L-{n}"), "individual": {"date_of_birth": "nope"}})
        } else if n % 2 == 0 {
            json!({"type": "individual", "external_id": format!("L-{n}"),
                   "individual": {"first_name": "Ada", "last_name": format!("N{n}")}})
        } else {
            json!({"type": "individual", "metadata": {"line": n}})
        };
        body.push_str(&line.to_string());
        body.push('\n');
    }
    std::fs::write(&big, body).unwrap();
    let big_path = big.display().to_string();
    // Four chunks in flight: the checkpoint covers a prefix, later chunks
    // may have committed when the process dies.
    let args = db.import_args(&big_path, &org, "100", "4");
    let mut child = command(&args, &[("KYCD_MASTER_KEY", MASTER_KEY)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while lines_done(&big) < 500 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no progress: {:?}",
            child.try_wait()
        );
        assert!(child.try_wait().unwrap().is_none(), "exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = lines_done(&big);
    assert!(at_kill < N, "killed mid-import ({at_kill} lines done)");

    let out = run(&args, &[("KYCD_MASTER_KEY", MASTER_KEY)]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("resuming after line {at_kill}")),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("{N} lines, {} customers created, 1 failed", N - 1)),
        "{stdout}"
    );
    let errors = errors_of(&big);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 777);
    assert_eq!(errors[0]["param"], "individual.date_of_birth");
    // The small file's two customers, and every line of the big one but 777.
    let expected = (N as i64 - 1 + 2, N as i64 / 2 + 2);
    assert_eq!(db.counts(&org).await, expected, "every line exactly once");

    // As if every chunk had committed but no checkpoint was written: the
    // re-run replays each chunk's stored answer and creates nothing.
    std::fs::remove_file(format!("{big_path}.checkpoint")).unwrap();
    let out = run(&args, &[("KYCD_MASTER_KEY", MASTER_KEY)]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{N} lines, {} customers created, 1 failed (0 created in this run",
            N - 1
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("40 chunk(s) had been committed"),
        "{stdout}"
    );
    assert_eq!(errors_of(&big).len(), 1);
    assert_eq!(db.counts(&org).await, expected, "nothing created twice");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_resumes_after_kill_9_sqlite() {
    let _heavy = crate::common::heavy().await;
    import_resumes_after_kill_9(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(kycd_postgres), ignore = "PostgreSQL: set KYCD_TEST_POSTGRES_URL")]
async fn import_resumes_after_kill_9_postgres() {
    let _heavy = crate::common::heavy().await;
    import_resumes_after_kill_9(true).await;
}

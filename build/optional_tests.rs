//! Build script of the crates whose tests need something outside Rust: the
//! PostgreSQL tests are compiled as runnable only when KYCD_TEST_POSTGRES_URL
//! is set, and the test against the PyPI `standardwebhooks` package only when
//! python3 can import it. Otherwise they are `ignored`, so the test summary
//! shows them as skipped, never as passed. In CI (CI=true) both must be there.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(kycd_postgres)");
    println!("cargo::rustc-check-cfg=cfg(kycd_python_standardwebhooks)");
    println!("cargo::rerun-if-env-changed=KYCD_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if std::env::var("KYCD_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=kycd_postgres");
    } else if ci {
        panic!(
            "CI=true but KYCD_TEST_POSTGRES_URL is unset: the PostgreSQL tests may not be skipped in CI"
        );
    }
    let python = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output()
        .is_ok_and(|o| o.status.success());
    if python {
        println!("cargo::rustc-cfg=kycd_python_standardwebhooks");
    } else if ci {
        panic!("CI=true but python3 cannot import standardwebhooks: pip install standardwebhooks");
    }
}

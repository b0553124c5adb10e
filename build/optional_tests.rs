//! Build script of the crates whose tests need something outside Rust: the
//! PostgreSQL tests are compiled as runnable only when KYCD_TEST_POSTGRES_URL
//! is set, the tests against Python packages nobody here wrote
//! (`standardwebhooks`, `openapi-spec-validator`) only when python3 can import
//! them, and the SSRF tests through a host name only when this machine's name
//! resolves (through /etc/hosts) to a private address, and the browser tests
//! of the hosted pages only when Debian's `chromium` and `chromedriver` run.
//! Otherwise they are `ignored`, so the test summary shows them as skipped,
//! never as passed.
//! In CI (CI=true) or with KYCD_TEST_REQUIRE_ALL set, every one is required:
//! a missing one fails the build.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(kycd_postgres)");
    println!("cargo::rustc-check-cfg=cfg(kycd_python_standardwebhooks)");
    println!("cargo::rustc-check-cfg=cfg(kycd_python_openapi_spec_validator)");
    println!("cargo::rustc-check-cfg=cfg(kycd_private_hostname)");
    println!("cargo::rustc-check-cfg=cfg(kycd_chromium)");
    println!("cargo::rerun-if-env-changed=KYCD_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=KYCD_TEST_REQUIRE_ALL");
    println!("cargo::rerun-if-env-changed=CI");
    // Installing or removing chromium (or anything) in /usr/bin re-checks it.
    println!("cargo::rerun-if-changed=/usr/bin");
    println!("cargo::rerun-if-changed=/etc/hosts");
    println!("cargo::rerun-if-changed=/etc/hostname");
    let required = std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("KYCD_TEST_REQUIRE_ALL").is_ok_and(|v| !v.is_empty());
    let mut missing = vec![];
    let mut have = |cfg: &str, present: bool, what: &str| {
        if present {
            println!("cargo::rustc-cfg={cfg}");
        } else {
            missing.push(what.to_string());
        }
    };
    have(
        "kycd_postgres",
        std::env::var("KYCD_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()),
        "KYCD_TEST_POSTGRES_URL is unset (the PostgreSQL tests)",
    );
    have(
        "kycd_python_standardwebhooks",
        python_imports("standardwebhooks"),
        "python3 cannot import standardwebhooks (pip install standardwebhooks)",
    );
    have(
        "kycd_python_openapi_spec_validator",
        python_imports("openapi_spec_validator"),
        "python3 cannot import openapi_spec_validator (pip install openapi-spec-validator)",
    );
    have(
        "kycd_private_hostname",
        hostname_resolves_privately(),
        "this machine's host name does not resolve to a private address (the SSRF host-name tests)",
    );
    have(
        "kycd_chromium",
        chromium_and_driver_run(),
        "chromium or chromedriver does not run (apt-get install chromium chromium-driver: the browser tests)",
    );
    if required && !missing.is_empty() {
        panic!(
            "CI=true or KYCD_TEST_REQUIRE_ALL is set, so no test may be skipped, but:\n  {}",
            missing.join("\n  ")
        );
    }
}

fn python_imports(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `program --version` runs and succeeds.
fn runs(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the browser tests can run: Debian's Chromium (`/usr/bin/chromium`,
/// else `chromium` on PATH) and its `chromedriver` both answer `--version`.
fn chromium_and_driver_run() -> bool {
    (runs("/usr/bin/chromium") || runs("chromium")) && runs("chromedriver")
}

/// Whether the host name resolves, without the network (through /etc/hosts),
/// only to loopback or private addresses: the SSRF guard's tests register it.
fn hostname_resolves_privately() -> bool {
    use std::net::{IpAddr, ToSocketAddrs};
    let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
        return false;
    };
    let name = name.trim();
    let in_hosts = std::fs::read_to_string("/etc/hosts").is_ok_and(|h| {
        h.lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .any(|l| l.split_whitespace().skip(1).any(|n| n == name))
    });
    if name.is_empty() || !in_hosts {
        return false;
    }
    let Ok(addrs) = (name, 80).to_socket_addrs() else {
        return false;
    };
    let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
    !ips.is_empty()
        && ips.iter().all(|ip| match ip {
            IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
            IpAddr::V6(v6) => v6.is_loopback(),
        })
}

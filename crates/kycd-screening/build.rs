//! Build script: the tests on the real sanctions lists (../shared/data/sanctions,
//! outside the repository) are compiled as runnable only when the folder is
//! there; without it they are `ignored`, visible as skipped. In CI (CI=true)
//! or with KYCD_TEST_REQUIRE_ALL set the folder must be there.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(kycd_sanctions_data)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=KYCD_TEST_REQUIRE_ALL");
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sanctions");
    if dir.join("sdn_2024-05-03.csv").is_file() {
        println!("cargo::rustc-cfg=kycd_sanctions_data");
    } else if std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("KYCD_TEST_REQUIRE_ALL").is_ok_and(|v| !v.is_empty())
    {
        panic!(
            "CI=true or KYCD_TEST_REQUIRE_ALL is set but {} is missing: the real-data tests may not be skipped",
            dir.display()
        );
    }
}

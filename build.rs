//! One switch for the test suite, read when the package is built:
//! `SIMPLEJWT_SKIP_POSTGRES=1` sets the `skip_postgres` cfg, under which every
//! PostgreSQL test is marked `#[ignore]` — so a machine without PostgreSQL sees
//! them counted as "ignored" in the test runner's summary, never as "passed"
//! having run nothing. Without it the PostgreSQL tests run (against
//! `SIMPLEJWT_TEST_DATABASE_URL`, or the local server) and fail loudly when
//! there is none. The library itself does not read this cfg.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=SIMPLEJWT_SKIP_POSTGRES");
    if std::env::var("SIMPLEJWT_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=skip_postgres");
    }
}

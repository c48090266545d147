//! What a new user meets before running anything: the declared minimum Rust
//! version is the real one (no locked dependency needs a newer compiler),
//! and the package metadata `cargo package` and crates.io show is complete.
//!
//! The minimum comes from the dependencies' own `rust-version` fields, read
//! through `cargo metadata` (every locked package this platform builds): a
//! dependency update that needs a newer compiler fails this test until
//! `rust-version` in Cargo.toml is raised with it.

use std::process::Command;

use serde_json::Value;

/// `1.89` / `1.89.0` → (1, 89, 0).
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The platform this is built on (`rustc -vV`'s `host:`).
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

/// `cargo metadata` of the locked packages this platform builds (the
/// others, e.g. Windows-only crates, are not even downloaded here).
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn rust_version_is_the_highest_any_locked_dependency_needs() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "simplejwt")
        .expect("our package");
    let declared = ours["rust_version"]
        .as_str()
        .expect("Cargo.toml declares rust-version");
    let needed = packages
        .iter()
        .filter(|p| p["name"] != "simplejwt")
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            Some((
                version(v),
                format!(
                    "{} {} needs {v}",
                    p["name"].as_str().unwrap_or("?"),
                    p["version"].as_str().unwrap_or("?")
                ),
            ))
        })
        .max()
        .expect("some dependency declares a rust-version");
    assert!(
        version(declared) >= needed.0,
        "Cargo.toml says rust-version = {declared}, but {}: raise it",
        needed.1
    );
    let (major, minor, _) = needed.0;
    assert_eq!(
        (version(declared).0, version(declared).1),
        (major, minor),
        "rust-version = {declared} is higher than any dependency needs ({}): \
         the minimum is that, unless our own code needs more",
        needed.1
    );
}

// ---- the container -----------------------------------------------------------
//
// Docker does not run on the CI machine, so the image is not built there:
// `.ci/run` lints the Dockerfile with hadolint, and these tests hold the
// properties the README promises (multi-stage, non-root, the database on a
// volume, a health check, two instances behind one port).

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The Dockerfile's instructions (continuation lines joined), as (KEYWORD, rest).
fn instructions() -> Vec<(String, String)> {
    let text = read("Dockerfile");
    let mut joined = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => joined.push_str(head),
            None => {
                joined.push_str(line);
                let (keyword, rest) = joined.split_once(' ').unwrap_or((&joined, ""));
                out.push((keyword.to_ascii_uppercase(), rest.trim().to_owned()));
                joined.clear();
            }
        }
    }
    out
}

#[test]
fn dockerfile_builds_in_one_stage_and_runs_small_and_unprivileged() {
    let all = instructions();
    let stages: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| k == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert!(stages.len() >= 2, "multi-stage: {all:?}");
    assert!(
        all[stages[0]].1.contains(" AS builder"),
        "{:?}",
        all[stages[0]]
    );
    let build = &all[stages[0]..stages[stages.len() - 1]];
    assert!(
        build
            .iter()
            .any(|(k, r)| k == "RUN" && r.contains("cargo build --release --locked")),
        "the builder builds the locked release binary"
    );
    let runtime = &all[stages[stages.len() - 1]..];
    let from = &runtime[0].1;
    assert!(
        from.contains("distroless") || from.contains("slim"),
        "a small runtime image: {from}"
    );
    let user = runtime
        .iter()
        .rfind(|(k, _)| k == "USER")
        .map(|(_, r)| r.clone())
        .expect("the runtime stage sets USER");
    assert!(
        !user.starts_with("root") && !user.starts_with("0:") && user != "0",
        "non-root: USER {user}"
    );
    let get = |keyword: &str| -> Vec<&String> {
        runtime
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, r)| r)
            .collect()
    };
    assert!(get("VOLUME").iter().any(|r| r.contains("/data")));
    assert!(
        get("ENV")
            .iter()
            .any(|r| r.contains("DATABASE_URL=sqlite:///data/")),
        "the SQLite database is on the volume"
    );
    assert!(get("ENV")
        .iter()
        .any(|r| r.contains("SIMPLEJWT_BIND=0.0.0.0:")));
    assert!(get("HEALTHCHECK")
        .iter()
        .any(|r| r.contains("\"healthcheck\"")));
    assert!(get("COPY")
        .iter()
        .any(|r| r.contains("--chown=65532:65532") && r.contains("/data")));
}

#[test]
fn compose_puts_two_instances_on_postgres_behind_one_port() {
    let compose = read("compose.yaml");
    for service in ["postgres:", "simplejwt-1:", "simplejwt-2:", "proxy:"] {
        assert!(
            compose.contains(&format!("\n  {service}")),
            "service {service}"
        );
    }
    assert!(compose.contains("DATABASE_URL: postgres://"));
    assert!(compose.contains("SIMPLE_JWT_SIGNING_KEY: ${SIMPLE_JWT_SIGNING_KEY:?"));
    assert!(compose.contains("condition: service_healthy"));
    assert_eq!(
        compose.matches("\n      - \"").count(),
        1,
        "one published port"
    );
    let nginx = read("deploy/nginx.conf");
    assert!(nginx.contains("server simplejwt-1:8000"));
    assert!(nginx.contains("server simplejwt-2:8000"));
}

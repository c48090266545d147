//! `keys`: one command per step of a zero-downtime key rotation over
//! `KEYS_DIR` (the layout and why it is files: `simplejwt::keys::dir`).
//!
//! 1. `keys init` — start the ring from the key in use (`SIGNING_KEY`, or the
//!    key `serve` generated), or from a new key; then switch the instances
//!    from `SIGNING_KEY` to `KEYS_DIR`.
//! 2. `keys add` — a new key beside the current one: after a reload it
//!    verifies and is published in the JWKS, but does not sign yet.
//! 3. `keys promote KID` — it signs from the next reload on; the previous
//!    key keeps verifying.
//! 4. `keys retire KID` — once no token it signed can still be valid (the
//!    longest lifetime plus LEEWAY after it stopped signing); `--force`
//!    earlier, logging the holders of those tokens out.
//!
//! Every command checks the whole ring as a server would load it before it
//! reports success, and reminds that instances pick changes up on SIGHUP;
//! `add` and `promote` also check it before they change anything, so a
//! refused step leaves the directory as it was.

use simplejwt::keys::dir::{DirError, KeyDir};
use simplejwt::keys::{is_hmac, thumbprint_kid, Keys};
use simplejwt::settings::{algorithm_name, format_duration, Algorithm, Settings};

use super::config::Config;
use super::{CliResult, Failure};

/// The step to run.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum KeysCommand {
    /// Start KEYS_DIR from SIGNING_KEY (or the generated key file), or from a new key.
    Init,
    /// Generate the next key beside the current one (verifies and is published; does not sign).
    Add,
    /// Make KID the signing key; the previous one keeps verifying until retired.
    Promote {
        /// The key to sign with (as `keys list` shows it).
        // A thumbprint kid is base64url: it may start with '-'.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Remove KID from the ring (refused while tokens it signed can still be valid).
    Retire {
        /// The key to retire.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// Retire now even though tokens it signed are still valid (they stop working).
        #[arg(long)]
        force: bool,
    },
    /// List the keys: kid, role, since when it stopped signing and when it can be retired.
    List,
}

fn failure(e: DirError) -> Failure {
    match e {
        DirError::Io { .. } => Failure::Runtime(e.to_string()),
        DirError::Invalid(_) => Failure::Config(e.to_string()),
        _ => Failure::Refused(e.to_string()),
    }
}

const RELOAD_HINT: &str =
    "Instances pick this up on SIGHUP (`kill -HUP <pid>`) or restart: reload every instance.";

/// Runs one `keys` step.
pub(crate) fn run(config: &Config, command: KeysCommand) -> CliResult {
    let settings = config.settings()?;
    let path = settings.keys_dir().ok_or_else(|| {
        Failure::Config(
            "setting KEYS_DIR: is not set (the directory the keys live in, shared by every instance)"
                .into(),
        )
    })?;
    let dir = KeyDir::new(path);
    let alg = settings.algorithm();
    let now = simplejwt::token::Timestamp::now().epoch();
    match command {
        KeysCommand::Init => init(config, &settings, &dir),
        KeysCommand::Add => {
            check_before(alg, &dir)?;
            let (kid, private, public) = new_key(alg)?;
            let started = !dir.path().join("current").exists();
            dir.add(&kid, &private, public.as_deref())
                .map_err(failure)?;
            if let Err(e) = check(alg, &dir) {
                // Leave the directory as it was: the new key's files go.
                let names = [format!("{kid}.key"), format!("{kid}.pub")];
                let started = started.then(|| "current".to_owned());
                for name in names.iter().chain(&started) {
                    let _ = std::fs::remove_file(dir.path().join(name));
                }
                return Err(e);
            }
            println!("{kid}");
            eprintln!(
                "Added key {kid} ({}): it verifies and is published in the JWKS once instances \
                 reload; it does not sign. Next, after every instance and every JWKS cache has \
                 it (max-age 300 s): `simplejwt keys promote {kid}`.\n{RELOAD_HINT}",
                algorithm_name(alg)
            );
            Ok(())
        }
        KeysCommand::Promote { kid } => {
            check_before(alg, &dir)?;
            let state = dir.read().map_err(failure)?;
            if state.current == kid {
                eprintln!("Key {kid} is already the signing key: nothing changed.");
                return Ok(());
            }
            let previous = dir.promote(&kid, now).map_err(failure)?;
            check(alg, &dir)?;
            let wait = settings.longest_token_validity();
            eprintln!(
                "Key {kid} signs from the next reload on; {previous} keeps verifying. Retire \
                 {previous} in {} (the longest token lifetime plus LEEWAY): \
                 `simplejwt keys retire {previous}`.\n{RELOAD_HINT}",
                format_duration(wait)
            );
            Ok(())
        }
        KeysCommand::Retire { kid, force } => {
            let longest = settings.longest_token_validity().as_secs() as i64;
            dir.retire(&kid, now, longest, force).map_err(failure)?;
            check(alg, &dir)?;
            eprintln!(
                "Retired key {kid} (moved to {}): tokens signed with it are refused once \
                 instances reload.\n{RELOAD_HINT}",
                dir.path().join("retired").display()
            );
            Ok(())
        }
        KeysCommand::List => {
            let state = dir.read().map_err(failure)?;
            let longest = settings.longest_token_validity().as_secs() as i64;
            println!(
                "{:<44} {:<10} retiring since / retirable at (Unix seconds)",
                "kid", "role"
            );
            for key in &state.keys {
                let role = if key.kid == state.current {
                    "signing"
                } else {
                    "verifying"
                };
                let kidless = if state.kidless.as_deref() == Some(key.kid.as_str()) {
                    " (also tokens without kid)"
                } else {
                    ""
                };
                let when = match key.retiring_since {
                    Some(since) => format!("{since} / {}", since.saturating_add(longest)),
                    None => "-".into(),
                };
                println!("{:<44} {:<10} {when}{kidless}", key.kid, role);
            }
            // A listing is no promise that the ring loads: say so when it does not.
            check(alg, &dir).map_err(|e| {
                let why = e.message();
                Failure::Config(format!(
                    "the key directory does not load as a server would read it: {why}"
                ))
            })
        }
    }
}

/// `keys init`: the key in use, or a new one, as the ring's first key.
fn init(config: &Config, settings: &Settings, dir: &KeyDir) -> CliResult {
    let alg = settings.algorithm();
    let existing = match settings.signing_key() {
        Some(key) => Some((
            key.expose().to_owned(),
            settings.verifying_key().map(str::to_owned),
        )),
        None if is_hmac(alg) => std::fs::read_to_string(config.key_file())
            .ok()
            .map(|key| (key.trim().to_owned(), None)),
        None => None,
    };
    let kid = match existing {
        Some((private, public)) => {
            let kid = kid_for(alg, &private, public.as_deref())?;
            dir.import(&kid, &private, public.as_deref())
                .map_err(failure)?;
            eprintln!(
                "Imported the signing key in use as {kid}: it keeps signing (tokens still carry \
                 no kid, so instances not yet switched accept them) and verifies the tokens \
                 minted before. Now unset SIGNING_KEY / VERIFYING_KEY, set KEYS_DIR={} on every \
                 instance and restart them one by one.",
                dir.path().display()
            );
            kid
        }
        None => {
            let (kid, private, public) = new_key(alg)?;
            dir.add(&kid, &private, public.as_deref())
                .map_err(failure)?;
            eprintln!(
                "Created the first key {kid}; set KEYS_DIR={} on every instance.",
                dir.path().display()
            );
            kid
        }
    };
    check(alg, dir)?;
    println!("{kid}");
    Ok(())
}

/// A new key for `alg` and its kid.
fn new_key(alg: Algorithm) -> CliResult<(String, String, Option<String>)> {
    let (private, public) = super::keygen::generate(alg)?;
    let kid = kid_for(alg, &private, public.as_deref())?;
    Ok((kid, private, public))
}

/// The thumbprint of an asymmetric pair; a random name for an HMAC secret.
fn kid_for(alg: Algorithm, private: &str, public: Option<&str>) -> CliResult<String> {
    match public {
        Some(public) if !is_hmac(alg) => Ok(thumbprint_kid(alg, private, public)?),
        _ if is_hmac(alg) => {
            use base64::Engine as _;
            use rand::RngCore as _;
            let mut bytes = [0u8; 12];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            Ok(format!(
                "hs-{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            ))
        }
        _ => Err(Failure::Config(format!(
            "setting VERIFYING_KEY: is required for {} (the public key PEM)",
            algorithm_name(alg)
        ))),
    }
}

/// Before `add` and `promote` change a ring: it must load as it is, so a
/// refused step never leaves half a change behind (a broken key promoted,
/// a new key beside a ring no server can load). `retire` does not ask:
/// removing a broken key is how a ring is mended. An uninitialised
/// directory (no `current`) has nothing to check.
fn check_before(alg: Algorithm, dir: &KeyDir) -> CliResult {
    if !dir.path().join("current").exists() {
        return Ok(());
    }
    check(alg, dir).map_err(|e| {
        let why = e.message();
        Failure::Config(format!(
            "the key directory does not load as it is, so nothing was changed: {why} \
             (fix or `simplejwt keys retire` the key it names first)"
        ))
    })
}

/// Loads the ring as a server would, so that a broken directory is reported
/// here and not at the next reload.
fn check(alg: Algorithm, dir: &KeyDir) -> CliResult {
    let state = dir.read().map_err(failure)?;
    Keys::from_dir(alg, &state)?;
    Ok(())
}

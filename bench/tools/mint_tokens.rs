//! Prints N tokens, one per line, signed exactly as the server mints them
//! (the crate's own claims and encoder), for load tests that need a fresh
//! token per request — e.g. refresh with rotation + blacklist, where every
//! refresh token may be used once.
//!
//! ```text
//! target/release/examples/mint_tokens --count 300000 --user-id 1 > tokens.txt
//! target/release/examples/mint_tokens --count 1 --kind access
//! ```
//!
//! Settings come from the `SIMPLE_JWT_*` environment like the server's
//! (algorithm, lifetimes, claim names, audience, issuer, keys);
//! `SIMPLE_JWT_SIGNING_KEY` (or `_FILE`) is required — tokens signed with a
//! key other than the server's are useless, so none is guessed. The tokens are never recorded as outstanding: both this
//! server and the reference accept them on `/api/token/refresh/` (and record
//! them when they blacklist them).

use std::io::Write;

use simplejwt::keys::Keys;
use simplejwt::settings::Settings;
use simplejwt::token::{claims, TokenBackend, TokenKind};

fn usage() -> ! {
    eprintln!(
        "usage: mint_tokens [--count N (1)] [--user-id ID (1)] [--kind refresh|access|sliding]"
    );
    std::process::exit(2)
}

fn main() {
    let mut count: u64 = 1;
    let mut user_id = "1".to_owned();
    let mut kind = TokenKind::Refresh;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--count" => count = value().parse().unwrap_or_else(|_| usage()),
            "--user-id" => user_id = value(),
            "--kind" => {
                kind = match value().as_str() {
                    "refresh" => TokenKind::Refresh,
                    "access" => TokenKind::Access,
                    "sliding" => TokenKind::Sliding,
                    _ => usage(),
                }
            }
            _ => usage(),
        }
    }

    let settings = Settings::from_env().unwrap_or_else(|e| {
        eprintln!("mint_tokens: configuration error: {e}");
        std::process::exit(2)
    });
    if settings.signing_key().is_none() {
        eprintln!(
            "mint_tokens: set SIMPLE_JWT_SIGNING_KEY (or SIMPLE_JWT_SIGNING_KEY_FILE) to the \
             key of the server the tokens are for"
        );
        std::process::exit(2)
    }
    let keys = Keys::from_settings(&settings).unwrap_or_else(|e| {
        eprintln!("mint_tokens: configuration error: {e}");
        std::process::exit(2)
    });
    let backend = TokenBackend::new(&settings, keys);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let now = simplejwt::token::Timestamp::now();
    for _ in 0..count {
        let mut c = claims::for_user(&settings, kind, user_id.clone(), None, now);
        let token = backend.encode(&mut c).unwrap_or_else(|e| {
            eprintln!("mint_tokens: {e}");
            std::process::exit(1)
        });
        if writeln!(out, "{token}").is_err() {
            std::process::exit(0); // reader went away (e.g. `| head`)
        }
    }
    if out.flush().is_err() {
        std::process::exit(0);
    }
}

//! Stored password hashes: which format a stored string is in, and checking a
//! password against it ([`check`]).
//!
//! # Why it is shaped this way
//!
//! * **Django-compatible storage.** The users table may be shared with a Django
//!   application, so new hashes are written in Django's `Argon2PasswordHasher`
//!   format (see `argon2_phc.rs`), which Django can verify, and the formats
//!   Django writes are accepted here: `argon2$argon2id$…` / `argon2$argon2i$…`,
//!   `pbkdf2_sha256$…` and `pbkdf2_sha1$…` (`django_pbkdf2.rs`). Our own older
//!   plain PHC format (`$argon2id$…`) is accepted too. Anything else (unusable
//!   `!…` passwords, unknown or malformed strings) never verifies.
//! * **One file per format, one dispatcher.** This file only routes a stored
//!   string by its algorithm name; each format's parsing, parameter bounds and
//!   rehash rule live in that format's file. The shared outcome, [`Check`], is
//!   in the leaf `outcome.rs` so the formats need nothing from here.
//! * **A poisoned row cannot take the server down.** Each format bounds its
//!   stored parameters before doing any work, and a refused hash is
//!   [`Check::Unverifiable`], never an error: the caller treats it as a wrong
//!   password (after paying for a dummy verification, see `hasher.rs`).
//! * **Secrets are never logged**: log lines name the kind of problem and, for
//!   refused parameters, the offending numbers, never a password or a hash.

mod argon2_phc;
mod django_pbkdf2;
mod outcome;

use argon2::Params;

use self::argon2_phc::DJANGO_ARGON2;
use self::django_pbkdf2::Pbkdf2Digest;
use super::memory::BlockPool;

#[cfg(test)]
pub(super) use self::argon2_phc::MAX_ARGON2_MEMORY_KIB;
pub(super) use self::argon2_phc::{hash, new_params, write_django, OUTPUT_BYTES, SALT_BYTES};
pub(super) use self::django_pbkdf2::{burn as burn_pbkdf2, iterations_of as pbkdf2_iterations};
pub(super) use self::outcome::Check;

/// Django marks unusable passwords with this prefix.
const UNUSABLE_PREFIX: char = '!';

/// Checks `password` against the `stored` string, whatever its format.
/// `current` are the parameters new hashes use (a match with anything else
/// needs a rehash); argon2 runs in `memory`.
pub(super) fn check(password: &[u8], stored: &str, current: &Params, memory: &BlockPool) -> Check {
    if stored.starts_with(UNUSABLE_PREFIX) {
        return Check::Unverifiable;
    }
    let Some((algorithm, rest)) = stored.split_once('$') else {
        return unknown();
    };
    match algorithm {
        DJANGO_ARGON2 => argon2_phc::check(
            password,
            &stored[DJANGO_ARGON2.len()..],
            true,
            current,
            memory,
        ),
        "" if rest.starts_with("argon2") => {
            argon2_phc::check(password, stored, false, current, memory)
        }
        "pbkdf2_sha256" => django_pbkdf2::check(Pbkdf2Digest::Sha256, password, rest),
        "pbkdf2_sha1" => django_pbkdf2::check(Pbkdf2Digest::Sha1, password, rest),
        _ => unknown(),
    }
}

/// The name of the format of a `stored` hash (Django's algorithm name, the
/// part before the first `$`: `pbkdf2_sha256`, `argon2`, `bcrypt_sha256`,
/// …; `"unusable"` for `!…`), and whether [`check`] verifies that format.
/// Only the name is looked at, never the parameters or the hash.
pub(super) fn stored_format(stored: &str) -> (&str, bool) {
    if stored.starts_with(UNUSABLE_PREFIX) {
        return ("unusable", false);
    }
    match stored.split_once('$') {
        Some((DJANGO_ARGON2, _)) => (DJANGO_ARGON2, true),
        Some(("", rest)) if rest.starts_with("argon2") => ("argon2", true),
        Some((name @ ("pbkdf2_sha256" | "pbkdf2_sha1"), _)) => (name, true),
        Some(("", _)) | None => ("unknown", false),
        Some((name, _)) => (name, false),
    }
}

/// A stored string in no format we know: logged (without it), never verifies.
fn unknown() -> Check {
    tracing::debug!("stored password hash has an unknown format");
    Check::Unverifiable
}

#[cfg(test)]
mod tests {
    use crate::password::testing::{small, DJANGO_ARGON2I, DJANGO_PBKDF2_SHA256};
    use crate::password::Verification;

    #[test]
    fn unusable_unknown_and_malformed_never_verify() {
        let h = small();
        let valid_pbkdf2 = DJANGO_PBKDF2_SHA256[0];
        let unusable_wrapping_valid = format!("!{valid_pbkdf2}");
        let plain_unusable_argon = format!("!{}", &DJANGO_ARGON2I["argon2".len()..]);
        let argon2d = DJANGO_ARGON2I.replacen("argon2i", "argon2d", 1);
        let bad_version = DJANGO_ARGON2I.replacen("v=19", "v=18", 1);
        let leading_zero = valid_pbkdf2.replacen("$720000$", "$0720000$", 1);
        let plus_sign = valid_pbkdf2.replacen("$720000$", "$+720000$", 1);
        let no_prefix_dollar = &DJANGO_ARGON2I["argon2$".len()..]; // "argon2i$v=19$..."
        let cases: Vec<&str> = vec![
            "!abc",
            "!",
            &unusable_wrapping_valid,
            &plain_unusable_argon,
            "",
            "garbage",
            "$",
            "$$$$",
            "argon2",
            "argon2$",
            "argon2$argon2id$",
            "argon2$argon2id$v=19$m=64,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg",
            "argon2$argon2id$v=19$m=64,t=1,p=1$YWJj$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM",
            "argon2$argon2id$v=19$m=64,t=1,p=1,x=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM",
            "argon2$argon2id$v=19$m=1,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM",
            &argon2d,
            &bad_version,
            no_prefix_dollar,
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "bcrypt_sha256$$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "md5$salt$0123456789abcdef0123456789abcdef",
            "pbkdf2_sha256$",
            "pbkdf2_sha256$720000",
            "pbkdf2_sha256$720000$abcdefghijklmnopqrstuv",
            "pbkdf2_sha256$abc$salt$hash",
            "pbkdf2_sha256$0$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
            "pbkdf2_sha256$-1$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
            "pbkdf2_sha256$99999999999999999999$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
            &leading_zero,
            &plus_sign,
        ];
        for (i, stored) in cases.iter().enumerate() {
            let before = h.stats().dummy_verifications;
            for password in ["secret", "", "!abc", stored] {
                assert_eq!(
                    h.verify_blocking(password, Some(stored)),
                    Verification::Invalid,
                    "case {i}"
                );
            }
            // Each refusal still paid for one dummy verification.
            assert_eq!(
                h.stats().dummy_verifications,
                before + 4,
                "case {i} skipped the dummy hash"
            );
        }
    }
}

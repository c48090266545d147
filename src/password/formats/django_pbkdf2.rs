//! Django's own PBKDF2 formats, `pbkdf2_sha256$<iterations>$<salt>$<base64>`
//! and `pbkdf2_sha1$…`: read back, never written.
//!
//! # Why it is shaped this way
//!
//! * **Verified like Django does it.** The digest is re-derived with the stored
//!   salt and iteration count, at the digest's own length (32 bytes for
//!   SHA-256, 20 for SHA-1), base64-encoded, and the text compared with the
//!   stored text in constant time. The count must be written as Django's `%d`
//!   writes it (plain digits, no sign, no leading zero). A match always needs a
//!   rehash: new hashes are argon2id.
//! * **A poisoned row cannot take the server down.** More than 10 000 000
//!   iterations is refused before any work is done (Django's default is about
//!   one million); such a hash is treated as not verifying.
//! * **No buffers, no state.** PBKDF2 needs a few bytes of stack, so unlike
//!   argon2 it takes nothing from the hasher.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use super::outcome::{malformed, Check};

/// Largest PBKDF2 iteration count a stored hash may ask for.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The HMAC digest named by the stored algorithm.
#[derive(Clone, Copy)]
pub(super) enum Pbkdf2Digest {
    Sha256,
    Sha1,
}

/// The iteration count of a well-formed `pbkdf2_sha256$…` / `pbkdf2_sha1$…`
/// string within the bound, without verifying anything.
pub(in crate::password) fn iterations_of(stored: &str) -> Option<u32> {
    let rest = stored
        .strip_prefix("pbkdf2_sha256$")
        .or_else(|| stored.strip_prefix("pbkdf2_sha1$"))?;
    let count = rest.split('$').next()?;
    if count.is_empty() || count.starts_with('0') || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    count
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_PBKDF2_ITERATIONS)
}

/// `iterations` rounds of PBKDF2-HMAC-SHA256 whose result is thrown away:
/// the cost of verifying a `pbkdf2_sha256` hash with that count.
pub(in crate::password) fn burn(iterations: u32) {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        b"timing pad",
        b"abcdefghijklmnopqrstuv",
        iterations,
        &mut out,
    );
    std::hint::black_box(out);
}

/// `rest` is what follows `pbkdf2_sha256$`: `<iterations>$<salt>$<base64 hash>`.
/// Like Django, re-encodes with the stored salt and iterations and compares the
/// base64 text in constant time.
pub(super) fn check(digest: Pbkdf2Digest, password: &[u8], rest: &str) -> Check {
    let malformed = || malformed("pbkdf2");
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
    else {
        return malformed();
    };
    // Django writes the count with `%d`: plain digits, no sign, no leading zero.
    if iterations.is_empty()
        || iterations.starts_with('0')
        || !iterations.bytes().all(|b| b.is_ascii_digit())
    {
        return malformed();
    }
    let iterations = match iterations.parse::<u32>() {
        Ok(n) if n <= MAX_PBKDF2_ITERATIONS => n,
        _ => {
            tracing::warn!(
                max = MAX_PBKDF2_ITERATIONS,
                "stored pbkdf2 password hash asks for too many iterations; refusing to verify"
            );
            return Check::Unverifiable;
        }
    };
    // Django uses the digest's own length: 32 bytes for SHA-256, 20 for SHA-1.
    let mut buf = [0u8; 32];
    let salt = salt.as_bytes();
    let derived = match digest {
        Pbkdf2Digest::Sha256 => {
            let out = &mut buf[..32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out);
            out
        }
        Pbkdf2Digest::Sha1 => {
            let out = &mut buf[..20];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out);
            out
        }
    };
    let encoded = STANDARD.encode(derived);
    if bool::from(encoded.as_bytes().ct_eq(expected.as_bytes())) {
        Check::Match { needs_rehash: true }
    } else {
        Check::Mismatch
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::password::testing::{small, DJANGO_PBKDF2_SHA1, DJANGO_PBKDF2_SHA256, VALID_REHASH};
    use crate::password::{PasswordHasher, Verification};

    fn dummy_runs(h: &PasswordHasher) -> u64 {
        h.stats().dummy_verifications
    }

    #[test]
    fn django_pbkdf2_sha256_vectors() {
        let h = small();
        for stored in DJANGO_PBKDF2_SHA256 {
            assert_eq!(
                h.verify_blocking("secret", Some(stored)),
                VALID_REHASH,
                "{stored}"
            );
            assert_eq!(
                h.verify_blocking("secret2", Some(stored)),
                Verification::Invalid
            );
            assert_eq!(
                h.verify_blocking("Secret", Some(stored)),
                Verification::Invalid
            );
        }
        // A mismatch on a well-formed hash is a real verification, not the
        // dummy (its argon2id timing pad is not counted as one).
        assert_eq!(dummy_runs(&h), 0);
    }

    #[test]
    fn failed_verifications_learn_and_pay_the_pbkdf2_floor() {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        let h = small();
        assert_eq!(h.inner.hasher.pbkdf2_floor(), 0);
        let mut dk = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"pw", b"salt", 1000, &mut dk);
        let stored = format!("pbkdf2_sha256${}$salt${}", 1000, STANDARD.encode(dk));
        assert_eq!(
            h.verify_blocking("px", Some(&stored)),
            Verification::Invalid
        );
        assert_eq!(h.inner.hasher.pbkdf2_floor(), 1000);
        // A lower count or a refused one does not lower or poison the floor.
        let low = stored.replacen("$1000$", "$10$", 1);
        let _ = h.verify_blocking("px", Some(&low));
        let absurd = stored.replacen("$1000$", "$50000000$", 1);
        let _ = h.verify_blocking("px", Some(&absurd));
        assert_eq!(h.inner.hasher.pbkdf2_floor(), 1000);
        // A configured floor is where it starts.
        let configured = PasswordHasher::new(crate::password::HasherConfig {
            pbkdf2_floor: 5000,
            ..crate::password::testing::small_config()
        })
        .unwrap();
        let _ = configured.verify_blocking("px", Some(&stored));
        assert_eq!(configured.inner.hasher.pbkdf2_floor(), 5000);
        assert_eq!(
            super::iterations_of("pbkdf2_sha1$720000$s$h"),
            Some(720_000)
        );
        assert_eq!(super::iterations_of("pbkdf2_sha256$0720000$s$h"), None);
        assert_eq!(super::iterations_of("argon2$argon2id$v=19"), None);
    }

    #[test]
    fn django_pbkdf2_sha1_vector() {
        let h = small();
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_PBKDF2_SHA1)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(DJANGO_PBKDF2_SHA1)),
            Verification::Invalid
        );
        // The same digest under the other algorithm name must not verify.
        let renamed = DJANGO_PBKDF2_SHA1.replacen("pbkdf2_sha1", "pbkdf2_sha256", 1);
        assert_eq!(
            h.verify_blocking("secret", Some(&renamed)),
            Verification::Invalid
        );
    }

    #[test]
    fn absurd_pbkdf2_iterations_are_refused_quickly() {
        let h = small();
        let stored = "pbkdf2_sha256$50000000$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=";
        let started = Instant::now();
        assert_eq!(
            h.verify_blocking("secret", Some(stored)),
            Verification::Invalid
        );
        // 50 million iterations would take tens of seconds; the dummy takes ~nothing.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(dummy_runs(&h), 1);
        let over = "pbkdf2_sha256$10000001$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=";
        assert_eq!(
            h.verify_blocking("secret", Some(over)),
            Verification::Invalid
        );
        assert_eq!(dummy_runs(&h), 2);
    }
}

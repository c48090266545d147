//! argon2 stored as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`),
//! bare or behind Django's `argon2` algorithm name: the format new hashes are
//! written in, and the checks of every argon2 hash read back.
//!
//! # Why it is shaped this way
//!
//! * **One home for "current".** New hashes are argon2id, version 0x13, a
//!   16-byte salt and a 32-byte output, in Django's `Argon2PasswordHasher`
//!   format (`argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), which
//!   Django can verify. [`hash`] and [`write_django`] produce exactly that and
//!   [`is_current`] recognises exactly that, side by side, so the writer and
//!   the rehash rule cannot drift apart.
//! * **Upgrade on login.** A match reports `needs_rehash` whenever the stored
//!   hash is not exactly what [`hash`] would write now (other parameters,
//!   argon2i, version 0x10, the plain PHC format we used to write, another
//!   output length), so the caller can store a fresh hash while it still has
//!   the plaintext.
//! * **A poisoned row cannot take the server down.** Stored parameters are
//!   bounded before any memory is allocated or work done: memory ≤ 1 GiB,
//!   passes ≤ 20, lanes ≤ 16; a hash outside those bounds is treated as not
//!   verifying. The configuration is held to the same bounds ([`new_params`]),
//!   so our own hashes always verify.
//! * **Computed in pooled memory.** Every computation, hashing or verifying,
//!   runs in a [`BlockPool`] buffer (see `memory.rs`).

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use super::outcome::{malformed, Check};
use crate::password::memory::BlockPool;
use crate::password::types::{HasherConfig, PasswordError};

/// Django's algorithm name for `Argon2PasswordHasher`; the PHC string follows.
pub(super) const DJANGO_ARGON2: &str = "argon2";
/// Bytes of random salt in a new hash.
pub(in crate::password) const SALT_BYTES: usize = 16;
/// Bytes of argon2 output in a new hash.
pub(in crate::password) const OUTPUT_BYTES: usize = 32;
/// Largest argon2 memory cost (KiB) a stored hash may ask for: 1 GiB.
pub(in crate::password) const MAX_ARGON2_MEMORY_KIB: u32 = 1024 * 1024;
/// Largest argon2 pass count a stored hash may ask for.
const MAX_ARGON2_ITERATIONS: u32 = 20;
/// Largest argon2 lane count a stored hash may ask for.
const MAX_ARGON2_PARALLELISM: u32 = 16;
/// Longest salt and output a PHC string can carry (password-hash's limits).
const PHC_MAX_BYTES: usize = 64;

/// The parameters of new hashes, from `config`: within the bounds enforced on
/// stored hashes and valid for argon2 (e.g. `memory_kib ≥ 8 × parallelism`).
pub(in crate::password) fn new_params(config: &HasherConfig) -> Result<Params, PasswordError> {
    if !within_bounds(config.memory_kib, config.iterations, config.parallelism) {
        return Err(PasswordError::Internal(format!(
            "invalid hasher config: argon2 parameters must be at most \
             m={MAX_ARGON2_MEMORY_KIB} KiB, t={MAX_ARGON2_ITERATIONS}, \
             p={MAX_ARGON2_PARALLELISM}"
        )));
    }
    Params::new(
        config.memory_kib,
        config.iterations,
        config.parallelism,
        Some(OUTPUT_BYTES),
    )
    .map_err(|e| PasswordError::Internal(format!("invalid hasher config: argon2 parameters: {e}")))
}

/// A new hash of `password` with `params` and `salt`, in Django's format.
pub(in crate::password) fn hash(
    password: &[u8],
    salt: &[u8; SALT_BYTES],
    params: &Params,
    memory: &BlockPool,
) -> Result<String, PasswordError> {
    let mut out = [0u8; OUTPUT_BYTES];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    memory
        .with_blocks(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt, &mut out, blocks)
        })
        .map_err(|e| PasswordError::Internal(format!("argon2: {e}")))?;
    Ok(write_django(params, salt, &out))
}

/// Django's `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<output>` for `params`.
pub(in crate::password) fn write_django(params: &Params, salt: &[u8], out: &[u8]) -> String {
    format!(
        "{DJANGO_ARGON2}$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out),
    )
}

/// Whether a stored hash is exactly what [`hash`] writes with `current`.
fn is_current(
    django: bool,
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    output_len: usize,
    current: &Params,
) -> bool {
    django
        && algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && params.m_cost() == current.m_cost()
        && params.t_cost() == current.t_cost()
        && params.p_cost() == current.p_cost()
        && params.keyid().is_empty()
        && params.data().is_empty()
        && output_len == OUTPUT_BYTES
}

/// Whether argon2 parameters are within what we are willing to compute.
fn within_bounds(memory_kib: u32, iterations: u32, parallelism: u32) -> bool {
    memory_kib <= MAX_ARGON2_MEMORY_KIB
        && iterations <= MAX_ARGON2_ITERATIONS
        && parallelism <= MAX_ARGON2_PARALLELISM
}

/// Whether stored argon2 parameters are within what we are willing to compute.
fn argon2_params_acceptable(params: &Params) -> bool {
    within_bounds(params.m_cost(), params.t_cost(), params.p_cost())
}

/// `phc` is a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`); `django`
/// tells whether it was stored behind Django's `argon2` prefix; `current` are
/// the parameters new hashes use.
pub(super) fn check(
    password: &[u8],
    phc: &str,
    django: bool,
    current: &Params,
    memory: &BlockPool,
) -> Check {
    let malformed = || malformed("argon2");
    let Ok(parsed) = PasswordHash::new(phc) else {
        return malformed();
    };
    let algorithm = match parsed.algorithm.as_str() {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        _ => return malformed(),
    };
    // As in the reference implementation, a missing `v=` means version 0x10.
    let version = match parsed.version {
        None | Some(0x10) => Version::V0x10,
        Some(0x13) => Version::V0x13,
        Some(_) => return malformed(),
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return malformed();
    };
    if !argon2_params_acceptable(&params) {
        tracing::warn!(
            m = params.m_cost(),
            t = params.t_cost(),
            p = params.p_cost(),
            "stored argon2 password hash asks for too much work; refusing to verify"
        );
        return Check::Unverifiable;
    }
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return malformed();
    };
    let mut salt_buf = [0u8; PHC_MAX_BYTES];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return malformed();
    };
    let expected = expected.as_bytes();
    let mut actual_buf = [0u8; PHC_MAX_BYTES];
    let Some(actual) = actual_buf.get_mut(..expected.len()) else {
        return malformed();
    };
    let needs_rehash = !is_current(django, algorithm, version, &params, expected.len(), current);
    let needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = memory.with_blocks(needed, |blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut *actual, blocks)
    });
    if computed.is_err() {
        return malformed();
    }
    if bool::from(actual.ct_eq(expected)) {
        Check::Match { needs_rehash }
    } else {
        Check::Mismatch
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use argon2::password_hash::PasswordHash;
    use argon2::{Argon2, Params};
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    use base64::Engine as _;

    use super::argon2_params_acceptable;
    use crate::password::testing::{
        raw_argon2id, small, small_config, DJANGO_ARGON2I, DJANGO_ARGON2ID, PHC_ARGON2ID,
        PHC_ARGON2ID_NO_VERSION, VALID_CURRENT, VALID_REHASH,
    };
    use crate::password::{HasherConfig, PasswordHasher, Verification};

    fn dummy_runs(h: &PasswordHasher) -> u64 {
        h.stats().dummy_verifications
    }

    #[test]
    fn django_argon2id_vector() {
        let h = small();
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_ARGON2ID)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(DJANGO_ARGON2ID)),
            Verification::Invalid
        );
        // Django's parameters differ from the OWASP defaults, so it needs a rehash
        // even for a hasher with default settings.
        let defaults = PasswordHasher::new(HasherConfig::default()).unwrap();
        assert_eq!(
            defaults.verify_blocking("secret", Some(DJANGO_ARGON2ID)),
            VALID_REHASH
        );
    }

    #[test]
    fn django_argon2i_vector() {
        let h = small();
        assert_eq!(
            h.verify_blocking("secret", Some(DJANGO_ARGON2I)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(DJANGO_ARGON2I)),
            Verification::Invalid
        );
    }

    #[test]
    fn plain_phc_argon2id_is_accepted_and_upgraded() {
        let h = small();
        // Same params as the hasher, but the old plain format: rehash to Django's.
        assert_eq!(
            h.verify_blocking("secret", Some(PHC_ARGON2ID)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(PHC_ARGON2ID)),
            Verification::Invalid
        );
        assert_eq!(
            h.verify_blocking("secret", Some(PHC_ARGON2ID_NO_VERSION)),
            VALID_REHASH
        );
        assert_eq!(
            h.verify_blocking("secret2", Some(PHC_ARGON2ID_NO_VERSION)),
            Verification::Invalid
        );
        // Our own fresh hash with the Django prefix stripped.
        let fresh = h.hash_blocking("pw").unwrap();
        let plain = fresh.strip_prefix("argon2").unwrap();
        assert_eq!(h.verify_blocking("pw", Some(plain)), VALID_REHASH);
        assert_eq!(h.verify_blocking("pw", Some(&fresh)), VALID_CURRENT);
    }

    #[test]
    fn fresh_hash_with_default_params() {
        let h = PasswordHasher::new(HasherConfig::default()).unwrap();
        assert!(h.config().concurrency >= 1);
        let stored = h.hash_blocking("correct horse").unwrap();
        assert!(
            stored.starts_with("argon2$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected prefix"
        );
        assert_eq!(
            h.verify_blocking("correct horse", Some(&stored)),
            VALID_CURRENT
        );
        assert_eq!(
            h.verify_blocking("correct horse ", Some(&stored)),
            Verification::Invalid
        );
        // 16-byte salt, 32-byte output, standard alphabet without padding.
        let segments: Vec<&str> = stored.split('$').collect();
        assert_eq!(segments.len(), 6);
        assert_eq!(STANDARD_NO_PAD.decode(segments[4]).unwrap().len(), 16);
        assert_eq!(STANDARD_NO_PAD.decode(segments[5]).unwrap().len(), 32);
        // Cross-check with the argon2 crate's own PHC verifier.
        use argon2::PasswordVerifier as _;
        let phc = PasswordHash::new(&stored["argon2".len()..]).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &phc)
            .is_ok());
        assert!(Argon2::default().verify_password(b"wrong", &phc).is_err());
    }

    #[test]
    fn changed_params_need_rehash() {
        let old = small();
        let stored = old.hash_blocking("pw").unwrap();
        let new = PasswordHasher::new(HasherConfig {
            memory_kib: 128,
            ..small_config()
        })
        .unwrap();
        assert_eq!(new.verify_blocking("pw", Some(&stored)), VALID_REHASH);
        assert_eq!(
            new.verify_blocking("px", Some(&stored)),
            Verification::Invalid
        );
        let t_changed = PasswordHasher::new(HasherConfig {
            iterations: 2,
            ..small_config()
        })
        .unwrap();
        assert_eq!(t_changed.verify_blocking("pw", Some(&stored)), VALID_REHASH);
    }

    #[test]
    fn absurd_argon2_params_are_refused_even_when_correct() {
        let h = small();
        // Within bounds, a correctly computed hash verifies...
        let t20 = raw_argon2id(b"secret", 64, 20, 1);
        assert_eq!(h.verify_blocking("secret", Some(&t20)), VALID_REHASH);
        let p16 = raw_argon2id(b"secret", 128, 1, 16);
        assert_eq!(h.verify_blocking("secret", Some(&p16)), VALID_REHASH);
        assert_eq!(dummy_runs(&h), 0);
        // ...one step beyond, the same kind of correct hash is refused.
        let t21 = raw_argon2id(b"secret", 64, 21, 1);
        assert_eq!(
            h.verify_blocking("secret", Some(&t21)),
            Verification::Invalid
        );
        let p17 = raw_argon2id(b"secret", 136, 1, 17);
        assert_eq!(
            h.verify_blocking("secret", Some(&p17)),
            Verification::Invalid
        );
        assert_eq!(dummy_runs(&h), 2);
        // Memory: 1 GiB is the last accepted value; 4 GiB is refused before any
        // allocation (computing it would take minutes).
        assert!(argon2_params_acceptable(
            &Params::new(1 << 20, 20, 16, None).unwrap()
        ));
        assert!(!argon2_params_acceptable(
            &Params::new((1 << 20) + 1, 1, 1, None).unwrap()
        ));
        let huge = "argon2$argon2id$v=19$m=4194304,t=20,p=16$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM";
        let started = Instant::now();
        assert_eq!(
            h.verify_blocking("secret", Some(huge)),
            Verification::Invalid
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(dummy_runs(&h), 3);
    }
}

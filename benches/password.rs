//! Micro-benchmarks of password hashing (divan), on the calling thread
//! (`*_blocking`: no pool, no queue — the CPU cost of one login):
//!
//! - `argon2id_hash` / `argon2id_verify`: new hashes at the OWASP parameters the
//!   server uses by default (m = 19 MiB, t = 2, p = 1).
//! - `django_pbkdf2_sha256_verify`: a hash made by Django 5.2
//!   (`pbkdf2_sha256$1000000$…`, the reference's default), as a migrated user's
//!   first login pays it.
//!
//! ```text
//! cargo bench --bench password
//! ```
//!
//! Each is slow (tens to hundreds of ms), so samples are few and time-capped.

use simplejwt::password::{HasherConfig, PasswordHasher, Verification};

fn main() {
    divan::main();
}

/// Django 5.2's `make_password("secret", "abcdefghijklmnopqrstuv")` (also in src/password.rs tests).
const DJANGO_PBKDF2_1M: &str =
    "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$tW94pSigUM2AlIkWSQO4yVeVgz1Hy8/tw6HFhR010Gk=";

fn owasp() -> PasswordHasher {
    // HasherConfig::default() is argon2id m=19456 KiB, t=2, p=1.
    PasswordHasher::new(HasherConfig::default()).expect("hasher")
}

#[divan::bench(sample_count = 10, sample_size = 1, max_time = 5)]
fn argon2id_hash(bencher: divan::Bencher) {
    let h = owasp();
    bencher.bench_local(|| {
        h.hash_blocking(divan::black_box("alice-Password-1"))
            .unwrap()
    });
}

#[divan::bench(sample_count = 10, sample_size = 1, max_time = 5)]
fn argon2id_verify(bencher: divan::Bencher) {
    let h = owasp();
    let stored = h.hash_blocking("alice-Password-1").unwrap();
    bencher.bench_local(|| {
        let v = h.verify_blocking(divan::black_box("alice-Password-1"), Some(&stored));
        assert_eq!(
            v,
            Verification::Valid {
                needs_rehash: false
            }
        );
    });
}

#[divan::bench(sample_count = 5, sample_size = 1, max_time = 10)]
fn django_pbkdf2_sha256_verify(bencher: divan::Bencher) {
    let h = owasp();
    bencher.bench_local(|| {
        let v = h.verify_blocking(divan::black_box("secret"), Some(DJANGO_PBKDF2_1M));
        assert_eq!(v, Verification::Valid { needs_rehash: true });
    });
}

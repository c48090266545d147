//! Test support shared by the test modules of every file in `password/`:
//! reference hashes made by Django and argon2-cffi, a cheap hasher
//! configuration, and small helpers.
//!
//! # Why it is shaped this way
//!
//! The tests sit beside the code they test, but most of them drive it through
//! the public [`PasswordHasher`] as a caller would, and several files need the
//! same vectors; one copy of each lives here. Compiled only for tests.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;

use super::{HasherConfig, PasswordHasher, Verification};

pub(super) const DJANGO_PBKDF2_SHA256: [&str; 3] = [
    "pbkdf2_sha256$720000$abcdefghijklmnopqrstuv$frI+gsj7FM9REU0u7NqVglIHEqdfHq1pzh4/0LyR8JA=",
    "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$tW94pSigUM2AlIkWSQO4yVeVgz1Hy8/tw6HFhR010Gk=",
    "pbkdf2_sha256$1500000$abcdefghijklmnopqrstuv$r43I08ZBAs6/b1pLXDFtfPOgFDdhiP8EQIpzH21sqS4=",
];
/// Python `hashlib.pbkdf2_hmac('sha1', b'secret', b'abcdefghijklmnopqrstuv', 260000)`.
pub(super) const DJANGO_PBKDF2_SHA1: &str =
    "pbkdf2_sha1$260000$abcdefghijklmnopqrstuv$6GvV42I1VFG+kZUe6uAev+W44UI=";
/// Django's Argon2PasswordHasher defaults (argon2-cffi output behind `argon2`).
pub(super) const DJANGO_ARGON2ID: &str = "argon2$argon2id$v=19$m=102400,t=2,p=8$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$A9DAPQnz27exXaIEX/gYEkGY9RGfCEFQQ/I38bD2xuM";
/// argon2-cffi `hash_secret(b'secret', salt, t=2, m=1024, p=2, type=I)`.
pub(super) const DJANGO_ARGON2I: &str = "argon2$argon2i$v=19$m=1024,t=2,p=2$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$vw0c51Zioqw9BJlofAxomsXClo/SjTdA0O+DKKjp7YY";
/// argon2-cffi, plain PHC, t=1, m=64, p=1.
pub(super) const PHC_ARGON2ID: &str = "$argon2id$v=19$m=64,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$F2IaUWeojMcay8K6OnwnM/77rE1rFcLcfQXq1e+0erA";
/// argon2-cffi, version 0x10 written without `v=` (verified by argon2-cffi).
pub(super) const PHC_ARGON2ID_NO_VERSION: &str = "$argon2id$m=64,t=1,p=1$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$KjO8mpHu6zKfl4tropLLtb8QmNbd5JgWv1uUWQqkxN8";

pub(super) const VALID_REHASH: Verification = Verification::Valid { needs_rehash: true };
pub(super) const VALID_CURRENT: Verification = Verification::Valid {
    needs_rehash: false,
};

pub(super) fn small_config() -> HasherConfig {
    HasherConfig {
        concurrency: 2,
        max_waiting: 16,
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        pbkdf2_floor: 0,
    }
}

pub(super) fn small() -> PasswordHasher {
    PasswordHasher::new(small_config()).expect("small config is valid")
}

/// Polls `fut` exactly once.
pub(super) async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
}

/// A Django-format argon2id hash of `password` with arbitrary (unchecked) params.
pub(super) fn raw_argon2id(password: &[u8], m: u32, t: u32, p: u32) -> String {
    let salt = b"abcdefghijklmnopqrstuv";
    let mut out = [0u8; 32];
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(m, t, p, Some(32)).unwrap(),
    )
    .hash_password_into(password, salt, &mut out)
    .unwrap();
    format!(
        "argon2$argon2id$v=19$m={m},t={t},p={p}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    )
}

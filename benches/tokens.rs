//! Micro-benchmarks of the token hot path (divan):
//!
//! - `encode` / `decode`: one refresh-sized claim set signed / verified (signature,
//!   time claims) with HS256, RS256, ES256 and EdDSA through the crate's
//!   `TokenBackend` — what login/refresh and every authenticated request pay.
//! - `authenticate`: the whole `JWTAuthentication` path, `Authorization`
//!   header bytes → validated claims → active user read from SQLite
//!   (`AuthService::authenticate`), on a current-thread Tokio runtime.
//! - `authenticate_stateless`: header → claims, no database.
//!
//! ```text
//! cargo bench --bench tokens                      # all
//! cargo bench --bench tokens -- decode            # a filter
//! ```
//!
//! RS256 uses `../shared/conformance/keys/rs256-*.pem` when present (else a
//! fresh 2048-bit key); ES256 and EdDSA keys are generated at start with
//! `p256` / `ed25519-dalek` (dependencies of the default `cli` feature).

use std::sync::OnceLock;

use simplejwt::keys::Keys;
use simplejwt::settings::Settings;
use simplejwt::token::{claims, Claims, TokenBackend, TokenKind};

mod common;

const HS_KEY: &str = "conformance-signing-key-7f3c9a1e5b2d4f6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1";

fn main() {
    divan::main();
}

/// (private or secret, public) key material for an algorithm.
fn key_material(alg: &str) -> (String, Option<String>) {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    use rand::rngs::OsRng;
    let lf = Default::default();
    match alg {
        "HS256" => (HS_KEY.to_owned(), None),
        "RS256" => {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance/keys");
            let private = std::fs::read_to_string(format!("{dir}/rs256-private.pem"));
            let public = std::fs::read_to_string(format!("{dir}/rs256-public.pem"));
            match (private, public) {
                (Ok(private), Ok(public)) => (private, Some(public)),
                _ => {
                    let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("rsa keygen");
                    (
                        key.to_pkcs8_pem(lf).expect("pem").to_string(),
                        Some(key.to_public_key().to_public_key_pem(lf).expect("pem")),
                    )
                }
            }
        }
        "ES256" => {
            let key = p256::SecretKey::random(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).expect("pem").to_string(),
                Some(key.public_key().to_public_key_pem(lf).expect("pem")),
            )
        }
        "EdDSA" => {
            let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).expect("pem").to_string(),
                Some(key.verifying_key().to_public_key_pem(lf).expect("pem")),
            )
        }
        other => panic!("no key material for {other}"),
    }
}

fn settings_for(alg: &str) -> Settings {
    let (private, public) = key_material(alg);
    let mut pairs = vec![("ALGORITHM", alg.to_owned()), ("SIGNING_KEY", private)];
    if let Some(public) = public {
        pairs.push(("VERIFYING_KEY", public));
    }
    Settings::from_pairs(pairs).expect("settings")
}

struct Fixture {
    settings: Settings,
    backend: TokenBackend,
    claims: Claims,
    token: String,
    now: simplejwt::token::Timestamp,
}

fn fixture(alg: &str) -> Fixture {
    let settings = settings_for(alg);
    let keys = Keys::from_settings(&settings).expect("keys");
    let backend = TokenBackend::new(&settings, keys);
    let now = simplejwt::token::Timestamp::now();
    let mut claims = claims::for_user(&settings, TokenKind::Refresh, "1".into(), None, now);
    let token = backend.encode(&mut claims).expect("encode");
    Fixture {
        settings,
        backend,
        claims,
        token,
        now,
    }
}

const ALGS: &[&str] = &["HS256", "RS256", "ES256", "EdDSA"];

#[divan::bench(args = ALGS, max_time = 2)]
fn encode(bencher: divan::Bencher, alg: &str) {
    let mut f = fixture(alg);
    bencher.bench_local(|| f.backend.encode(divan::black_box(&mut f.claims)).unwrap());
}

/// `claims::for_user` + encode: what login / refresh pay per token minted.
#[divan::bench(args = ALGS, max_time = 2)]
fn mint(bencher: divan::Bencher, alg: &str) {
    let f = fixture(alg);
    bencher.bench_local(|| {
        let mut c = claims::for_user(&f.settings, TokenKind::Refresh, "1".into(), None, f.now);
        f.backend.encode(&mut c).unwrap()
    });
}

#[divan::bench(args = ALGS, max_time = 2)]
fn decode(bencher: divan::Bencher, alg: &str) {
    let f = fixture(alg);
    bencher.bench_local(|| f.backend.decode(divan::black_box(&f.token), f.now).unwrap());
}

// ---- the authenticate path ---------------------------------------------------

/// Alice's fixture (one SQLite store, an access token for her); built once.
fn auth() -> &'static common::Alice {
    static AUTH: OnceLock<common::Alice> = OnceLock::new();
    AUTH.get_or_init(|| common::alice(HS_KEY))
}

/// `AuthService::authenticate`: header → claims → user row (SQLite, indexed by id).
#[divan::bench(max_time = 3)]
fn authenticate(bencher: divan::Bencher) {
    let a = auth();
    bencher.bench_local(|| {
        a.runtime
            .block_on(
                a.service
                    .authenticate(Some(divan::black_box(a.authorization.as_bytes()))),
            )
            .unwrap()
    });
}

/// `AuthService::authenticate_stateless`: header → claims, no database.
#[divan::bench(max_time = 2)]
fn authenticate_stateless(bencher: divan::Bencher) {
    let a = auth();
    bencher.bench_local(|| {
        a.runtime
            .block_on(
                a.service
                    .authenticate_stateless(Some(divan::black_box(a.authorization.as_bytes()))),
            )
            .unwrap()
    });
}

/// The user lookup alone (`UserStore::user_by_id`): the database share of `authenticate`.
#[divan::bench(max_time = 2)]
fn user_by_id(bencher: divan::Bencher) {
    let a = auth();
    bencher.bench_local(|| {
        a.runtime
            .block_on(a.service.user_store().user_by_id(divan::black_box(1)))
            .unwrap()
    });
}

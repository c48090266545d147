//! Key material operators hold, and weak material refused at start (issue 17,
//! point 5): EC keys in SEC1 PEM as `openssl ecparam -genkey` writes them, RSA
//! in PKCS#1 and PKCS#8; a key in a form the algorithm does not take gets an
//! error naming the form received and the forms taken; a publicly known HMAC
//! secret is refused however long it is. The PEM files are in
//! `tests/fixtures/keys/` (see its README for the commands that made them).

use simplejwt::keys::Keys;
use simplejwt::settings::{Settings, SettingsError};
use simplejwt::token::{Claims, Timestamp, TokenBackend};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn keys(alg: &str, private: &str, public: &str) -> Result<Keys, SettingsError> {
    let settings = Settings::from_pairs([
        ("ALGORITHM", alg),
        ("SIGNING_KEY", private),
        ("VERIFYING_KEY", public),
    ])?;
    Keys::from_settings(&settings)
}

/// Signs a token with `keys` and verifies it back.
fn round_trip(alg: &str, private: &str, public: &str) {
    let settings = Settings::from_pairs([
        ("ALGORITHM", alg),
        ("SIGNING_KEY", private),
        ("VERIFYING_KEY", public),
    ])
    .unwrap();
    let backend = TokenBackend::new(&settings, Keys::from_settings(&settings).unwrap());
    let mut claims: Claims = serde_json::from_str(r#"{"exp": 9000, "user_id": "1"}"#).unwrap();
    let token = backend.encode(&mut claims).unwrap();
    let decoded = backend
        .decode(&token, Timestamp::from_secs_f64(1000.0))
        .unwrap();
    assert_eq!(decoded, claims, "{alg}");
}

#[test]
fn ec_keys_in_sec1_pem_sign_and_verify() {
    round_trip(
        "ES256",
        &fixture("es256-sec1.pem"),
        &fixture("es256-public.pem"),
    );
    round_trip(
        "ES256",
        &fixture("es256-sec1-params.pem"),
        &fixture("es256-params-public.pem"),
    );
    round_trip(
        "ES384",
        &fixture("es384-sec1.pem"),
        &fixture("es384-public.pem"),
    );
}

#[test]
fn rsa_keys_in_pkcs1_and_pkcs8_sign_and_verify() {
    for private in ["rs256-pkcs1.pem", "rs256-pkcs8.pem"] {
        for public in ["rs256-public.pem", "rs256-public-pkcs1.pem"] {
            for alg in ["RS256", "PS256"] {
                round_trip(alg, &fixture(private), &fixture(public));
            }
        }
    }
}

#[test]
fn a_sec1_key_of_the_wrong_curve_is_named() {
    let e = keys(
        "ES256",
        &fixture("es384-sec1.pem"),
        &fixture("es384-public.pem"),
    )
    .unwrap_err();
    assert_eq!(e.setting, "SIGNING_KEY");
    assert!(e.message.contains("`EC PRIVATE KEY` (SEC1)"), "{e}");
    assert!(e.message.contains("P-256"), "{e}");
    // the right key with the wrong public half: not a pair
    let e = keys(
        "ES256",
        &fixture("es256-sec1.pem"),
        &fixture("es256-params-public.pem"),
    )
    .unwrap_err();
    assert_eq!(e.setting, "VERIFYING_KEY");
}

#[test]
fn a_key_in_a_form_the_algorithm_does_not_take_names_both_forms() {
    let e = keys(
        "ES256",
        &fixture("rs256-pkcs1.pem"),
        &fixture("es256-public.pem"),
    )
    .unwrap_err();
    assert_eq!(e.setting, "SIGNING_KEY");
    assert!(
        e.message
            .contains("is a PEM `RSA PRIVATE KEY` key (PKCS#1)"),
        "{e}"
    );
    assert!(
        e.message
            .contains("ES256 takes `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1)"),
        "{e}"
    );
    let e = keys(
        "RS256",
        &fixture("es256-sec1.pem"),
        &fixture("rs256-public.pem"),
    )
    .unwrap_err();
    assert!(e.message.contains("`EC PRIVATE KEY`"), "{e}");
    assert!(
        e.message
            .contains("`RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8)"),
        "{e}"
    );
    let e = keys(
        "ES256",
        &fixture("es256-sec1.pem"),
        &fixture("rs256-public-pkcs1.pem"),
    )
    .unwrap_err();
    assert_eq!(e.setting, "VERIFYING_KEY");
    assert!(e.message.contains("`RSA PUBLIC KEY`"), "{e}");
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let e = keys("ES256", encrypted, &fixture("es256-public.pem")).unwrap_err();
    assert!(e.message.contains("decrypt it first"), "{e}");
    let e = keys("ES256", "just some text", &fixture("es256-public.pem")).unwrap_err();
    assert!(e.message.contains("is not a PEM key"), "{e}");
    // an RSA PKCS#8 key is a `PRIVATE KEY` too: the algorithm cannot read it
    let e = keys(
        "ES256",
        &fixture("rs256-pkcs8.pem"),
        &fixture("es256-public.pem"),
    )
    .unwrap_err();
    assert_eq!(e.setting, "SIGNING_KEY");
    assert!(e.message.contains("cannot read"), "{e}");
    // no error ever shows key material
    assert!(!e.message.contains("MII"), "{e}");
}

#[test]
fn publicly_known_hmac_secrets_are_refused_however_long() {
    for secret in [
        "a-string-secret-at-least-256-bits-long",
        "your-256-bit-secret",
        "super-secret-jwt-token-with-at-least-32-characters-long",
        "django-insecure-p#3q9m0z!v8l2k7x@w5t4r6y1u^c0b9n8m7a6s5d4f3g2h1j0k",
    ] {
        let settings = Settings::from_pairs([("SIGNING_KEY", secret)]).unwrap();
        let e = Keys::from_settings(&settings).unwrap_err();
        assert_eq!(e.setting, "SIGNING_KEY");
        assert!(e.message.contains("leaked JWT secrets"), "{e}");
        assert!(
            !e.to_string().contains(secret),
            "the error must not echo the secret"
        );
    }
    let fine =
        Settings::from_pairs([("SIGNING_KEY", "x3-Qm9v!7pLr2tKw8zN4cB6yH1sJ5dF0g")]).unwrap();
    assert!(Keys::from_settings(&fine).is_ok());
}

#[test]
fn an_explicitly_empty_signing_key_is_refused_not_replaced() {
    for empty in ["", "   ", "\n"] {
        let Err(e) = Settings::from_pairs([("SIGNING_KEY", empty)]) else {
            panic!("an empty SIGNING_KEY was accepted");
        };
        assert_eq!(e.setting, "SIGNING_KEY");
        assert!(e.message.contains("empty"), "{e}");
    }
}

//! `GET /.well-known/jwks.json` (issue 17, point 5): the public key as a JWK
//! set that an outside verifier uses to check our tokens; nothing for HMAC
//! (a secret is never published); a token header may name our key's `kid`
//! and no other.

mod common;

use common::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn get_jwks(app: &TestApp) -> Resp {
    let r = app.send(bare("GET", "/.well-known/jwks.json")).await;
    r.expect_status(200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    r
}

#[tokio::test]
async fn hmac_secrets_are_never_published() {
    let app = app(TestDb::sqlite(), &[]).await;
    let r = get_jwks(&app).await;
    assert_eq!(r.json(), json!({"keys": []}));
    assert!(!r.text().contains(&b64(SIGNING_KEY.as_bytes())));
    app.send(bare("POST", "/.well-known/jwks.json"))
        .await
        .expect_status(405);
}

#[tokio::test]
async fn an_outside_verifier_checks_our_tokens_with_the_published_key() {
    for (alg, private, public, kty) in [
        ("ES256", "es256-sec1.pem", "es256-public.pem", "EC"),
        ("RS256", "rs256-pkcs1.pem", "rs256-public.pem", "RSA"),
        ("EdDSA", "ed25519-pkcs8.pem", "ed25519-public.pem", "OKP"),
    ] {
        let (private, public) = (fixture(private), fixture(public));
        let app = app(
            TestDb::sqlite(),
            &[
                ("ALGORITHM", alg),
                ("SIGNING_KEY", &private),
                ("VERIFYING_KEY", &public),
            ],
        )
        .await;
        let doc = get_jwks(&app).await;
        let set: JwkSet = serde_json::from_slice(&doc.body).unwrap();
        assert_eq!(set.keys.len(), 1, "{alg}");
        let jwk = &set.keys[0];
        let raw: Value = doc.json()["keys"][0].clone();
        assert_eq!(raw["kty"], kty);
        assert_eq!(raw["use"], "sig");
        assert_eq!(raw["alg"], alg);
        assert!(raw.get("d").is_none(), "{alg}: private part published");
        let kid = jwk.common.key_id.clone().expect("kid");
        assert_eq!(app.service.tokens().keys().kid(), Some(kid.as_str()));

        let (_, access) = app.pair("alice").await;
        let key = DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = Validation::new(app.service.settings().algorithm());
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(&access, &key, &validation)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims["user_id"], "1");

        // a token naming our kid is ours; any other kid is refused
        let forger = app.forger();
        let claims = serde_json::to_vec(&forger.claims("access", "1")).unwrap();
        let with_kid = |kid: &str| {
            let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
            forger.sign_raw(&serde_json::to_vec(&header).unwrap(), &claims)
        };
        app.protected(&with_kid(&kid))
            .await
            .expect(200, &welcome("alice"));
        app.protected(&with_kid("another-key"))
            .await
            .expect(401, &invalid_for_any_type("Token is invalid"));
    }
}

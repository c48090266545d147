//! `JWK_URL` (issue 17, point 5): tokens of another issuer are verified with
//! the keys its JWKS publishes (fetched from a local server spawned here),
//! while the tokens this server mints keep verifying — the reference
//! refuses its own there. The attacks: an unknown `kid` (refused, and it
//! cannot make the server fetch more than once per cooldown), a key of
//! another family or use in the JWKS, a token naming the issuer's kid but
//! signed by someone else, and an oversized document.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::routing::get;
use common::*;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A JWKS server on a local port: serves `doc`, counts fetches.
async fn jwks_server(doc: String) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = axum::Router::new().route(
        "/jwks.json",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let doc = doc.clone();
            async move { ([("content-type", "application/json")], doc) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/jwks.json"), hits)
}

/// The issuer's ES256 key: its private PEM and its public JWK named `kid`.
fn issuer_key(kid: &str) -> (String, Value) {
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let mut jwk = Jwk::from_encoding_key(
        &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        Algorithm::ES256,
    )
    .unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    (pem, serde_json::to_value(jwk).unwrap())
}

/// An access token for alice with `header`, signed by `private` (ES256).
fn issued(header: Value, private: &str) -> String {
    let now = epoch_now();
    let claims = json!({
        "token_type": "access", "exp": now + 300, "iat": now,
        "jti": uuid::Uuid::new_v4().simple().to_string(), "user_id": "1",
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = EncodingKey::from_ec_pem(private.as_bytes()).unwrap();
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::ES256).unwrap();
    format!("{input}.{sig}")
}

async fn app_with_jwk_url(url: &str) -> TestApp {
    app(
        TestDb::sqlite(),
        &[
            ("ALGORITHM", "ES256"),
            ("SIGNING_KEY", &fixture("es256-sec1.pem")),
            ("VERIFYING_KEY", &fixture("es256-public.pem")),
            ("JWK_URL", url),
        ],
    )
    .await
}

#[tokio::test]
async fn issuer_tokens_verify_beside_ours_and_unknown_kids_are_refused_without_refetching() {
    let (issuer, issuer_jwk) = issuer_key("idp-1");
    // Keys the server must skip: another family, an encryption key, a key
    // naming another algorithm, a symmetric secret.
    let rsa: Value = json!({"kty": "RSA", "kid": "rsa-1", "use": "sig", "e": "AQAB",
        "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"});
    let (_, mut encrypting) = issuer_key("enc-1");
    encrypting["use"] = json!("enc");
    let (other_alg_key, mut other_alg) = issuer_key("es384-1");
    other_alg["alg"] = json!("ES384");
    let oct = json!({"kty": "oct", "kid": "oct-1", "k": b64(SIGNING_KEY.as_bytes())});
    let (_, mut without_kid) = issuer_key("x");
    without_kid.as_object_mut().unwrap().remove("kid");
    let doc = json!({"keys": [issuer_jwk, rsa, encrypting, other_alg, oct, without_kid]});
    let (url, hits) = jwks_server(doc.to_string()).await;
    let app = app_with_jwk_url(&url).await;

    // Our own tokens: verified with our key, nothing fetched.
    let (_, access) = app.pair("alice").await;
    app.protected(&access).await.expect_status(200);
    let ours = app.service.tokens().keys().kid().unwrap().to_owned();
    let forger = app.forger();
    let claims = serde_json::to_vec(&forger.claims("access", "1")).unwrap();
    let named = forger.sign_raw(
        json!({"alg": "ES256", "kid": ours, "typ": "JWT"})
            .to_string()
            .as_bytes(),
        &claims,
    );
    app.protected(&named).await.expect_status(200);
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // The issuer's token: fetched once, then from the cache.
    let token = issued(
        json!({"alg": "ES256", "kid": "idp-1", "typ": "JWT"}),
        &issuer,
    );
    app.protected(&token).await.expect_status(200);
    app.protected(&token).await.expect_status(200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The attacks: refused, and within the cooldown none fetches again.
    let (stranger, _) = issuer_key("idp-1");
    for (name, token) in [
        (
            "unknown kid",
            issued(
                json!({"alg": "ES256", "kid": "idp-2", "typ": "JWT"}),
                &issuer,
            ),
        ),
        (
            "issuer kid, another signer",
            issued(
                json!({"alg": "ES256", "kid": "idp-1", "typ": "JWT"}),
                &stranger,
            ),
        ),
        (
            "encryption key",
            issued(
                json!({"alg": "ES256", "kid": "enc-1", "typ": "JWT"}),
                &issuer,
            ),
        ),
        (
            "key for another alg",
            issued(
                json!({"alg": "ES256", "kid": "es384-1", "typ": "JWT"}),
                &other_alg_key,
            ),
        ),
        (
            "RSA key",
            issued(
                json!({"alg": "ES256", "kid": "rsa-1", "typ": "JWT"}),
                &issuer,
            ),
        ),
        (
            "issuer key without kid",
            issued(json!({"alg": "ES256", "typ": "JWT"}), &issuer),
        ),
    ] {
        app.protected(&token).await.expect_status(401);
        let r = app.verify(&token).await;
        assert_eq!(r.status, 401, "{name}");
    }
    // An HS256 token signed with the published `oct` secret.
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": "oct-1", "typ": "JWT"})
            .to_string()
            .as_bytes()),
        b64(&claims)
    );
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SIGNING_KEY.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    let hs_token = format!("{input}.{sig}");
    app.protected(&hs_token).await.expect_status(401);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "unknown kids refetch at most once per 30 s"
    );
}

#[tokio::test]
async fn an_oversized_or_broken_jwks_verifies_nothing_and_our_tokens_still_do() {
    let (issuer, issuer_jwk) = issuer_key("idp-1");
    let padding = "x".repeat(300 * 1024);
    let big = json!({"keys": [issuer_jwk], "padding": padding}).to_string();
    for doc in [big, "not json".to_owned(), json!({"keys": "x"}).to_string()] {
        let (url, hits) = jwks_server(doc).await;
        let app = app_with_jwk_url(&url).await;
        let token = issued(
            json!({"alg": "ES256", "kid": "idp-1", "typ": "JWT"}),
            &issuer,
        );
        app.protected(&token).await.expect_status(401);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let (_, access) = app.pair("alice").await;
        app.protected(&access).await.expect_status(200);
    }
}

#[tokio::test]
async fn jwk_url_must_be_an_http_url() {
    let e =
        simplejwt::settings::Settings::from_pairs([("JWK_URL", "file:///etc/passwd")]).unwrap_err();
    assert_eq!(e.setting, "JWK_URL");
}

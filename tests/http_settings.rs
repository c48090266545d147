//! Each `SIMPLE_JWT` setting, observed through HTTP: what it puts into tokens
//! and what it changes in the answers. Tests that touch the token or user
//! tables run on SQLite and (when configured) PostgreSQL. Times are forged,
//! never slept through. The last section checks that invalid settings are
//! refused with an error naming the setting.

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};
use simplejwt::keys::Keys;
use simplejwt::service::AuthService;
use simplejwt::settings::Settings;
use simplejwt::store::{StoreOptions, User};
use simplejwt::token::Claims;

async fn sqlite_app(pairs: &[(&str, &str)]) -> TestApp {
    app(TestDb::sqlite(), pairs).await
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn claim_keys(token: &str) -> Vec<String> {
    claims_of(token).keys().cloned().collect()
}

const ROTATE: [(&str, &str); 2] = [
    ("ROTATE_REFRESH_TOKENS", "true"),
    ("BLACKLIST_AFTER_ROTATION", "true"),
];

// ==========================================================================
// ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION
// ==========================================================================

backend_tests!(
    rotation_answers_access_then_a_new_refresh_token,
    |db| async move {
        let app = app(db, &ROTATE).await;
        let (old, _) = app.pair("alice").await;
        let before = epoch_now();
        let r = app.refresh(&old).await;
        let after = epoch_now();
        r.expect_status(200);
        assert_eq!(r.keys(), ["access", "refresh"]);
        let (new, access) = (claims_of(&r.str("refresh")), claims_of(&r.str("access")));
        let old = claims_of(&old);
        assert_eq!(
            new.keys().collect::<Vec<_>>(),
            old.keys().collect::<Vec<_>>()
        );
        assert_eq!(new["token_type"], "refresh");
        assert_eq!(new["user_id"], "1");
        assert_ne!(new["jti"], old["jti"]);
        assert!(is_uuid4_hex(new["jti"].as_str().unwrap()));
        assert!(before <= int(&new["iat"]) && int(&new["iat"]) <= after);
        assert_eq!(int(&new["exp"]) - int(&new["iat"]), 86400);
        // access and rotated refresh share one clock reading
        assert_eq!(int(&access["exp"]), int(&new["iat"]) + 300);
        assert_eq!(app.store.token_counts().await.unwrap(), (2, 1));
    }
);

backend_tests!(
    rotation_blacklists_every_used_token_of_a_chain,
    |db| async move {
        let app = app(db, &ROTATE).await;
        let (t1, access) = app.pair("alice").await;
        let t2 = app.refresh(&t1).await.str("refresh");
        let t3 = app.refresh(&t2).await.str("refresh");
        for used in [&t1, &t2] {
            app.refresh(used)
                .await
                .expect(401, &token_error("Token is blacklisted"));
            app.blacklist(used)
                .await
                .expect(401, &token_error("Token is blacklisted"));
            app.verify(used)
                .await
                .expect(400, &json!({"non_field_errors": ["Token is blacklisted"]}));
        }
        app.refresh(&t3).await.expect_status(200);
        // access tokens are never blacklisted
        app.protected(&access).await.expect(200, &welcome("alice"));
        assert_eq!(app.store.token_counts().await.unwrap(), (4, 3));
    }
);

backend_tests!(
    rotation_keeps_custom_claims_in_both_tokens,
    |db| async move {
        let app = app(db, &ROTATE).await;
        let token = app.forger().refresh(|c| {
            c.insert("scope".into(), "read:things".into());
        });
        let r = app.refresh(&token).await;
        r.expect_status(200);
        assert_eq!(claims_of(&r.str("refresh"))["scope"], "read:things");
        assert_eq!(claims_of(&r.str("access"))["scope"], "read:things");
    }
);

backend_tests!(
    rotation_without_blacklist_keeps_the_old_token_usable,
    |db| async move {
        let app = app(db, &[("ROTATE_REFRESH_TOKENS", "true")]).await;
        let (old, _) = app.pair("alice").await;
        let r = app.refresh(&old).await;
        r.expect_status(200);
        assert_eq!(r.keys(), ["access", "refresh"]);
        assert_ne!(claims_of(&r.str("refresh"))["jti"], claims_of(&old)["jti"]);
        app.refresh(&old).await.expect_status(200);
        app.verify(&old).await.expect(200, &json!({}));
        // rotated tokens are recorded, none blacklisted
        assert_eq!(app.store.token_counts().await.unwrap(), (3, 0));
        // an explicit blacklist still revokes it, and verify still ignores that
        app.blacklist(&old).await.expect(200, &json!({}));
        app.refresh(&old)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        app.verify(&old).await.expect(200, &json!({}));
    }
);

// ==========================================================================
// lifetimes and LEEWAY
// ==========================================================================

#[tokio::test]
async fn lifetimes_set_exp_of_both_tokens() {
    let app = sqlite_app(&[
        ("ACCESS_TOKEN_LIFETIME", "2s"),
        ("REFRESH_TOKEN_LIFETIME", "4s"),
    ])
    .await;
    let (refresh, access) = app.pair("alice").await;
    let (r, a) = (claims_of(&refresh), claims_of(&access));
    assert_eq!(int(&r["exp"]) - int(&r["iat"]), 4);
    assert_eq!(int(&a["exp"]), int(&r["iat"]) + 2);
    let app = sqlite_app(&[
        ("ACCESS_TOKEN_LIFETIME", "1h30m"),
        ("REFRESH_TOKEN_LIFETIME", "7d"),
    ])
    .await;
    let (refresh, access) = app.pair("alice").await;
    let (r, a) = (claims_of(&refresh), claims_of(&access));
    assert_eq!(int(&r["exp"]) - int(&r["iat"]), 7 * 86400);
    assert_eq!(int(&a["exp"]), int(&r["iat"]) + 5400);
    let refreshed = claims_of(&app.refresh(&refresh).await.str("access"));
    assert!(int(&refreshed["exp"]) - int(&refreshed["iat"]) >= 5399);
}

#[tokio::test]
async fn leeway_accepts_recently_expired_tokens_everywhere() {
    let app = sqlite_app(&[("LEEWAY", "4s")]).await;
    let forge = app.forger();
    let now = epoch_now();
    let expired_2s_ago = |c: &mut Claims| {
        c.insert("iat".into(), (now - 100).into());
        c.insert("exp".into(), (now - 2).into());
    };
    app.protected(&forge.access(expired_2s_ago))
        .await
        .expect(200, &welcome("alice"));
    app.verify(&forge.access(expired_2s_ago))
        .await
        .expect(200, &json!({}));
    let r = app.refresh(&forge.refresh(expired_2s_ago)).await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["access"]);
}

#[tokio::test]
async fn leeway_refuses_tokens_expired_beyond_it() {
    let app = sqlite_app(&[("LEEWAY", "4s")]).await;
    let forge = app.forger();
    let now = epoch_now();
    let expired_10s_ago = |c: &mut Claims| {
        c.insert("iat".into(), (now - 100).into());
        c.insert("exp".into(), (now - 10).into());
    };
    app.protected(&forge.access(expired_10s_ago))
        .await
        .expect(401, &invalid_for_any_type("Token is expired"));
    app.verify(&forge.access(expired_10s_ago))
        .await
        .expect(401, &token_error("Token is expired"));
    app.refresh(&forge.refresh(expired_10s_ago))
        .await
        .expect(401, &token_error("Token is expired"));
}

#[tokio::test]
async fn leeway_tolerates_slightly_future_iat_and_nbf() {
    let app = sqlite_app(&[("LEEWAY", "30s")]).await;
    let now = epoch_now();
    app.protected(&app.forger().access(|c| {
        c.insert("iat".into(), (now + 10).into());
        c.insert("nbf".into(), (now + 10).into());
    }))
    .await
    .expect(200, &welcome("alice"));
}

#[tokio::test]
async fn without_leeway_a_token_expired_a_second_ago_is_refused() {
    let app = sqlite_app(&[]).await;
    let now = epoch_now();
    app.verify(&app.forger().access(|c| {
        c.insert("exp".into(), (now - 1).into());
    }))
    .await
    .expect(401, &token_error("Token is expired"));
}

#[tokio::test]
async fn leeway_does_not_change_the_exp_claim() {
    let app = sqlite_app(&[("LEEWAY", "4s"), ("ACCESS_TOKEN_LIFETIME", "1s")]).await;
    let (refresh, access) = app.pair("alice").await;
    assert_eq!(
        int(&claims_of(&access)["exp"]),
        int(&claims_of(&refresh)["iat"]) + 1
    );
}

// ==========================================================================
// AUDIENCE and ISSUER
// ==========================================================================

const AUD_ISS: [(&str, &str); 2] = [
    ("AUDIENCE", "conformance-audience"),
    ("ISSUER", "https://issuer.conformance.test"),
];

#[tokio::test]
async fn audience_and_issuer_are_appended_to_every_token() {
    let app = sqlite_app(&AUD_ISS).await;
    let (refresh, access) = app.pair("alice").await;
    for t in [&refresh, &access] {
        assert_eq!(
            claim_keys(t),
            ["token_type", "exp", "iat", "jti", "user_id", "aud", "iss"]
        );
        let c = claims_of(t);
        assert_eq!(c["aud"], "conformance-audience");
        assert_eq!(c["iss"], "https://issuer.conformance.test");
    }
    app.protected(&access).await.expect(200, &welcome("alice"));
    let refreshed = claims_of(&app.refresh(&refresh).await.str("access"));
    assert_eq!(refreshed["aud"], "conformance-audience");
    assert_eq!(refreshed["iss"], "https://issuer.conformance.test");
}

#[tokio::test]
async fn audience_and_issuer_are_required_and_must_match() {
    let app = sqlite_app(&AUD_ISS).await;
    let forge = app.forger();
    let invalid = invalid_for_any_type("Token is invalid");
    let cases: [(&str, Option<Value>); 4] = [
        ("aud", None),
        ("aud", Some(json!("someone-else"))),
        ("iss", None),
        ("iss", Some(json!("https://evil.test"))),
    ];
    for (claim, value) in cases {
        let token = forge.access(|c| match &value {
            Some(v) => {
                c.insert(claim.into(), v.clone());
            }
            None => {
                c.remove(claim);
            }
        });
        app.protected(&token).await.expect(401, &invalid);
    }
    app.verify(&forge.refresh(|c| {
        c.insert("aud".into(), "someone-else".into());
    }))
    .await
    .expect(401, &token_error("Token is invalid"));
    app.refresh(&forge.refresh(|c| {
        c.remove("iss");
    }))
    .await
    .expect(401, &token_error("Token is invalid"));
}

#[tokio::test]
async fn audience_list_in_a_token_is_accepted_when_it_names_the_audience() {
    let app = sqlite_app(&AUD_ISS).await;
    let forge = app.forger();
    app.protected(&forge.access(|c| {
        c.insert(
            "aud".into(),
            json!(["someone-else", "conformance-audience"]),
        );
    }))
    .await
    .expect(200, &welcome("alice"));
    app.protected(&forge.access(|c| {
        c.insert("aud".into(), json!(["someone-else", "other"]));
    }))
    .await
    .expect(401, &invalid_for_any_type("Token is invalid"));
    // refresh copies the payload, then re-issues the configured audience
    let r = app
        .refresh(&forge.refresh(|c| {
            c.insert("aud".into(), json!(["conformance-audience", "other"]));
        }))
        .await;
    r.expect_status(200);
    assert_eq!(claims_of(&r.str("access"))["aud"], "conformance-audience");
}

#[tokio::test]
async fn several_configured_audiences_are_emitted_as_a_list_and_each_accepted() {
    let app = sqlite_app(&[("AUDIENCE", "svc-a, svc-b")]).await;
    let (_, access) = app.pair("alice").await;
    assert_eq!(claims_of(&access)["aud"], json!(["svc-a", "svc-b"]));
    app.protected(&access).await.expect(200, &welcome("alice"));
    let forge = app.forger();
    app.protected(&forge.access(|c| {
        c.insert("aud".into(), "svc-b".into());
    }))
    .await
    .expect(200, &welcome("alice"));
    app.protected(&forge.access(|c| {
        c.insert("aud".into(), "svc-c".into());
    }))
    .await
    .expect(401, &invalid_for_any_type("Token is invalid"));
}

// ==========================================================================
// ALGORITHM
// ==========================================================================

async fn check_hmac_algorithm(alg: &str, header_b64: &str, other: jsonwebtoken::Algorithm) {
    let app = sqlite_app(&[("ALGORITHM", alg)]).await;
    let (refresh, access) = app.pair("alice").await;
    for t in [&refresh, &access] {
        assert_eq!(t.split('.').next(), Some(header_b64));
        assert_eq!(header_of(t), json!({"alg": alg, "typ": "JWT"}));
    }
    app.protected(&access).await.expect(200, &welcome("alice"));
    app.refresh(&refresh).await.expect_status(200);
    let forge = app.forger();
    app.protected(&forge.access(|c| {
        c.insert("user_id".into(), "3".into());
    }))
    .await
    .expect(200, &welcome("carol"));
    // the same key with another HMAC algorithm is refused
    let claims = forge.claims("access", "1");
    app.protected(&forge.with_algorithm(other).sign(&claims))
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
}

#[tokio::test]
async fn algorithm_hs384_signs_and_accepts_only_hs384() {
    check_hmac_algorithm(
        "HS384",
        "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9",
        jsonwebtoken::Algorithm::HS256,
    )
    .await;
}

#[tokio::test]
async fn algorithm_hs512_signs_and_accepts_only_hs512() {
    check_hmac_algorithm(
        "HS512",
        "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9",
        jsonwebtoken::Algorithm::HS256,
    )
    .await;
}

/// A fresh (private PEM, public PEM) pair for an asymmetric algorithm.
#[cfg(feature = "cli")]
fn keypair(alg: &str) -> (String, String) {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    use rand::rngs::OsRng;
    let lf = Default::default();
    match alg {
        "EdDSA" => {
            let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).unwrap().to_string(),
                key.verifying_key().to_public_key_pem(lf).unwrap(),
            )
        }
        "ES256" => {
            let key = p256::SecretKey::random(&mut OsRng);
            (
                key.to_pkcs8_pem(lf).unwrap().to_string(),
                key.public_key().to_public_key_pem(lf).unwrap(),
            )
        }
        _ => {
            let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
            (
                key.to_pkcs8_pem(lf).unwrap().to_string(),
                key.to_public_key().to_public_key_pem(lf).unwrap(),
            )
        }
    }
}

#[cfg(feature = "cli")]
async fn check_asymmetric_algorithm(alg: &str, jwt_alg: jsonwebtoken::Algorithm) {
    let (private, public) = keypair(alg);
    let app = sqlite_app(&[
        ("ALGORITHM", alg),
        ("SIGNING_KEY", &private),
        ("VERIFYING_KEY", &public),
    ])
    .await;
    let (refresh, access) = app.pair("alice").await;
    // tokens verify with the public key alone, with a third-party library
    let decoding = match alg {
        "EdDSA" => jsonwebtoken::DecodingKey::from_ed_pem(public.as_bytes()),
        "ES256" => jsonwebtoken::DecodingKey::from_ec_pem(public.as_bytes()),
        _ => jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes()),
    }
    .unwrap();
    for (t, kind) in [(&refresh, "refresh"), (&access, "access")] {
        assert_eq!(header_of(t), json!({"alg": alg, "typ": "JWT"}));
        let data = jsonwebtoken::decode::<Value>(
            t.as_str(),
            &decoding,
            &jsonwebtoken::Validation::new(jwt_alg),
        )
        .unwrap_or_else(|e| panic!("{alg} {kind} token does not verify: {e}"));
        assert_eq!(data.claims["token_type"], kind);
    }
    app.protected(&access).await.expect(200, &welcome("alice"));
    app.refresh(&refresh).await.expect_status(200);
    app.verify(&refresh).await.expect(200, &json!({}));

    let forge = app.forger();
    app.protected(&forge.access(|c| {
        c.insert("user_id".into(), "3".into());
    }))
    .await
    .expect(200, &welcome("carol"));
    // a key of the same kind that is not ours
    let (other_private, other_public) = keypair(alg);
    let foreign = forge.with_key(&other_private, Some(&other_public));
    app.protected(&foreign.access(|_| ()))
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    // algorithm confusion: HS256 keyed with our public key
    let confused = forge
        .with_algorithm(jsonwebtoken::Algorithm::HS256)
        .with_key(&public, None);
    let claims = forge.claims("access", "1");
    app.protected(&confused.sign(&claims))
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    app.verify(&confused.sign(&forge.claims("refresh", "1")))
        .await
        .expect(401, &token_error("Token is invalid"));
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn algorithm_eddsa_signs_with_the_private_key_and_verifies_with_the_public_one() {
    check_asymmetric_algorithm("EdDSA", jsonwebtoken::Algorithm::EdDSA).await;
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn algorithm_es256_signs_with_the_private_key_and_verifies_with_the_public_one() {
    check_asymmetric_algorithm("ES256", jsonwebtoken::Algorithm::ES256).await;
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn algorithm_rs256_signs_with_the_private_key_and_verifies_with_the_public_one() {
    check_asymmetric_algorithm("RS256", jsonwebtoken::Algorithm::RS256).await;
}

// ==========================================================================
// AUTH_HEADER_TYPES and AUTH_HEADER_NAME
// ==========================================================================

#[tokio::test]
async fn auth_header_types_accepts_each_scheme_and_challenges_with_the_first() {
    let app = sqlite_app(&[("AUTH_HEADER_TYPES", "JWT,Bearer")]).await;
    let (_, access) = app.pair("alice").await;
    let challenge = "JWT realm=\"api\"";
    for scheme in ["JWT", "Bearer"] {
        app.protected_with(Some(format!("{scheme} {access}").as_bytes()))
            .await
            .expect_challenged(200, challenge, Some(&welcome("alice")));
    }
    let not_provided = json!({"detail": "Authentication credentials were not provided."});
    app.protected_with(None)
        .await
        .expect_challenged(401, challenge, Some(&not_provided));
    app.protected_with(Some(format!("jwt {access}").as_bytes()))
        .await
        .expect_challenged(401, challenge, Some(&not_provided));
    app.protected_with(Some(b"JWT"))
        .await
        .expect_challenged(401, challenge, None);
    // token endpoints use the same challenge
    app.login("alice", "nope")
        .await
        .expect_challenged(401, challenge, Some(&no_active_account()));
    app.refresh("garbage").await.expect_challenged(
        401,
        challenge,
        Some(&token_error("Token is invalid")),
    );
}

#[tokio::test]
async fn auth_header_name_reads_the_configured_header_and_ignores_authorization() {
    let app = sqlite_app(&[("AUTH_HEADER_NAME", "HTTP_X_ACCESS_TOKEN")]).await;
    let (_, access) = app.pair("alice").await;
    let get = |headers: &[(&str, String)]| {
        let mut b = http::Request::builder().uri("/api/protected/");
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    app.send(get(&[("X-Access-Token", format!("Bearer {access}"))]))
        .await
        .expect(200, &welcome("alice"));
    app.send(get(&[("Authorization", format!("Bearer {access}"))]))
        .await
        .expect(
            401,
            &json!({"detail": "Authentication credentials were not provided."}),
        );
    app.send(get(&[
        ("Authorization", "Bearer garbage".into()),
        ("X-Access-Token", format!("Bearer {access}")),
    ]))
    .await
    .expect(200, &welcome("alice"));
}

// ==========================================================================
// USER_ID_FIELD / USER_ID_CLAIM, TOKEN_TYPE_CLAIM, JTI_CLAIM
// ==========================================================================

const BY_USERNAME: [(&str, &str); 2] = [("USER_ID_FIELD", "username"), ("USER_ID_CLAIM", "sub")];

#[tokio::test]
async fn user_id_field_and_claim_put_the_username_in_sub() {
    let app = sqlite_app(&BY_USERNAME).await;
    let (refresh, access) = app.pair("alice").await;
    for t in [&refresh, &access] {
        assert_eq!(claim_keys(t), ["token_type", "exp", "iat", "jti", "sub"]);
        assert_eq!(claims_of(t)["sub"], "alice");
    }
    app.protected(&access).await.expect(200, &welcome("alice"));
    let r = app.refresh(&refresh).await;
    r.expect_status(200);
    assert_eq!(claims_of(&r.str("access"))["sub"], "alice");
}

#[tokio::test]
async fn user_id_claim_sub_resolves_users_by_username() {
    let app = sqlite_app(&BY_USERNAME).await;
    let forge = app.forger();
    let with_sub = |sub: Value| {
        forge.access(|c| {
            c.insert("sub".into(), sub);
        })
    };
    app.protected(&with_sub(json!("carol")))
        .await
        .expect(200, &welcome("carol"));
    app.protected(&with_sub(json!("nobody"))).await.expect(
        401,
        &json!({"detail": "User not found", "code": "user_not_found"}),
    );
    app.protected(&with_sub(json!("bob"))).await.expect(
        401,
        &json!({"detail": "User is inactive", "code": "user_inactive"}),
    );
    // PyJWT requires sub to be a string
    app.protected(&with_sub(json!(1)))
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    app.refresh(&forge.refresh(|c| {
        c.insert("sub".into(), "bob".into());
    }))
    .await
    .expect(401, &no_active_account_for_token());
}

backend_tests!(
    user_id_field_username_tokens_can_be_blacklisted,
    |db| async move {
        let app = app(db, &BY_USERNAME).await;
        let (refresh, _) = app.pair("alice").await;
        app.blacklist(&refresh).await.expect(200, &json!({}));
        app.refresh(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        let never_issued = app.forger().refresh(|_| ());
        app.blacklist(&never_issued).await.expect(200, &json!({}));
        assert_eq!(app.store.token_counts().await.unwrap(), (2, 2));
    }
);

#[tokio::test]
async fn token_type_claim_renames_the_type_claim() {
    let app = sqlite_app(&[("TOKEN_TYPE_CLAIM", "typ")]).await;
    let (refresh, access) = app.pair("alice").await;
    assert_eq!(claim_keys(&access), ["typ", "exp", "iat", "jti", "user_id"]);
    assert_eq!(claims_of(&access)["typ"], "access");
    assert_eq!(claims_of(&refresh)["typ"], "refresh");
    app.protected(&access).await.expect(200, &welcome("alice"));
    app.protected(&refresh)
        .await
        .expect(401, &invalid_for_any_type("Token has wrong type"));
    let old_style = app.forger().access(|c| {
        c.remove("typ");
        c.insert("token_type".into(), "access".into());
    });
    app.protected(&old_style)
        .await
        .expect(401, &invalid_for_any_type("Token has no type"));
}

#[tokio::test]
async fn token_type_claim_none_disables_the_type_check_and_empty_is_refused() {
    // An empty value (a broken template) must not silently turn the check off.
    let e = simplejwt::Settings::from_pairs([("TOKEN_TYPE_CLAIM", "")]).unwrap_err();
    assert_eq!(e.setting, "TOKEN_TYPE_CLAIM");
    let app = sqlite_app(&[("TOKEN_TYPE_CLAIM", "None")]).await;
    let (refresh, access) = app.pair("alice").await;
    assert_eq!(claim_keys(&access), ["exp", "iat", "jti", "user_id"]);
    assert_eq!(claim_keys(&refresh), ["exp", "iat", "jti", "user_id"]);
    app.protected(&refresh).await.expect(200, &welcome("alice"));
}

backend_tests!(jti_claim_renames_the_token_id_claim, |db| async move {
    let app = app(db, &[("JTI_CLAIM", "token_id")]).await;
    let (refresh, access) = app.pair("alice").await;
    assert_eq!(
        claim_keys(&access),
        ["token_type", "exp", "iat", "token_id", "user_id"]
    );
    assert!(is_uuid4_hex(
        claims_of(&refresh)["token_id"].as_str().unwrap()
    ));
    app.protected(&access).await.expect(200, &welcome("alice"));
    app.protected(&app.forger().access(|c| {
        c.remove("token_id");
    }))
    .await
    .expect(401, &invalid_for_any_type("Token has no id"));
    app.blacklist(&refresh).await.expect(200, &json!({}));
    app.refresh(&refresh)
        .await
        .expect(401, &token_error("Token is blacklisted"));
});

// ==========================================================================
// CHECK_USER_IS_ACTIVE, CHECK_REVOKE_TOKEN, UPDATE_LAST_LOGIN
// ==========================================================================

#[tokio::test]
async fn check_user_is_active_off_accepts_an_inactive_users_tokens() {
    let app = sqlite_app(&[("CHECK_USER_IS_ACTIVE", "false")]).await;
    let forge = app.forger();
    let as_bob = |c: &mut Claims| {
        c.insert("user_id".into(), "2".into());
    };
    app.protected(&forge.access(as_bob))
        .await
        .expect(200, &welcome("bob"));
    let r = app.refresh(&forge.refresh(as_bob)).await;
    r.expect_status(200);
    app.protected(&r.str("access"))
        .await
        .expect(200, &welcome("bob"));
    // the login itself still refuses inactive accounts
    app.login("bob", "bob-Password-1")
        .await
        .expect(401, &no_active_account());
}

fn md5_upper(text: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

backend_tests!(
    check_revoke_token_embeds_the_password_hash_digest,
    |db| async move {
        let app = app(db, &[("CHECK_REVOKE_TOKEN", "true")]).await;
        let (refresh, access) = app.pair("alice").await;
        let stored = app
            .store
            .user_by_username("alice")
            .await
            .unwrap()
            .unwrap()
            .password;
        let digest = md5_upper(&stored);
        assert_eq!(digest.len(), 32);
        for t in [&refresh, &access] {
            assert_eq!(
                claim_keys(t),
                [
                    "token_type",
                    "exp",
                    "iat",
                    "jti",
                    "user_id",
                    "hash_password"
                ]
            );
            assert_eq!(claims_of(t)["hash_password"], json!(digest));
        }
        app.protected(&access).await.expect(200, &welcome("alice"));
    }
);

backend_tests!(
    check_revoke_token_refuses_tokens_issued_before_a_password_change,
    |db| async move {
        let app = app(db, &[("CHECK_REVOKE_TOKEN", "true")]).await;
        let (refresh, access) = app.pair("alice").await;
        let changed =
            json!({"detail": "The user's password has been changed.", "code": "password_changed"});
        let new_hash = cheap_hasher().hash("alice-New-Password-2").await.unwrap();
        assert!(app.store.set_password(1, &new_hash).await.unwrap());
        app.protected(&access).await.expect(401, &changed);
        // 5.5.1 does not check the digest on refresh (200, and the new access
        // token is refused in turn: a client loops); simplejwt's later fix,
        // followed here (issue 15 point 9), refuses the refresh.
        app.refresh(&refresh).await.expect(401, &changed);
        // a token without the claim is refused the same way
        app.protected(&app.forger().access(|_| ()))
            .await
            .expect(401, &changed);
        // a new login works
        app.login("alice", "alice-Password-1")
            .await
            .expect(401, &no_active_account());
        let r = app.login("alice", "alice-New-Password-2").await;
        r.expect_status(200);
        app.protected(&r.str("access"))
            .await
            .expect(200, &welcome("alice"));
    }
);

backend_tests!(
    update_last_login_off_leaves_last_login_unset,
    |db| async move {
        let app = app(db, &[]).await;
        app.pair("alice").await;
        let user = app.store.user_by_username("alice").await.unwrap().unwrap();
        assert_eq!(user.last_login, None);
    }
);

backend_tests!(
    update_last_login_on_records_the_login_time,
    |db| async move {
        let app = app(db, &[("UPDATE_LAST_LOGIN", "true")]).await;
        let before = epoch_now();
        app.pair("alice").await;
        let after = epoch_now();
        let alice = app.store.user_by_username("alice").await.unwrap().unwrap();
        let t = alice.last_login.expect("last_login set");
        assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
        // failed logins and other users are untouched
        app.login("carol", "wrong").await.expect_status(401);
        let carol = app.store.user_by_username("carol").await.unwrap().unwrap();
        assert_eq!(carol.last_login, None);
    }
);

// ==========================================================================
// TOKEN_CLAIMS, claims hook, TOKEN_MAX_BYTES
// ==========================================================================

#[tokio::test]
async fn token_claims_copy_user_fields_into_both_tokens() {
    let app = sqlite_app(&[("TOKEN_CLAIMS", "username,is_staff")]).await;
    let (refresh, access) = app.pair("alice").await;
    for t in [&refresh, &access] {
        assert_eq!(
            claim_keys(t),
            [
                "token_type",
                "exp",
                "iat",
                "jti",
                "user_id",
                "username",
                "is_staff"
            ]
        );
        assert_eq!(claims_of(t)["username"], "alice");
        assert_eq!(claims_of(t)["is_staff"], false);
    }
    let refreshed = claims_of(&app.refresh(&refresh).await.str("access"));
    assert_eq!(refreshed["username"], "alice");
    assert_eq!(refreshed["is_staff"], false);
}

#[tokio::test]
async fn claims_hook_adds_custom_claims_at_login() {
    let app = app_with(TestDb::sqlite(), &[], |b| {
        b.claims_hook(|user: &User, claims: &mut Claims| {
            claims.insert("username".into(), user.username.clone().into());
            claims.insert("email".into(), user.email.clone().into());
        })
    })
    .await;
    let (refresh, access) = app.pair("carol").await;
    for t in [&refresh, &access] {
        let c = claims_of(t);
        assert_eq!(c["username"], "carol");
        assert_eq!(c["email"], "carol@example.test");
    }
    app.protected(&access).await.expect(200, &welcome("carol"));
    let refreshed = claims_of(&app.refresh(&refresh).await.str("access"));
    assert_eq!(refreshed["username"], "carol");
}

/// A token of exactly `len` bytes, padded with a custom claim.
fn token_of_length(forge: &Forger, len: usize) -> String {
    for pad in 0..len {
        let t = forge.access(|c| {
            c.insert("pad".into(), "x".repeat(pad).into());
        });
        if t.len() == len {
            return t;
        }
        assert!(t.len() < len, "no token of exactly {len} bytes");
    }
    unreachable!()
}

#[tokio::test]
async fn token_max_bytes_refuses_longer_tokens_before_decoding() {
    let app = sqlite_app(&[("TOKEN_MAX_BYTES", "512")]).await;
    let forge = app.forger();
    let at_limit = token_of_length(&forge, 512);
    let over_limit = token_of_length(&forge, 513);
    app.protected(&at_limit)
        .await
        .expect(200, &welcome("alice"));
    app.verify(&at_limit).await.expect(200, &json!({}));
    app.protected(&over_limit)
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    app.verify(&over_limit)
        .await
        .expect(401, &token_error("Token is invalid"));
}

// ==========================================================================
// invalid settings name the setting
// ==========================================================================

#[test]
fn unknown_algorithm_is_refused_naming_algorithm() {
    let e =
        Settings::from_pairs([("SIGNING_KEY", SIGNING_KEY), ("ALGORITHM", "HS999")]).unwrap_err();
    assert_eq!(e.setting, "ALGORITHM");
    assert!(
        e.message.contains("Unrecognized algorithm type 'HS999'"),
        "{e}"
    );
    assert!(e.to_string().contains("ALGORITHM"), "{e}");
}

#[test]
fn malformed_values_are_refused_naming_the_setting() {
    for (name, value) in [
        ("ACCESS_TOKEN_LIFETIME", "soon"),
        ("REFRESH_TOKEN_LIFETIME", "0s"),
        ("LEEWAY", "-5s"),
        ("ROTATE_REFRESH_TOKENS", "maybe"),
        ("USER_ID_FIELD", "email_address"),
        ("TOKEN_CLAIMS", "password"),
        ("TOKEN_MAX_BYTES", "10"),
        ("AUTH_HEADER_TYPES", ""),
        ("NOT_A_SETTING", "1"),
        ("SECRET_KEY", "x"),
    ] {
        let e =
            Settings::from_pairs([("SIGNING_KEY", SIGNING_KEY), (name, value)]).expect_err(name);
        assert_eq!(e.setting, name, "{e}");
    }
}

#[test]
fn short_hmac_keys_are_refused_naming_signing_key() {
    for (alg, len) in [("HS256", 31), ("HS384", 47), ("HS512", 63)] {
        let key = "k".repeat(len);
        let s = Settings::from_pairs([("SIGNING_KEY", key.as_str()), ("ALGORITHM", alg)]).unwrap();
        let e = Keys::from_settings(&s).unwrap_err();
        assert_eq!(e.setting, "SIGNING_KEY", "{alg}");
        assert!(e.message.contains(&(len + 1).to_string()), "{e}");
        let ok = "k".repeat(len + 1);
        let s = Settings::from_pairs([("SIGNING_KEY", ok.as_str()), ("ALGORITHM", alg)]).unwrap();
        assert!(
            Keys::from_settings(&s).is_ok(),
            "{alg} with {} bytes",
            len + 1
        );
    }
}

#[test]
fn asymmetric_algorithm_without_keys_is_refused_naming_the_key() {
    let s = Settings::from_pairs([("ALGORITHM", "RS256"), ("SIGNING_KEY", "not a pem")]).unwrap();
    assert_eq!(
        Keys::from_settings(&s).unwrap_err().setting,
        "VERIFYING_KEY"
    );
    let s = Settings::from_pairs([
        ("ALGORITHM", "RS256"),
        ("SIGNING_KEY", "not a pem"),
        ("VERIFYING_KEY", "not a pem"),
    ])
    .unwrap();
    assert_eq!(Keys::from_settings(&s).unwrap_err().setting, "SIGNING_KEY");
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn mismatched_key_pair_is_refused_naming_verifying_key() {
    let (private, _) = keypair("RS256");
    let (_, other_public) = keypair("RS256");
    let s = Settings::from_pairs([
        ("ALGORITHM", "RS256"),
        ("SIGNING_KEY", private.as_str()),
        ("VERIFYING_KEY", other_public.as_str()),
    ])
    .unwrap();
    let e = Keys::from_settings(&s).unwrap_err();
    assert_eq!(e.setting, "VERIFYING_KEY", "{e}");
    // the service refuses to start with the same error
    let db = TestDb::sqlite();
    let store = simplejwt::store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let e = AuthService::new(s, store, cheap_hasher()).unwrap_err();
    assert_eq!(e.setting, "VERIFYING_KEY", "{e}");
    // a key of another family for the algorithm is refused too
    let (ed_private, ed_public) = keypair("EdDSA");
    let s = Settings::from_pairs([
        ("ALGORITHM", "RS256"),
        ("SIGNING_KEY", ed_private.as_str()),
        ("VERIFYING_KEY", ed_public.as_str()),
    ])
    .unwrap();
    assert!(Keys::from_settings(&s).is_err());
}

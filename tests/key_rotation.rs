//! Key rotation with `KEYS_DIR` (issue 17, point 5): two instances (two
//! services over one database and one key directory, each reloading as on
//! SIGHUP) go through init → add → promote → retire while tokens keep
//! working; then the attacks: a token signed with a retired key, a `kid` that
//! is not ours, and the JWKS holding no private part.

mod common;

use std::path::Path;

use common::*;
use jsonwebtoken::EncodingKey;
use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use serde_json::{json, Value};
use simplejwt::http::{app as make_app, AppState};
use simplejwt::keys::dir::{DirError, KeyDir};
use simplejwt::keys::thumbprint_kid;
use simplejwt::service::AuthService;
use simplejwt::settings::Settings;
use simplejwt::store::Database;

/// One instance: a service and its router.
struct Instance {
    service: AuthService,
    router: axum::Router,
}

impl Instance {
    fn new(store: &std::sync::Arc<dyn Database>, pairs: &[(&str, &str)]) -> Instance {
        let settings = Settings::from_pairs(pairs.iter().copied()).expect("settings");
        let service = AuthService::new(settings, store.clone(), cheap_hasher()).expect("service");
        let router = make_app(AppState::new(service.clone()));
        Instance { service, router }
    }

    /// What SIGHUP does.
    fn reload(&self) {
        self.service.reload_keys().expect("reload");
    }

    async fn access(&self) -> String {
        let r = send(
            &self.router,
            post(
                "/api/token/",
                Some("application/json"),
                json!({"username": "alice", "password": password_of("alice")}).to_string(),
            ),
        )
        .await;
        r.expect_status(200);
        r.str("access")
    }

    async fn protected(&self, token: &str) -> u16 {
        let auth = format!("Bearer {token}");
        send(&self.router, protected_request(Some(auth.as_bytes())))
            .await
            .status
            .as_u16()
    }

    async fn jwks(&self) -> Value {
        let r = send(&self.router, bare("GET", "/.well-known/jwks.json")).await;
        r.expect_status(200);
        assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
        r.json()
    }
}

/// A new ES256 pair as PEM (private PKCS#8, public SPKI) and its kid.
fn es256_pair() -> (String, String, String) {
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let private = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = key.public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let kid = thumbprint_kid(jsonwebtoken::Algorithm::ES256, &private, &public).unwrap();
    (private, public, kid)
}

/// A token for alice signed with `private` under `header`.
fn forge(header: &Value, private: &str) -> String {
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
    let sig =
        jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::ES256).unwrap();
    format!("{input}.{sig}")
}

fn es256_settings(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("ALGORITHM", "ES256".into()),
        ("KEYS_DIR", dir.display().to_string()),
    ]
}

#[tokio::test]
async fn a_rotation_across_two_instances_logs_nobody_out_and_a_retired_key_is_refused() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path().join("keys"));

    // The key in use before (SIGNING_KEY) is imported: its tokens keep their
    // header (no kid) and keep verifying.
    let (old_private, old_public, old_kid) = es256_pair();
    let legacy = Instance::new(
        &store,
        &[
            ("ALGORITHM", "ES256"),
            ("SIGNING_KEY", &old_private),
            ("VERIFYING_KEY", &old_public),
        ],
    );
    let before = legacy.access().await;
    dir.import(&old_kid, &old_private, Some(&old_public))
        .unwrap();
    let pairs = es256_settings(dir.path());
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = Instance::new(&store, &pairs);
    let b = Instance::new(&store, &pairs);
    let t0 = a.access().await;
    assert_eq!(header_of(&t0), json!({"alg": "ES256", "typ": "JWT"}));
    for instance in [&a, &b] {
        assert_eq!(instance.protected(&before).await, 200);
        assert_eq!(instance.protected(&t0).await, 200);
    }

    // 1. add: after a reload both publish and accept it; neither signs with it.
    let (new_private, new_public, new_kid) = es256_pair();
    dir.add(&new_kid, &new_private, Some(&new_public)).unwrap();
    a.reload();
    b.reload();
    let kids = |doc: &Value| -> Vec<String> {
        let mut kids: Vec<String> = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        kids.sort();
        kids
    };
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(kids(&b.jwks().await), both);
    assert_eq!(header_of(&a.access().await).get("kid"), None);

    // 2. promote: A reloads first and signs with the new key; B, not yet
    // reloaded, already verifies it (that is what step 1 was for).
    dir.promote(&new_kid, epoch_now()).unwrap();
    a.reload();
    let t1 = a.access().await;
    assert_eq!(
        header_of(&t1),
        json!({"alg": "ES256", "kid": new_kid, "typ": "JWT"})
    );
    assert_eq!(b.protected(&t1).await, 200);
    b.reload();
    assert_eq!(header_of(&b.access().await)["kid"], json!(new_kid));
    for instance in [&a, &b] {
        assert_eq!(instance.protected(&t1).await, 200);
        assert_eq!(instance.protected(&t0).await, 200, "old key until retired");
        assert_eq!(instance.protected(&before).await, 200);
    }

    // 3. retire: refused while the old key's tokens can be valid …
    let longest = a.service.settings().longest_token_validity().as_secs() as i64;
    let now = epoch_now();
    assert!(matches!(
        dir.retire(&old_kid, now, longest, false),
        Err(DirError::StillValid { .. })
    ));
    assert!(matches!(
        dir.retire(&new_kid, now, longest, true),
        Err(DirError::IsCurrent(_))
    ));
    // … and done once the longest lifetime has passed.
    dir.retire(&old_kid, now + longest + 1, longest, false)
        .unwrap();
    a.reload();
    b.reload();
    for instance in [&a, &b] {
        assert_eq!(instance.protected(&t1).await, 200);
        // The attack: tokens signed with the retired key, with or without its kid.
        assert_eq!(instance.protected(&t0).await, 401);
        assert_eq!(instance.protected(&before).await, 401);
        let named = forge(
            &json!({"alg": "ES256", "kid": old_kid, "typ": "JWT"}),
            &old_private,
        );
        assert_eq!(instance.protected(&named).await, 401);
        assert_eq!(kids(&instance.jwks().await), vec![new_kid.clone()]);
    }
}

#[tokio::test]
async fn a_kid_that_is_not_ours_is_refused_even_with_a_valid_signature() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path().join("keys"));
    let (private, public, kid) = es256_pair();
    dir.add(&kid, &private, Some(&public)).unwrap();
    let pairs = es256_settings(dir.path());
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = Instance::new(&store, &pairs);
    // The first key of a fresh ring signs, and names itself.
    let token = a.access().await;
    assert_eq!(header_of(&token)["kid"], json!(kid));
    assert_eq!(a.protected(&token).await, 200);
    let ours = |kid: Value| forge(&json!({"alg": "ES256", "kid": kid, "typ": "JWT"}), &private);
    assert_eq!(a.protected(&ours(json!(kid))).await, 200);
    for foreign in [
        json!("not-ours"),
        json!(""),
        json!(7),
        json!(null),
        json!([kid]),
    ] {
        assert_eq!(a.protected(&ours(foreign.clone())).await, 401, "{foreign}");
    }
    // A key of our own directory that is not in the ring (a stranger's key
    // named like ours) does not verify.
    let (stranger, _, _) = es256_pair();
    let forged = forge(
        &json!({"alg": "ES256", "kid": kid, "typ": "JWT"}),
        &stranger,
    );
    assert_eq!(a.protected(&forged).await, 401);
}

#[tokio::test]
async fn the_jwks_publishes_every_public_key_and_no_private_part() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path().join("keys"));
    let mut privates = Vec::new();
    for _ in 0..3 {
        let (private, public, kid) = es256_pair();
        dir.add(&kid, &private, Some(&public)).unwrap();
        privates.push(private);
    }
    let pairs = es256_settings(dir.path());
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = Instance::new(&store, &pairs);
    let doc = a.jwks().await;
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let text = doc.to_string();
    for key in keys {
        let fields: Vec<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for private_field in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(!fields.contains(&private_field), "{fields:?}");
        }
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], "ES256");
    }
    for private in &privates {
        let body: String = private
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(!text.contains(&body[..40]));
    }
}

#[tokio::test]
async fn hmac_keys_rotate_too_and_are_never_published() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path().join("keys"));
    dir.import("hs-old", SIGNING_KEY, None).unwrap();
    let path = dir.path().display().to_string();
    let a = Instance::new(&store, &[("KEYS_DIR", &path)]);
    let t0 = a.access().await;
    // Byte-identical to a SIGNING_KEY server's token header.
    assert_eq!(
        t0.split('.').next(),
        Some("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9")
    );
    let secret = "n".repeat(20) + "ew-hmac-secret-0123456789abcdef";
    dir.add("hs-new", &secret, None).unwrap();
    dir.promote("hs-new", epoch_now()).unwrap();
    a.reload();
    let t1 = a.access().await;
    assert_eq!(header_of(&t1)["kid"], "hs-new");
    assert_eq!(a.protected(&t0).await, 200);
    assert_eq!(a.protected(&t1).await, 200);
    assert_eq!(a.jwks().await, json!({"keys": []}));
    let text = a.jwks().await.to_string();
    assert!(!text.contains(&b64(secret.as_bytes())) && !text.contains(&secret));

    // A secret replaced under its kid (HMAC kids are names, not
    // thumbprints) is a change of the ring: reported, not passed over.
    assert!(!a.service.reload_keys().unwrap(), "nothing changed yet");
    let replaced = "r".repeat(20) + "eplaced-hmac-secret-0123456789ab";
    std::fs::write(dir.path().join("hs-new.key"), &replaced).unwrap();
    assert!(
        a.service.reload_keys().unwrap(),
        "a replaced secret under the same kid is a changed ring"
    );
    assert_eq!(
        a.protected(&t1).await,
        401,
        "signed with the replaced secret"
    );
}

#[tokio::test]
async fn a_broken_directory_is_refused_at_start_and_a_broken_reload_keeps_the_keys_in_use() {
    let db = TestDb::sqlite();
    let store = seeded_store(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = KeyDir::new(tmp.path().join("keys"));
    let path = dir.path().display().to_string();
    let refused = |pairs: &[(&str, &str)]| {
        let settings = Settings::from_pairs(pairs.iter().copied()).unwrap();
        AuthService::new(settings, store.clone(), cheap_hasher()).unwrap_err()
    };
    // No directory yet.
    assert_eq!(refused(&[("KEYS_DIR", &path)]).setting, "KEYS_DIR");
    dir.add("hs-one", SIGNING_KEY, None).unwrap();
    // Two sources of keys.
    let e = refused(&[("KEYS_DIR", &path), ("SIGNING_KEY", SIGNING_KEY)]);
    assert_eq!(e.setting, "KEYS_DIR");
    // A key of another algorithm family in the ring.
    let e = refused(&[("KEYS_DIR", &path), ("ALGORITHM", "ES256")]);
    assert!(e.setting.starts_with("KEYS_DIR"), "{e}");

    let a = Instance::new(&store, &[("KEYS_DIR", &path)]);
    let token = a.access().await;
    std::fs::write(dir.path().join("current"), "hs-missing").unwrap();
    assert!(a.service.reload_keys().is_err());
    assert_eq!(a.protected(&token).await, 200);
    assert_eq!(header_of(&a.access().await)["kid"], "hs-one");
    // A short HMAC secret in the ring is refused like a short SIGNING_KEY.
    std::fs::write(dir.path().join("current"), "hs-one").unwrap();
    dir.add("hs-short", "short", None).unwrap();
    let e = a.service.reload_keys().unwrap_err();
    assert!(e.message.contains("bytes"), "{e}");
}

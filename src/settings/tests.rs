//! Settings: defaults, parsing by name, and every refused combination.

use std::time::Duration;

use super::*;

#[test]
fn defaults_match_simplejwt() {
    let s = Settings::default();
    assert_eq!(s.access_token_lifetime(), Duration::from_secs(300));
    assert_eq!(s.refresh_token_lifetime(), Duration::from_secs(86400));
    assert!(!s.rotate_refresh_tokens() && !s.blacklist_after_rotation() && !s.update_last_login());
    assert_eq!(s.algorithm(), Algorithm::HS256);
    assert_eq!(s.leeway(), Duration::ZERO);
    assert_eq!(s.auth_header_types(), ["Bearer".to_string()]);
    assert_eq!(s.auth_header_name(), "authorization");
    assert_eq!(s.user_id_claim(), "user_id");
    assert_eq!(s.token_type_claim(), Some("token_type"));
    assert_eq!(s.jti_claim(), Some("jti"));
    assert!(s.check_user_is_active() && !s.check_revoke_token());
    assert_eq!(s.revoke_token_claim(), "hash_password");
    assert_eq!(s.www_authenticate(), "Bearer realm=\"api\"");
    assert!(s.warnings().is_empty());
}

#[test]
fn pairs_override_defaults_and_errors_name_the_setting() {
    let s = Settings::from_pairs([
        ("ACCESS_TOKEN_LIFETIME", "2s"),
        ("ROTATE_REFRESH_TOKENS", "true"),
        ("ALGORITHM", "HS512"),
        ("AUDIENCE", "a, b"),
        ("AUTH_HEADER_TYPES", "JWT,Bearer"),
        ("AUTH_HEADER_NAME", "HTTP_X_ACCESS_TOKEN"),
        ("TOKEN_TYPE_CLAIM", "None"),
    ])
    .unwrap();
    assert_eq!(s.access_token_lifetime(), Duration::from_secs(2));
    assert!(s.rotate_refresh_tokens());
    assert_eq!(s.algorithm(), Algorithm::HS512);
    assert_eq!(s.audience(), Some(&["a".to_string(), "b".to_string()][..]));
    assert_eq!(s.www_authenticate(), "JWT realm=\"api\"");
    assert_eq!(s.auth_header_name(), "x-access-token");
    assert_eq!(s.token_type_claim(), None);
    assert_eq!(
        s.warnings().len(),
        1,
        "a disabled type check is warned about"
    );

    let e = Settings::from_pairs([("ALGORITHM", "HS999")]).unwrap_err();
    assert_eq!(e.setting, "ALGORITHM");
    assert!(e.message.contains("Unrecognized algorithm type 'HS999'"));
    let e = Settings::from_pairs([("LEEWAY", "soon")]).unwrap_err();
    assert_eq!(e.setting, "LEEWAY");
    let e = Settings::from_pairs([("ROTATE_REFRESH_TOKENS", "maybe")]).unwrap_err();
    assert_eq!(e.setting, "ROTATE_REFRESH_TOKENS");
    let e = Settings::from_pairs([("NOT_A_SETTING", "1")]).unwrap_err();
    assert_eq!(e.setting, "NOT_A_SETTING");
    let e = Settings::from_pairs([("ACCESS_TOKEN_LIFETIM", "1")]).unwrap_err();
    assert!(
        e.message.contains("did you mean ACCESS_TOKEN_LIFETIME"),
        "{e}"
    );
    let e = Settings::from_pairs([("SECRET_KEY", "x")]).unwrap_err();
    assert_eq!(e.setting, "SECRET_KEY");
    assert!(Settings::from_pairs([("JWK_URL", "https://x")]).is_ok());
}

/// Each inconsistent combination is refused by the builder, naming the settings.
#[test]
fn the_builder_refuses_every_inconsistent_combination() {
    let refused = |pairs: &[(&str, &str)], setting: &str, mentions: &str| {
        let e = Settings::from_pairs(pairs.iter().copied()).unwrap_err();
        assert_eq!(e.setting, setting, "{pairs:?}: {e}");
        assert!(e.to_string().contains(mentions), "{pairs:?}: {e}");
    };
    // Rotation with a blacklist needs token ids.
    refused(
        &[("JTI_CLAIM", "None"), ("BLACKLIST_AFTER_ROTATION", "true")],
        "JTI_CLAIM",
        "BLACKLIST_AFTER_ROTATION",
    );
    // Empty values are refused; only an explicit None turns a claim off.
    refused(&[("TOKEN_TYPE_CLAIM", "")], "TOKEN_TYPE_CLAIM", "None");
    refused(&[("JTI_CLAIM", " ")], "JTI_CLAIM", "None");
    refused(
        &[("AUTH_HEADER_TYPES", "")],
        "AUTH_HEADER_TYPES",
        "at least one",
    );
    refused(
        &[("AUTH_HEADER_TYPES", " , ")],
        "AUTH_HEADER_TYPES",
        "at least one",
    );
    refused(&[("SIGNING_KEY", "")], "SIGNING_KEY", "empty");
    refused(&[("USER_ID_CLAIM", "")], "USER_ID_CLAIM", "empty");
    // Collisions among claim settings, TOKEN_CLAIMS fields and registered claims.
    refused(
        &[
            ("USER_ID_CLAIM", "first_name"),
            ("TOKEN_CLAIMS", "first_name"),
        ],
        "TOKEN_CLAIMS",
        "USER_ID_CLAIM",
    );
    refused(
        &[
            ("TOKEN_TYPE_CLAIM", "username"),
            ("TOKEN_CLAIMS", "username"),
        ],
        "TOKEN_CLAIMS",
        "TOKEN_TYPE_CLAIM",
    );
    refused(
        &[("SLIDING_TOKEN_REFRESH_EXP_CLAIM", "exp")],
        "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
        "registered",
    );
    refused(&[("USER_ID_CLAIM", "iat")], "USER_ID_CLAIM", "registered");
    refused(&[("JTI_CLAIM", "aud")], "JTI_CLAIM", "registered");
    refused(
        &[("USER_ID_CLAIM", "token_type")],
        "TOKEN_TYPE_CLAIM",
        "USER_ID_CLAIM",
    );
    refused(
        &[("REVOKE_TOKEN_CLAIM", "jti")],
        "JTI_CLAIM",
        "REVOKE_TOKEN_CLAIM",
    );
    refused(&[("TOKEN_CLAIMS", "email,email")], "TOKEN_CLAIMS", "twice");
    // Absurd durations and sizes.
    refused(
        &[("ACCESS_TOKEN_LIFETIME", "1e19")],
        "ACCESS_TOKEN_LIFETIME",
        "100 years",
    );
    refused(
        &[("REFRESH_TOKEN_LIFETIME", "0")],
        "REFRESH_TOKEN_LIFETIME",
        "longer than 0s",
    );
    refused(&[("LEEWAY", "1e19")], "LEEWAY", "100 years");
    refused(&[("TOKEN_MAX_BYTES", "10")], "TOKEN_MAX_BYTES", "256");

    // The same rules hold for typed builder calls.
    let e = Settings::builder()
        .jti_claim(None)
        .blacklist_after_rotation(true)
        .build()
        .unwrap_err();
    assert_eq!(e.setting, "JTI_CLAIM");
    // A custom USER_ID_CLAIM like `sub` is fine.
    assert!(Settings::from_pairs([("USER_ID_CLAIM", "sub")]).is_ok());
}

#[test]
fn secrets_are_masked() {
    let s = Settings::from_pairs([("SIGNING_KEY", "super-secret-value")]).unwrap();
    assert!(!format!("{s:?}").contains("super-secret-value"));
    assert!(!s.to_string().contains("super-secret-value"));
    assert!(s
        .describe()
        .iter()
        .all(|(_, v)| !v.contains("super-secret-value")));
    assert_eq!(s.signing_key().unwrap().expose(), "super-secret-value");
}

#[test]
fn every_default_is_shown_as_declared() {
    let s = Settings::default();
    for ((name, shown), declared) in s.describe().into_iter().zip(Settings::DECLARED) {
        assert_eq!(name, declared.name);
        let reparsed = Settings::builder().set(name, &shown);
        assert!(reparsed.is_ok(), "{name}: {shown:?} does not parse back");
    }
}

#[test]
fn the_hardened_preset_is_valid_and_explicit_settings_win() {
    for d in Settings::DECLARED {
        if let Some(h) = d.hardened {
            assert!(
                Settings::builder().set(d.name, h).is_ok(),
                "{}: {h}",
                d.name
            );
        }
    }
    let hardened = Settings::from_pairs([("PRESET", "hardened")]).unwrap();
    assert_eq!(hardened.preset(), Preset::Hardened);
    // Order does not matter: the preset is laid down first.
    let s =
        Settings::from_pairs([("ACCESS_TOKEN_LIFETIME", "1m"), ("PRESET", "hardened")]).unwrap();
    assert_eq!(s.access_token_lifetime(), Duration::from_secs(60));
    assert!(Settings::from_pairs([("PRESET", "paranoid")]).is_err());
}

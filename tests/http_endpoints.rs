//! The HTTP contract of every endpoint under default settings, through the
//! router (`oneshot`, no socket): status codes, exact bodies and key order,
//! the `WWW-Authenticate` rule, DRF's body parsing and field errors, routing,
//! and the token rules of obtain / refresh / verify / blacklist / protected.
//! The conformance suite (`shared/conformance/tests`) is the catalogue; tests
//! that touch the token tables run on SQLite and (when configured) PostgreSQL.

#[macro_use]
mod common;

use common::*;
use serde_json::{json, Value};

async fn default_app() -> TestApp {
    app(TestDb::sqlite(), &[]).await
}

const REQUIRED: &str = "This field is required.";

fn required(fields: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    for f in fields {
        map.insert((*f).into(), json!([REQUIRED]));
    }
    Value::Object(map)
}

// ==========================================================================
// obtain: POST /api/token/
// ==========================================================================

#[tokio::test]
async fn obtain_answers_refresh_then_access_as_plain_json() {
    let app = default_app().await;
    let r = app.login("alice", "alice-Password-1").await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["refresh", "access"]);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.json().as_object().unwrap().values().all(Value::is_string));
}

#[tokio::test]
async fn obtain_tokens_are_compact_jws_with_the_pyjwt_hs256_header() {
    let app = default_app().await;
    let (refresh, access) = app.pair("alice").await;
    for t in [&refresh, &access] {
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')));
        assert_eq!(parts[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    }
}

#[tokio::test]
async fn obtain_claims_are_exactly_the_standard_set_in_simplejwt_order() {
    let app = default_app().await;
    let (refresh, access) = app.pair("alice").await;
    let keys = |t: &str| claims_of(t).keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&refresh),
        ["token_type", "exp", "iat", "jti", "user_id"]
    );
    assert_eq!(
        keys(&access),
        ["token_type", "exp", "iat", "jti", "user_id"]
    );
    assert_eq!(claims_of(&refresh)["token_type"], "refresh");
    assert_eq!(claims_of(&access)["token_type"], "access");
}

#[tokio::test]
async fn obtain_user_id_claim_is_the_primary_key_as_a_string() {
    let app = default_app().await;
    let (refresh, access) = app.pair("alice").await;
    assert_eq!(claims_of(&refresh)["user_id"], json!("1"));
    assert_eq!(claims_of(&access)["user_id"], json!("1"));
    let (_, carol) = app.pair("carol").await;
    assert_eq!(claims_of(&carol)["user_id"], json!("3"));
}

#[tokio::test]
async fn obtain_jti_is_uuid4_hex_and_unique_per_token() {
    let app = default_app().await;
    let (r1, a1) = app.pair("alice").await;
    let (r2, a2) = app.pair("alice").await;
    let jtis: Vec<String> = [&r1, &a1, &r2, &a2]
        .iter()
        .map(|t| claims_of(t)["jti"].as_str().unwrap().to_owned())
        .collect();
    for j in &jtis {
        assert!(is_uuid4_hex(j), "{j}");
    }
    let unique: std::collections::HashSet<_> = jtis.iter().collect();
    assert_eq!(unique.len(), 4);
}

#[tokio::test]
async fn obtain_lifetimes_are_five_minutes_and_one_day_from_the_login() {
    let app = default_app().await;
    let before = epoch_now();
    let (refresh, access) = app.pair("alice").await;
    let after = epoch_now();
    let (r, a) = (claims_of(&refresh), claims_of(&access));
    let int = |v: &Value| v.as_i64().expect("integer epoch seconds");
    assert!(before <= int(&r["iat"]) && int(&r["iat"]) <= after);
    assert_eq!(int(&r["exp"]) - int(&r["iat"]), 86400);
    assert_eq!(int(&a["exp"]), int(&r["iat"]) + 300);
    assert!(int(&a["exp"]) - int(&a["iat"]) <= 300 && int(&a["exp"]) - int(&a["iat"]) >= 299);
}

#[tokio::test]
async fn obtain_wrong_password_is_401_no_active_account_without_code() {
    let app = default_app().await;
    app.login("alice", "wrong-password")
        .await
        .expect(401, &no_active_account());
}

#[tokio::test]
async fn obtain_unknown_user_is_401_no_active_account() {
    let app = default_app().await;
    app.login("mallory", "whatever")
        .await
        .expect(401, &no_active_account());
}

#[tokio::test]
async fn obtain_inactive_user_with_right_password_is_401_no_active_account() {
    let app = default_app().await;
    app.login("bob", "bob-Password-1")
        .await
        .expect(401, &no_active_account());
}

#[tokio::test]
async fn obtain_username_and_password_are_case_sensitive() {
    let app = default_app().await;
    app.login("ALICE", "alice-Password-1")
        .await
        .expect(401, &no_active_account());
    app.login("alice", "ALICE-PASSWORD-1")
        .await
        .expect(401, &no_active_account());
}

#[tokio::test]
async fn obtain_trims_whitespace_around_username_and_password() {
    let app = default_app().await;
    app.login("  alice ", " alice-Password-1  ")
        .await
        .expect_status(200);
}

#[tokio::test]
async fn obtain_numeric_username_is_coerced_to_a_string_not_rejected() {
    let app = default_app().await;
    app.post_json("/api/token/", &json!({"username": 12345, "password": "x"}))
        .await
        .expect(401, &no_active_account());
}

#[tokio::test]
async fn obtain_ignores_unknown_fields() {
    let app = default_app().await;
    let body = json!({"username": "alice", "password": "alice-Password-1", "remember": true});
    app.post_json("/api/token/", &body).await.expect_status(200);
}

#[tokio::test]
async fn obtain_ignores_any_authorization_header() {
    let app = default_app().await;
    let req = http::Request::builder()
        .method("POST")
        .uri("/api/token/")
        .header("content-type", "application/json")
        .header("authorization", "Bearer not-a-token")
        .body(axum::body::Body::from(
            r#"{"username":"alice","password":"alice-Password-1"}"#,
        ))
        .unwrap();
    app.send(req).await.expect_status(200);
}

// ---- DRF field errors ----------------------------------------------------

#[tokio::test]
async fn obtain_empty_object_is_400_both_fields_required_in_field_order() {
    let app = default_app().await;
    let r = app.post_json("/api/token/", &json!({})).await;
    r.expect(400, &required(&["username", "password"]));
    assert_eq!(r.keys(), ["username", "password"]);
}

#[tokio::test]
async fn obtain_missing_single_field_is_400_for_that_field() {
    let app = default_app().await;
    app.post_json("/api/token/", &json!({"username": "alice"}))
        .await
        .expect(400, &required(&["password"]));
    app.post_json("/api/token/", &json!({"password": "x"}))
        .await
        .expect(400, &required(&["username"]));
}

#[tokio::test]
async fn obtain_blank_or_whitespace_fields_are_400_may_not_be_blank() {
    let app = default_app().await;
    app.post_json("/api/token/", &json!({"username": "", "password": "x"}))
        .await
        .expect(400, &json!({"username": ["This field may not be blank."]}));
    app.post_json(
        "/api/token/",
        &json!({"username": "alice", "password": "   "}),
    )
    .await
    .expect(400, &json!({"password": ["This field may not be blank."]}));
    let r = app
        .post_json("/api/token/", &json!({"password": " ", "username": "\t"}))
        .await;
    r.expect(
        400,
        &json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]}),
    );
    assert_eq!(r.keys(), ["username", "password"]);
}

#[tokio::test]
async fn obtain_null_fields_are_400_may_not_be_null() {
    let app = default_app().await;
    app.post_json("/api/token/", &json!({"username": null, "password": null}))
        .await
        .expect(
            400,
            &json!({"username": ["This field may not be null."], "password": ["This field may not be null."]}),
        );
}

#[tokio::test]
async fn obtain_list_object_and_boolean_fields_are_400_not_a_valid_string() {
    let app = default_app().await;
    app.post_json(
        "/api/token/",
        &json!({"username": ["alice"], "password": {"p": 1}}),
    )
    .await
    .expect(
        400,
        &json!({"username": ["Not a valid string."], "password": ["Not a valid string."]}),
    );
    app.post_json(
        "/api/token/",
        &json!({"username": "alice", "password": true}),
    )
    .await
    .expect(400, &json!({"password": ["Not a valid string."]}));
}

#[tokio::test]
async fn obtain_null_character_is_400_not_allowed() {
    let app = default_app().await;
    app.post_json(
        "/api/token/",
        &json!({"username": "al\u{0}ice", "password": "x"}),
    )
    .await
    .expect(
        400,
        &json!({"username": ["Null characters are not allowed."]}),
    );
}

// ---- body shapes -----------------------------------------------------------

#[tokio::test]
async fn obtain_non_object_json_bodies_are_400_expected_a_dictionary() {
    let app = default_app().await;
    for (body, kind) in [
        ("[]", "list"),
        ("\"alice\"", "str"),
        ("123", "int"),
        ("[1,2]", "list"),
    ] {
        app.post_raw("/api/token/", Some("application/json"), body)
            .await
            .expect(
                400,
                &json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {kind}.")]}),
            );
    }
}

#[tokio::test]
async fn obtain_json_null_body_is_400_no_data_provided() {
    let app = default_app().await;
    app.post_raw("/api/token/", Some("application/json"), "null")
        .await
        .expect(400, &json!({"non_field_errors": ["No data provided"]}));
}

#[tokio::test]
async fn obtain_malformed_json_is_400_with_pythons_parse_error() {
    let app = default_app().await;
    app.post_raw("/api/token/", Some("application/json"), "not json")
        .await
        .expect(
            400,
            &json!({"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"}),
        );
    app.post_raw("/api/token/", Some("application/json"), "{bad")
        .await
        .expect(
            400,
            &json!({"detail": "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}),
        );
    let r = app
        .post_raw(
            "/api/token/",
            Some("application/json"),
            r#"{"username": "alice","#,
        )
        .await;
    r.expect_status(400);
    assert_eq!(r.keys(), ["detail"]);
    assert!(
        r.str("detail").starts_with("JSON parse error - "),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn obtain_json_parse_errors_carry_pythons_text_and_position() {
    let app = default_app().await;
    let detail = |m: &str| json!({ "detail": format!("JSON parse error - {m}") });
    for (body, message) in [
        (
            &b"\n  <html>"[..],
            "Expecting value: line 2 column 3 (char 3)",
        ),
        (
            b"{\"username\": 'alice'}",
            "Expecting value: line 1 column 14 (char 13)",
        ),
        (
            b"{\"username\": \"alice\", }",
            "Expecting property name enclosed in double quotes: line 1 column 23 (char 22)",
        ),
        (
            b"{\"username\": \"alice\", \"password\": NaN}",
            "Out of range float values are not JSON compliant: 'NaN'",
        ),
        (
            b"{\"username\": \"\xff\"}",
            "'utf-8' codec can't decode byte 0xff in position 14: invalid start byte",
        ),
    ] {
        app.post_raw("/api/token/", Some("application/json"), body.to_vec())
            .await
            .expect(400, &detail(message));
    }
}

#[tokio::test]
async fn obtain_too_deeply_nested_json_is_a_400_parse_error() {
    let app = default_app().await;
    for open in ["[", "{\"a\":"] {
        let body = open.repeat(64 * 1024 / open.len());
        let at = 127 * open.len();
        app.post_raw("/api/token/", Some("application/json"), body)
            .await
            .expect(
                400,
                &json!({"detail": format!(
                    "JSON parse error - recursion limit exceeded: line 1 column {} (char {at})",
                    at + 1
                )}),
            );
    }
    app.login("alice", "alice-Password-1")
        .await
        .expect_status(200);
}

#[tokio::test]
async fn obtain_duplicate_json_keys_take_the_last_value() {
    let app = default_app().await;
    let body = r#"{"username": "bob", "password": "nope", "username": "alice", "password": "alice-Password-1"}"#;
    app.post_raw("/api/token/", Some("application/json"), body)
        .await
        .expect_status(200);
    let body = r#"{"username": "alice", "password": "alice-Password-1", "password": "nope"}"#;
    app.post_raw("/api/token/", Some("application/json"), body)
        .await
        .expect_status(401);
}

#[tokio::test]
async fn obtain_empty_body_counts_as_no_fields() {
    let app = default_app().await;
    app.post_raw("/api/token/", Some("application/json"), "")
        .await
        .expect(400, &required(&["username", "password"]));
    app.post_raw("/api/token/", None, "")
        .await
        .expect(400, &required(&["username", "password"]));
}

#[tokio::test]
async fn obtain_accepts_form_encoded_body() {
    let app = default_app().await;
    let r = app
        .post_raw(
            "/api/token/",
            Some("application/x-www-form-urlencoded"),
            "username=alice&password=alice-Password-1",
        )
        .await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["refresh", "access"]);
}

#[tokio::test]
async fn obtain_accepts_multipart_body() {
    let app = default_app().await;
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nalice-Password-1\r\n\
                --XyZ--\r\n";
    let r = app
        .post_raw(
            "/api/token/",
            Some("multipart/form-data; boundary=XyZ"),
            body,
        )
        .await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["refresh", "access"]);
}

#[tokio::test]
async fn obtain_text_plain_is_415_unsupported_media_type() {
    let app = default_app().await;
    app.post_raw("/api/token/", Some("text/plain"), "username=alice")
        .await
        .expect(
            415,
            &json!({"detail": "Unsupported media type \"text/plain\" in request."}),
        );
}

#[tokio::test]
async fn a_body_without_a_content_type_is_415_and_no_body_is_field_errors() {
    // As the reference under gunicorn: DRF finds no parser for "".
    let app = default_app().await;
    let body = json!({"username": "alice", "password": password_of("alice")}).to_string();
    app.post_raw("/api/token/", None, body).await.expect(
        415,
        &json!({"detail": "Unsupported media type \"\" in request."}),
    );
    app.post_raw("/api/token/", None, "")
        .await
        .expect(400, &required(&["username", "password"]));
}

#[tokio::test]
async fn accept_header_excluding_json_is_406() {
    let app = default_app().await;
    for path in ["/api/token/", "/api/token/refresh/", "/api/token/verify/"] {
        let req = http::Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .header("accept", "application/xml")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        app.send(req).await.expect(
            406,
            &json!({"detail": "Could not satisfy the request Accept header."}),
        );
    }
}

#[tokio::test]
async fn accept_header_allowing_json_is_served() {
    let app = default_app().await;
    for accept in [
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml;q=0.9",
    ] {
        let req = http::Request::builder()
            .method("POST")
            .uri("/api/token/")
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(axum::body::Body::from(
                r#"{"username":"alice","password":"alice-Password-1"}"#,
            ))
            .unwrap();
        app.send(req).await.expect_status(200);
    }
}

// ---- routing ---------------------------------------------------------------

const TOKEN_PATHS: [&str; 4] = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
];

#[tokio::test]
async fn token_endpoints_refuse_other_methods_with_405_and_allow_post_options() {
    let app = default_app().await;
    for path in TOKEN_PATHS {
        for method in ["GET", "PUT", "PATCH", "DELETE"] {
            let r = app.send(bare(method, path)).await;
            r.expect(
                405,
                &json!({"detail": format!("Method \"{method}\" not allowed.")}),
            );
            assert_eq!(r.header("allow"), Some("POST, OPTIONS"), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn post_without_trailing_slash_redirects_permanently_to_the_slashed_path() {
    let app = default_app().await;
    for path in TOKEN_PATHS {
        let unslashed = path.trim_end_matches('/');
        let r = app
            .post_raw(unslashed, Some("application/json"), "{}")
            .await;
        assert_eq!(r.status, 301, "{unslashed}");
        assert_eq!(r.header("location"), Some(path));
        assert_eq!(r.header("www-authenticate"), None);
    }
    let r = app.send(bare("GET", "/api/protected")).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/api/protected/"));
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let app = default_app().await;
    for path in ["/api/nope/", "/api/token/nope/", "/", "/api/nope"] {
        app.send(bare("GET", path))
            .await
            .expect(404, &json!({"detail": "Not found."}));
    }
}

#[tokio::test]
async fn options_on_obtain_is_drfs_metadata_byte_for_byte() {
    let app = default_app().await;
    let r = app.send(bare("OPTIONS", "/api/token/")).await;
    r.expect_status(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        r#"{"name":"Token Obtain Pair","description":"Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.","renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{"POST":{"username":{"type":"string","required":true,"read_only":false,"label":"Username"},"password":{"type":"string","required":true,"read_only":false,"label":"Password"}}}}"#
    );
}

#[tokio::test]
async fn options_on_refresh_verify_blacklist_name_the_view_and_its_fields() {
    let app = default_app().await;
    let field =
        |label: &str| json!({"type":"string","required":true,"read_only":false,"label":label});
    let cases = [
        (
            "/api/token/refresh/",
            "Token Refresh",
            json!({"refresh": field("Refresh"), "access": {"type":"string","required":false,"read_only":true,"label":"Access"}}),
        ),
        (
            "/api/token/verify/",
            "Token Verify",
            json!({"token": field("Token")}),
        ),
        (
            "/api/token/blacklist/",
            "Token Blacklist",
            json!({"refresh": field("Refresh")}),
        ),
    ];
    for (path, name, fields) in cases {
        let r = app.send(bare("OPTIONS", path)).await;
        r.expect_status(200);
        let body = r.json();
        assert_eq!(body["name"], name, "{path}");
        assert_eq!(body["actions"]["POST"], fields, "{path}");
        assert_eq!(
            body["parses"],
            json!([
                "application/json",
                "application/x-www-form-urlencoded",
                "multipart/form-data"
            ])
        );
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["name", "description", "renders", "parses", "actions"]
        );
    }
}

#[tokio::test]
async fn token_responses_carry_cache_control_no_store() {
    let app = default_app().await;
    let (refresh, access) = app.pair("alice").await;
    for r in [
        app.refresh(&refresh).await,
        app.verify(&access).await,
        app.blacklist(&refresh).await,
        app.login("alice", "nope").await,
    ] {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{r:?}");
    }
}

// ==========================================================================
// refresh: POST /api/token/refresh/
// ==========================================================================

#[tokio::test]
async fn refresh_returns_only_a_new_access_token_for_the_same_user() {
    let app = default_app().await;
    let (refresh, access) = app.pair("alice").await;
    let before = epoch_now();
    let r = app.refresh(&refresh).await;
    let after = epoch_now();
    r.expect_status(200);
    assert_eq!(r.keys(), ["access"]);
    let c = claims_of(&r.str("access"));
    assert_eq!(
        c.keys().cloned().collect::<Vec<_>>(),
        ["token_type", "exp", "iat", "jti", "user_id"]
    );
    assert_eq!(c["token_type"], "access");
    assert_eq!(c["user_id"], "1");
    assert_ne!(c["jti"], claims_of(&refresh)["jti"]);
    assert_ne!(c["jti"], claims_of(&access)["jti"]);
    let exp = c["exp"].as_i64().unwrap();
    assert!(before + 300 <= exp && exp <= after + 300);
}

#[tokio::test]
async fn refreshed_access_token_opens_the_protected_endpoint() {
    let app = default_app().await;
    let (refresh, _) = app.pair("alice").await;
    let access = app.refresh(&refresh).await.str("access");
    app.protected(&access).await.expect(200, &welcome("alice"));
}

#[tokio::test]
async fn refresh_token_is_reusable_without_rotation() {
    let app = default_app().await;
    let (refresh, _) = app.pair("alice").await;
    for _ in 0..3 {
        app.refresh(&refresh).await.expect_status(200);
    }
}

#[tokio::test]
async fn refresh_copies_custom_claims_into_the_access_token() {
    let app = default_app().await;
    let forge = app.forger();
    let token = forge.refresh(|c| {
        c.insert("scope".into(), "read:things".into());
        c.insert("tenant".into(), 7.into());
    });
    let r = app.refresh(&token).await;
    r.expect_status(200);
    let c = claims_of(&r.str("access"));
    assert_eq!(c["scope"], "read:things");
    assert_eq!(c["tenant"], 7);
}

#[tokio::test]
async fn refresh_token_without_user_id_still_yields_an_access_token() {
    let app = default_app().await;
    let token = app.forger().refresh(|c| {
        c.remove("user_id");
    });
    let r = app.refresh(&token).await;
    r.expect_status(200);
    assert!(!claims_of(&r.str("access")).contains_key("user_id"));
}

#[tokio::test]
async fn refresh_with_an_access_token_is_wrong_type() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    app.refresh(&access)
        .await
        .expect(401, &token_error("Token has wrong type"));
}

#[tokio::test]
async fn refresh_with_garbage_or_another_key_is_token_is_invalid() {
    let app = default_app().await;
    app.refresh("a.b.c")
        .await
        .expect(401, &token_error("Token is invalid"));
    let other = app
        .forger()
        .with_key("not-the-key-not-the-key-not-the-key-0123456789", None);
    app.refresh(&other.refresh(|_| ()))
        .await
        .expect(401, &token_error("Token is invalid"));
}

#[tokio::test]
async fn refresh_with_an_expired_token_is_token_is_expired() {
    let app = default_app().await;
    let now = epoch_now();
    let token = app.forger().refresh(|c| {
        c.insert("iat".into(), (now - 90000).into());
        c.insert("exp".into(), (now - 10).into());
    });
    app.refresh(&token)
        .await
        .expect(401, &token_error("Token is expired"));
}

#[tokio::test]
async fn refresh_for_an_inactive_user_is_401_no_active_account_without_code() {
    let app = default_app().await;
    let token = app.forger().refresh(|c| {
        c.insert("user_id".into(), "2".into());
    });
    app.refresh(&token)
        .await
        .expect(401, &no_active_account_for_token());
}

#[tokio::test]
async fn refresh_for_an_unknown_user_is_401_not_500() {
    let app = default_app().await;
    let token = app.forger().refresh(|c| {
        c.insert("user_id".into(), "999".into());
    });
    app.refresh(&token)
        .await
        .expect(401, &no_active_account_for_token());
}

#[tokio::test]
async fn refresh_token_without_jti_is_token_has_no_id_not_500() {
    let app = default_app().await;
    let token = app.forger().refresh(|c| {
        c.remove("jti");
    });
    app.refresh(&token)
        .await
        .expect(401, &token_error("Token has no id"));
}

#[tokio::test]
async fn refresh_field_errors_are_drfs() {
    let app = default_app().await;
    app.post_json("/api/token/refresh/", &json!({}))
        .await
        .expect(400, &required(&["refresh"]));
    app.post_json("/api/token/refresh/", &json!({"refresh": null}))
        .await
        .expect(400, &json!({"refresh": ["This field may not be null."]}));
    app.post_json("/api/token/refresh/", &json!({"refresh": ""}))
        .await
        .expect(400, &json!({"refresh": ["This field may not be blank."]}));
}

#[tokio::test]
async fn refresh_accepts_a_form_encoded_body() {
    let app = default_app().await;
    let (refresh, _) = app.pair("alice").await;
    let r = app
        .post_raw(
            "/api/token/refresh/",
            Some("application/x-www-form-urlencoded"),
            format!("refresh={refresh}"),
        )
        .await;
    r.expect_status(200);
    assert_eq!(r.keys(), ["access"]);
}

backend_tests!(
    refresh_for_a_deleted_user_is_401_no_active_account,
    |db| async move {
        let app = app(db, &[]).await;
        let (refresh, _) = app.pair("carol").await;
        assert!(app.store.delete_user("carol").await.unwrap());
        app.refresh(&refresh)
            .await
            .expect(401, &no_active_account_for_token());
    }
);

backend_tests!(
    refresh_for_a_user_deactivated_after_login_is_401,
    |db| async move {
        let app = app(db, &[]).await;
        let (refresh, _) = app.pair("alice").await;
        assert!(app.store.set_active("alice", false).await.unwrap());
        app.refresh(&refresh)
            .await
            .expect(401, &no_active_account_for_token());
    }
);

backend_tests!(
    refresh_of_a_blacklisted_token_is_token_is_blacklisted,
    |db| async move {
        let app = app(db, &[]).await;
        let (refresh, _) = app.pair("alice").await;
        app.blacklist(&refresh).await.expect(200, &json!({}));
        app.refresh(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
    }
);

// ==========================================================================
// verify: POST /api/token/verify/
// ==========================================================================

#[tokio::test]
async fn verify_accepts_access_and_refresh_tokens_with_empty_object() {
    let app = default_app().await;
    let (refresh, access) = app.pair("alice").await;
    for t in [&access, &refresh] {
        let r = app.verify(t).await;
        r.expect(200, &json!({}));
        assert_eq!(&r.body[..], b"{}");
    }
}

#[tokio::test]
async fn verify_ignores_the_token_type() {
    let app = default_app().await;
    let forge = app.forger();
    app.verify(&forge.access(|c| {
        c.insert("token_type".into(), "sliding-or-whatever".into());
    }))
    .await
    .expect(200, &json!({}));
    app.verify(&forge.access(|c| {
        c.remove("token_type");
    }))
    .await
    .expect(200, &json!({}));
}

#[tokio::test]
async fn verify_does_not_look_up_the_user() {
    let app = default_app().await;
    let forge = app.forger();
    for id in ["999", "2", "abc"] {
        app.verify(&forge.access(|c| {
            c.insert("user_id".into(), id.into());
        }))
        .await
        .expect(200, &json!({}));
    }
}

#[tokio::test]
async fn verify_refuses_garbage_foreign_expired_and_incomplete_tokens() {
    let app = default_app().await;
    let forge = app.forger();
    let now = epoch_now();
    app.verify("garbage")
        .await
        .expect(401, &token_error("Token is invalid"));
    let foreign = forge.with_key("another-key-another-key-another-key-0123456789", None);
    app.verify(&foreign.access(|_| ()))
        .await
        .expect(401, &token_error("Token is invalid"));
    app.verify(&forge.access(|c| {
        c.insert("iat".into(), (now - 100).into());
        c.insert("exp".into(), (now - 1).into());
    }))
    .await
    .expect(401, &token_error("Token is expired"));
    app.verify(&forge.refresh(|c| {
        c.remove("exp");
    }))
    .await
    .expect(401, &token_error("Token has no 'exp' claim"));
    app.verify(&forge.refresh(|c| {
        c.remove("jti");
    }))
    .await
    .expect(401, &token_error("Token has no id"));
    app.verify(&forge.access(|c| {
        c.insert("jti".into(), 12345.into());
    }))
    .await
    .expect(401, &token_error("Token is invalid"));
}

#[tokio::test]
async fn verify_field_rules_follow_drf() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    app.post_json("/api/token/verify/", &json!({}))
        .await
        .expect(400, &required(&["token"]));
    app.verify("")
        .await
        .expect(400, &json!({"token": ["This field may not be blank."]}));
    app.post_json("/api/token/verify/", &json!({"token": 12345}))
        .await
        .expect(401, &token_error("Token is invalid"));
    app.verify(&format!("  {access}\n"))
        .await
        .expect(200, &json!({}));
    app.post_raw(
        "/api/token/verify/",
        Some("application/x-www-form-urlencoded"),
        format!("token={access}"),
    )
    .await
    .expect(200, &json!({}));
}

backend_tests!(
    verify_ignores_the_blacklist_when_blacklist_after_rotation_is_off,
    |db| async move {
        let app = app(db, &[]).await;
        let (refresh, _) = app.pair("alice").await;
        app.blacklist(&refresh).await.expect(200, &json!({}));
        app.verify(&refresh).await.expect(200, &json!({}));
    }
);

backend_tests!(
    verify_answers_400_for_a_blacklisted_token_with_blacklist_after_rotation,
    |db| async move {
        let app = app(db, &[("BLACKLIST_AFTER_ROTATION", "true")]).await;
        let (refresh, access) = app.pair("alice").await;
        app.verify(&refresh).await.expect(200, &json!({}));
        app.blacklist(&refresh).await.expect(200, &json!({}));
        app.verify(&refresh)
            .await
            .expect(400, &json!({"non_field_errors": ["Token is blacklisted"]}));
        // The access token of that pair was never blacklisted.
        app.verify(&access).await.expect(200, &json!({}));
    }
);

// ==========================================================================
// blacklist: POST /api/token/blacklist/
// ==========================================================================

backend_tests!(
    blacklist_answers_200_empty_object_then_401_blacklisted,
    |db| async move {
        let app = app(db, &[]).await;
        let (refresh, _) = app.pair("alice").await;
        let r = app.blacklist(&refresh).await;
        r.expect(200, &json!({}));
        assert_eq!(&r.body[..], b"{}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        app.blacklist(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        app.refresh(&refresh)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        assert_eq!(app.store.token_counts().await.unwrap(), (1, 1));
    }
);

backend_tests!(
    blacklist_does_not_revoke_the_access_token,
    |db| async move {
        let app = app(db, &[]).await;
        let (refresh, access) = app.pair("alice").await;
        app.blacklist(&refresh).await.expect(200, &json!({}));
        app.protected(&access).await.expect(200, &welcome("alice"));
    }
);

backend_tests!(blacklist_only_affects_that_refresh_token, |db| async move {
    let app = app(db, &[]).await;
    let (first, _) = app.pair("alice").await;
    let (second, _) = app.pair("alice").await;
    app.blacklist(&first).await.expect(200, &json!({}));
    app.refresh(&second).await.expect_status(200);
});

backend_tests!(
    blacklist_accepts_a_valid_token_the_server_never_issued,
    |db| async move {
        let app = app(db, &[]).await;
        let forge = app.forger();
        let never_issued = forge.refresh(|c| {
            c.insert("user_id".into(), "999".into());
        });
        app.blacklist(&never_issued).await.expect(200, &json!({}));
        app.refresh(&never_issued)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        app.blacklist(&never_issued)
            .await
            .expect(401, &token_error("Token is blacklisted"));
        assert_eq!(app.store.token_counts().await.unwrap(), (1, 1));
    }
);

#[tokio::test]
async fn blacklist_refuses_access_expired_garbage_and_id_less_tokens() {
    let app = default_app().await;
    let forge = app.forger();
    let (_, access) = app.pair("alice").await;
    let now = epoch_now();
    app.blacklist(&access)
        .await
        .expect(401, &token_error("Token has wrong type"));
    app.blacklist(&forge.refresh(|c| {
        c.insert("iat".into(), (now - 90000).into());
        c.insert("exp".into(), (now - 5).into());
    }))
    .await
    .expect(401, &token_error("Token is expired"));
    app.blacklist("garbage")
        .await
        .expect(401, &token_error("Token is invalid"));
    app.blacklist(&forge.refresh(|c| {
        c.remove("jti");
    }))
    .await
    .expect(401, &token_error("Token has no id"));
    app.post_json("/api/token/blacklist/", &json!({}))
        .await
        .expect(400, &required(&["refresh"]));
}

// ==========================================================================
// protected: GET /api/protected/
// ==========================================================================

fn not_provided() -> Value {
    json!({"detail": "Authentication credentials were not provided."})
}

fn bad_header() -> Value {
    json!({
        "detail": "Authorization header must contain two space-delimited values",
        "code": "bad_authorization_header",
    })
}

#[tokio::test]
async fn protected_welcomes_the_token_owner_in_compact_json() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    let r = app.protected(&access).await;
    r.expect(200, &welcome("alice"));
    assert_eq!(&r.body[..], br#"{"message":"Welcome, alice!"}"#);
    let (_, carol) = app.pair("carol").await;
    app.protected(&carol).await.expect(200, &welcome("carol"));
}

#[tokio::test]
async fn protected_without_usable_credentials_is_401_not_provided() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    app.protected_with(None).await.expect(401, &not_provided());
    for value in [
        String::new(),
        "   ".into(),
        "Basic YWxpY2U6c2VjcmV0".into(),
        format!("bearer {access}"),
        format!("JWT {access}"),
        format!("Token {access}"),
    ] {
        app.protected_with(Some(value.as_bytes()))
            .await
            .expect(401, &not_provided());
    }
}

#[tokio::test]
async fn protected_bearer_with_zero_or_two_values_is_bad_authorization_header() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    for value in [
        "Bearer".to_owned(),
        format!("Bearer {access} extra"),
        "Bearer a b c".into(),
    ] {
        app.protected_with(Some(value.as_bytes()))
            .await
            .expect(401, &bad_header());
    }
}

#[tokio::test]
async fn protected_tolerates_tabs_and_runs_of_spaces_around_the_token() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    for value in [
        format!("Bearer    {access}"),
        format!("Bearer\t{access}"),
        format!("Bearer {access} "),
        format!(" Bearer \t {access}"),
    ] {
        app.protected_with(Some(value.as_bytes()))
            .await
            .expect(200, &welcome("alice"));
    }
}

#[tokio::test]
async fn protected_refuses_a_refresh_token_as_wrong_type() {
    let app = default_app().await;
    let (refresh, _) = app.pair("alice").await;
    app.protected(&refresh)
        .await
        .expect(401, &invalid_for_any_type("Token has wrong type"));
}

#[tokio::test]
async fn protected_refuses_garbage_and_tampered_tokens_as_invalid() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    app.protected("not-a-jwt")
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    let parts: Vec<&str> = access.split('.').collect();
    let mut carol = claims_of(&access);
    carol.insert("user_id".into(), "3".into());
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        b64(&serde_json::to_vec(&carol).unwrap()),
        parts[2]
    );
    app.protected(&tampered_payload)
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    let sig = parts[2];
    let flipped = format!(
        "{}{}",
        if sig.starts_with('A') { "B" } else { "A" },
        &sig[1..]
    );
    let tampered_sig = format!("{}.{}.{}", parts[0], parts[1], flipped);
    app.protected(&tampered_sig)
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
}

#[tokio::test]
async fn protected_refuses_alg_none_and_other_algorithms_and_keys() {
    let app = default_app().await;
    let forge = app.forger();
    let claims = forge.claims("access", "1");
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(&serde_json::to_vec(&claims).unwrap())
    );
    app.protected(&none)
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    let hs512 = forge.with_algorithm(jsonwebtoken::Algorithm::HS512);
    app.protected(&hs512.sign(&claims))
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    let foreign = forge.with_key("some-other-key-0123456789abcdef0123456789abcdef", None);
    app.protected(&foreign.sign(&claims))
        .await
        .expect(401, &invalid_for_any_type("Token is invalid"));
    // The same claims signed with the right key and algorithm pass.
    app.protected(&forge.sign(&claims))
        .await
        .expect(200, &welcome("alice"));
}

#[tokio::test]
async fn protected_refuses_expired_and_not_yet_valid_tokens() {
    let app = default_app().await;
    let forge = app.forger();
    let now = epoch_now();
    app.protected(&forge.access(|c| {
        c.insert("iat".into(), (now - 600).into());
        c.insert("exp".into(), (now - 300).into());
    }))
    .await
    .expect(401, &invalid_for_any_type("Token is expired"));
    app.protected(&forge.access(|c| {
        c.insert("iat".into(), (now + 3600).into());
    }))
    .await
    .expect(401, &invalid_for_any_type("Token is invalid"));
    app.protected(&forge.access(|c| {
        c.insert("nbf".into(), (now + 3600).into());
    }))
    .await
    .expect(401, &invalid_for_any_type("Token is invalid"));
}

#[tokio::test]
async fn protected_names_the_missing_standard_claim() {
    let app = default_app().await;
    let forge = app.forger();
    let without = |claim: &'static str| {
        forge.access(move |c| {
            c.remove(claim);
        })
    };
    app.protected(&without("exp"))
        .await
        .expect(401, &invalid_for_any_type("Token has no 'exp' claim"));
    app.protected(&without("jti"))
        .await
        .expect(401, &invalid_for_any_type("Token has no id"));
    app.protected(&without("token_type"))
        .await
        .expect(401, &invalid_for_any_type("Token has no type"));
    app.protected(&without("user_id")).await.expect(
        401,
        &json!({"detail": "Token contained no recognizable user identification", "code": "token_not_valid"}),
    );
}

#[tokio::test]
async fn protected_resolves_users_by_string_or_integer_id() {
    let app = default_app().await;
    let forge = app.forger();
    app.protected(&forge.access(|c| {
        c.insert("user_id".into(), 3.into());
    }))
    .await
    .expect(200, &welcome("carol"));
    let not_found = json!({"detail": "User not found", "code": "user_not_found"});
    for id in [json!("999"), json!("abc"), json!(9999)] {
        app.protected(&forge.access(|c| {
            c.insert("user_id".into(), id.clone());
        }))
        .await
        .expect(401, &not_found);
    }
}

#[tokio::test]
async fn protected_refuses_an_inactive_users_token() {
    let app = default_app().await;
    app.protected(&app.forger().access(|c| {
        c.insert("user_id".into(), "2".into());
    }))
    .await
    .expect(
        401,
        &json!({"detail": "User is inactive", "code": "user_inactive"}),
    );
}

#[tokio::test]
async fn protected_ignores_aud_and_iss_when_not_configured() {
    let app = default_app().await;
    app.protected(&app.forger().access(|c| {
        c.insert("aud".into(), "someone-else".into());
        c.insert("iss".into(), "https://elsewhere.test".into());
    }))
    .await
    .expect(200, &welcome("alice"));
}

#[tokio::test]
async fn protected_authenticates_before_the_method_check() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    let with_token = http::Request::builder()
        .method("POST")
        .uri("/api/protected/")
        .header("authorization", format!("Bearer {access}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(with_token).await;
    r.expect(405, &json!({"detail": "Method \"POST\" not allowed."}));
    app.send(bare("POST", "/api/protected/"))
        .await
        .expect(401, &not_provided());
}

#[tokio::test]
async fn protected_options_answers_metadata_to_an_authenticated_caller() {
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    let req = http::Request::builder()
        .method("OPTIONS")
        .uri("/api/protected/")
        .header("authorization", format!("Bearer {access}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    r.expect_status(200);
    let body = r.json();
    assert!(body["name"].is_string());
    assert_eq!(body["renders"], json!(["application/json", "text/html"]));
    app.send(bare("OPTIONS", "/api/protected/"))
        .await
        .expect(401, &not_provided());
}

#[tokio::test]
async fn protected_401s_use_the_bearer_challenge_and_others_have_none() {
    // The rule is checked by every `expect` above; this test walks one
    // response of each status through it explicitly.
    let app = default_app().await;
    let (_, access) = app.pair("alice").await;
    let r = app.protected_with(None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some(BEARER_CHALLENGE));
    let r = app.protected(&access).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("www-authenticate"), None);
    let r = app.post_json("/api/token/", &json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("www-authenticate"), None);
    let r = app.login("alice", "nope").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some(BEARER_CHALLENGE));
}

// ==========================================================================
// ids the database may not be able to store
// ==========================================================================

backend_tests!(
    signed_ids_with_nul_characters_never_cause_a_5xx,
    |db| async move {
        // Only a token signed with our key can carry them, but a 500 is still wrong:
        // the answer must be the one any other unknown id gets.
        let app = app(db, &[("BLACKLIST_AFTER_ROTATION", "true")]).await;
        let forge = app.forger();
        let token = forge.refresh(|c| {
            c.insert("jti".into(), "ab\u{0}cd".into());
        });
        let verified = app.verify(&token).await;
        assert!(
            matches!(verified.status.as_u16(), 200 | 401),
            "verify: {verified:?}"
        );
        verified.expect_status(verified.status.as_u16());
        let blacklisted = app.blacklist(&token).await;
        assert!(
            matches!(blacklisted.status.as_u16(), 200 | 401),
            "blacklist: {blacklisted:?}"
        );
        blacklisted.expect_status(blacklisted.status.as_u16());
        let refreshed = app.refresh(&token).await;
        if blacklisted.status == 200 {
            refreshed.expect(401, &token_error("Token is blacklisted"));
        } else {
            refreshed.expect_status(401);
        }
    }
);

backend_tests!(
    signed_usernames_with_nul_characters_find_no_user,
    |db| async move {
        let app = app(
            db,
            &[("USER_ID_FIELD", "username"), ("USER_ID_CLAIM", "sub")],
        )
        .await;
        let forge = app.forger();
        let with_nul = |c: &mut simplejwt::token::Claims| {
            c.insert("sub".into(), "al\u{0}ice".into());
        };
        app.protected(&forge.access(with_nul)).await.expect(
            401,
            &json!({"detail": "User not found", "code": "user_not_found"}),
        );
        app.refresh(&forge.refresh(with_nul))
            .await
            .expect(401, &no_active_account_for_token());
    }
);

#[tokio::test]
async fn an_answer_that_left_the_body_unread_closes_the_connection() {
    // hyper closes a connection whose request body was not read to its end,
    // so the answer must say so, or a client reusing it races the close.
    let app = default_app().await;
    let with_body = |method: &str, path: &str, body: &'static str| {
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("content-length", body.len().to_string())
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let close = |r: &Resp| r.header("connection").map(str::to_owned);
    // Unread: the APPEND_SLASH redirect, a 404, a 405, and a 413 from the length alone.
    let r = app.send(with_body("POST", "/api/token", "{}")).await;
    assert_eq!((r.status.as_u16(), close(&r)), (301, Some("close".into())));
    let r = app.send(with_body("POST", "/api/nope/", "{}")).await;
    assert_eq!((r.status.as_u16(), close(&r)), (404, Some("close".into())));
    let r = app.send(with_body("PUT", "/api/token/", "{}")).await;
    assert_eq!((r.status.as_u16(), close(&r)), (405, Some("close".into())));
    let mut big = with_body("POST", "/api/token/", "{}");
    big.headers_mut()
        .insert("content-length", "100000000".parse().unwrap());
    let r = app.send(big).await;
    assert_eq!((r.status.as_u16(), close(&r)), (413, Some("close".into())));
    // Read: a login keeps the connection; a GET without a body is untouched.
    let body = json!({"username": "alice", "password": password_of("alice")}).to_string();
    let login = http::Request::builder()
        .method("POST")
        .uri("/api/token/")
        .header("content-type", "application/json")
        .header("content-length", body.len().to_string())
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = app.send(login).await;
    assert_eq!((r.status.as_u16(), close(&r)), (200, None));
    let r = app.send(bare("GET", "/api/nope/")).await;
    assert_eq!((r.status.as_u16(), close(&r)), (404, None));
}

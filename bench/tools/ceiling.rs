//! The physical-limit anchor for the load benchmarks (`bench/side_by_side.sh`):
//! a bare axum 0.8 server on a default multi-thread Tokio runtime that answers
//! `GET /api/protected/` with `{"message":"Welcome, alice!"}` — no database,
//! no logging, no middleware.
//!
//! ```text
//! cargo build --release --examples
//! target/release/examples/ceiling --bind 127.0.0.1:8100                  # plain
//! target/release/examples/ceiling --bind 127.0.0.1:8101 --mode decode    # + one HS256 decode
//! ```
//!
//! `--mode decode` first decodes and validates (signature, `exp`) the
//! `Authorization: Bearer <token>` with the `jsonwebtoken` crate and answers
//! 401 when that fails: the least work any JWT-authenticated endpoint can do.
//! The HMAC key is `SIMPLE_JWT_SIGNING_KEY`, else the conformance suite's key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// The conformance profiles' fixed HS256 key (`../shared/conformance/profiles.py`).
const CONFORMANCE_KEY: &str =
    "conformance-signing-key-7f3c9a1e5b2d4f6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1";

const BODY: &str = r#"{"message":"Welcome, alice!"}"#;

struct Decoder {
    key: DecodingKey,
    validation: Validation,
}

fn welcome() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        BODY,
    )
        .into_response()
}

async fn plain() -> Response {
    welcome()
}

async fn decode(State(decoder): State<Arc<Decoder>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = token.is_some_and(|t| {
        jsonwebtoken::decode::<serde_json::Value>(t, &decoder.key, &decoder.validation).is_ok()
    });
    if ok {
        welcome()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            r#"{"detail":"Token is invalid"}"#,
        )
            .into_response()
    }
}

fn usage() -> ! {
    eprintln!("usage: ceiling [--bind ADDR (127.0.0.1:8100)] [--mode plain|decode]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut bind = "127.0.0.1:8100".to_owned();
    let mut mode = "plain".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => bind = args.next().unwrap_or_else(|| usage()),
            "--mode" => mode = args.next().unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let app = match mode.as_str() {
        "plain" => Router::new().route("/api/protected/", get(plain)),
        "decode" => {
            let secret = std::env::var("SIMPLE_JWT_SIGNING_KEY")
                .unwrap_or_else(|_| CONFORMANCE_KEY.to_owned());
            let decoder = Decoder {
                key: DecodingKey::from_secret(secret.as_bytes()),
                validation: Validation::new(Algorithm::HS256),
            };
            Router::new()
                .route("/api/protected/", get(decode))
                .with_state(Arc::new(decoder))
        }
        _ => usage(),
    };
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .unwrap_or_else(|e| {
            eprintln!("ceiling: cannot listen on {bind}: {e}");
            std::process::exit(1)
        });
    eprintln!(
        "ceiling ({mode}) listening on http://{}/api/protected/",
        listener
            .local_addr()
            .map_or(bind.clone(), |a| a.to_string())
    );
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("ceiling: {e}");
        std::process::exit(1);
    }
}

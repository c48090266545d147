//! What browser sessions (`AUTH_COOKIE`) add to a request (divan):
//!
//! - `access_cookie`: finding the access token in a browser's `Cookie`
//!   header (five cookies, the token last) — what an authenticated request
//!   without `Authorization` pays before the usual token validation.
//! - `csrf_check`: the whole CSRF rule of an unsafe cookie request
//!   (Sec-Fetch-Site, then the double-submit token compared in constant time).
//! - `header_request_with_cookies_on`: the extra cost for a request that
//!   carries `Authorization` when `AUTH_COOKIE` is on (none: it is not read).
//!
//! ```text
//! cargo bench --bench cookies
//! ```

use http::{HeaderMap, HeaderValue, Method};
use simplejwt::http::cookies::{self, TokenCookie};
use simplejwt::http::csrf::{self, CsrfRule};
use simplejwt::settings::Settings;

fn main() {
    divan::main();
}

fn settings() -> Settings {
    Settings::from_pairs([("AUTH_COOKIE", "true")]).expect("settings")
}

const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxOTAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6IjEifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXI";

fn browser_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    let cookie = format!(
        "_ga=GA1.1.123456789.1700000000; theme=dark; lang=en; csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd; access={TOKEN}"
    );
    h.insert(
        http::header::COOKIE,
        HeaderValue::from_str(&cookie).unwrap(),
    );
    h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    h.insert(
        "x-csrftoken",
        HeaderValue::from_static("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"),
    );
    h
}

#[divan::bench]
fn access_cookie(bencher: divan::Bencher) {
    let s = settings();
    let h = browser_headers();
    bencher.bench(|| cookies::read(divan::black_box(&h), &s, TokenCookie::Access).map(str::len));
}

#[divan::bench]
fn csrf_check(bencher: divan::Bencher) {
    let s = settings();
    let h = browser_headers();
    bencher
        .bench(|| csrf::check(&s, &Method::POST, divan::black_box(&h), CsrfRule::Session).is_ok());
}

#[divan::bench]
fn header_request_with_cookies_on(bencher: divan::Bencher) {
    let s = settings();
    let mut h = browser_headers();
    h.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Bearer x"),
    );
    bencher
        .bench(|| csrf::check(&s, &Method::POST, divan::black_box(&h), CsrfRule::Session).is_ok());
}

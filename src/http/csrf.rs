//! Browser sessions, the CSRF half: a browser attaches cookies to requests
//! that another site makes it send, so with `AUTH_COOKIE` on, every unsafe
//! request (not GET, HEAD, OPTIONS or TRACE) that carries a token cookie and
//! no `Authorization: Bearer …` header (the `AUTH_HEADER_NAME` header with
//! one of `AUTH_HEADER_TYPES`' schemes) must show it comes from the page
//! itself:
//!
//! 1. **Where from**: `Sec-Fetch-Site: same-origin` passes; `same-site` or
//!    `cross-site` passes only with an `Origin` listed in
//!    `CSRF_TRUSTED_ORIGINS`. Without `Sec-Fetch-Site` (older browsers,
//!    other clients) an `Origin` must match the `Host` header or be listed.
//! 2. **Double submit**: the `CSRF_HEADER_NAME` header must equal the
//!    readable CSRF cookie (compared in constant time). Another site can
//!    make the browser send the cookie but can neither read it nor set a
//!    custom header on a cross-site request.
//!
//! A login (obtain) in cookie mode gets check 1 only — there is no CSRF
//! cookie before it — so another site cannot log the browser into an
//! account of its choosing. A refusal is a 403 with
//! `{"detail": "CSRF Failed: …"}`, before the handler runs: nothing is read,
//! written or rotated. Requests carrying a `Bearer` header, or with no token
//! cookie (the token in the body), are not affected; an `Authorization:
//! Basic …` header a browser attaches by itself does not exempt a request.
//! With `AUTH_COOKIE` off the layer is not mounted at all (no cost).
//!
//! [`guard`] is the middleware; mount it on routes of your own that use the
//! cookie through [`super::auth::AuthUser`] with
//! `axum::middleware::from_fn_with_state((service, CsrfRule::Session), guard)`.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, Method};
use subtle::ConstantTimeEq;

use super::cookies::{self, TokenCookie};
use crate::error::{ApiError, CsrfError};
use crate::service::{names_accepted_scheme, AuthService};
use crate::settings::Settings;

/// Which checks a route gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfRule {
    /// A login: the origin check only, on every unsafe request.
    Login,
    /// A cookie-authenticated route: both checks, when a token cookie is sent.
    Session,
}

/// The middleware: refuses a failing request with 403 before the handler
/// runs. Does nothing with `AUTH_COOKIE` off.
pub async fn guard(
    State((service, rule)): State<(AuthService, CsrfRule)>,
    request: Request,
    next: Next,
) -> Response {
    match check(
        service.settings(),
        request.method(),
        request.headers(),
        rule,
    ) {
        Ok(()) => next.run(request).await,
        Err(e) => ApiError::Csrf(e).into_response(),
    }
}

/// The rule of the module doc, on one request's method and headers.
pub fn check(
    settings: &Settings,
    method: &Method,
    headers: &HeaderMap,
    rule: CsrfRule,
) -> Result<(), CsrfError> {
    if !settings.auth_cookie() || is_safe(method) {
        return Ok(());
    }
    match rule {
        CsrfRule::Login => check_origin(settings, headers),
        CsrfRule::Session => {
            if carries_a_token_header(settings, headers)
                || !cookies::has_token_cookie(headers, settings)
            {
                return Ok(());
            }
            check_origin(settings, headers)?;
            check_token(settings, headers)
        }
    }
}

/// The request carries the auth header with one of `AUTH_HEADER_TYPES`'
/// schemes. Only such a header exempts a request: a browser attaches
/// `Authorization: Basic …` (or Digest, Negotiate) cached for the site by
/// itself, even on a request another site makes it send, and the extractors
/// fall back to the access cookie when the header is of another scheme; a
/// `Bearer` header no page of another site can set without a CORS preflight,
/// which this server never grants.
fn carries_a_token_header(settings: &Settings, headers: &HeaderMap) -> bool {
    headers
        .get_all(settings.auth_header_name())
        .iter()
        .any(|v| names_accepted_scheme(settings, v.as_bytes()))
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn check_origin(settings: &Settings, headers: &HeaderMap) -> Result<(), CsrfError> {
    let origin = headers.get(header::ORIGIN).map(|v| v.as_bytes());
    let trusted = |o: &[u8]| {
        settings
            .csrf_trusted_origins()
            .is_some_and(|list| list.iter().any(|t| t.as_bytes() == o))
    };
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        // Same origin, or typed by the user (no site involved).
        Some(b"same-origin" | b"none") => Ok(()),
        Some(_) => match origin {
            Some(o) if trusted(o) => Ok(()),
            _ => Err(CsrfError::CrossOrigin),
        },
        None => match origin {
            None => Ok(()),
            Some(o) if trusted(o) || same_as_host(o, headers) => Ok(()),
            Some(_) => Err(CsrfError::CrossOrigin),
        },
    }
}

/// `Origin: scheme://host[:port]` names the host the request was sent to.
fn same_as_host(origin: &[u8], headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).map(|v| v.as_bytes()) else {
        return false;
    };
    let authority = origin
        .strip_prefix(b"https://")
        .or_else(|| origin.strip_prefix(b"http://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

fn check_token(settings: &Settings, headers: &HeaderMap) -> Result<(), CsrfError> {
    let cookie = cookies::read(headers, settings, TokenCookie::Csrf).ok_or(CsrfError::NoCookie)?;
    let sent = headers
        .get(settings.csrf_header_name())
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty())
        .ok_or(CsrfError::NoToken)?;
    if bool::from(cookie.as_bytes().ct_eq(sent)) {
        Ok(())
    } else {
        Err(CsrfError::WrongToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn settings() -> Settings {
        Settings::from_pairs([
            ("AUTH_COOKIE", "true"),
            ("CSRF_TRUSTED_ORIGINS", "https://app.example.com"),
        ])
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const COOKIES: (&str, &str) = ("cookie", "access=a.b.c; csrftoken=tok");

    fn session(h: &HeaderMap) -> Result<(), CsrfError> {
        check(&settings(), &Method::POST, h, CsrfRule::Session)
    }

    #[test]
    fn same_origin_with_the_token_passes() {
        let h = headers(&[
            COOKIES,
            ("sec-fetch-site", "same-origin"),
            ("x-csrftoken", "tok"),
        ]);
        assert_eq!(session(&h), Ok(()));
        let h = headers(&[
            COOKIES,
            ("host", "127.0.0.1:8000"),
            ("origin", "http://127.0.0.1:8000"),
            ("x-csrftoken", "tok"),
        ]);
        assert_eq!(session(&h), Ok(()));
    }

    #[test]
    fn another_origin_is_refused_unless_trusted() {
        let h = headers(&[
            COOKIES,
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
            ("x-csrftoken", "tok"),
        ]);
        assert_eq!(session(&h), Err(CsrfError::CrossOrigin));
        let h = headers(&[
            COOKIES,
            ("sec-fetch-site", "same-site"),
            ("origin", "https://app.example.com"),
            ("x-csrftoken", "tok"),
        ]);
        assert_eq!(session(&h), Ok(()));
        let h = headers(&[
            COOKIES,
            ("host", "api.example.com"),
            ("origin", "https://evil.example"),
            ("x-csrftoken", "tok"),
        ]);
        assert_eq!(session(&h), Err(CsrfError::CrossOrigin));
        let h = headers(&[COOKIES, ("origin", "null"), ("x-csrftoken", "tok")]);
        assert_eq!(session(&h), Err(CsrfError::CrossOrigin));
    }

    #[test]
    fn the_token_must_be_echoed_exactly() {
        let same = ("sec-fetch-site", "same-origin");
        assert_eq!(session(&headers(&[COOKIES, same])), Err(CsrfError::NoToken));
        assert_eq!(
            session(&headers(&[COOKIES, same, ("x-csrftoken", "tok2")])),
            Err(CsrfError::WrongToken)
        );
        assert_eq!(
            session(&headers(&[
                ("cookie", "access=a.b.c"),
                same,
                ("x-csrftoken", "tok")
            ])),
            Err(CsrfError::NoCookie)
        );
    }

    #[test]
    fn header_authenticated_safe_and_cookieless_requests_pass() {
        let cross = ("sec-fetch-site", "cross-site");
        let h = headers(&[COOKIES, cross, ("authorization", "Bearer x")]);
        assert_eq!(session(&h), Ok(()));
        assert_eq!(session(&headers(&[cross])), Ok(()));
        let h = headers(&[COOKIES, cross]);
        assert_eq!(
            check(&settings(), &Method::GET, &h, CsrfRule::Session),
            Ok(())
        );
        let off = Settings::default();
        assert_eq!(check(&off, &Method::POST, &h, CsrfRule::Session), Ok(()));
    }

    #[test]
    fn a_login_from_another_site_is_refused() {
        let s = settings();
        let login = |h: &HeaderMap| check(&s, &Method::POST, h, CsrfRule::Login);
        assert_eq!(
            login(&headers(&[("sec-fetch-site", "cross-site")])),
            Err(CsrfError::CrossOrigin)
        );
        assert_eq!(
            login(&headers(&[("sec-fetch-site", "same-origin")])),
            Ok(())
        );
        assert_eq!(login(&headers(&[])), Ok(()), "a client that is no browser");
    }
}

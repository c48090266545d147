//! Browser sessions, the cookie half (`AUTH_COOKIE`): the tokens travel as
//! `HttpOnly` cookies that page scripts cannot read, so an XSS bug cannot
//! steal them, and a readable CSRF cookie carries the value a page echoes
//! in a header ([`super::csrf`] checks it).
//!
//! - Obtain and refresh answer [`SetCookies`] beside their JSON body (the
//!   handlers' return types); blacklist answers [`SetCookies::cleared`].
//! - Refresh, verify and blacklist read the token from its cookie when the
//!   body has none ([`super::DrfFields::COOKIES`], applied by `DrfBody`).
//! - The protected extractors read the access cookie when there is no
//!   `Authorization` header ([`read`], no allocation).
//!
//! Every cookie is `HttpOnly` (except the CSRF one), `Secure` (unless
//! `AUTH_COOKIE_SECURE` is off for local development — and even then when
//! the request came over HTTPS, as [`ClientInfo::https`] tells), `SameSite` as
//! configured, `Path=/` except the refresh cookie, which is sent only under
//! `AUTH_COOKIE_REFRESH_PATH`. With "stay logged in" (`remember` at login)
//! they carry `Max-Age` (the refresh lifetime; the access cookie, the access
//! lifetime) and survive a browser restart; without it they are session
//! cookies. The choice is kept in a small `HttpOnly` marker cookie beside the
//! refresh cookie, so a refresh re-sets cookies of the same kind.
//! Cookies are built and parsed by the `cookie` crate (through axum-extra's
//! [`CookieJar`]), never by hand.

use axum::response::{IntoResponseParts, ResponseParts};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use cookie::time::Duration;
use http::{header, HeaderMap};
use rand::RngCore;

use crate::service::ClientInfo;
use crate::settings::{SameSitePolicy, Settings};

/// One of the cookies this server sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCookie {
    /// The access token (`HttpOnly`, `Path=/`).
    Access,
    /// The refresh token (`HttpOnly`, `Path=AUTH_COOKIE_REFRESH_PATH`).
    Refresh,
    /// "Stay logged in" was asked at login (`HttpOnly`, beside the refresh cookie).
    Remember,
    /// The double-submit CSRF token (readable by the page, `Path=/`).
    Csrf,
}

/// The marker cookie's name after the refresh cookie's.
const REMEMBER_SUFFIX: &str = "-remember";

impl TokenCookie {
    /// The prefix `AUTH_COOKIE_HOST_PREFIX` adds: `__Host-` needs `Path=/`,
    /// so the path-limited cookies get `__Secure-`.
    fn prefix(self, settings: &Settings) -> &'static str {
        match (settings.auth_cookie_host_prefix(), self) {
            (false, _) => "",
            (true, TokenCookie::Access | TokenCookie::Csrf) => "__Host-",
            (true, TokenCookie::Refresh | TokenCookie::Remember) => "__Secure-",
        }
    }

    fn base(self, settings: &Settings) -> &str {
        match self {
            TokenCookie::Access => settings.auth_cookie_access_name(),
            TokenCookie::Refresh | TokenCookie::Remember => settings.auth_cookie_refresh_name(),
            TokenCookie::Csrf => settings.csrf_cookie_name(),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            TokenCookie::Remember => REMEMBER_SUFFIX,
            _ => "",
        }
    }

    /// The full cookie name, prefix included.
    pub fn name(self, settings: &Settings) -> String {
        format!(
            "{}{}{}",
            self.prefix(settings),
            self.base(settings),
            self.suffix()
        )
    }

    /// Whether `name` is this cookie's full name (no allocation).
    pub fn is_named(self, settings: &Settings, name: &str) -> bool {
        name.strip_prefix(self.prefix(settings))
            .and_then(|rest| rest.strip_suffix(self.suffix()))
            .is_some_and(|base| base == self.base(settings))
    }

    fn path(self, settings: &Settings) -> String {
        match self {
            TokenCookie::Refresh | TokenCookie::Remember => {
                settings.auth_cookie_refresh_path().to_owned()
            }
            TokenCookie::Access | TokenCookie::Csrf => "/".to_owned(),
        }
    }

    /// A cookie of this kind with every attribute but its lifetime; `https`:
    /// the request came over HTTPS, so `Secure` whatever the setting says.
    fn cookie(self, settings: &Settings, https: bool, value: String) -> Cookie<'static> {
        let same_site = match settings.auth_cookie_samesite() {
            SameSitePolicy::Strict => SameSite::Strict,
            SameSitePolicy::Lax => SameSite::Lax,
            SameSitePolicy::None => SameSite::None,
        };
        Cookie::build((self.name(settings), value))
            .path(self.path(settings))
            .http_only(self != TokenCookie::Csrf)
            .secure(settings.auth_cookie_secure() || https)
            .same_site(same_site)
            .build()
    }
}

/// The value of cookie `which` in the request headers, borrowed from them:
/// `None` when absent, empty or not text. Reads every `Cookie` header.
pub fn read<'h>(
    headers: &'h HeaderMap,
    settings: &Settings,
    which: TokenCookie,
) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name_raw().is_some_and(|n| which.is_named(settings, n)))
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// Whether the request carries the access or refresh cookie: it may be
/// authenticated by a cookie, so its unsafe methods need the CSRF check.
pub fn has_token_cookie(headers: &HeaderMap, settings: &Settings) -> bool {
    read(headers, settings, TokenCookie::Access).is_some()
        || read(headers, settings, TokenCookie::Refresh).is_some()
}

/// A fresh CSRF token: 32 random bytes, base64url.
fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `Set-Cookie` headers for an answer: empty unless `AUTH_COOKIE` is on.
#[derive(Debug, Default)]
pub struct SetCookies(CookieJar);

impl IntoResponseParts for SetCookies {
    type Error = std::convert::Infallible;
    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.0.into_response_parts(res)
    }
}

impl SetCookies {
    /// No cookies.
    pub fn none() -> Self {
        Self::default()
    }

    fn add(self, cookie: Cookie<'static>) -> Self {
        Self(self.0.add(cookie))
    }

    /// After a login: the access and refresh cookies, a new CSRF token and,
    /// with `remember`, the marker; persistent with `remember`, session
    /// cookies without.
    pub fn login(
        settings: &Settings,
        client: &ClientInfo,
        access: &str,
        refresh: &str,
        remember: bool,
    ) -> Self {
        if !settings.auth_cookie() {
            return Self::none();
        }
        let session = Session {
            settings,
            https: client.https,
            remember,
        };
        let mut out = Self::none()
            .add(session.cookie(TokenCookie::Access, access.to_owned()))
            .add(session.cookie(TokenCookie::Refresh, refresh.to_owned()))
            .add(session.cookie(TokenCookie::Csrf, new_csrf_token()));
        out = if remember {
            out.add(session.cookie(TokenCookie::Remember, "1".to_owned()))
        } else {
            out.add(removal(settings, client.https, TokenCookie::Remember))
        };
        out
    }

    /// After a refresh: the new access cookie, the new refresh cookie when
    /// rotating, and the CSRF cookie again with its value unchanged (a tab
    /// that read it before this refresh still sends the right one), all as
    /// persistent as the login made them.
    pub fn refreshed(
        settings: &Settings,
        client: &ClientInfo,
        request: &CookieJar,
        access: &str,
        refresh: Option<&str>,
    ) -> Self {
        if !settings.auth_cookie() {
            return Self::none();
        }
        let remember = request.get(&TokenCookie::Remember.name(settings)).is_some();
        let session = Session {
            settings,
            https: client.https,
            remember,
        };
        let csrf = request
            .get(&TokenCookie::Csrf.name(settings))
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(new_csrf_token);
        let mut out = Self::none()
            .add(session.cookie(TokenCookie::Access, access.to_owned()))
            .add(session.cookie(TokenCookie::Csrf, csrf));
        if let Some(refresh) = refresh {
            out = out.add(session.cookie(TokenCookie::Refresh, refresh.to_owned()));
            if remember {
                out = out.add(session.cookie(TokenCookie::Remember, "1".to_owned()));
            }
        }
        out
    }

    /// Logout: every cookie of this server removed (empty, `Max-Age=0`, an
    /// expiry in the past, same name and path as set).
    pub fn cleared(settings: &Settings, client: &ClientInfo) -> Self {
        if !settings.auth_cookie() {
            return Self::none();
        }
        [
            TokenCookie::Access,
            TokenCookie::Refresh,
            TokenCookie::Remember,
            TokenCookie::Csrf,
        ]
        .into_iter()
        .fold(Self::none(), |out, which| {
            out.add(removal(settings, client.https, which))
        })
    }
}

/// The lifetimes of one login's cookies.
struct Session<'a> {
    settings: &'a Settings,
    https: bool,
    remember: bool,
}

impl Session<'_> {
    fn cookie(&self, which: TokenCookie, value: String) -> Cookie<'static> {
        let mut cookie = which.cookie(self.settings, self.https, value);
        if self.remember {
            let lifetime = match which {
                TokenCookie::Access => self.settings.access_token_lifetime(),
                _ => self.settings.refresh_token_lifetime(),
            };
            let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
            cookie.set_max_age(Duration::seconds(seconds));
        }
        cookie
    }
}

fn removal(settings: &Settings, https: bool, which: TokenCookie) -> Cookie<'static> {
    let mut cookie = which.cookie(settings, https, String::new());
    cookie.make_removal();
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let mut all = vec![("AUTH_COOKIE", "true")];
        all.extend_from_slice(pairs);
        Settings::from_pairs(all).unwrap()
    }

    fn set_cookie_lines(cookies: SetCookies) -> Vec<String> {
        let res = axum::response::IntoResponse::into_response((cookies, ""));
        res.headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn names_take_the_prefix() {
        let s = settings(&[("AUTH_COOKIE_HOST_PREFIX", "true")]);
        assert_eq!(TokenCookie::Access.name(&s), "__Host-access");
        assert_eq!(TokenCookie::Refresh.name(&s), "__Secure-refresh");
        assert_eq!(TokenCookie::Remember.name(&s), "__Secure-refresh-remember");
        assert_eq!(TokenCookie::Csrf.name(&s), "__Host-csrftoken");
        assert!(TokenCookie::Access.is_named(&s, "__Host-access"));
        assert!(!TokenCookie::Access.is_named(&s, "access"));
        assert!(!TokenCookie::Refresh.is_named(&s, "__Secure-refresh-remember"));
        assert!(TokenCookie::Remember.is_named(&s, "__Secure-refresh-remember"));
    }

    #[test]
    fn read_finds_the_cookie_in_any_cookie_header() {
        let s = settings(&[]);
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; refresh=r.t"));
        h.append(header::COOKIE, HeaderValue::from_static("access=x.y.z"));
        assert_eq!(read(&h, &s, TokenCookie::Access), Some("x.y.z"));
        assert_eq!(read(&h, &s, TokenCookie::Refresh), Some("r.t"));
        assert_eq!(read(&h, &s, TokenCookie::Csrf), None);
        assert!(has_token_cookie(&h, &s));
        assert!(!has_token_cookie(&HeaderMap::new(), &s));
    }

    #[test]
    fn login_cookies_have_their_attributes() {
        let s = settings(&[]);
        let lines = set_cookie_lines(SetCookies::login(
            &s,
            &ClientInfo::unknown(),
            "A",
            "R",
            false,
        ));
        let find = |name: &str| {
            lines
                .iter()
                .find(|l| l.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in {lines:?}"))
                .clone()
        };
        let access = find("access");
        assert!(access.starts_with("access=A;"), "{access}");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(access.contains(attr), "{attr} in {access}");
        }
        assert!(!access.contains("Max-Age"), "a session cookie: {access}");
        let refresh = find("refresh");
        assert!(refresh.contains("Path=/api/token/"), "{refresh}");
        assert!(refresh.contains("HttpOnly"), "{refresh}");
        let csrf = find("csrftoken");
        assert!(!csrf.contains("HttpOnly"), "the page must read it: {csrf}");
        assert!(find("refresh-remember").contains("Max-Age=0"));
    }

    #[test]
    fn remember_makes_them_persistent() {
        let s = settings(&[
            ("ACCESS_TOKEN_LIFETIME", "2s"),
            ("REFRESH_TOKEN_LIFETIME", "1d"),
        ]);
        let lines = set_cookie_lines(SetCookies::login(
            &s,
            &ClientInfo::unknown(),
            "A",
            "R",
            true,
        ));
        let with = |prefix: &str| lines.iter().find(|l| l.starts_with(prefix)).unwrap();
        assert!(with("access=").contains("Max-Age=2"));
        assert!(with("refresh=").contains("Max-Age=86400"));
        assert!(with("refresh-remember=1").contains("Max-Age=86400"));
        assert!(with("csrftoken=").contains("Max-Age=86400"));
    }

    #[test]
    fn over_https_cookies_are_secure_even_with_the_setting_off() {
        let s = settings(&[("AUTH_COOKIE_SECURE", "false")]);
        let plain = ClientInfo::unknown();
        let https = ClientInfo::unknown().over_https(true);
        let secure = |cookies: SetCookies| {
            set_cookie_lines(cookies)
                .iter()
                .map(|l| l.contains("; Secure"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            secure(SetCookies::login(&s, &plain, "A", "R", true)),
            [false; 4]
        );
        assert_eq!(
            secure(SetCookies::login(&s, &https, "A", "R", true)),
            [true; 4]
        );
        assert_eq!(secure(SetCookies::cleared(&s, &https)), [true; 4]);
        let jar = CookieJar::new();
        assert_eq!(
            secure(SetCookies::refreshed(&s, &https, &jar, "A", Some("R"))),
            [true; 3]
        );
        // with the setting on, Secure over plain HTTP too (as before)
        let on = settings(&[]);
        assert_eq!(
            secure(SetCookies::login(&on, &plain, "A", "R", false)),
            [true; 4]
        );
    }

    #[test]
    fn nothing_is_set_with_cookies_off() {
        let s = Settings::default();
        assert!(set_cookie_lines(SetCookies::login(
            &s,
            &ClientInfo::unknown(),
            "A",
            "R",
            true
        ))
        .is_empty());
        assert!(set_cookie_lines(SetCookies::cleared(&s, &ClientInfo::unknown())).is_empty());
    }

    #[test]
    fn clearing_removes_every_cookie_on_its_path() {
        let s = settings(&[]);
        let lines = set_cookie_lines(SetCookies::cleared(&s, &ClientInfo::unknown()));
        assert_eq!(lines.len(), 4);
        for l in &lines {
            assert!(l.contains("Max-Age=0"), "{l}");
        }
        assert!(lines
            .iter()
            .any(|l| l.starts_with("refresh=;") && l.contains("Path=/api/token/")));
    }
}

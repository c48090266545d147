//! The optional plain-HTTP listener of an HTTPS server (`HTTP_REDIRECT_BIND`):
//! every request, whatever its method or path, is answered with a `308
//! Permanent Redirect` to the same path and query on `https://`, and
//! nothing else — no API is served in the clear, and no HSTS header is sent
//! (RFC 6797 §7.2: not over plain HTTP).
//!
//! Why 308 and not 301: a client that POSTs to the plain URL repeats the
//! POST on HTTPS instead of turning it into a GET (RFC 9110 §15.4.9).
//! Why no open redirect: the target host is the configured one
//! (`HTTP_REDIRECT_HOST`) or else the request's own host name, accepted only
//! when it is a host name or an IP address (no user info, no path, no
//! other scheme) — a redirect never leads off the host the client asked for.
//! The connection is served by the same loop as the API (timeouts, cap,
//! graceful stop); the request body is never read.

use std::net::Ipv6Addr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect as Redirect308, Response};
use axum::Router;
use http::uri::Authority;
use http::{header, StatusCode};

/// The host (and port) redirects point to, checked to be only that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectHost(String);

impl RedirectHost {
    /// A configured target: `host` or `host:port`, host a DNS name, an IPv4
    /// address or a bracketed IPv6 address. The error says what is wrong.
    pub fn configured(raw: &str) -> Result<Self, String> {
        let authority = plain_authority(raw.trim())
            .ok_or_else(|| format!("{raw:?} is not a host name or host:port"))?;
        Ok(Self(authority.as_str().to_owned()))
    }
}

/// An authority with no user info, whose host is a valid host name.
fn plain_authority(raw: &str) -> Option<Authority> {
    let authority: Authority = raw.parse().ok()?;
    if authority.as_str().contains('@') || !valid_host(authority.host()) {
        return None;
    }
    Some(authority)
}

/// A DNS name (labels of letters, digits and `-`, at most 253 bytes), an
/// IPv4 address or a bracketed IPv6 address.
fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Where the plain-HTTP listener sends its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    host: Option<RedirectHost>,
    https_port: u16,
}

impl Redirect {
    /// Redirects to `host` when configured, else to the request's host name
    /// with `https_port` (left out when it is 443).
    pub fn new(host: Option<RedirectHost>, https_port: u16) -> Self {
        Self { host, https_port }
    }

    /// The `Location` for a request that named `request_host` (its `Host`
    /// header or URI authority) and `path_and_query`; `None` when there is
    /// no configured host and the request's is missing or not a host.
    pub fn location(&self, request_host: Option<&str>, path_and_query: &str) -> Option<String> {
        let path = if path_and_query.starts_with('/') {
            path_and_query
        } else {
            "/"
        };
        if let Some(RedirectHost(host)) = &self.host {
            return Some(format!("https://{host}{path}"));
        }
        let authority = plain_authority(request_host?)?;
        let host = authority.host();
        Some(if self.https_port == 443 {
            format!("https://{host}{path}")
        } else {
            format!("https://{host}:{}{path}", self.https_port)
        })
    }

    /// The listener's whole application: one handler for every request.
    pub(crate) fn router(self) -> Router {
        Router::new()
            .fallback(redirect_to_https)
            .with_state(Arc::new(self))
    }
}

/// 308 to the HTTPS URL; 400 with an empty body when the request names no
/// usable host (and none is configured).
async fn redirect_to_https(State(redirect): State<Arc<Redirect>>, request: Request) -> Response {
    let uri = request.uri();
    // RFC 9112 §3.2.2: an absolute-form target's authority wins over Host.
    let host = uri.authority().map(Authority::as_str).or_else(|| {
        request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
    });
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match redirect.location(host, path) {
        Some(location) => Redirect308::permanent(&location).into_response(),
        None => StatusCode::BAD_REQUEST.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_host_with_the_https_port() {
        let r = Redirect::new(None, 8443);
        assert_eq!(
            r.location(Some("auth.example.com:8080"), "/api/token/?a=1")
                .as_deref(),
            Some("https://auth.example.com:8443/api/token/?a=1")
        );
        let r = Redirect::new(None, 443);
        assert_eq!(
            r.location(Some("[::1]"), "/x").as_deref(),
            Some("https://[::1]/x")
        );
        assert_eq!(r.location(Some("h"), "*").as_deref(), Some("https://h/"));
    }

    #[test]
    fn no_redirect_off_the_host() {
        let r = Redirect::new(None, 443);
        for bad in [
            "evil.example/x",
            "user@evil.example",
            "a b",
            "evil.example\\@good",
            "",
            "..",
        ] {
            assert_eq!(r.location(Some(bad), "/"), None, "{bad}");
        }
        assert_eq!(r.location(None, "/"), None);
        // a path that looks like a host stays a path on our host
        assert_eq!(
            r.location(Some("good.example"), "//evil.example/")
                .as_deref(),
            Some("https://good.example//evil.example/")
        );
    }

    #[test]
    fn a_configured_host_wins() {
        let host = RedirectHost::configured("auth.example.com").unwrap();
        let r = Redirect::new(Some(host), 8443);
        assert_eq!(
            r.location(Some("evil.example"), "/p").as_deref(),
            Some("https://auth.example.com/p")
        );
        assert_eq!(
            r.location(None, "/p").as_deref(),
            Some("https://auth.example.com/p")
        );
        assert!(RedirectHost::configured("https://x").is_err());
    }
}

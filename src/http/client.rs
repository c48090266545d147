//! The [`ClientInfo`] extractor: the client's address and the `User-Agent`
//! header.
//!
//! The address is the connection's peer (when the server was started with
//! connect info). Only when that peer is one of `TRUSTED_PROXIES` are its
//! forwarding headers read — `Forwarded` (RFC 7239) if present, else
//! `X-Forwarded-For` — from the right: each hop added by a trusted proxy is
//! skipped, and the first address that is not a trusted proxy is the client.
//! Anyone can write these headers, so from any other peer they are ignored;
//! an unreadable hop (`unknown`, an obfuscated name) stops the walk at the
//! last address known. Throttling and the audit log key on this address.
//!
//! The same rule decides whether the request came over HTTPS
//! ([`request_is_https`]), the one place that does: yes on this server's own
//! TLS connections ([`TlsConnection`], put there by the serving loop);
//! from a trusted proxy, when its `Forwarded: proto=` (else
//! `X-Forwarded-Proto`) says `https`. Cookies are `Secure` on such answers.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use http::request::Parts;
use http::{header, HeaderMap};
use ipnet::IpNet;

use crate::server::TlsConnection;
use crate::service::{AuthService, ClientInfo};

impl<S> FromRequestParts<S> for ClientInfo
where
    AuthService: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let service = AuthService::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let proxies = service.settings().trusted_proxies();
        let ip = peer.map(|peer| client_address(peer, &parts.headers, proxies));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        let https = request_is_https(
            parts.extensions.get::<TlsConnection>().is_some(),
            peer,
            &parts.headers,
            proxies,
        );
        Ok(ClientInfo::new(ip, user_agent).over_https(https))
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client's address: `peer`, or when `peer` is a trusted proxy, the
/// rightmost forwarded address that is not one.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if proxies.is_empty() || !trusted(peer, proxies) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !trusted(*ip, proxies) {
                    return client;
                }
            }
            None => return client,
        }
    }
    client
}

/// Whether the request came over HTTPS: `tls` (this server's own TLS
/// connection), or `peer` is a trusted proxy whose forwarding headers say
/// `https`. The proxy next to us is the one trusted, so its word counts:
/// the last `proto=` of `Forwarded` (RFC 7239 §5.4) when that header is
/// present, else the last value of `X-Forwarded-Proto`. From any other
/// peer the headers are ignored.
pub fn request_is_https(
    tls: bool,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &[IpNet],
) -> bool {
    if tls {
        return true;
    }
    match peer {
        Some(peer) if !proxies.is_empty() && trusted(peer, proxies) => {
            forwarded_proto(headers).is_some_and(|p| p.eq_ignore_ascii_case("https"))
        }
        _ => false,
    }
}

/// The scheme the nearest proxy reports: the last `proto=` of `Forwarded`,
/// or without that header, the last value of `X-Forwarded-Proto`.
fn forwarded_proto(headers: &HeaderMap) -> Option<&str> {
    let mut forwarded = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .peekable();
    if forwarded.peek().is_some() {
        return forwarded
            .flat_map(|line| line.split(','))
            .filter_map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("proto"))
                    .map(|(_, v)| v.trim().trim_matches('"'))
            })
            .next_back();
    }
    headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .next_back()
}

/// The addresses the forwarding headers list, left (client) to right (last
/// proxy); `None` for a hop that is not an address. `Forwarded` wins when
/// present; several header lines are read in order.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_address(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// An address from a forwarded node: `192.0.2.1`, `192.0.2.1:4711`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711` or a bare IPv6 address.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let inner = node.strip_prefix('[')?.split(']').next()?;
    inner.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=1.2.3.4")]);
        let peer = ip("203.0.113.9");
        assert_eq!(client_address(peer, &h, &[]), peer);
        assert_eq!(client_address(peer, &h, &nets(&["10.0.0.0/8"])), peer);
    }

    #[test]
    fn https_is_known_from_tls_or_from_a_trusted_proxy_only() {
        let proxies = nets(&["10.0.0.0/8"]);
        let proxy = Some(ip("10.0.0.2"));
        let stranger = Some(ip("203.0.113.9"));
        let none = HeaderMap::new();
        // our own TLS connection
        assert!(request_is_https(true, stranger, &none, &[]));
        assert!(!request_is_https(false, stranger, &none, &proxies));
        let xfp = headers(&[("x-forwarded-proto", "https")]);
        let fwd = headers(&[("forwarded", "for=198.51.100.7;proto=https")]);
        for h in [&xfp, &fwd] {
            assert!(request_is_https(false, proxy, h, &proxies));
            // anyone else's headers are ignored
            assert!(!request_is_https(false, stranger, h, &proxies));
            assert!(!request_is_https(false, proxy, h, &[]));
            assert!(!request_is_https(false, None, h, &proxies));
        }
        // the nearest proxy's word counts; Forwarded wins over X-Forwarded-Proto
        let h = headers(&[("x-forwarded-proto", "https, http")]);
        assert!(!request_is_https(false, proxy, &h, &proxies));
        let h = headers(&[
            (
                "forwarded",
                r#"for=6.6.6.6;proto=http, for=10.0.0.1;proto="HTTPS""#,
            ),
            ("x-forwarded-proto", "http"),
        ]);
        assert!(request_is_https(false, proxy, &h, &proxies));
        let h = headers(&[("forwarded", "for=1.2.3.4"), ("x-forwarded-proto", "https")]);
        assert!(!request_is_https(false, proxy, &h, &proxies));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = nets(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.2");
        // the client wrote a fake first hop; the proxies appended the real one
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.1")]);
        assert_eq!(client_address(peer, &h, &proxies), ip("198.51.100.7"));
        let h = headers(&[
            (
                "forwarded",
                r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#,
            ),
            ("forwarded", "for=10.0.0.1"),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(client_address(peer, &h, &proxies), ip("2001:db8::7"));
        // an unreadable hop stops the walk at the last known address
        let h = headers(&[("forwarded", "for=unknown, for=10.0.0.1")]);
        assert_eq!(client_address(peer, &h, &proxies), ip("10.0.0.1"));
        // no header: the proxy itself
        assert_eq!(client_address(peer, &HeaderMap::new(), &proxies), peer);
        // a mapped IPv4 peer is matched as IPv4
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.2"),
                &headers(&[("x-forwarded-for", "192.0.2.5:80")]),
                &proxies
            ),
            ip("192.0.2.5")
        );
    }
}

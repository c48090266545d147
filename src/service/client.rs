//! Who made a request, as far as the auth logic needs to know: the client's
//! address and user agent, and whether the request came over HTTPS. Sessions record them, throttling counts by
//! address, the audit log names them. The HTTP layer fills it in (taking
//! the address from a forwarding header only behind a trusted proxy); the
//! service never reads a request itself.

use std::net::IpAddr;

/// Longest user agent kept, in bytes (longer ones are cut at a character boundary).
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// The client of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address, when known.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, at most [`MAX_USER_AGENT_BYTES`].
    pub user_agent: Option<String>,
    /// The request reached us over HTTPS: on this server's own TLS
    /// connection, or through a trusted proxy that says so. Cookies set in
    /// answer to it are always `Secure`.
    pub https: bool,
}

impl ClientInfo {
    /// A client with an address and a user agent (cut to the limit).
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent.map(|ua| {
            let mut end = ua.len().min(MAX_USER_AGENT_BYTES);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua[..end].to_owned()
        });
        Self {
            ip,
            user_agent,
            https: false,
        }
    }

    /// The same client, noting whether the request came over HTTPS.
    pub fn over_https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// An unknown client (the command line, tests).
    pub fn unknown() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_user_agents_are_cut_at_a_character_boundary() {
        let ua = "é".repeat(400);
        let c = ClientInfo::new(None, Some(&ua));
        let kept = c.user_agent.unwrap();
        assert!(kept.len() <= MAX_USER_AGENT_BYTES);
        assert!(ua.starts_with(&kept));
    }
}

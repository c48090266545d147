//! The [`ClientInfo`] extractor: the peer address (from the connection, when
//! the server was started with connect info) and the `User-Agent` header.
//! Forwarded addresses (`X-Forwarded-For`, `Forwarded`) are not trusted here:
//! that needs a configured list of trusted proxies.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::header;
use http::request::Parts;

use crate::service::ClientInfo;

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Ok(ClientInfo::new(ip, user_agent))
    }
}

//! The address a request came from, for throttling. The connection's peer address,
//! unless that peer is a configured proxy (`--trusted-proxies`): then the nearest
//! address in `X-Forwarded-For` that is not itself a trusted proxy. Forwarded headers
//! from anyone else are ignored, so a client cannot pick its own address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

use crate::state::AppState;

/// The client's IP address, if known (absent when served without `ConnectInfo`).
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client of a request, from its connection and headers.
    pub fn of<B>(req: &axum::http::Request<B>, app: &AppState) -> Self {
        Self::from_parts(req.extensions(), req.headers(), app)
    }

    fn from_parts(extensions: &Extensions, headers: &HeaderMap, app: &AppState) -> Self {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        ClientAddr(peer.map(|peer| client_ip(peer, headers, &app.config.trusted_proxies)))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(&parts.extensions, &parts.headers, app))
    }
}

/// Whether `peer` is one of the `trusted` proxies, whose forwarded headers count.
pub fn is_trusted_proxy(peer: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&peer))
}

/// The client behind `peer`: walks `X-Forwarded-For` from the right (the entry the
/// nearest proxy appended) while the hop is a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| is_trusted_proxy(*ip, trusted);
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            // An unparsable hop ends the chain: the last address we trust is the answer.
            Err(_) => break,
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Matrix: RL-01
    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // A client that is not a proxy cannot choose its address.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers("1.2.3.4"), &proxies),
            ip("203.0.113.9")
        );
        // Behind the proxy: the nearest untrusted hop, not what the client prepended.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers("6.6.6.6, 198.51.100.7"), &proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers("198.51.100.7, 10.0.0.3"), &proxies),
            ip("198.51.100.7")
        );
        // Garbage in the chain stops at the last trusted hop.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers("1.1.1.1, nonsense"), &proxies),
            ip("10.0.0.2")
        );
        // No proxies configured: the header is ignored.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers("1.2.3.4"), &[]),
            ip("10.0.0.2")
        );
    }
}

//! Outbound addresses triggers may not reach: link-local ranges (where cloud metadata
//! services answer, 169.254.169.254 and fd00:ec2::254), unspecified and multicast
//! addresses. Checked on every resolved address, so a name that resolves (or later
//! re-resolves) to such an address is refused too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Whether `ip` is refused as a trigger target (unless the operator allows it).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                // 100.100.100.200: Alibaba Cloud's metadata service.
                || v4.octets() == [100, 100, 100, 200]
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // fe80::/10 (link-local), fd00:ec2::254 (AWS's IPv6 metadata service).
            (seg[0] & 0xffc0) == 0xfe80
                || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || v6.is_unspecified()
                || v6.is_multicast()
        }
    }
}

/// Resolves names with the system resolver and drops the forbidden addresses; a name
/// left with none fails.
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no address a trigger may reach").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Cognito's limit on one trigger invocation.
pub const TRIGGER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The one client every trigger invocation goes through (connections are reused): no
/// redirects, Cognito's 5-second limit as a hard timeout, and, unless
/// `allow_link_local`, the guarded resolver.
pub fn trigger_client(allow_link_local: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TRIGGER_TIMEOUT)
        .connect_timeout(TRIGGER_TIMEOUT)
        .pool_idle_timeout(std::time::Duration::from_secs(60));
    if !allow_link_local {
        builder = builder.dns_resolver(Arc::new(GuardedResolver));
    }
    builder.build().expect("a TLS backend is compiled in")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_link_local_addresses_are_forbidden() {
        for ip in [
            "169.254.169.254",
            "169.254.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
            "0.0.0.0",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["127.0.0.1", "::1", "10.0.0.1", "93.184.216.34"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }
}

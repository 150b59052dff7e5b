//! Outbound addresses webhook triggers may not reach (security matrix WH-03): loopback,
//! private (RFC 1918), CGNAT (100.64.0.0/10), unique-local IPv6 (fc00::/7), link-local
//! (where cloud metadata services answer, 169.254.169.254 and fd00:ec2::254),
//! unspecified, multicast and broadcast addresses, and IPv4 addresses written inside
//! IPv6 (mapped, compatible, NAT64). Checked when a target is configured (literal
//! addresses and `localhost`) and again at send time on every resolved address: the
//! webhook client's resolver hands the connector only addresses it has checked, so the
//! connection goes to the address that was checked (no second lookup to rebind).
//!
//! The development flag `--trigger-allow-private` lets loopback, private, CGNAT and
//! unique-local addresses through; link-local and metadata addresses stay refused.
//! The Lambda Invoke endpoint is the operator's configuration and is not checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Addresses refused even with the development flag: link-local and metadata
/// services, unspecified, multicast, broadcast.
fn always_refused_v4(ip: Ipv4Addr) -> bool {
    ip.is_link_local()
        || ip.is_unspecified()
        || ip.octets()[0] == 0
        || ip.is_multicast()
        || ip.is_broadcast()
        // 100.100.100.200: Alibaba Cloud's metadata service (inside CGNAT).
        || ip.octets() == [100, 100, 100, 200]
}

/// Loopback, RFC 1918 and CGNAT: allowed only with the development flag.
fn private_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback() || ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    None
}

/// Whether a webhook may not go to `ip`; `allow_private` is the development flag.
pub fn is_refused(ip: IpAddr, allow_private: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => always_refused_v4(v4) || (!allow_private && private_v4(v4)),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_refused(IpAddr::V4(v4), allow_private);
            }
            let seg = v6.segments();
            let always = (seg[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS metadata
                || v6.is_unspecified()
                || v6.is_multicast();
            let private = v6.is_loopback() || (seg[0] & 0xfe00) == 0xfc00; // fc00::/7
            always || (!allow_private && private)
        }
    }
}

/// Whether a host name is loopback by definition (`localhost`, `*.localhost`).
pub fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Resolves names with the system resolver and keeps only the addresses a webhook may
/// reach; a name left with none fails, so no connection is attempted.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = resolve_allowed(name.as_str(), allow_private).await?;
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses of `host` a webhook may reach; an error if there are none.
pub async fn resolve_allowed(
    host: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    if !allow_private && is_loopback_name(host) {
        return Err(format!("{host} is a loopback name").into());
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await?
        .filter(|a| !is_refused(a.ip(), allow_private))
        .collect();
    if found.is_empty() {
        return Err(format!("{host} resolves to no address a trigger may reach").into());
    }
    Ok(found)
}

/// Cognito's limit on one trigger invocation.
pub const TRIGGER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn base_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TRIGGER_TIMEOUT)
        .connect_timeout(TRIGGER_TIMEOUT)
        .pool_idle_timeout(std::time::Duration::from_secs(60))
}

/// The client Lambda invocations go through (the operator's `--lambda-endpoint`): no
/// redirects, Cognito's 5-second limit as a hard timeout.
pub fn lambda_client() -> reqwest::Client {
    base_client().build().expect("a TLS backend is compiled in")
}

/// The client webhooks go through: as [`lambda_client`], and only to addresses the
/// guarded resolver checked.
pub fn webhook_client(allow_private: bool) -> reqwest::Client {
    base_client()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
        .expect("a TLS backend is compiled in")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Matrix: WH-03
    #[test]
    fn private_loopback_metadata_and_embedded_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "fc00::1",
            "fd12:3456::1",
            "169.254.169.254",
            "169.254.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_refused(ip.parse().unwrap(), false), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1::1",
            "100.128.0.1",
            "::ffff:93.184.216.34",
        ] {
            assert!(!is_refused(ip.parse().unwrap(), false), "{ip}");
        }
    }

    #[test]
    fn the_development_flag_allows_private_but_never_metadata() {
        for ip in [
            "127.0.0.1",
            "::1",
            "10.0.0.1",
            "100.64.0.1",
            "fd12::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_refused(ip.parse().unwrap(), true), "{ip}");
        }
        for ip in [
            "169.254.169.254",
            "fd00:ec2::254",
            "fe80::1",
            "0.0.0.0",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_refused(ip.parse().unwrap(), true), "{ip}");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_fail_at_send_time() {
        assert!(resolve_allowed("localhost", false).await.is_err());
        assert!(resolve_allowed("127.0.0.1", false).await.is_err());
        assert!(resolve_allowed("169.254.169.254", true).await.is_err());
        assert!(resolve_allowed("127.0.0.1", true).await.is_ok());
    }
}

//! The HTTP calls idhub makes to URLs that services registered (their keys
//! at `jwksUri`, their `backchannelLogoutUri`).
//!
//! A URL an anonymous registrant chose (RFC 7591 open registration) must not
//! point idhub at what only idhub can reach: its own host, a private network,
//! a cloud metadata address. Such URLs are called through a client whose
//! resolver refuses every special-purpose address (the IANA registries, with
//! IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms read as the IPv4
//! address they carry), after resolution and on every call, and that
//! connects only to the addresses it approved, so a name that changes its
//! answer between a check and the connection gains nothing. Literal
//! addresses never reach a resolver, so they are checked before the call.
//! No redirects are followed and no proxy is used.
//!
//! URLs of a service an administrator stands behind (made by one, or
//! verified or trusted by one) may reach internal hosts: a back-channel
//! logout receiver inside the network is common.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Who chose the URL, and so where it may lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Of a service an administrator stands behind (`Service::vouched_for`).
    Anywhere,
    /// Of an unverified client, which chose it itself: public addresses only.
    PublicOnly,
}

/// The two clients, built once.
#[derive(Clone)]
pub struct Outbound {
    anywhere: reqwest::Client,
    public_only: reqwest::Client,
}

impl Outbound {
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
        };
        let anywhere = builder().build().map_err(|e| format!("HTTP client: {e}"))?;
        let public_only = builder()
            .no_proxy()
            .dns_resolver(Arc::new(PublicResolver))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            anywhere,
            public_only,
        })
    }

    /// The client to call `url` with, or why it may not be called.
    pub fn client_for(&self, url: &str, reach: Reach) -> Result<&reqwest::Client, String> {
        match reach {
            Reach::Anywhere => Ok(&self.anywhere),
            Reach::PublicOnly => {
                let parsed = url::Url::parse(url).map_err(|_| "not a URL".to_owned())?;
                match parsed.host() {
                    Some(host) if !refused_host(&host) => Ok(&self.public_only),
                    _ => Err("not a public host".into()),
                }
            }
        }
    }
}

/// A host a self-registered URL may not name before any resolution: a
/// special-purpose literal address, or a name of this host (`localhost`,
/// with or without the trailing dot of a fully qualified name).
pub fn refused_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => is_special_purpose(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => is_special_purpose(IpAddr::V6(*ip)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name.is_empty() || name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// Whether `ip` is in an IANA special-purpose range (RFC 6890 and its
/// updates) or is not globally routable: anything but an ordinary public
/// unicast address.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network"
        || a == 10 // private
        || a == 127 // loopback
        || a >= 224 // multicast, reserved, broadcast
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 168) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4);
    }
    let embedded_v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // IPv4-compatible (deprecated), which includes :: and ::1.
    if s[..6] == [0; 6] {
        return true;
    }
    // NAT64 well-known prefix: as special as the IPv4 address it carries.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return special_v4(embedded_v4(s[6], s[7]));
    }
    (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments, Teredo
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0] == 0x2002 // 6to4
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation (3fff::/20)
        || s[0] == 0x5f00 // segment routing
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] & 0xe000) != 0x2000 // outside global unicast 2000::/3
}

/// Resolves with the system's resolver and refuses a name if any of its
/// addresses is special-purpose (a name that answers with both a public and
/// a private address is a rebinding attempt, not a service).
struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if found.is_empty() || found.iter().any(|a| is_special_purpose(a.ip())) {
                return Err(format!("{host} does not resolve to public addresses only").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn special(text: &str) -> bool {
        is_special_purpose(text.parse().expect("an address"))
    }

    #[test]
    fn internal_and_reserved_addresses_are_special() {
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(special(ip), "{ip} should be special-purpose");
        }
    }

    #[test]
    fn public_addresses_are_not() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(!special(ip), "{ip} should be public");
        }
    }

    #[test]
    fn names_of_this_host_are_refused_with_or_without_the_final_dot() {
        for host in ["localhost", "localhost.", "LOCALHOST", "a.localhost.", "."] {
            assert!(refused_host(&url::Host::Domain(host)), "{host}");
        }
        assert!(!refused_host(&url::Host::Domain("keys.example.com.")));
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_of_a_loopback_address() {
        let name: Name = "localhost".parse().expect("a name");
        assert!(PublicResolver.resolve(name).await.is_err());
    }

    #[tokio::test]
    async fn the_public_client_does_not_connect_to_a_name_of_this_host() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let outbound = Outbound::new(Duration::from_secs(2)).expect("clients");
        let sent = outbound
            .public_only
            .get(format!("http://localhost:{port}/"))
            .send()
            .await;
        assert!(sent.is_err());
        let accepted = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
        assert!(accepted.is_err(), "no connection was made");
    }

    #[test]
    fn a_self_registered_literal_address_is_refused_before_any_call() {
        let outbound = Outbound::new(Duration::from_secs(1)).expect("clients");
        for url in [
            "https://[::ffff:127.0.0.1]:8443/jwks",
            "https://169.254.169.254/latest",
            "https://localhost./jwks",
            "https://100.64.1.1/",
        ] {
            assert!(
                outbound.client_for(url, Reach::PublicOnly).is_err(),
                "{url}"
            );
            assert!(outbound.client_for(url, Reach::Anywhere).is_ok(), "{url}");
        }
        assert!(outbound
            .client_for("https://keys.example.com/jwks", Reach::PublicOnly)
            .is_ok());
    }
}

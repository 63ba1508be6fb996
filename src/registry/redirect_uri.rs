//! Redirect URIs: what may be registered, and how a presented one is matched.
use std::net::IpAddr;

use url::{Host, Url};

pub const OUT_OF_BAND: &str = "urn:ietf:wg:oauth:2.0:oob";
/// Schemes a browser would run or read locally instead of sending to a client.
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "file",
    "vbscript",
    "about",
    "blob",
    "filesystem",
];

/// Checks a URI offered for registration; the error says why it is refused.
pub fn validate(uri: &str) -> Result<(), String> {
    if uri == OUT_OF_BAND {
        return Ok(());
    }
    if uri.len() > crate::validate::MAX_URL {
        return Err(format!(
            "is longer than {} characters",
            crate::validate::MAX_URL
        ));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".into());
    }
    let parsed = Url::parse(uri).map_err(|_| "must be an absolute URI".to_owned())?;
    if parsed.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "https" => Err("needs a host".into()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err("may use http only for loopback hosts; use https".into()),
        scheme if FORBIDDEN_SCHEMES.contains(&scheme) => {
            Err(format!("may not use the {scheme} scheme"))
        }
        _ => Ok(()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Exact string match, except that a loopback `http` URI matches on any port
/// (RFC 8252 §7.3: native apps listen on an ephemeral port). Nothing else is
/// normalised: `127.1`, `/x/../cb` or a dropped tab never match `127.0.0.1/cb`.
pub fn matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    match (
        without_loopback_port(registered),
        without_loopback_port(presented),
    ) {
        (Some(registered), Some(presented)) => registered == presented,
        _ => false,
    }
}

/// `http://IP[:port]rest` with a loopback IP literal written canonically, as
/// `http://IPrest`; None for anything else. Works on the text, not a parsed URL,
/// so what is compared is exactly what will be sent back in `Location`.
fn without_loopback_port(uri: &str) -> Option<String> {
    if uri
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '#')
    {
        return None;
    }
    let rest = uri.strip_prefix("http://")?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host, ip, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, port) = bracketed.split_once(']')?;
            let ip = IpAddr::V6(inside.parse().ok()?);
            (format!("[{inside}]"), ip, port)
        }
        None => {
            let (host, port) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
            (host.to_owned(), IpAddr::V4(host.parse().ok()?), port)
        }
    };
    let canonical = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            digits.parse::<u16>().is_ok() && digits.bytes().all(|b| b.is_ascii_digit())
        });
    (ip.is_loopback() && host == canonical && port_ok).then(|| format!("http://{host}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_matching_refuses_hidden_characters() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb"));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5000/c\nb"
        ));
        assert!(!matches(
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5000/c\tb"
        ));
    }

    #[test]
    fn registration_rules() {
        for good in [
            "https://app.example.com/cb",
            "http://127.0.0.1/cb",
            "http://localhost:3000/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
            OUT_OF_BAND,
        ] {
            assert!(validate(good).is_ok(), "{good}");
        }
        for bad in [
            "/relative",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "not a uri",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact_except_loopback_port() {
        assert!(matches("https://a.example/cb", "https://a.example/cb"));
        assert!(!matches("https://a.example/cb", "https://a.example/cb/"));
        assert!(!matches("https://a.example/cb", "https://a.example/cb?x=1"));
        assert!(!matches(
            "https://a.example/cb",
            "https://a.example:8443/cb"
        ));
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches("http://[::1]:80/cb", "http://[::1]:9/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5/other"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.2:5/cb"));
        // RFC 8252 §8.3: "localhost" may resolve elsewhere, so only IP literals float.
        assert!(!matches("http://localhost/cb", "http://localhost:5/cb"));
        // Only the port may differ: no other spelling of the host or path.
        for other in [
            "http://127.1:5/cb",
            "http://127.0.0.1:5/x/../cb",
            "http://127.0.0.1:5/%63b",
            "http://127.0.0.1:5/cb#x",
            "http://127.0.0.1:+5/cb",
            "http://127.0.0.1:99999/cb",
            "http://user@127.0.0.1:5/cb",
            "HTTP://127.0.0.1:5/cb",
            "http://127.0.0.1:5/CB",
        ] {
            assert!(!matches("http://127.0.0.1/cb", other), "{other}");
        }
        assert!(!matches("http://[::1]/cb", "http://[0:0::1]:5/cb"));
        assert!(matches(
            "http://127.0.0.1:80/cb?x=1",
            "http://127.0.0.1/cb?x=1"
        ));
    }
}

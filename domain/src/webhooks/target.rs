//! Where a webhook may be sent: the SSRF guard.
//!
//! A webhook URL is chosen by a client, and this server POSTs to it from inside the network. So a
//! target must be `https` (plain `http` only when the process runs in development), carry no
//! credentials, and resolve only to public addresses: loopback, private (RFC 1918, unique-local),
//! link-local (cloud metadata lives at 169.254.169.254), carrier-grade NAT, multicast and reserved
//! ranges are refused unless the operator allows private targets. The check runs when an endpoint
//! is created and again at every delivery through [`GuardedResolver`], so a name that is re-pointed
//! at an internal address later (DNS rebinding) is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

use crate::error::{DomainError, DomainResult};

/// What the operator allows as a webhook target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Accept `http://` targets (development only).
    pub allow_http: bool,
    /// Accept loopback, private and link-local addresses (tests and closed networks).
    pub allow_private: bool,
}

/// The user-error code for a refused target.
pub const TARGET_NOT_ALLOWED: &str = "TARGET_NOT_ALLOWED";
/// The user-error code for a URL that is not a usable webhook URL at all.
pub const INVALID_URL: &str = "INVALID_URL";

/// True for addresses a webhook must not reach unless private targets are allowed.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || v6 == Ipv6Addr::from([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]) // NAT64 prefix base
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

fn refused(message: String) -> DomainError {
    DomainError::invalid(TARGET_NOT_ALLOWED, Some("url"), message)
}

/// Parses a webhook URL and applies the rules that need no DNS: scheme, credentials, host, and
/// the address when the host is an IP literal.
pub fn parse(raw: &str, policy: TargetPolicy) -> DomainResult<Url> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        DomainError::invalid(
            INVALID_URL,
            Some("url"),
            format!("not an absolute URL: {e}"),
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err(refused(
                "webhook URLs must use https (http is accepted in development mode only)".into(),
            ))
        }
        other => {
            return Err(DomainError::invalid(
                INVALID_URL,
                Some("url"),
                format!("unsupported scheme `{other}`; use https"),
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DomainError::invalid(
            INVALID_URL,
            Some("url"),
            "webhook URLs must not carry credentials; authenticate with the signature instead",
        ));
    }
    let ip = match url.host() {
        None => {
            return Err(DomainError::invalid(
                INVALID_URL,
                Some("url"),
                "the URL has no host",
            ))
        }
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(Host::Domain(_)) => None,
    };
    if let Some(ip) = ip {
        if !policy.allow_private && is_internal(ip) {
            return Err(refused(format!(
                "{ip} is a loopback, private or link-local address"
            )));
        }
    }
    Ok(url)
}

/// [`parse`], then resolves the host and refuses it when any of its addresses is internal.
pub async fn check(raw: &str, policy: TargetPolicy) -> DomainResult<Url> {
    let url = parse(raw, policy)?;
    let Some(Host::Domain(host)) = url.host() else {
        return Ok(url);
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| refused(format!("{host} does not resolve")))?
        .collect();
    if addrs.is_empty() {
        return Err(refused(format!("{host} does not resolve")));
    }
    if !policy.allow_private {
        if let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
            return Err(refused(format!(
                "{host} resolves to {}, a loopback, private or link-local address",
                bad.ip()
            )));
        }
    }
    Ok(url)
}

/// A DNS resolver for the webhook HTTP client that refuses names resolving to internal addresses,
/// so the address checked is the address connected to.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                if let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
                    let message =
                        format!("{host} resolves to internal address {}; refused", bad.ip());
                    return Err(message.into());
                }
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_http: false,
        allow_private: false,
    };

    #[test]
    fn internal_addresses_are_recognized() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip} is internal");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn only_https_without_credentials_is_accepted_in_production() {
        assert!(parse("https://example.com/hook", STRICT).is_ok());
        assert!(parse("http://example.com/hook", STRICT).is_err());
        assert!(parse(
            "http://example.com/hook",
            TargetPolicy {
                allow_http: true,
                ..STRICT
            }
        )
        .is_ok());
        assert!(parse("https://user:pw@example.com/hook", STRICT).is_err());
        assert!(parse("ftp://example.com/", STRICT).is_err());
        assert!(parse("not a url", STRICT).is_err());
    }

    #[test]
    fn ip_literal_targets_are_checked_without_dns() {
        let err = parse("https://169.254.169.254/latest/meta-data", STRICT).unwrap_err();
        assert!(
            matches!(err, DomainError::Invalid { code, .. } if code == TARGET_NOT_ALLOWED),
            "{err:?}"
        );
        assert!(parse("https://[::1]:8443/", STRICT).is_err());
        assert!(parse(
            "https://127.0.0.1:8443/",
            TargetPolicy {
                allow_private: true,
                ..STRICT
            }
        )
        .is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let err = check("https://localhost/hook", STRICT).await.unwrap_err();
        assert!(
            matches!(err, DomainError::Invalid { code, .. } if code == TARGET_NOT_ALLOWED),
            "{err:?}"
        );
    }
}

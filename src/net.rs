//! Outbound connections chosen by tenants (a store's SMTP host) must not reach our own machine or
//! network: names are resolved and every address is checked, at save and again at connect, and the
//! connection goes to the checked address (so a name cannot resolve elsewhere in between).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Is `ip` an address on the public internet (not loopback, private, link-local, shared, cloud
/// metadata, multicast, documentation, or an IPv6 form of one of those)?
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // IPv4 inside IPv6: NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4
            // address they carry, which must be public itself.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ));
            }
            if s[0] == 0x2002 {
                return is_public_v4(Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                ));
            }
            let first = s[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS metadata over IPv6
                || v6.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first == 0x2001 && v6.segments()[1] == 0) // Teredo: a tunnel to anywhere
                || (first == 0x64 && v6.segments()[1] == 0xff9b)) // local-use NAT64 (64:ff9b:1::/48)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, including 169.254.169.254
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

/// An HTTP client for calls out (email providers, webhooks): rustls with the ring provider and the
/// Mozilla roots compiled in, so the binary needs no system certificates or OpenSSL; no redirects
/// followed; a deadline; and, where given, a resolver of our own.
pub(crate) fn http_client(
    timeout: std::time::Duration,
    resolver: Option<std::sync::Arc<dyn reqwest::dns::Resolve>>,
) -> Result<reqwest::Client, String> {
    // reqwest asks for a process-wide provider even with a preconfigured TLS config; ring it is.
    // (Err only means one is installed already.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")));
    if let Some(resolver) = resolver {
        // A proxy would resolve the target itself, past our resolver's check.
        builder = builder.dns_resolver(resolver).no_proxy();
    }
    builder.build().map_err(|e| e.to_string())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AddressError {
    #[error("the host name could not be resolved")]
    Unresolved,
    #[error(
        "the host resolves to a loopback, private, link-local or metadata address, which is not allowed"
    )]
    NotPublic,
}

/// Resolves `host:port` and returns its addresses if every one of them may be used.
pub(crate) async fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, AddressError> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| AddressError::Unresolved)?
        .collect();
    if addresses.is_empty() {
        return Err(AddressError::Unresolved);
    }
    if !allow_private && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(AddressError::NotPublic);
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "fd00:ec2::254",
            "fe80::1",
            "fc00::1",
            "::",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "203.0.114.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn names_and_numeric_forms_resolving_inside_are_refused() {
        for host in [
            "localhost",
            "127.0.0.1",
            "0x7f000001",
            "2130706433",
            "[::ffff:127.0.0.1]",
            "::1",
        ] {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let result = resolve_checked(host, 25, false).await;
            assert!(result.is_err(), "{host}: {result:?}");
        }
        assert!(resolve_checked("127.0.0.1", 25, true).await.is_ok());
    }
}

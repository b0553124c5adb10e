//! SSRF guard: which IP addresses a webhook may never reach, and endpoint URL validation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest endpoint URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 4096;

/// IPv4 ranges that are never a webhook target: (network, prefix length).
const FORBIDDEN_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network", unspecified
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 CGNAT shared space
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local, cloud metadata 169.254.169.254
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2.0/24 TEST-NET-1 documentation
    (0xc058_6300, 24), // 192.88.99.0/24 deprecated 6to4 relay anycast
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 TEST-NET-2 documentation
    (0xcb00_7100, 24), // 203.0.113.0/24 TEST-NET-3 documentation
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, 255.255.255.255 broadcast
];

/// IPv6 ranges that are never a webhook target, whatever they embed.
const FORBIDDEN_V6: &[(u128, u8)] = &[
    (0, 96), // ::/96: unspecified ::, loopback ::1, deprecated IPv4-compatible ::a.b.c.d
    (0x0000_0000_0000_0000_ffff_0000_0000_0000, 96), // ::ffff:0:0:0/96 IPv4-translated (SIIT)
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // 64:ff9b:1::/48 local-use NAT64
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64 discard-only
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23 IETF assignments, incl. Teredo 2001::/32
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32 documentation
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // 3fff::/20 documentation
    (0x5f00_0000_0000_0000_0000_0000_0000_0000, 16), // 5f00::/16 SRv6 SIDs
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7), // fc00::/7 unique local, incl. fd00:ec2::254 (AWS metadata)
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10 link-local
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // fec0::/10 deprecated site-local
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8), // ff00::/8 multicast
];

const V4_MAPPED: (u128, u8) = (0x0000_0000_0000_0000_0000_ffff_0000_0000, 96); // ::ffff:0:0/96
const NAT64: (u128, u8) = (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96); // 64:ff9b::/96
const SIX_TO_FOUR: (u128, u8) = (0x2002_0000_0000_0000_0000_0000_0000_0000, 16); // 2002::/16

fn in_v4(addr: u32, (net, len): (u32, u8)) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    };
    addr & mask == net & mask
}

fn in_v6(addr: u128, (net, len): (u128, u8)) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    addr & mask == net & mask
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let addr = u32::from(ip);
    FORBIDDEN_V4.iter().any(|&range| in_v4(addr, range))
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let addr = u128::from(ip);
    if FORBIDDEN_V6.iter().any(|&range| in_v6(addr, range)) {
        return true;
    }
    // Addresses that embed an IPv4 address reach that address.
    if in_v6(addr, V4_MAPPED) || in_v6(addr, NAT64) {
        // Low 32 bits.
        return is_forbidden_v4(Ipv4Addr::from((addr & 0xffff_ffff) as u32));
    }
    if in_v6(addr, SIX_TO_FOUR) {
        // 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD in bits 16..48.
        return is_forbidden_v4(Ipv4Addr::from(((addr >> 80) & 0xffff_ffff) as u32));
    }
    false
}

/// True when a webhook must never connect to `ip`: loopback, unspecified,
/// private (10/8, 172.16/12, 192.168/16), CGNAT (100.64/10), link-local
/// (169.254/16, fe80::/10) including cloud metadata (169.254.169.254,
/// fd00:ec2::254), multicast, broadcast and reserved (240/4), `0.0.0.0/8`,
/// documentation and benchmarking ranges, IPv6 unique-local (fc00::/7) and
/// site-local, the IETF-reserved 2001::/23 (Teredo included), and any
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address embedding a
/// forbidden IPv4 address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

/// Why an endpoint URL (or its resolved addresses) was refused. The messages
/// are meant for the API user who registered the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not a URL at all.
    #[error("invalid URL: {0}")]
    Invalid(url::ParseError),
    /// Longer than [`MAX_URL_LEN`].
    #[error("URL is longer than {MAX_URL_LEN} bytes")]
    TooLong,
    /// Scheme other than http or https.
    #[error("only http and https URLs are allowed")]
    UnsupportedScheme,
    /// No host.
    #[error("URL has no host")]
    MissingHost,
    /// `user:password@` in the URL.
    #[error("URLs with credentials (user:password@) are not allowed")]
    UserInfo,
    /// Port 0.
    #[error("URL port is not allowed")]
    InvalidPort,
    /// A host name that always means this machine (`localhost`, `*.localhost`).
    #[error("host is not allowed: it refers to this machine")]
    ForbiddenHost,
    /// An address (literal or resolved) in a forbidden range. The message
    /// does not name the address: echoing what a host name resolved to would
    /// tell an API caller about internal DNS (the address is kept for logs).
    #[error(
        "not a public address: loopback, private, link-local and otherwise reserved addresses are not allowed (for a receiver on this machine during development, start kycd with `kycd serve --dev` or KYCD_WEBHOOK_ALLOW_PRIVATE=true)"
    )]
    ForbiddenAddress(IpAddr),
    /// The host name resolved to no address.
    #[error("host name resolved to no address")]
    NoAddresses,
}

/// Scheme of an accepted endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

/// Host of an accepted endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetHost {
    /// A DNS name, lowercase ASCII (IDNA-encoded), without a trailing dot. The
    /// caller resolves it and passes every address to [`check_resolved_addrs`]
    /// (or [`is_forbidden_ip`]).
    Domain(String),
    /// An IP literal, already checked by [`check_url`].
    Ip(IpAddr),
}

/// An endpoint URL that passed [`check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTarget {
    /// The parsed, normalized URL (WHATWG rules, as browsers and reqwest use).
    pub url: Url,
    /// http or https.
    pub scheme: Scheme,
    /// Domain name or IP literal.
    pub host: TargetHost,
    /// Explicit port, or 80/443 by scheme.
    pub port: u16,
}

/// Validate a webhook endpoint URL: http or https only, a host, no
/// `user:password@`, a non-zero port, no `localhost` name, and an IP-literal
/// host (any spelling: `127.1`, `0x7f000001`, `[::ffff:127.0.0.1]`, ...) must
/// not be forbidden by [`is_forbidden_ip`].
///
/// A domain name is *not* resolved here. The caller resolves it at delivery
/// time, refuses the delivery if [`check_resolved_addrs`] fails, and connects
/// only to the addresses it checked (pin them, e.g. reqwest's `resolve`), so
/// a DNS answer that changes between check and connect cannot redirect it.
/// Redirects must not be followed (or must be checked the same way).
pub fn check_url(url: &str) -> Result<ParsedTarget, UrlError> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    let parsed = Url::parse(url).map_err(|e| match e {
        url::ParseError::EmptyHost => UrlError::MissingHost,
        e => UrlError::Invalid(e),
    })?;
    let scheme = match parsed.scheme() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(UrlError::UnsupportedScheme),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlError::UserInfo);
    }
    let host = match parsed.host() {
        None => return Err(UrlError::MissingHost),
        Some(Host::Ipv4(ip)) => TargetHost::Ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => TargetHost::Ip(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
            if name.is_empty() {
                return Err(UrlError::MissingHost);
            }
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(UrlError::ForbiddenHost);
            }
            TargetHost::Domain(name)
        }
    };
    if let TargetHost::Ip(ip) = host
        && is_forbidden_ip(ip)
    {
        return Err(UrlError::ForbiddenAddress(ip));
    }
    let port = match parsed.port_or_known_default() {
        Some(0) | None => return Err(UrlError::InvalidPort),
        Some(p) => p,
    };
    Ok(ParsedTarget {
        url: parsed,
        scheme,
        host,
        port,
    })
}

/// Check every address a host name resolved to: an error if there is none
/// or if any is forbidden (a name with one private address among public
/// ones is refused as a whole).
pub fn check_resolved_addrs<I>(addrs: I) -> Result<(), UrlError>
where
    I: IntoIterator<Item = IpAddr>,
{
    let mut any = false;
    for ip in addrs {
        any = true;
        if is_forbidden_ip(ip) {
            return Err(UrlError::ForbiddenAddress(ip));
        }
    }
    if any {
        Ok(())
    } else {
        Err(UrlError::NoAddresses)
    }
}

//! Tests of the SSRF guard: the forbidden-address table and URL checks.

use std::net::IpAddr;

use kycd_webhooks::{
    Scheme, TargetHost, UrlError, check_resolved_addrs, check_url, is_forbidden_ip,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn forbidden_ip_table() {
    let forbidden = [
        // IPv4
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.255",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.0.1",
        "192.168.255.255",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        // IPv6
        "::",
        "::1",
        "::127.0.0.1",
        "::8.8.8.8", // IPv4-compatible: deprecated, refused whatever it embeds
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0.0.0.0",
        "::ffff:0:8.8.8.8", // IPv4-translated
        "64:ff9b::127.0.0.1",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
        "2001:2::1",
        "2001:db8::1",
        "2002:7f00:1::1",   // 6to4 of 127.0.0.1
        "2002:c0a8:101::1", // 6to4 of 192.168.1.1
        "2002:a9fe:a9fe::", // 6to4 of 169.254.169.254
        "3fff::1",
        "fc00::1",
        "fd00::1",
        "fd00:ec2::254",
        "fe80::1",
        "febf:ffff::1",
        "fec0::1",
        "ff02::1",
        "ff0e::1",
    ];
    let allowed = [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.1",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001:82b::200e",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1", // 6to4 of 8.8.8.8
        "2001:200::1",     // just past 2001::/23
        "fbff:ffff::1",    // just below fc00::/7
        "fe00::1",
    ];
    for s in forbidden {
        assert!(is_forbidden_ip(ip(s)), "{s} should be forbidden");
    }
    for s in allowed {
        assert!(!is_forbidden_ip(ip(s)), "{s} should be allowed");
    }
}

#[test]
fn accepted_urls() {
    let t = check_url("https://example.com/hooks/kyc?x=1").unwrap();
    assert_eq!(t.scheme, Scheme::Https);
    assert_eq!(t.host, TargetHost::Domain("example.com".into()));
    assert_eq!(t.port, 443);
    assert_eq!(t.url.as_str(), "https://example.com/hooks/kyc?x=1");

    let t = check_url("http://Hooks.Example.COM.:8080/x").unwrap();
    assert_eq!(t.scheme, Scheme::Http);
    assert_eq!(t.host, TargetHost::Domain("hooks.example.com".into()));
    assert_eq!(t.port, 8080);

    let t = check_url("http://example.com").unwrap();
    assert_eq!(t.port, 80);

    let t = check_url("https://93.184.216.34/h").unwrap();
    assert_eq!(t.host, TargetHost::Ip(ip("93.184.216.34")));

    let t = check_url("https://[2606:4700:4700::1111]:8443/").unwrap();
    assert_eq!(t.host, TargetHost::Ip(ip("2606:4700:4700::1111")));
    assert_eq!(t.port, 8443);

    // IDNA names come back punycode-encoded.
    let t = check_url("https://bücher.example/").unwrap();
    assert_eq!(t.host, TargetHost::Domain("xn--bcher-kva.example".into()));
}

/// Whether an error is the expected kind.
type Expect = fn(&UrlError) -> bool;

#[test]
fn rejected_urls() {
    let cases: &[(&str, Expect)] = &[
        ("", |e| matches!(e, UrlError::Invalid(_))),
        ("not a url", |e| matches!(e, UrlError::Invalid(_))),
        ("/relative/path", |e| matches!(e, UrlError::Invalid(_))),
        ("ftp://example.com/", |e| {
            matches!(e, UrlError::UnsupportedScheme)
        }),
        ("file:///etc/passwd", |e| {
            matches!(e, UrlError::UnsupportedScheme)
        }),
        ("gopher://example.com/", |e| {
            matches!(e, UrlError::UnsupportedScheme)
        }),
        ("javascript:alert(1)", |e| {
            matches!(e, UrlError::UnsupportedScheme)
        }),
        ("data:text/plain,hi", |e| {
            matches!(e, UrlError::UnsupportedScheme)
        }),
        ("https://", |e| matches!(e, UrlError::MissingHost)),
        ("http://[::]/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("https://user:pw@example.com/", |e| {
            matches!(e, UrlError::UserInfo)
        }),
        ("https://user@example.com/", |e| {
            matches!(e, UrlError::UserInfo)
        }),
        ("https://:pw@example.com/", |e| {
            matches!(e, UrlError::UserInfo)
        }),
        ("https://example.com:0/", |e| {
            matches!(e, UrlError::InvalidPort)
        }),
        ("https://example.com:99999/", |e| {
            matches!(e, UrlError::Invalid(_))
        }),
        ("http://localhost/", |e| {
            matches!(e, UrlError::ForbiddenHost)
        }),
        ("http://LOCALHOST.:8080/", |e| {
            matches!(e, UrlError::ForbiddenHost)
        }),
        ("http://api.localhost/", |e| {
            matches!(e, UrlError::ForbiddenHost)
        }),
        ("http://127.0.0.1/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://127.1/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://0x7f.1/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://2130706433/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://0177.0.0.1/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://%31%32%37.0.0.1/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://0/", |e| matches!(e, UrlError::ForbiddenAddress(_))),
        ("http://10.1/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://169.254.169.254/latest/meta-data/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://[::1]/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://[::ffff:127.0.0.1]/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://[fd00:ec2::254]/", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
        ("http://[fe80::1%25eth0]/", |e| {
            matches!(e, UrlError::Invalid(_))
        }),
        ("http://192.168.1.1:8080/hook", |e| {
            matches!(e, UrlError::ForbiddenAddress(_))
        }),
    ];
    for (url, ok) in cases {
        let err = check_url(url).expect_err(url);
        assert!(ok(&err), "{url}: unexpected {err:?}");
        assert!(!err.to_string().is_empty());
    }
    let long = format!("https://example.com/{}", "a".repeat(5000));
    assert_eq!(check_url(&long), Err(UrlError::TooLong));
}

#[test]
fn forbidden_address_error_keeps_the_address_but_never_shows_it() {
    assert_eq!(
        check_url("http://0x7f.1/"),
        Err(UrlError::ForbiddenAddress(ip("127.0.0.1")))
    );
    let msg = check_url("http://[::1]:9/").unwrap_err().to_string();
    assert!(msg.contains("not a public address"), "{msg}");
    assert!(!msg.contains("::1"), "{msg}");
    // What a host name resolved to is not echoed (an oracle on internal DNS).
    for resolved in ["127.0.0.1", "10.20.30.40", "169.254.169.254", "fd00::7"] {
        let msg = check_resolved_addrs([ip("93.184.216.34"), ip(resolved)])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not a public address"), "{msg}");
        assert!(!msg.contains(resolved), "{msg}");
    }
}

#[test]
fn resolved_addresses_are_all_checked() {
    assert_eq!(check_resolved_addrs([ip("93.184.216.34")]), Ok(()));
    assert_eq!(
        check_resolved_addrs([ip("93.184.216.34"), ip("2606:4700:4700::1111")]),
        Ok(())
    );
    assert_eq!(
        check_resolved_addrs([ip("93.184.216.34"), ip("10.0.0.5")]),
        Err(UrlError::ForbiddenAddress(ip("10.0.0.5")))
    );
    assert_eq!(check_resolved_addrs(Vec::new()), Err(UrlError::NoAddresses));
}

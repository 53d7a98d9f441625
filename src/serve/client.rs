//! Who the client is: the TCP peer, or, when the peer is one of `[server] trusted_proxies`,
//! the address a forwarding header names. Used for rate limits and reader counts.
//!
//! Rules followed:
//!
//! - `Forwarded` (RFC 7239 §4, its `for=` parameters) is read first, then `X-Forwarded-For`
//!   (the de facto list of addresses, client first). Both may be repeated and hold lists:
//!   every proxy appends the address it received from. Walking from the right, each address
//!   that is itself a trusted proxy is skipped; the first other one is the client. Anything
//!   a client could have written further left is never believed over that.
//! - From a peer that is not trusted, the headers are ignored: anyone can send them.
//! - An entry that is not an address (`unknown`, an obfuscated identifier, garbage) ends the
//!   walk: the client is then the last trusted hop seen, never a guess.
//! - Nothing here allocates: addresses are parsed from the header's bytes in place.

use std::net::{IpAddr, Ipv6Addr};

use hyper::header::{HeaderMap, HeaderName, FORWARDED};

use crate::config::TrustedProxies;

/// `X-Forwarded-For`.
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address: `peer`, or what a trusted proxy says it received the request from.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    if headers.contains_key(FORWARDED) {
        return walk(peer, headers, &FORWARDED, trusted, forwarded_for);
    }
    walk(peer, headers, &X_FORWARDED_FOR, trusted, |item| {
        Some(item.trim())
    })
}

/// Walks the comma-separated items of every `name` header from the last to the first,
/// skipping trusted proxies; `address` picks the address text out of an item (`None`: the
/// item names none).
fn walk(
    peer: IpAddr,
    headers: &HeaderMap,
    name: &HeaderName,
    trusted: &TrustedProxies,
    address: impl Fn(&str) -> Option<&str>,
) -> IpAddr {
    let mut client = peer;
    let values = headers.get_all(name).iter().rev();
    for value in values {
        let Ok(text) = value.to_str() else {
            return client;
        };
        for item in text.rsplit(',') {
            let Some(hop) = address(item).and_then(parse_hop) else {
                return client;
            };
            client = hop;
            if !trusted.contains(hop) {
                return hop;
            }
        }
    }
    client
}

/// The `for=` value of one `Forwarded` element (`for=192.0.2.1;proto=https`), unquoted.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, or
/// `[2001:db8::1]:4711`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(addr.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| IpAddr::V6(a).to_canonical());
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The group a client is limited and counted in: an IPv4 address alone, an IPv6 address by
/// its /64 (one household or server is usually given a whole /64).
pub fn client_group(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            map.append(name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    fn trusted() -> TrustedProxies {
        TrustedProxies::parse(["127.0.0.1", "10.0.0.0/8"]).expect("valid proxies")
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            client_addr(ip("192.0.2.9"), &h, &trusted()),
            ip("192.0.2.9")
        );
        let none = TrustedProxies::default();
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &none), ip("127.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.1.1.1")]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted()), ip("1.2.3.4"));
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "1.2.3.4:555"),
        ]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted()), ip("1.2.3.4"));
    }

    #[test]
    fn forwarded_is_read_with_quotes_ports_and_brackets() {
        for (value, client) in [
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("for=7.7.7.7, for=10.0.0.2", "7.7.7.7"),
            ("For=\"8.8.8.8:80\"", "8.8.8.8"),
        ] {
            let h = headers(&[("forwarded", value)]);
            assert_eq!(
                client_addr(ip("127.0.0.1"), &h, &trusted()),
                ip(client),
                "{value}"
            );
        }
    }

    #[test]
    fn an_entry_that_is_no_address_stops_at_the_last_trusted_hop() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4, unknown, 10.0.0.3")]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted()), ip("10.0.0.3"));
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &h, &trusted()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        assert_eq!(
            client_group(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            client_group(ip("2001:db8:1:2:ffff::9")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(client_group(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_group(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(client_group(ip("1.2.3.4")), ip("1.2.3.4"));
    }

    proptest! {
        #[test]
        fn any_forwarding_header_gives_an_address_without_panicking(
            xff in "[0-9a-f.:, \\[\\]unknow]{0,60}",
            fwd in "[0-9a-zA-Z.:,;=\" \\[\\]]{0,60}",
        ) {
            let mut map = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&xff) {
                map.insert(X_FORWARDED_FOR.clone(), v);
            }
            let client = client_addr(ip("192.0.2.1"), &map, &trusted());
            prop_assert_eq!(client, ip("192.0.2.1"));
            if let Ok(v) = HeaderValue::from_str(&fwd) {
                map.insert(FORWARDED, v);
            }
            let _ = client_addr(ip("127.0.0.1"), &map, &trusted());
        }
    }
}

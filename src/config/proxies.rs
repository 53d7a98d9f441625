//! `[server] trusted_proxies`: the reverse proxies whose `X-Forwarded-For` and `Forwarded`
//! headers are believed. Each entry is an address (`10.0.0.5`, `::1`) or a CIDR block
//! (`10.0.0.0/8`, `fd00::/8`); anything else is refused with its line.

use std::net::IpAddr;

use toml::Spanned;

use super::validate::{InvalidSetting, SettingProblem};

/// Address blocks whose forwarding headers are believed. Empty (the default): none are, and
/// the client is always the TCP peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

/// One address block: an address and how many of its leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    addr: IpAddr,
    prefix: u8,
}

impl TrustedProxies {
    /// Parses entries such as `127.0.0.1`, `10.0.0.0/8` or `fd00::/8`.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        entries
            .into_iter()
            .map(block)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `addr` is one of the trusted proxies (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|b| b.contains(addr))
    }
}

impl Block {
    fn contains(&self, addr: IpAddr) -> bool {
        let (a, b, width) = match (self.addr, addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let keep = u32::from(self.prefix);
        if keep == 0 {
            return true;
        }
        let shift = width - keep;
        (a >> shift) == (b >> shift)
    }
}

/// One entry: an address, or an address and a prefix length no longer than it.
fn block(text: &str) -> Result<Block, String> {
    let text = text.trim();
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{text}` is not an address or a CIDR block such as 10.0.0.0/8"))?;
    let addr = addr.to_canonical();
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => width,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= width)
            .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {width}"))?,
    };
    Ok(Block { addr, prefix })
}

/// `[server] trusted_proxies`, empty when not written.
pub(super) fn validate(
    written: Option<Spanned<Vec<String>>>,
) -> Result<TrustedProxies, InvalidSetting> {
    let Some(written) = written else {
        return Ok(TrustedProxies::default());
    };
    let span = written.span();
    TrustedProxies::parse(written.get_ref().iter().map(String::as_str)).map_err(|why| {
        InvalidSetting {
            span: Some(span),
            problem: SettingProblem::TrustedProxy(why),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn addresses_and_blocks_match_what_they_cover() {
        let trusted = TrustedProxies::parse(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]).unwrap();
        assert!(trusted.contains(ip("127.0.0.1")));
        assert!(trusted.contains(ip("::ffff:127.0.0.1")));
        assert!(!trusted.contains(ip("127.0.0.2")));
        assert!(trusted.contains(ip("10.200.3.4")));
        assert!(!trusted.contains(ip("11.0.0.1")));
        assert!(trusted.contains(ip("fd12::1")));
        assert!(!trusted.contains(ip("fe80::1")));
        assert!(TrustedProxies::parse(["0.0.0.0/0"])
            .unwrap()
            .contains(ip("8.8.8.8")));
    }

    #[test]
    fn what_is_not_an_address_block_is_refused() {
        for bad in [
            "",
            "localhost",
            "10.0.0.0/33",
            "::/129",
            "1.2.3.4/x",
            "1.2.3/8",
        ] {
            assert!(TrustedProxies::parse([bad]).is_err(), "{bad:?}");
        }
    }
}

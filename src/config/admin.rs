//! `[admin]`: the operator's listener, which alone serves `/status` (every post, drafts and
//! scheduled ones included) and `/metrics`. It listens on loopback by default, can be turned
//! off, and can require a bearer token for remote use.

use std::net::SocketAddr;

use toml::Spanned;

use super::raw::RawAdmin;
use super::validate::{InvalidSetting, SettingProblem};

/// Where the admin listener listens by default: loopback, next to the default public port.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8081";

/// The admin listener's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// Where it listens, or off.
    pub listen: AdminListen,
    /// The bearer token every request must carry, when set.
    pub token: Option<AdminToken>,
}

/// Where the admin listener listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminListen {
    /// At this address.
    At(SocketAddr),
    /// Nowhere: `/status` and `/metrics` are not served at all.
    Off,
}

impl AdminListen {
    /// `off`, or a socket address such as `127.0.0.1:8081` (what `[admin] listen` and
    /// `--admin-listen` accept).
    pub fn parse(text: &str) -> Result<AdminListen, String> {
        if text.trim().eq_ignore_ascii_case("off") {
            return Ok(AdminListen::Off);
        }
        text.trim().parse().map(AdminListen::At).map_err(|_| {
            format!("`{text}` is neither `off` nor an address such as `{DEFAULT_ADMIN_LISTEN}`")
        })
    }

    /// The address, unless off.
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            AdminListen::At(addr) => Some(addr),
            AdminListen::Off => None,
        }
    }
}

/// A bearer token. Its `Debug` shows no secret (configs are printed and hashed), and it is
/// compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

impl AdminToken {
    /// A token: visible ASCII without spaces (it travels in a header), not empty.
    pub fn new(text: &str) -> Result<AdminToken, SettingProblem> {
        let usable = !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic());
        if usable {
            Ok(AdminToken(text.to_string()))
        } else {
            Err(SettingProblem::AdminToken)
        }
    }

    /// Whether `given` is the token. The time taken does not depend on where the two first
    /// differ nor on their lengths: both are hashed, and BLAKE3 digests compare in constant
    /// time.
    pub fn matches(&self, given: &[u8]) -> bool {
        blake3::hash(given) == blake3::hash(self.0.as_bytes())
    }
}

/// `[admin]`, defaults filled in.
pub(super) fn validate(raw: RawAdmin) -> Result<AdminConfig, InvalidSetting> {
    let refused = |written: &Spanned<String>, problem| InvalidSetting {
        span: Some(written.span()),
        problem,
    };
    let listen = match &raw.listen {
        None => AdminListen::parse(DEFAULT_ADMIN_LISTEN).expect("the default parses"),
        Some(written) => AdminListen::parse(written.get_ref())
            .map_err(|why| refused(written, SettingProblem::AdminListen(why)))?,
    };
    let token = match &raw.token {
        None => None,
        Some(written) => Some(AdminToken::new(written.get_ref()).map_err(|p| refused(written, p))?),
    };
    Ok(AdminConfig { listen, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_is_an_address_or_off() {
        assert_eq!(AdminListen::parse("off"), Ok(AdminListen::Off));
        assert_eq!(AdminListen::parse(" OFF "), Ok(AdminListen::Off));
        let at = AdminListen::parse("[::1]:9000").unwrap();
        assert_eq!(at.addr().map(|a| a.port()), Some(9000));
        assert!(AdminListen::parse("localhost:8081").is_err());
        assert!(AdminListen::parse("").is_err());
    }

    #[test]
    fn a_token_is_compared_whole_and_never_shown() {
        let token = AdminToken::new("s3cret-Token_1").unwrap();
        assert!(token.matches(b"s3cret-Token_1"));
        for wrong in ["", "s3cret-Token_", "s3cret-Token_12", "S3cret-Token_1"] {
            assert!(!token.matches(wrong.as_bytes()), "{wrong:?}");
        }
        assert!(!format!("{token:?}").contains("s3cret"));
        for refused in ["", "has space", "tab\there", "é"] {
            assert!(AdminToken::new(refused).is_err(), "{refused:?}");
        }
    }
}

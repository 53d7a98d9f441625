//! Raw settings → validated values, one setting at a time. A refusal carries where its
//! value was written, so the error names the line to fix.

use std::ops::Range;
use std::time::Duration;

use chrono_tz::Tz;
use toml::Spanned;
use url::Url;

use super::raw::{RawCache, RawServer, RawWatch};
use super::{CacheConfig, ServerConfig, WatchConfig, DEFAULT_BASE_URL};

/// A setting that is valid TOML but cannot be used, with where its value was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct InvalidSetting {
    /// Byte range of the value in the config text; `None` for a value that did not come
    /// from it (the listen address standing in for `base_url`).
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub problem: SettingProblem,
}

/// What is wrong with a setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingProblem {
    /// A URL setting that is not an absolute URL.
    #[error("{key}: `{text}` is not an absolute URL ({reason})")]
    NotAbsoluteUrl {
        /// The setting.
        key: &'static str,
        /// Its value.
        text: String,
        /// Why it does not parse.
        reason: url::ParseError,
    },
    /// An absolute URL, but not an http or https one.
    #[error("{key}: `{text}` must be an http or https URL")]
    NotHttp {
        /// The setting.
        key: &'static str,
        /// Its value.
        text: String,
    },
    /// Not an IANA time zone name.
    #[error("timezone: `{0}` is not an IANA time zone name")]
    UnknownTimezone(String),
    /// Zero, where zero cannot work (a feed of no entries, a rescan every instant).
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// The WebSub hub is not a URL.
    #[error("websub.hub: {0}")]
    HubUrl(url::ParseError),
    /// An access log file is named but the access log is off.
    #[error("log.access_file is set but log.access is \"off\": say which format to write (\"common\", \"combined\" or \"json\")")]
    AccessFileWithoutAccess,
    /// A `[redirects]` entry that cannot be served.
    #[error("redirects: {0}")]
    Redirect(String),
    /// `admin.listen` is neither `off` nor a socket address.
    #[error("admin.listen: {0}")]
    AdminListen(String),
    /// A `server.trusted_proxies` entry that is not an address or a CIDR block.
    #[error("server.trusted_proxies: {0}")]
    TrustedProxy(String),
    /// `admin.token` is empty or holds characters a header cannot carry.
    #[error("admin.token must be visible ASCII characters without spaces, and not empty")]
    AdminToken,
    /// A `[[show]]` that cannot be published as a podcast.
    #[error("show: {0}")]
    Show(String),
}

/// Checks a written value; a refusal names where it was written.
fn check<T, U>(
    written: &Spanned<T>,
    check: impl FnOnce(&T) -> Result<U, SettingProblem>,
) -> Result<U, InvalidSetting> {
    check(written.get_ref()).map_err(|problem| InvalidSetting {
        span: Some(written.span()),
        problem,
    })
}

/// The public URL of the site root: as written, else the listen address, else the default.
pub(super) fn base_url(
    written: Option<Spanned<String>>,
    listen_url: Option<&str>,
) -> Result<Url, InvalidSetting> {
    match written {
        Some(written) => check(&written, |text| http_base("base_url", text)),
        None => http_base("base_url", listen_url.unwrap_or(DEFAULT_BASE_URL)).map_err(|problem| {
            InvalidSetting {
                span: None,
                problem,
            }
        }),
    }
}

/// `link_base`, if written.
pub(super) fn link_base(written: Option<Spanned<String>>) -> Result<Option<Url>, InvalidSetting> {
    written
        .map(|written| check(&written, |text| http_base("link_base", text)))
        .transpose()
}

/// `icon` or `logo`, if written: an absolute URL, or a path on the site (`files/icon.png`,
/// `/theme/logo.svg`) made absolute against `base_url`.
pub(super) fn site_url(
    written: Option<Spanned<String>>,
    base_url: &Url,
    key: &'static str,
) -> Result<Option<String>, InvalidSetting> {
    written
        .map(|written| {
            check(&written, |text| {
                let relative = text.trim_start_matches('/');
                let url =
                    base_url
                        .join(relative)
                        .map_err(|reason| SettingProblem::NotAbsoluteUrl {
                            key,
                            text: text.clone(),
                            reason,
                        })?;
                match url.scheme() {
                    "http" | "https" => Ok(url.to_string()),
                    _ => Err(SettingProblem::NotHttp {
                        key,
                        text: text.clone(),
                    }),
                }
            })
        })
        .transpose()
}

/// `websub.hub`, if written.
pub(super) fn hub(written: Option<Spanned<String>>) -> Result<Option<Url>, InvalidSetting> {
    written
        .map(|written| {
            check(&written, |text| {
                Url::parse(text).map_err(SettingProblem::HubUrl)
            })
        })
        .transpose()
}

/// `timezone`, UTC when not written.
pub(super) fn timezone(written: Option<Spanned<String>>) -> Result<Tz, InvalidSetting> {
    match written {
        None => Ok(Tz::UTC),
        Some(written) => check(&written, |name| {
            name.parse()
                .map_err(|_| SettingProblem::UnknownTimezone(name.clone()))
        }),
    }
}

/// A count or a number of seconds that must not be zero: as written, else `default`.
pub(super) fn positive<T: PartialEq + Default>(
    written: Option<Spanned<T>>,
    default: T,
    key: &'static str,
) -> Result<T, InvalidSetting> {
    let span = written.as_ref().map(Spanned::span);
    let value = written.map_or(default, Spanned::into_inner);
    if value == T::default() {
        Err(InvalidSetting {
            span,
            problem: SettingProblem::Zero(key),
        })
    } else {
        Ok(value)
    }
}

/// `[cache]`, defaults filled in.
pub(super) fn cache(raw: RawCache) -> CacheConfig {
    let default = CacheConfig::default();
    CacheConfig {
        max_age: raw.max_age.unwrap_or(default.max_age),
        stale_while_revalidate: raw
            .stale_while_revalidate
            .unwrap_or(default.stale_while_revalidate),
        stale_if_error: raw.stale_if_error.unwrap_or(default.stale_if_error),
    }
}

/// `[watch]`, defaults filled in.
pub(super) fn watch(raw: RawWatch) -> Result<WatchConfig, InvalidSetting> {
    Ok(WatchConfig {
        debounce: Duration::from_millis(raw.debounce_ms.unwrap_or(50)),
        rescan: Duration::from_secs(positive(raw.rescan_secs, 60, "watch.rescan_secs")?),
        unclosed_write: Duration::from_secs(raw.unclosed_write_secs.unwrap_or(10)),
    })
}

/// `[server]`, defaults filled in.
pub(super) fn server(raw: RawServer) -> Result<ServerConfig, InvalidSetting> {
    let max_connections = positive(raw.max_connections, 1024, "server.max_connections")?;
    // Zero would close every connection before its first request.
    let header_timeout = positive(raw.header_timeout_secs, 10, "server.header_timeout_secs")?;
    let idle_timeout = positive(raw.idle_timeout_secs, 60, "server.idle_timeout_secs")?;
    Ok(ServerConfig {
        max_connections,
        header_timeout: Duration::from_secs(header_timeout),
        idle_timeout: Duration::from_secs(idle_timeout),
        drain_timeout: Duration::from_secs(raw.drain_timeout_secs.unwrap_or(10)),
        max_header_bytes: raw.max_header_bytes.unwrap_or(16 * 1024).max(1024),
        rate_limit_per_minute: raw.rate_limit_per_minute.filter(|&n| n > 0),
        trusted_proxies: super::proxies::validate(raw.trusted_proxies)?,
        threads: raw.threads.unwrap_or(0),
    })
}

/// Parses an absolute http(s) URL and makes its path end in `/` so joins stay inside it.
fn http_base(key: &'static str, text: &str) -> Result<Url, SettingProblem> {
    let mut url = Url::parse(text).map_err(|reason| SettingProblem::NotAbsoluteUrl {
        key,
        text: text.to_string(),
        reason,
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SettingProblem::NotHttp {
            key,
            text: text.to_string(),
        });
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

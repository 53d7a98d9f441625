//! Site configuration: `dropfeed.toml` as written by the operator ([`RawConfig`], serde with
//! unknown keys refused) turned into a validated [`Config`] in one step.
//!
//! Every key has a default, so the shipped `posts/` works without any config file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use url::Url;

/// A configuration problem, with the file and line the operator must fix.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

/// `dropfeed.toml` exactly as written. See [`Config`] for the meaning of each key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Site title.
    pub title: Option<String>,
    /// One-line site description.
    pub description: Option<String>,
    /// Public URL of the site root.
    pub base_url: Option<String>,
    /// Default language (BCP 47).
    pub language: Option<String>,
    /// IANA time zone for dates written without one.
    pub timezone: Option<String>,
    /// Site author.
    pub author: Option<String>,
    /// Entries in each subscription feed.
    pub feed_limit: Option<usize>,
    /// Entries in each full archive page.
    pub archive_page_size: Option<usize>,
    /// Authority of generated `tag:` ids.
    pub id_authority: Option<String>,
    /// Where item links point when articles live on another site.
    pub link_base: Option<String>,
    /// Largest post file read, in bytes.
    pub max_post_bytes: Option<u64>,
    /// HTTP caching.
    #[serde(default)]
    pub cache: RawCache,
    /// File watching.
    #[serde(default)]
    pub watch: RawWatch,
    /// WebSub.
    #[serde(default)]
    pub websub: RawWebSub,
    /// HTTP server limits.
    #[serde(default)]
    pub server: RawServer,
}

/// `[cache]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    /// `max-age` seconds for live resources.
    pub max_age: Option<u64>,
    /// `stale-while-revalidate` seconds.
    pub stale_while_revalidate: Option<u64>,
    /// `stale-if-error` seconds.
    pub stale_if_error: Option<u64>,
}

/// `[watch]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatch {
    /// Quiet period after an in-flux event, milliseconds.
    pub debounce_ms: Option<u64>,
    /// Seconds between full rescans.
    pub rescan_secs: Option<u64>,
    /// Seconds a post written but not closed may stay quiet before it is read anyway.
    pub unclosed_write_secs: Option<u64>,
}

/// `[websub]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebSub {
    /// Hub URL.
    pub hub: Option<String>,
}

/// `[server]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Most connections served at once.
    pub max_connections: Option<usize>,
    /// Seconds a client may take to send its request headers.
    pub header_timeout_secs: Option<u64>,
    /// Seconds an HTTP/2 connection is kept with no request.
    pub idle_timeout_secs: Option<u64>,
    /// Seconds requests in progress get to finish after a shutdown signal.
    pub drain_timeout_secs: Option<u64>,
    /// Largest request head, bytes.
    pub max_header_bytes: Option<usize>,
    /// Requests per minute allowed from one client address; 0 turns the limit off.
    pub rate_limit_per_minute: Option<u32>,
    /// Threads answering requests; 0 for one per core but one (at least one).
    pub threads: Option<usize>,
}

/// Validated configuration used by every stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Site title, shown in every feed and page.
    pub title: String,
    /// One-line description of the site.
    pub description: String,
    /// Public URL of the site root, always ending in `/`.
    pub base_url: Url,
    /// Whether `base_url` came from the config (false: derived from the listen address).
    pub base_url_configured: bool,
    /// Default language of posts whose language is neither given nor detected.
    pub language: String,
    /// Time zone for dates written without one.
    pub timezone: Tz,
    /// Site author, used where a post names none.
    pub author: String,
    /// Entries in each subscription feed.
    pub feed_limit: usize,
    /// Entries in each full archive page.
    pub archive_page_size: usize,
    /// Authority of generated `tag:` ids (RFC 4151); default: the host of `base_url`.
    pub id_authority: String,
    /// Base URL that item links point at instead of dropfeed's own post pages.
    pub link_base: Option<Url>,
    /// Post files larger than this are refused without being read.
    pub max_post_bytes: u64,
    /// `Cache-Control` parameters.
    pub cache: CacheConfig,
    /// Watching parameters.
    pub watch: WatchConfig,
    /// WebSub hub to announce and ping, if any.
    pub websub_hub: Option<Url>,
    /// HTTP server limits.
    pub server: ServerConfig,
}

/// `Cache-Control` parameters, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// `max-age` of live resources.
    pub max_age: u64,
    /// `stale-while-revalidate`.
    pub stale_while_revalidate: u64,
    /// `stale-if-error`.
    pub stale_if_error: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_age: 300,
            stale_while_revalidate: 60,
            stale_if_error: 86_400,
        }
    }
}

/// File watching parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// Quiet period after an event that says a file is still changing.
    pub debounce: Duration,
    /// Interval between full rescans of the posts folder.
    pub rescan: Duration,
    /// How long a post file that is written but not yet closed (a slow copy, an append in
    /// progress) waits after its last write before it is read anyway; closing it ends the
    /// wait at once.
    pub unclosed_write: Duration,
}

/// HTTP server limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Most connections open at once; past it, the idlest is closed to make room.
    pub max_connections: usize,
    /// Time a client may take to send its request headers.
    pub header_timeout: Duration,
    /// Time an HTTP/2 connection is kept open with no request begun or answered.
    pub idle_timeout: Duration,
    /// Time requests in progress get to finish after a shutdown signal.
    pub drain_timeout: Duration,
    /// Largest request head accepted.
    pub max_header_bytes: usize,
    /// Requests per minute per client address; `None` when off.
    pub rate_limit_per_minute: Option<u32>,
    /// Threads answering requests (`dropfeed serve`'s runtime); 0 for one per core but one.
    pub threads: usize,
}

/// An annotated `dropfeed.toml` with every key and its default (`dropfeed config
/// --print-default`). A test checks that it parses to the defaults and that the README agrees.
pub const ANNOTATED_DEFAULT: &str = include_str!("config_default.toml");

/// The file name looked for next to the posts folder.
pub const CONFIG_FILE_NAME: &str = "dropfeed.toml";

/// The `base_url` used when none is configured and no listen address is known.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/";

impl Config {
    /// Reads the config for a posts folder: `explicit` if given, else `dropfeed.toml` next
    /// to the folder, else the defaults. `listen_url` stands in for a missing `base_url`.
    pub fn discover(
        posts: &Path,
        explicit: Option<&Path>,
        listen_url: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let candidate = match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => {
                let beside = posts
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join(CONFIG_FILE_NAME);
                beside.is_file().then_some(beside)
            }
        };
        let Some(path) = candidate else {
            return Config::from_raw(RawConfig::default(), listen_url).map_err(|message| {
                ConfigError {
                    path: CONFIG_FILE_NAME.into(),
                    line: None,
                    message,
                }
            });
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            path: path.clone(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&path, &text, listen_url)
    }

    /// Parses and validates config text; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str, listen_url: Option<&str>) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: e.span().map(|span| line_of(text, span.start)),
            message: e.message().to_string(),
        })?;
        Config::from_raw(raw, listen_url).map_err(|message| ConfigError {
            path: path.to_path_buf(),
            line: None,
            message,
        })
    }

    /// Validates a raw config, filling defaults.
    pub fn from_raw(raw: RawConfig, listen_url: Option<&str>) -> Result<Config, String> {
        let base_url_configured = raw.base_url.is_some();
        let base_text = raw
            .base_url
            .as_deref()
            .or(listen_url)
            .unwrap_or(DEFAULT_BASE_URL);
        let base_url = parse_base(base_text).map_err(|e| format!("base_url: {e}"))?;
        let timezone = match raw.timezone.as_deref() {
            None => Tz::UTC,
            Some(name) => name
                .parse()
                .map_err(|_| format!("timezone: `{name}` is not an IANA time zone name"))?,
        };
        let feed_limit = positive(raw.feed_limit.unwrap_or(20), "feed_limit")?;
        let archive_page_size = positive(
            raw.archive_page_size.unwrap_or(feed_limit),
            "archive_page_size",
        )?;
        let id_authority = match raw.id_authority {
            Some(a) => a,
            None => base_url.host_str().unwrap_or("localhost").to_string(),
        };
        let link_base = raw
            .link_base
            .as_deref()
            .map(parse_base)
            .transpose()
            .map_err(|e| format!("link_base: {e}"))?;
        let websub_hub = raw
            .websub
            .hub
            .as_deref()
            .map(Url::parse)
            .transpose()
            .map_err(|e| format!("websub.hub: {e}"))?;
        Ok(Config {
            title: raw.title.unwrap_or_else(|| "dropfeed".into()),
            description: raw
                .description
                .unwrap_or_else(|| "Articles published with dropfeed".into()),
            base_url,
            base_url_configured,
            language: raw.language.unwrap_or_else(|| "en".into()),
            timezone,
            author: raw.author.unwrap_or_else(|| "dropfeed".into()),
            feed_limit,
            archive_page_size,
            id_authority,
            link_base,
            max_post_bytes: raw.max_post_bytes.unwrap_or(1024 * 1024),
            cache: {
                let default = CacheConfig::default();
                CacheConfig {
                    max_age: raw.cache.max_age.unwrap_or(default.max_age),
                    stale_while_revalidate: raw
                        .cache
                        .stale_while_revalidate
                        .unwrap_or(default.stale_while_revalidate),
                    stale_if_error: raw.cache.stale_if_error.unwrap_or(default.stale_if_error),
                }
            },
            watch: WatchConfig {
                debounce: Duration::from_millis(raw.watch.debounce_ms.unwrap_or(50)),
                rescan: Duration::from_secs(positive(
                    raw.watch.rescan_secs.unwrap_or(60),
                    "watch.rescan_secs",
                )?),
                unclosed_write: Duration::from_secs(raw.watch.unclosed_write_secs.unwrap_or(10)),
            },
            websub_hub,
            server: ServerConfig {
                max_connections: positive(
                    raw.server.max_connections.unwrap_or(1024),
                    "server.max_connections",
                )?,
                // Zero would close every connection before its first request.
                header_timeout: Duration::from_secs(positive(
                    raw.server.header_timeout_secs.unwrap_or(10),
                    "server.header_timeout_secs",
                )?),
                idle_timeout: Duration::from_secs(positive(
                    raw.server.idle_timeout_secs.unwrap_or(60),
                    "server.idle_timeout_secs",
                )?),
                drain_timeout: Duration::from_secs(raw.server.drain_timeout_secs.unwrap_or(10)),
                max_header_bytes: raw.server.max_header_bytes.unwrap_or(16 * 1024).max(1024),
                rate_limit_per_minute: raw.server.rate_limit_per_minute.filter(|&n| n > 0),
                threads: raw.server.threads.unwrap_or(0),
            },
        })
    }

    /// Absolute URL of a site path such as `feed.xml` or `tags/rust/atom.xml`.
    pub fn url(&self, path: &str) -> String {
        let mut url = self.base_url.as_str().to_string();
        url.push_str(path.trim_start_matches('/'));
        url
    }
}

fn positive<T: PartialEq + Default>(value: T, key: &str) -> Result<T, String> {
    if value == T::default() {
        Err(format!("{key} must be greater than zero"))
    } else {
        Ok(value)
    }
}

/// Parses an absolute http(s) URL and makes its path end in `/` so joins stay inside it.
fn parse_base(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text).map_err(|e| format!("`{text}` is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}` must be an http or https URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotated_default_is_the_default() {
        let annotated = Config::parse(Path::new("default.toml"), ANNOTATED_DEFAULT, None).unwrap();
        let empty = Config::parse(Path::new("empty.toml"), "", None).unwrap();
        assert_eq!(annotated, empty);
    }

    #[test]
    fn readme_lists_every_key_with_its_default() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("## Configuration")
            .expect("README has a Configuration section");
        let end = readme[start + 3..]
            .find("\n## ")
            .map_or(readme.len(), |i| start + 3 + i);
        let readme = &readme[start..end];
        let mut section = String::new();
        for line in ANNOTATED_DEFAULT.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = format!("[{name}] ");
                continue;
            }
            let line = line.trim_start_matches("# ");
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            if key.contains(' ') {
                continue; // prose, not a key
            }
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{section}{key}`")))
                .unwrap_or_else(|| panic!("README config table lacks `{section}{key}`"));
            if !line.starts_with('#') && !ANNOTATED_DEFAULT.contains(&format!("# {key} = ")) {
                assert!(
                    row.contains(value.trim_matches('"')),
                    "README default of {key} differs: {row}"
                );
            }
        }
    }

    #[test]
    fn defaults_need_no_file() {
        let config = Config::parse(Path::new("d.toml"), "", None).unwrap();
        assert_eq!(config.feed_limit, 20);
        assert_eq!(config.base_url.as_str(), DEFAULT_BASE_URL);
        assert_eq!(config.id_authority, "127.0.0.1");
        assert_eq!(config.cache.max_age, 300);
    }

    #[test]
    fn unknown_key_names_its_line() {
        let text = "title = \"x\"\n\ntitel = \"y\"\n";
        let err = Config::parse(Path::new("site/dropfeed.toml"), text, None).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.to_string().starts_with("site/dropfeed.toml:3: "),
            "{err}"
        );
        assert!(err.message.contains("titel"), "{err}");
    }

    #[test]
    fn unknown_key_in_table_names_its_line() {
        let text = "[cache]\nmax_age = 10\nmaxage = 3\n";
        let err = Config::parse(Path::new("d.toml"), text, None).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
    }

    #[test]
    fn bad_timezone_is_refused() {
        let err = Config::parse(Path::new("d.toml"), "timezone = \"Mars/Base\"", None).unwrap_err();
        assert!(err.message.contains("Mars/Base"));
    }

    #[test]
    fn base_url_gains_trailing_slash() {
        let config = Config::parse(
            Path::new("d.toml"),
            "base_url = \"https://ex.org/blog\"",
            None,
        )
        .unwrap();
        assert_eq!(config.url("feed.xml"), "https://ex.org/blog/feed.xml");
        assert_eq!(config.id_authority, "ex.org");
    }
}

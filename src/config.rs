//! Site configuration: `dropfeed.toml` as written by the operator ([`RawConfig`], serde with
//! unknown keys refused) turned into a validated [`Config`] in one step.
//!
//! Every key has a default, so the shipped `posts/` works without any config file. Every
//! error names the file and, when the problem is in it, the line: TOML that does not parse
//! or has an unknown key, and values refused by validation ([`InvalidSetting`]).

mod admin;
mod categories;
mod log;
mod proxies;
mod raw;
mod readers;
mod redirects;
mod show;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

pub use admin::{AdminConfig, AdminListen, AdminToken, DEFAULT_ADMIN_LISTEN};
pub use categories::CATEGORIES;
pub use log::{AccessFormat, LogConfig, LogFormat, RawLog};
pub use proxies::TrustedProxies;
pub use raw::{RawAdmin, RawCache, RawConfig, RawServer, RawWatch, RawWebSub};
pub use readers::{RawReaders, ReadersConfig};
pub use redirects::route_of;
pub use show::{RawFunding, RawOwner, RawShow, Show, ShowImage};
pub use validate::{InvalidSetting, SettingProblem};

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

impl ConfigError {
    /// A setting refused by validation, at the line of `text` where its value was written.
    fn invalid(path: &Path, text: &str, invalid: InvalidSetting) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            line: invalid.span.as_ref().map(|span| line_of(text, span.start)),
            message: invalid.to_string(),
        }
    }
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
    /// Entries in each archive page.
    pub archive_page_size: usize,
    /// Authority of generated `tag:` ids (RFC 4151); default: the host of `base_url`.
    pub id_authority: String,
    /// Whether new ids are provisional: neither `base_url` nor `id_authority` is configured,
    /// so the authority would be the listen address's host (a trial run). Provisional ids are
    /// never recorded in the ledger (see `ids::Issuer`).
    pub provisional_ids: bool,
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
    /// Log format and access log.
    pub log: LogConfig,
    /// `[redirects]`: old routes (no leading `/`) → the absolute URLs they answer `301` to.
    pub redirects: BTreeMap<String, String>,
    /// The admin listener (`/status`, `/metrics`).
    pub admin: AdminConfig,
    /// `theme_dir`: the folder of the author's templates, as written (a relative path is
    /// taken from the folder holding the posts folder). Default: `templates/` beside the
    /// posts folder.
    pub theme_dir: Option<std::path::PathBuf>,
    /// `icon`: absolute URL of the site's small square icon (pages' `<link rel="icon">`,
    /// Atom `icon`, JSON Feed `favicon`, `/favicon.ico`).
    pub icon: Option<String>,
    /// `logo`: absolute URL of the site's larger logo (Atom `logo`, RSS `image`, JSON Feed
    /// `icon`); default: the icon.
    pub logo: Option<String>,
    /// `[[show]]`: the site's feeds or tags' feeds published as podcasts.
    pub shows: Vec<Show>,
    /// Counting readers and downloads.
    pub readers: ReadersConfig,
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
    /// Unconditional requests per minute per client, for each feed and for the other routes
    /// together (answers `304` never count); `None` when off.
    pub rate_limit_per_minute: Option<u32>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client.
    pub trusted_proxies: TrustedProxies,
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
            return Config::from_raw(RawConfig::default(), listen_url)
                .map_err(|e| ConfigError::invalid(Path::new(CONFIG_FILE_NAME), "", e));
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
        let mut config =
            Config::from_raw(raw, listen_url).map_err(|e| ConfigError::invalid(path, text, e))?;
        for show in &mut config.shows {
            show.line = Some(line_of(text, show.offset));
        }
        Ok(config)
    }

    /// Validates a raw config, filling defaults; the first setting refused is reported.
    pub fn from_raw(raw: RawConfig, listen_url: Option<&str>) -> Result<Config, InvalidSetting> {
        let base_url_configured = raw.base_url.is_some();
        let base_url = validate::base_url(raw.base_url, listen_url)?;
        let timezone = validate::timezone(raw.timezone)?;
        let feed_limit = validate::positive(raw.feed_limit, 20, "feed_limit")?;
        let archive_page_size =
            validate::positive(raw.archive_page_size, feed_limit, "archive_page_size")?;
        let provisional_ids = !base_url_configured && raw.id_authority.is_none();
        let id_authority = raw
            .id_authority
            .unwrap_or_else(|| base_url.host_str().unwrap_or("localhost").to_string());
        let link_base = validate::link_base(raw.link_base)?;
        let websub_hub = validate::hub(raw.websub.hub)?;
        let redirects = redirects::redirects(raw.redirects, &base_url)?;
        let icon = validate::site_url(raw.icon, &base_url, "icon")?;
        let logo = validate::site_url(raw.logo, &base_url, "logo")?.or_else(|| icon.clone());
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
            provisional_ids,
            link_base,
            max_post_bytes: raw.max_post_bytes.unwrap_or(1024 * 1024),
            cache: validate::cache(raw.cache),
            watch: validate::watch(raw.watch)?,
            websub_hub,
            server: validate::server(raw.server)?,
            log: log::validate(raw.log)?,
            redirects,
            admin: admin::validate(raw.admin)?,
            theme_dir: raw.theme_dir,
            icon,
            logo,
            shows: show::shows(raw.show)?,
            readers: readers::validate(raw.readers)?,
        })
    }

    /// Absolute URL of a site path such as `feed.xml` or `tags/rust/atom.xml`.
    pub fn url(&self, path: &str) -> String {
        let mut url = self.base_url.as_str().to_string();
        url.push_str(path.trim_start_matches('/'));
        url
    }
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
    fn refused_value_names_its_line() {
        let text = "title = \"x\"\n\nfeed_limit = 0\n";
        let err = Config::parse(Path::new("site/dropfeed.toml"), text, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "site/dropfeed.toml:3: feed_limit must be greater than zero"
        );
    }

    #[test]
    fn refused_value_in_table_names_its_line() {
        let cases = [
            ("[watch]\nrescan_secs = 0\n", 2, "watch.rescan_secs"),
            ("[websub]\n\nhub = \"not a url\"\n", 3, "websub.hub"),
            (
                "[server]\nthreads = 2\nidle_timeout_secs = 0\n",
                3,
                "idle_timeout",
            ),
            ("base_url = \"ftp://ex.org/\"\n", 1, "http or https"),
            ("\nlink_base = \"/relative\"\n", 2, "link_base"),
            ("\n\n\ntimezone = \"Mars/Base\"", 4, "Mars/Base"),
            ("[log]\naccess_file = \"a.log\"\n", 2, "log.access"),
            ("[log]\n\naccess = \"apache\"\n", 3, "apache"),
            ("[admin]\nlisten = \"nowhere\"\n", 2, "admin.listen"),
            ("[admin]\n\ntoken = \"two words\"\n", 3, "admin.token"),
        ];
        for (text, line, says) in cases {
            let err = Config::parse(Path::new("d.toml"), text, None).unwrap_err();
            assert_eq!(err.line, Some(line), "{text:?}: {err}");
            assert!(err.message.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn refused_listen_address_has_no_line() {
        let err =
            Config::parse(Path::new("d.toml"), "title = \"x\"", Some("nonsense")).unwrap_err();
        assert_eq!(err.line, None);
        assert_eq!(
            err.to_string(),
            "d.toml: base_url: `nonsense` is not an absolute URL (relative URL without a base)"
        );
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

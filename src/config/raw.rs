//! `dropfeed.toml` exactly as written: serde types that refuse unknown keys. A value that
//! validation may refuse is kept [`Spanned`], so the refusal can name its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `dropfeed.toml` exactly as written. See [`Config`](super::Config) for the meaning of
/// each key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Site title.
    pub title: Option<String>,
    /// One-line site description.
    pub description: Option<String>,
    /// Public URL of the site root.
    pub base_url: Option<Spanned<String>>,
    /// Default language (BCP 47).
    pub language: Option<String>,
    /// IANA time zone for dates written without one.
    pub timezone: Option<Spanned<String>>,
    /// Site author.
    pub author: Option<String>,
    /// Entries in each subscription feed.
    pub feed_limit: Option<Spanned<usize>>,
    /// Entries in each archive page.
    pub archive_page_size: Option<Spanned<usize>>,
    /// Authority of generated `tag:` ids.
    pub id_authority: Option<String>,
    /// Where item links point when articles live on another site.
    pub link_base: Option<Spanned<String>>,
    /// Largest post file read, in bytes.
    pub max_post_bytes: Option<u64>,
    /// Folder of the author's templates.
    pub theme_dir: Option<std::path::PathBuf>,
    /// The site's small square icon.
    pub icon: Option<Spanned<String>>,
    /// The site's larger logo.
    pub logo: Option<Spanned<String>>,
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
    /// Logs and the access log.
    #[serde(default)]
    pub log: super::log::RawLog,
    /// Old paths → new paths (or URLs), answered with `301`.
    #[serde(default)]
    pub redirects: BTreeMap<String, Spanned<String>>,
    /// The admin listener.
    #[serde(default)]
    pub admin: RawAdmin,
    /// `[[show]]`: feeds declared podcasts.
    #[serde(default)]
    pub show: Vec<Spanned<super::show::RawShow>>,
    /// Counting readers and downloads.
    #[serde(default)]
    pub readers: super::readers::RawReaders,
}

/// `[admin]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    /// Address of the admin listener, or `off`.
    pub listen: Option<Spanned<String>>,
    /// Bearer token the admin listener requires.
    pub token: Option<Spanned<String>>,
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
    pub rescan_secs: Option<Spanned<u64>>,
    /// Seconds a post written but not closed may stay quiet before it is read anyway.
    pub unclosed_write_secs: Option<u64>,
}

/// `[websub]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebSub {
    /// Hub URL.
    pub hub: Option<Spanned<String>>,
}

/// `[server]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Most connections served at once.
    pub max_connections: Option<Spanned<usize>>,
    /// Seconds a client may take to send its request headers.
    pub header_timeout_secs: Option<Spanned<u64>>,
    /// Seconds an HTTP/2 connection is kept with no request.
    pub idle_timeout_secs: Option<Spanned<u64>>,
    /// Seconds requests in progress get to finish after a shutdown signal.
    pub drain_timeout_secs: Option<u64>,
    /// Largest request head, bytes.
    pub max_header_bytes: Option<usize>,
    /// Requests per minute allowed from one client address; 0 turns the limit off.
    pub rate_limit_per_minute: Option<u32>,
    /// Proxies (addresses or CIDR blocks) whose forwarding headers name the client.
    pub trusted_proxies: Option<Spanned<Vec<String>>>,
    /// Threads answering requests; 0 for one per core but one (at least one).
    pub threads: Option<usize>,
}

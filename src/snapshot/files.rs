//! Files beside posts in the snapshot: every file a **published** post links to, by its path
//! in the posts folder (served at `/files/{path}`), with the headers it is served with,
//! formatted when the snapshot is built. The bytes stay on disk: `serve` streams them.
//!
//! Rules followed:
//!
//! - A file is here only while a published post links to it: a draft's or a scheduled
//!   post's pictures, stray files, dotfiles and the ledger are not, so they answer `404`.
//! - `ETag` is the strong hash of the file's bytes (the same on every replica serving the
//!   same bytes), made when the library hashed it, never per request.
//! - `Last-Modified` is the file's modification time, never after the build's "now";
//!   replicas whose copies have other times (a `git checkout`) send other dates, and
//!   `If-None-Match`, which the ETag answers alike everywhere, takes precedence.
//! - `Cache-Control` is the site's policy for live resources; `Content-Type` comes from the
//!   extension; types a browser may run (SVG, HTML, XML) are sandboxed by a
//!   `Content-Security-Policy`, so a file opened directly runs no script on the site.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;

use super::{cache_control, http_date};
use crate::load::{Linked, LinkedFile, LinkedFiles};
use crate::post::links::file_url;
use crate::post::Target;
use crate::readers::Episode;
use crate::render::Lifetime;
use crate::site::Site;

/// A file ready to serve: where it is and the headers it is served with.
#[derive(Debug)]
pub struct FileResource {
    /// Its path in the posts folder.
    pub path: String,
    /// Where it really is, its stamp and hash.
    pub file: Arc<LinkedFile>,
    /// `Content-Type`.
    pub content_type: HeaderValue,
    /// `ETag`: the hash of its bytes.
    pub etag: HeaderValue,
    /// Its modification time to the second, never after the build.
    pub last_modified: Option<SystemTime>,
    /// `Last-Modified`.
    pub last_modified_header: Option<HeaderValue>,
    /// `Cache-Control`.
    pub cache_control: HeaderValue,
    /// `Content-Security-Policy` for types a browser may run, else `None`.
    pub sandbox: Option<HeaderValue>,
    /// The episode it is, when a published post has it as its enclosure (downloads of it
    /// are counted).
    pub episode: Option<Arc<Episode>>,
}

impl FileResource {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.file.stamp.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The files of a snapshot, by path in the posts folder.
pub type Files = HashMap<String, Arc<FileResource>>;

/// Every file the published posts of `site` link to and the library found, reusing the
/// resources of `previous` whose file and headers are the same.
pub fn build_files(site: &Site, linked: &LinkedFiles, previous: Option<&Files>) -> Files {
    let cache_control = cache_control::header(&site.config.cache, Lifetime::Live);
    let mut files = Files::new();
    let episodes = episodes(site);
    for path in published_paths(site) {
        if files.contains_key(path) {
            continue;
        }
        let Some(Linked::Found(file)) = linked.get(path) else {
            continue;
        };
        let episode = episodes.get(path.as_str()).cloned();
        let reused = previous.and_then(|p| p.get(path)).filter(|old| {
            Arc::ptr_eq(&old.file, file)
                && old.cache_control == cache_control
                && old.last_modified == last_modified(file, site.now)
                && old.episode == episode
        });
        let resource = match reused {
            Some(old) => Arc::clone(old),
            None => Arc::new(FileResource {
                episode,
                ..resource(path, file, site.now, &cache_control)
            }),
        };
        files.insert(path.clone(), resource);
    }
    files
}

/// The posts-folder paths of the files published posts link to, the transcripts found
/// beside their episodes, and the shows' artwork (those the library found are published).
fn published_paths(site: &Site) -> impl Iterator<Item = &String> {
    let artwork = site
        .config
        .shows
        .iter()
        .filter_map(|show| match &show.image {
            Some(crate::config::ShowImage::File(path)) => Some(path),
            _ => None,
        });
    site.published_files.keys().chain(artwork)
}

/// A file's resource, its headers formatted now.
fn resource(
    path: &str,
    file: &Arc<LinkedFile>,
    now: DateTime<Utc>,
    cache_control: &HeaderValue,
) -> FileResource {
    let modified = last_modified(file, now);
    let content_type = content_type(path);
    FileResource {
        path: path.to_string(),
        file: Arc::clone(file),
        content_type: HeaderValue::from_static(content_type),
        etag: HeaderValue::from_str(&format!("\"{}\"", file.hash))
            .expect("a hex hash is a valid header value"),
        last_modified: modified,
        last_modified_header: modified.map(|at| http_date(DateTime::<Utc>::from(at))),
        cache_control: cache_control.clone(),
        sandbox: runs_scripts(content_type).then(|| HeaderValue::from_static(SANDBOX)),
        episode: None,
    }
}

/// The files that are published posts' enclosures, by path in the posts folder, as the
/// episodes they are (in their show's RSS feed; the newest post wins a file two posts share).
fn episodes(site: &Site) -> HashMap<&str, Arc<Episode>> {
    let mut episodes = HashMap::new();
    for entry in site.entries.iter().rev() {
        let post = &entry.post;
        let Some(enclosure) = &post.enclosure else {
            continue;
        };
        let url = enclosure.url.split(['?', '#']).next().unwrap_or_default();
        let file = post.links.iter().find_map(|link| match &link.target {
            Target::File(path) if file_url(&site.config.base_url, path, "") == url => Some(path),
            _ => None,
        });
        if let Some(path) = file {
            let episode = Episode {
                slug: post.slug.clone(),
                feed: episode_feed(site, post),
            };
            episodes.insert(path.as_str(), Arc::new(episode));
        }
    }
    episodes
}

/// The RSS feed a post's episode is counted under: the feed of the first `[[show]]` whose
/// tag the post has, else the site's.
fn episode_feed(site: &Site, post: &crate::post::Post) -> String {
    let shows = site
        .config
        .shows
        .iter()
        .filter_map(|show| show.tag.as_deref());
    shows
        .map(crate::post::slugify)
        .find(|slug| post.tag_slugs.contains(slug))
        .map_or_else(
            || "/feed.xml".into(),
            |slug| format!("/tags/{slug}/feed.xml"),
        )
}

/// The file's modification time, to the second (what an HTTP date holds), never after `now`.
fn last_modified(file: &LinkedFile, now: DateTime<Utc>) -> Option<SystemTime> {
    let modified = file.stamp.modified?;
    let seconds = modified.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let now = now.timestamp().max(0) as u64;
    Some(UNIX_EPOCH + Duration::from_secs(seconds.min(now)))
}

/// Shown as a page, these may run scripts; a sandbox keeps them off the site's origin.
pub const SANDBOX: &str =
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

/// The extensions whose files are served with [`SANDBOX`].
pub fn sandboxed_extensions() -> Vec<&'static str> {
    TYPES
        .iter()
        .filter(|(_, t)| runs_scripts(t))
        .map(|(ext, _)| *ext)
        .collect()
}

fn runs_scripts(content_type: &str) -> bool {
    [
        "image/svg+xml",
        "text/html",
        "application/xml",
        "application/xhtml+xml",
    ]
    .iter()
    .any(|t| content_type.starts_with(t))
}

/// The media type of a file, from its extension (case-insensitive); unknown ones are
/// `application/octet-stream`, which browsers download rather than show.
pub fn content_type(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .filter(|(stem, ext)| !stem.ends_with('/') && !ext.contains('/'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    TYPES
        .iter()
        .find(|(ext, _)| *ext == extension)
        .map_or("application/octet-stream", |(_, t)| t)
}

/// Extensions and their media types: what authors put beside posts.
const TYPES: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("svg", "image/svg+xml"),
    ("ico", "image/x-icon"),
    ("bmp", "image/bmp"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("m4b", "audio/mp4"),
    ("aac", "audio/aac"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("wav", "audio/wav"),
    ("flac", "audio/flac"),
    ("weba", "audio/webm"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("ogv", "video/ogg"),
    ("mov", "video/quicktime"),
    ("mkv", "video/x-matroska"),
    ("vtt", "text/vtt; charset=utf-8"),
    ("srt", "application/x-subrip"),
    ("pdf", "application/pdf"),
    ("epub", "application/epub+zip"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("text", "text/plain; charset=utf-8"),
    ("log", "text/plain; charset=utf-8"),
    ("ics", "text/calendar; charset=utf-8"),
    ("gpx", "application/gpx+xml"),
    ("woff2", "font/woff2"),
    ("woff", "font/woff"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_extension() {
        assert_eq!(content_type("a/B.PNG"), "image/png");
        assert_eq!(content_type("ep.mp3"), "audio/mpeg");
        assert_eq!(content_type("x.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
        assert_eq!(content_type("dir.png/file"), "application/octet-stream");
        assert!(runs_scripts(content_type("x.svg")));
        assert!(!runs_scripts(content_type("x.jpg")));
    }
}

//! [`Site`] → every resource the server answers with, as bytes. Pure and deterministic: the
//! same site gives the same bytes on any machine at any time (no build time, no hostname,
//! no hash-map order).
//!
//! - [`rss`], [`atom`], [`json`]: one feed document in each format.
//! - [`html`]: the home page and one page per post.
//!
//! Feeds come in collections: the whole site and each tag. Each collection has a
//! subscription document and RFC 5005 archive pages ([`crate::site::Paging`]).

pub mod atom;
pub mod html;
pub mod json;
pub mod rss;

use chrono::{DateTime, Utc};

use crate::site::{Entry, Paging, Site};

/// A rendering failure (a feed writer refused its input).
#[derive(Debug, thiserror::Error)]
#[error("rendering {path}: {message}")]
pub struct RenderError {
    /// The resource being rendered.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// What a resource is, which decides its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Media {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed 1.1.
    Json,
    /// An HTML page.
    Html,
    /// A JSON report for tools (`/status?format=json`).
    Status,
}

impl Media {
    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::Rss => "application/rss+xml; charset=utf-8",
            Media::Atom => "application/atom+xml; charset=utf-8",
            Media::Json => "application/feed+json; charset=utf-8",
            Media::Html => "text/html; charset=utf-8",
            Media::Status => "application/json; charset=utf-8",
        }
    }

    /// The file name of this format's feed in a feed folder.
    pub fn feed_file(self) -> &'static str {
        match self {
            Media::Rss => "feed.xml",
            Media::Atom => "atom.xml",
            Media::Json => "feed.json",
            Media::Html | Media::Status => "index.html",
        }
    }
}

/// How long caches may keep a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// Changes as posts change: the configured `max-age`.
    Live,
    /// A full archive page: never changes, cached for a year.
    Immutable,
    /// Operator pages (`/status`): always revalidated.
    NoCache,
}

/// One rendered resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Site path without the leading `/` (`feed.xml`, `tags/rust/atom.xml`, `posts/x/`).
    pub path: String,
    /// Format.
    pub media: Media,
    /// The identity bytes.
    pub body: Vec<u8>,
    /// Newest `updated` of what the resource shows.
    pub last_modified: Option<DateTime<Utc>>,
    /// Caching class.
    pub lifetime: Lifetime,
    /// `Link` header (WebSub discovery: the hub and the feed's own URL), for feeds.
    pub link_header: Option<String>,
}

/// One feed document, whatever its format: the subscription feed of a collection or one of
/// its archive pages.
#[derive(Debug)]
pub struct FeedDoc<'a> {
    /// The site.
    pub site: &'a Site,
    /// Feed title.
    pub title: String,
    /// Entries shown, newest first.
    pub entries: Vec<&'a Entry>,
    /// Folder of this document (`""`, `tags/rust/`, `archive/2/`, `tags/rust/archive/1/`).
    pub dir: String,
    /// Folder of the collection's subscription document.
    pub current_dir: String,
    /// Folder of the next-older archive page.
    pub prev_archive: Option<String>,
    /// Folder of the next-newer archive page (archive pages only).
    pub next_archive: Option<String>,
    /// True for archive pages (RFC 5005 `fh:archive`).
    pub is_archive: bool,
    /// Page a reader's browser should open for this collection.
    pub home: String,
}

impl FeedDoc<'_> {
    /// Absolute URL of this document in a format.
    pub fn self_url(&self, media: Media) -> String {
        self.site
            .config
            .url(&format!("{}{}", self.dir, media.feed_file()))
    }

    /// Absolute URL of a sibling document (in `dir`) in the same format.
    pub fn url_in(&self, dir: &str, media: Media) -> String {
        self.site.config.url(&format!("{dir}{}", media.feed_file()))
    }

    /// The newest `updated` among the entries.
    pub fn last_modified(&self) -> Option<DateTime<Utc>> {
        Site::last_modified(self.entries.iter().copied())
    }

    /// The feed's `updated`: newest entry, or the epoch for an empty feed (never "now").
    pub fn updated(&self) -> DateTime<Utc> {
        self.last_modified().unwrap_or(DateTime::UNIX_EPOCH)
    }
}

/// Renders the whole site.
pub fn render_site(site: &Site) -> Result<Vec<Rendered>, RenderError> {
    let mut out = Vec::new();
    let all: Vec<usize> = (0..site.entries.len()).collect();
    render_collection(site, site.config.title.clone(), "", &all, &mut out)?;
    for (slug, tag) in &site.tags {
        let title = format!("{} — {}", site.config.title, tag.name);
        render_collection(
            site,
            title,
            &format!("tags/{slug}/"),
            &tag.entries,
            &mut out,
        )?;
    }
    out.push(html::render_index(site));
    for entry in &site.entries {
        out.push(html::render_post(site, entry));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Renders a collection's subscription documents and archive pages in every format.
fn render_collection(
    site: &Site,
    title: String,
    prefix: &str,
    indices: &[usize],
    out: &mut Vec<Rendered>,
) -> Result<(), RenderError> {
    let paging = Paging {
        total: indices.len(),
        feed_limit: site.config.feed_limit,
        page_size: site.config.archive_page_size,
    };
    let page_dir = |n: usize| format!("{prefix}archive/{n}/");
    let pick = |range: std::ops::Range<usize>| -> Vec<&Entry> {
        indices[range].iter().map(|&i| &site.entries[i]).collect()
    };
    let pages = paging.pages();
    let home = if prefix.is_empty() {
        site.config.url("")
    } else {
        site.config.url(prefix)
    };
    let current = FeedDoc {
        site,
        title: title.clone(),
        entries: pick(paging.current()),
        dir: prefix.to_string(),
        current_dir: prefix.to_string(),
        prev_archive: (pages > 0).then(|| page_dir(pages)),
        next_archive: None,
        is_archive: false,
        home: home.clone(),
    };
    render_doc(&current, Lifetime::Live, out)?;
    for n in 1..=pages {
        let doc = FeedDoc {
            site,
            title: format!("{title} (archive {n})"),
            entries: pick(paging.page(n)),
            dir: page_dir(n),
            current_dir: prefix.to_string(),
            prev_archive: (n > 1).then(|| page_dir(n - 1)),
            next_archive: (n < pages).then(|| page_dir(n + 1)),
            is_archive: true,
            home: home.clone(),
        };
        let lifetime = if paging.is_full(n) {
            Lifetime::Immutable
        } else {
            Lifetime::Live
        };
        render_doc(&doc, lifetime, out)?;
    }
    Ok(())
}

fn render_doc(
    doc: &FeedDoc,
    lifetime: Lifetime,
    out: &mut Vec<Rendered>,
) -> Result<(), RenderError> {
    let last_modified = doc.last_modified();
    for (media, body) in [
        (Media::Rss, rss::render_rss(doc)),
        (Media::Atom, atom::render_atom(doc)),
        (Media::Json, json::render_json(doc)),
    ] {
        let path = format!("{}{}", doc.dir, media.feed_file());
        let body = body.map_err(|message| RenderError {
            path: path.clone(),
            message,
        })?;
        let link_header = doc.site.config.websub_hub.as_ref().map(|hub| {
            format!(
                "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
                doc.self_url(media)
            )
        });
        out.push(Rendered {
            path,
            media,
            body,
            last_modified,
            lifetime,
            link_header,
        });
    }
    Ok(())
}

/// RFC 5005 namespace for `fh:archive`.
pub const FEED_HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

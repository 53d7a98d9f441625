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

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::post::{Body, Fingerprint, Post};
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

/// A post's body, or why it cannot be shown, naming the post's file: a document is never
/// rendered with less of a post than the author wrote.
pub fn body_of(post: &Post) -> Result<std::sync::Arc<Body>, String> {
    post.body().map_err(|e| format!("{}: {e}", post.source))
}

/// A post's body and its HTML (see [`body_of`]).
pub fn shown(post: &Post) -> Result<(std::sync::Arc<Body>, String), String> {
    let body = body_of(post)?;
    let html = body
        .html
        .text()
        .map_err(|e| format!("{}: {e}", post.source))?;
    Ok((body, html))
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
    /// Newest `updated` of what the resource shows, but never after [`Site::now`].
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

/// What a route shows, resolved without rendering it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doc {
    /// A feed document: a collection's subscription feed (`page: None`) or archive page.
    Feed {
        /// Folder of the collection: `""` for the site, `tags/{slug}/` for a tag.
        prefix: String,
        /// Archive page number, 1 = oldest.
        page: Option<usize>,
        /// Format.
        media: Media,
    },
    /// The home page.
    Index,
    /// A post's page, by index into [`Site::entries`].
    PostPage(usize),
}

/// A route, what it shows, and a fingerprint of everything that shapes its bytes: equal
/// fingerprints mean equal bytes, so unchanged documents need not be rendered again.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Route without the leading `/`.
    pub route: String,
    /// What it shows.
    pub doc: Doc,
    /// Digest of its inputs.
    pub fingerprint: Fingerprint,
}

/// The routes kept rendered and encoded at all times: subscription feeds (site and tags) and
/// the home page. Everything else is rendered on request ([`plan_cold`]).
pub fn plan_hot(site: &Site) -> Vec<Planned> {
    let mut out = Vec::new();
    for prefix in
        std::iter::once(String::new()).chain(site.tags.keys().map(|slug| format!("tags/{slug}/")))
    {
        for media in [Media::Rss, Media::Atom, Media::Json] {
            let doc = Doc::Feed {
                prefix: prefix.clone(),
                page: None,
                media,
            };
            out.extend(plan(site, &format!("{prefix}{}", media.feed_file()), doc));
        }
    }
    out.extend(plan(site, "", Doc::Index));
    out
}

/// Resolves a route that is not hot: an archive page or a post page.
pub fn plan_cold(site: &Site, route: &str) -> Option<Planned> {
    if let Some(slug) = route
        .strip_prefix("posts/")
        .and_then(|r| r.strip_suffix('/'))
    {
        let index = site.entry_by_page(&format!("posts/{slug}/"))?;
        return plan(site, route, Doc::PostPage(index));
    }
    let (prefix, rest) = match route.find("archive/") {
        Some(at) => route.split_at(at),
        None => return None,
    };
    let rest = rest.strip_prefix("archive/")?;
    let (number, file) = rest.split_once('/')?;
    let page: usize = number
        .parse()
        .ok()
        .filter(|n: &usize| *n > 0 && number == n.to_string())?;
    let media = [Media::Rss, Media::Atom, Media::Json]
        .into_iter()
        .find(|m| m.feed_file() == file)?;
    collection(site, prefix)?; // an unknown tag or a malformed prefix
    plan(
        site,
        route,
        Doc::Feed {
            prefix: prefix.to_string(),
            page: Some(page),
            media,
        },
    )
}

/// Every route of the site, hot and cold, sorted.
pub fn all_routes(site: &Site) -> Vec<String> {
    let mut routes: Vec<String> = plan_hot(site).into_iter().map(|p| p.route).collect();
    for prefix in
        std::iter::once(String::new()).chain(site.tags.keys().map(|slug| format!("tags/{slug}/")))
    {
        let pages =
            collection(site, &prefix).map_or(0, |(_, indices)| paging(site, indices.len()).pages());
        for n in 1..=pages {
            for media in [Media::Rss, Media::Atom, Media::Json] {
                routes.push(format!("{prefix}archive/{n}/{}", media.feed_file()));
            }
        }
    }
    routes.extend(site.entries.iter().map(|e| e.page_path().to_string()));
    routes.sort();
    routes
}

/// Renders every route (the static export, tests).
pub fn render_site(site: &Site) -> Result<Vec<Rendered>, RenderError> {
    let hot: HashMap<String, Planned> = plan_hot(site)
        .into_iter()
        .map(|p| (p.route.clone(), p))
        .collect();
    all_routes(site)
        .iter()
        .filter_map(|route| hot.get(route).cloned().or_else(|| plan_cold(site, route)))
        .map(|planned| render(site, &planned))
        .collect()
}

/// Plans one document if it exists (its archive page number within range).
fn plan(site: &Site, route: &str, doc: Doc) -> Option<Planned> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&site.config_fingerprint);
    hasher.update(route.as_bytes());
    hasher.update(&[0]);
    match &doc {
        Doc::Feed {
            prefix,
            page,
            media,
        } => {
            let feed = feed_doc(site, prefix, *page)?;
            hasher.update(
                format!(
                    "{media:?}|{:?}|{:?}|{}",
                    feed.prev_archive, feed.next_archive, feed.title
                )
                .as_bytes(),
            );
            hash_entries(&mut hasher, feed.entries.iter().copied());
        }
        Doc::Index => hash_entries(&mut hasher, site.entries.iter().take(html::HOME_POSTS)),
        Doc::PostPage(index) => hash_entries(&mut hasher, std::iter::once(&site.entries[*index])),
    }
    let mut fingerprint = Fingerprint::default();
    fingerprint.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    Some(Planned {
        route: route.to_string(),
        doc,
        fingerprint,
    })
}

fn hash_entries<'a>(hasher: &mut blake3::Hasher, entries: impl Iterator<Item = &'a Entry>) {
    for entry in entries {
        for part in [&*entry.id, entry.link(), entry.page_path()] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.update(&entry.post.fingerprint);
    }
}

/// The entries a planned document shows.
pub fn entries_of<'a>(site: &'a Site, planned: &Planned) -> Vec<&'a Entry> {
    match &planned.doc {
        Doc::Feed { prefix, page, .. } => {
            feed_doc(site, prefix, *page).map_or_else(Vec::new, |doc| doc.entries)
        }
        Doc::Index => site.entries.iter().take(html::HOME_POSTS).collect(),
        Doc::PostPage(index) => vec![&site.entries[*index]],
    }
}

/// Renders a planned document.
pub fn render(site: &Site, planned: &Planned) -> Result<Rendered, RenderError> {
    let failed = |message: String| RenderError {
        path: planned.route.clone(),
        message,
    };
    let mut rendered = match &planned.doc {
        Doc::Index => html::render_index(site).map_err(failed),
        Doc::PostPage(index) => html::render_post(site, &site.entries[*index]).map_err(failed),
        Doc::Feed {
            prefix,
            page,
            media,
        } => render_feed(site, &planned.route, prefix, *page, *media).map_err(failed),
    }?;
    // Never a `Last-Modified` after the build (RFC 9110 §8.8.2.1): a post `updated: 9999-…`
    // would have every If-Modified-Since poller told "not modified" until that year.
    rendered.last_modified = rendered.last_modified.map(|at| at.min(site.now));
    Ok(rendered)
}

/// Renders a feed document: a collection's subscription feed or one of its archive pages.
fn render_feed(
    site: &Site,
    route: &str,
    prefix: &str,
    page: Option<usize>,
    media: Media,
) -> Result<Rendered, String> {
    let doc = feed_doc(site, prefix, page).ok_or("no such archive page")?;
    let body = match media {
        Media::Rss => rss::render_rss(&doc),
        Media::Atom => atom::render_atom(&doc),
        _ => json::render_json(&doc),
    }?;
    let link_header = site.config.websub_hub.as_ref().map(|hub| {
        format!(
            "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
            doc.self_url(media)
        )
    });
    let count = collection(site, prefix).map_or(0, |(_, i)| i.len());
    let lifetime = match page {
        Some(n) if paging(site, count).is_full(n) => Lifetime::Immutable,
        _ => Lifetime::Live,
    };
    Ok(Rendered {
        path: route.to_string(),
        media,
        body,
        last_modified: doc.last_modified(),
        lifetime,
        link_header,
    })
}

/// A collection's title and entry indices (newest first), by folder prefix.
fn collection<'a>(site: &'a Site, prefix: &str) -> Option<(String, std::borrow::Cow<'a, [usize]>)> {
    if prefix.is_empty() {
        return Some((
            site.config.title.clone(),
            std::borrow::Cow::Owned((0..site.entries.len()).collect()),
        ));
    }
    let slug = prefix.strip_prefix("tags/")?.strip_suffix('/')?;
    let tag = site.tags.get(slug)?;
    Some((
        format!("{} — {}", site.config.title, tag.name),
        std::borrow::Cow::Borrowed(&tag.entries[..]),
    ))
}

fn paging(site: &Site, total: usize) -> Paging {
    Paging {
        total,
        feed_limit: site.config.feed_limit,
        page_size: site.config.archive_page_size,
    }
}

/// The feed document of a collection's subscription feed or archive page `page`.
fn feed_doc<'a>(site: &'a Site, prefix: &str, page: Option<usize>) -> Option<FeedDoc<'a>> {
    let (title, indices) = collection(site, prefix)?;
    let paging = paging(site, indices.len());
    let pages = paging.pages();
    let page_dir = |n: usize| format!("{prefix}archive/{n}/");
    let home = site.config.url(prefix);
    let (range, title, dir, prev, next) = match page {
        None => (
            paging.current(),
            title,
            prefix.to_string(),
            (pages > 0).then(|| page_dir(pages)),
            None,
        ),
        Some(n) if (1..=pages).contains(&n) => (
            paging.page(n),
            format!("{title} (archive {n})"),
            page_dir(n),
            (n > 1).then(|| page_dir(n - 1)),
            (n < pages).then(|| page_dir(n + 1)),
        ),
        Some(_) => return None,
    };
    Some(FeedDoc {
        site,
        title,
        entries: indices[range].iter().map(|&i| &site.entries[i]).collect(),
        dir,
        current_dir: prefix.to_string(),
        prev_archive: prev,
        next_archive: next,
        is_archive: page.is_some(),
        home,
    })
}

/// RFC 5005 namespace for `fh:archive`.
pub const FEED_HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

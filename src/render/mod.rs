//! [`Site`] → every resource the server answers with, as bytes. Pure and deterministic: the
//! same site gives the same bytes on any machine at any time (no build time, no hostname,
//! no hash-map order).
//!
//! - planning ([`plan_hot`], [`plan_cold`]): which documents exist and what each shows,
//!   without rendering them.
//! - [`FeedDoc`]: one feed document (a subscription feed or an archive page).
//! - [`rss`], [`atom`], [`json`]: one feed document in each format.
//! - [`html`]: the home page, older-posts pages, one page per post, the not-found page.
//! - [`chrome`]: `/sitemap.xml`, `/robots.txt`, `/feeds.opml` and the theme folder's files.
//! - [`feed_style`]: the XSLT stylesheet that shows feeds to people in a browser.
//! - [`tag_pages`]: `/tags/` and one page per tag, the home of each tag feed.
//! - [`RenderError`]: why a document could not be rendered.
//!
//! Feeds come in collections: the whole site and each tag. Each collection has a
//! subscription document and RFC 5005 archive pages ([`crate::site::Paging`]).

pub mod atom;
pub mod chrome;
mod error;
mod feed;
pub mod feed_style;
pub mod html;
pub mod json;
mod plan;
pub mod podcast;
pub mod rss;
pub mod tag_pages;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::post::{Body, Post};
use crate::site::Site;

pub use error::{DocError, RenderError};
pub use feed::{FeedDoc, FEED_HISTORY_NS};
pub use plan::{all_routes, entries_of, plan_cold, plan_hot, Doc, Planned};

use feed::feed_doc;

/// The feed formats, in the order every list of feeds shows them: RSS, Atom, JSON Feed.
pub const FEED_FORMATS: [Media; 3] = [Media::Rss, Media::Atom, Media::Json];

/// A post's body, or why it cannot be shown, naming the post's file: a document is never
/// rendered with less of a post than the author wrote.
pub fn body_of(post: &Post) -> Result<Arc<Body>, DocError> {
    post.body().map_err(|error| DocError::Body {
        post: post.source.clone(),
        error,
    })
}

/// A post's body and its HTML (see [`body_of`]).
pub fn shown(post: &Post) -> Result<(Arc<Body>, String), DocError> {
    let body = body_of(post)?;
    let html = body.html.text().map_err(|error| DocError::Body {
        post: post.source.clone(),
        error,
    })?;
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
    /// An XSLT stylesheet (`/feed.xsl`).
    Xsl,
    /// A sitemap (`/sitemap.xml`).
    Sitemap,
    /// An OPML subscription list (`/feeds.opml`).
    Opml,
    /// Plain text (`/robots.txt`).
    Text,
    /// A file of the theme folder, with its `Content-Type`.
    Asset(&'static str),
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
            // What browsers apply from an `xml-stylesheet` instruction (Chromium, Firefox).
            Media::Xsl => "text/xsl; charset=utf-8",
            Media::Sitemap => "application/xml; charset=utf-8",
            Media::Opml => "text/x-opml; charset=utf-8",
            Media::Text => "text/plain; charset=utf-8",
            Media::Asset(content_type) => content_type,
        }
    }

    /// The file name of this format's feed in a feed folder.
    pub const fn feed_file(self) -> &'static str {
        match self {
            Media::Rss => "feed.xml",
            Media::Atom => "atom.xml",
            Media::Json => "feed.json",
            _ => "index.html",
        }
    }

    /// Whether this is one of the [`FEED_FORMATS`].
    pub fn is_feed(self) -> bool {
        FEED_FORMATS.contains(&self)
    }

    /// The feed format whose feed file is named `file` (`atom.xml` → Atom).
    pub fn of_feed_file(file: &str) -> Option<Media> {
        FEED_FORMATS.into_iter().find(|m| m.feed_file() == file)
    }
}

/// How long caches may keep a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// Changes as posts change: the configured `max-age`.
    Live,
    /// An archive page: never changes as posts are added, cached for a year.
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

/// Renders a planned document.
pub fn render(site: &Site, planned: &Planned) -> Result<Rendered, RenderError> {
    let failed = |problem: DocError| RenderError {
        path: planned.route.clone(),
        problem,
    };
    let mut rendered = match &planned.doc {
        Doc::Index => html::render_index(site).map_err(failed),
        Doc::TagIndex => tag_pages::render_tag_index(site).map_err(failed),
        Doc::TagPage(slug) => tag_pages::render_tag_page(site, slug).map_err(failed),
        Doc::PostPage(index) => html::render_post(site, &site.entries[*index]).map_err(failed),
        Doc::List(n) => html::render_list(site, *n).map_err(failed),
        Doc::NotFound => html::render_not_found(site).map_err(failed),
        Doc::ThemeFile(name) => chrome::theme_file(site, name).map_err(failed),
        Doc::Sitemap => Ok(chrome::sitemap(site)),
        Doc::Robots => Ok(chrome::robots(site)),
        Doc::Opml => Ok(chrome::opml(site)),
        Doc::FeedStyle => Ok(feed_style::render(site)),
        Doc::FeedCss => Ok(feed_style::render_css(site)),
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
) -> Result<Rendered, DocError> {
    let doc = feed_doc(site, prefix, page).ok_or(DocError::NoSuchPage)?;
    let body = match media {
        Media::Rss => rss::render_rss(&doc).map(|b| feed_style::with_stylesheet(site, b)),
        Media::Atom => atom::render_atom(&doc).map(|b| feed_style::with_stylesheet(site, b)),
        _ => json::render_json(&doc),
    }?;
    let link_header = site.config.websub_hub.as_ref().map(|hub| {
        format!(
            "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
            doc.self_url(media)
        )
    });
    // Every archive page is whole and never changes as posts are added (RFC 5005 §4).
    let lifetime = match page {
        Some(_) => Lifetime::Immutable,
        None => Lifetime::Live,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_feed_format_is_found_by_its_file_name() {
        for media in FEED_FORMATS {
            assert!(media.is_feed());
            assert_eq!(Media::of_feed_file(media.feed_file()), Some(media));
        }
        assert!(!Media::Html.is_feed() && !Media::Status.is_feed());
        assert_eq!(Media::of_feed_file("index.html"), None);
    }
}

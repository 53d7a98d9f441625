//! Feed documents: what one subscription feed or archive page shows ([`FeedDoc`]), resolved
//! from a collection (the whole site or one tag) and its RFC 5005 paging.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::Media;
use crate::site::{Entry, Paging, Site};

/// RFC 5005 namespace for `fh:archive`.
pub const FEED_HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

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

    /// The RFC 5005 links of this document in a format, as (relation, URL), in the order
    /// the feeds list them: `current` (archive pages only), then `prev-archive`.
    ///
    /// No `next-archive` (RFC 5005 makes it optional): the newest archive page would gain
    /// one when a newer page appears, and an archive page must keep its bytes once it
    /// exists. Clients walk back from the subscription feed through `prev-archive`.
    pub fn archive_links(&self, media: Media) -> Vec<(&'static str, String)> {
        let current = self.is_archive.then_some(&self.current_dir);
        [
            ("current", current),
            ("prev-archive", self.prev_archive.as_ref()),
        ]
        .into_iter()
        .filter_map(|(rel, dir)| dir.map(|dir| (rel, self.url_in(dir, media))))
        .collect()
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

/// A collection's title and entry indices (newest first), by folder prefix.
pub(super) fn collection<'a>(site: &'a Site, prefix: &str) -> Option<(String, Cow<'a, [usize]>)> {
    if prefix.is_empty() {
        return Some((
            site.config.title.clone(),
            Cow::Owned((0..site.entries.len()).collect()),
        ));
    }
    let slug = prefix.strip_prefix("tags/")?.strip_suffix('/')?;
    let tag = site.tags.get(slug)?;
    Some((
        format!("{} — {}", site.config.title, tag.name),
        Cow::Borrowed(&tag.entries[..]),
    ))
}

/// The paging of a collection of `total` entries under the site's limits.
pub(super) fn paging(site: &Site, total: usize) -> Paging {
    Paging {
        total,
        feed_limit: site.config.feed_limit,
        page_size: site.config.archive_page_size,
    }
}

/// The feed document of a collection's subscription feed or archive page `page`.
pub(super) fn feed_doc<'a>(
    site: &'a Site,
    prefix: &str,
    page: Option<usize>,
) -> Option<FeedDoc<'a>> {
    let (title, indices) = collection(site, prefix)?;
    let paging = paging(site, indices.len());
    let pages = paging.pages();
    let page_dir = |n: usize| format!("{prefix}archive/{n}/");
    let home = site.config.url(prefix);
    let (range, title, dir, prev) = match page {
        None => (
            paging.current(),
            title,
            prefix.to_string(),
            (pages > 0).then(|| page_dir(pages)),
        ),
        Some(n) if (1..=pages).contains(&n) => (
            paging.page(n),
            format!("{title} (archive {n})"),
            page_dir(n),
            (n > 1).then(|| page_dir(n - 1)),
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
        is_archive: page.is_some(),
        home,
    })
}

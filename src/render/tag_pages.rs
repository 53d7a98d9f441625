//! The tag pages, the home every tag feed names: `/tags/` (every tag with its count, linking
//! its page and its feeds) and `/tags/{slug}/` (the tag's newest posts, its feeds, and
//! `<link rel="alternate">` discovery of them), through the theme's `tags.html` and
//! `tag.html`. Only published posts have tags here (the site collects tags from its
//! entries), so a tag used only by drafts or scheduled posts has no page.
//!
//! They show titles and dates, never summaries: a summary needs the post's body rendered,
//! and a tag page lists more posts than its feeds hold, so every tag page would render and
//! keep bodies that no feed shows. A tag page lists at most [`TAG_PAGE_POSTS`] posts (the
//! home page's number), which keeps the cost of planning it on every rebuild bounded
//! whatever the size of the tag; older posts are in the tag's feed archives.

use chrono::{DateTime, Utc};

use super::html::{card, feed_links, page_of, rendered, tag_link};
use super::{DocError, Rendered};
use crate::site::{Entry, Site, TagSet};

/// How many posts a tag page lists, newest first.
pub const TAG_PAGE_POSTS: usize = super::html::HOME_POSTS;

/// The entries a tag's page lists.
pub fn listed<'a>(site: &'a Site, tag: &'a TagSet) -> impl Iterator<Item = &'a Entry> + 'a {
    tag.entries
        .iter()
        .take(TAG_PAGE_POSTS)
        .map(|&i| &site.entries[i])
}

/// The `Last-Modified` of `/tags/`: the newest `updated` among each tag's newest post (the
/// page changes when a tag gains a post).
pub fn index_last_modified(site: &Site) -> Option<DateTime<Utc>> {
    let newest = site.tags.values().filter_map(|t| t.entries.first());
    Site::last_modified(newest.map(|&i| &site.entries[i]))
}

/// `/tags/`.
pub fn render_tag_index(site: &Site) -> Result<Rendered, DocError> {
    let config = &site.config;
    let lang = &config.language;
    let heading = crate::theme::words::words(lang).tags;
    let title = format!("{heading} — {}", config.title);
    let mut page = page_of(site, "tags", lang, title, "tags/");
    page.tags = site
        .tags
        .iter()
        .map(|(slug, tag)| tag_link(site, slug, &tag.name, tag.entries.len()))
        .collect();
    rendered(site, "tags.html", &page, "tags/", index_last_modified(site))
}

/// `/tags/{slug}/`, or [`DocError::NoSuchPage`] for a tag the site does not have.
pub fn render_tag_page(site: &Site, slug: &str) -> Result<Rendered, DocError> {
    let config = &site.config;
    let lang = &config.language;
    let tag = site.tags.get(slug).ok_or(DocError::NoSuchPage)?;
    let route = format!("tags/{slug}/");
    let title = format!("{} — {}", tag.name, config.title);
    let mut page = page_of(site, "tag", lang, title, &route);
    // Discovery titles the tag's feeds as the feeds title themselves.
    page.feeds = feed_links(site, &route, &format!("{} — {}", config.title, tag.name));
    page.tag = Some(tag_link(site, slug, &tag.name, tag.entries.len()));
    page.posts = listed(site, tag)
        .map(|entry| card(site, entry, lang, false))
        .collect::<Result<_, _>>()?;
    let modified = Site::last_modified(listed(site, tag));
    rendered(site, "tag.html", &page, &route, modified)
}

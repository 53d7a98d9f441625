//! The tag pages, the home every tag feed names: `/tags/` (every tag with its count, linking
//! its page and its feeds) and `/tags/{slug}/` (the tag's newest posts, its feeds, and
//! `<link rel="alternate">` discovery of them). Only published posts have tags here (the
//! site collects tags from its entries), so a tag used only by drafts or scheduled posts
//! has no page.
//!
//! They show titles and dates, never summaries: a summary needs the post's body rendered,
//! and a tag page lists more posts than its feeds hold, so every tag page would render and
//! keep bodies that no feed shows. A tag page lists at most [`TAG_PAGE_POSTS`] posts (the
//! home page's number), which keeps the cost of planning it on every rebuild bounded
//! whatever the size of the tag; older posts are in the tag's feed archives.

use chrono::{DateTime, Utc};

use super::html::{date, discovery_of, feed_list, page};
use super::{DocError, Lifetime, Media, Rendered};
use crate::post::html::escape_text as esc;
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

fn posts(count: usize) -> String {
    match count {
        1 => "1 post".to_string(),
        n => format!("{n} posts"),
    }
}

/// The page header: a link home, the page's heading, and what it is about.
fn header(site: &Site, heading: &str, about: &str) -> String {
    format!(
        "<header><a href=\"{}\">{}</a></header>\n<main>\n<h1>{}</h1>\n<p>{about}</p>\n",
        esc(&site.config.url("")),
        esc(&site.config.title),
        esc(heading)
    )
}

/// `/tags/`.
pub fn render_tag_index(site: &Site) -> Result<Rendered, DocError> {
    let config = &site.config;
    let about = match site.tags.len() {
        0 => "No post has a tag yet.".to_string(),
        n => format!("{n} tags, each with its own feeds."),
    };
    let mut body = header(site, "Tags", &about);
    body.push_str("<ul class=\"tag-index\">\n");
    for (slug, tag) in &site.tags {
        let prefix = format!("tags/{slug}/");
        body.push_str(&format!(
            "<li><a href=\"{}\">{}</a> ({}) {}</li>\n",
            esc(&config.url(&prefix)),
            esc(&tag.name),
            posts(tag.entries.len()),
            feed_list(site, &prefix).trim_end()
        ));
    }
    body.push_str("</ul>\n</main>\n");
    let title = format!("Tags — {}", config.title);
    Ok(Rendered {
        path: "tags/".to_string(),
        media: Media::Html,
        body: page(
            &config.language,
            &title,
            &discovery_of(site, "", &config.title),
            &body,
        ),
        last_modified: index_last_modified(site),
        lifetime: Lifetime::Live,
        link_header: None,
    })
}

/// `/tags/{slug}/`, or [`DocError::NoSuchPage`] for a tag the site does not have.
pub fn render_tag_page(site: &Site, slug: &str) -> Result<Rendered, DocError> {
    let config = &site.config;
    let tag = site.tags.get(slug).ok_or(DocError::NoSuchPage)?;
    let prefix = format!("tags/{slug}/");
    let count = tag.entries.len();
    let about = format!(
        "{} tagged <em>{}</em> · <a href=\"{}\">all tags</a>",
        posts(count),
        esc(&tag.name),
        esc(&config.url("tags/"))
    );
    let mut body = header(site, &tag.name, &about);
    body.push_str(&format!(
        "<nav aria-label=\"Feeds\">Subscribe to this tag: {}</nav>\n<ol class=\"posts\">\n",
        feed_list(site, &prefix).trim_end()
    ));
    for entry in listed(site, tag) {
        body.push_str(&format!(
            "<li><a href=\"{}\">{}</a> {}</li>\n",
            esc(&config.url(entry.page_path())),
            esc(&entry.post.title),
            date(entry)
        ));
    }
    body.push_str("</ol>\n");
    if count > TAG_PAGE_POSTS {
        body.push_str(&format!(
            "<p>The newest {TAG_PAGE_POSTS} of {count} posts; the older ones are in this tag's feeds, which link to their archives.</p>\n"
        ));
    }
    body.push_str(&format!(
        "</main>\n<footer>Follow this site: {}</footer>\n",
        feed_list(site, "")
    ));
    // Discovery titles the tag's feeds as the feeds title themselves.
    let feeds_title = format!("{} — {}", config.title, tag.name);
    let title = format!("{} — {}", tag.name, config.title);
    Ok(Rendered {
        path: prefix.clone(),
        media: Media::Html,
        body: page(
            &config.language,
            &title,
            &discovery_of(site, &prefix, &feeds_title),
            &body,
        ),
        last_modified: Site::last_modified(listed(site, tag)),
        lifetime: Lifetime::Live,
        link_header: None,
    })
}

//! The HTML pages, through the site's theme ([`crate::theme`]): the home page (the site,
//! how to subscribe, its feeds with `<link rel="alternate">` discovery, its tags, the latest
//! posts), the older-posts pages it links to (`/page/2/`…), one page per post so every
//! item's link leads somewhere, and the page answered for routes that do not exist (the tag
//! pages are in `tag_pages`, built from the same pieces). This module turns the site into
//! each template's context; the templates decide the markup.

use chrono::{DateTime, Utc};

use super::{DocError, Lifetime, Media, Rendered, FEED_FORMATS};
use crate::site::{Entry, Site};
use crate::theme::context::{
    FeedLink, Page, PageInfo, Pager, PostCard, PostView, SiteInfo, TagLink,
};
use crate::theme::dates::long_date;
use crate::theme::words::words;

/// How many posts the home page and each older-posts page list.
pub const HOME_POSTS: usize = 50;

/// How many tags the home page lists (the most used; `/tags/` has them all).
pub const HOME_TAGS: usize = 30;

/// The route of the page that answers routes that do not exist (static hosts serve it
/// with `404` under this name).
pub const NOT_FOUND_ROUTE: &str = "404.html";

/// The route of page `n` of the post list: `""` for the home page, `page/{n}/` after.
pub fn list_route(n: usize) -> String {
    match n {
        0 | 1 => String::new(),
        n => format!("page/{n}/"),
    }
}

/// How many pages the post list has (at least the home page).
pub fn list_pages(site: &Site) -> usize {
    site.entries.len().div_ceil(HOME_POSTS).max(1)
}

/// The entries page `n` of the post list shows.
pub fn listed_on(site: &Site, n: usize) -> impl Iterator<Item = &Entry> {
    site.entries
        .iter()
        .skip((n.max(1) - 1) * HOME_POSTS)
        .take(HOME_POSTS)
}

fn format_name(media: Media) -> &'static str {
    match media {
        Media::Rss => "RSS",
        Media::Atom => "Atom",
        _ => "JSON Feed",
    }
}

/// The three feeds of the collection in `prefix` (`""` for the site, `tags/{slug}/` for a
/// tag), titled `title` for discovery.
pub(super) fn feed_links(site: &Site, prefix: &str, title: &str) -> Vec<FeedLink> {
    FEED_FORMATS
        .iter()
        .map(|&m| FeedLink {
            name: format_name(m),
            media_type: m.content_type().split(';').next().unwrap_or_default(),
            title: format!("{title} ({})", format_name(m)),
            url: site.config.url(&format!("{prefix}{}", m.feed_file())),
        })
        .collect()
}

/// A tag by slug, with its count and feeds.
pub(super) fn tag_link(site: &Site, slug: &str, name: &str, count: usize) -> TagLink {
    let prefix = format!("tags/{slug}/");
    let title = format!("{} — {name}", site.config.title);
    TagLink {
        name: name.to_string(),
        url: site.config.url(&prefix),
        count,
        feeds: feed_links(site, &prefix, &title),
    }
}

fn site_info(site: &Site) -> SiteInfo {
    let config = &site.config;
    SiteInfo {
        title: config.title.clone(),
        description: config.description.clone(),
        author: config.author.clone(),
        language: config.language.clone(),
        url: config.url(""),
        tags_url: config.url("tags/"),
        opml_url: config.url("feeds.opml"),
        theme_url: config.url("theme/"),
        icon: config.icon.clone(),
        logo: config.logo.clone(),
    }
}

/// The context every page starts from: the site, the page, its words, the site's feeds.
pub(super) fn page_of(
    site: &Site,
    kind: &'static str,
    lang: &str,
    title: String,
    route: &str,
) -> Page {
    let site_feeds = feed_links(site, "", &site.config.title);
    Page {
        site: site_info(site),
        page: PageInfo {
            kind,
            lang: lang.to_string(),
            title,
            url: site.config.url(route),
        },
        t: words(lang),
        feeds: site_feeds.clone(),
        site_feeds,
        posts: Vec::new(),
        tags: Vec::new(),
        post: None,
        tag: None,
        pager: None,
    }
}

/// An entry in a list, dated in `lang`, with its summary when `summary` (which renders its
/// body).
pub(super) fn card(
    site: &Site,
    entry: &Entry,
    lang: &str,
    summary: bool,
) -> Result<PostCard, DocError> {
    let summary = match summary {
        true => super::body_of(&entry.post)?.summary.clone(),
        false => String::new(),
    };
    Ok(PostCard {
        title: entry.post.title.clone(),
        url: site.config.url(entry.page_path()),
        date: long_date(&entry.post.date, lang),
        datetime: entry.post.date.to_rfc3339(),
        summary,
    })
}

/// A page rendered through the theme's template `template`.
pub(super) fn rendered(
    site: &Site,
    template: &str,
    page: &Page,
    route: &str,
    last_modified: Option<DateTime<Utc>>,
) -> Result<Rendered, DocError> {
    let body = site
        .theme
        .render(template, page)
        .map_err(|e| DocError::Template(format!("{template}: {e}")))?;
    let mut body = body.into_bytes();
    if body.last() != Some(&b'\n') {
        body.push(b'\n');
    }
    Ok(Rendered {
        path: route.to_string(),
        media: Media::Html,
        body,
        last_modified,
        lifetime: Lifetime::Live,
        link_header: None,
    })
}

/// The home page (`n` = 1) or page `n` of older posts; [`DocError::NoSuchPage`] past the
/// last.
pub fn render_list(site: &Site, n: usize) -> Result<Rendered, DocError> {
    let pages = list_pages(site);
    if n == 0 || n > pages {
        return Err(DocError::NoSuchPage);
    }
    let config = &site.config;
    let lang = &config.language;
    let route = list_route(n);
    let (kind, template, title) = match n {
        1 => ("home", "home.html", config.title.clone()),
        n => {
            let numbered = words(lang).page_n.replace("{n}", &n.to_string());
            (
                "archive",
                "archive.html",
                format!("{numbered} — {}", config.title),
            )
        }
    };
    let mut page = page_of(site, kind, lang, title, &route);
    page.posts = listed_on(site, n)
        .map(|entry| card(site, entry, lang, true))
        .collect::<Result<_, _>>()?;
    if n == 1 {
        page.tags = home_tags(site);
    }
    page.pager = Some(Pager {
        number: n,
        count: pages,
        newer_url: (n > 1).then(|| config.url(&list_route(n - 1))),
        older_url: (n < pages).then(|| config.url(&list_route(n + 1))),
    });
    // What the page shows, as its fingerprint covers: an older post's `updated` must not
    // move it (a rebuild that reuses the page would disagree with a fresh one).
    let modified = Site::last_modified(listed_on(site, n));
    rendered(site, template, &page, &route, modified)
}

/// The home page.
pub fn render_index(site: &Site) -> Result<Rendered, DocError> {
    render_list(site, 1)
}

/// The most used tags, most used first (ties by slug), for the home page.
fn home_tags(site: &Site) -> Vec<TagLink> {
    let mut tags: Vec<_> = site.tags.iter().collect();
    tags.sort_by(|a, b| b.1.entries.len().cmp(&a.1.entries.len()).then(a.0.cmp(b.0)));
    tags.into_iter()
        .take(HOME_TAGS)
        .map(|(slug, tag)| tag_link(site, slug, &tag.name, tag.entries.len()))
        .collect()
}

/// One post's page, in the post's language.
pub fn render_post(site: &Site, entry: &Entry) -> Result<Rendered, DocError> {
    let post = &entry.post;
    let config = &site.config;
    let (shown, content) = super::shown(post)?;
    let tags = post
        .tags
        .iter()
        .zip(&post.tag_slugs)
        .map(|(name, slug)| {
            let count = site.tags.get(slug).map_or(0, |t| t.entries.len());
            tag_link(site, slug, name, count)
        })
        .collect();
    let authors = match post.authors.is_empty() {
        true => config.author.clone(),
        false => post.authors.join(", "),
    };
    // The lead image, unless the text already shows that very picture.
    let image = post.image.clone().filter(|src| !shows_image(&content, src));
    let title = format!("{} — {}", post.title, config.title);
    let route = entry.page_path();
    let mut page = page_of(site, "post", &shown.lang, title, route);
    page.post = Some(PostView {
        title: post.title.clone(),
        url: config.url(route),
        date: long_date(&post.date, &shown.lang),
        datetime: post.date.to_rfc3339(),
        updated: post.updated.to_rfc3339(),
        authors,
        lang: shown.lang.clone(),
        image,
        content,
        tags,
    });
    let modified = Some(post.updated.with_timezone(&Utc));
    rendered(site, "post.html", &page, route, modified)
}

/// Whether sanitised HTML already shows the picture at `src`.
fn shows_image(content: &str, src: &str) -> bool {
    let escaped = crate::post::html::escape_text(src);
    content.contains(&format!("<img src=\"{escaped}\""))
}

/// The page answered (with `404`) for routes that do not exist.
pub fn render_not_found(site: &Site) -> Result<Rendered, DocError> {
    let config = &site.config;
    let lang = &config.language;
    let title = format!("{} — {}", words(lang).not_found, config.title);
    let page = page_of(site, "404", lang, title, NOT_FOUND_ROUTE);
    rendered(site, "404.html", &page, NOT_FOUND_ROUTE, None)
}

//! Small, readable HTML: the home page (site, feeds with `<link rel="alternate">`
//! discovery, latest posts) and one page per post so every item's link leads somewhere
//! (the tag pages are in `tag_pages`, built from the same pieces).
//! Semantic markup, one inline stylesheet, no JavaScript.

use super::{DocError, Lifetime, Media, Rendered, FEED_FORMATS};
use crate::post::html::escape_text as esc;
use crate::site::{Entry, Site};

const STYLE: &str = "body{max-width:42rem;margin:0 auto;padding:1rem;font:1.05rem/1.6 system-ui,sans-serif;color:#222;background:#fdfdfc}\
a{color:#0b57a4}img{max-width:100%;height:auto}pre{overflow-x:auto;background:#f3f3f1;padding:.75rem}\
header,footer{color:#555}time{color:#666}ul.tags{list-style:none;padding:0}ul.tags li{display:inline;margin-right:.5rem}\
.tag-index ul{display:inline;padding:0}.tag-index ul li{display:inline;margin-left:.4rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}@media(prefers-color-scheme:dark){body{background:#1b1b1b;color:#ddd}a{color:#8ab4f8}pre{background:#2a2a2a}}";

/// How many posts the home page lists.
pub const HOME_POSTS: usize = 50;

/// A whole HTML document.
pub(super) fn page(lang: &str, title: &str, head_extra: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n{head_extra}<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        esc(lang),
        esc(title)
    )
    .into_bytes()
}

/// `<link rel="alternate">` tags for the site's three feeds.
fn discovery(site: &Site) -> String {
    discovery_of(site, "", &site.config.title)
}

/// `<link rel="alternate">` tags for the three feeds of the collection in `prefix` (`""`
/// for the site, `tags/{slug}/` for a tag), titled `title`.
pub(super) fn discovery_of(site: &Site, prefix: &str, title: &str) -> String {
    FEED_FORMATS
        .iter()
        .map(|&m| {
            format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
                m.content_type().split(';').next().unwrap_or_default(),
                esc(title),
                format_name(m),
                esc(&site.config.url(&format!("{prefix}{}", m.feed_file())))
            )
        })
        .collect()
}

fn format_name(media: Media) -> &'static str {
    match media {
        Media::Rss => "RSS",
        Media::Atom => "Atom",
        Media::Json => "JSON Feed",
        Media::Html | Media::Status => "HTML",
    }
}

/// A list of links to the three feeds of the collection in `prefix`.
pub(super) fn feed_list(site: &Site, prefix: &str) -> String {
    let items: String = FEED_FORMATS
        .iter()
        .map(|&m| {
            format!(
                "<li><a href=\"{}\">{}</a></li>",
                esc(&site.config.url(&format!("{prefix}{}", m.feed_file()))),
                format_name(m)
            )
        })
        .collect();
    format!("<ul class=\"feeds\">{items}</ul>\n")
}

/// An entry's publication date as a `<time>` element.
pub(super) fn date(entry: &Entry) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        entry.post.date.to_rfc3339(),
        entry.post.date.format("%-d %B %Y")
    )
}

/// The home page.
pub fn render_index(site: &Site) -> Result<Rendered, DocError> {
    let config = &site.config;
    let mut body = format!(
        "<header>\n<h1>{}</h1>\n<p>{}</p>\n<nav aria-label=\"Feeds\">Subscribe: {}</nav>\n\
         <p><a href=\"{}\">Posts by tag</a></p>\n</header>\n<main>\n<h2>Latest posts</h2>\n<ol class=\"posts\">\n",
        esc(&config.title),
        esc(&config.description),
        feed_list(site, ""),
        esc(&config.url("tags/"))
    );
    for entry in site.entries.iter().take(HOME_POSTS) {
        body.push_str(&format!(
            "<li><a href=\"{}\">{}</a> {}<br>{}</li>\n",
            esc(&config.url(entry.page_path())),
            esc(&entry.post.title),
            date(entry),
            esc(&super::body_of(&entry.post)?.summary)
        ));
    }
    body.push_str("</ol>\n</main>\n");
    Ok(Rendered {
        path: String::new(),
        media: Media::Html,
        body: page(&config.language, &config.title, &discovery(site), &body),
        // What the page shows, as its fingerprint covers: an older post's `updated` must not
        // move it (a rebuild that reuses the page would disagree with a fresh one).
        last_modified: Site::last_modified(site.entries.iter().take(HOME_POSTS)),
        lifetime: Lifetime::Live,
        link_header: None,
    })
}

/// One post's page.
pub fn render_post(site: &Site, entry: &Entry) -> Result<Rendered, DocError> {
    let post = &entry.post;
    let config = &site.config;
    let tags: String = post
        .tags
        .iter()
        .zip(&post.tag_slugs)
        .map(|(t, slug)| {
            format!(
                "<li><a href=\"{}\">#{}</a></li>",
                esc(&config.url(&format!("tags/{slug}/"))),
                esc(t)
            )
        })
        .collect();
    let authors = if post.authors.is_empty() {
        config.author.clone()
    } else {
        post.authors.join(", ")
    };
    let (shown, content) = super::shown(post)?;
    // The lead image, unless the text already shows that very picture.
    let image = post
        .image
        .as_deref()
        .map(|src| format!("<img src=\"{}\" alt=\"\">\n", esc(src)))
        .filter(|img| !content.contains(&img[..img.find(" alt").unwrap_or(img.len())]))
        .unwrap_or_default();
    let body = format!(
        "<header><a href=\"{home}\">{site_title}</a></header>\n<main>\n<article lang=\"{lang}\">\n<h1>{title}</h1>\n\
         <p>{date} · {authors}</p>\n{image}{content}\n<ul class=\"tags\">{tags}</ul>\n</article>\n</main>\n\
         <footer>Follow this site: {feeds}</footer>\n",
        home = esc(&config.url("")),
        site_title = esc(&config.title),
        lang = esc(&shown.lang),
        title = esc(&post.title),
        date = date(entry),
        authors = esc(&authors),
        content = content,
        feeds = feed_list(site, ""),
    );
    Ok(Rendered {
        path: entry.page_path().to_string(),
        media: Media::Html,
        body: page(
            &shown.lang,
            &format!("{} — {}", post.title, config.title),
            &discovery(site),
            &body,
        ),
        last_modified: Some(post.updated.with_timezone(&chrono::Utc)),
        lifetime: Lifetime::Live,
        link_header: None,
    })
}

//! What makes the site findable and followable besides its pages: `/sitemap.xml` (every
//! page with its `lastmod`, for search engines), `/robots.txt` (naming the sitemap),
//! `/feeds.opml` (every subscription feed, for readers that import a list), and the theme
//! folder's files.
//!
//! Sitemaps protocol 0.9 (sitemaps.org): at most 50,000 URLs per file, so the newest
//! posts are listed first and the list stops there; OPML 2.0 with one `outline` of type
//! `rss` per feed (Atom feeds are `rss` outlines too, as readers expect).

use chrono::{DateTime, SecondsFormat, Utc};

use super::html::{list_pages, list_route, listed_on};
use super::{tag_pages, DocError, Lifetime, Media, Rendered};
use crate::post::html::escape_text as esc;
use crate::site::Site;

/// Route of the sitemap.
pub const SITEMAP_ROUTE: &str = "sitemap.xml";
/// Route of robots.txt.
pub const ROBOTS_ROUTE: &str = "robots.txt";
/// Route of the OPML list of feeds.
pub const OPML_ROUTE: &str = "feeds.opml";

/// The most URLs one sitemap file may list (sitemaps.org).
const SITEMAP_LIMIT: usize = 50_000;

fn resource(route: &str, media: Media, body: String, modified: Option<DateTime<Utc>>) -> Rendered {
    Rendered {
        path: route.to_string(),
        media,
        body: body.into_bytes(),
        last_modified: modified,
        lifetime: Lifetime::Live,
        link_header: None,
    }
}

/// `/sitemap.xml`: the home and older-posts pages, `/tags/` and each tag page, then the
/// posts newest first, each with the newest `updated` of what it shows.
pub fn sitemap(site: &Site) -> Rendered {
    let config = &site.config;
    let mut urls: Vec<(String, Option<DateTime<Utc>>)> = (1..=list_pages(site))
        .map(|n| (list_route(n), Site::last_modified(listed_on(site, n))))
        .collect();
    urls.push(("tags/".into(), tag_pages::index_last_modified(site)));
    for (slug, tag) in &site.tags {
        let modified = Site::last_modified(tag_pages::listed(site, tag));
        urls.push((format!("tags/{slug}/"), modified));
    }
    for entry in &site.entries {
        let updated = entry.post.updated.with_timezone(&Utc);
        urls.push((entry.page_path().to_string(), Some(updated)));
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (route, modified) in urls.iter().take(SITEMAP_LIMIT) {
        out.push_str(&format!("<url><loc>{}</loc>", esc(&config.url(route))));
        if let Some(at) = modified.map(|at| at.min(site.now)) {
            let at = at.to_rfc3339_opts(SecondsFormat::Secs, true);
            out.push_str(&format!("<lastmod>{at}</lastmod>"));
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    let modified = Site::last_modified(site.entries.iter());
    resource(SITEMAP_ROUTE, Media::Sitemap, out, modified)
}

/// `/robots.txt`: everything may be crawled; the sitemap is named.
pub fn robots(site: &Site) -> Rendered {
    let body = format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        site.config.url(SITEMAP_ROUTE)
    );
    resource(ROBOTS_ROUTE, Media::Text, body, None)
}

/// `/feeds.opml`: the site's feed, then each tag's, as Atom (one format per collection, so
/// a reader importing the list subscribes once to each).
pub fn opml(site: &Site) -> Rendered {
    let config = &site.config;
    let outline = |title: &str, prefix: &str| {
        format!(
            "<outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{}\" htmlUrl=\"{}\"/>\n",
            esc(&config.url(&format!("{prefix}atom.xml"))),
            esc(&config.url(prefix)),
            t = esc(title),
        )
    };
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head><title>{}</title></head>\n<body>\n",
        esc(&config.title)
    );
    out.push_str(&outline(&config.title, ""));
    for (slug, tag) in &site.tags {
        let title = format!("{} — {}", config.title, tag.name);
        out.push_str(&outline(&title, &format!("tags/{slug}/")));
    }
    out.push_str("</body>\n</opml>\n");
    let modified = tag_pages::index_last_modified(site);
    resource(OPML_ROUTE, Media::Opml, out, modified)
}

/// A file of the theme folder, by name.
pub fn theme_file(site: &Site, name: &str) -> Result<Rendered, DocError> {
    let asset = site.theme.assets().get(name).ok_or(DocError::NoSuchPage)?;
    Ok(Rendered {
        path: format!("theme/{name}"),
        media: Media::Asset(asset.content_type),
        body: asset.bytes.to_vec(),
        last_modified: None,
        lifetime: Lifetime::Live,
        link_header: None,
    })
}

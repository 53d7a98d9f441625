//! Which documents a site has and what each shows, resolved without rendering them: the hot
//! routes kept rendered at all times, the cold ones resolved on request, and a fingerprint
//! of each document's inputs.

use super::feed::{collection, feed_doc, paging};
use super::{chrome, html, tag_pages, Media, FEED_FORMATS};
use crate::post::Fingerprint;
use crate::site::{Entry, Site};

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
    /// `/tags/`: every tag with its count.
    TagIndex,
    /// `/tags/{slug}/`: one tag's page, by slug.
    TagPage(String),
    /// A post's page, by index into [`Site::entries`].
    PostPage(usize),
    /// Page `n` (2 or more) of the post list: older posts, from the home page.
    List(usize),
    /// The page answered for routes that do not exist (`404.html`).
    NotFound,
    /// A file of the theme folder (`theme/{name}`).
    ThemeFile(String),
    /// `/sitemap.xml`: every page, with `lastmod`.
    Sitemap,
    /// `/robots.txt`, naming the sitemap.
    Robots,
    /// `/feeds.opml`: every subscription feed (the site's, each tag's).
    Opml,
    /// `/feed.xsl`: how browsers show the feeds to people.
    FeedStyle,
    /// `/feed.css`: the same for browsers without XSLT.
    FeedCss,
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

/// The folder of every collection: the site (`""`), then each tag (`tags/{slug}/`).
fn collection_prefixes(site: &Site) -> impl Iterator<Item = String> + '_ {
    std::iter::once(String::new()).chain(site.tags.keys().map(|slug| format!("tags/{slug}/")))
}

/// The routes kept rendered and encoded at all times: subscription feeds (site and tags), the
/// home page and the tag pages. Everything else is rendered on request ([`plan_cold`]).
///
/// Tag pages are hot like the home page: each tag feed names its page as its home, so
/// readers reach them from every feed, and they are small (titles and dates of at most
/// [`tag_pages::TAG_PAGE_POSTS`] posts, no bodies). Kept cold, each request would have to
/// work out their fingerprint again, which is the larger part of making one.
pub fn plan_hot(site: &Site) -> Vec<Planned> {
    let mut out = Vec::new();
    for prefix in collection_prefixes(site) {
        for media in FEED_FORMATS {
            let doc = Doc::Feed {
                prefix: prefix.clone(),
                page: None,
                media,
            };
            out.extend(plan(site, &format!("{prefix}{}", media.feed_file()), doc));
        }
    }
    out.extend(plan(site, "", Doc::Index));
    out.extend(plan(site, "tags/", Doc::TagIndex));
    out.extend(plan(site, html::NOT_FOUND_ROUTE, Doc::NotFound));
    for (route, doc) in [
        (chrome::ROBOTS_ROUTE, Doc::Robots),
        (chrome::OPML_ROUTE, Doc::Opml),
        (super::feed_style::ROUTE, Doc::FeedStyle),
        (super::feed_style::CSS_ROUTE, Doc::FeedCss),
    ] {
        out.extend(plan(site, route, doc));
    }
    for name in site.theme.assets().keys() {
        out.extend(plan(
            site,
            &format!("theme/{name}"),
            Doc::ThemeFile(name.clone()),
        ));
    }
    for slug in site.tags.keys() {
        out.extend(plan(
            site,
            &format!("tags/{slug}/"),
            Doc::TagPage(slug.clone()),
        ));
    }
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
    if route == chrome::SITEMAP_ROUTE {
        return plan(site, route, Doc::Sitemap);
    }
    if let Some(n) = route
        .strip_prefix("page/")
        .and_then(|r| r.strip_suffix('/'))
    {
        let n: usize = n
            .parse()
            .ok()
            .filter(|k: &usize| *k > 1 && n == k.to_string())?;
        return (n <= html::list_pages(site))
            .then(|| plan(site, route, Doc::List(n)))
            .flatten();
    }
    // The last `archive/`: a tag may be called `archive` (`tags/archive/archive/1/…`).
    let (prefix, rest) = match route.rfind("archive/") {
        Some(at) => route.split_at(at),
        None => return None,
    };
    let rest = rest.strip_prefix("archive/")?;
    let (number, file) = rest.split_once('/')?;
    let page: usize = number
        .parse()
        .ok()
        .filter(|n: &usize| *n > 0 && number == n.to_string())?;
    let media = Media::of_feed_file(file)?;
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
    for prefix in collection_prefixes(site) {
        let pages =
            collection(site, &prefix).map_or(0, |(_, indices)| paging(site, indices.len()).pages());
        for n in 1..=pages {
            for media in FEED_FORMATS {
                routes.push(format!("{prefix}archive/{n}/{}", media.feed_file()));
            }
        }
    }
    routes.extend(site.entries.iter().map(|e| e.page_path().to_string()));
    routes.extend((2..=html::list_pages(site)).map(html::list_route));
    routes.push(chrome::SITEMAP_ROUTE.to_string());
    routes.sort();
    routes
}

/// Plans one document if it exists (its archive page number within range).
fn plan(site: &Site, route: &str, doc: Doc) -> Option<Planned> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&site.config_fingerprint);
    if !matches!(doc, Doc::Feed { .. }) {
        // Pages are made by the theme's templates; feeds are not.
        hasher.update(&site.theme.digest());
    }
    hasher.update(route.as_bytes());
    hasher.update(&[0]);
    match &doc {
        Doc::Feed {
            prefix,
            page,
            media,
        } => {
            let feed = feed_doc(site, prefix, *page)?;
            hasher.update(format!("{media:?}|{:?}|{}", feed.prev_archive, feed.title).as_bytes());
            hash_entries(&mut hasher, feed.entries.iter().copied());
            hash_media(&mut hasher, site, prefix, feed.entries.iter().copied());
        }
        Doc::Index => {
            hasher.update(&(html::list_pages(site) as u64).to_le_bytes());
            hash_entries(&mut hasher, html::listed_on(site, 1));
            // The home page lists the most used tags.
            hash_tag_index(&mut hasher, site);
        }
        Doc::TagIndex => hash_tag_index(&mut hasher, site),
        Doc::TagPage(slug) => {
            let tag = site.tags.get(slug)?;
            hash_text(&mut hasher, &tag.name);
            hasher.update(&(tag.entries.len() as u64).to_le_bytes());
            hash_entries(&mut hasher, tag_pages::listed(site, tag));
        }
        Doc::PostPage(index) => hash_entries(&mut hasher, std::iter::once(&site.entries[*index])),
        Doc::List(n) => {
            hasher.update(&(html::list_pages(site) as u64).to_le_bytes());
            hash_entries(&mut hasher, html::listed_on(site, *n));
        }
        Doc::Sitemap => {
            hash_tag_index(&mut hasher, site);
            hash_entries(&mut hasher, site.entries.iter());
        }
        Doc::Opml => hash_tag_index(&mut hasher, site),
        Doc::NotFound | Doc::ThemeFile(_) | Doc::Robots | Doc::FeedStyle | Doc::FeedCss => {}
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
            hash_text(hasher, part);
        }
        hasher.update(&entry.post.fingerprint);
    }
}

/// What a feed says about files beside its posts and its show: the files' state as the
/// library found it (length, duration; it changes when the file does) and the show's guid.
fn hash_media<'a>(
    hasher: &mut blake3::Hasher,
    site: &Site,
    prefix: &str,
    entries: impl Iterator<Item = &'a Entry>,
) {
    let show = super::podcast::show_of(site, prefix);
    if let Some(show) = show {
        hash_text(hasher, &format!("{:?}", site.show_guids.get(&show.key())));
        if let Some(crate::config::ShowImage::File(path)) = &show.image {
            hash_text(hasher, &format!("{:?}", site.files.get(path)));
        }
    }
    for entry in entries {
        let episode = &entry.post.episode;
        let files = [&episode.enclosure_file]
            .into_iter()
            .flatten()
            .chain(episode.companions.iter().filter_map(|c| c.file.as_ref()));
        for path in files {
            hash_text(hasher, &format!("{:?}", site.files.get(path)));
        }
    }
}

/// A piece of text, length first so that neighbours cannot run into each other.
fn hash_text(hasher: &mut blake3::Hasher, text: &str) {
    hasher.update(&(text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

/// What `/tags/` shows: each tag's slug, name and count, and its `Last-Modified`.
fn hash_tag_index(hasher: &mut blake3::Hasher, site: &Site) {
    for (slug, tag) in &site.tags {
        hash_text(hasher, slug);
        hash_text(hasher, &tag.name);
        hasher.update(&(tag.entries.len() as u64).to_le_bytes());
    }
    let modified = tag_pages::index_last_modified(site).map(|at| at.timestamp());
    hasher.update(format!("{modified:?}").as_bytes());
}

/// The entries whose bodies a planned document shows (tag pages show titles only).
pub fn entries_of<'a>(site: &'a Site, planned: &Planned) -> Vec<&'a Entry> {
    match &planned.doc {
        Doc::Feed { prefix, page, .. } => {
            feed_doc(site, prefix, *page).map_or_else(Vec::new, |doc| doc.entries)
        }
        Doc::Index => html::listed_on(site, 1).collect(),
        Doc::List(n) => html::listed_on(site, *n).collect(),
        Doc::PostPage(index) => vec![&site.entries[*index]],
        _ => Vec::new(),
    }
}

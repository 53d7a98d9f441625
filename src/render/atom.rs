//! Atom 1.0 (RFC 4287) with `rel="self"` and `rel="alternate"`, RFC 5005 archive links, and
//! each entry's language as `xml:lang` on its content and summary (atom_syndication has no
//! `xml:lang` on `entry`).

use atom_syndication::{Category, Content, Entry as AtomEntry, Feed, Link, Person, Text};

use super::{DocError, FeedDoc, Media, FEED_HISTORY_NS};
use crate::site::{Entry, Site};

/// Renders one feed document as Atom 1.0.
pub fn render_atom(doc: &FeedDoc) -> Result<Vec<u8>, DocError> {
    let config = &doc.site.config;
    let mut feed = Feed {
        title: Text::plain(doc.title.clone()),
        id: doc.self_url(Media::Atom),
        updated: doc.updated().fixed_offset(),
        authors: vec![person(&config.author)],
        links: feed_links(doc),
        lang: Some(config.language.clone()),
        subtitle: Some(Text::plain(config.description.clone())),
        icon: config.icon.clone(),
        logo: config.logo.clone(),
        entries: doc
            .entries
            .iter()
            .map(|e| entry(doc.site, e))
            .collect::<Result<_, _>>()?,
        ..Feed::default()
    };
    if doc.is_archive {
        mark_archive(&mut feed);
    }
    feed.write_to(Vec::new()).map_err(DocError::Atom)
}

/// The feed's links: itself, its HTML page, the WebSub hub, then the RFC 5005 links.
fn feed_links(doc: &FeedDoc) -> Vec<Link> {
    let mut links = vec![
        link(
            "self",
            doc.self_url(Media::Atom),
            Some("application/atom+xml"),
        ),
        link("alternate", doc.home.clone(), Some("text/html")),
    ];
    if let Some(hub) = &doc.site.config.websub_hub {
        links.push(link("hub", hub.to_string(), None));
    }
    for (rel, href) in doc.archive_links(Media::Atom) {
        links.push(link(rel, href, None));
    }
    links
}

/// Marks an archive page with RFC 5005's `fh:archive`.
fn mark_archive(feed: &mut Feed) {
    feed.namespaces.insert("fh".into(), FEED_HISTORY_NS.into());
    let archive = atom_syndication::extension::Extension {
        name: "fh:archive".into(),
        ..Default::default()
    };
    feed.extensions.insert(
        "fh".into(),
        std::collections::BTreeMap::from([("archive".into(), vec![archive])]),
    );
}

fn link(rel: &str, href: String, mime: Option<&str>) -> Link {
    Link {
        rel: rel.into(),
        href,
        mime_type: mime.map(Into::into),
        ..Link::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: name.into(),
        ..Person::default()
    }
}

fn entry(site: &Site, entry: &Entry) -> Result<AtomEntry, DocError> {
    let post = &entry.post;
    let mut links = vec![link(
        "alternate",
        entry.link().to_string(),
        Some("text/html"),
    )];
    if let Some(enclosure) = super::podcast::media_of(site, post) {
        links.push(Link {
            rel: "enclosure".into(),
            href: enclosure.url,
            mime_type: Some(enclosure.mime_type),
            length: Some(enclosure.length.to_string()),
            ..Link::default()
        });
    }
    let (body, html) = super::shown(post)?;
    let mut summary = Text::plain(body.summary.clone());
    summary.lang = Some(body.lang.clone());
    Ok(AtomEntry {
        title: Text::plain(post.title.clone()),
        id: entry.id.to_string(),
        updated: post.updated,
        published: Some(post.date),
        authors: post.authors.iter().map(|a| person(a)).collect(),
        links,
        categories: post
            .tags
            .iter()
            .map(|t| Category {
                term: t.clone(),
                ..Category::default()
            })
            .collect(),
        summary: Some(summary),
        content: Some(Content {
            value: Some(html),
            content_type: Some("html".into()),
            lang: Some(body.lang.clone()),
            ..Content::default()
        }),
        ..AtomEntry::default()
    })
}

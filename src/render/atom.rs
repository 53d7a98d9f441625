//! Atom 1.0 (RFC 4287) with `rel="self"` and `rel="alternate"`, RFC 5005 archive links, and
//! each entry's language as `xml:lang` on its content and summary (atom_syndication has no
//! `xml:lang` on `entry`).

use atom_syndication::{Category, Content, Entry as AtomEntry, Feed, Link, Person, Text};

use super::{FeedDoc, Media, FEED_HISTORY_NS};
use crate::site::Entry;

/// Renders one feed document as Atom 1.0.
pub fn render_atom(doc: &FeedDoc) -> Result<Vec<u8>, String> {
    let config = &doc.site.config;
    let mut links = vec![
        link(
            "self",
            doc.self_url(Media::Atom),
            Some("application/atom+xml"),
        ),
        link("alternate", doc.home.clone(), Some("text/html")),
    ];
    if let Some(hub) = &config.websub_hub {
        links.push(link("hub", hub.to_string(), None));
    }
    if doc.is_archive {
        links.push(link(
            "current",
            doc.url_in(&doc.current_dir, Media::Atom),
            None,
        ));
    }
    if let Some(prev) = &doc.prev_archive {
        links.push(link("prev-archive", doc.url_in(prev, Media::Atom), None));
    }
    if let Some(next) = &doc.next_archive {
        links.push(link("next-archive", doc.url_in(next, Media::Atom), None));
    }
    let mut feed = Feed {
        title: Text::plain(doc.title.clone()),
        id: doc.self_url(Media::Atom),
        updated: doc.updated().fixed_offset(),
        authors: vec![person(&config.author)],
        links,
        lang: Some(config.language.clone()),
        subtitle: Some(Text::plain(config.description.clone())),
        entries: doc
            .entries
            .iter()
            .map(|e| entry(e))
            .collect::<Result<_, _>>()?,
        ..Feed::default()
    };
    if doc.is_archive {
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
    feed.write_to(Vec::new()).map_err(|e| e.to_string())
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

fn entry(entry: &Entry) -> Result<AtomEntry, String> {
    let post = &entry.post;
    let mut links = vec![link(
        "alternate",
        entry.link().to_string(),
        Some("text/html"),
    )];
    if let Some(enclosure) = &post.enclosure {
        links.push(Link {
            rel: "enclosure".into(),
            href: enclosure.url.clone(),
            mime_type: Some(enclosure.mime_type.clone()),
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

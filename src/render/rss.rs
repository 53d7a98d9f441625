//! RSS 2.0 with `atom:link rel="self"` (and RFC 5005 archive links), `content:encoded` for
//! the full HTML, `description` for the summary (HTML-escaped plain text: readers render
//! it as HTML), `dc:creator` for authors, and `guid isPermaLink` telling the truth.

use std::collections::BTreeMap;

use ::rss::extension::atom::{AtomExtension, Link};
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::extension::Extension;
use ::rss::{Category, Channel, Enclosure, Guid, Image, Item};

use chrono::{DateTime, FixedOffset};

use super::podcast::{self, ITUNES_NS, PODCAST_NS};
use super::{DocError, FeedDoc, Media, FEED_HISTORY_NS};
use crate::config::Show;
use crate::post::html::{escape_text, plain_text_line};
use crate::site::Entry;
use crate::site::Site;

/// Renders one feed document as RSS 2.0.
pub fn render_rss(doc: &FeedDoc) -> Result<Vec<u8>, DocError> {
    let config = &doc.site.config;
    let mut channel = Channel {
        title: doc.title.clone(),
        link: doc.home.clone(),
        description: config.description.clone(),
        language: Some(config.language.clone()),
        last_build_date: doc
            .last_modified()
            .map(|d| rfc2822(&d.fixed_offset(), "the newest entry"))
            .transpose()?,
        generator: Some("dropfeed".into()),
        image: config.logo.as_ref().map(|url| ::rss::Image {
            url: url.clone(),
            title: doc.title.clone(),
            link: doc.home.clone(),
            ..::rss::Image::default()
        }),
        atom_ext: Some(AtomExtension {
            links: channel_links(doc),
        }),
        items: doc
            .entries
            .iter()
            .map(|e| item(doc.site, e, &config.author))
            .collect::<Result<_, _>>()?,
        ..Channel::default()
    };
    let show = podcast::show_of(doc.site, &doc.current_dir);
    if let Some(show) = show {
        make_show(&mut channel, doc, show);
    }
    if doc.is_archive {
        mark_archive(&mut channel);
    }
    channel.write_to(Vec::new()).map_err(DocError::Rss)
}

/// The channel's `atom:link`s: itself, the WebSub hub, then the RFC 5005 links.
fn channel_links(doc: &FeedDoc) -> Vec<Link> {
    let mut links = vec![atom_link(
        "self",
        doc.self_url(Media::Rss),
        Some("application/rss+xml"),
    )];
    if let Some(hub) = &doc.site.config.websub_hub {
        links.push(atom_link("hub", hub.to_string(), None));
    }
    for (rel, href) in doc.archive_links(Media::Rss) {
        links.push(atom_link(rel, href, None));
    }
    links
}

/// Makes a channel a podcast's: its title and description, artwork, the `itunes:` and
/// `podcast:` elements, and episodes without `dc:creator` (their `itunes:author` says it).
fn make_show(channel: &mut Channel, doc: &FeedDoc, show: &Show) {
    let site = doc.site;
    if let Some(title) = &show.title {
        channel.title = plain_text_line(title);
    }
    if let Some(description) = &show.description {
        channel.description = plain_text_line(description);
    }
    channel.copyright = show.copyright.as_deref().map(plain_text_line);
    channel.image = podcast::artwork_url(site, show).map(|url| Image {
        url,
        title: channel.title.clone(),
        link: channel.link.clone(),
        ..Image::default()
    });
    channel.namespaces.insert("itunes".into(), ITUNES_NS.into());
    channel
        .namespaces
        .insert("podcast".into(), PODCAST_NS.into());
    channel.extensions = podcast::channel_elements(site, show);
    for (item, entry) in channel.items.iter_mut().zip(&doc.entries) {
        item.dublin_core_ext = None;
        item.extensions = podcast::item_elements(site, &entry.post);
    }
}

/// Marks an archive page with RFC 5005's `fh:archive`.
fn mark_archive(channel: &mut Channel) {
    channel
        .namespaces
        .insert("fh".into(), FEED_HISTORY_NS.into());
    let archive = Extension {
        name: "fh:archive".into(),
        ..Extension::default()
    };
    channel.extensions.insert(
        "fh".into(),
        BTreeMap::from([("archive".into(), vec![archive])]),
    );
}

/// A date as RFC 2822, or an error naming whose date it is instead of chrono's panic for
/// years RFC 2822 cannot express. Posts with such dates fail when they are read (see
/// [`crate::post::date::YEARS`]), so this guards against posts made some other way.
fn rfc2822(date: &DateTime<FixedOffset>, whose: &str) -> Result<String, DocError> {
    crate::post::date::expressible(date).map_err(|error| DocError::Date {
        whose: whose.to_string(),
        error,
    })?;
    Ok(date.to_rfc2822())
}

fn atom_link(rel: &str, href: String, mime: Option<&str>) -> Link {
    Link {
        rel: rel.into(),
        href,
        mime_type: mime.map(Into::into),
        ..Link::default()
    }
}

fn item(site: &Site, entry: &Entry, site_author: &str) -> Result<Item, DocError> {
    let post = &entry.post;
    let creators = if post.authors.is_empty() {
        vec![site_author.to_string()]
    } else {
        post.authors.clone()
    };
    let (body, html) = super::shown(post)?;
    Ok(Item {
        title: Some(post.title.clone()),
        link: Some(entry.link().to_string()),
        // Readers take an RSS description as HTML: the plain-text summary is escaped, or
        // `<script>` in inline code or a `.txt` would be live markup.
        description: Some(escape_text(&body.summary)),
        guid: Some(Guid {
            value: entry.id.to_string(),
            permalink: *entry.id == *entry.link(),
        }),
        pub_date: Some(rfc2822(&post.date, &post.source)?),
        categories: post
            .tags
            .iter()
            .map(|t| Category {
                name: t.clone(),
                domain: None,
            })
            .collect(),
        content: Some(html),
        enclosure: podcast::media_of(site, post).map(|e| Enclosure {
            url: e.url,
            length: e.length.to_string(),
            mime_type: e.mime_type,
        }),
        dublin_core_ext: Some(DublinCoreExtension {
            creators,
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    })
}

//! RSS 2.0, Atom 1.0 and JSON Feed documents, read with feed-rs, as imported items. An
//! item keeps the id its feed gave it (RSS `guid`, Atom `id`, JSON Feed `id`); an item
//! without one gets none here (feed-rs would make one up; dropfeed then issues its own).

use chrono::{DateTime, FixedOffset, Utc};
use feed_rs::model::{Entry, Feed, FeedType, Text};

use super::{html_to_text, Document, Format, Item};
use crate::post::Enclosure;

/// What feed-rs is told to put where an item has no id: nothing a feed could hold.
const NO_ID: &str = "\u{0}no id";

/// Parses a feed document; `Err` says why it is not one.
pub fn parse(bytes: &[u8]) -> Result<Document, String> {
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| NO_ID.to_string())
        .sanitize_content(false)
        .build();
    let feed = parser.parse(bytes).map_err(|e| e.to_string())?;
    let format = match feed.feed_type {
        FeedType::Atom => Format::Atom,
        FeedType::JSON => Format::JsonFeed,
        _ => Format::Rss,
    };
    let language = feed.language.clone();
    let items = feed
        .entries
        .iter()
        .map(|e| item(e, language.as_deref()))
        .collect();
    Ok(Document {
        format,
        items,
        prev_archive: prev_archive(&feed),
    })
}

/// RFC 5005's `prev-archive` link (Atom, or `atom:link` in RSS).
fn prev_archive(feed: &Feed) -> Option<String> {
    feed.links
        .iter()
        .find(|l| l.rel.as_deref() == Some("prev-archive"))
        .map(|l| l.href.clone())
}

fn item(entry: &Entry, feed_language: Option<&str>) -> Item {
    // A content element without text of its own (Atom `<content src="…"/>`) is no body:
    // the summary is then the text, not an empty post.
    let body = entry.content.as_ref().and_then(|c| c.body.clone());
    let (html, summary) = match (body, &entry.summary) {
        (Some(body), summary) => (body, summary.as_ref().map(plain)),
        (None, Some(summary)) => (as_html(summary), None),
        (None, None) => (String::new(), None),
    };
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .map(|l| l.href.clone());
    Item {
        id: Some(entry.id.trim().to_string()).filter(|id| !id.is_empty() && id != NO_ID),
        title: entry.title.as_ref().map(plain),
        published: entry.published.map(fixed),
        updated: entry.updated.map(fixed),
        authors: entry
            .authors
            .iter()
            .filter_map(|p| p.name.clone())
            .collect(),
        tags: entry
            .categories
            .iter()
            .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
            .collect(),
        summary,
        html,
        link,
        enclosure: enclosure(entry),
        lang: entry
            .language
            .clone()
            .or_else(|| feed_language.map(str::to_string)),
        draft: false,
        slug: None,
    }
}

/// The first media file attached to an entry (an RSS `enclosure`, an Atom `rel=enclosure`
/// link, a JSON Feed attachment) that has a type.
fn enclosure(entry: &Entry) -> Option<Enclosure> {
    let from_media = entry.media.iter().flat_map(|m| &m.content).find_map(|c| {
        Some(Enclosure {
            url: c.url.as_ref()?.to_string(),
            mime_type: c.content_type.as_ref()?.to_string(),
            length: c.size.unwrap_or(0),
        })
    });
    from_media.or_else(|| {
        entry.links.iter().find_map(|l| {
            (l.rel.as_deref() == Some("enclosure")).then_some(())?;
            Some(Enclosure {
                url: l.href.clone(),
                mime_type: l.media_type.clone()?,
                length: l.length.unwrap_or(0),
            })
        })
    })
}

fn fixed(date: DateTime<Utc>) -> DateTime<FixedOffset> {
    date.fixed_offset()
}

/// A text construct as plain text.
fn plain(text: &Text) -> String {
    if text.content_type.subty() == "html" || text.content_type.subty() == "xhtml" {
        html_to_text(&text.content)
    } else {
        text.content.trim().to_string()
    }
}

/// A text construct as HTML.
fn as_html(text: &Text) -> String {
    if text.content_type.subty() == "plain" {
        crate::post::html::escape_text(&text.content).replace('\n', "<br>\n")
    } else {
        text.content.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn content_by_reference_keeps_the_summary_as_the_text() {
        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:t</id>
<updated>2020-01-01T00:00:00Z</updated>
<entry><title>Elsewhere</title><id>urn:e</id><updated>2020-01-01T00:00:00Z</updated>
<summary>The words that were here.</summary>
<content type="text/html" src="https://old.example/e.html"/></entry></feed>"#;
        let document = parse(atom.as_bytes()).expect("an Atom feed");
        let item = &document.items[0];
        assert!(
            item.html.contains("The words that were here."),
            "{:?}",
            item.html
        );
    }
}

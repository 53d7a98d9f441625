//! WordPress exports (WXR: RSS 2.0 with the `wp:`, `content:`, `excerpt:` and `dc:`
//! namespaces). Posts only (`wp:post_type` `post`; pages, attachments, menu items and
//! revisions are left out); drafts, pending, private and scheduled posts stay drafts. A
//! Classic-editor body is paragraphs separated by blank lines, which WordPress turns into
//! `<p>` when it shows them: done here too.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::xml::Element;
use super::{Document, Format, Item};
use crate::post::Enclosure;

/// Whether a parsed XML document is a WordPress export.
pub fn is_wxr(root: &Element) -> bool {
    root.name == "rss"
        && root
            .attrs
            .iter()
            .any(|(k, v)| k.starts_with("xmlns:") && v.starts_with("http://wordpress.org/export/"))
}

/// The posts of a WordPress export.
pub fn parse(root: &Element) -> Document {
    let channel = root.first("channel");
    let language = channel.and_then(|c| c.text_of("language"));
    let items = channel
        .into_iter()
        .flat_map(|c| c.all("item"))
        .filter(|i| i.text_of("wp:post_type").as_deref() == Some("post"))
        .map(|i| item(i, language.as_deref()))
        .collect();
    Document {
        format: Format::Wxr,
        items,
        prev_archive: None,
    }
}

fn item(el: &Element, language: Option<&str>) -> Item {
    let status = el.text_of("wp:status").unwrap_or_default();
    let content = el.text_of("content:encoded").unwrap_or_default();
    let published = el
        .text_of("wp:post_date_gmt")
        .and_then(|d| gmt(&d))
        .or_else(|| {
            el.text_of("pubDate")
                .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
        });
    let modified = el.text_of("wp:post_modified_gmt").and_then(|d| gmt(&d));
    let (mut tags, mut categories) = (Vec::new(), Vec::new());
    for category in el.all("category") {
        let name = category.text().trim().to_string();
        match category.attr("domain") {
            Some("post_tag") => tags.push(name),
            Some("category") if name != "Uncategorized" => categories.push(name),
            _ => {}
        }
    }
    categories.extend(tags);
    Item {
        id: el.text_of("guid"),
        title: el.text_of("title"),
        published,
        updated: modified,
        authors: el.text_of("dc:creator").into_iter().collect(),
        tags: categories,
        summary: el.text_of("excerpt:encoded"),
        html: autop(&content),
        link: el.text_of("link"),
        enclosure: enclosure(el),
        lang: language.map(str::to_string),
        draft: status != "publish",
        slug: el.text_of("wp:post_name"),
    }
}

/// `2020-01-02 10:00:00` in UTC; WordPress writes `0000-00-00 00:00:00` for never.
fn gmt(text: &str) -> Option<DateTime<FixedOffset>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(naive.and_utc().fixed_offset())
}

/// A podcast episode WordPress keeps in the `enclosure` custom field: URL, length and
/// type on three lines.
fn enclosure(el: &Element) -> Option<Enclosure> {
    let meta = el
        .all("wp:postmeta")
        .find(|m| m.text_of("wp:meta_key").as_deref() == Some("enclosure"))?;
    let value = meta.text_of("wp:meta_value")?;
    let mut lines = value.lines().map(str::trim);
    let url = lines.next()?.to_string();
    let length = lines.next()?.parse().unwrap_or(0);
    let mime_type = lines.next()?.to_string();
    Some(Enclosure {
        url,
        mime_type,
        length,
    })
}

/// Block elements that a paragraph must not be wrapped around.
const BLOCKS: [&str; 22] = [
    "<p",
    "<div",
    "<h1",
    "<h2",
    "<h3",
    "<h4",
    "<h5",
    "<h6",
    "<ul",
    "<ol",
    "<li",
    "<table",
    "<blockquote",
    "<pre",
    "<figure",
    "<hr",
    "<!--",
    "<dl",
    "<form",
    "<section",
    "<iframe",
    "<address",
];

/// WordPress's `wpautop`, simply: text separated by blank lines becomes paragraphs, a
/// single line break `<br>`, except in chunks that already start with a block element
/// (Gutenberg content, hand-written HTML), which are kept as they are; a `<pre>` is one
/// chunk whatever blank lines it holds.
pub fn autop(content: &str) -> String {
    let content = content.replace("\r\n", "\n");
    let mut out = Vec::new();
    for chunk in chunks(&content) {
        let lower = chunk.to_ascii_lowercase();
        if BLOCKS.iter().any(|b| lower.starts_with(b)) {
            out.push(chunk);
        } else {
            out.push(format!("<p>{}</p>", chunk.replace('\n', "<br>\n")));
        }
    }
    out.join("\n\n")
}

/// The text split at blank lines, except inside `<pre>`.
fn chunks(content: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for piece in content.split("\n\n") {
        match out.last_mut() {
            Some(last) if open => {
                last.push_str("\n\n");
                last.push_str(piece);
            }
            _ => out.push(piece.to_string()),
        }
        let last = out
            .last()
            .map(|l| l.to_ascii_lowercase())
            .unwrap_or_default();
        open = last.matches("<pre").count() > last.matches("</pre").count();
    }
    out.into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_paragraphs_become_p_and_blocks_stay() {
        let html =
            autop("One\nline.\n\n<ul><li>x</li></ul>\n\nTwo <em>b</em>.\n\n<!--more-->\n\nThree\n\n<pre>a\n\n  b</pre>");
        assert_eq!(
            html,
            "<p>One<br>\nline.</p>\n\n<ul><li>x</li></ul>\n\n<p>Two <em>b</em>.</p>\n\n<!--more-->\n\n<p>Three</p>\n\n<pre>a\n\n  b</pre>"
        );
    }
}

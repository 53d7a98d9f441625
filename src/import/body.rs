//! An imported post's text: TOML front matter (written by the `toml` serializer, so any
//! title or tag round-trips) and the HTML body kept as HTML.
//!
//! HTML inside Markdown is raw only as long as CommonMark keeps it in one HTML block, and
//! such a block ends at the first blank line: after it, text would be read as Markdown
//! (`*` as emphasis, indented lines as code). So the body is wrapped in `<div>` (an HTML
//! block that only a blank line ends) and written without blank lines: an empty line
//! becomes the character reference `&#10;` joined to its neighbour, a line of spaces and
//! tabs their references. Browsers, feed readers and our sanitiser decode references in
//! text and attributes, so what is shown is exactly the original.

use serde::Serialize;

use super::{html_to_text, Item};
use crate::post::{slugify, truncate_words, Enclosure};

/// The front matter an imported post is written with.
#[derive(Debug, Serialize)]
struct Front<'a> {
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    slug: &'a str,
    summary: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    authors: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    draft: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enclosure: Option<EnclosureOut<'a>>,
}

#[derive(Debug, Serialize)]
struct EnclosureOut<'a> {
    url: &'a str,
    #[serde(rename = "type")]
    mime_type: &'a str,
    length: u64,
}

/// The post file for an item, whose slug is `slug`.
pub fn post_text(item: &Item, slug: &str) -> String {
    let text = html_to_text(&item.html);
    let date = item.published.or(item.updated);
    let front = Front {
        title: item
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| truncate_words(&text, 60)),
        date: date.map(|d| d.to_rfc3339()),
        updated: item
            .updated
            .filter(|u| Some(*u) > date)
            .map(|u| u.to_rfc3339()),
        slug,
        summary: item
            .summary
            .clone()
            .unwrap_or_else(|| summary_of(&item.html)),
        tags: &item.tags,
        authors: &item.authors,
        lang: language(item.lang.as_deref(), &text),
        draft: item.draft,
        aliases: item
            .link
            .as_deref()
            .and_then(|l| old_path(l, slug))
            .into_iter()
            .collect(),
        enclosure: item.enclosure.as_ref().map(|e: &Enclosure| EnclosureOut {
            url: &e.url,
            mime_type: &e.mime_type,
            length: e.length,
        }),
    };
    let toml = toml::to_string(&front).expect("plain strings and tables serialize");
    format!("+++\n{toml}+++\n{}", html_block(&item.html))
}

/// The slug of an item: WordPress's `post_name`, else the last segment of its old
/// address (`/2020/01/hello-world/`, `2022/02/hello.html`), else its title's.
pub fn slug_of(item: &Item) -> String {
    let from_link = item.link.as_deref().and_then(|link| {
        let url = address(link)?;
        let last = url.path_segments()?.rev().find(|s| !s.is_empty())?;
        let stem = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
        Some(stem.to_string()).filter(|s| s != "index")
    });
    [item.slug.clone(), from_link, item.title.clone()]
        .into_iter()
        .flatten()
        .map(|s| slugify(&s))
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "post".to_string())
}

/// The path of the old address, when it is not where the post will be served anyway.
fn old_path(link: &str, slug: &str) -> Option<String> {
    let url = address(link)?;
    let path = url.path();
    let ours = format!("/posts/{slug}/");
    (path != "/" && path != ours && url.query().is_none()).then(|| path.to_string())
}

/// An old address: a URL, or a path (Blogger's `blogger:filename`).
fn address(link: &str) -> Option<url::Url> {
    let base = url::Url::parse("http://site.invalid/").ok()?;
    url::Url::parse(link).or_else(|_| base.join(link)).ok()
}

/// The language the feed gave, when it is a plain tag; else the one the text is in.
fn language(given: Option<&str>, text: &str) -> Option<String> {
    let plain = |l: &&str| {
        !l.is_empty() && l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    given
        .map(str::trim)
        .filter(plain)
        .map(str::to_string)
        .or_else(|| crate::post::lang::detect(text).map(str::to_string))
}

/// A summary of an HTML body: the text before `<!--more-->`, else its start, cut near 300
/// characters on a word.
fn summary_of(html: &str) -> String {
    let lead = find_more(html).map_or(html, |at| &html[..at]);
    truncate_words(&html_to_text(lead), 300)
}

/// Where a `<!--more-->` divider (any spacing or case) starts.
fn find_more(html: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(start) = html[from..].find("<!--").map(|i| from + i) {
        let end = html[start + 4..].find("-->").map(|i| start + 4 + i)?;
        if html[start + 4..end].trim().eq_ignore_ascii_case("more") {
            return Some(start);
        }
        from = end + 3;
    }
    None
}

/// HTML as a Markdown body that CommonMark passes through as it is (see the module doc).
pub fn html_block(html: &str) -> String {
    let html = html.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(html.len() + 16);
    let mut line_empty = true;
    for (i, line) in html.split('\n').enumerate() {
        if i > 0 {
            if line_empty || line.is_empty() {
                out.push_str("&#10;");
                line_empty = false;
            } else {
                out.push('\n');
            }
        }
        if is_blank(line) && !line.is_empty() {
            for c in line.chars() {
                match c {
                    ' ' => out.push_str("&#32;"),
                    '\t' => out.push_str("&#9;"),
                    _ => {} // vertical tab, form feed: forbidden in XML, dropped anyway
                }
            }
            line_empty = line.chars().all(|c| !matches!(c, ' ' | '\t')) && line_empty;
        } else {
            out.push_str(line);
            line_empty &= line.is_empty();
        }
    }
    if out.is_empty() {
        // The line between the tags must not be blank either.
        return "<div>\n&#10;</div>\n".to_string();
    }
    format!("<div>\n{out}\n</div>\n")
}

/// A line CommonMark (or a lenient reader of it) could take for blank.
fn is_blank(line: &str) -> bool {
    line.chars()
        .all(|c| matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}'))
}

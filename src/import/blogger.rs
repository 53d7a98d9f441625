//! Blogger exports: an Atom feed of the whole blog (settings, template, posts, pages,
//! comments). Posts are the entries whose kind category is
//! `…/blogger/2008/kind#post` (the classic export) or whose `blogger:type` is `POST` (the
//! export since 2020). `app:draft yes` or a `blogger:status` other than `LIVE` keeps a post a
//! draft; deleted posts are left out. Ids are the entries' Atom ids, which Blogger's public
//! feeds carry too.

use chrono::DateTime;

use super::xml::Element;
use super::{html_to_text, Document, Format, Item};

const KIND: &str = "http://schemas.google.com/g/2005#kind";
const POST_KIND: &str = "http://schemas.google.com/blogger/2008/kind#post";

/// Whether a parsed XML document is a Blogger export.
pub fn is_blogger(root: &Element) -> bool {
    root.name == "feed"
        && (root
            .attrs
            .iter()
            .any(|(k, v)| k.starts_with("xmlns:") && v.contains("schemas.google.com/blogger"))
            || root.all("entry").any(|e| kind_of(e).is_some()))
}

/// The posts of a Blogger export.
pub fn parse(root: &Element) -> Document {
    let items = root
        .all("entry")
        .filter(|e| kind_of(e).as_deref() == Some("post"))
        .filter(|e| e.text_of("blogger:status").as_deref() != Some("DELETED"))
        .map(item)
        .collect();
    Document {
        format: Format::Blogger,
        items,
        prev_archive: None,
    }
}

/// `post`, `comment`, `page`, `settings`, `template`… in either export format.
fn kind_of(entry: &Element) -> Option<String> {
    if let Some(kind) = entry.text_of("blogger:type") {
        return Some(kind.to_lowercase());
    }
    entry
        .all("category")
        .find(|c| c.attr("scheme") == Some(KIND))
        .and_then(|c| c.attr("term"))
        .map(|term| match term == POST_KIND {
            true => "post".to_string(),
            false => term.rsplit('#').next().unwrap_or(term).to_string(),
        })
}

fn item(entry: &Element) -> Item {
    let draft_flag = entry
        .first("app:control")
        .and_then(|c| c.text_of("app:draft"))
        .is_some_and(|d| d == "yes");
    let status = entry.text_of("blogger:status");
    let draft = draft_flag || status.is_some_and(|s| s != "LIVE");
    let tags = entry
        .all("category")
        .filter(|c| c.attr("scheme") != Some(KIND))
        .filter_map(|c| c.attr("term").map(str::to_string))
        .collect();
    let link = entry
        .all("link")
        .find(|l| l.attr("rel") == Some("alternate"))
        .and_then(|l| l.attr("href").map(str::to_string))
        .or_else(|| entry.text_of("blogger:filename"));
    let date = |name: &str| {
        entry
            .text_of(name)
            .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
    };
    let title = entry.first("title").map(|t| match t.attr("type") {
        Some("html") => html_to_text(&t.text()),
        _ => t.text().trim().to_string(),
    });
    Item {
        id: entry.text_of("id"),
        title: title.filter(|t| !t.is_empty()),
        published: date("published"),
        updated: date("updated"),
        authors: entry
            .all("author")
            .filter_map(|a| a.text_of("name"))
            .filter(|n| n != "Unknown")
            .collect(),
        tags,
        summary: None,
        html: entry
            .first("content")
            .map(Element::text)
            .unwrap_or_default(),
        link,
        enclosure: None,
        lang: None,
        draft,
        slug: None,
    }
}

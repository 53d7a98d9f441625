//! JSON Feed 1.1. Archive pages chain through `next_url` (JSON Feed's pagination runs from
//! the subscription feed towards older pages).

use serde::Serialize;

use super::{DocError, FeedDoc, Media};
use crate::site::{Entry, Site};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    /// The large picture (JSON Feed's `icon`, 512×512 suggested): the site's logo.
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    /// The small one (`favicon`): the site's icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<&'a str>,
    language: &'a str,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hubs: Option<Vec<Hub>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: String,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    language: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment>,
}

#[derive(Serialize)]
struct Attachment {
    url: String,
    mime_type: String,
    size_in_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
}

/// Renders one feed document as JSON Feed 1.1.
pub fn render_json(doc: &FeedDoc) -> Result<Vec<u8>, DocError> {
    let config = &doc.site.config;
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &doc.title,
        home_page_url: &doc.home,
        feed_url: doc.self_url(Media::Json),
        description: &config.description,
        next_url: doc
            .prev_archive
            .as_ref()
            .map(|dir| doc.url_in(dir, Media::Json)),
        icon: config.logo.as_deref(),
        favicon: config.icon.as_deref(),
        language: &config.language,
        authors: vec![Author {
            name: &config.author,
        }],
        hubs: config.websub_hub.as_ref().map(|hub| {
            vec![Hub {
                kind: "WebSub",
                url: hub.to_string(),
            }]
        }),
        items: doc
            .entries
            .iter()
            .map(|e| item(doc.site, e))
            .collect::<Result<_, _>>()?,
    };
    let mut out = serde_json::to_vec_pretty(&feed).map_err(DocError::Json)?;
    out.push(b'\n');
    Ok(out)
}

fn item<'a>(site: &Site, entry: &'a Entry) -> Result<Item<'a>, DocError> {
    let post = &entry.post;
    let (body, content_html) = super::shown(post)?;
    Ok(Item {
        id: &entry.id,
        url: entry.link(),
        title: &post.title,
        content_html,
        summary: body.summary.clone(),
        image: post.image.as_deref(),
        date_published: post.date.to_rfc3339(),
        date_modified: post.updated.to_rfc3339(),
        authors: post.authors.iter().map(|a| Author { name: a }).collect(),
        tags: &post.tags,
        language: body.lang.clone(),
        attachments: super::podcast::media_of(site, post)
            .into_iter()
            .map(|e| Attachment {
                url: e.url,
                mime_type: e.mime_type,
                size_in_bytes: e.length,
                duration_in_seconds: e.duration.map(|d| (d.as_secs_f64().round() as u64).max(1)),
            })
            .collect(),
    })
}

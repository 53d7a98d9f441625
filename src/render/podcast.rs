//! What feeds say about podcasts: which collection is a show ([`show_of`]), each episode's
//! enclosure as the file itself says it (exact length, type, duration: [`media_of`]), and
//! the RSS elements of the `itunes:` and Podcasting 2.0 `podcast:` namespaces.
//!
//! Rules (Apple's podcast RSS requirements, the W3C feed validator's `itunes` rules, the
//! Podcasting 2.0 namespace):
//!
//! - Only a show's feeds carry `itunes:`/`podcast:` elements, and they carry nothing from
//!   other namespaces (no `dc:creator`: `itunes:author` says it).
//! - `itunes:explicit` is `true` or `false`; `itunes:duration` whole seconds; `itunes:image`
//!   an `href`; `itunes:category` nested for a subcategory; `itunes:title` on items only;
//!   `itunes:episode` and `itunes:season` positive (front matter refuses 0).
//! - `podcast:guid` is the one the ledger recorded (it never follows `base_url`).
//! - An enclosure beside the post has the file's own length; its written length is used
//!   only when the file is not found (and `dropfeed check` says so).

use std::collections::BTreeMap;
use std::time::Duration;

use rss::extension::{Extension, ExtensionMap};

use crate::config::{Show, ShowImage};
use crate::load::Linked;
use crate::media::Facts;
use crate::post::html::plain_text_line;
use crate::post::links::file_url;
use crate::post::{slugify, Attachment, Post};
use crate::site::Site;

/// The iTunes namespace.
pub const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
/// The Podcasting 2.0 namespace.
pub const PODCAST_NS: &str = "https://podcastindex.org/namespace/1.0";

/// The show whose feeds are the collection at `prefix` (`""`: the site; `tags/{slug}/`).
pub fn show_of<'a>(site: &'a Site, prefix: &str) -> Option<&'a Show> {
    let slug = match prefix {
        "" => None,
        other => Some(other.strip_prefix("tags/")?.strip_suffix('/')?),
    };
    site.config
        .shows
        .iter()
        .find(|show| match (&show.tag, slug) {
            (None, None) => true,
            (Some(tag), Some(slug)) => slugify(tag) == slug,
            _ => false,
        })
}

/// An episode's media as feeds describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeMedia {
    /// Absolute URL.
    pub url: String,
    /// Media type.
    pub mime_type: String,
    /// Length in bytes: the file's when it is beside the post.
    pub length: u64,
    /// Playing time, when the file could be read.
    pub duration: Option<Duration>,
}

/// A post's enclosure with what its file says, when it is beside the post and found.
pub fn media_of(site: &Site, post: &Post) -> Option<EpisodeMedia> {
    let enclosure = post.enclosure.as_ref()?;
    let found = post
        .episode
        .enclosure_file
        .as_ref()
        .and_then(|path| match site.files.get(path) {
            Some(Linked::Found(file)) => Some(file),
            _ => None,
        });
    let duration = found.and_then(|file| match &file.facts {
        Some(Facts::Duration(Ok(duration))) => Some(*duration),
        _ => None,
    });
    Some(EpisodeMedia {
        url: enclosure.url.clone(),
        mime_type: enclosure.mime_type.clone(),
        length: found.map_or(enclosure.length, |file| file.stamp.len),
        duration,
    })
}

/// The episode's transcript: the one named, else the first file beside the enclosure with
/// its name and `.vtt`/`.srt` that exists. With its media type.
pub fn transcript_of<'a>(site: &Site, post: &'a Post) -> Option<(&'a Attachment, &'static str)> {
    let episode = &post.episode;
    let found = |a: &&Attachment| {
        a.file
            .as_ref()
            .is_some_and(|path| matches!(site.files.get(path), Some(Linked::Found(_))))
    };
    let transcript = episode
        .transcript
        .as_ref()
        .or_else(|| episode.companions.iter().find(found))?;
    let path = transcript.file.as_deref().unwrap_or(&transcript.url);
    let mime = if crate::media::extension_of(path).as_deref() == Some("srt") {
        "application/x-subrip"
    } else {
        "text/vtt"
    };
    Some((transcript, mime))
}

/// The absolute URL of a show's artwork.
pub fn artwork_url(site: &Site, show: &Show) -> Option<String> {
    match show.image.as_ref()? {
        ShowImage::Url(url) => Some(url.clone()),
        ShowImage::File(path) => Some(file_url(&site.config.base_url, path, "")),
    }
}

/// An element with text.
fn text(name: &str, value: impl Into<String>) -> Extension {
    Extension {
        name: name.into(),
        value: Some(plain_text_line(&value.into())),
        ..Extension::default()
    }
}

/// An empty element with attributes.
fn empty(name: &str, attrs: &[(&str, &str)]) -> Extension {
    Extension {
        name: name.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), plain_text_line(v)))
            .collect(),
        ..Extension::default()
    }
}

/// Elements grouped the way the `rss` crate writes them: by prefix, then local name.
fn group(elements: Vec<Extension>) -> ExtensionMap {
    let mut map: ExtensionMap = BTreeMap::new();
    for element in elements {
        let (prefix, local) = element.name.split_once(':').unwrap_or(("", &element.name));
        let (prefix, local) = (prefix.to_string(), local.to_string());
        map.entry(prefix)
            .or_default()
            .entry(local)
            .or_default()
            .push(element);
    }
    map
}

fn yes_no(flag: bool) -> &'static str {
    if flag {
        "true"
    } else {
        "false"
    }
}

/// A show's channel elements.
pub fn channel_elements(site: &Site, show: &Show) -> ExtensionMap {
    let mut out = Vec::new();
    if let Some(url) = artwork_url(site, show) {
        out.push(empty("itunes:image", &[("href", &url)]));
    }
    for (category, sub) in &show.categories {
        let mut element = empty("itunes:category", &[("text", category)]);
        if let Some(sub) = sub {
            let child = empty("itunes:category", &[("text", sub)]);
            element.children.insert("category".into(), vec![child]);
        }
        out.push(element);
    }
    if let Some(explicit) = show.explicit {
        out.push(text("itunes:explicit", yes_no(explicit)));
    }
    let author = show
        .author
        .clone()
        .unwrap_or_else(|| site.config.author.clone());
    out.push(text("itunes:author", author));
    if show.owner_name.is_some() || show.owner_email.is_some() {
        let mut owner = empty("itunes:owner", &[]);
        let fields = [("name", &show.owner_name), ("email", &show.owner_email)];
        for (local, value) in fields {
            if let Some(value) = value {
                owner
                    .children
                    .insert(local.into(), vec![text(&format!("itunes:{local}"), value)]);
            }
        }
        out.push(owner);
    }
    if let Some(kind) = &show.show_type {
        out.push(text("itunes:type", kind));
    }
    // No channel `itunes:title`: the W3C validator's itunes rules define it for items only.
    out.extend(podcast_channel(site, show));
    group(out)
}

/// The `podcast:` elements of a show's channel.
fn podcast_channel(site: &Site, show: &Show) -> Vec<Extension> {
    let mut out = Vec::new();
    if let Some(guid) = site.show_guids.get(&show.key()) {
        out.push(text("podcast:guid", guid));
    }
    if let Some(locked) = show.locked {
        let word = if locked { "yes" } else { "no" };
        let mut element = text("podcast:locked", word);
        if let Some(email) = &show.owner_email {
            element.attrs.insert("owner".into(), plain_text_line(email));
        }
        out.push(element);
    }
    for (url, words) in &show.funding {
        let mut element = text("podcast:funding", words);
        element.attrs.insert("url".into(), plain_text_line(url));
        out.push(element);
    }
    out
}

/// An episode's item elements.
pub fn item_elements(site: &Site, post: &Post) -> ExtensionMap {
    let episode = &post.episode;
    let mut out = vec![text("itunes:title", &post.title)];
    if !post.authors.is_empty() {
        out.push(text("itunes:author", post.authors.join(", ")));
    }
    if let Some(duration) = media_of(site, post).and_then(|m| m.duration) {
        let seconds = (duration.as_secs_f64().round() as u64).max(1);
        out.push(text("itunes:duration", seconds.to_string()));
    }
    if let Some(image) = &post.image {
        out.push(empty("itunes:image", &[("href", image)]));
    }
    if let Some(explicit) = episode.explicit {
        out.push(text("itunes:explicit", yes_no(explicit)));
    }
    if let Some(kind) = episode.kind {
        out.push(text("itunes:episodeType", kind.as_str()));
    }
    for (name, number) in [("episode", episode.number), ("season", episode.season)] {
        if let Some(number) = number {
            out.push(text(&format!("itunes:{name}"), number.to_string()));
            out.push(text(&format!("podcast:{name}"), number.to_string()));
        }
    }
    if let Some((transcript, mime)) = transcript_of(site, post) {
        let element = empty(
            "podcast:transcript",
            &[("url", &transcript.url), ("type", mime)],
        );
        out.push(element);
    }
    if let Some(chapters) = &episode.chapters {
        let attrs = [
            ("url", chapters.url.as_str()),
            ("type", "application/json+chapters"),
        ];
        out.push(empty("podcast:chapters", &attrs));
    }
    group(out)
}

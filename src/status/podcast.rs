//! What a podcast directory would refuse, for `/status` and `dropfeed check`: about each
//! show (its `[[show]]` line in the config) and about each episode (its enclosure's line).
//!
//! - A show without artwork, category, explicit flag or owner e-mail: Apple refuses it
//!   (the e-mail is how a directory verifies who owns it), so each is a warning.
//! - Artwork that is not a square JPEG or PNG of 1400 to 3000 pixels a side, read from
//!   the picture's header; a file that is missing or unreadable.
//! - An enclosure of an unknown type, or one Apple Podcasts does not play (a show's
//!   episode only), a media file whose duration cannot be read, an enclosure given by URL
//!   alone (its length is unknown).

use super::{Diagnostic, Level};
use crate::config::{Show, ShowImage};
use crate::load::Linked;
use crate::media::{self, Facts, ImageFormat};
use crate::post::episode::UNKNOWN_TYPE;
use crate::post::{slugify, Post};
use crate::site::Site;

/// Where shows are declared, as findings name it.
const CONFIG_FILE: &str = "dropfeed.toml";

/// Smallest and largest side of show artwork (Apple's rule).
const ARTWORK_SIDES: std::ops::RangeInclusive<u64> = 1400..=3000;

/// Findings about every show.
pub(super) fn show_diagnostics(site: &Site) -> Vec<Diagnostic> {
    site.config
        .shows
        .iter()
        .flat_map(|show| {
            let warn =
                |message: String| Diagnostic::new(CONFIG_FILE, show.line, Level::Warning, message);
            show_problems(site, show).into_iter().map(warn)
        })
        .collect()
}

/// What a directory would refuse about one show, in words.
fn show_problems(site: &Site, show: &Show) -> Vec<String> {
    let name = match &show.tag {
        Some(tag) => format!("the show of tag `{tag}`"),
        None => "the site's show".to_string(),
    };
    let mut out = Vec::new();
    let missing = [
        ("image", show.image.is_none()),
        ("category", show.categories.is_empty()),
        ("explicit", show.explicit.is_none()),
        ("owner email", show.owner_email.is_none()),
    ];
    for (key, absent) in missing {
        if absent {
            out.push(format!(
                "{name} has no `{key}`: Apple Podcasts refuses a show without it"
            ));
        }
    }
    if let Some(ShowImage::File(path)) = &show.image {
        out.extend(
            artwork_problem(site, path).map(|why| format!("{name}: artwork `{path}` {why}")),
        );
    }
    if let Some(tag) = &show.tag {
        let slug = slugify(tag);
        let episodes = site.tags.get(&slug).map_or(0, |t| {
            t.entries
                .iter()
                .filter(|&&i| site.entries[i].post.enclosure.is_some())
                .count()
        });
        if episodes == 0 {
            out.push(format!(
                "{name} has no published episode (a post tagged `{tag}` with an `enclosure`)"
            ));
        }
    }
    out
}

/// Why artwork at a posts-folder path would be refused, if it would.
fn artwork_problem(site: &Site, path: &str) -> Option<String> {
    let file = match site.files.get(path) {
        None => return Some("has not been looked at yet".into()),
        Some(Linked::Unusable(reason)) => return Some(reason.clone()),
        Some(Linked::Found(file)) => file,
    };
    let info = match &file.facts {
        Some(Facts::Image(Ok(info))) => *info,
        Some(Facts::Image(Err(why))) => return Some(why.clone()),
        _ => return Some("is not a JPEG or PNG picture".into()),
    };
    if info.format == ImageFormat::Other {
        return Some("is not a JPEG or PNG picture, whatever its name says".into());
    }
    let (w, h) = (info.width, info.height);
    if w != h || !ARTWORK_SIDES.contains(&w) {
        return Some(format!(
            "is {w}×{h} pixels: apps want a square of 1400 to 3000 pixels a side"
        ));
    }
    None
}

/// Findings about a post's enclosure: its type, its duration, whether apps play it.
pub(super) fn episode_diagnostics(file: &str, site: &Site, post: &Post) -> Vec<Diagnostic> {
    let Some(enclosure) = &post.enclosure else {
        return Vec::new();
    };
    let episode = &post.episode;
    let line = Some(episode.enclosure_line);
    let warn = |message: String| Diagnostic::new(file, line, Level::Warning, message);
    let mut out = Vec::new();
    let shown = &enclosure.url;
    if enclosure.mime_type == UNKNOWN_TYPE {
        out.push(warn(format!("the enclosure `{shown}` has an extension dropfeed does not know: its type is sent as {UNKNOWN_TYPE}; write the enclosure as {{url, type, length}}")));
    }
    let in_show = site.config.shows.iter().any(|show| match &show.tag {
        None => true,
        Some(tag) => post.tag_slugs.contains(&slugify(tag)),
    });
    if in_show && !media::playable_in_podcast_apps(shown) {
        out.push(warn(format!(
            "the enclosure `{shown}` is not a type Apple Podcasts plays (mp3, m4a, mp4, m4v, mov)"
        )));
    }
    match &episode.enclosure_file {
        Some(path) => out.extend(duration_problem(site, path, &enclosure.mime_type).map(warn)),
        None if !episode.written_by_hand => out.push(warn(format!(
            "the enclosure `{shown}` is not a file beside the post, so its length is unknown: write it as {{url, type, length}}"
        ))),
        None => {}
    }
    out
}

/// Why an audio or video file's duration is not in the feeds, if it is not.
fn duration_problem(site: &Site, path: &str, mime_type: &str) -> Option<String> {
    let Some(Linked::Found(file)) = site.files.get(path) else {
        return None; // missing or unreadable: the link warnings say so
    };
    match &file.facts {
        Some(Facts::Duration(Ok(_))) => None,
        Some(Facts::Duration(Err(why))) => {
            Some(format!("the duration of `{path}` cannot be read: it {why}"))
        }
        _ if media::types::is_audio_or_video(mime_type) => Some(format!(
            "dropfeed cannot read the duration of `{path}` ({mime_type}): apps show none"
        )),
        _ => None,
    }
}

//! Front matter written for other site generators (Hugo, Jekyll, Zola), read as dropfeed's
//! own fields, so a site moved in publishes as it was:
//!
//! | dropfeed | also read from |
//! | --- | --- |
//! | `date` | Hugo `publishDate` (the later of the two when both are given), Hugo `published` as a date |
//! | `updated` | Hugo `lastmod`, Jekyll `last_modified_at` |
//! | `summary` | Jekyll `excerpt`, Hugo and Zola `description` |
//! | `tags` | `tag`, `categories`, `category`, Zola `[taxonomies]` `tags` and `categories` (merged) |
//! | `authors` | Hugo and Jekyll `author` |
//! | `draft` | Jekyll `published: false` |
//! | `image` | Hugo `images` (the first) |
//! | `aliases` | Jekyll `redirect_from` and `permalink`, Hugo `url`, Zola `path` (old addresses) |
//! | (not published after) | Hugo `expiryDate` |
//!
//! Keys that only steer another tool's layout (`layout`, `weight`, `menu`, `[extra]`…) are
//! ignored with a note. Any other key is ignored with a warning, except one within two
//! edits of a dropfeed key (`titel`): that is a typo, and an error naming its line.

use std::collections::BTreeMap;

use serde::Deserialize;

use chrono_tz::Tz;

use super::episode::WrittenEnclosure;
use super::frontmatter::{key_line, resolve, DateValue, FrontMatter, LineError, OneOrMany, Split};

/// dropfeed's own keys.
pub const OWN_KEYS: [&str; 19] = [
    "title",
    "date",
    "updated",
    "id",
    "slug",
    "summary",
    "tags",
    "authors",
    "lang",
    "draft",
    "image",
    "enclosure",
    "aliases",
    "episode",
    "season",
    "episode_type",
    "explicit",
    "transcript",
    "chapters",
];

/// Other generators' keys read as one of ours (see the module's table), in every spelling
/// [`Written`] accepts.
pub const MAPPED_KEYS: [&str; 24] = [
    "publishDate",
    "publishdate",
    "pubdate",
    "published",
    "lastmod",
    "lastMod",
    "modified",
    "last_modified_at",
    "expiryDate",
    "expirydate",
    "unpublishdate",
    "description",
    "excerpt",
    "tag",
    "categories",
    "category",
    "taxonomies",
    "author",
    "images",
    "redirect_from",
    "permalink",
    "url",
    "path",
    "modified_at",
];

/// Other generators' keys that only steer their layout, menus, search or build: ignored,
/// with a note.
pub const LAYOUT_KEYS: [&str; 30] = [
    "layout",
    "type",
    "weight",
    "menu",
    "menus",
    "template",
    "extra",
    "build",
    "cascade",
    "headless",
    "isCJKLanguage",
    "keywords",
    "linkTitle",
    "markup",
    "outputs",
    "params",
    "resources",
    "sitemap",
    "translationKey",
    "in_search_index",
    "render",
    "excerpt_separator",
    "redirect_to",
    "render_with_liquid",
    "toc",
    "comments",
    "series",
    "sort_by",
    "insert_anchor_links",
    "hidden",
];

/// Front matter exactly as written: dropfeed's keys and the others it reads. Keys it does
/// not name are passed over here; [`classify_keys`] has already judged them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Written {
    pub title: Option<String>,
    pub date: Option<DateValue>,
    pub updated: Option<DateValue>,
    pub id: Option<String>,
    pub slug: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub tags: OneOrMany,
    #[serde(default)]
    pub authors: OneOrMany,
    pub lang: Option<String>,
    #[serde(default)]
    pub draft: bool,
    pub image: Option<String>,
    pub enclosure: Option<WrittenEnclosure>,
    #[serde(default)]
    pub aliases: OneOrMany,
    pub episode: Option<u32>,
    pub season: Option<u32>,
    pub episode_type: Option<String>,
    pub explicit: Option<bool>,
    pub transcript: Option<String>,
    pub chapters: Option<String>,
    // Hugo
    #[serde(rename = "publishDate", alias = "publishdate", alias = "pubdate")]
    pub publish_date: Option<DateValue>,
    #[serde(alias = "lastMod", alias = "modified")]
    pub lastmod: Option<DateValue>,
    #[serde(rename = "expiryDate", alias = "expirydate", alias = "unpublishdate")]
    pub expiry_date: Option<DateValue>,
    pub description: Option<String>,
    #[serde(default)]
    pub author: OneOrMany,
    #[serde(default)]
    pub images: OneOrMany,
    pub url: Option<String>,
    // Jekyll
    pub published: Option<Published>,
    #[serde(alias = "modified_at")]
    pub last_modified_at: Option<DateValue>,
    pub excerpt: Option<String>,
    #[serde(default)]
    pub tag: OneOrMany,
    #[serde(default)]
    pub categories: Terms,
    #[serde(default)]
    pub category: OneOrMany,
    #[serde(default)]
    pub redirect_from: OneOrMany,
    pub permalink: Option<String>,
    // Zola
    #[serde(default)]
    pub taxonomies: BTreeMap<String, OneOrMany>,
    pub path: Option<String>,
}

/// Jekyll's `published: false`, or Hugo's `published` date.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Published {
    /// Jekyll: whether the post is published.
    Flag(bool),
    /// Hugo: the publication date.
    Date(DateValue),
}

/// Categories: a list, or (as Jekyll reads it) a string of space-separated words.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(from = "TermsRaw")]
pub(super) struct Terms(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum TermsRaw {
    Words(String),
    List(Vec<String>),
}

impl From<TermsRaw> for Terms {
    fn from(raw: TermsRaw) -> Self {
        match raw {
            TermsRaw::Words(words) => Terms(words.split_whitespace().map(String::from).collect()),
            TermsRaw::List(list) => Terms(list),
        }
    }
}

/// What the keys of a front matter block say before its values are read: notes about keys
/// ignored on purpose, warnings about keys dropfeed does not know.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeyReport {
    /// Other generators' layout keys, ignored.
    pub notes: Vec<String>,
    /// Keys no generator dropfeed knows uses, ignored.
    pub warnings: Vec<String>,
}

/// dropfeed's fields from front matter as written, other generators' keys mapped onto them.
pub(super) fn front_matter(w: Written) -> FrontMatter {
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut tags = w.tags.0;
    tags.extend(w.tag.0);
    tags.extend(w.categories.0);
    tags.extend(w.category.0);
    let mut taxonomies = w.taxonomies;
    for name in ["tags", "categories"] {
        tags.extend(taxonomies.remove(name).unwrap_or_default().0);
    }
    for name in taxonomies.keys() {
        notes.push(format!(
            "taxonomy `{name}` ignored: only tags and categories become tags"
        ));
    }
    let mut authors = w.authors.0;
    authors.extend(w.author.0);
    let old_addresses = w.aliases.0.into_iter().chain(w.redirect_from.0);
    let old_addresses = old_addresses.chain(w.permalink).chain(w.url).chain(w.path);
    let mut aliases = Vec::new();
    for address in old_addresses {
        match alias_route(&address) {
            Ok(route) if !aliases.contains(&route) => aliases.push(route),
            Ok(_) => {}
            Err(why) => warnings.push(format!("old address not redirected: {why}")),
        }
    }
    let unpublished = matches!(w.published, Some(Published::Flag(false)));
    FrontMatter {
        title: w.title,
        id: w.id,
        slug: w.slug,
        summary: w.summary.or(w.excerpt).or(w.description),
        tags: OneOrMany(tags),
        authors: OneOrMany(authors),
        lang: w.lang,
        draft: w.draft || unpublished,
        image: w.image.or(w.images.0.into_iter().next()),
        enclosure: w.enclosure,
        episode: w.episode,
        season: w.season,
        episode_type: w.episode_type,
        explicit: w.explicit,
        transcript: w.transcript,
        chapters: w.chapters,
        aliases,
        notes,
        warnings,
    }
}

/// Judges each key (with the 1-based line `line_of` finds for it): a typo of one of ours is
/// an error at its line; other generators' layout keys earn a note, unknown keys a warning.
pub fn classify_keys<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    line_of: impl Fn(&str) -> usize,
) -> Result<KeyReport, LineError> {
    let mut report = KeyReport::default();
    for key in keys {
        if OWN_KEYS.contains(&key) || MAPPED_KEYS.contains(&key) {
            continue;
        }
        if LAYOUT_KEYS.contains(&key) {
            report.notes.push(format!(
                "`{key}` ignored: it steers another site generator's layout, which dropfeed does not have"
            ));
        } else if let Some(own) = typo_of(key) {
            return Err((
                line_of(key),
                format!("unknown field `{key}`: did you mean `{own}`?"),
            ));
        } else {
            report.warnings.push(format!(
                "`{key}` ignored: not a field dropfeed or the generators it reads know"
            ));
        }
    }
    Ok(report)
}

/// The key of ours that `key` is a typo of: within two edits (one for keys of three letters
/// or fewer), a swap of neighbours counting as one, letter case ignored.
fn typo_of(key: &str) -> Option<&'static str> {
    let lower = key.to_lowercase();
    OWN_KEYS.into_iter().find(|own| {
        let allowed = if own.len() <= 3 { 1 } else { 2 };
        edit_distance(&lower, own) <= allowed
    })
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// neighbouring characters each count one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 {
        return 3; // more than any caller allows, without the table
    }
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// An old address as a site route (see [`crate::config::route_of`]); a Jekyll permalink
/// with placeholders (`/:year/:title/`) is not one.
pub fn alias_route(text: &str) -> Result<String, String> {
    if text.split('/').any(|segment| segment.starts_with(':')) {
        return Err(format!(
            "`{}` has placeholders, not an address",
            text.trim()
        ));
    }
    crate::config::route_of(text)
}

/// The front matter as dropfeed's fields, other generators' keys mapped onto them (see
/// [`generators`]), dates resolved.
pub(super) fn read(block: &str, w: Written, tz: Tz) -> Result<Split<'static>, LineError> {
    let at = |key: &str, value: Option<&DateValue>| resolve(block, key, value, tz);
    let date = at("date", w.date.as_ref())?;
    let publish = match (&w.publish_date, &w.published) {
        (Some(d), _) => at(
            first_key(block, &["publishDate", "publishdate", "pubdate"]),
            Some(d),
        )?,
        (None, Some(Published::Date(d))) => at("published", Some(d))?,
        _ => None,
    };
    // Hugo publishes a page at its publishDate: never earlier than that.
    let date = match (date, publish) {
        (Some(d), Some(p)) => Some(d.max(p)),
        (d, p) => d.or(p),
    };
    let updated = match (&w.updated, &w.lastmod, &w.last_modified_at) {
        (Some(u), _, _) => at("updated", Some(u))?,
        (None, Some(u), _) => at(
            first_key(block, &["lastmod", "lastMod", "modified"]),
            Some(u),
        )?,
        (None, None, u) => at(
            first_key(block, &["last_modified_at", "modified_at"]),
            u.as_ref(),
        )?,
    };
    let expiry_keys = ["expiryDate", "expirydate", "unpublishdate"];
    let expires = at(first_key(block, &expiry_keys), w.expiry_date.as_ref())?;
    Ok(Split {
        meta: front_matter(w),
        date,
        updated,
        expires,
        body: "",
        body_line: 0,
        url_lines: (None, None),
        episode_lines: (None, None),
    })
}

/// The first of `keys` the block assigns (for naming the line of an error), else the first.
fn first_key<'k>(block: &str, keys: &[&'k str]) -> &'k str {
    keys.iter()
        .copied()
        .find(|key| key_line(block, key).is_some())
        .unwrap_or(keys[0])
}

#[cfg(test)]
mod tests;

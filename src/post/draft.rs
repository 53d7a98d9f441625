//! What a format parser hands over ([`PostDraft`]) and the steps every format shares to
//! turn it into a [`Post`]: date, title, slug, URLs, body, tags.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate};
use url::Url;

use super::body::BodyCell;
use super::episode::{self, Episode, EpisodeType};
use super::links::{self, Link};
use super::slug::{slugify, title_from_name};
use super::tags::tags_of;
use super::{date, frontmatter, html, DateSource, Fingerprint, ParseContext, Post};

/// What a format parser extracts before the shared finishing steps.
#[derive(Debug, Default)]
pub(crate) struct PostDraft {
    pub meta: frontmatter::FrontMatter,
    pub date: Option<DateTime<FixedOffset>>,
    pub updated: Option<DateTime<FixedOffset>>,
    /// Not published from then on.
    pub expires: Option<DateTime<FixedOffset>>,
    pub title: Option<String>,
    /// HTML before sanitising.
    pub body_html: String,
    /// Plain text of the body, for summaries and language detection.
    pub body_text: String,
    /// Plain text before `<!-- more -->`, when the post has one.
    pub lead_text: Option<String>,
    /// Plain text of the body's paragraphs, in order.
    pub paragraphs: Vec<String>,
    /// Markdown whose rendering waits until the post is shown (the body fields above are
    /// then empty).
    pub deferred: Option<String>,
    /// Every link written (body, `image`, enclosure `url`), with its line, relative or not.
    pub links: Vec<(usize, String)>,
}

/// What a post's file name says: a `YYYY-MM-DD-` date prefix, and the words that name it.
struct FileName<'a> {
    day: Option<NaiveDate>,
    words: &'a str,
}

impl FileName<'_> {
    /// What a post's path says. A page bundle (`trip/index.md`, the post's files beside it
    /// in its own folder) is named by its folder: slug `trip`, date from `2026-05-01-trip/`.
    fn of(source: &str) -> FileName<'_> {
        let path = Path::new(source);
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("post");
        let folder = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str());
        let stem = match folder {
            Some(folder) if stem == "index" => folder,
            _ => stem,
        };
        let prefix = date::date_prefix(stem);
        FileName {
            day: prefix.map(|(day, _)| day),
            words: prefix
                .map(|(_, rest)| rest)
                .filter(|r| !r.is_empty())
                .unwrap_or(stem),
        }
    }
}

impl PostDraft {
    /// Shared steps: slug, dates, title fallback, summary, language, sanitising. The
    /// fingerprint is left empty for the caller, who has the whole text.
    pub(super) fn finish(mut self, source: &str, ctx: &ParseContext) -> Post {
        let mut warnings = Vec::new();
        let name = FileName::of(source);
        let (date, date_source) = self.date_or(name.day, ctx, &mut warnings);
        let updated = self.updated.filter(|u| *u > date).unwrap_or(date);
        let title = self.title_or(name.words);
        let slug = self.slug_or(name.words);
        let post_url = ctx
            .post_base
            .join(&format!("{slug}/"))
            .unwrap_or_else(|_| ctx.post_base.clone());
        let body = self.body_cell(source, &post_url, ctx);
        let (tags, tag_slugs) = tags_of(&self.meta.tags.0, &mut warnings);
        let links = relative_links(source, &self.links);
        let absolute = |url: &str| links::absolute(source, &post_url, &ctx.site_base, url);
        let mut meta = self.meta;
        let episode = episode_of(&mut meta, source, &self.links, &absolute, ctx);
        warnings.extend(meta.warnings);
        Post {
            source: source.to_string(),
            id: meta
                .id
                .map(|i| html::plain_text_line(&i))
                .filter(|i| !i.is_empty()),
            page_path: format!("posts/{slug}/"),
            link: post_url.to_string(),
            slug,
            title,
            date,
            date_source,
            updated,
            tag_slugs,
            tags,
            authors: meta
                .authors
                .0
                .iter()
                .map(|a| html::plain_text_line(a))
                .collect(),
            draft: meta.draft,
            image: meta.image.as_deref().map(absolute),
            enclosure: meta.enclosure.map(|e| episode::enclosure(e, &absolute)),
            episode,
            aliases: meta.aliases,
            expires: self.expires,
            fingerprint: Fingerprint::default(),
            warnings,
            links,
            notes: meta.notes,
            body,
        }
    }

    /// The date the post gives, else the day its file name starts with (midnight in the
    /// site's zone), else the fallback, with a warning.
    fn date_or(
        &self,
        day: Option<NaiveDate>,
        ctx: &ParseContext,
        warnings: &mut Vec<String>,
    ) -> (DateTime<FixedOffset>, DateSource) {
        match (self.date, day) {
            (Some(d), _) => (d, DateSource::Post),
            (None, Some(day)) => {
                let local = date::localize(day.and_time(chrono::NaiveTime::MIN), ctx.timezone)
                    .filter(|d| date::expressible(d).is_ok());
                (local.unwrap_or(ctx.fallback_date), DateSource::FileName)
            }
            (None, None) => {
                warnings.push("no date given: using the time the file was first seen".to_string());
                (ctx.fallback_date, DateSource::Fallback)
            }
        }
    }

    /// The front matter title, else the one the text gives, else one made from the file name.
    fn title_or(&mut self, file_words: &str) -> String {
        self.meta
            .title
            .clone()
            .or(self.title.take())
            .map(|t| html::plain_text_line(&t))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| title_from_name(file_words))
    }

    /// The front matter slug, else one made from the file name, else `post`.
    fn slug_or(&self, file_words: &str) -> String {
        let written = self
            .meta
            .slug
            .as_deref()
            .map(slugify)
            .filter(|s| !s.is_empty());
        written.unwrap_or_else(|| {
            Some(slugify(file_words))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "post".into())
        })
    }

    /// The body: rendered now, or kept as Markdown when rendering was deferred.
    fn body_cell(&mut self, source: &str, post_url: &Url, ctx: &ParseContext) -> BodyCell {
        match self.deferred.take() {
            Some(markdown) => BodyCell::deferred(
                &markdown,
                self.meta.summary.clone(),
                self.meta.lang.clone(),
                ctx.language.clone(),
                ctx.site_base.clone(),
            ),
            None => {
                let urls = html::UrlBase {
                    source,
                    post_url,
                    site_base: &ctx.site_base,
                };
                BodyCell::rendered(self.body(
                    self.meta.summary.as_deref(),
                    self.meta.lang.as_deref(),
                    &urls,
                    &ctx.language,
                ))
            }
        }
    }
}

/// The episode fields of the front matter, its files located (the enclosure's taken from
/// `meta`'s written form, which is left for the enclosure itself).
fn episode_of(
    meta: &mut frontmatter::FrontMatter,
    source: &str,
    written_links: &[(usize, String)],
    absolute: &impl Fn(&str) -> String,
    ctx: &ParseContext,
) -> Episode {
    let attach = |written: &str| episode::attach(source, written, absolute);
    let enclosure = meta.enclosure.as_ref().map(|e| (attach(e.url()), e));
    let enclosure_file = enclosure.as_ref().and_then(|(a, _)| a.file.clone());
    let transcript = meta.transcript.as_deref().map(attach);
    let companions = match (&transcript, &enclosure_file) {
        (None, Some(path)) => episode::companions(path, &ctx.site_base),
        _ => Vec::new(),
    };
    let enclosure_line = enclosure
        .as_ref()
        .and_then(|(_, e)| written_links.iter().find(|(_, url)| url == e.url()))
        .map_or(1, |(line, _)| *line);
    Episode {
        number: meta.episode,
        season: meta.season,
        kind: meta.episode_type.as_deref().and_then(EpisodeType::parse),
        explicit: meta.explicit,
        transcript,
        chapters: meta.chapters.as_deref().map(attach),
        enclosure_file,
        enclosure_line,
        written_by_hand: matches!(enclosure, Some((_, episode::WrittenEnclosure::Table(_)))),
        companions,
    }
}

/// The relative links among `written`, each with where it leads; one per target (its first
/// line), so a picture shown twice is one file to publish and one warning if missing.
fn relative_links(source: &str, written: &[(usize, String)]) -> Vec<Link> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (line, url) in written {
        let Some((target, _)) = links::classify(source, url) else {
            continue;
        };
        if seen.insert(target.clone()) {
            out.push(Link {
                written: url.clone(),
                line: *line,
                target,
            });
        }
    }
    out
}

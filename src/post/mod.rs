//! One file in, one [`Post`] out (or a [`PostError`] naming the file and line). Pure: the
//! caller reads the file and supplies everything else through [`ParseContext`].
//!
//! - [`frontmatter`]: YAML (`---`) or TOML (`+++`) metadata at the top of Markdown.
//! - [`markdown`]: CommonMark with tables, footnotes, strikethrough and task lists.
//! - [`plaintext`]: articles exported from blogs (date line, title, paragraphs).
//! - [`date`]: every date form an author may write.
//! - [`lang`]: language detection when a post does not say.
//! - [`html`]: sanitising, absolute URLs, XML-safe text.
//! - [`content`]: text kept compressed in memory, given back whole.

pub mod content;
pub mod date;
pub mod frontmatter;
pub mod html;
pub mod lang;
pub mod markdown;
pub mod plaintext;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Deserialize;
use url::Url;

pub use content::{Content, ContentError};

/// A post that could not be read, with the place the author must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct PostError {
    /// The post's path as the author knows it (relative to the posts folder's parent).
    pub path: PathBuf,
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong, in plain words.
    pub message: String,
}

/// What kind of file a post comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.md`, `.markdown`
    Markdown,
    /// `.txt`
    PlainText,
}

impl Format {
    /// The format a file name says, or `None` for files that are not posts (dotfiles, editor
    /// temporaries, unknown extensions).
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let temporary = name.starts_with('.')
            || name.starts_with('#')
            || name.ends_with('~')
            || name.ends_with('#')
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name.ends_with(".tmp");
        if temporary {
            return None;
        }
        match path.extension()?.to_str()? {
            "md" | "markdown" => Some(Format::Markdown),
            "txt" => Some(Format::PlainText),
            _ => None,
        }
    }
}

/// Where a post's date came from; anything but front matter or the text earns a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSource {
    /// Written in the post.
    Post,
    /// Taken from a `YYYY-MM-DD-` file name prefix.
    FileName,
    /// Nothing said: the fallback the loader supplied (when the file was first seen).
    Fallback,
}

/// Where a post's language came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LangSource {
    /// Front matter `lang`.
    Post,
    /// Detected from the text with confidence.
    Detected,
    /// The site's `language`.
    Site,
}

/// A media file attached to a post (podcast episode, download).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enclosure {
    /// Absolute URL (relative ones are made absolute against the post).
    pub url: String,
    /// MIME type.
    #[serde(rename = "type")]
    pub mime_type: String,
    /// Size in bytes.
    pub length: u64,
}

/// One article, ready for the site stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// Path relative to the posts folder, `/`-separated.
    pub source: String,
    /// Front matter `id`, which always wins over generated ids.
    pub id: Option<String>,
    /// URL segment of the post page.
    pub slug: String,
    /// Site path of the post's HTML page: `posts/{slug}/`.
    pub page_path: String,
    /// The post's URL (its page, or under `link_base`); relative URLs in it resolve here.
    pub link: String,
    /// Plain-text title.
    pub title: String,
    /// Publication date.
    pub date: DateTime<FixedOffset>,
    /// Where `date` came from.
    pub date_source: DateSource,
    /// Last significant change; at least `date`.
    pub updated: DateTime<FixedOffset>,
    /// Tags as written, duplicates removed, order kept.
    pub tags: Vec<String>,
    /// The URL slug of each tag, in the same order (`café` → `cafe`).
    pub tag_slugs: Vec<String>,
    /// Author names; empty means the site author.
    pub authors: Vec<String>,
    /// Drafts are never published.
    pub draft: bool,
    /// Absolute URL of the post's lead image.
    pub image: Option<String>,
    /// Attached media.
    pub enclosure: Option<Enclosure>,
    /// Changes whenever anything that shapes this post's output changes (its file's bytes,
    /// its path, the parse context); lets rendering skip documents whose inputs are the same.
    pub fingerprint: Fingerprint,
    /// Things worth telling the author that did not stop publication (about the body: see
    /// [`Body::warnings`]).
    pub warnings: Vec<String>,
    /// The content, rendered now or on first need.
    body: BodyCell,
}

/// What a post shows: its content, summary and language.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// Sanitised HTML with absolute URLs, safe for XML; kept compressed (see [`Content`]).
    pub html: Content,
    /// Plain-text summary.
    pub summary: String,
    /// Language tag.
    pub lang: String,
    /// Where `lang` came from.
    pub lang_source: LangSource,
    /// Things worth telling the author about the body (relative URLs rewritten).
    pub warnings: Vec<String>,
}

/// A post's [`Body`], or what it is made from until it is needed.
///
/// Rendering Markdown, sanitising it and detecting its language is most of the cost of
/// reading a post (about 0.3 ms of 0.4), and a 10,000-post site shows only a few hundred
/// posts in its subscription and tag feeds. So a post with a front matter title keeps its
/// Markdown (compressed) and renders it when first shown: the posts of hot feeds when the
/// snapshot is built ([`Post::keep_body`]), an archive page's posts when it is requested
/// (rendered for that page only, so memory does not grow with what crawlers fetch). The
/// text is held in memory, not read again from disk: a post whose file later breaks keeps
/// its last good version, body included.
#[derive(Debug, Clone)]
struct BodyCell {
    pending: Option<Box<Pending>>,
    kept: std::sync::OnceLock<Arc<Body>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Pending {
    /// The Markdown after the front matter.
    markdown: Content,
    /// Front matter `summary` and `lang`, which win over what the text says.
    summary: Option<String>,
    lang: Option<String>,
    /// The site's language, for text whose language is not detected.
    site_language: String,
}

impl PartialEq for BodyCell {
    fn eq(&self, other: &BodyCell) -> bool {
        // Equal pending inputs render equal bodies, whether or not either was rendered yet.
        match (&self.pending, &other.pending) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.kept.get() == other.kept.get(),
            _ => false,
        }
    }
}

impl Post {
    /// The post's body: the one kept, or rendered now and not kept. An error means its
    /// stored text could not be reproduced (see [`ContentError`]): never less text.
    pub fn body(&self) -> Result<Arc<Body>, ContentError> {
        match (self.body.kept.get(), &self.body.pending) {
            (Some(body), _) => Ok(Arc::clone(body)),
            (None, Some(pending)) => Ok(Arc::new(self.render_body(pending)?)),
            (None, None) => unreachable!("a post without pending text has its body"),
        }
    }

    /// Renders the body if needed and keeps it (for posts in hot feeds). A body that cannot
    /// be rendered is not kept: rendering the feed then reports the error.
    pub fn keep_body(&self) {
        if let (None, Some(pending)) = (self.body.kept.get(), &self.body.pending) {
            if let Ok(body) = self.render_body(pending) {
                // Another thread may have kept the same body meanwhile: either will do.
                let _ = self.body.kept.set(Arc::new(body));
            }
        }
    }

    /// Renders and keeps the bodies of many posts, on every core.
    pub fn keep_bodies(posts: &[&Post]) {
        let pending: Vec<&Post> = posts
            .iter()
            .copied()
            .filter(|p| p.body.pending.is_some() && p.body.kept.get().is_none())
            .collect();
        crate::parallel::map(&pending, 8, |post| post.keep_body());
    }

    /// The body if it has been rendered and kept, without rendering it.
    pub fn kept_body(&self) -> Option<&Arc<Body>> {
        self.body.kept.get()
    }

    fn render_body(&self, pending: &Pending) -> Result<Body, ContentError> {
        let draft = markdown::render_body(&pending.markdown.text()?);
        let base = Url::parse(&self.link)
            .unwrap_or_else(|_| Url::parse("https://localhost/").expect("a valid URL"));
        Ok(draft.body(
            pending.summary.as_deref(),
            pending.lang.as_deref(),
            &base,
            &pending.site_language,
        ))
    }
}

/// A 128-bit digest identifying the inputs of something rendered.
pub type Fingerprint = [u8; 16];

/// Everything parsing needs besides the text.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Zone for dates written without one.
    pub timezone: Tz,
    /// Language when the post says none and detection is unsure.
    pub language: String,
    /// Base of post URLs: a post's URL is `post_base` + slug + `/`.
    pub post_base: Url,
    /// Date for posts that give none (when the file was first seen).
    pub fallback_date: DateTime<FixedOffset>,
}

/// Parses one post. `source` is its path relative to the posts folder (used for the slug,
/// the file-name date and error messages); `display` is the path shown in errors.
pub fn parse(
    source: &str,
    display: &Path,
    text: &str,
    ctx: &ParseContext,
) -> Result<Post, PostError> {
    let error = |line: usize, message: String| PostError {
        path: display.to_path_buf(),
        line,
        message,
    };
    let format = Format::of(Path::new(source)).ok_or_else(|| error(1, "not a post file".into()))?;
    if text.contains('\0') {
        let line = config_line(text, text.find('\0').unwrap_or(0));
        return Err(error(line, "binary data (NUL byte) in a text post".into()));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        // Most often a save in progress: keep the last good version rather than publish this.
        return Err(error(1, "empty file".into()));
    }
    let draft = match format {
        Format::Markdown => {
            markdown::parse_markdown_deferring(text, ctx).map_err(|(l, m)| error(l, m))?
        }
        Format::PlainText => plaintext::parse_plaintext(text, ctx).map_err(|(l, m)| error(l, m))?,
    };
    let mut post = draft.finish(source, ctx);
    let mut hasher = blake3::Hasher::new();
    for part in [
        source,
        text,
        ctx.post_base.as_str(),
        ctx.language.as_str(),
        ctx.timezone.name(),
    ] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.update(&ctx.fallback_date.timestamp().to_le_bytes());
    post.fingerprint
        .copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    Ok(post)
}

fn config_line(text: &str, offset: usize) -> usize {
    crate::config::line_of(text, offset)
}

/// What a format parser extracts before the shared finishing steps.
#[derive(Debug, Default)]
pub(crate) struct PostDraft {
    pub meta: frontmatter::FrontMatter,
    pub date: Option<DateTime<FixedOffset>>,
    pub updated: Option<DateTime<FixedOffset>>,
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
}

impl PostDraft {
    /// Shared steps: slug, dates, title fallback, summary, language, sanitising.
    fn finish(mut self, source: &str, ctx: &ParseContext) -> Post {
        let mut warnings = Vec::new();
        let stem = Path::new(source)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("post");
        let prefix = date::date_prefix(stem);
        let name = prefix
            .map(|(_, rest)| rest)
            .filter(|r| !r.is_empty())
            .unwrap_or(stem);
        let (date, date_source) = match (self.date, prefix) {
            (Some(d), _) => (d, DateSource::Post),
            (None, Some((day, _))) => {
                let local = date::localize(day.and_time(chrono::NaiveTime::MIN), ctx.timezone)
                    .filter(|d| date::expressible(d).is_ok());
                (local.unwrap_or(ctx.fallback_date), DateSource::FileName)
            }
            (None, None) => {
                warnings.push("no date given: using the time the file was first seen".to_string());
                (ctx.fallback_date, DateSource::Fallback)
            }
        };
        let updated = self.updated.filter(|u| *u > date).unwrap_or(date);
        let title = self
            .meta
            .title
            .clone()
            .or(self.title.take())
            .map(|t| html::plain_text_line(&t))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| title_from_name(name));
        let slug = match self
            .meta
            .slug
            .as_deref()
            .map(slugify)
            .filter(|s| !s.is_empty())
        {
            Some(s) => s,
            None => Some(slugify(name))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "post".into()),
        };
        let post_url = ctx
            .post_base
            .join(&format!("{slug}/"))
            .unwrap_or_else(|_| ctx.post_base.clone());
        let body = match self.deferred.take() {
            Some(markdown) => BodyCell {
                pending: Some(Box::new(Pending {
                    markdown: Content::new(&markdown),
                    summary: self.meta.summary.clone(),
                    lang: self.meta.lang.clone(),
                    site_language: ctx.language.clone(),
                })),
                kept: std::sync::OnceLock::new(),
            },
            None => BodyCell {
                pending: None,
                kept: std::sync::OnceLock::from(Arc::new(self.body(
                    self.meta.summary.as_deref(),
                    self.meta.lang.as_deref(),
                    &post_url,
                    &ctx.language,
                ))),
            },
        };
        let (tags, tag_slugs) = tags_of(&self.meta.tags.0, &mut warnings);
        let absolute = |u: &str| {
            post_url
                .join(u)
                .map(String::from)
                .unwrap_or_else(|_| u.to_string())
        };
        Post {
            source: source.to_string(),
            id: self
                .meta
                .id
                .clone()
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
            authors: self
                .meta
                .authors
                .0
                .iter()
                .map(|a| html::plain_text_line(a))
                .collect(),
            draft: self.meta.draft,
            image: self.meta.image.as_deref().map(absolute),
            enclosure: self.meta.enclosure.clone().map(|e| Enclosure {
                url: absolute(&e.url),
                ..e
            }),
            fingerprint: Fingerprint::default(),
            warnings,
            body,
        }
    }

    /// The body's shared steps: summary, language, sanitising. Front matter `summary` and
    /// `lang` win; `base` is the post's URL; `site_language` applies when detection is unsure.
    fn body(
        &self,
        summary: Option<&str>,
        lang: Option<&str>,
        base: &Url,
        site_language: &str,
    ) -> Body {
        let summary = match summary {
            Some(s) => html::plain_text_line(s),
            None => summarize(self.lead_text.as_deref(), &self.paragraphs),
        };
        let (lang, lang_source) = match lang {
            Some(l) => (l.to_string(), LangSource::Post),
            None => match lang::detect(&self.body_text) {
                Some(code) => (code.to_string(), LangSource::Detected),
                None => (site_language.to_string(), LangSource::Site),
            },
        };
        let cleaned = html::clean_html(&self.body_html, base);
        let mut warnings = Vec::new();
        if cleaned.rewrote_relative {
            warnings.push("relative URLs rewritten to absolute ones".into());
        }
        Body {
            html: Content::new(&cleaned.html),
            summary,
            lang,
            lang_source,
            warnings,
        }
    }
}

/// The most tags one post may carry; more are left out with a warning. Each tag has its own
/// feeds, so thousands on one post made every rebuild slow for the whole site.
pub const MAX_TAGS: usize = 100;

/// A post's tags as written (plain text, duplicates removed, order kept, at most
/// [`MAX_TAGS`]) and their URL slugs. A tag without a letter or digit has no slug and so no
/// URL: it is left out with a warning rather than merged into some other tag.
fn tags_of(written: &[String], warnings: &mut Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let (mut tags, mut slugs) = (Vec::new(), Vec::new());
    let (mut unusable, mut over) = (Vec::new(), 0);
    for tag in written.iter().map(|t| html::plain_text_line(t)) {
        if tag.is_empty() || !seen.insert(tag.clone()) {
            continue;
        }
        if tags.len() == MAX_TAGS {
            over += 1;
            continue;
        }
        match slugify(&tag) {
            slug if slug.is_empty() => unusable.push(format!("`{tag}`")),
            slug => {
                tags.push(tag);
                slugs.push(slug);
            }
        }
    }
    if !unusable.is_empty() {
        let more = unusable.len().saturating_sub(10);
        unusable.truncate(10);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        warnings.push(format!(
            "tags without a letter or digit have no URL and are left out: {}{more}",
            unusable.join(", ")
        ));
    }
    if over > 0 {
        warnings.push(format!(
            "{} different tags: only the first {MAX_TAGS} are used, {over} are left out",
            MAX_TAGS + over
        ));
    }
    (tags, slugs)
}

/// The first paragraph of real prose (skipping short lines such as photo credits when a
/// longer paragraph follows), cut on a word boundary near 300 characters.
fn summarize(lead: Option<&str>, paragraphs: &[String]) -> String {
    if let Some(lead) = lead.map(str::trim).filter(|l| !l.is_empty()) {
        return html::plain_text_line(lead);
    }
    let chosen = paragraphs
        .iter()
        .find(|p| p.chars().count() >= 80)
        .or_else(|| paragraphs.first())
        .map(String::as_str)
        .unwrap_or("");
    truncate_words(&html::plain_text_line(chosen), 300)
}

/// Cuts text to at most about `limit` characters at a word boundary, adding `…` when cut.
pub fn truncate_words(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let at_word = match cut.rfind(char::is_whitespace) {
        Some(i) if i > limit / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!(
        "{}…",
        at_word.trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
    )
}

/// An ASCII URL slug: transliterated, lowercase, words joined by `-`.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(80);
    slug.trim_end_matches('-').to_string()
}

/// A readable title from a file name: `why-feeds-matter` → `Why feeds matter`.
fn title_from_name(name: &str) -> String {
    let spaced = name.replace(['-', '_'], " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Untitled".into(),
    }
}

/// The parse context unit tests use: UTC, English, posts under `https://ex.org/posts/`,
/// undated posts falling back to the epoch.
#[cfg(test)]
pub(crate) fn test_context() -> ParseContext {
    ParseContext {
        timezone: Tz::UTC,
        language: "en".into(),
        post_base: Url::parse("https://ex.org/posts/").expect("a valid URL"),
        fallback_date: DateTime::UNIX_EPOCH.fixed_offset(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slugify("Café au lait!"), "cafe-au-lait");
        assert_eq!(slugify("  --Hello,   World-- "), "hello-world");
        assert_eq!(slugify("日本"), "ri-ben");
    }

    #[test]
    fn editor_temporaries_are_not_posts() {
        for name in [
            ".hidden.md",
            "post.md~",
            "#post.md#",
            ".#post.md",
            "post.md.swp",
            "x.tmp",
            "a.html",
        ] {
            assert_eq!(Format::of(Path::new(name)), None, "{name}");
        }
        assert_eq!(Format::of(Path::new("a/b.md")), Some(Format::Markdown));
        assert_eq!(Format::of(Path::new("b.txt")), Some(Format::PlainText));
    }

    #[test]
    fn truncation_cuts_on_words() {
        let text = "word ".repeat(100);
        let cut = truncate_words(&text, 300);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= 301);
    }
}

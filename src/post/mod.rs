//! One file in, one [`Post`] out (or a [`PostError`] naming the file and line). Pure: the
//! caller reads the file and supplies everything else through [`ParseContext`].
//!
//! - [`frontmatter`]: YAML (`---`) or TOML (`+++`) metadata at the top of Markdown.
//! - [`generators`]: the front matter keys of Hugo, Jekyll and Zola, read as ours.
//! - [`markdown`]: CommonMark with tables, footnotes, strikethrough and task lists.
//! - [`plaintext`]: articles exported from blogs (date line, title, paragraphs).
//! - [`date`]: every date form an author may write.
//! - [`lang`]: language detection when a post does not say.
//! - [`html`]: sanitising, absolute URLs, XML-safe text.
//! - [`links`]: relative links resolved against the post's file (files beside posts).
//! - [`content`]: text kept compressed in memory, given back whole.
//!
//! Private to this module, the steps every format shares once its parser is done: `draft`
//! (date, title, slug and URLs of a post), `body` ([`Body`], rendered now or when first
//! shown, and summaries), `tags`, `slug` (slugs and names from file names) and
//! `fingerprint` (a digest of a post's inputs).

mod body;
pub mod content;
pub mod date;
mod draft;
pub mod episode;
mod fingerprint;
pub mod frontmatter;
pub mod generators;
pub mod html;
pub mod lang;
pub mod links;
pub mod markdown;
pub mod plaintext;
mod slug;
mod tags;

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Deserialize;
use url::Url;

pub use body::{truncate_words, Body};
pub use content::{Content, ContentError};
pub(crate) use draft::PostDraft;
pub use episode::{Attachment, Episode, EpisodeType};
pub use fingerprint::Fingerprint;
pub use links::{Link, Target};
pub use slug::slugify;
pub use tags::MAX_TAGS;

use body::BodyCell;

/// A post that could not be read, with the place the author must fix.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
        if is_temporary(name) {
            return None;
        }
        match path.extension()?.to_str()? {
            "md" | "markdown" => Some(Format::Markdown),
            "txt" => Some(Format::PlainText),
            _ => None,
        }
    }
}

/// Whether a file name is a dotfile or an editor's temporary (`.x.swp`, `x~`, `#x#`,
/// `x.tmp`): never a post, never a finished file.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with('#')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
}

/// Where a post's date came from; anything but front matter or the text earns a warning.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSource {
    /// Written in the post.
    Post,
    /// Taken from a `YYYY-MM-DD-` file name prefix.
    FileName,
    /// Nothing said: the fallback the loader supplied (when the file was first seen).
    Fallback,
}

/// Where a post's language came from.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LangSource {
    /// Front matter `lang`.
    Post,
    /// Detected from the text with confidence.
    Detected,
    /// The site's `language`.
    Site,
}

/// A media file attached to a post (podcast episode, download).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
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
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
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
    /// Podcast episode fields (empty unless written).
    pub episode: Episode,
    /// Old addresses (site routes, no leading `/`) that answer `301` to the post.
    pub aliases: Vec<String>,
    /// Not published from this time on (Hugo `expiryDate`).
    pub expires: Option<DateTime<FixedOffset>>,
    /// Changes whenever anything that shapes this post's output changes (its file's bytes,
    /// its path, the parse context); lets rendering skip documents whose inputs are the same.
    pub fingerprint: Fingerprint,
    /// Things worth telling the author that did not stop publication (about the body: see
    /// [`Body::warnings`]).
    pub warnings: Vec<String>,
    /// Its relative links (body, `image`, enclosure), one per target, with their lines:
    /// the files beside it to publish, and the links to warn about.
    pub links: Vec<Link>,
    /// Things the author may like to know that need no action (another generator's keys
    /// ignored on purpose).
    pub notes: Vec<String>,
    /// The content, rendered now or on first need.
    body: BodyCell,
}

/// Everything parsing needs besides the text.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Zone for dates written without one.
    pub timezone: Tz,
    /// Language when the post says none and detection is unsure.
    pub language: String,
    /// Base of post URLs: a post's URL is `post_base` + slug + `/`.
    pub post_base: Url,
    /// The site's root URL: files beside posts are published under `{site_base}files/`.
    pub site_base: Url,
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
    post.fingerprint = fingerprint::of_post(source, text, ctx);
    Ok(post)
}

fn config_line(text: &str, offset: usize) -> usize {
    crate::config::line_of(text, offset)
}

/// The parse context unit tests use: UTC, English, posts under `https://ex.org/posts/`,
/// undated posts falling back to the epoch.
#[cfg(test)]
pub(crate) fn test_context() -> ParseContext {
    ParseContext {
        timezone: Tz::UTC,
        language: "en".into(),
        post_base: Url::parse("https://ex.org/posts/").expect("a valid URL"),
        site_base: Url::parse("https://ex.org/").expect("a valid URL"),
        fallback_date: DateTime::UNIX_EPOCH.fixed_offset(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_page_bundle_is_named_by_its_folder() {
        let text = "# A trip\n\n![photo](photo.jpg)\n";
        let ctx = test_context();
        let post = |source: &str| parse(source, Path::new(source), text, &ctx).unwrap();
        let bundle = post("2026-05-01-trip/index.md");
        assert_eq!(bundle.slug, "trip");
        assert_eq!(bundle.date.date_naive().to_string(), "2026-05-01");
        assert_eq!(
            bundle.links.iter().map(|l| &l.target).collect::<Vec<_>>(),
            [&Target::File("2026-05-01-trip/photo.jpg".into())]
        );
        assert_eq!(post("index.md").slug, "index");
    }

    use proptest::prelude::*;

    /// A piece of Markdown linking `target` one of the ways authors do.
    fn linking(target: &'static str, how: usize) -> String {
        match how {
            0 => format!("![a]({target})"),
            1 => format!("[b](<{target}> \"t\")"),
            2 => format!("<img\n  src=\"{target}\">"),
            3 => format!("<a href='{target}'>c</a>"),
            4 => format!("[d][r{target}]\n\n[r{target}]: {target}"),
            5 => format!("`[e]({target})`"),
            _ => format!("<video poster=\"{target}\" controls></video>"),
        }
    }

    proptest! {
        /// Every `/files/` URL a rendered body carries names a file the parse found (the
        /// library publishes exactly those): a link the sanitiser rewrites but the scan
        /// missed would be a 404 on the site.
        #[test]
        fn every_files_url_in_a_body_is_a_link_the_parse_found(
            pieces in prop::collection::vec(
                (prop::sample::select(&["a.png", "../up.jpg", "d/e%20f.png", "é.gif", "x.md", ".h.png", "https://o.org/p.png", "#top", "g.mp3?x#t"][..]), 0..7usize),
                0..6,
            ),
        ) {
            let body: Vec<String> = pieces.iter().map(|(t, how)| linking(t, *how)).collect();
            let text = format!("---\ntitle: T\n---\n\n{}\n", body.join("\n\n"));
            let post = parse("dir/post.md", Path::new("dir/post.md"), &text, &test_context()).unwrap();
            let html = post.body().unwrap().html.text().unwrap();
            let found: Vec<&str> = post.links.iter().filter_map(|l| match &l.target {
                Target::File(p) => Some(p.as_str()),
                _ => None,
            }).collect();
            for (_, url) in links::html_links(&html) {
                let Some(rest) = url.strip_prefix("https://ex.org/files/") else { continue };
                let route = format!("files/{}", rest.split(['?', '#']).next().unwrap_or(""));
                let path = links::path_of_file_route(&route).unwrap();
                prop_assert!(found.contains(&&*path), "{} rendered but not found in {:?}\n{}", url, found, text);
            }
        }
    }
}

//! What a post shows ([`Body`]: content, summary, language), made now or when the post is
//! first shown, and the summary rules.

use std::sync::{Arc, OnceLock};

use url::Url;

use super::content::{Content, ContentError};
use super::{html, lang, markdown, LangSource, Post, PostDraft};

/// What a post shows: its content, summary and language.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Body {
    /// Sanitised HTML with absolute URLs, safe for XML; kept compressed (see [`Content`]).
    pub html: Content,
    /// Plain-text summary.
    pub summary: String,
    /// Language tag.
    pub lang: String,
    /// Where `lang` came from.
    pub lang_source: LangSource,
    /// Things worth telling the author about the body (none yet: relative links are
    /// reported with their lines from [`Post::links`]).
    pub warnings: Vec<String>,
    /// What was done for the author, nothing to fix (relative URLs made absolute).
    pub notes: Vec<String>,
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
pub(super) struct BodyCell {
    pending: Option<Box<Pending>>,
    kept: OnceLock<Arc<Body>>,
}

/// The inputs of a body not rendered yet.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct Pending {
    /// The Markdown after the front matter.
    markdown: Content,
    /// Front matter `summary` and `lang`, which win over what the text says.
    summary: Option<String>,
    lang: Option<String>,
    /// The site's language, for text whose language is not detected.
    site_language: String,
    /// The site's root URL, for the `/files/` URLs of files beside the post.
    site_base: Url,
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

/// A [`BodyCell`] as saved in the persistent index: its pending inputs when it has them (a
/// body rendered since is a cache of them), else its body.
#[derive(serde::Serialize)]
enum SavedBody<'a> {
    Pending(&'a Pending),
    Rendered(&'a Body),
}

/// [`SavedBody`] read back (the same variants in the same order).
#[derive(serde::Deserialize)]
enum LoadedBody {
    Pending(Box<Pending>),
    Rendered(Body),
}

impl serde::Serialize for BodyCell {
    fn serialize<S: serde::Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
        let saved = match (&self.pending, self.kept.get()) {
            (Some(pending), _) => SavedBody::Pending(pending),
            (None, Some(body)) => SavedBody::Rendered(body),
            (None, None) => return Err(serde::ser::Error::custom("a body with no text")),
        };
        saved.serialize(to)
    }
}

impl<'de> serde::Deserialize<'de> for BodyCell {
    fn deserialize<D: serde::Deserializer<'de>>(from: D) -> Result<Self, D::Error> {
        Ok(match LoadedBody::deserialize(from)? {
            LoadedBody::Pending(pending) => BodyCell {
                pending: Some(pending),
                kept: OnceLock::new(),
            },
            LoadedBody::Rendered(body) => BodyCell::rendered(body),
        })
    }
}

impl BodyCell {
    /// A body already rendered.
    pub(super) fn rendered(body: Body) -> BodyCell {
        BodyCell {
            pending: None,
            kept: OnceLock::from(Arc::new(body)),
        }
    }

    /// Markdown rendered when first needed; front matter `summary` and `lang` win over what
    /// the text says, `site_language` applies when detection is unsure.
    pub(super) fn deferred(
        markdown: &str,
        summary: Option<String>,
        lang: Option<String>,
        site_language: String,
        site_base: Url,
    ) -> BodyCell {
        BodyCell {
            pending: Some(Box::new(Pending {
                markdown: Content::new(markdown),
                summary,
                lang,
                site_language,
                site_base,
            })),
            kept: OnceLock::new(),
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
        let post_url = Url::parse(&self.link)
            .unwrap_or_else(|_| Url::parse("https://localhost/").expect("a valid URL"));
        let urls = html::UrlBase {
            source: &self.source,
            post_url: &post_url,
            site_base: &pending.site_base,
        };
        Ok(draft.body(
            pending.summary.as_deref(),
            pending.lang.as_deref(),
            &urls,
            &pending.site_language,
        ))
    }
}

impl PostDraft {
    /// The body's shared steps: summary, language, sanitising. Front matter `summary` and
    /// `lang` win; `urls` is what links resolve against; `site_language` applies when
    /// detection is unsure.
    pub(super) fn body(
        &self,
        summary: Option<&str>,
        lang: Option<&str>,
        urls: &html::UrlBase,
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
        let cleaned = html::clean_html(&self.body_html, urls);
        // Information about what was done for the author (none yet: links have their own
        // reports with their lines).
        let notes = Vec::new();
        Body {
            html: Content::new(&cleaned.html),
            summary,
            lang,
            lang_source,
            warnings: Vec::new(),
            notes,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_cuts_on_words() {
        let text = "word ".repeat(100);
        let cut = truncate_words(&text, 300);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= 301);
    }
}

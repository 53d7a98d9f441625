//! Making text safe to publish: HTML sanitised (no scripts, styles, frames, event handlers or
//! `javascript:`/`data:` URLs), relative `href`/`src` made absolute (a file beside the post
//! → its `/files/` URL, anything else against the post's URL: see [`super::links`]), and
//! characters that XML 1.0 forbids removed, so every feed stays well-formed.

use std::borrow::Cow;

use ammonia::{Builder, UrlRelative, UrlRelativeEvaluate};
use url::Url;

use super::links;

/// Sanitised HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The safe HTML.
    pub html: String,
}

/// What relative URLs in a post resolve against.
#[derive(Debug, Clone, Copy)]
pub struct UrlBase<'a> {
    /// The post's path in the posts folder: links to files resolve against it.
    pub source: &'a str,
    /// The post's URL: other relative links resolve against it.
    pub post_url: &'a Url,
    /// The site's root URL: files are published under `{site_base}files/`.
    pub site_base: &'a Url,
}

/// Sanitises `html` and makes its URLs absolute (see [`UrlBase`]).
pub fn clean_html(html: &str, urls: &UrlBase) -> Cleaned {
    let absolutize = Absolutize {
        source: urls.source.to_string(),
        post_url: urls.post_url.clone(),
        site_base: urls.site_base.clone(),
    };
    let mut builder = Builder::default();
    builder
        .url_relative(UrlRelative::Custom(Box::new(absolutize)))
        .add_tags(["input", "audio", "video", "source"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("audio", ["src", "controls", "preload", "loop"])
        .add_tag_attributes(
            "video",
            [
                "src", "controls", "preload", "loop", "poster", "width", "height",
            ],
        )
        .add_tag_attributes("source", ["src", "type"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("div", ["id", "class"])
        .add_tag_attributes("sup", ["class"])
        .link_rel(Some("noopener"));
    // Stripped before (so the sanitiser never sees them) and after: the sanitiser decodes
    // character references such as `&#x1;` into the very characters XML forbids.
    let clean = builder.clean(&strip_xml_forbidden(html)).to_string();
    Cleaned {
        html: strip_xml_forbidden(&clean).into_owned(),
    }
}

/// Makes relative URLs absolute: files beside the post to their `/files/` URLs, the rest
/// against the post's URL.
struct Absolutize {
    source: String,
    post_url: Url,
    site_base: Url,
}

impl<'a> UrlRelativeEvaluate<'a> for Absolutize {
    fn evaluate<'url>(&self, url: &'url str) -> Option<Cow<'url, str>> {
        let absolute = links::absolute(&self.source, &self.post_url, &self.site_base, url);
        Some(Cow::Owned(absolute))
    }
}

/// True for characters XML 1.0 allows in a document.
fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Removes characters that XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF).
pub fn strip_xml_forbidden(text: &str) -> Cow<'_, str> {
    if text.chars().all(xml_allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| xml_allowed(c)).collect())
    }
}

/// One line of plain text: XML-forbidden characters removed, whitespace runs folded.
pub fn plain_text_line(text: &str) -> String {
    strip_xml_forbidden(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in strip_xml_forbidden(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        let post_url = Url::parse("https://ex.org/posts/hello/").unwrap();
        let site_base = Url::parse("https://ex.org/").unwrap();
        let urls = UrlBase {
            source: "2026/hello.md",
            post_url: &post_url,
            site_base: &site_base,
        };
        clean_html(html, &urls).html
    }

    #[test]
    fn files_beside_the_post_get_their_files_url_and_other_links_the_post_url() {
        let out = clean(
            r##"<p><img src="images/a.png"><a href="../other/">x</a><a href="/root">r</a><a href="#fn">f</a></p>"##,
        );
        for expected in [
            r#"src="https://ex.org/files/2026/images/a.png""#,
            r#"href="https://ex.org/posts/other/""#,
            r#"href="https://ex.org/root""#,
            r##"href="https://ex.org/posts/hello/#fn""##,
        ] {
            assert!(out.contains(expected), "{expected} not in {out}");
        }
    }

    #[test]
    fn absolute_urls_are_kept() {
        assert!(clean(r#"<a href="https://other.org/x">x</a>"#).contains("https://other.org/x"));
    }

    #[test]
    fn audio_and_video_keep_their_sources_and_lose_their_handlers() {
        let out = clean(
            r#"<video controls poster="p.jpg" onplay="x()"><source src="v.mp4" type="video/mp4"></video><audio src="a.mp3" controls></audio>"#,
        );
        for expected in [
            "files/2026/p.jpg",
            "files/2026/v.mp4",
            "files/2026/a.mp3",
            "controls",
        ] {
            assert!(out.contains(expected), "{expected} not in {out}");
        }
        assert!(!out.contains("onplay"), "{out}");
    }

    #[test]
    fn hostile_html_is_removed() {
        let hostile = r#"<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">j</a><iframe src="https://e.vil"></iframe><style>p{}</style><a href="data:text/html,hi">d</a><video src="javascript:alert(4)"></video>"#;
        let out = clean(hostile);
        for bad in [
            "script",
            "onerror",
            "javascript:",
            "iframe",
            "style",
            "data:",
        ] {
            assert!(!out.contains(bad), "{bad} left in {out}");
        }
    }

    #[test]
    fn forbidden_characters_removed() {
        assert_eq!(strip_xml_forbidden("a\u{1}b\u{0B}c\u{FFFE}d\te"), "abcd\te");
        assert_eq!(plain_text_line("  a \u{7}\n b  "), "a b");
    }
}

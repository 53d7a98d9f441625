//! Making text safe to publish: HTML sanitised (no scripts, styles, frames, event handlers or
//! `javascript:`/`data:` URLs), relative `href`/`src` made absolute against the post's URL,
//! and characters that XML 1.0 forbids removed, so every feed stays well-formed.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ammonia::{Builder, UrlRelative, UrlRelativeEvaluate};
use url::Url;

/// Sanitised HTML and whether any relative URL was rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The safe HTML.
    pub html: String,
    /// True when a relative `href` or `src` was made absolute.
    pub rewrote_relative: bool,
}

/// Sanitises `html` and makes its URLs absolute against `base` (the post's own URL).
pub fn clean_html(html: &str, base: &Url) -> Cleaned {
    let rewrote = Arc::new(AtomicBool::new(false));
    let absolutize = Absolutize {
        base: base.clone(),
        rewrote: Arc::clone(&rewrote),
    };
    let mut builder = Builder::default();
    builder
        .url_relative(UrlRelative::Custom(Box::new(absolutize)))
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("div", ["id", "class"])
        .add_tag_attributes("sup", ["class"])
        .link_rel(Some("noopener"));
    // Stripped before (so the sanitiser never sees them) and after: the sanitiser decodes
    // character references such as `&#x1;` into the very characters XML forbids.
    let clean = builder.clean(&strip_xml_forbidden(html)).to_string();
    let clean = strip_xml_forbidden(&clean).into_owned();
    Cleaned {
        html: clean,
        rewrote_relative: rewrote.load(Ordering::Relaxed),
    }
}

/// Makes relative URLs absolute against a post's URL, noting that it did.
struct Absolutize {
    base: Url,
    rewrote: Arc<AtomicBool>,
}

impl<'a> UrlRelativeEvaluate<'a> for Absolutize {
    fn evaluate<'url>(&self, url: &'url str) -> Option<Cow<'url, str>> {
        let joined = self.base.join(url).ok()?;
        if !url.starts_with('#') {
            self.rewrote.store(true, Ordering::Relaxed);
        }
        Some(Cow::Owned(joined.into()))
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

    fn base() -> Url {
        Url::parse("https://ex.org/posts/hello/").unwrap()
    }

    #[test]
    fn relative_urls_become_absolute() {
        let out = clean_html(
            r#"<p><img src="images/a.png"><a href="../other/">x</a><a href="/root">r</a></p>"#,
            &base(),
        );
        assert!(
            out.html
                .contains(r#"src="https://ex.org/posts/hello/images/a.png""#),
            "{}",
            out.html
        );
        assert!(
            out.html.contains(r#"href="https://ex.org/posts/other/""#),
            "{}",
            out.html
        );
        assert!(
            out.html.contains(r#"href="https://ex.org/root""#),
            "{}",
            out.html
        );
        assert!(out.rewrote_relative);
    }

    #[test]
    fn absolute_urls_are_not_counted_as_rewritten() {
        let out = clean_html(r#"<a href="https://other.org/x">x</a>"#, &base());
        assert!(!out.rewrote_relative);
        assert!(out.html.contains("https://other.org/x"));
    }

    #[test]
    fn hostile_html_is_removed() {
        let hostile = r#"<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">j</a><iframe src="https://e.vil"></iframe><style>p{}</style><a href="data:text/html,hi">d</a>"#;
        let out = clean_html(hostile, &base()).html;
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

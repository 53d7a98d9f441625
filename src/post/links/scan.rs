//! Finding a Markdown post's relative links, with their lines, without rendering it: the
//! destinations of Markdown links and images, and the `href`, `src` and `poster` attributes
//! of raw HTML (read with html5ever's tokenizer, as the sanitiser reads them). A titled
//! post's body is rendered only when first shown, but the files it links to must be known
//! (and published) from the start.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use pulldown_cmark::{Event, Parser, Tag};

/// Every link of a Markdown body that starts at line `first_line` of its file, with its
/// line, in the order written (relative or not: [`super::classify`] tells).
pub fn markdown_links(
    body: &str,
    first_line: usize,
    options: pulldown_cmark::Options,
) -> Vec<(usize, String)> {
    // A link needs `](` (inline), `]:` (a reference definition) or `<` (autolinks, raw
    // HTML): prose without them, most posts, costs a search instead of a parse.
    if !(body.contains("](") || body.contains("]:") || body.contains('<')) {
        return Vec::new();
    }
    let lines = Lines::new(body, first_line);
    let mut out = Vec::new();
    let mut html = HtmlRun::default();
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match event {
            Event::Html(text) | Event::InlineHtml(text) => html.push(&text, range.start),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                html.flush(&lines, &mut out);
                out.push((lines.at(range.start), dest_url.to_string()));
            }
            _ => html.flush(&lines, &mut out),
        }
    }
    html.flush(&lines, &mut out);
    out
}

/// Consecutive raw HTML pieces (a block's lines, a paragraph's inline tags), read as one
/// text so a tag written over several lines is one tag.
#[derive(Default)]
struct HtmlRun {
    text: String,
    start: Option<usize>,
}

impl HtmlRun {
    fn push(&mut self, text: &str, offset: usize) {
        self.start.get_or_insert(offset);
        self.text.push_str(text);
    }

    fn flush(&mut self, lines: &Lines, out: &mut Vec<(usize, String)>) {
        let Some(start) = self.start.take() else {
            return;
        };
        let first = lines.at(start);
        let found = html_links(&std::mem::take(&mut self.text));
        out.extend(found.into_iter().map(|(line, url)| (first + line - 1, url)));
    }
}

/// The URL attributes of every start tag in an HTML fragment, with their 1-based lines in it
/// (the line where the tag ends).
pub fn html_links(html: &str) -> Vec<(usize, String)> {
    let tokenizer = Tokenizer::new(UrlAttributes::default(), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.found.take()
}

/// Collects `href`, `src` and `poster` values of start tags: the attributes the sanitiser
/// treats as URLs on the tags it keeps.
#[derive(Default)]
struct UrlAttributes {
    found: RefCell<Vec<(usize, String)>>,
}

impl TokenSink for UrlAttributes {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            if tag.kind == TagKind::StartTag {
                let urls = tag
                    .attrs
                    .iter()
                    .filter(|a| matches!(&*a.name.local, "href" | "src" | "poster"));
                let mut found = self.found.borrow_mut();
                found.extend(urls.map(|a| (line as usize, a.value.to_string())));
            }
        }
        TokenSinkResult::Continue
    }
}

/// Byte offsets of a text → 1-based lines of the file it starts in.
struct Lines {
    newlines: Vec<usize>,
    first_line: usize,
}

impl Lines {
    fn new(text: &str, first_line: usize) -> Lines {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Lines {
            newlines,
            first_line,
        }
    }

    fn at(&self, offset: usize) -> usize {
        self.first_line + self.newlines.partition_point(|&n| n < offset)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{classify, Target};
    use super::*;

    fn scan(body: &str) -> Vec<(usize, Target)> {
        markdown_links(body, 5, pulldown_cmark::Options::empty())
            .into_iter()
            .filter_map(|(line, url)| Some((line, classify("2026/post.md", &url)?.0)))
            .collect()
    }

    #[test]
    fn markdown_and_raw_html_links_are_found_with_their_lines() {
        let body = "Intro.\n\n![a](photos/a.jpg)\n\nSee [b](../b.pdf \"t\") and [ref].\n\n<figure>\n<img\n  src=\"c&amp;d.png\">\n</figure>\n\nText <video poster=\"p.jpg\" src='v.mp4'></video>\n\n[ref]: r.csv\n";
        let file = |p: &str| Target::File(p.into());
        assert_eq!(
            scan(body),
            vec![
                (7, file("2026/photos/a.jpg")),
                (9, file("b.pdf")),
                (9, file("2026/r.csv")),
                (13, file("2026/c&d.png")),
                (16, file("2026/p.jpg")),
                (16, file("2026/v.mp4")),
            ]
        );
    }

    #[test]
    fn absolute_links_and_code_are_not_links() {
        let body =
            "[x](https://ex.org/a.png) `<img src=\"no.png\">`\n\n    <img src=\"code.png\">\n";
        assert_eq!(scan(body), vec![]);
    }
}

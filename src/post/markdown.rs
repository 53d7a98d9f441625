//! Markdown posts: front matter, then CommonMark with tables, footnotes, strikethrough and
//! task lists. Without a front matter title, the first `# heading` is the title (and is not
//! repeated in the content).

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::frontmatter::{self, LineError};
use super::{links, ParseContext, PostDraft};

/// Parses a Markdown post into a draft, rendering its body.
#[cfg(test)]
pub(crate) fn parse_markdown(text: &str, ctx: &ParseContext) -> Result<PostDraft, LineError> {
    parse(text, ctx, false)
}

/// Parses a Markdown post's front matter; the body is rendered now only when the title must
/// come from it, else it is left in [`PostDraft::deferred`] for [`render_body`].
pub(crate) fn parse_markdown_deferring(
    text: &str,
    ctx: &ParseContext,
) -> Result<PostDraft, LineError> {
    parse(text, ctx, true)
}

fn parse(text: &str, ctx: &ParseContext, defer: bool) -> Result<PostDraft, LineError> {
    let split = frontmatter::split(text, ctx.timezone)?;
    let (image_line, url_line) = split.url_lines;
    let mut links = Vec::new();
    if let Some(image) = &split.meta.image {
        links.push((image_line.unwrap_or(1), image.clone()));
    }
    if let Some(enclosure) = &split.meta.enclosure {
        links.push((url_line.unwrap_or(1), enclosure.url().to_string()));
    }
    let (transcript_line, chapters_line) = split.episode_lines;
    if let Some(transcript) = &split.meta.transcript {
        links.push((transcript_line.unwrap_or(1), transcript.clone()));
    }
    if let Some(chapters) = &split.meta.chapters {
        links.push((chapters_line.unwrap_or(1), chapters.clone()));
    }
    links.extend(links::markdown_links(split.body, split.body_line, OPTIONS));
    let titled = split.meta.title.is_some();
    let mut draft = if defer && titled {
        PostDraft {
            deferred: Some(split.body.to_string()),
            ..PostDraft::default()
        }
    } else {
        render(split.body, !titled)
    };
    draft.meta = split.meta;
    draft.links = links;
    draft.date = split.date;
    draft.updated = split.updated;
    draft.expires = split.expires;
    Ok(draft)
}

/// Renders a Markdown body whose title is known (see [`parse_markdown_deferring`]).
pub(crate) fn render_body(markdown: &str) -> PostDraft {
    render(markdown, false)
}

/// The Markdown extensions posts may use.
const OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS);

/// Renders Markdown; with `take_title`, a leading `# heading` becomes the title.
fn render(markdown: &str, take_title: bool) -> PostDraft {
    let mut events: Vec<Event> = Parser::new_ext(markdown, OPTIONS).collect();
    let heading_title = if take_title {
        take_first_h1(&mut events)
    } else {
        None
    };
    let extracted = extract_text(&events);
    let mut body_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut body_html, events.into_iter());
    PostDraft {
        title: heading_title,
        body_html,
        body_text: extracted.all,
        lead_text: extracted.lead,
        paragraphs: extracted.paragraphs,
        ..PostDraft::default()
    }
}

/// Removes the first level-1 heading from the events and returns its text, if it comes
/// before any other text.
fn take_first_h1(events: &mut Vec<Event>) -> Option<String> {
    let start = events
        .iter()
        .position(|e| matches!(e, Event::Start(Tag::Heading { .. }) | Event::Text(_)))?;
    if !matches!(
        events[start],
        Event::Start(Tag::Heading {
            level: HeadingLevel::H1,
            ..
        })
    ) {
        return None;
    }
    let len = events[start..]
        .iter()
        .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))?;
    let removed: Vec<Event> = events.drain(start..=start + len).collect();
    let title: String = removed
        .iter()
        .filter_map(|e| match e {
            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    Some(title.trim().to_string())
}

#[derive(Default)]
struct Extracted {
    all: String,
    lead: Option<String>,
    paragraphs: Vec<String>,
}

/// Plain text of the whole body, of the part before `<!-- more -->`, and of each paragraph.
fn extract_text(events: &[Event]) -> Extracted {
    let mut out = Extracted::default();
    let mut paragraph: Option<String> = None;
    for event in events {
        match event {
            Event::Start(Tag::Paragraph) => paragraph = Some(String::new()),
            Event::End(TagEnd::Paragraph) => {
                if let Some(p) = paragraph.take().filter(|p| !p.trim().is_empty()) {
                    out.paragraphs.push(p);
                }
                out.all.push('\n');
            }
            Event::Text(t) | Event::Code(t) => {
                out.all.push_str(t);
                if let Some(p) = paragraph.as_mut() {
                    p.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                out.all.push(' ');
                if let Some(p) = paragraph.as_mut() {
                    p.push(' ');
                }
            }
            Event::Html(h) | Event::InlineHtml(h) if out.lead.is_none() && has_more_marker(h) => {
                out.lead = Some(out.all.clone());
            }
            Event::End(_) => out.all.push(' '),
            _ => {}
        }
    }
    out
}

/// Whether raw HTML holds the summary divider `<!-- more -->`, in any spacing or case
/// (`<!--more-->`, `<!-- More -->`, as WordPress, Blogger, Hugo and Jekyll write it).
fn has_more_marker(html: &str) -> bool {
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        let after = &rest[start + 4..];
        let Some(end) = after.find("-->") else {
            return false;
        };
        if after[..end].trim().eq_ignore_ascii_case("more") {
            return true;
        }
        rest = &after[end + 3..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::test_context as ctx;

    #[test]
    fn heading_becomes_title_and_leaves_body() {
        let draft = parse_markdown("# My Title\n\nHello *world*.\n", &ctx()).unwrap();
        assert_eq!(draft.title.as_deref(), Some("My Title"));
        assert!(!draft.body_html.contains("My Title"));
        assert!(draft.body_html.contains("<em>world</em>"));
    }

    #[test]
    fn front_matter_title_keeps_heading() {
        let draft = parse_markdown("---\ntitle: T\n---\n# Heading\n", &ctx()).unwrap();
        assert!(draft.title.is_none());
        assert!(draft.body_html.contains("<h1>Heading</h1>"));
    }

    #[test]
    fn a_titled_post_defers_its_body_and_renders_it_the_same_later() {
        let text = "---\ntitle: T\n---\n# Heading\n\nSome *text*.\n";
        let deferred = parse_markdown_deferring(text, &ctx()).unwrap();
        assert!(deferred.body_html.is_empty());
        let later = render_body(deferred.deferred.as_deref().unwrap());
        let now = parse_markdown(text, &ctx()).unwrap();
        assert_eq!(later.body_html, now.body_html);
        assert_eq!(later.paragraphs, now.paragraphs);
        // Without a title the body must be read now: the title may be in it.
        let untitled = parse_markdown_deferring("# Heading\n\nText.\n", &ctx()).unwrap();
        assert_eq!(untitled.title.as_deref(), Some("Heading"));
        assert!(untitled.deferred.is_none());
    }

    #[test]
    fn more_marker_sets_lead() {
        let draft =
            parse_markdown("Intro line.\n\n<!-- more -->\n\nRest of it.\n", &ctx()).unwrap();
        assert_eq!(
            draft.lead_text.as_deref().map(str::trim),
            Some("Intro line.")
        );
    }

    #[test]
    fn more_marker_in_any_spacing_or_case() {
        for marker in [
            "<!--more-->",
            "<!-- More -->",
            "<!--   MORE\t-->",
            "<!-- more-->",
        ] {
            for text in [
                format!("Intro line.\n\n{marker}\n\nRest of it.\n"),
                format!("Intro line. {marker} Rest of it.\n"),
            ] {
                let draft = parse_markdown(&text, &ctx()).unwrap();
                let lead = draft.lead_text.as_deref().map(str::trim);
                assert_eq!(lead, Some("Intro line."), "{text:?}");
            }
        }
        for not_marker in [
            "<!-- more to come -->",
            "<!-- moreover -->",
            "<!-- m ore -->",
        ] {
            let text = format!("Intro line.\n\n{not_marker}\n\nRest of it.\n");
            let draft = parse_markdown(&text, &ctx()).unwrap();
            assert_eq!(draft.lead_text, None, "{text:?}");
        }
    }

    #[test]
    fn extensions_enabled() {
        let text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ - [x] done[^1]\n\n[^1]: note\n";
        let html = parse_markdown(text, &ctx()).unwrap().body_html;
        assert!(html.contains("<table>"));
        assert!(html.contains("<del>gone</del>"));
        assert!(html.contains("footnote"));
    }
}

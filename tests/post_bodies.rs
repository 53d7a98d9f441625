//! A post's text reaches readers whole, however well it compresses. Posts keep their
//! Markdown and HTML zstd-compressed in memory; these tests build sites through the real
//! pipeline and read the feeds back with feed-rs:
//!
//! - a post whose text compresses far better than 8:1 (a table of similar rows, a repeated
//!   listing, a repetitive `.txt`) is published with its whole body and a summary
//!   (regression: the body was decompressed into a guessed 8x buffer and a failure became
//!   empty text);
//! - over generated Markdown and plain-text posts, highly repetitive ones included, every
//!   post with text is published in RSS, Atom, JSON Feed and its page with non-empty text
//!   equal to a fresh render of its source.

mod common;

use common::feeds::{config, feed_rs, fixed_now, scan};
use dropfeed::pipeline::Built;
use dropfeed::post::html::{clean_html, escape_text, UrlBase};
use proptest::prelude::*;
use url::Url;

const CONFIG: &str = "base_url = \"https://example.org/\"\n";

/// Builds a site from `(file name, text)` pairs in a temporary posts folder.
fn build(posts: &[(&str, String)]) -> Built {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("posts");
    std::fs::create_dir(&folder).expect("posts folder");
    for (name, text) in posts {
        std::fs::write(folder.join(name), text).expect("write a post");
    }
    let config = config(CONFIG);
    let library = scan(&folder, &config);
    common::feeds::build_library(&library, &config, fixed_now(), None).expect("the site renders")
}

/// What a reader sees of the one post in each feed: (content, summary) per format.
fn seen(built: &Built) -> Vec<(String, String, String)> {
    ["feed.xml", "atom.xml", "feed.json"]
        .iter()
        .map(|route| {
            let bytes = &built.snapshot.get(route).expect("a feed").identity.body;
            let feed = feed_rs(bytes, route);
            assert_eq!(feed.entries.len(), 1, "{route}");
            let entry = &feed.entries[0];
            let content = entry
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .unwrap_or_default();
            let summary = entry
                .summary
                .as_ref()
                .map(|s| s.content.clone())
                .unwrap_or_default();
            (route.to_string(), content, summary)
        })
        .collect()
}

/// The post page's bytes, rendered now.
fn page(built: &Built, slug: &str) -> String {
    let route = format!("posts/{slug}/");
    let resource = built.snapshot.resource(&route).expect("the post page");
    String::from_utf8(resource.identity.body.to_vec()).expect("UTF-8 page")
}

/// HTML the way the pipeline renders Markdown, computed here without storing anything
/// (`source` is the post's path in the posts folder, which its links to files resolve
/// against).
fn fresh_markdown(markdown: &str, source: &str, slug: &str) -> String {
    let options = pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_FOOTNOTES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
        | pulldown_cmark::Options::ENABLE_TASKLISTS;
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, options),
    );
    let post_url = Url::parse(&format!("https://example.org/posts/{slug}/")).expect("a URL");
    let site_base = Url::parse("https://example.org/").expect("a URL");
    let urls = UrlBase {
        source,
        post_url: &post_url,
        site_base: &site_base,
    };
    clean_html(&html, &urls).html
}

/// HTML the way the pipeline renders plain-text paragraphs.
fn fresh_plain(paragraphs: &[String]) -> String {
    paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>\n", escape_text(p)))
        .collect()
}

/// Where two texts first differ, briefly (bodies here are hundreds of kilobytes).
fn difference(seen: &str, expected: &str) -> Option<String> {
    if seen == expected {
        return None;
    }
    let at = seen
        .char_indices()
        .zip(expected.chars())
        .find(|((_, a), b)| a != b)
        .map_or(seen.len().min(expected.len()), |((i, _), _)| i);
    let near = |s: &str| {
        s.get(at..)
            .unwrap_or("")
            .chars()
            .take(60)
            .collect::<String>()
    };
    Some(format!(
        "{} bytes seen, {} expected; from byte {at}: {:?} instead of {:?}",
        seen.len(),
        expected.len(),
        near(seen),
        near(expected)
    ))
}

/// Asserts every format and the page show exactly `expected` and a non-empty summary.
fn assert_published_whole(built: &Built, slug: &str, expected: &str) -> Result<(), String> {
    if expected.trim().is_empty() {
        return Err("the test post has no text".into());
    }
    for (route, content, summary) in seen(built) {
        // feed-rs trims the text of Atom elements; the HTML is the same either way.
        if let Some(diff) = difference(content.trim(), expected.trim()) {
            return Err(format!("{route}: content is not a fresh render: {diff}"));
        }
        if summary.trim().is_empty() {
            return Err(format!("{route}: empty summary"));
        }
    }
    if !page(built, slug).contains(expected) {
        return Err(format!("posts/{slug}/ lacks the body"));
    }
    Ok(())
}

#[test]
fn repetitive_post_keeps_its_body() {
    let row = "| 2024-01-01 | sensor-7 | 21.5 °C | ok |\n";
    let table = format!(
        "| day | sensor | value | state |\n|---|---|---|---|\n{}",
        row.repeat(3000)
    );
    let markdown = format!("A week of readings from the greenhouse, every minute.\n\n{table}");
    let text = format!("---\ntitle: Readings\ndate: 2024-01-02\n---\n{markdown}");
    let built = build(&[("readings.md", text)]);
    assert_published_whole(
        &built,
        "readings",
        &fresh_markdown(&markdown, "readings.md", "readings"),
    )
    .unwrap();

    let listing = format!("```\n{}```\n", "    print(\"hello, world\")\n".repeat(5000));
    let markdown = format!("The same line, many times.\n\n{listing}");
    let text = format!("---\ntitle: Listing\ndate: 2024-01-02\n---\n{markdown}");
    let built = build(&[("listing.md", text)]);
    assert_published_whole(
        &built,
        "listing",
        &fresh_markdown(&markdown, "listing.md", "listing"),
    )
    .unwrap();

    let paragraphs: Vec<String> = (0..2000)
        .map(|_| "All work and no play makes Jack a dull boy.".to_string())
        .collect();
    let text = format!("2 January 2024\n\nJack\n\n{}\n", paragraphs.join("\n\n"));
    let built = build(&[("jack.txt", text)]);
    assert_published_whole(&built, "jack", &fresh_plain(&paragraphs)).unwrap();
}

/// A few words.
fn words(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z]{1,8}", 1..max).prop_map(|w| w.join(" "))
}

/// One Markdown block (never a level-1 heading, which could become the title), repeated
/// up to thousands of times: the repetitive posts that compress best.
fn markdown_block() -> impl Strategy<Value = String> {
    let block = prop_oneof![
        words(30).prop_map(|w| format!("{w}.\n\n")),
        words(4).prop_map(|w| format!("| {w} | 1 | 2.5 |\n")),
        words(6).prop_map(|w| format!("    let x = \"{w}\";\n")),
        words(6).prop_map(|w| format!("- {w}\n")),
        words(10).prop_map(|w| format!("> {w}\n\n")),
        words(3).prop_map(|w| format!("## {w}\n\n")),
    ];
    let times = prop_oneof![3 => 1usize..4, 1 => 100usize..3000];
    (block, times).prop_map(|(block, times)| {
        let body = block.repeat(times);
        match body.starts_with('|') {
            true => format!("| a | b | c |\n|---|---|---|\n{body}\n"),
            false => format!("{body}\n"),
        }
    })
}

/// A Markdown body: a paragraph first (the summary), then blocks.
fn markdown_body() -> impl Strategy<Value = String> {
    (words(20), prop::collection::vec(markdown_block(), 0..4))
        .prop_map(|(lead, blocks)| format!("Lead {lead}.\n\n{}", blocks.concat()))
}

/// Plain-text paragraphs, some repeated thousands of times.
fn plain_paragraphs() -> impl Strategy<Value = Vec<String>> {
    let paragraph = (words(20), prop_oneof![3 => 1usize..4, 1 => 100usize..3000]);
    prop::collection::vec(paragraph, 1..4).prop_map(|groups| {
        groups
            .into_iter()
            .flat_map(|(w, times)| std::iter::repeat_n(format!("Entry {w}."), times))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Titled posts keep their Markdown compressed until shown; untitled ones render at
    /// once: both must reach every format and the page whole.
    #[test]
    fn every_markdown_post_is_published_with_its_whole_text(
        body in markdown_body(),
        titled in any::<bool>(),
    ) {
        let title = if titled { "title: Generated\n" } else { "" };
        let text = format!("---\n{title}date: 2024-01-02\n---\n{body}");
        let built = build(&[("generated.md", text)]);
        let expected = fresh_markdown(&body, "generated.md", "generated");
        prop_assert_eq!(assert_published_whole(&built, "generated", &expected), Ok(()));
    }

    #[test]
    fn every_plain_text_post_is_published_with_its_whole_text(
        paragraphs in plain_paragraphs(),
    ) {
        let text = format!("2 January 2024\n\nGenerated\n\n{}\n", paragraphs.join("\n\n"));
        let built = build(&[("generated.txt", text)]);
        let expected = fresh_plain(&paragraphs);
        prop_assert_eq!(assert_published_whole(&built, "generated", &expected), Ok(()));
    }
}

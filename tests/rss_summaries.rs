//! RSS `<description>` is HTML to readers (feedparser, and RSS practice at large): a post's
//! plain-text summary must reach them as text, never as markup.
//!
//! - regression: an escaped `&lt;img onerror=…&gt;` in Markdown, inline code holding
//!   `<script>`, and angle brackets in a `.txt` article went into the CDATA unescaped, so
//!   feedparser read live elements; now the summary feedparser gives holds the literal
//!   text and no element, like Atom's and JSON Feed's;
//! - over generated summaries (front matter `summary`, a Markdown first paragraph, a `.txt`
//!   paragraph, with every nasty piece of `tests/properties.rs` and more), the RSS
//!   description holds no `<` and its HTML decodes to exactly the Atom summary's text.

mod common;

use std::path::PathBuf;

use common::feeds::{config, feed_rs, feedparser, fixed_now, scan};
use common::sites::yaml_quoted;
use dropfeed::pipeline::Built;
use proptest::prelude::*;
use tempfile::TempDir;

const CONFIG: &str = "base_url = \"https://example.org/\"\n";

/// Builds posts in a temporary folder; keeps the folder (the export is written into it).
fn build(posts: &[(&str, String)]) -> (TempDir, Built) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("posts");
    std::fs::create_dir(&folder).expect("posts folder");
    for (name, text) in posts {
        std::fs::write(folder.join(name), text).expect("write a post");
    }
    let config = config(CONFIG);
    let library = scan(&folder, &config);
    let built =
        common::feeds::build_library(&library, &config, fixed_now(), None).expect("renders");
    (dir, built)
}

/// Decodes the character references an HTML text may hold.
fn html_text(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Writes the subscription feeds to files for feedparser.
fn feed_files(dir: &TempDir, built: &Built) -> Vec<PathBuf> {
    ["feed.xml", "atom.xml", "feed.json"]
        .iter()
        .map(|route| {
            let path = dir.path().join(route);
            let body = &built.snapshot.get(route).expect("a feed").identity.body;
            std::fs::write(&path, body).expect("write the feed");
            path
        })
        .collect()
}

#[test]
fn markup_in_a_plain_text_summary_stays_text_in_rss() {
    let cases = [
        (
            "escaped.md",
            "---\ntitle: Escaped\ndate: 2024-01-03\n---\nBeware &lt;img src=x onerror=alert(1)&gt; here.\n",
            "Beware <img src=x onerror=alert(1)> here.",
        ),
        (
            "code.md",
            "---\ntitle: Code\ndate: 2024-01-02\n---\nRun `<script>alert(2)</script>` now.\n",
            "Run <script>alert(2)</script> now.",
        ),
        (
            "angles.txt",
            "1 January 2024\n\nAngles\n\nIf a < b && c > d then <b>bold</b>.\n",
            "If a < b && c > d then <b>bold</b>.",
        ),
    ];
    let posts: Vec<(&str, String)> = cases.iter().map(|(n, t, _)| (*n, t.to_string())).collect();
    let (dir, built) = build(&posts);
    let files = feed_files(&dir, &built);
    let parsed = feedparser(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    for result in &parsed {
        assert_eq!(result["bozo"], false, "{result}");
        let entries = result["entries"].as_array().expect("entries");
        for (entry, (name, _, literal)) in entries.iter().zip(&cases) {
            let summary = entry["summary"].as_str().expect("a summary");
            let seen = match result["version"].as_str() {
                // RSS descriptions are HTML to feedparser: no element, the text literal.
                Some("rss20") => {
                    assert!(!summary.contains('<'), "{name}: markup in {summary:?}");
                    html_text(summary)
                }
                // Atom `type="text"` and JSON Feed summaries are plain text already.
                _ => summary.to_string(),
            };
            assert_eq!(seen, *literal, "{name} in {}", result["version"]);
        }
    }
}

/// Pieces that are markup, references or CDATA syntax.
const NASTY: &[&str] = &[
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&#60;",
    "&#x3C;",
    "<script>",
    "</p>",
    "<img src=x onerror=alert(1)>",
    "<!--",
    "-->",
    "]]>",
    "<![CDATA[",
    "\"",
    "'",
    "`",
    "\\",
    "*",
    "_",
    "[a](b)",
    "<b>",
    "&nbsp;",
    "é",
];

fn nasty_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(NASTY).prop_map(String::from),
        2 => "[a-zA-Z ]{1,8}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 1..30).prop_map(|p| p.concat().replace(['\0', '\r', '\n'], " "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_rss_summary_ever_yields_markup(text in nasty_text(), kind in 0..3u8) {
        let (name, post) = match kind {
            0 => ("s.md", format!("---\ntitle: S\ndate: 2024-01-02\nsummary: {}\n---\nBody.\n", yaml_quoted(&text))),
            1 => ("s.md", format!("---\ntitle: S\ndate: 2024-01-02\n---\nLead {text}\n")),
            _ => ("s.txt", format!("2 January 2024\n\nS\n\nLead {text}\n")),
        };
        let (_dir, built) = build(&[(name, post)]);
        let entry = |route: &str| {
            let body = &built.snapshot.get(route).expect("a feed").identity.body;
            feed_rs(body, route).entries.into_iter().next().expect("the entry")
        };
        let rss = entry("feed.xml").summary.map(|s| s.content).unwrap_or_default();
        let atom = entry("atom.xml").summary.map(|s| s.content).unwrap_or_default();
        prop_assert!(!rss.contains('<'), "markup in the RSS description {:?}", rss);
        let decoded = html_text(&rss);
        prop_assert_eq!(decoded.trim(), atom.trim());
    }
}

//! Front matter fields that used to be published as written, whatever they held:
//!
//! - a lead `image` or `enclosure` URL with a `javascript:`, `data:`, `file:` or any other
//!   non-http(s) scheme fails that post with its file and line (`dropfeed check` exits 1);
//!   the other posts, including one with a relative image, are published (regression:
//!   they went into JSON Feed's `image`, the RSS/Atom enclosure and the page's `<img>`);
//! - tags that slug to nothing (`!!!`, `..`) are left out with a warning naming them, not
//!   merged into a tag called `tag` (regression: every such tag became `/tags/tag/`);
//! - a post with 5,000 tags keeps the first 100 (`post::MAX_TAGS`) with a warning naming
//!   the file, so the site has 100 tag feeds, not 5,000 (regression: quadratic dedupe and
//!   one feed per tag made such a post cost minutes and gigabytes).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::feeds::{config, feed_rs, fixed_now};
use common::sites::yaml_quoted;
use dropfeed::load::Library;
use dropfeed::pipeline::Built;
use dropfeed::post::MAX_TAGS;
use proptest::prelude::*;
use tempfile::TempDir;

const CONFIG: &str = "base_url = \"https://example.org/\"\n";

/// A temporary `posts/` folder holding the given files.
fn posts_folder(files: &[(&str, String)]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("create posts/");
    for (name, text) in files {
        std::fs::write(posts.join(name), text).expect("write a post");
    }
    (dir, posts)
}

/// `dropfeed check` on a folder: exit code and standard output.
fn check(posts: &Path) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["check", "--posts"])
        .arg(posts)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), stdout)
}

/// The lines `check` printed about one file.
fn about<'a>(stdout: &'a str, posts: &Path, name: &str) -> Vec<&'a str> {
    let prefix = format!("{}:", posts.join(name).display());
    stdout.lines().filter(|l| l.starts_with(&prefix)).collect()
}

/// Builds a folder as of [`fixed_now`], whatever its posts' errors.
fn build(posts: &Path) -> Built {
    let config = config(CONFIG);
    let mut library = Library::new(posts, &config);
    library.scan().expect("the folder exists");
    common::feeds::build_library(&library, &config, fixed_now(), None).expect("the site renders")
}

fn post(title: &str, fields: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: 2024-01-02\n{fields}---\n{title} body.\n")
}

#[test]
fn script_and_data_urls_in_image_and_enclosure_fail_that_post() {
    let enclosure =
        |url: &str| format!("enclosure:\n  url: \"{url}\"\n  type: audio/mpeg\n  length: 10\n");
    let bad = [
        (
            "js-image.md",
            "image: \"javascript:alert(1)\"\n".to_string(),
            4,
        ),
        (
            "data-image.md",
            "image: \"data:image/svg+xml,<svg onload=alert(1)>\"\n".to_string(),
            4,
        ),
        (
            "spaced-image.md",
            "image: \" JavaScript:alert(1)\"\n".to_string(),
            4,
        ),
        ("js-enclosure.md", enclosure("javascript:alert(1)"), 5),
        ("file-enclosure.md", enclosure("file:///etc/passwd"), 5),
        ("ftp-enclosure.md", enclosure("ftp://example.org/a.mp3"), 5),
        (
            "bad-type.md",
            enclosure("a.mp3").replace("audio/mpeg", "\"audio/<b>\""),
            6,
        ),
    ];
    let mut files: Vec<(&str, String)> = bad
        .iter()
        .map(|(name, fields, _)| (*name, post(name, fields)))
        .collect();
    files.push(("good.md", post("Good", "image: cover.jpg\n")));
    files.push((
        "episode.md",
        post("Episode", &enclosure("https://cdn.example.org/1.mp3")),
    ));
    let (_dir, posts) = posts_folder(&files);
    let (code, stdout) = check(&posts);
    assert_eq!(code, Some(1), "{stdout}");
    for (name, _, line) in &bad {
        let lines = about(&stdout, &posts, name);
        let expected = format!("{}:{line}: error: ", posts.join(name).display());
        assert!(
            lines.iter().any(|l| l.starts_with(&expected)),
            "{expected} in {lines:?}\n{stdout}"
        );
    }
    for name in ["good.md", "episode.md"] {
        let lines = about(&stdout, &posts, name);
        assert!(lines.iter().all(|l| !l.contains("error")), "{lines:?}");
    }
    let built = build(&posts);
    let json = &built
        .snapshot
        .get("feed.json")
        .expect("JSON Feed")
        .identity
        .body;
    let feed = feed_rs(json, "feed.json");
    let titles: Vec<_> = feed
        .entries
        .iter()
        .filter_map(|e| e.title.as_ref())
        .map(|t| t.content.as_str())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    let text = String::from_utf8_lossy(json);
    // A relative image is a file beside the post: it resolves against the post's file.
    assert!(
        text.contains("https://example.org/files/cover.jpg"),
        "{text}"
    );
    assert!(
        !text.to_lowercase().contains("javascript:")
            && !text.contains("data:")
            && !text.contains("file:"),
        "{text}"
    );
}

/// The categories of the one entry titled `title` in a feed, as feed-rs reads them.
fn categories(built: &Built, route: &str, title: &str) -> Vec<String> {
    let bytes = &built.snapshot.get(route).expect("a feed").identity.body;
    let feed = feed_rs(bytes, route);
    let entry = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().is_some_and(|t| t.content == title))
        .unwrap_or_else(|| panic!("{title} not in {route}"));
    entry.categories.iter().map(|c| c.term.clone()).collect()
}

#[test]
fn tags_that_slug_to_nothing_are_left_out_not_merged() {
    let (_dir, posts) = posts_folder(&[
        ("odd.md", post("Odd", "tags: [\"!!!\", \"..\", \"rust\"]\n")),
        ("tagged.md", post("Tagged", "tags: [tag]\n")),
    ]);
    let (code, stdout) = check(&posts);
    assert_eq!(code, Some(0), "{stdout}");
    let lines = about(&stdout, &posts, "odd.md");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("warning") && l.contains("`!!!`") && l.contains("`..`")),
        "{lines:?}"
    );
    let built = build(&posts);
    assert_eq!(categories(&built, "atom.xml", "Odd"), ["rust"]);
    let tag_feed = &built
        .snapshot
        .get("tags/tag/atom.xml")
        .expect("the tag's feed")
        .identity
        .body;
    let titles: Vec<String> = feed_rs(tag_feed, "tags/tag/atom.xml")
        .entries
        .into_iter()
        .filter_map(|e| e.title.map(|t| t.content))
        .collect();
    assert_eq!(
        titles,
        ["Tagged"],
        "only the post tagged `tag` is in its feed"
    );
    assert_eq!(built.site.tags.keys().collect::<Vec<_>>(), ["rust", "tag"]);
}

#[test]
fn five_thousand_tags_are_capped_with_a_warning() {
    let tags: Vec<String> = (0..5000).map(|i| format!("\"topic {i}\"")).collect();
    let fields = format!("tags: [{}, \"topic 1\"]\n", tags.join(", "));
    let (_dir, posts) = posts_folder(&[("many.md", post("Many", &fields))]);
    let (code, stdout) = check(&posts);
    assert_eq!(code, Some(0), "{stdout}");
    let lines = about(&stdout, &posts, "many.md");
    assert!(
        lines.iter().any(|l| l.contains("warning")
            && l.contains("5000 different tags")
            && l.contains("first 100")),
        "{lines:?}"
    );
    let built = build(&posts);
    let expected: Vec<String> = (0..MAX_TAGS).map(|i| format!("topic {i}")).collect();
    assert_eq!(categories(&built, "feed.xml", "Many"), expected);
    assert_eq!(built.site.tags.len(), MAX_TAGS);
    assert!(built.snapshot.get("tags/topic-99/atom.xml").is_some());
    assert!(built.snapshot.get("tags/topic-100/atom.xml").is_none());
}

/// Pieces that have broken feed writers, URL parsers and HTML somewhere.
const NASTY: &[&str] = &[
    "javascript:alert(1)",
    "data:,x",
    "//host/x",
    "http://[::1",
    "https://example.org/a b",
    "../../etc",
    "]]>",
    "<script>",
    "&",
    "\"",
    "'",
    "\\",
    "\u{1}",
    "\u{b}",
    "\u{7f}",
    "\u{fffe}",
    "\u{feff}",
    "😀",
    " ",
    "\t",
    "-",
    ":",
    ";",
    "/",
    "audio/mpeg",
    "en",
    "pt-BR",
];

fn nasty_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(NASTY).prop_map(String::from),
        2 => "[a-zA-Z0-9 ]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat().replace(['\0', '\n', '\r'], ""))
}

/// Characters XML 1.0 does not allow anywhere in a document.
fn xml_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever a front matter field holds, the post renders into well-formed feeds, or
    /// fails alone with a line.
    #[test]
    fn any_field_value_renders_or_fails_that_post(
        values in prop::collection::vec(nasty_value(), 6),
        fields in prop::sample::subsequence(&[0usize, 1, 2, 3, 4, 5][..], 1..=6),
    ) {
        let names = ["id", "slug", "lang", "image", "url", "type"];
        let mut front = String::new();
        let mut enclosure = Vec::new();
        for &i in &fields {
            match names[i] {
                "url" | "type" => enclosure.push(i),
                name => front.push_str(&format!("{name}: {}\n", yaml_quoted(&values[i]))),
            }
        }
        if !enclosure.is_empty() {
            let value = |i: usize, fallback: &str| match enclosure.contains(&i) {
                true => yaml_quoted(&values[i]),
                false => fallback.to_string(),
            };
            front.push_str(&format!(
                "enclosure:\n  url: {}\n  type: {}\n  length: 1\n",
                value(4, "a.mp3"),
                value(5, "audio/mpeg")
            ));
        }
        let text = format!("---\ntitle: Fields\ndate: 2024-01-02\n{front}---\nBody.\n");
        let lines = text.lines().count();
        let (_dir, posts) = posts_folder(&[("fields.md", text.clone())]);
        let config = config(CONFIG);
        let mut library = Library::new(&posts, &config);
        library.scan().expect("the folder exists");
        if let Some(error) = library.errors().first() {
            prop_assert!((1..=lines).contains(&error.line), "{error}\n{text}");
            return Ok(());
        }
        let built = common::feeds::build_library(&library, &config, fixed_now(), None);
        prop_assert!(built.is_ok(), "{:?}\n{text}", built.err());
        let built = built.unwrap();
        for route in ["feed.xml", "atom.xml", "feed.json"] {
            let body = &built.snapshot.get(route).expect("a feed").identity.body;
            let shown = String::from_utf8_lossy(body);
            prop_assert!(!shown.chars().any(xml_forbidden), "{route}: {shown}");
            let feed = feed_rs::parser::parse(&body[..]);
            prop_assert!(feed.is_ok(), "{route}: {:?}\n{text}\n{shown}", feed.err());
            prop_assert_eq!(feed.unwrap().entries.len(), 1);
        }
        let json: serde_json::Value =
            serde_json::from_slice(&built.snapshot.get("feed.json").expect("JSON").identity.body)
                .expect("JSON Feed");
        let item = &json["items"][0];
        for url in [&item["image"], &item["attachments"][0]["url"]] {
            if let Some(url) = url.as_str() {
                prop_assert!(url.starts_with("https://") || url.starts_with("http://"), "{url}");
            }
        }
        let page = built.snapshot.resource("posts/fields/").or_else(|| {
            built.site.entries.first().and_then(|e| built.snapshot.resource(e.page_path()))
        });
        prop_assert!(page.is_some());
    }
}

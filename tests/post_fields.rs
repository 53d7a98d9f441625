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
use dropfeed::load::Library;
use dropfeed::pipeline::{self, Built};
use dropfeed::post::MAX_TAGS;
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
    pipeline::build(&library, &config, fixed_now(), None).expect("the site renders")
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
    assert!(
        text.contains("https://example.org/posts/good/cover.jpg"),
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

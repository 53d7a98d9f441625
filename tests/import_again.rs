//! Importing again (issue 17): after an author edited one imported post and deleted another,
//! a re-import changes nothing (the edit stays, the deleted post is not brought back, the
//! ledger is byte for byte the same) and says what it skipped; a source that gained an item
//! and changed an item nobody touched brings the new one in and updates the other. A file
//! already at an imported post's name is never overwritten.
//!
//! Property: any HTML body, written by the import, reaches readers exactly as the same HTML
//! sanitised on its own: CommonMark never reads it as Markdown (blank lines, indented lines,
//! `*`, `_`, `<pre>`, `\r` included).

mod common;

use std::path::{Path, PathBuf};

use common::feeds::config;
use dropfeed::import::{self, html_block, Action, Done};
use proptest::prelude::*;
use url::Url;

const PODCAST: &str = include_str!("fixtures/import/podcast.rss");

fn run(source: &Path, posts: &Path) -> Vec<Done> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config_file = posts.with_file_name("dropfeed.toml");
    let source = source.to_str().unwrap();
    let report = runtime.block_on(import::run(source, posts, &config(""), &config_file));
    report.expect("the import succeeds").done
}

fn action_of(done: &[Done], file: &str) -> Action {
    let found = done.iter().find(|d| d.file.as_deref() == Some(file));
    found
        .unwrap_or_else(|| panic!("no {file} in {done:?}"))
        .action
        .clone()
}

#[test]
fn reimport_after_an_author_edited_and_deleted_posts_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (source, posts): (PathBuf, PathBuf) =
        (dir.path().join("feed.rss"), dir.path().join("posts"));
    // A file already where episode 2 would go: never overwritten, the import picks `-2`.
    std::fs::create_dir_all(&posts).unwrap();
    std::fs::write(
        posts.join("2024-05-27-2.md"),
        "---\ntitle: Mine\n---\nMine.\n",
    )
    .unwrap();
    std::fs::write(&source, PODCAST).unwrap();
    let first = run(&source, &posts);
    assert!(
        first.iter().all(|d| d.action == Action::Imported),
        "{first:?}"
    );
    assert_eq!(
        std::fs::read_to_string(posts.join("2024-05-27-2.md")).unwrap(),
        "---\ntitle: Mine\n---\nMine.\n"
    );
    assert_eq!(action_of(&first, "2024-05-27-2-2.md"), Action::Imported);

    let edited = posts.join("2024-06-03-3.md");
    let text = std::fs::read_to_string(&edited)
        .unwrap()
        .replace("Episode 3: Three", "Episode 3, retitled");
    std::fs::write(&edited, &text).unwrap();
    std::fs::remove_file(posts.join("2024-05-20-1.md")).unwrap();
    let ledger = std::fs::read(posts.join(".dropfeed/ids.tsv")).unwrap();

    let again = run(&source, &posts);
    let skipped = |why: &str| Action::Skipped(why.to_string());
    assert_eq!(
        action_of(&again, "2024-06-03-3.md"),
        skipped("edited since it was imported")
    );
    assert_eq!(
        action_of(&again, "2024-05-20-1.md"),
        skipped("deleted or moved since it was imported")
    );
    assert_eq!(action_of(&again, "2024-05-27-2-2.md"), Action::Unchanged);
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), text);
    assert!(!posts.join("2024-05-20-1.md").exists());
    assert_eq!(
        std::fs::read(posts.join(".dropfeed/ids.tsv")).unwrap(),
        ledger
    );

    // The source changes: a new episode, and episode 2 (untouched here) renamed there.
    let changed = PODCAST.replace("Episode 2: Two", "Episode 2: Two, fixed").replace(
        "<item>",
        "<item><title>Episode 4</title><guid>pod-ep-4</guid><pubDate>Mon, 10 Jun 2024 06:00:00 +0000</pubDate><description>Four.</description></item>\n<item>",
    );
    std::fs::write(&source, changed).unwrap();
    let third = run(&source, &posts);
    assert_eq!(
        action_of(&third, "2024-06-10-episode-4.md"),
        Action::Imported
    );
    assert_eq!(action_of(&third, "2024-05-27-2-2.md"), Action::Updated);
    assert_eq!(
        action_of(&third, "2024-06-03-3.md"),
        skipped("edited since it was imported")
    );
    let updated = std::fs::read_to_string(posts.join("2024-05-27-2-2.md")).unwrap();
    assert!(updated.contains("Episode 2: Two, fixed"), "{updated}");
}

/// HTML-ish text: tags, text with Markdown's special characters, blank and indented lines.
fn html() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<pre>".to_string()),
        Just("</pre>".to_string()),
        Just("<div class=\"x\">".to_string()),
        Just("</div>".to_string()),
        Just("<!--more-->".to_string()),
        Just("<a title=\"a\n\nb\" href=\"/x\">".to_string()),
        Just("</a>".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("    ".to_string()),
        Just("\t".to_string()),
        Just(" \t \n".to_string()),
        Just("&amp;".to_string()),
        Just("&#10;".to_string()),
        "[a-z*_#>`~\\[\\]()!|-]{1,12}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn imported_html_reaches_readers_as_the_same_html_sanitised(body in html()) {
        let text = format!("+++\ntitle = \"t\"\n+++\n{}", html_block(&body));
        let ctx = dropfeed::load::parse_context(&config("base_url = \"https://ex.org/\"\n"));
        let post = dropfeed::post::parse("p.md", Path::new("p.md"), &text, &ctx).unwrap();
        let served = post.body().unwrap().html.text().unwrap();
        let post_url = Url::parse(&post.link).unwrap();
        let site_base = Url::parse("https://ex.org/").unwrap();
        let base = dropfeed::post::html::UrlBase {
            source: "p.md",
            post_url: &post_url,
            site_base: &site_base,
        };
        // As HTML itself reads line ends (a `\r` at the end of the body must not pair with
        // the wrapper's `\n`).
        let lines = body.replace("\r\n", "\n").replace('\r', "\n");
        let expected = dropfeed::post::html::clean_html(&format!("<div>\n{lines}\n</div>\n"), &base).html;
        prop_assert_eq!(served, expected, "{}", text);
    }
}

//! `dropfeed import` from each kind of source (issue 17), fixtures written for these tests in
//! `tests/fixtures/import/`: a WordPress export with a draft, a private post, a page and an
//! attachment; a classic Blogger export with settings, a draft and a comment; a podcast's
//! RSS feed with enclosures; an Atom feed split over RFC 5005 archives (whose last archive
//! links back to the first: a loop) served by a test server on 127.0.0.1:0.
//!
//! For each, the site built from the imported posts serves, in RSS, Atom and JSON Feed and
//! as feed-rs and Python feedparser read them, exactly the published entries of the source
//! with their original ids, titles, publication dates and tags: no draft, no page, no
//! comment, nothing twice. Imported HTML reaches readers as it was (`*` stays a star, a blank
//! line in `<pre>` stays). Importing again writes nothing.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::feeds::{build, config, feed_rs, feedparser, fixed_now};
use common::old_site::{Document, OldSite};
use dropfeed::import::{self, Action};
use dropfeed::pipeline::Built;
use tempfile::TempDir;

const CONFIG: &str = "base_url = \"https://new.example/\"\n";

/// One entry as a reader sees it: id, title, publication date (UTC), tags.
type Seen = (String, String, String, BTreeSet<String>);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn seen(id: &str, title: &str, published: &str, tags: &[&str]) -> Seen {
    let tags = tags.iter().map(|t| t.to_string()).collect();
    (id.into(), title.into(), published.into(), tags)
}

/// Imports `source` into a fresh posts folder.
async fn import_into(source: &str) -> (TempDir, PathBuf, import::Report) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    let report = import::run(
        source,
        &posts,
        &config(CONFIG),
        &dir.path().join("dropfeed.toml"),
    )
    .await
    .expect("the import succeeds");
    (dir, posts, report)
}

/// What each feed format serves, by feed-rs and (when installed) feedparser; all must agree.
fn served(built: &Built, dir: &Path) -> BTreeSet<Seen> {
    let mut all: Vec<(String, BTreeSet<Seen>)> = Vec::new();
    let mut files = Vec::new();
    for route in common::feeds::FEED_FILES {
        let bytes = built
            .snapshot
            .get(route)
            .expect("a feed")
            .identity
            .body
            .clone();
        let feed = feed_rs(&bytes, route);
        let entries = feed.entries.iter().map(|e| {
            let title = e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default();
            let published = e.published.expect("a publication date");
            let date = published.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let tags = e.categories.iter().map(|c| c.term.clone()).collect();
            (e.id.clone(), title, date, tags)
        });
        all.push((format!("feed-rs {route}"), entries.collect()));
        let path = dir.join(route);
        std::fs::write(&path, &bytes).expect("write the feed");
        files.push(path);
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    for (parsed, route) in feedparser(&paths).iter().zip(common::feeds::FEED_FILES) {
        let entries = parsed["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                let text = |key: &str| e[key].as_str().unwrap_or_default().to_string();
                let tags = e["tags"].as_array().expect("tags");
                let tags = tags
                    .iter()
                    .map(|t| t.as_str().unwrap_or_default().to_string());
                (text("id"), text("title"), text("published"), tags.collect())
            });
        all.push((format!("feedparser {route}"), entries.collect()));
    }
    let (first_name, first) = all[0].clone();
    for (name, entries) in &all {
        assert_eq!(entries, &first, "{name} and {first_name} differ");
    }
    first
}

/// Builds the imported folder and checks what readers get; then imports again and checks
/// that nothing is written.
async fn check(source: &str, expected: &[Seen]) -> (TempDir, PathBuf, Built) {
    let (dir, posts, report) = import_into(source).await;
    let built = build(&posts, CONFIG, fixed_now());
    let expected: BTreeSet<Seen> = expected.iter().cloned().collect();
    assert_eq!(served(&built, dir.path()), expected, "{source}");
    assert!(built.site.notices.is_empty(), "{:?}", built.site.notices);
    let again = import::run(
        source,
        &posts,
        &config(CONFIG),
        &dir.path().join("dropfeed.toml"),
    )
    .await
    .expect("the second import succeeds");
    assert_eq!(again.done.len(), report.done.len());
    for (done, first) in again.done.iter().zip(&report.done) {
        match &first.action {
            Action::Imported => assert_eq!(done.action, Action::Unchanged, "{done:?}"),
            other => assert_eq!(&done.action, other, "{done:?}"),
        }
    }
    (dir, posts, built)
}

fn content_of(built: &Built, title: &str) -> String {
    let feed = feed_rs(
        &built.snapshot.get("atom.xml").unwrap().identity.body,
        "atom.xml",
    );
    let entry = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content == title);
    let entry = entry.unwrap_or_else(|| panic!("no entry {title}"));
    entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_wordpress_export_keeps_its_ids_and_its_drafts_stay_drafts() {
    let source = fixture("wordpress.xml");
    let expected = [
        seen(
            "https://wp.example/?p=1",
            "Hello world!",
            "2021-03-04T09:15:00Z",
            &["News", "Intro"],
        ),
        seen(
            "https://wp.example/?p=7",
            "Blocks & \"quotes\"",
            "2022-05-06T18:00:00Z",
            &["Gutenberg"],
        ),
    ];
    let (_dir, posts, built) = check(source.to_str().unwrap(), &expected).await;
    let drafts: Vec<&String> = built.site.held.keys().collect();
    assert_eq!(
        drafts.len(),
        2,
        "the draft and the private post: {drafts:?}"
    );
    let draft = std::fs::read_to_string(posts.join("2022-07-01-only-for-me.md")).unwrap();
    assert!(draft.contains("draft = true"), "{draft}");
    let html = content_of(&built, "Hello world!");
    assert!(
        html.contains("with *asterisks* &amp; an ampersand.</p>"),
        "{html}"
    );
    assert!(html.contains("<pre>indented\n\n    code</pre>"), "{html}");
    let post = std::fs::read_to_string(posts.join("2021-03-04-hello-world.md")).unwrap();
    assert!(
        post.contains("aliases = [\"/2021/03/04/hello-world/\"]"),
        "{post}"
    );
    assert!(post.contains("summary = \"Welcome to WordPress."), "{post}");
}

#[tokio::test]
async fn a_blogger_export_keeps_its_ids_without_settings_drafts_or_comments() {
    let source = fixture("blogger.xml");
    let expected = [
        seen(
            "tag:blogger.com,1999:blog-1234.post-1001",
            "Monday in Jakarta",
            "2022-02-14T17:30:00Z",
            &["travel", "Jakarta"],
        ),
        seen(
            "tag:blogger.com,1999:blog-1234.post-1002",
            "Second post",
            "2022-03-01T16:00:00Z",
            &[],
        ),
    ];
    let (_dir, _posts, built) = check(source.to_str().unwrap(), &expected).await;
    assert_eq!(built.site.held.len(), 1, "the draft: {:?}", built.site.held);
    let html = content_of(&built, "Monday in Jakarta");
    assert!(html.contains("<b>Bold</b> and &amp; more."), "{html}");
}

#[tokio::test]
async fn a_podcast_feed_keeps_its_ids_and_enclosures() {
    let source = fixture("podcast.rss");
    let expected = [
        seen(
            "pod-ep-3",
            "Episode 3: Three",
            "2024-06-03T06:00:00Z",
            &["Talk", "Guests"],
        ),
        seen(
            "pod-ep-2",
            "Episode 2: Two",
            "2024-05-27T06:00:00Z",
            &["Talk"],
        ),
        seen(
            "https://pod.example/episodes/1/",
            "Episode 1: One",
            "2024-05-20T06:00:00Z",
            &[],
        ),
    ];
    let (_dir, _posts, built) = check(source.to_str().unwrap(), &expected).await;
    let feed = feed_rs(
        &built.snapshot.get("feed.xml").unwrap().identity.body,
        "feed.xml",
    );
    let mut enclosures: Vec<(String, String, u64)> = feed
        .entries
        .iter()
        .flat_map(|e| e.media.iter().flat_map(|m| &m.content))
        .map(|c| {
            let url = c.url.as_ref().unwrap().to_string();
            (
                url,
                c.content_type.as_ref().unwrap().to_string(),
                c.size.unwrap_or(0),
            )
        })
        .collect();
    enclosures.sort();
    assert_eq!(
        enclosures,
        [
            (
                "https://pod.example/media/ep1.mp3".into(),
                "audio/mpeg".into(),
                1_000_000
            ),
            (
                "https://pod.example/media/ep2.m4a".into(),
                "audio/x-m4a".into(),
                2_000_000
            ),
            (
                "https://pod.example/media/ep3.mp3".into(),
                "audio/mpeg".into(),
                3_000_000
            ),
        ]
    );
}

#[tokio::test]
async fn an_atom_feed_split_over_archives_is_imported_whole_once() {
    let doc = |name: &str| Document {
        content_type: "application/atom+xml",
        body: std::fs::read_to_string(fixture(name)).unwrap(),
    };
    let site = OldSite::start(vec![
        ("/atom", doc("atom-current.xml")),
        ("/archive/2.xml", doc("atom-archive-2.xml")),
        ("/archive/1.xml", doc("atom-archive-1.xml")),
    ])
    .await;
    let id = |n: u8| format!("urn:uuid:00000000-0000-0000-0000-00000000000{n}");
    let entry = |n: u8, month: u8, tags: &[&str]| {
        let date = format!("2023-{month:02}-01T10:00:00Z");
        seen(&id(n), &format!("Atom entry {n} <{n}>"), &date, tags)
    };
    let expected = [
        entry(6, 9, &["notes", "late"]),
        entry(5, 8, &["notes"]),
        entry(4, 7, &["mid"]),
        entry(3, 6, &[]),
        entry(2, 5, &["early"]),
        entry(1, 4, &["early", "first"]),
    ];
    let (dir, _posts, _built) = check(&site.url("/atom"), &expected).await;
    // The old feed's address now redirects to ours.
    let config = std::fs::read_to_string(dir.path().join("dropfeed.toml")).unwrap();
    assert_eq!(config, "[redirects]\n\"/atom\" = \"/atom.xml\"\n");
}

//! Whatever an author drops into the posts folder, the feeds stay complete and the problem
//! is reported, as a reader (the served feeds, parsed with feed-rs) and an operator
//! (`/status?format=json`) see it:
//!
//! - a post that stops parsing (front matter cut mid-save, broken YAML, invalid UTF-8,
//!   binary junk with NUL bytes) keeps its last good version in every feed and its page
//!   while `/status` reports it `failed` with the line to fix; the other posts are
//!   untouched; fixed, the new version is served;
//! - a post that never parsed is absent from the feeds, has no page, and is reported
//!   `failed` with its line;
//! - a file over `max_post_bytes` (2048 here) is refused and reported `skipped` with the
//!   size and the limit, also a sparse 64 GiB one (refused at once: it cannot have been
//!   read); brought under the limit, it is published;
//! - symbolic links to a file or a folder outside the posts folder are never published
//!   (after their events and after a full rescan) and are reported `skipped`;
//! - a FIFO is reported `skipped` and does not hang the watcher; a link loop (`sub/loop` →
//!   `..`, `self` → `.`) does not hang it either, and after a full rescan every post is in
//!   the feeds exactly once;
//! - two posts with the same front matter `id`: exactly one is in each feed, the other is
//!   reported `duplicate` naming the winner, and the winner is the same whatever order the
//!   files were created in, from a cold start, and after further rebuilds;
//! - two posts with the same slug (same file name in two folders, or the same `slug`) are
//!   both published, each at its own page.
//!
//! Regressions (each names the bug it caught): an empty file replaced the last good
//! version; a skipped file was not reported until another post changed; a new link to a
//! folder inside the posts folder read every post again under the link's path; two posts
//! with the same slug on the same day got the same generated id.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::server::{markdown_post, wait_until, Server, DEADLINE};
use dropfeed::pipeline::SystemClock;
use dropfeed::watch::Message;
use hyper::StatusCode;
use serde_json::Value;

const ATOM: &str = "/atom.xml";
const FEEDS: [&str; 3] = ["/feed.xml", "/atom.xml", "/feed.json"];

/// A post with YAML front matter and an explicit permanent id.
fn post_with_id(title: &str, id: &str, date: &str) -> String {
    format!("---\ntitle: \"{title}\"\nid: \"{id}\"\ndate: {date}\n---\n\n{title} body.\n")
}

/// `/status?format=json`, parsed.
async fn status(server: &Server) -> Value {
    let (code, _, body) = server.admin_get("/status?format=json", &[]).await;
    assert_eq!(code, StatusCode::OK, "GET /status?format=json");
    serde_json::from_slice(&body).expect("/status?format=json is JSON")
}

/// The `/status` report of a file (its path relative to the posts folder), if listed.
fn report<'a>(status: &'a Value, file: &str) -> Option<&'a Value> {
    let suffix = format!("/posts/{file}");
    status["posts"]
        .as_array()
        .expect("status lists posts")
        .iter()
        .find(|p| p["file"].as_str().is_some_and(|f| f.ends_with(&suffix)))
}

/// Waits until `/status` reports `file` in `state`; returns its report.
async fn until_state(server: &Server, file: &str, state: &str) -> Value {
    let mut last = Value::Null;
    let reached = wait_until(DEADLINE, async || {
        let status = status(server).await;
        last = report(&status, file).cloned().unwrap_or(Value::Null);
        last["state"] == state
    })
    .await;
    assert!(
        reached,
        "{file}: expected state `{state}` within {DEADLINE:?}, /status says {last:#}"
    );
    last
}

fn count(titles: &[String], title: &str) -> usize {
    titles.iter().filter(|t| *t == title).count()
}

/// Entry titles of every subscription feed (RSS, Atom, JSON), each parsed with feed-rs.
async fn titles_in_every_feed(server: &Server) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for feed in FEEDS {
        all.push(server.titles(feed).await);
    }
    all
}

fn write_bytes(server: &Server, name: &str, bytes: &[u8]) {
    let path = server.posts_dir().join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The error diagnostic of a failed report: its line.
fn error_line(report: &Value) -> u64 {
    let diagnostics = report["diagnostics"].as_array().expect("diagnostics");
    let error = diagnostics
        .iter()
        .find(|d| d["level"] == "error")
        .unwrap_or_else(|| panic!("a failed post carries an error diagnostic: {report:#}"));
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "the error says what is wrong: {error}"
    );
    error["line"]
        .as_u64()
        .unwrap_or_else(|| panic!("the error names a line: {error}"))
}

async fn serve_two() -> Server {
    Server::start(&[
        (
            "good.md",
            &markdown_post("Good 0", "2026-01-10T08:00:00Z", "The good post."),
        ),
        (
            "other.md",
            &markdown_post("Other", "2026-01-11T08:00:00Z", "Another post."),
        ),
    ])
    .await
}

/// Each way a post stops parsing, with the line `/status` must name (`None`: any line).
fn breakages() -> Vec<(&'static str, Vec<u8>, Option<u64>)> {
    vec![
        (
            "front matter cut mid-save",
            b"---\ntitle: \"Good half\"\nda".to_vec(),
            None,
        ),
        (
            "broken YAML",
            b"---\ntitle: [never closed\ndate: 2026-01-10\n---\nBody.\n".to_vec(),
            Some(2),
        ),
        (
            "invalid UTF-8",
            b"---\ntitle: \"Latin-1\"\n---\ncaf\xe9 cr\xe8me\n".to_vec(),
            Some(4),
        ),
        (
            "binary junk with NUL bytes",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00".to_vec(),
            None,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_that_stops_parsing_keeps_its_last_good_version_while_reported() {
    let server = serve_two().await;
    for (round, (what, bytes, line)) in breakages().into_iter().enumerate() {
        let good = format!("Good {round}");
        if round > 0 {
            // Fixed again, with a new title: the new version replaces the old one.
            server.write_post(
                "good.md",
                &markdown_post(&good, "2026-01-10T08:00:00Z", "The good post."),
            );
            server
                .until_titles(ATOM, "fixed post", |t| count(t, &good) == 1)
                .await;
            until_state(&server, "good.md", "published").await;
        }
        write_bytes(&server, "good.md", &bytes);
        let failed = until_state(&server, "good.md", "failed").await;
        let reported = error_line(&failed);
        assert!(reported >= 1, "{what}: line {reported}");
        if let Some(line) = line {
            assert_eq!(reported, line, "{what}: the line to fix: {failed:#}");
        }
        assert!(
            failed["detail"]
                .as_str()
                .is_some_and(|d| d.contains("last good version")),
            "{what}: the report says the last good version is served: {failed:#}"
        );
        for titles in titles_in_every_feed(&server).await {
            assert_eq!(
                count(&titles, &good),
                1,
                "{what}: last good kept: {titles:?}"
            );
            assert_eq!(
                count(&titles, "Other"),
                1,
                "{what}: others kept: {titles:?}"
            );
            assert_eq!(titles.len(), 2, "{what}: nothing else appears: {titles:?}");
        }
        let other = until_state(&server, "other.md", "published").await;
        assert!(
            other["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["level"] != "error")),
            "{what}: the other post has no error: {other:#}"
        );
        let (code, _, page) = server.get("/posts/good/", &[]).await;
        assert_eq!(code, StatusCode::OK, "{what}: the post page stays");
        assert!(String::from_utf8_lossy(&page).contains(&good), "{what}");
    }
    server.stop().await;
}

/// Regression: an empty `.md` file parses as a post titled after its file name with no
/// content, so an editor's truncate-then-write caught half way (or a file emptied by
/// accident) replaces the published post with an empty one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_file_keeps_the_last_good_version() {
    let server = serve_two().await;
    write_bytes(&server, "good.md", b"");
    let failed = until_state(&server, "good.md", "failed").await;
    error_line(&failed);
    for titles in titles_in_every_feed(&server).await {
        assert_eq!(count(&titles, "Good 0"), 1, "last good kept: {titles:?}");
        assert_eq!(titles.len(), 2, "nothing else appears: {titles:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_that_never_parsed_is_absent_and_reported() {
    let server = serve_two().await;
    write_bytes(
        &server,
        "broken.md",
        b"---\ntitle: \"Never parsed\"\ndate: [2026\n---\nBody.\n",
    );
    write_bytes(&server, "junk.txt", b"\x00\x01\x02binary\x00");
    let broken = until_state(&server, "broken.md", "failed").await;
    assert_eq!(error_line(&broken), 3, "the line to fix: {broken:#}");
    assert!(broken["url"].is_null(), "not published: {broken:#}");
    let junk = until_state(&server, "junk.txt", "failed").await;
    error_line(&junk);
    for titles in titles_in_every_feed(&server).await {
        assert_eq!(titles.len(), 2, "only the good posts: {titles:?}");
        assert_eq!(count(&titles, "Good 0") + count(&titles, "Other"), 2);
    }
    let (code, _, _) = server.get("/posts/broken/", &[]).await;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "no page for a post never parsed"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_post_is_refused_and_reported() {
    let server = Server::start_with(
        &[(
            "small.md",
            &markdown_post("Small", "2026-01-10T08:00:00Z", "Fits."),
        )],
        "max_post_bytes = 2048\n",
        Arc::new(SystemClock),
    )
    .await;
    // A valid post that would be published but for its size.
    let big = markdown_post("Too big", "2026-01-12T08:00:00Z", &"word ".repeat(1000));
    assert!(big.len() > 2048);
    server.write_post("big.md", &big);
    // A skipped file alone triggers no rebuild (see
    // `skipped_file_is_reported_without_another_change`): a sentinel post makes one.
    sentinel(&server, "after-big.md", "After big").await;
    let skipped = until_state(&server, "big.md", "skipped").await;
    let detail = skipped["detail"].as_str().expect("a reason");
    assert!(
        detail.contains("max_post_bytes") && detail.contains(&big.len().to_string()),
        "the reason names the limit and the size: {detail}"
    );
    // 64 GiB, sparse: reading it whole would take minutes and the memory would run out; it
    // is refused at once.
    let huge = server.posts_dir().join("huge.md");
    let file = std::fs::File::create(&huge).expect("create huge.md");
    file.set_len(64 << 30).expect("a sparse 64 GiB file");
    drop(file);
    sentinel(&server, "after-huge.md", "After huge").await;
    let skipped = until_state(&server, "huge.md", "skipped").await;
    assert!(
        skipped["detail"]
            .as_str()
            .is_some_and(|d| d.contains("max_post_bytes")),
        "{skipped:#}"
    );
    for mut titles in titles_in_every_feed(&server).await {
        titles.sort();
        assert_eq!(
            titles,
            ["After big", "After huge", "Small"],
            "the oversized posts are not published"
        );
    }
    // Brought under the limit, it is published.
    server.write_post(
        "big.md",
        &markdown_post("Now small", "2026-01-12T08:00:00Z", "Short."),
    );
    server
        .until_titles(ATOM, "shrunk post", |t| count(t, "Now small") == 1)
        .await;
    until_state(&server, "big.md", "published").await;
    server.stop().await;
}

/// Regression: a file passed over (over `max_post_bytes`, a link leading outside, a FIFO)
/// changes no post, so no rebuild runs and `/status` does not mention it until some other
/// post changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_file_is_reported_without_another_change() {
    let server = Server::start_with(
        &[(
            "small.md",
            &markdown_post("Small", "2026-01-10T08:00:00Z", "Fits."),
        )],
        "max_post_bytes = 2048\n",
        Arc::new(SystemClock),
    )
    .await;
    server.write_post(
        "big.md",
        &markdown_post("Too big", "2026-01-12T08:00:00Z", &"word ".repeat(1000)),
    );
    until_state(&server, "big.md", "skipped").await;
    server.stop().await;
}

/// Creates `link` as a symbolic link to `target`.
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("symlink {}: {e}", link.display()));
}

/// Writes a post and waits until the Atom feed shows it: every event before it was handled.
async fn sentinel(server: &Server, name: &str, title: &str) {
    server.write_post(
        name,
        &markdown_post(title, "2026-01-20T08:00:00Z", "Sentinel."),
    );
    server
        .until_titles(ATOM, title, |t| count(t, title) == 1)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_leading_outside_the_posts_folder_are_not_published() {
    let server = serve_two().await;
    let outside = server.scratch_dir();
    let secret = outside.path().join("secret.md");
    std::fs::write(
        &secret,
        markdown_post("Outside secret", "2026-01-15T08:00:00Z", "Not a post here."),
    )
    .unwrap();
    symlink(&secret, &server.posts_dir().join("link.md"));
    symlink(
        Path::new("../../outside.md"),
        &server.posts_dir().join("up.md"),
    );
    std::fs::write(
        server.posts_dir().join("../../outside.md"),
        markdown_post("Up secret", "2026-01-15T08:00:00Z", "Not a post here."),
    )
    .unwrap();
    symlink(outside.path(), &server.posts_dir().join("elsewhere"));
    sentinel(&server, "after.md", "After links").await;
    let link = until_state(&server, "link.md", "skipped").await;
    assert!(
        link["detail"]
            .as_str()
            .is_some_and(|d| d.contains("outside")),
        "{link:#}"
    );
    until_state(&server, "up.md", "skipped").await;
    // And after a full rescan too.
    server.notify(Message::Rescan);
    sentinel(&server, "after-rescan.md", "After rescan").await;
    let status = status(&server).await;
    for post in status["posts"].as_array().unwrap() {
        let file = post["file"].as_str().unwrap();
        if file.contains("/posts/elsewhere") || file.ends_with("link.md") || file.ends_with("up.md")
        {
            assert_eq!(post["state"], "skipped", "{post:#}");
        }
    }
    for titles in titles_in_every_feed(&server).await {
        assert_eq!(count(&titles, "Outside secret"), 0, "{titles:?}");
        assert_eq!(count(&titles, "Up secret"), 0, "{titles:?}");
        assert_eq!(titles.len(), 4, "{titles:?}");
    }
    let (code, _, _) = server.get("/posts/secret/", &[]).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_is_skipped_without_hanging() {
    let server = serve_two().await;
    let fifo = server.posts_dir().join("pipe.md");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    // Opening the FIFO for reading would block the watcher forever: the next post would
    // never appear.
    sentinel(&server, "after.md", "After fifo").await;
    let pipe = until_state(&server, "pipe.md", "skipped").await;
    assert!(
        pipe["detail"].as_str().is_some_and(|d| d.contains("FIFO")),
        "{pipe:#}"
    );
    server.notify(Message::Rescan);
    sentinel(&server, "after-rescan.md", "After rescan").await;
    for titles in titles_in_every_feed(&server).await {
        assert_eq!(titles.len(), 4, "{titles:?}");
    }
    server.stop().await;
}

/// Writes a post in a subfolder, then links that make a loop: `sub/loop` → `..` (the posts
/// folder below itself) and `self` → `.`; returns the titles then published.
async fn serve_with_link_loop() -> (Server, Vec<&'static str>) {
    let server = serve_two().await;
    server.write_post(
        "sub/inner.md",
        &markdown_post("Inner", "2026-01-12T08:00:00Z", "In a subfolder."),
    );
    server
        .until_titles(ATOM, "subfolder post", |t| count(t, "Inner") == 1)
        .await;
    symlink(Path::new(".."), &server.posts_dir().join("sub/loop"));
    symlink(Path::new("."), &server.posts_dir().join("self"));
    // The watcher is still alive: the next post appears.
    sentinel(&server, "after.md", "After loop").await;
    (server, vec!["Good 0", "Other", "Inner", "After loop"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_loop_does_not_hang_and_a_rescan_reads_each_post_once() {
    let (server, mut expected) = serve_with_link_loop().await;
    server.notify(Message::Rescan);
    sentinel(&server, "after-rescan.md", "After rescan").await;
    expected.push("After rescan");
    assert_each_post_once(&server, &expected, "after a full rescan").await;
    assert_nothing_read_through_links(&server, "after a full rescan").await;
    server.stop().await;
}

/// Regression: the event for a new link to a folder inside the posts folder makes
/// `Library::refresh` walk the folder under the link's name, so every post is read a second
/// time as `self/…` or `sub/loop/…`: `/status` lists them as duplicates (sometimes with the
/// copy published instead of the original, `self/sub/inner.md` beating `sub/inner.md`),
/// the feeds sometimes show a post twice, and the id ledger records the copies, until the
/// next full rescan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_to_a_folder_inside_reads_no_post_twice() {
    let (server, expected) = serve_with_link_loop().await;
    assert_each_post_once(&server, &expected, "after the links' events").await;
    assert_nothing_read_through_links(&server, "after the links' events").await;
    server.stop().await;
}

/// Every feed shows exactly these titles, once each.
async fn assert_each_post_once(server: &Server, expected: &[&str], when: &str) {
    for titles in titles_in_every_feed(server).await {
        for title in expected {
            assert_eq!(count(&titles, title), 1, "{when}: {title} once: {titles:?}");
        }
        assert_eq!(titles.len(), expected.len(), "{when}: {titles:?}");
    }
}

/// `/status` lists no post read through a link (`…/loop/…`, `…/self/…`).
async fn assert_nothing_read_through_links(server: &Server, when: &str) {
    let status = status(server).await;
    let looped: Vec<String> = status["posts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            let file = p["file"].as_str().unwrap();
            (file.contains("/loop/") || file.contains("/self/")) && p["state"] != "skipped"
        })
        .map(|p| format!("{} ({})", p["file"], p["state"]))
        .collect();
    assert!(
        looped.is_empty(),
        "{when}: posts read through the links: {looped:#?}"
    );
}

/// Serves posts created in the given order; returns (winner title, loser file) once settled.
async fn duplicate_id_outcome(order: &[(&str, &str)]) -> (String, String) {
    let server = Server::start(&[(
        "unrelated.md",
        &markdown_post("Unrelated", "2026-01-01T08:00:00Z", "Unrelated."),
    )])
    .await;
    // The first file is seen on its own before the next exists.
    let (first, first_title) = order[0];
    server.write_post(
        first,
        &post_with_id(first_title, "urn:x:same", "2026-01-05T08:00:00Z"),
    );
    until_state(&server, first, "published").await;
    for (name, title) in &order[1..] {
        server.write_post(
            name,
            &post_with_id(title, "urn:x:same", "2026-01-05T08:00:00Z"),
        );
    }
    let mut outcome = None;
    let settled = wait_until(DEADLINE, async || {
        let status = status(&server).await;
        let states: Vec<(String, String)> = order
            .iter()
            .map(|(name, _)| {
                let r = report(&status, name).cloned().unwrap_or(Value::Null);
                (
                    name.to_string(),
                    r["state"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let published = states.iter().filter(|(_, s)| s == "published").count();
        let duplicate: Vec<&String> = states
            .iter()
            .filter(|(_, s)| s == "duplicate")
            .map(|(n, _)| n)
            .collect();
        if published == 1 && duplicate.len() == order.len() - 1 {
            outcome = Some(duplicate[0].clone());
            true
        } else {
            false
        }
    })
    .await;
    assert!(
        settled,
        "one published, the rest duplicate: {:#}",
        status(&server).await
    );
    let loser = outcome.expect("a duplicate");
    let loser_report = report(&status(&server).await, &loser).cloned().unwrap();
    assert!(
        loser_report["detail"]
            .as_str()
            .is_some_and(|d| d.contains("already used by")),
        "the report names the winner: {loser_report:#}"
    );
    let mut winners = Vec::new();
    for feed in FEEDS {
        let parsed = server.feed(feed).await;
        let same: Vec<_> = parsed
            .entries
            .iter()
            .filter(|e| e.id == "urn:x:same")
            .collect();
        assert_eq!(same.len(), 1, "{feed}: exactly one entry with the id");
        winners.push(same[0].title.as_ref().map(|t| t.content.clone()).unwrap());
    }
    let winner = winners[0].clone();
    assert!(
        winners.iter().all(|w| *w == winner),
        "every feed agrees: {winners:?}"
    );
    // A rebuild for an unrelated change keeps the same winner.
    server.write_post(
        "unrelated.md",
        &markdown_post("Unrelated 2", "2026-01-01T08:00:00Z", "Unrelated."),
    );
    let titles = server
        .until_titles(ATOM, "unrelated edit", |t| count(t, "Unrelated 2") == 1)
        .await;
    assert_eq!(
        count(&titles, &winner),
        1,
        "same winner after a rebuild: {titles:?}"
    );
    server.stop().await;
    (winner, loser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_ids_publish_one_deterministic_winner() {
    let forward = duplicate_id_outcome(&[("a.md", "Dup A"), ("b.md", "Dup B")]).await;
    let backward = duplicate_id_outcome(&[("b.md", "Dup B"), ("a.md", "Dup A")]).await;
    assert_eq!(
        forward, backward,
        "the winner does not depend on creation order"
    );
    // Both present from the start (one initial scan) agree too.
    let server = Server::start(&[
        (
            "b.md",
            &post_with_id("Dup B", "urn:x:same", "2026-01-05T08:00:00Z"),
        ),
        (
            "a.md",
            &post_with_id("Dup A", "urn:x:same", "2026-01-05T08:00:00Z"),
        ),
    ])
    .await;
    let loser = until_state(&server, &forward.1, "duplicate").await;
    assert!(loser["url"].is_null(), "{loser:#}");
    let titles = server.titles(ATOM).await;
    assert_eq!(titles, [forward.0], "same winner from a cold start");
    server.stop().await;
}

/// Both posts are in every feed, with distinct links, each leading to its own page.
async fn assert_both_served_at_distinct_pages(server: &Server, titles: [&str; 2]) {
    let feed = server.feed(ATOM).await;
    let mut paths = Vec::new();
    for title in titles {
        let entry = feed
            .entries
            .iter()
            .find(|e| e.title.as_ref().is_some_and(|t| t.content == title))
            .unwrap_or_else(|| panic!("{title} is published: {:?}", feed.entries));
        let link = common::feeds::entry_link(entry);
        let path = link
            .strip_prefix(&server.url(""))
            .unwrap_or_else(|| panic!("{link} is on this site"))
            .to_string();
        let (code, _, page) = server.get(&path, &[]).await;
        assert_eq!(code, StatusCode::OK, "GET {path}");
        assert!(
            String::from_utf8_lossy(&page).contains(title),
            "{path} shows {title}"
        );
        paths.push(path);
    }
    assert_ne!(paths[0], paths[1], "distinct pages");
    for other in ["/feed.xml", "/feed.json"] {
        let titles_there = server.titles(other).await;
        for title in titles {
            assert_eq!(count(&titles_there, title), 1, "{other}: {titles_there:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_slugs_are_both_published_at_distinct_pages() {
    let server = Server::start(&[
        (
            "x/hello.md",
            &markdown_post("Hello from x", "2026-01-05T08:00:00Z", "First."),
        ),
        (
            "y/hello.md",
            &markdown_post("Hello from y", "2026-01-06T08:00:00Z", "Second."),
        ),
        (
            "one.md",
            "---\ntitle: \"Slug one\"\nslug: same\ndate: 2026-01-07T08:00:00Z\n---\nOne.\n",
        ),
        (
            "two.md",
            "---\ntitle: \"Slug two\"\nslug: same\ndate: 2026-01-08T08:00:00Z\n---\nTwo.\n",
        ),
    ])
    .await;
    assert_both_served_at_distinct_pages(&server, ["Hello from x", "Hello from y"]).await;
    assert_both_served_at_distinct_pages(&server, ["Slug one", "Slug two"]).await;
    server.stop().await;
}

/// Regression: two posts without an explicit id that share a slug and a publication day get
/// the same generated id (`tag:host,day:slug`), so one of them is held back as a duplicate
/// id instead of being published under its renamed slug.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_slugs_on_the_same_day_are_both_published() {
    let server = Server::start(&[
        (
            "x/hello.md",
            &markdown_post("Hello from x", "2026-01-05T08:00:00Z", "First."),
        ),
        (
            "y/hello.md",
            &markdown_post("Hello from y", "2026-01-05T09:00:00Z", "Second."),
        ),
    ])
    .await;
    assert_both_served_at_distinct_pages(&server, ["Hello from x", "Hello from y"]).await;
    server.stop().await;
}

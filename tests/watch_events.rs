//! Changes to the posts folder reach the served feeds, as a reader of `/atom.xml` sees them
//! (parsed with feed-rs), each with a new ETag, waited for with a deadline:
//!
//! - a new post appears; an edited title replaces the old one (same entry id); a removed
//!   post disappears;
//! - an editor's atomic save (`.post.md.tmp` or `post.md~` written, then renamed over
//!   `post.md`) and a vim-style save (original renamed to `post.md~`, new file written):
//!   polled throughout, the post is never missing and never doubled;
//! - a file written elsewhere on the same file system and renamed into the folder appears;
//! - a new subfolder (nested too) with a post written into it at once appears;
//! - the whole folder removed: the last snapshot keeps serving (`200`, same ETag); restored
//!   by a rename or file by file: the new content appears and later edits are seen again;
//! - editor temporaries (`.x.md.swp`, `x.md~`, `#x.md#`, `.#x.md`, `x.md.tmp`) never become
//!   posts, not even after a full rescan;
//! - rewriting posts with identical bytes (one of them undated, dated by its mtime) changes
//!   no ETag and no snapshot generation, while a real change right after is seen.

mod common;

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::server::{header, markdown_post, wait_until, Server, DEADLINE};
use dropfeed::pipeline::SystemClock;
use dropfeed::watch::Message;
use hyper::StatusCode;

const ATOM: &str = "/atom.xml";

/// A bounded wait for asserting that nothing changes: several debounce periods (50 ms).
const QUIET: Duration = Duration::from_millis(300);

async fn serve() -> Server {
    Server::start(&[
        (
            "alpha.md",
            &markdown_post("Alpha", "2026-01-10T08:00:00Z", "The first post."),
        ),
        (
            "beta.md",
            &markdown_post("Beta", "2026-01-11T08:00:00Z", "The second post."),
        ),
    ])
    .await
}

fn has(titles: &[String], title: &str) -> bool {
    titles.iter().any(|t| t == title)
}

/// Atom entry id of the entry with a title.
async fn entry_id(server: &Server, title: &str) -> String {
    let feed = server.feed(ATOM).await;
    let entry = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().is_some_and(|t| t.content == title))
        .unwrap_or_else(|| panic!("no entry titled {title}"));
    entry.id.clone()
}

/// Regression: `app::start` returns (and serves) before the watcher thread has registered its
/// file watch, so a change made at once raises no event and shows only after the periodic
/// rescan (60 s by default). The other tests start through `Server::start`, which waits for
/// the watcher with a probe post; this one starts exactly as `dropfeed serve` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_right_after_start_is_seen() {
    let alpha = markdown_post("Alpha", "2026-01-10T08:00:00Z", "The first post.");
    let beta = markdown_post("Beta", "2026-01-11T08:00:00Z", "The second post.");
    let posts = [("alpha.md", alpha.as_str()), ("beta.md", beta.as_str())];
    let server = Server::launch(&posts, "", Arc::new(SystemClock)).await;
    server.remove_post("alpha.md");
    server
        .until_titles(ATOM, "removed right after start", |t| !has(t, "Alpha"))
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_post_appears_with_a_new_etag() {
    let server = serve().await;
    let old = server.etag(ATOM).await;
    server.write_post(
        "gamma.md",
        &markdown_post("Gamma", "2026-01-12T08:00:00Z", "A third post."),
    );
    let titles = server
        .until_titles(ATOM, "new post", |t| has(t, "Gamma"))
        .await;
    assert_eq!(titles, ["Gamma", "Beta", "Alpha"]);
    assert_ne!(server.etag(ATOM).await, old);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_title_replaces_the_old_one_and_keeps_the_id() {
    let server = serve().await;
    let old = server.etag(ATOM).await;
    let id = entry_id(&server, "Alpha").await;
    server.write_post(
        "alpha.md",
        &markdown_post("Alpha, Revised", "2026-01-10T08:00:00Z", "The first post."),
    );
    let titles = server
        .until_titles(ATOM, "edited title", |t| has(t, "Alpha, Revised"))
        .await;
    assert_eq!(titles, ["Beta", "Alpha, Revised"]);
    assert_ne!(server.etag(ATOM).await, old);
    assert_eq!(entry_id(&server, "Alpha, Revised").await, id);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_post_disappears() {
    let server = serve().await;
    let old = server.etag(ATOM).await;
    server.remove_post("alpha.md");
    let titles = server
        .until_titles(ATOM, "removed post", |t| !has(t, "Alpha"))
        .await;
    assert_eq!(titles, ["Beta"]);
    assert_ne!(server.etag(ATOM).await, old);
    server.stop().await;
}

/// Polls the Atom feed as fast as it answers while `save` runs, and returns the number of
/// samples and those in which `alpha.md`'s post (old or new title) was not shown exactly once.
async fn poll_during(server: &Server, save: impl Future<Output = ()>) -> (usize, Vec<Vec<String>>) {
    let done = AtomicBool::new(false);
    let samples = AtomicUsize::new(0);
    let bad = Mutex::new(Vec::new());
    let poll = async {
        while !done.load(Ordering::SeqCst) {
            let titles = server.titles(ATOM).await;
            let alpha = titles
                .iter()
                .filter(|t| *t == "Alpha" || *t == "Alpha, Revised")
                .count();
            if alpha != 1 {
                bad.lock().unwrap().push(titles);
            }
            samples.fetch_add(1, Ordering::SeqCst);
        }
    };
    let save = async {
        save.await;
        server
            .until_titles(ATOM, "saved title", |t| has(t, "Alpha, Revised"))
            .await;
        // Keep looking a little after the new version appeared: a late second rebuild must
        // not drop it either.
        tokio::time::sleep(QUIET).await;
        done.store(true, Ordering::SeqCst);
    };
    tokio::join!(poll, save);
    (samples.into_inner(), bad.into_inner().unwrap())
}

/// Writes the new version to `temp`, leaves it there while the feed is polled, then renames
/// it over `alpha.md`.
async fn atomic_save_via(temp: &str) {
    let server = serve().await;
    let old = server.etag(ATOM).await;
    let posts = server.posts_dir().to_path_buf();
    let save = async {
        let temp = posts.join(temp);
        let text = markdown_post("Alpha, Revised", "2026-01-10T08:00:00Z", "Edited.");
        std::fs::write(&temp, text).unwrap();
        // A watcher that published the temporary would show the post twice meanwhile.
        tokio::time::sleep(QUIET).await;
        std::fs::rename(&temp, posts.join("alpha.md")).unwrap();
    };
    let (samples, bad) = poll_during(&server, save).await;
    assert!(samples >= 10, "only {samples} samples taken");
    assert!(
        bad.is_empty(),
        "during the save, {} of {samples} samples did not show the post exactly once: {:?}",
        bad.len(),
        bad.first()
    );
    assert_eq!(server.titles(ATOM).await, ["Beta", "Alpha, Revised"]);
    assert_ne!(server.etag(ATOM).await, old);
    assert!(!posts.join(temp).exists());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_save_through_dot_tmp_never_drops_the_post() {
    atomic_save_via(".alpha.md.tmp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_save_through_tilde_backup_never_drops_the_post() {
    atomic_save_via("alpha.md~").await;
}

/// Regression: the rename of `post.md` to its backup `post.md~` is acted on at once (a
/// rename-to counts as "complete" whatever the destination), so the feed is rebuilt while
/// `post.md` is missing and serves without the post until the new file is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vim_style_save_never_drops_the_post() {
    let server = serve().await;
    let posts = server.posts_dir().to_path_buf();
    let save = async {
        // vim's default with `backup`/`writebackup`: move the original aside, write a new
        // file under the name, delete the backup.
        let post = posts.join("alpha.md");
        let backup = posts.join("alpha.md~");
        std::fs::rename(&post, &backup).unwrap();
        // An editor busy for a moment, well within the 50 ms debounce.
        tokio::time::sleep(Duration::from_millis(15)).await;
        let text = markdown_post("Alpha, Revised", "2026-01-10T08:00:00Z", "Edited.");
        std::fs::write(&post, text).unwrap();
        std::fs::remove_file(&backup).unwrap();
    };
    let (samples, bad) = poll_during(&server, save).await;
    assert!(samples >= 10, "only {samples} samples taken");
    assert!(
        bad.is_empty(),
        "during the save, {} of {samples} samples did not show the post exactly once: {:?}",
        bad.len(),
        bad.first()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_renamed_in_from_outside_appears() {
    let server = serve().await;
    let old = server.etag(ATOM).await;
    let outside = server.scratch_dir();
    let written = outside.path().join("delta.md");
    std::fs::write(
        &written,
        markdown_post("Delta", "2026-01-13T08:00:00Z", "Written elsewhere."),
    )
    .unwrap();
    std::fs::rename(&written, server.posts_dir().join("delta.md")).unwrap();
    let titles = server
        .until_titles(ATOM, "renamed in", |t| has(t, "Delta"))
        .await;
    assert_eq!(titles, ["Delta", "Beta", "Alpha"]);
    assert_ne!(server.etag(ATOM).await, old);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_subfolder_with_a_post_written_at_once_appears() {
    let server = serve().await;
    let cases = [
        ("2026", "epsilon.md", "Epsilon"),
        ("deep/er/still", "zeta.md", "Zeta"),
        ("2026/02", "eta.md", "Eta"),
    ];
    for (i, (folder, file, title)) in cases.into_iter().enumerate() {
        let old = server.etag(ATOM).await;
        let dir = server.posts_dir().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        let date = format!("2026-02-0{}T08:00:00Z", i + 1);
        std::fs::write(dir.join(file), markdown_post(title, &date, "In a folder.")).unwrap();
        server
            .until_titles(ATOM, &format!("{folder}/{file}"), |t| has(t, title))
            .await;
        assert_ne!(server.etag(ATOM).await, old, "{folder}/{file}");
    }
    assert_eq!(
        server.titles(ATOM).await,
        ["Eta", "Zeta", "Epsilon", "Beta", "Alpha"]
    );
    server.stop().await;
}

/// Removes the posts folder and checks the last snapshot keeps serving, unchanged.
async fn remove_folder_and_check_still_served(server: &Server) -> String {
    let before = server.etag(ATOM).await;
    let titles = server.titles(ATOM).await;
    std::fs::remove_dir_all(server.posts_dir()).unwrap();
    // Nothing may change: every look during a bounded quiet period sees the same feed.
    let changed = wait_until(QUIET, async || {
        let (status, h, _) = server.get(ATOM, &[]).await;
        status != StatusCode::OK || header(&h, "etag") != before
    })
    .await;
    assert!(!changed, "the feed changed while the folder was missing");
    assert_eq!(server.titles(ATOM).await, titles);
    before
}

/// After a restore, an edit made through the new folder is seen too (it is watched again).
async fn check_watched_again(server: &Server) {
    let before = server.etag(ATOM).await;
    server.write_post(
        "later.md",
        &markdown_post("Later", "2026-03-01T08:00:00Z", "After the restore."),
    );
    server
        .until_titles(ATOM, "post written after the restore", |t| has(t, "Later"))
        .await;
    assert_ne!(server.etag(ATOM).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_removed_keeps_serving_then_restored_by_rename() {
    let server = serve().await;
    let before = remove_folder_and_check_still_served(&server).await;
    let backup = server.scratch_dir();
    let restored = backup.path().join("posts");
    std::fs::create_dir(&restored).unwrap();
    for (file, title, day) in [("alpha.md", "Alpha", 10), ("theta.md", "Theta", 20)] {
        let date = format!("2026-01-{day}T08:00:00Z");
        std::fs::write(
            restored.join(file),
            markdown_post(title, &date, "Restored."),
        )
        .unwrap();
    }
    std::fs::rename(&restored, server.posts_dir()).unwrap();
    let titles = server
        .until_titles(ATOM, "restored folder", |t| has(t, "Theta"))
        .await;
    assert_eq!(titles, ["Theta", "Alpha"]);
    assert_ne!(server.etag(ATOM).await, before);
    check_watched_again(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_removed_keeps_serving_then_recreated_file_by_file() {
    let server = serve().await;
    let before = remove_folder_and_check_still_served(&server).await;
    for (file, title, day) in [("alpha.md", "Alpha", 10), ("theta.md", "Theta", 20)] {
        let date = format!("2026-01-{day}T08:00:00Z");
        server.write_post(file, &markdown_post(title, &date, "Recreated."));
    }
    let titles = server
        .until_titles(ATOM, "recreated folder", |t| {
            t == ["Theta".to_string(), "Alpha".to_string()]
        })
        .await;
    assert_eq!(titles, ["Theta", "Alpha"]);
    assert_ne!(server.etag(ATOM).await, before);
    check_watched_again(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_temporaries_never_become_posts() {
    let server = serve().await;
    let temporaries = [".x.md.swp", "x.md~", "#x.md#", ".#x.md", "x.md.tmp"];
    for (i, name) in temporaries.iter().enumerate() {
        let title = format!("Temporary {i}");
        server.write_post(
            name,
            &markdown_post(&title, "2026-01-15T08:00:00Z", "Scratch."),
        );
    }
    // A real post written after them: once it shows, their events have been handled.
    server.write_post(
        "real.md",
        &markdown_post("Real", "2026-01-16T08:00:00Z", "Not scratch."),
    );
    let titles = server
        .until_titles(ATOM, "real post after temporaries", |t| has(t, "Real"))
        .await;
    assert_eq!(titles, ["Real", "Beta", "Alpha"]);
    // A full rescan walks the folder without events; a post written after the request shows
    // once the rescan is done (the watcher handles its messages in order).
    server.notify(Message::Rescan);
    server.write_post(
        "after-rescan.md",
        &markdown_post("After Rescan", "2026-01-17T08:00:00Z", "Not scratch."),
    );
    let titles = server
        .until_titles(ATOM, "post after rescan", |t| has(t, "After Rescan"))
        .await;
    assert_eq!(titles, ["After Rescan", "Real", "Beta", "Alpha"]);
    let (status, _, _) = server.get("/posts/x/", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a temporary got a page");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_identical_bytes_changes_no_etag() {
    let undated = "---\ntitle: \"Undated\"\n---\n\nNo date: dated by when the file was seen.\n";
    let alpha = markdown_post("Alpha", "2026-01-10T08:00:00Z", "The first post.");
    let server = Server::start(&[("alpha.md", &alpha), ("undated.md", undated)]).await;
    let routes = [ATOM, "/feed.xml", "/feed.json", "/posts/undated/"];
    let mut before = Vec::new();
    for route in routes {
        before.push(server.etag(route).await);
    }
    let generation = server.generation();
    // New modification times, same bytes; then a full rescan for good measure.
    rewrite_same_bytes(&server.posts_dir().join("alpha.md"));
    rewrite_same_bytes(&server.posts_dir().join("undated.md"));
    server.notify(Message::Rescan);
    let changed = wait_until(QUIET, async || server.generation() != generation).await;
    assert!(!changed, "an identical rewrite swapped in a new snapshot");
    for (route, old) in routes.iter().zip(&before) {
        assert_eq!(&server.etag(route).await, old, "{route}");
    }
    // The watcher is alive: a real change right after is seen.
    server.write_post(
        "alpha.md",
        &markdown_post("Alpha", "2026-01-10T08:00:00Z", "Edited for real."),
    );
    let seen = wait_until(DEADLINE, async || server.etag(ATOM).await != before[0]).await;
    assert!(seen, "a real edit after the identical rewrite was not seen");
    assert!(server.generation() > generation);
    assert_eq!(server.etag("/posts/undated/").await, before[3]);
    server.stop().await;
}

fn rewrite_same_bytes(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, bytes).unwrap();
}

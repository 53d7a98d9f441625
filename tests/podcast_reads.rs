//! An episode's media is read (its duration probed) once per change of the file, never per
//! request: a served show answers many feed and media requests without reading a header
//! again, and a media file replaced on disk is read again once, its new length and
//! duration in the feeds moments later; a transcript dropped beside it later is in the feed
//! and served, with no post edit. Alone in its test binary, so the process-wide
//! probe count is this test's own.

mod common;

use std::path::Path;
use std::time::Duration;

use common::server::{wait_until, Server};

const EPISODE: &str = "---\ntitle: Episode\ndate: 2026-01-05\ntags: [show]\nenclosure: ep.mp3\nepisode: 1\n---\n\nNotes.\n";

fn shipped(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_is_read_once_per_change_never_per_request() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("ep.md"), EPISODE).expect("post");
    std::fs::copy(
        shipped("posts/feeds-over-coffee.mp3"),
        dir.path().join("ep.mp3"),
    )
    .expect("mp3");
    let server = Server::start_copy(dir.path(), "[[show]]\ntag = \"show\"\n").await;
    let feed = async || {
        let (_, _, body) = server.get("/tags/show/feed.xml", &[]).await;
        String::from_utf8_lossy(&body).into_owned()
    };
    assert!(feed()
        .await
        .contains("<itunes:duration>5</itunes:duration>"));
    let before = dropfeed::media::probes();
    for _ in 0..30 {
        for path in [
            "/tags/show/feed.xml",
            "/feed.json",
            "/atom.xml",
            "/files/ep.mp3",
        ] {
            let (status, _, _) = server.get(path, &[("Range", "bytes=0-99")]).await;
            assert!(status.is_success(), "{path}: {status}");
        }
    }
    assert_eq!(
        dropfeed::media::probes(),
        before,
        "requests read media headers"
    );

    // Replaced the way editors and copies do it: written beside, renamed into place.
    let scratch = server.scratch_dir();
    let staged = scratch.path().join("ep.mp3");
    std::fs::copy(shipped("tests/fixtures/podcast/noxing.mp3"), &staged).expect("stage");
    std::fs::rename(&staged, server.posts_dir().join("ep.mp3")).expect("rename into place");
    let new_length = std::fs::metadata(shipped("tests/fixtures/podcast/noxing.mp3"))
        .expect("len")
        .len();
    let changed = wait_until(Duration::from_secs(20), async || {
        let text = feed().await;
        text.contains("<itunes:duration>3</itunes:duration>")
            && text.contains(&format!("length=\"{new_length}\""))
    })
    .await;
    assert!(changed, "the new media never showed: {}", feed().await);
    let after = dropfeed::media::probes();
    assert!(after > before, "the changed file was not read again");
    assert!(
        after - before <= 2,
        "one change read {} times",
        after - before
    );
    for _ in 0..30 {
        server.get("/tags/show/feed.xml", &[]).await;
        server.get("/files/ep.mp3", &[]).await;
    }
    assert_eq!(
        dropfeed::media::probes(),
        after,
        "requests read media headers"
    );

    // A transcript dropped beside the media later is found by its name, with no post edit.
    let vtt = std::fs::read(shipped("posts/feeds-over-coffee.vtt")).expect("vtt");
    std::fs::write(server.posts_dir().join("ep.vtt"), vtt).expect("write the transcript");
    let found = wait_until(Duration::from_secs(20), async || {
        feed().await.contains("/files/ep.vtt\"")
    })
    .await;
    assert!(found, "the transcript never showed: {}", feed().await);
    let (status, headers, _) = server.get("/files/ep.vtt", &[]).await;
    assert!(status.is_success(), "{status}");
    assert!(common::server::header(&headers, "content-type").starts_with("text/vtt"));
}

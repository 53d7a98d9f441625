//! What `dropfeed check` and `/status` say about podcast shows, with file and line: a show
//! missing the fields a directory requires, artwork of the wrong size, an episode whose
//! media is missing, unreadable or of an unknown type; the shipped site with its config is a
//! show that passes `check --strict`; a 1,000-episode show starts with every duration (the
//! time it took, with and without media beside the posts, is printed: run with
//! `--nocapture`); the type feeds announce for an enclosure is the one it is served with.

mod common;

use std::path::Path;
use std::process::Command;

use common::feeds::{build, feed_rs, fixed_now};
use common::podcast::{shipped, show_folder};
use serde_json::Value;

/// What `dropfeed check` prints for a posts folder.
fn check(posts: &Path) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["check", "--strict", "--posts"])
        .arg(posts)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A PNG header of a given size (what artwork checks read; no pixels needed).
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

#[test]
fn check_names_what_a_directory_would_refuse_with_file_and_line() {
    let (dir, posts) = show_folder();
    std::fs::write(posts.join("cover.png"), png_header(1400, 1000)).expect("cover");
    std::fs::write(posts.join("broken.mp3"), b"not audio at all, just words").expect("mp3");
    let broken =
        "---\ntitle: Broken\ndate: 2026-04-01\ntags: [show]\nenclosure: broken.mp3\n---\n\nx\n";
    std::fs::write(posts.join("2026-04-01-broken.md"), broken).expect("post");
    let odd = "---\ntitle: Odd\ndate: 2026-04-02\ntags: [show]\n\nenclosure: odd.xyz\n---\n\nx\n";
    std::fs::write(posts.join("odd.xyz"), b"?").expect("odd");
    std::fs::write(posts.join("2026-04-02-odd.md"), odd).expect("post");
    let missing =
        "---\ntitle: Missing\ndate: 2026-04-03\ntags: [show]\nenclosure: gone.mp3\n---\n\nx\n";
    std::fs::write(posts.join("2026-04-03-missing.md"), missing).expect("post");
    let config = "[[show]]\ntag = \"show\"\nimage = \"cover.png\"\n";
    std::fs::write(dir.path().join("dropfeed.toml"), config).expect("config");
    let (code, out) = check(&posts);
    assert_eq!(code, Some(2), "warnings fail --strict:\n{out}");
    let line_with = |needle: &str| -> String {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{out}"))
            .to_string()
    };
    for key in ["category", "explicit", "owner email"] {
        assert!(line_with(&format!("has no `{key}`")).starts_with("dropfeed.toml:1: warning:"));
    }
    assert!(line_with("1400×1000").starts_with("dropfeed.toml:1: warning:"));
    let broken = line_with("duration of `broken.mp3` cannot be read");
    assert!(
        broken.contains("2026-04-01-broken.md:5: warning:"),
        "{broken}"
    );
    let odd = line_with("odd.xyz` has an extension dropfeed does not know");
    assert!(odd.contains("2026-04-02-odd.md:6: warning:"), "{odd}");
    let gone = line_with("gone.mp3");
    assert!(
        gone.contains("2026-04-03-missing.md:5: warning:") && gone.contains("does not exist"),
        "{gone}"
    );
}

#[test]
fn shipped_site_with_its_config_is_a_show_that_passes_check_strict() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    common::feeds::copy_tree(&shipped("posts"), &posts);
    std::fs::copy(shipped("dropfeed.toml"), dir.path().join("dropfeed.toml")).expect("config");
    let (code, out) = check(&posts);
    assert_eq!(code, Some(0), "{out}");
    let config = std::fs::read_to_string(shipped("dropfeed.toml")).expect("config");
    let built = build(&posts, &config, fixed_now());
    let rss = built
        .snapshot
        .resource("tags/podcasts/feed.xml")
        .expect("the show");
    let feed = feed_rs(&rss.identity.body, "the shipped show");
    let episode = &feed.entries[0].media[0];
    assert_eq!(episode.content[0].size, Some(15_430));
    let duration = episode.duration.expect("a duration").as_secs_f64();
    assert!((duration - 5.068).abs() <= 1.0, "{duration}");
    assert_eq!(
        episode.transcripts.len(),
        1,
        "the .vtt beside the mp3 is its transcript"
    );
}

/// A 1,000-episode show, each episode's MP3 beside its post, built as `dropfeed serve` starts
/// (scan, hash and read every media file, render), against the same posts with their
/// enclosures written as `{url, type, length}` for media kept elsewhere (nothing to read).
/// Prints both times and the ratio (no timed assertion: the machine is shared); asserts
/// that every episode carries its duration.
#[test]
fn a_thousand_episode_show_starts_and_says_how_long_it_took() {
    const EPISODES: usize = 1000;
    let mp3 = std::fs::read(shipped("posts/feeds-over-coffee.mp3")).expect("mp3");
    let folder = |with_media: bool| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let posts = dir.path().join("posts");
        std::fs::create_dir(&posts).expect("posts");
        for n in 0..EPISODES {
            let enclosure = if with_media {
                std::fs::write(posts.join(format!("ep-{n}.mp3")), &mp3).expect("mp3");
                format!("ep-{n}.mp3")
            } else {
                let length = mp3.len();
                format!("{{url: \"https://cdn.example/ep-{n}.mp3\", type: audio/mpeg, length: {length}}}")
            };
            let post = format!("---\ntitle: Episode {n}\ndate: 2025-01-01 00:00\ntags: [show]\nenclosure: {enclosure}\nepisode: {}\n---\n\nNotes {n}.\n", n + 1);
            std::fs::write(posts.join(format!("ep-{n}.md")), post).expect("post");
        }
        (dir, posts)
    };
    let config =
        "base_url = \"https://pod.example/\"\nfeed_limit = 1000\n[[show]]\ntag = \"show\"\n";
    let time = |posts: &Path| {
        let started = std::time::Instant::now();
        let built = build(posts, config, fixed_now());
        (started.elapsed(), built)
    };
    let (_plain_dir, plain) = folder(false);
    let (_media_dir, media) = folder(true);
    let (without, _) = time(&plain);
    let (with, built) = time(&media);
    let rss = built
        .snapshot
        .resource("tags/show/feed.xml")
        .expect("the show");
    let text = String::from_utf8_lossy(&rss.identity.body).into_owned();
    assert_eq!(
        text.matches("<itunes:duration>5</itunes:duration>").count(),
        EPISODES
    );
    eprintln!(
        "{EPISODES}-episode show: start {:.0} ms with media beside the posts, {:.0} ms with enclosures elsewhere ({:+.1} %)",
        with.as_secs_f64() * 1e3,
        without.as_secs_f64() * 1e3,
        (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_a_directory_would_refuse() {
    let (_dir, posts) = show_folder();
    std::fs::write(posts.join("cover.png"), png_header(500, 500)).expect("cover");
    let config = "[[show]]\ntag = \"show\"\nimage = \"cover.png\"\nexplicit = true\n";
    let server = common::server::Server::start_copy(&posts, config).await;
    let (status, _, body) = server.admin_get("/status?format=json", &[]).await;
    assert!(status.is_success(), "{status}");
    let report: Value = serde_json::from_slice(&body).expect("JSON");
    let text = report.to_string();
    for needle in [
        "has no `category`",
        "has no `owner email`",
        "is 500×500 pixels",
    ] {
        assert!(
            text.contains(needle),
            "/status lacks {needle:?}: {report:#}"
        );
    }
    assert!(!text.contains("has no `explicit`"), "{report:#}");
    server.stop().await;
}

/// The type a feed announces for an enclosure is the `Content-Type` the download arrives with
/// (regression: `.m4b` audiobooks were announced as audio/mp4 and served as
/// application/octet-stream).
#[test]
fn enclosure_types_match_the_served_content_type() {
    for (extension, announced) in dropfeed::media::types::known() {
        let served = dropfeed::snapshot::files::content_type(&format!("ep.{extension}"));
        let essence = served.split(';').next().unwrap_or("").trim();
        assert_eq!(essence, announced, ".{extension}");
    }
}

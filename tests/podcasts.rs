//! A folder of episodes as podcast apps read it: a tag declared a show in `[[show]]`, three
//! episodes (an MP3 with a transcript found by its name, an M4A in a subfolder with chapters,
//! an MP3 without a Xing frame written as the old `{url, type, length}` table), parsed with
//! gPodder's `podcastparser` and with feed-rs:
//!
//! - the show's title, artwork, type, explicit flag, owner and categories; its
//!   `podcast:guid` is the namespace's UUIDv5 of the feed URL, and stays the same when
//!   `base_url` changes (it is recorded in the ledger);
//! - every episode's enclosure URL, exact length and type, its duration within a second of
//!   the media's real length (ffprobe's, for the shipped test media), its episode and
//!   season numbers and type, its transcript;
//! - no element outside the RSS, Atom, `itunes`, `podcast` and `content` namespaces;
//! - Atom carries the enclosure with its length, JSON Feed the attachment with
//!   `duration_in_seconds`;
//! - whatever a title, show note or show field contains, the show's RSS is well-formed
//!   (proptest);
//! - `dropfeed check` and `/status` name what a directory would refuse, with file and line;
//! - a 1,000-episode show starts, every episode with its duration (the time it took, with
//!   and without media beside the posts, is printed: run with `--nocapture`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::feeds::{build, feed_rs, fixed_now};
use common::skip::skipped;
use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

/// The episodes: post file, media file (in the test folder), the shipped media it is a copy
/// of, its real length in seconds (ffprobe), episode, season.
const EPISODES: [(&str, &str, &str, f64, u32, u32); 3] = [
    (
        "2026-01-05-first.md",
        "first.mp3",
        "posts/feeds-over-coffee.mp3",
        5.068,
        1,
        1,
    ),
    (
        "2026-02-05-second.md",
        "audio/second.m4a",
        "tests/fixtures/podcast/short.m4a",
        3.0,
        2,
        1,
    ),
    (
        "2026-03-05-third.md",
        "third.mp3",
        "tests/fixtures/podcast/noxing.mp3",
        3.056,
        1,
        2,
    ),
];

const FIRST: &str = "---\ntitle: \"First & <best>\"\ndate: 2026-01-05\ntags: [show]\nauthors: [Mira Okafor]\nenclosure: first.mp3\nepisode: 1\nseason: 1\n---\n\nNotes with <b>markup</b> & more.\n";
const SECOND: &str = "---\ntitle: Second\ndate: 2026-02-05\ntags: [show]\nenclosure: audio/second.m4a\nepisode: 2\nseason: 1\nepisode_type: bonus\nexplicit: true\nchapters: audio/second.chapters.json\nimage: cover.png\n---\n\nA bonus.\n";
const THIRD_HEAD: &str = "---\ntitle: Third\ndate: 2026-03-05\ntags: [show]\nepisode: 1\nseason: 2\nepisode_type: trailer\n";

/// The show, on `base`.
fn show_config(base: &str) -> String {
    format!(
        "base_url = \"{base}\"\ntitle = \"Site\"\n\n[[show]]\ntag = \"show\"\ntitle = \"Feeds Over Tests\"\nimage = \"cover.png\"\ncategory = [\"Technology\", \"Society & Culture > Documentary\"]\nexplicit = false\nauthor = \"Mira Okafor\"\nowner = {{ name = \"Mira Okafor\", email = \"mira@example.org\" }}\ntype = \"serial\"\nlocked = true\nfunding = {{ url = \"https://pod.example/give\", text = \"Support the show\" }}\n"
    )
}

fn shipped(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A posts folder with the three episodes, their media, a transcript and the cover.
fn show_folder() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(posts.join("audio")).expect("posts/audio");
    for (_, media, from, ..) in EPISODES {
        std::fs::copy(shipped(from), posts.join(media)).expect("copy media");
    }
    std::fs::copy(shipped("posts/cover.png"), posts.join("cover.png")).expect("cover");
    std::fs::copy(
        shipped("posts/feeds-over-coffee.vtt"),
        posts.join("first.vtt"),
    )
    .expect("vtt");
    let chapters =
        "{\"version\": \"1.2.0\", \"chapters\": [{\"startTime\": 0, \"title\": \"Hello\"}]}";
    std::fs::write(posts.join("audio/second.chapters.json"), chapters).expect("chapters");
    let third_length = std::fs::metadata(posts.join("third.mp3"))
        .expect("third")
        .len();
    let third = format!("{THIRD_HEAD}enclosure: {{url: third.mp3, type: audio/mpeg, length: {third_length}}}\n---\n\nA trailer.\n");
    for (name, text) in [(EPISODES[0].0, FIRST), (EPISODES[1].0, SECOND)] {
        std::fs::write(posts.join(name), text).expect("post");
    }
    std::fs::write(posts.join(EPISODES[2].0), third).expect("post");
    (dir, posts)
}

/// Builds the show folder on `base` and returns the bytes of a route.
fn route(posts: &Path, base: &str, route: &str) -> Vec<u8> {
    let built = build(posts, &show_config(base), fixed_now());
    let resource = built.snapshot.resource(route).expect("the route exists");
    resource.identity.body.to_vec()
}

/// The namespace's UUIDv5 of a feed URL without scheme and trailing slash, computed here
/// with the uuid crate directly (not dropfeed's function).
fn expected_guid(feed_url_without_scheme: &str) -> String {
    let namespace = uuid::uuid!("ead4c236-bf58-58c6-a2c6-a6b28d128cb6");
    uuid::Uuid::new_v5(&namespace, feed_url_without_scheme.as_bytes()).to_string()
}

/// Parses an RSS file with podcastparser (`tests/podcastparser_check.py`); `None` when it is
/// not installed outside CI (the test says SKIPPED), a failure in CI.
fn podcastparser(path: &Path) -> Option<Value> {
    let python = std::env::var("DROPFEED_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&python)
        .arg(shipped("tests/podcastparser_check.py"))
        .arg(path)
        .output();
    let why = match &output {
        Err(e) => format!("cannot run {python}: {e}"),
        Ok(o) if o.status.code() == Some(3) => format!("podcastparser not installed for {python}"),
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(
                o.status.success(),
                "podcastparser failed: {stdout}\n{stderr}"
            );
            return Some(serde_json::from_str(stdout.trim()).expect("one JSON line"));
        }
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}, and CI must run it"
    );
    skipped(&format!(
        "{why}; pip install podcastparser and set DROPFEED_PYTHON"
    ));
    None
}

#[test]
fn podcastparser_reads_the_show_and_every_episode() {
    let (dir, posts) = show_folder();
    let rss = route(&posts, "https://pod.example/", "tags/show/feed.xml");
    let file = dir.path().join("show.xml");
    std::fs::write(&file, &rss).expect("write the feed");
    let Some(show) = podcastparser(&file) else {
        return;
    };
    assert_eq!(show["title"], "Feeds Over Tests");
    assert_eq!(show["cover_url"], "https://pod.example/files/cover.png");
    assert_eq!(show["type"], "serial");
    assert_eq!(show["explicit"], false);
    assert_eq!(show["itunes_owner"]["email"], "mira@example.org");
    let categories = serde_json::json!([["Technology"], ["Society & Culture", "Documentary"]]);
    assert_eq!(show["itunes_categories"], categories);
    let guid = expected_guid("pod.example/tags/show/feed.xml");
    assert_eq!(show["podcast_guid"], guid.as_str());
    let podcast = &show["podcast_channel"];
    assert_eq!(podcast["locked"]["text"], "yes");
    assert_eq!(podcast["locked"]["owner"], "mira@example.org");
    assert_eq!(podcast["funding"]["url"], "https://pod.example/give");
    assert_eq!(podcast["funding"]["text"], "Support the show");
    let allowed = [
        "http://www.w3.org/2005/Atom",
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
        "https://podcastindex.org/namespace/1.0",
        "http://purl.org/rss/1.0/modules/content/",
    ];
    for namespace in show["namespaces"].as_array().expect("namespaces") {
        assert!(
            allowed.contains(&namespace.as_str().unwrap_or("")),
            "{namespace}"
        );
    }
    let episodes = show["episodes"].as_array().expect("episodes");
    assert_eq!(episodes.len(), 3, "{show:#}");
    for (post, media, _, seconds, number, season) in EPISODES {
        let title = post
            .trim_end_matches(".md")
            .rsplit('-')
            .next()
            .unwrap_or("");
        let episode = episodes
            .iter()
            .find(|e| {
                e["title"]
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase()
                    .starts_with(title)
            })
            .unwrap_or_else(|| panic!("no episode {title}: {show:#}"));
        let enclosure = &episode["enclosures"][0];
        assert_eq!(
            enclosure["url"],
            format!("https://pod.example/files/{media}").as_str()
        );
        let length = std::fs::metadata(posts.join(media)).expect("media").len();
        assert_eq!(enclosure["file_size"], length, "{media}");
        let mime = if media.ends_with(".m4a") {
            "audio/mp4"
        } else {
            "audio/mpeg"
        };
        assert_eq!(enclosure["mime_type"], mime);
        let read = episode["total_time"].as_f64().expect("a duration");
        assert!(
            (read - seconds).abs() <= 1.0,
            "{media}: {read} s, really {seconds} s"
        );
        assert_eq!(episode["number"], number, "{media}");
        assert_eq!(episode["season"], season, "{media}");
        assert_eq!(episode["podcast"]["episode"], number.to_string().as_str());
    }
    let first = &episodes
        .iter()
        .find(|e| e["title"] == "First & <best>")
        .expect("first");
    let transcript = &first["podcast"]["transcript"];
    assert_eq!(transcript["url"], "https://pod.example/files/first.vtt");
    assert_eq!(transcript["type"], "text/vtt");
    let second = &episodes
        .iter()
        .find(|e| e["title"] == "Second")
        .expect("second");
    assert_eq!(second["type"], "bonus");
    assert_eq!(second["explicit"], true);
    assert_eq!(
        second["episode_art_url"],
        "https://pod.example/files/cover.png"
    );
    let chapters = &second["podcast"]["chapters"]["url"];
    assert_eq!(
        chapters,
        "https://pod.example/files/audio/second.chapters.json"
    );
}

#[test]
fn feed_rs_reads_every_episode_in_rss_atom_and_json() {
    let (_dir, posts) = show_folder();
    let built = build(&posts, &show_config("https://pod.example/"), fixed_now());
    let bytes = |route: &str| {
        built
            .snapshot
            .resource(route)
            .expect(route)
            .identity
            .body
            .to_vec()
    };
    let rss = feed_rs(&bytes("tags/show/feed.xml"), "the show's RSS");
    let logo = rss.logo.as_ref().expect("artwork");
    assert_eq!(logo.uri, "https://pod.example/files/cover.png");
    for (post, media, _, seconds, number, season) in EPISODES {
        let url = format!("https://pod.example/files/{media}");
        let length = std::fs::metadata(posts.join(media)).expect("media").len();
        let entry = rss
            .entries
            .iter()
            .find(|e| {
                e.media.iter().any(|m| {
                    m.content
                        .iter()
                        .any(|c| c.url.as_ref().is_some_and(|u| u.as_str() == url))
                })
            })
            .unwrap_or_else(|| panic!("{post}: no enclosure {url}"));
        let content = entry
            .media
            .iter()
            .flat_map(|m| &m.content)
            .find(|c| c.url.as_ref().is_some_and(|u| u.as_str() == url))
            .expect("the enclosure");
        assert_eq!(content.size, Some(length), "{media}: {:#?}", entry.media);
        let duration = entry
            .media
            .iter()
            .find_map(|m| m.duration)
            .expect("a duration");
        let duration = duration.as_secs_f64();
        assert!((duration - seconds).abs() <= 1.0, "{media}: {duration}");
        let episode = entry.media.iter().find_map(|m| m.episode.as_ref());
        assert_eq!(episode.map(|e| e.number as u32), Some(number));
        let in_season = entry.media.iter().find_map(|m| m.season.as_ref());
        assert_eq!(in_season.map(|s| s.number), Some(season));
    }
    let atom = feed_rs(&bytes("tags/show/atom.xml"), "the show's Atom");
    let json: Value = serde_json::from_slice(&bytes("tags/show/feed.json")).expect("JSON");
    for (_, media, _, seconds, ..) in EPISODES {
        let url = format!("https://pod.example/files/{media}");
        let length = std::fs::metadata(posts.join(media)).expect("media").len();
        let linked = atom
            .entries
            .iter()
            .flat_map(|e| &e.links)
            .find(|l| l.href == url);
        let link = linked.unwrap_or_else(|| panic!("Atom lacks {url}"));
        assert_eq!(link.rel.as_deref(), Some("enclosure"));
        assert_eq!(link.length, Some(length));
        let items = json["items"].as_array().expect("items");
        let attachment = items
            .iter()
            .flat_map(|i| i["attachments"].as_array().cloned().unwrap_or_default())
            .find(|a| a["url"] == url.as_str())
            .unwrap_or_else(|| panic!("JSON lacks {url}"));
        assert_eq!(attachment["size_in_bytes"], length);
        let read = attachment["duration_in_seconds"]
            .as_f64()
            .expect("duration");
        assert!((read - seconds).abs() <= 1.0, "{media}: {read}");
    }
}

#[test]
fn podcast_guid_stays_when_base_url_changes() {
    let (_dir, posts) = show_folder();
    let guid_in = |rss: &[u8]| {
        let text = String::from_utf8_lossy(rss).into_owned();
        let start = text.find("<podcast:guid>").expect("a podcast:guid") + 14;
        let end = text[start..].find('<').expect("closed") + start;
        text[start..end].to_string()
    };
    let first = guid_in(&route(&posts, "https://pod.example/", "tags/show/feed.xml"));
    assert_eq!(first, expected_guid("pod.example/tags/show/feed.xml"));
    let moved = route(
        &posts,
        "https://new-home.example/podcast/",
        "tags/show/feed.xml",
    );
    assert_eq!(guid_in(&moved), first, "the guid followed base_url");
    assert!(String::from_utf8_lossy(&moved)
        .contains("https://new-home.example/podcast/files/first.mp3"));
}

/// Text that tries to break XML: markup, entities, CDATA ends, control and forbidden
/// characters, quotes, non-BMP characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<".to_string()),
        Just("&".to_string()),
        Just("]]>".to_string()),
        Just("\"'".to_string()),
        Just("\u{0}\u{1}\u{b}\u{fffe}".to_string()),
        Just("&amp;#0;".to_string()),
        Just("<![CDATA[".to_string()),
        Just("𝄞".to_string()),
        "[a-z ]{0,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 1..12).prop_map(|parts| parts.concat())
}

/// Escapes text for a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Whatever a title, show note or show field says, the show's RSS parses (feed-rs and
    /// quick-xml's strict reader) and keeps the episode.
    #[test]
    fn show_rss_is_well_formed_whatever_the_text(
        title in hostile_text(),
        notes in hostile_text(),
        author in hostile_text(),
        copyright in hostile_text(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("posts");
        std::fs::create_dir(&posts).unwrap();
        std::fs::copy(shipped("posts/feeds-over-coffee.mp3"), posts.join("ep.mp3")).unwrap();
        let post = format!(
            "+++\ntitle = {}\ndate = 2026-01-01\ntags = [\"show\"]\nenclosure = \"ep.mp3\"\nepisode = 3\n+++\n\n{}\n",
            toml_string(&title),
            notes.replace('\0', "")
        );
        std::fs::write(posts.join("ep.md"), post).unwrap();
        let config = format!(
            "base_url = \"https://pod.example/\"\n[[show]]\ntag = \"show\"\nauthor = {}\ncopyright = {}\ndescription = {}\nowner = {{ name = {}, email = \"a@b.example\" }}\n",
            toml_string(&author), toml_string(&copyright), toml_string(&title), toml_string(&notes)
        );
        let built = build(&posts, &config, fixed_now());
        let rss = built.snapshot.resource("tags/show/feed.xml").expect("the show feed");
        let body = rss.identity.body.to_vec();
        let parsed = feed_rs(&body, "hostile show");
        prop_assert_eq!(parsed.entries.len(), 1);
        let mut reader = quick_xml::Reader::from_reader(&body[..]);
        reader.config_mut().check_end_names = true;
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => prop_assert!(false, "not well-formed: {e}\n{}", String::from_utf8_lossy(&body)),
            }
            buf.clear();
        }
    }
}

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

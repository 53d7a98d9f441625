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
//!   (proptest).
//!
//! What `dropfeed check` and `/status` say about shows: `podcast_checks.rs`.

mod common;

use std::path::Path;
use std::process::Command;

use common::feeds::{build, feed_rs, fixed_now};
use common::podcast::{shipped, show_config, show_folder, EPISODES};
use common::skip::skipped;
use proptest::prelude::*;
use serde_json::Value;

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

//! Every date a post can hold renders in every format, or fails that one post with its
//! file and line; nothing a post says can stop the service.
//!
//! - a post dated in a year RFC 2822 cannot express (`-0001-01-01`, `0000-01-01`,
//!   `10000-01-01`, as `date` or `updated`, in YAML, TOML or a `.txt` date line) is reported
//!   by `dropfeed check` with its file and line, exit 1 and not a panic; `dropfeed build`
//!   publishes the other posts; a running server starts with it, reports it on `/status`
//!   and keeps publishing later changes (regression: RSS rendering panicked, so `serve`
//!   exited at start, `build` and `check` exited 101, and a running server never rebuilt
//!   again);
//! - a post `updated: 9999-12-31` does not freeze `Last-Modified`: no feed or page claims a
//!   time after the build (the test's clock), a poller's `If-Modified-Since` gets `304`
//!   while nothing changes and `200` with the new post once one is added, and `/status`
//!   warns about the future `updated` (regression: every feed showing the post said
//!   year 9999, so If-Modified-Since pollers never saw a new post again);
//! - over generated date texts, in zones with odd offsets: a date that parses renders in
//!   RSS, Atom, JSON Feed, the post page and the `Last-Modified` header, and the feeds
//!   parse with feed-rs; and (the fuzz target `parse_date`'s property, briefly) every date
//!   `parse_date` accepts reads back as the same instant from RFC 2822, RFC 3339 and the
//!   HTTP date.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;
use common::feeds::{config, feed_rs};
use common::server::{header, markdown_post, wait_until, Server, TestClock, DEADLINE};
use dropfeed::load::Library;
use dropfeed::pipeline;
use dropfeed::post::date::{parse_date, YEARS};
use dropfeed::snapshot::http_date;
use hyper::StatusCode;
use proptest::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

/// Posts whose dates no feed can express, with the line `check` must name.
const UNEXPRESSIBLE: [(&str, &str, usize); 5] = [
    (
        "negative.md",
        "---\ntitle: Negative\ndate: \"-0001-01-01\"\n---\nBody.\n",
        3,
    ),
    (
        "zero.md",
        "---\ntitle: Zero\n\ndate: 0000-06-01T10:00:00Z\n---\nBody.\n",
        4,
    ),
    (
        "updated.md",
        "---\ntitle: Updated\ndate: 2024-01-01\nupdated: \"+10000-01-01\"\n---\nBody.\n",
        4,
    ),
    (
        "toml.md",
        "+++\ntitle = \"Toml\"\ndate = \"-0001-12-31 10:00\"\n+++\nBody.\n",
        3,
    ),
    ("plain.txt", "0000-01-01\n\nA plain post\n\nIts body.\n", 1),
];

const GOOD: &str = "---\ntitle: \"Still here\"\ndate: 2024-01-02\n---\nA good post.\n";

/// A temporary `posts/` folder holding the given files.
fn posts_folder(files: &[(&str, &str)]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("create posts/");
    for (name, text) in files {
        std::fs::write(posts.join(name), text).expect("write a post");
    }
    (dir, posts)
}

/// Runs the binary on a posts folder: exit code and standard output.
fn dropfeed(args: &[&str], posts: &Path) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(args)
        .arg("--posts")
        .arg(posts)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn with_good<'a>(bad: &[(&'a str, &'a str, usize)]) -> Vec<(&'a str, &'a str)> {
    let mut files: Vec<(&str, &str)> = bad.iter().map(|(n, t, _)| (*n, *t)).collect();
    files.push(("good.md", GOOD));
    files
}

#[test]
fn negative_year_fails_that_post_only() {
    let (dir, posts) = posts_folder(&with_good(&UNEXPRESSIBLE));
    let (code, stdout, stderr) = dropfeed(&["check"], &posts);
    assert_eq!(code, Some(1), "check: {stdout}\n{stderr}");
    for (name, _, line) in UNEXPRESSIBLE {
        let prefix = format!("{}:{line}: error: ", posts.join(name).display());
        let report = stdout.lines().find(|l| l.starts_with(&prefix));
        let report = report.unwrap_or_else(|| panic!("no `{prefix}` in:\n{stdout}"));
        assert!(report.contains("year"), "{report}");
    }
    let good = posts.join("good.md").display().to_string();
    assert!(
        stdout
            .lines()
            .filter(|l| l.starts_with(&good))
            .all(|l| !l.contains("error")),
        "{stdout}"
    );
    let out = dir.path().join("out");
    let (code, _, stderr) = dropfeed(&["build", "--out", out.to_str().expect("UTF-8")], &posts);
    assert_eq!(code, Some(0), "build: {stderr}");
    for file in ["feed.xml", "atom.xml", "feed.json"] {
        let bytes = std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let titles: Vec<String> = feed_rs(&bytes, file)
            .entries
            .into_iter()
            .filter_map(|e| e.title.map(|t| t.content))
            .collect();
        assert_eq!(titles, ["Still here"], "{file}");
    }
}

/// `/status?format=json`: the report of `file`.
async fn report(server: &Server, file: &str) -> Value {
    let (code, _, body) = server.admin_get("/status?format=json", &[]).await;
    assert_eq!(code, StatusCode::OK);
    let status: Value = serde_json::from_slice(&body).expect("JSON status");
    let suffix = format!("/posts/{file}");
    status["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .find(|p| p["file"].as_str().is_some_and(|f| f.ends_with(&suffix)))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Waits until `/status` shows `file` failed at `line`.
async fn until_failed_at(server: &Server, file: &str, line: usize) {
    let mut last = Value::Null;
    let failed = wait_until(DEADLINE, async || {
        last = report(server, file).await;
        last["state"] == "failed"
            && last["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["level"] == "error" && d["line"] == line))
    })
    .await;
    assert!(failed, "{file}: not failed at line {line}: {last:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_year_dropped_into_a_running_server_fails_that_post_only() {
    let (first, rest) = UNEXPRESSIBLE.split_at(1);
    // Present at start: the server starts.
    let server = Server::start(&with_good(first)).await;
    assert_eq!(server.titles("/feed.xml").await, ["Still here"]);
    until_failed_at(&server, first[0].0, first[0].2).await;
    // Dropped in while running: each fails alone and later changes are still published.
    for (round, (name, text, line)) in rest.iter().enumerate() {
        server.write_post(name, text);
        until_failed_at(&server, name, *line).await;
        let title = format!("Later {round}");
        server.write_post(
            &format!("later-{round}.md"),
            &markdown_post(&title, "2024-02-01T08:00:00Z", "Later."),
        );
        let what = format!("{title} published after {name} was dropped in");
        for feed in ["/feed.xml", "/atom.xml", "/feed.json"] {
            server
                .until_titles(feed, &what, |t| t.contains(&title))
                .await;
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_future_updated_does_not_freeze_last_modified() {
    let clock = TestClock::at("2026-03-01T12:00:00Z");
    let frozen = "---\ntitle: Frozen\ndate: 2026-01-05\nupdated: 9999-12-31\n---\nText.\n";
    let posts = [
        ("frozen.md", frozen.to_string()),
        (
            "plain.md",
            markdown_post("Plain", "2026-01-10T08:00:00Z", "Text."),
        ),
    ];
    let posts: Vec<(&str, &str)> = posts.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = Server::start_with(&posts, "", clock.clone()).await;
    let build_time = "Sun, 01 Mar 2026 12:00:00 GMT";
    for path in [
        "/feed.xml",
        "/atom.xml",
        "/feed.json",
        "/",
        "/posts/frozen/",
    ] {
        let (code, headers, _) = server.get(path, &[]).await;
        assert_eq!(code, StatusCode::OK, "{path}");
        let modified = header(&headers, "last-modified");
        let at = httpdate::parse_http_date(modified).expect("an HTTP date");
        let limit = httpdate::parse_http_date(build_time).expect("an HTTP date");
        assert!(
            at <= limit,
            "{path}: Last-Modified {modified} is after the build"
        );
    }
    let (_, headers, _) = server.get("/atom.xml", &[]).await;
    let modified = header(&headers, "last-modified").to_string();
    assert_eq!(modified, build_time);
    let since = [("if-modified-since", modified.as_str())];
    let (code, _, _) = server.get("/atom.xml", &since).await;
    assert_eq!(code, StatusCode::NOT_MODIFIED, "nothing changed yet");
    let warned = report(&server, "frozen.md").await;
    assert!(
        warned["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["level"] == "warning"
                && d["message"].as_str().is_some_and(|m| m.contains("future")))),
        "{warned:#}"
    );

    clock.set("2026-03-02T12:00:00Z");
    server.write_post(
        "new.md",
        &markdown_post("New", "2026-03-02T09:00:00Z", "News."),
    );
    let mut last = (StatusCode::NOT_MODIFIED, String::new());
    let seen = wait_until(DEADLINE, async || {
        let (code, headers, _) = server.get("/atom.xml", &since).await;
        last = (code, header(&headers, "last-modified").to_string());
        code == StatusCode::OK
    })
    .await;
    assert!(seen, "a poller still gets {last:?} after a new post");
    assert_eq!(last.1, "Mon, 02 Mar 2026 12:00:00 GMT");
    assert!(server
        .titles("/atom.xml")
        .await
        .contains(&"New".to_string()));
    server.stop().await;
}

/// Builds a one-post site as of the last second of year 9999 (every date is past), in a
/// zone; `Ok(None)` when the post does not parse (then its error names a line).
fn build_one(text: &str, zone: &str) -> Result<Option<pipeline::Built>, TestCaseError> {
    let (_dir, posts) = posts_folder(&[("dated.md", text)]);
    let config = config(&format!(
        "base_url = \"https://example.org/\"\ntimezone = \"{zone}\"\n"
    ));
    let mut library = Library::new(&posts, &config);
    library.scan().expect("the folder exists");
    if let Some(error) = library.errors().first() {
        prop_assert!(error.line >= 1, "{error}");
        return Ok(None);
    }
    let now = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .expect("a time");
    let built = common::feeds::build_library(&library, &config, now, None);
    prop_assert!(
        built.is_ok(),
        "a parsed post does not render: {:?}",
        built.err()
    );
    Ok(built.ok())
}

/// Date texts: every numeric form with any sign and number of digits, and written forms.
fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{1,6}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])",
        "[-+]?[0-9]{1,6}-(0[1-9]|1[0-2])-[0-2][0-9][ T][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?",
        "[0-9]{4}-(0[1-9]|1[0-2])-[0-2][1-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[-+][01][0-9]:[0-5][0-9])",
        "(0000|0001|9999)-(01-01|12-31)T(00:00|23:59):00(Z|[-+](14|23):59)",
        "(Mon, )?[0-9]{1,2} (Jan|December) [0-9]{4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_date_a_post_can_hold_renders_in_every_format(
        date in date_text(),
        updated in prop::option::of(date_text()),
        zone in prop::sample::select(&[
            "UTC",
            "Pacific/Kiritimati",
            "Pacific/Niue",
            "Asia/Kathmandu",
            "America/St_Johns",
        ][..]),
    ) {
        let updated = updated.map(|u| format!("updated: \"{u}\"\n")).unwrap_or_default();
        let text = format!("---\ntitle: Dated\ndate: \"{date}\"\n{updated}---\nBody.\n");
        let Some(built) = build_one(&text, zone)? else { return Ok(()) };
        for route in ["feed.xml", "atom.xml", "feed.json"] {
            let resource = built.snapshot.get(route).expect("a feed");
            let feed = feed_rs::parser::parse(&resource.identity.body[..]);
            prop_assert!(feed.is_ok(), "{route}: {:?}", feed.err());
            prop_assert_eq!(feed.unwrap().entries.len(), 1, "{}", route);
            prop_assert!(resource.last_modified_header.is_some(), "{route}");
        }
        prop_assert!(built.snapshot.resource("posts/dated/").is_some());
    }
}

/// Both formats write offsets in whole minutes: a local-mean-time offset such as +00:53:28
/// (Berlin before 1893) reads back up to 59 seconds away.
fn same_instant(read: Option<DateTime<FixedOffset>>, date: DateTime<FixedOffset>) -> bool {
    read.is_some_and(|read| (read - date).num_seconds().abs() < 60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The property `fuzz/fuzz_targets/parse_date.rs` explores for longer.
    #[test]
    fn every_parsed_date_reads_back_in_every_format(
        text in prop_oneof![date_text(), any::<String>()],
        zone in prop::sample::select(&["UTC", "Europe/Berlin", "Pacific/Kiritimati"][..]),
    ) {
        let tz: Tz = zone.parse().expect("a zone");
        if let Some(date) = parse_date(&text, tz) {
            prop_assert!(YEARS.contains(&date.year()), "{date:?}");
            let rss = DateTime::parse_from_rfc2822(&date.to_rfc2822()).ok();
            prop_assert!(same_instant(rss, date), "{:?}: {:?}", date, rss);
            let atom = DateTime::parse_from_rfc3339(&date.to_rfc3339()).ok();
            prop_assert!(same_instant(atom, date), "{:?}: {:?}", date, atom);
            let header = http_date(date.with_timezone(&Utc));
            let sent = httpdate::parse_http_date(header.to_str().expect("ASCII"));
            prop_assert!(sent.is_ok(), "{header:?}");
        }
    }
}

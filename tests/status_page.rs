//! `/status` (on the admin listener) and `dropfeed check` on a fixture with one post in each
//! state:
//!
//! - `published.md` (good), `draft.md` (`draft: true`), `scheduled.md` (dated 2099);
//! - `failed-later.md`: good at start, then overwritten with an unknown front-matter key
//!   (`titel: x`): failed, with its line, and its last good version still served;
//! - `failed-never.md`: broken from the start: failed, with its line, never published;
//! - `dup-a.md` / `dup-b.md`: the same front-matter `id`: the first path wins, the second
//!   is `duplicate`;
//! - `skipped.md`: over `max_post_bytes = 4096`: `skipped`.
//!
//! `/status?format=json` and `/status` with `Accept: application/json` give each file's
//! state; the HTML `/status` names each file and each state. The real binary's `check` on
//! the same folder exits 1 and prints each failure as `<file>:<line>: error: ...`, and
//! `--format json` lists the same errors; on a folder with only warnings, `check` exits 0
//! and `check --strict` exits 2. A headless-Chromium screenshot of `/status` is saved to
//! `target/test-artifacts/status_page/status.png` (skipped, visibly, without chromium).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::chromium;
use common::server::{header, markdown_post, wait_until, Server, DEADLINE};
use common::skip::skipped;
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;
use serde_json::Value;

const CONFIG: &str = "max_post_bytes = 4096\n";

/// The unknown key sits on line 4 of both broken posts.
const BROKEN_LINE: u64 = 4;

fn broken(title: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: 2024-01-05\ntitel: x\n---\n\nBroken body.\n")
}

fn with_front(front: &str, body: &str) -> String {
    format!("---\n{front}\n---\n\n{body}\n")
}

/// Every file of the fixture at start (`failed-later.md` still good).
fn fixture() -> Vec<(&'static str, String)> {
    let big = format!(
        "---\ntitle: \"Too big\"\ndate: 2024-01-06\nlang: en\n---\n\n{}\n",
        "All work and no play makes a very long post. ".repeat(120)
    );
    vec![
        (
            "published.md",
            with_front(
                "title: \"Good Post\"\ndate: 2024-01-01\nlang: en",
                "Published text.",
            ),
        ),
        (
            "draft.md",
            with_front(
                "title: \"Draft Post\"\ndate: 2024-01-02\nlang: en\ndraft: true",
                "Not yet.",
            ),
        ),
        (
            "scheduled.md",
            with_front(
                "title: \"Future Post\"\ndate: 2099-01-01\nlang: en",
                "From the future.",
            ),
        ),
        (
            "failed-later.md",
            with_front(
                "title: \"Last Good Version\"\ndate: 2024-01-03\nlang: en",
                "Good for now.",
            ),
        ),
        ("failed-never.md", broken("Never Parsed")),
        (
            "dup-a.md",
            with_front(
                "title: \"Dup A\"\ndate: 2024-01-04\nlang: en\nid: same-id",
                "First.",
            ),
        ),
        (
            "dup-b.md",
            with_front(
                "title: \"Dup B\"\ndate: 2024-01-04\nlang: en\nid: same-id",
                "Second.",
            ),
        ),
        ("skipped.md", big),
    ]
}

/// The expected state of each file once `failed-later.md` is broken.
const STATES: [(&str, &str); 8] = [
    ("published.md", "published"),
    ("draft.md", "draft"),
    ("scheduled.md", "scheduled"),
    ("failed-later.md", "failed"),
    ("failed-never.md", "failed"),
    ("dup-a.md", "published"),
    ("dup-b.md", "duplicate"),
    ("skipped.md", "skipped"),
];

fn file_name(file: &str) -> &str {
    Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

/// The report entry for one file name.
fn post<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["posts"]
        .as_array()
        .expect("posts[]")
        .iter()
        .find(|p| file_name(p["file"].as_str().unwrap_or("")) == name)
        .unwrap_or_else(|| panic!("{name} not in /status:\n{report:#}"))
}

async fn status_json(server: &Server, path: &str, headers: &[(&str, &str)]) -> Value {
    let (status, h, body) = server.admin_get(path, headers).await;
    assert_eq!(status, StatusCode::OK, "GET {path}");
    assert!(
        header(&h, "content-type").starts_with("application/json"),
        "GET {path} {headers:?}: content-type {}",
        header(&h, "content-type")
    );
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
}

fn assert_report(report: &Value, how: &str) {
    for (name, state) in STATES {
        let p = post(report, name);
        assert_eq!(p["state"], state, "{how}: {name}: {p:#}");
    }
    for name in ["failed-later.md", "failed-never.md"] {
        let p = post(report, name);
        let errors: Vec<&Value> = p["diagnostics"]
            .as_array()
            .expect("diagnostics[]")
            .iter()
            .filter(|d| d["level"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{how}: {name}: {p:#}");
        assert_eq!(errors[0]["line"], BROKEN_LINE, "{how}: {name}: {p:#}");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("titel"),
            "{how}: {name}: the message names the key: {p:#}"
        );
        let detail = p["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains(&format!("line {BROKEN_LINE}")),
            "{how}: {name}: {detail}"
        );
    }
    let later = post(report, "failed-later.md");
    let detail = later["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("still served"),
        "{how}: failed-later.md detail: {detail}"
    );
    assert_eq!(later["title"], "Last Good Version", "{how}");
    assert!(later["url"].is_string(), "{how}: {later:#}");
    let never = post(report, "failed-never.md");
    assert!(
        never["detail"]
            .as_str()
            .unwrap_or("")
            .contains("not published"),
        "{how}: {never:#}"
    );
    assert!(never["url"].is_null(), "{how}: {never:#}");
    let published = post(report, "published.md");
    assert!(published["url"].is_string(), "{how}: {published:#}");
    assert!(
        post(report, "scheduled.md")["detail"]
            .as_str()
            .unwrap_or("")
            .contains("2099"),
        "{how}"
    );
}

/// A run of the real binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn check(posts: &Path, config: &Path, extra: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .arg("check")
        .arg("--posts")
        .arg(posts)
        .arg("--config")
        .arg(config)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed check");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_check_report_every_state() {
    let owned = fixture();
    let files: Vec<(&str, &str)> = owned.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = Server::start_with(&files, CONFIG, Arc::new(SystemClock)).await;
    assert!(
        server
            .titles("/feed.xml")
            .await
            .contains(&"Last Good Version".to_string()),
        "failed-later.md is published at start"
    );

    server.write_post("failed-later.md", &broken("Broken Now"));
    let seen = wait_until(DEADLINE, async || {
        let report = status_json(&server, "/status?format=json", &[]).await;
        post(&report, "failed-later.md")["state"] == "failed"
    })
    .await;
    assert!(seen, "/status never said failed-later.md failed");

    let by_query = status_json(&server, "/status?format=json", &[]).await;
    assert_report(&by_query, "?format=json");
    let by_accept = status_json(&server, "/status", &[("accept", "application/json")]).await;
    assert_report(&by_accept, "Accept: application/json");

    // The feeds keep serving the last good version.
    let titles = server.titles("/feed.xml").await;
    assert!(
        titles.contains(&"Last Good Version".to_string()),
        "{titles:?}"
    );
    assert!(titles.contains(&"Good Post".to_string()), "{titles:?}");
    for absent in [
        "Draft Post",
        "Future Post",
        "Never Parsed",
        "Dup B",
        "Too big",
    ] {
        assert!(
            !titles.contains(&absent.to_string()),
            "{absent}: {titles:?}"
        );
    }

    // HTML by default.
    let (status, h, body) = server.admin_get("/status", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header(&h, "content-type").starts_with("text/html"),
        "content-type {}",
        header(&h, "content-type")
    );
    let html = String::from_utf8(body.to_vec()).expect("UTF-8 HTML");
    for (name, state) in STATES {
        assert!(html.contains(name), "HTML /status lacks {name}");
        assert!(html.contains(state), "HTML /status lacks {state}");
    }
    assert!(html.contains(&format!("line {BROKEN_LINE}")), "{html}");

    // On a blocking thread: the server keeps answering chromium meanwhile.
    let url = server.admin_url("/status");
    tokio::task::spawn_blocking(move || screenshot(&url))
        .await
        .expect("screenshot");

    // `dropfeed check` on the same folder, same config.
    let scratch = server.scratch_dir();
    let config = scratch.path().join("dropfeed.toml");
    std::fs::write(&config, CONFIG).expect("write config");
    let posts = server.posts_dir();
    let text = check(posts, &config, &[]);
    assert_eq!(
        text.code,
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        text.stdout,
        text.stderr
    );
    for name in ["failed-later.md", "failed-never.md"] {
        let prefix = format!("{}:{BROKEN_LINE}: error: ", posts.join(name).display());
        let line = text
            .stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{}", text.stdout));
        assert!(line.contains("titel"), "{line}");
    }
    let errors_in_text = text
        .stdout
        .lines()
        .filter(|l| l.contains(": error: "))
        .count();
    assert_eq!(errors_in_text, 2, "{}", text.stdout);

    let json = check(posts, &config, &["--format", "json"]);
    assert_eq!(json.code, Some(1), "{}", json.stderr);
    let diagnostics: Value = serde_json::from_str(&json.stdout)
        .unwrap_or_else(|e| panic!("check --format json: {e}\n{}", json.stdout));
    let mut errors: Vec<(String, u64)> = diagnostics
        .as_array()
        .expect("a JSON array of diagnostics")
        .iter()
        .filter(|d| d["level"] == "error")
        .map(|d| {
            (
                file_name(d["file"].as_str().expect("file")).to_string(),
                d["line"].as_u64().expect("line"),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("failed-later.md".to_string(), BROKEN_LINE),
            ("failed-never.md".to_string(), BROKEN_LINE),
        ]
    );
    server.stop().await;
}

#[test]
fn check_exit_codes_with_warnings_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("posts folder");
    std::fs::write(
        posts.join("no-lang.md"),
        markdown_post(
            "No Language",
            "2024-02-01",
            // Too short to detect a language: the site's is used, and the author is warned
            // (a language detected with confidence is only information).
            "Too short to tell.",
        ),
    )
    .expect("write post");
    let config = dir.path().join("dropfeed.toml");
    std::fs::write(&config, "").expect("write config");

    let plain = check(&posts, &config, &[]);
    assert_eq!(
        plain.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        plain.stdout,
        plain.stderr
    );
    let prefix = format!("{}: warning: ", posts.join("no-lang.md").display());
    assert!(
        plain
            .stdout
            .lines()
            .any(|l| l.starts_with(&prefix) && l.contains("language")),
        "no language warning in:\n{}",
        plain.stdout
    );
    assert!(!plain.stdout.contains(": error: "), "{}", plain.stdout);

    let strict = check(&posts, &config, &["--strict"]);
    assert_eq!(strict.code, Some(2), "{}", strict.stdout);
}

/// Headless Chromium's screenshot of `url`, saved as a test artifact; skipped (with a
/// message) where chromium is not installed.
fn screenshot(url: &str) {
    let Some(chromium) = chromium::find() else {
        skipped("chromium not installed; /status screenshot not taken");
        return;
    };
    let png = chromium::artifacts("status_page").join("status.png");
    chromium::screenshot(&chromium, url, &png, (1200, 900));
    eprintln!("screenshot of /status: {}", png.display());
}

/// A language detected with confidence is information: level `info` in `/status`'s JSON,
/// a quiet `class="info"` line in its HTML, never a warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detected_language_is_information_on_status() {
    let post = markdown_post(
        "No Language",
        "2024-02-01",
        "This post does not say which language it is written in, so the language has to be \
         detected from this rather long English paragraph about feeds, folders and posts.",
    );
    let server = Server::start(&[("no-lang.md", &post)]).await;
    let (_, _, body) = server.admin_get("/status?format=json", &[]).await;
    let status: Value = serde_json::from_slice(&body).expect("JSON");
    let diagnostics = status["posts"][0]["diagnostics"]
        .as_array()
        .expect("a list");
    let detected = diagnostics
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("detected as `en`"))
        })
        .unwrap_or_else(|| panic!("no language note: {status:#}"));
    assert_eq!(detected["level"], "info", "{detected}");
    assert!(
        diagnostics.iter().all(|d| d["level"] == "info"),
        "{status:#}"
    );
    let (_, _, html) = server.admin_get("/status", &[]).await;
    let html = String::from_utf8_lossy(&html);
    assert!(
        html.contains("<li class=\"info\">language not given: detected as `en`"),
        "{html}"
    );
    server.stop().await;
}

//! dropfeed's log lines as an operator's journal, file or log shipper receives them, from
//! the real binary:
//!
//! - `serve` with stderr to a file writes no escape byte (regression: tracing-subscriber
//!   coloured every line whatever stderr was, so journals and files were full of `\x1b[2m`);
//! - a post that does not parse is logged at ERROR, naming the file and the line;
//! - `--log-format json`, and `[log] format = "json"` in the config, write one JSON object
//!   per line, every line;
//! - on a terminal (a pseudo-terminal here) lines are coloured, unless `NO_COLOR` is set;
//! - `check` prints each finding once: the report, not a log line besides it.

mod common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::process::{dropfeed, http_get, Process};
use tempfile::TempDir;

const GOOD: &str = "---\ntitle: \"Fine\"\ndate: 2024-01-02\n---\nA post that parses.\n";
/// `titel` is a typo on line 3.
const BAD: &str = "---\ntitle: \"Broken\"\ntitel: \"oops\"\ndate: 2024-01-01\n---\nBody.\n";

/// A site with one good and one broken post, and a config file.
fn site(config: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("posts/");
    std::fs::write(posts.join("good.md"), GOOD).expect("good.md");
    std::fs::write(posts.join("bad.md"), BAD).expect("bad.md");
    std::fs::write(dir.path().join("dropfeed.toml"), config).expect("dropfeed.toml");
    (dir, posts)
}

/// Serves the site, asks for a feed, stops with SIGTERM, and returns stderr.
fn serve_and_stop(dir: &Path, posts: &Path, args: &[&str]) -> Vec<u8> {
    let mut server = Process::serve(posts, args, &dir.join("stderr.log"), |_| {});
    let (status, _) = http_get(server.addr, "/feed.xml").expect("GET /feed.xml");
    assert_eq!(status, 200);
    let exit = server.terminate();
    assert!(exit.success(), "{exit:?}\n{}", server.log_text());
    server.log_bytes()
}

#[test]
fn serve_writes_no_escape_byte_to_a_file() {
    let (dir, posts) = site("");
    let log = serve_and_stop(dir.path(), &posts, &[]);
    let text = String::from_utf8_lossy(&log);
    assert!(!log.contains(&0x1b), "escape bytes in the log:\n{text:?}");
    assert!(text.contains("serving on"), "{text}");
    let failure = text
        .lines()
        .find(|l| l.contains("bad.md:3"))
        .unwrap_or_else(|| panic!("the broken post is not logged:\n{text}"));
    assert!(failure.contains("ERROR"), "not logged at ERROR: {failure}");
}

/// Every line is a JSON object with a time, a level and a message.
fn json_lines(log: &[u8]) -> Vec<serde_json::Value> {
    let text = std::str::from_utf8(log).expect("UTF-8 log");
    text.lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\n{text}"));
            for key in ["timestamp", "level", "message"] {
                assert!(value.get(key).is_some(), "no {key} in {line}");
            }
            value
        })
        .collect()
}

fn assert_json_log(log: &[u8]) {
    let lines = json_lines(log);
    assert!(lines.len() >= 3, "{lines:?}");
    let failure = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("bad.md:3"))
        })
        .expect("the broken post is logged");
    assert_eq!(failure["level"], "ERROR", "{failure}");
    assert!(lines.iter().any(|l| l["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("serving on"))));
    assert!(lines.iter().any(|l| l["message"] == "stopped"));
}

#[test]
fn log_format_json_writes_one_object_per_line() {
    let (dir, posts) = site("");
    assert_json_log(&serve_and_stop(
        dir.path(),
        &posts,
        &["--log-format", "json"],
    ));
}

#[test]
fn log_format_json_from_the_config() {
    let (dir, posts) = site("[log]\nformat = \"json\"\n");
    assert_json_log(&serve_and_stop(dir.path(), &posts, &[]));
}

/// Runs `dropfeed build` over the site with stderr on a pseudo-terminal; returns what the
/// terminal received.
fn build_on_a_terminal(no_color: Option<&str>) -> Vec<u8> {
    let (dir, posts) = site("");
    let (mut master, slave) = pty();
    let mut command = dropfeed();
    command
        .arg("build")
        .arg("--posts")
        .arg(&posts)
        .arg("--out")
        .arg(dir.path().join("out"))
        .stderr(Stdio::from(slave));
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let mut child = command.spawn().expect("dropfeed build starts");
    // The child holds the only other end now: reading ends (EIO) once it exits.
    drop(command);
    let mut seen = Vec::new();
    let _ = master.read_to_end(&mut seen);
    assert!(child.wait().expect("wait").success());
    seen
}

/// A pseudo-terminal: (master to read, slave for the child's stderr).
fn pty() -> (std::fs::File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the integers given; the null
    // pointers ask for no name and default terminal settings.
    let result = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(result, 0, "openpty");
    // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    }
}

#[test]
fn colour_on_a_terminal_but_not_with_no_color() {
    let coloured = build_on_a_terminal(None);
    assert!(
        coloured.contains(&0x1b),
        "no colour on a terminal: {:?}",
        String::from_utf8_lossy(&coloured)
    );
    let plain = build_on_a_terminal(Some("1"));
    let text = String::from_utf8_lossy(&plain);
    assert!(text.contains("bad.md:3"), "{text:?}");
    assert!(!plain.contains(&0x1b), "colour despite NO_COLOR: {text:?}");
}

#[test]
fn check_prints_each_finding_once() {
    let (_dir, posts) = site("");
    for log in ["warn", "info"] {
        let output = dropfeed()
            .args(["check", "--posts"])
            .arg(&posts)
            .env("RUST_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("dropfeed check runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let mentions = all.matches("unknown field `titel`").count();
        assert_eq!(mentions, 1, "RUST_LOG={log}:\n{all}");
    }
}

//! `dropfeed check` and `dropfeed build` as an author meets them, run as the real binary:
//!
//! - `check` on a copy of the shipped `posts/` exits 0 and reports no error; `check --strict`
//!   exits 0 too: a language detected with confidence and links made absolute are
//!   information (`info`), printed with `--verbose` and in the JSON, not warnings (regression:
//!   they were warnings, so the shipped posts failed `--strict` with exit 2);
//! - an unknown YAML front-matter key exits 1 and names `<folder>/bad.md:3:` and the key,
//!   while the good post beside it gets no error;
//! - a TOML date that is not a date (text or a malformed native literal) names its line;
//! - a YAML error message names only the file line, not the parser's line inside the block
//!   (regression: serde-saphyr's block-relative `line N column M:` prefix used to leak through);
//! - `build` on a folder with one broken post still publishes the good ones in every format.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::feeds::{copy_posts, feed_rs, feedparser, sample_posts, FEED_FILES};
use tempfile::TempDir;

/// What a run of the binary left behind.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn dropfeed(args: &[&str], posts: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(args)
        .arg("--posts")
        .arg(posts)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A temporary `posts/` folder holding the given files.
fn posts_folder(files: &[(&str, &str)]) -> (TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("create posts/");
    for (name, text) in files {
        std::fs::write(posts.join(name), text).expect("write a post");
    }
    (dir, posts)
}

/// The report line about one file, failing the test when there is none.
fn report_for<'a>(run: &'a Run, file: &Path) -> &'a str {
    let prefix = format!("{}:", file.display());
    run.stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("nothing reported about {prefix}\n{}", run.stdout))
}

const GOOD_YAML: &str = "---\ntitle: \"Still here\"\ndate: 2024-01-02\n---\nA good post.\n";
const GOOD_TEXT: &str = "3 January 2024\n\nPlain and fine\n\nA plain text post that parses.\n";
/// `titel` is a typo on line 3 of the file.
const UNKNOWN_KEY: &str = "---\ntitle: \"Broken\"\ntitel: \"oops\"\ndate: 2024-01-01\n---\nBody.\n";

#[test]
fn shipped_posts_pass_check() {
    let (_dir, posts) = copy_posts(&sample_posts());
    let run = dropfeed(&["check"], &posts);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("error:"), "{}", run.stdout);
}

#[test]
fn shipped_posts_pass_check_strict() {
    let (_dir, posts) = copy_posts(&sample_posts());
    let run = dropfeed(&["check", "--strict"], &posts);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "only information, shown with --verbose");
    let verbose = dropfeed(&["check", "--strict", "--verbose"], &posts);
    assert_eq!(verbose.code, Some(0), "{}", verbose.stderr);
    let notes: Vec<&str> = verbose.stdout.lines().collect();
    assert!(
        notes
            .iter()
            .any(|l| l.contains(": info: language not given: detected as")),
        "{notes:?}"
    );
    assert!(notes.iter().all(|l| l.contains(": info: ")), "{notes:?}");
    let json = dropfeed(&["check", "--strict", "--format", "json"], &posts);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let diagnostics: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let levels: BTreeSet<&str> = diagnostics
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["level"].as_str())
        .collect();
    assert_eq!(levels, BTreeSet::from(["info"]), "{diagnostics:#}");
}

#[test]
fn unknown_yaml_key_names_file_line_and_key() {
    let (_dir, posts) = posts_folder(&[("bad.md", UNKNOWN_KEY), ("good.md", GOOD_YAML)]);
    let run = dropfeed(&["check"], &posts);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let expected = format!("{}:3:", posts.join("bad.md").display());
    assert!(
        run.stdout.contains(&expected),
        "{expected} in:\n{}",
        run.stdout
    );
    assert!(report_for(&run, &posts.join("bad.md")).contains("titel"));
    let good = posts.join("good.md").display().to_string();
    let about_good = run.stdout.lines().filter(|l| l.starts_with(&good));
    assert!(
        about_good.clone().all(|l| !l.contains("error")),
        "{:?}",
        about_good.collect::<Vec<_>>()
    );
}

#[test]
fn bad_toml_dates_name_their_lines() {
    let text_date =
        "+++\ntitle = \"Bad date\"\ntags = [\"x\"]\ndate = \"2024-02-30\"\n+++\nBody.\n";
    let native_date = "+++\ntitle = \"Bad literal\"\n\n\ndate = 2024-13-01\n+++\nBody.\n";
    let (_dir, posts) =
        posts_folder(&[("text-date.md", text_date), ("native-date.md", native_date)]);
    let run = dropfeed(&["check"], &posts);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let text_report = report_for(&run, &posts.join("text-date.md"));
    let line4 = format!("{}:4:", posts.join("text-date.md").display());
    assert!(text_report.starts_with(&line4), "{text_report}");
    assert!(text_report.contains("2024-02-30"), "{text_report}");
    let native_report = report_for(&run, &posts.join("native-date.md"));
    let line5 = format!("{}:5:", posts.join("native-date.md").display());
    assert!(native_report.starts_with(&line5), "{native_report}");
}

#[test]
fn yaml_error_message_names_only_the_file_line() {
    let (_dir, posts) = posts_folder(&[("bad.md", UNKNOWN_KEY)]);
    let run = dropfeed(&["check"], &posts);
    let report = report_for(&run, &posts.join("bad.md"));
    let message = report
        .split_once(": error: ")
        .map_or(report, |(_, message)| message);
    // Was "…/bad.md:3: error: line 2 column 1: unknown field `titel`, …": two lines named for
    // one problem, the second counted from inside the front matter.
    assert!(!message.contains("line "), "{report}");
}

#[test]
fn broken_post_does_not_stop_the_others_from_publishing() {
    let (dir, posts) = posts_folder(&[
        ("bad.md", UNKNOWN_KEY),
        ("good.md", GOOD_YAML),
        ("plain.txt", GOOD_TEXT),
    ]);
    let out = dir.path().join("out");
    let run = dropfeed(
        &["build", "--out", out.to_str().expect("UTF-8 path")],
        &posts,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected: BTreeSet<&str> = ["Still here", "Plain and fine"].into();
    for file in FEED_FILES {
        let bytes = std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let feed = feed_rs(&bytes, file);
        let titles: BTreeSet<&str> = feed
            .entries
            .iter()
            .filter_map(|e| e.title.as_ref().map(|t| t.content.as_str()))
            .collect();
        assert_eq!(titles, expected, "{file}");
    }
    let paths = FEED_FILES.map(|f| out.join(f));
    for result in feedparser(&paths.each_ref().map(|p| p.as_path())) {
        assert_eq!(result["bozo"], false, "{result}");
        assert_eq!(result["entries"].as_array().map(Vec::len), Some(2));
    }
}

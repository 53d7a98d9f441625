//! Issue 13, `dropfeed new`: the real binary writes a draft by default.
//!
//! - The file it prints on stdout exists, parses as a draft with the title, tags and the
//!   placeholder text, and stderr says how to publish it (remove `draft: true`).
//! - Written into a folder a server is watching, the draft changes no public byte and no
//!   `ETag` (its placeholder text is in no feed) and shows on the admin `/status` as a
//!   draft; `--publish` writes a post that is in the feeds at once.
//! - It never overwrites: the same title on the same day fails and leaves the file as it was.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use common::server::{markdown_post, wait_until, Server, DEADLINE};
use dropfeed::config::Config;
use dropfeed::load::parse_context;
use dropfeed::pipeline::SystemClock;

const PLACEHOLDER: &str = "Write here.";

fn new_post(posts: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .arg("new")
        .args(args)
        .arg("--posts")
        .arg(posts)
        .output()
        .expect("dropfeed new runs")
}

/// The path `dropfeed new` printed, after checking that it succeeded.
fn written(output: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dropfeed new failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(stdout.trim())
}

fn parse(path: &Path, posts: &Path) -> dropfeed::post::Post {
    let config = Config::parse(Path::new("t.toml"), "", None).expect("config");
    let text = std::fs::read_to_string(path).expect("the new post");
    let source = path.strip_prefix(posts).expect("inside the posts folder");
    let source = source.to_string_lossy();
    dropfeed::post::parse(&source, path, &text, &parse_context(&config)).expect("it parses")
}

#[test]
fn new_writes_a_draft_and_says_how_to_publish_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    let output = new_post(&posts, &["A Fresh Idea", "--tags", "ideas, drafts"]);
    let path = written(&output);
    assert!(path.starts_with(&posts), "{}", path.display());
    let post = parse(&path, &posts);
    assert!(post.draft, "a draft by default");
    assert_eq!(post.title, "A Fresh Idea");
    assert_eq!(post.tags, ["ideas", "drafts"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("draft: true") && stderr.contains("remove"),
        "how to publish it: {stderr}"
    );

    // Never over an existing file.
    let before = std::fs::read(&path).expect("the draft");
    let again = new_post(&posts, &["A Fresh Idea"]);
    assert!(
        !again.status.success(),
        "a second `new` of the same title fails"
    );
    assert_eq!(std::fs::read(&path).expect("the draft"), before);

    let published = written(&new_post(&posts, &["Out Now", "--publish"]));
    assert!(
        !parse(&published, &posts).draft,
        "--publish writes no draft"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_draft_changes_nothing_readers_see() {
    let existing = markdown_post("Already Out", "2020-01-01T00:00:00Z", "Old text.");
    let server = Server::start_with(&[("old.md", &existing)], "", Arc::new(SystemClock)).await;
    let feeds = ["/feed.xml", "/atom.xml", "/feed.json", "/"];
    let mut etags = Vec::new();
    for path in feeds {
        etags.push(server.etag(path).await);
    }
    let draft = written(&new_post(server.posts_dir(), &["Secret Plans"]));
    let name = draft.file_name().expect("a file name").to_string_lossy();
    let listed = wait_until(DEADLINE, async || {
        let (_, _, body) = server.admin_get("/status?format=json", &[]).await;
        let status: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let posts = status["posts"].as_array().cloned().unwrap_or_default();
        posts.iter().any(|p| {
            p["file"].as_str().is_some_and(|f| f.ends_with(&*name)) && p["state"] == "draft"
        })
    })
    .await;
    assert!(listed, "/status lists the new draft");
    for (path, etag) in feeds.iter().zip(&etags) {
        let (_, _, body) = server.get(path, &[]).await;
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("Secret Plans") && !body.contains(PLACEHOLDER),
            "{path}"
        );
        assert_eq!(&server.etag(path).await, etag, "{path} is unchanged");
    }

    new_post(server.posts_dir(), &["Live Now", "--publish"]);
    let titles = server
        .until_titles("/atom.xml", "the published post", |t| {
            t.contains(&"Live Now".to_string())
        })
        .await;
    assert!(!titles.contains(&"Secret Plans".to_string()), "{titles:?}");
    server.stop().await;
}

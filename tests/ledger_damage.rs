//! The id ledger never forgets (issue 11, bug 5), as readers and operators meet it:
//!
//! - one invalid UTF-8 byte on one ledger line: every other post keeps its recorded id in
//!   the feeds, the post of that line and new posts are held back (not published under a
//!   fresh id), `/status` and `dropfeed check` name the file and line, and the file is not
//!   overwritten; once the line is fixed, its post comes back under its recorded id and new
//!   posts get ids again;
//! - file names holding a tab, a newline or a backslash keep their ids across a restart with
//!   another `id_authority` (the old writer broke their lines apart);
//! - a ledger that cannot be read at all makes `check` fail and `build` refuse, naming it;
//! - a ledger write that fails shows on `/status`.
//!
//! Ids are recorded under another authority than the server's, so an id that was forgotten
//! and issued again cannot pass for the recorded one.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use common::server::{wait_until, DEADLINE};
use dropfeed::app::{self, Running};
use dropfeed::config::Config;
use dropfeed::pipeline::SystemClock;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

const OLD_HEADER: &str =
    "# dropfeed id ledger: id, source, date, slug, title. Ids here never change.\n";

fn post_text(title: &str, day: u32) -> String {
    format!("---\ntitle: {title}\ndate: 2024-01-{day:02}\n---\nAbout {title}.\n")
}

/// A ledger line as the old (format 1) writer wrote it, with an id from `old.example`.
fn old_line(name: &str, day: u32) -> String {
    format!(
        "tag:old.example,2024-01-{day:02}:{name}\t{name}.md\t2024-01-{day:02}T00:00:00+00:00\t{name}\t{name}\n"
    )
}

/// `posts/` with a.md, b.md and c.md, and a ledger recording their ids whose line for b.md
/// (line 3) carries one invalid byte in its title.
fn posts_with_one_bad_byte() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(posts.join(".dropfeed")).expect("create posts/.dropfeed");
    for (name, day) in [("a", 1), ("b", 2), ("c", 3)] {
        std::fs::write(posts.join(format!("{name}.md")), post_text(name, day)).expect("post");
    }
    let mut ledger = OLD_HEADER.as_bytes().to_vec();
    ledger.extend_from_slice(old_line("a", 1).as_bytes());
    let b = old_line("b", 2);
    ledger.extend_from_slice(b.trim_end().as_bytes());
    ledger.extend_from_slice(b"\xe9\n"); // a Latin-1 "é" where UTF-8 was expected
    ledger.extend_from_slice(old_line("c", 3).as_bytes());
    std::fs::write(posts.join(".dropfeed/ids.tsv"), &ledger).expect("write the ledger");
    (dir, posts, ledger)
}

/// The service over a posts folder this test owns.
struct Instance {
    running: Running,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Instance {
    async fn start(posts: &Path) -> Instance {
        let bind = async || {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
            listener.expect("bind 127.0.0.1:0")
        };
        let (public, admin) = (bind().await, Some(bind().await));
        let base = format!("http://{}/", public.local_addr().expect("local addr"));
        // A base_url: without one ids are provisional, and none would be recorded.
        let toml = "base_url = \"https://example.org/\"\n";
        let config = Config::parse(Path::new("test.toml"), toml, Some(&base)).expect("config");
        let listeners = app::Listeners { public, admin };
        let running = app::start(posts, Arc::new(config), Arc::new(SystemClock), listeners)
            .await
            .expect("app starts");
        Instance {
            running,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// A body from the public listener.
    async fn body(&self, path: &str) -> Bytes {
        self.body_at(self.running.addr, path).await
    }

    async fn body_at(&self, addr: std::net::SocketAddr, path: &str) -> Bytes {
        let uri = format!("http://{addr}{path}");
        let request = hyper::Request::get(&uri)
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = tokio::time::timeout(DEADLINE, self.client.request(request))
            .await
            .unwrap_or_else(|_| panic!("GET {path}: no answer within {DEADLINE:?}"))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
    }

    /// Entry id by title, from the Atom feed as feed-rs reads it.
    async fn ids(&self) -> Vec<(String, String)> {
        let feed = feed_rs::parser::parse(&self.body("/atom.xml").await[..]).expect("atom parses");
        let mut ids: Vec<(String, String)> = feed
            .entries
            .into_iter()
            .map(|e| (e.title.map(|t| t.content).unwrap_or_default(), e.id))
            .collect();
        ids.sort();
        ids
    }

    /// `/status`, from the admin listener.
    async fn status(&self) -> Value {
        let admin = self.running.admin_addr.expect("an admin listener");
        let body = self.body_at(admin, "/status?format=json").await;
        serde_json::from_slice(&body).expect("/status JSON")
    }

    async fn stop(self) {
        drop(self.client);
        self.running.stop().await.expect("server stops cleanly");
    }
}

/// The state `/status` gives a file, if it lists it.
fn state_of<'a>(status: &'a Value, name: &str) -> Option<&'a str> {
    status["posts"]
        .as_array()
        .expect("posts[]")
        .iter()
        .find(|p| p["file"].as_str().is_some_and(|f| f.ends_with(name)))
        .and_then(|p| p["state"].as_str())
}

/// The site-wide diagnostics about the ledger file.
fn ledger_notes(status: &Value) -> Vec<(Option<u64>, String)> {
    status["site"]
        .as_array()
        .expect("site[]")
        .iter()
        .filter(|d| {
            d["file"]
                .as_str()
                .is_some_and(|f| f.ends_with(".dropfeed/ids.tsv"))
        })
        .map(|d| {
            (
                d["line"].as_u64(),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn id(name: &str, day: u32) -> (String, String) {
    (
        name.to_string(),
        format!("tag:old.example,2024-01-{day:02}:{name}"),
    )
}

#[tokio::test]
async fn one_bad_ledger_byte_keeps_every_other_id() {
    let (_dir, posts, ledger) = posts_with_one_bad_byte();
    let server = Instance::start(&posts).await;
    // a and c under their recorded ids; b is held back, not published under a new one.
    assert_eq!(server.ids().await, vec![id("a", 1), id("c", 3)]);
    let status = server.status().await;
    assert_eq!(state_of(&status, "b.md"), Some("held"), "{status:#}");
    let notes = ledger_notes(&status);
    assert!(
        notes
            .iter()
            .any(|(line, m)| *line == Some(3) && m.contains("UTF-8")),
        "{notes:?}"
    );

    // A new post while the line is unreadable: held back too; the file is never rewritten.
    std::fs::write(posts.join("d.md"), post_text("d", 4)).expect("post");
    let held = wait_until(DEADLINE, async || {
        state_of(&server.status().await, "d.md") == Some("held")
    })
    .await;
    assert!(held, "d.md is held back while no id can be issued");
    assert_eq!(server.ids().await, vec![id("a", 1), id("c", 3)]);
    let file = posts.join(".dropfeed/ids.tsv");
    assert_eq!(
        std::fs::read(&file).expect("ledger"),
        ledger,
        "never overwritten"
    );

    // The operator fixes the line; the next change (any edit, here of a published post)
    // publishes b under its recorded id and gives d a new one.
    let fixed: Vec<u8> = ledger.iter().filter(|&&b| b != 0xe9).copied().collect();
    std::fs::write(&file, fixed).expect("fix the ledger");
    std::fs::write(posts.join("a.md"), post_text("a", 1) + "Edited.\n").expect("post");
    let all = wait_until(DEADLINE, async || server.ids().await.len() == 4).await;
    let ids = server.ids().await;
    assert!(
        all,
        "every post is published once the ledger reads whole: {ids:?}"
    );
    assert_eq!(ids[..3], [id("a", 1), id("b", 2), id("c", 3)]);
    assert!(ledger_notes(&server.status().await).is_empty());
    server.stop().await;
    let text = std::fs::read_to_string(&file).expect("the ledger is UTF-8 again");
    assert!(
        text.contains("tag:old.example,2024-01-02:b\tb.md"),
        "{text}"
    );
    assert!(text.contains("\td.md\t"), "the new id is recorded: {text}");
}

/// `dropfeed ARGS --posts POSTS`: exit code, stdout, stderr.
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

#[test]
fn check_and_build_name_the_ledger_line_that_cannot_be_read() {
    let (dir, posts, ledger) = posts_with_one_bad_byte();
    let (code, stdout, stderr) = dropfeed(&["check"], &posts);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let line = format!("{}:3: error:", posts.join(".dropfeed/ids.tsv").display());
    assert!(stdout.contains(&line), "{line} in:\n{stdout}");
    let b = format!("{}: error: not published", posts.join("b.md").display());
    assert!(stdout.contains(&b), "{b} in:\n{stdout}");
    let out = dir.path().join("out");
    let (code, _, stderr) = dropfeed(&["build", "--out", out.to_str().expect("UTF-8")], &posts);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("ids.tsv:3"), "{stderr}");
    assert!(!out.exists(), "an export missing posts is not written");
    let file = posts.join(".dropfeed/ids.tsv");
    assert_eq!(
        std::fs::read(file).expect("ledger"),
        ledger,
        "never overwritten"
    );
}

#[test]
fn unreadable_ledger_stops_id_issuing_loudly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    // A folder where the file belongs: unreadable whoever runs the test (root included).
    std::fs::create_dir_all(posts.join(".dropfeed/ids.tsv")).expect("mkdir");
    std::fs::write(posts.join("a.md"), post_text("a", 1)).expect("post");
    let (code, stdout, stderr) = dropfeed(&["check"], &posts);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let file = format!(
        "{}: error: the id ledger cannot be read",
        posts.join(".dropfeed/ids.tsv").display()
    );
    assert!(stdout.contains(&file), "{file} in:\n{stdout}");
    let out = dir.path().join("out");
    let (code, _, stderr) = dropfeed(&["build", "--out", out.to_str().expect("UTF-8")], &posts);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn file_name_with_tab_keeps_its_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("mkdir");
    let names = [
        "tab\there.md",
        "new\nline.md",
        "carriage\rreturn.md",
        "back\\slash.md",
        "plain.md",
    ];
    for (day, name) in (1..).zip(names) {
        std::fs::write(posts.join(name), post_text(&format!("Post {day}"), day)).expect("post");
    }
    let config = dir.path().join("dropfeed.toml");
    let ids_with = |authority: &str, out: &str| {
        let toml = format!("base_url = \"https://example.org/\"\nid_authority = \"{authority}\"\n");
        std::fs::write(&config, toml).expect("config");
        let out = dir.path().join(out);
        let args = [
            "build",
            "--config",
            config.to_str().expect("UTF-8"),
            "--out",
            out.to_str().expect("UTF-8"),
        ];
        let (code, _, stderr) = dropfeed(&args, &posts);
        assert_eq!(code, Some(0), "{stderr}");
        let feed = std::fs::read(out.join("atom.xml")).expect("atom.xml");
        let feed = feed_rs::parser::parse(&feed[..]).expect("atom parses");
        let mut ids: Vec<String> = feed.entries.into_iter().map(|e| e.id).collect();
        ids.sort();
        ids
    };
    let first = ids_with("first.example", "out1");
    assert_eq!(first.len(), names.len());
    assert!(
        first.iter().all(|id| id.starts_with("tag:first.example,")),
        "{first:?}"
    );
    assert_eq!(
        ids_with("second.example", "out2"),
        first,
        "every id survived the restart"
    );
    let (code, stdout, _) = dropfeed(
        &["check", "--config", config.to_str().expect("UTF-8")],
        &posts,
    );
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn ledger_write_failure_shows_on_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(posts.join(".dropfeed")).expect("mkdir");
    std::fs::write(posts.join("a.md"), post_text("a", 1)).expect("post");
    let server = Instance::start(&posts).await;
    assert!(ledger_notes(&server.status().await).is_empty());
    let file = posts.join(".dropfeed/ids.tsv");
    let recorded = wait_until(DEADLINE, async || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("\ta.md\t"))
    })
    .await;
    assert!(
        recorded,
        "the first id is written after the first publication"
    );
    // The ledger is written under a lock taken on a file beside it: a folder in its place
    // makes the write fail, whoever runs the test (root included).
    let blocker = dropfeed::ids::lock_path(&posts);
    std::fs::remove_file(&blocker).expect("the lock file of the first write");
    std::fs::create_dir(&blocker).expect("mkdir");
    std::fs::write(posts.join("b.md"), post_text("b", 2)).expect("post");
    let shown = wait_until(DEADLINE, async || {
        ledger_notes(&server.status().await)
            .iter()
            .any(|(_, m)| m.contains("cannot be written"))
    })
    .await;
    assert!(shown, "{:#}", server.status().await);
    // Written again (on the next change), the note goes away.
    std::fs::remove_dir(&blocker).expect("rmdir");
    std::fs::write(posts.join("c.md"), post_text("c", 3)).expect("post");
    let cleared = wait_until(DEADLINE, async || {
        ledger_notes(&server.status().await).is_empty()
    })
    .await;
    assert!(cleared, "{:#}", server.status().await);
    server.stop().await;
}

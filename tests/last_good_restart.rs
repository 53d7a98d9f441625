//! A broken post keeps its last good version across a restart (issue 14). Posts break in
//! the three ways an author meets — front matter that does not parse, bytes that are not
//! UTF-8, a date that fails — one while the server runs, the others while it is stopped;
//! after a restart (the real binary, twice):
//!
//! - readers still get each post's last good version (feed-rs reads the feed);
//! - `/status` still says each one failed, and `dropfeed check` fails naming them;
//! - a damaged store entry is ignored and reported, never served, never a crash;
//! - files in the state folder that dropfeed did not write are left alone.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::feeds::feed_rs;
use common::process::{dropfeed, free_addr, http_get, Process};

const DEADLINE: Duration = Duration::from_secs(60);

fn post(title: &str, day: u32) -> String {
    format!("---\ntitle: {title}\ndate: 2024-03-{day:02}\n---\nAbout {title}.\n")
}

/// The titles the Atom feed shows.
fn titles(addr: SocketAddr) -> Vec<String> {
    let Ok((200, body)) = http_get(addr, "/atom.xml") else {
        return Vec::new();
    };
    let mut titles: Vec<String> = feed_rs(&body, "atom.xml")
        .entries
        .into_iter()
        .filter_map(|e| e.title.map(|t| t.content))
        .collect();
    titles.sort();
    titles
}

fn until_titles(server: &Process, expected: &[&str]) {
    let deadline = Instant::now() + DEADLINE;
    while titles(server.addr) != expected {
        assert!(
            Instant::now() < deadline,
            "{:?} instead of {expected:?}:\n{}",
            titles(server.addr),
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (file, state) of every post `/status` lists.
fn states(admin: SocketAddr) -> Vec<(String, String)> {
    let (_, body) = http_get(admin, "/status?format=json").expect("/status");
    let status: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let posts = status["posts"].as_array().cloned().unwrap_or_default();
    let mut states: Vec<(String, String)> = posts
        .iter()
        .map(|p| {
            let file = p["file"].as_str().unwrap_or("");
            let name = file.rsplit('/').next().unwrap_or("").to_string();
            (name, p["state"].as_str().unwrap_or("").to_string())
        })
        .collect();
    states.sort();
    states
}

fn serve(posts: &Path, log: &Path, admin: SocketAddr) -> Process {
    let args = ["--admin-listen", &admin.to_string()];
    let config = posts.parent().expect("parent").join("dropfeed.toml");
    std::fs::write(&config, "base_url = \"https://example.org/\"\n").expect("config");
    let config = config.to_str().expect("UTF-8").to_string();
    let args = [args[0], args[1], "--config", &config];
    Process::serve(posts, &args, log, |_| {})
}

/// The store's entry for a post (named by a hash of its path).
fn entry_of(posts: &Path, source: &str) -> std::path::PathBuf {
    let key = blake3::hash(source.as_bytes()).to_hex();
    posts.join(".dropfeed/last-good-v2").join(&key[..32])
}

#[test]
fn broken_posts_keep_their_last_good_version_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).expect("mkdir");
    for (name, title, day) in [("a", "A", 1), ("b", "B", 2), ("c", "C", 3), ("d", "D", 4)] {
        std::fs::write(posts.join(format!("{name}.md")), post(title, day)).expect("post");
    }
    let admin = free_addr();
    let mut first = serve(&posts, &dir.path().join("1.log"), admin);
    until_titles(&first, &["A", "B", "C", "D"]);
    // Broken while it runs: front matter that does not parse.
    std::fs::write(posts.join("a.md"), "---\ntitle: [A\n---\nBody\n").expect("break a");
    let deadline = Instant::now() + DEADLINE;
    while !states(admin).contains(&("a.md".into(), "failed".into())) {
        assert!(Instant::now() < deadline, "a.md never failed");
        std::thread::sleep(Duration::from_millis(20));
    }
    until_titles(&first, &["A", "B", "C", "D"]);
    first.terminate();

    // Broken while stopped: bytes that are not UTF-8, a date that fails, and d.md's stored
    // version damaged (one byte of its body changed) before d.md breaks too.
    std::fs::write(posts.join("b.md"), b"---\ntitle: B\xff\n---\n").expect("break b");
    std::fs::write(
        posts.join("c.md"),
        post("C", 3).replace("2024-03-03", "2024-13-45"),
    )
    .expect("break c");
    let entry = entry_of(&posts, "d.md");
    let mut bytes = std::fs::read(&entry).expect("read entry");
    *bytes.last_mut().expect("bytes") ^= 1;
    std::fs::write(&entry, bytes).expect("damage entry");
    std::fs::write(posts.join("d.md"), "---\ndate: [\n---\n").expect("break d");
    let foreign = [
        posts.join(".dropfeed/last-good-v2/README"),
        posts.join(".dropfeed/last-good-v2/notes.txt"),
    ];
    for file in &foreign {
        std::fs::write(file, "mine\n").expect("a file of the operator's");
    }

    let mut again = serve(&posts, &dir.path().join("2.log"), admin);
    until_titles(&again, &["A", "B", "C"]);
    let failed: Vec<(String, String)> = ["a.md", "b.md", "c.md", "d.md"]
        .iter()
        .map(|f| (f.to_string(), "failed".to_string()))
        .collect();
    assert_eq!(states(admin), failed);
    assert!(
        again
            .log_text()
            .contains("last good version of d.md is ignored"),
        "{}",
        again.log_text()
    );
    again.terminate();
    for file in &foreign {
        assert!(file.is_file(), "{} was removed", file.display());
    }
    let check = dropfeed()
        .args(["check", "--posts"])
        .arg(&posts)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("check runs");
    let stderr = String::from_utf8_lossy(&check.stdout) + String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    for name in ["a.md", "b.md", "c.md", "d.md"] {
        assert!(stderr.contains(name), "check names {name}:\n{stderr}");
    }
}

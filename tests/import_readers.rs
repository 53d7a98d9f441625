//! Moving a feed to dropfeed without its readers noticing (issue 17): an old site serves its
//! feed with `ETag` and `Last-Modified`; a reader (Python feedparser, keeping the etag, the
//! modified date and the ids it has seen, as feedparser-based readers do) polls it, gets
//! `304` when nothing changed; the feed is imported from its URL; dropfeed serves the
//! imported posts; the reader, still polling the old path (now a `301` to dropfeed's feed)
//! or switched to the new URL, sees zero new entries, and `304` on its next poll.

mod common;

use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::feeds::config;
use common::old_site::{Document, OldSite};
use common::server::Server;
use dropfeed::pipeline::SystemClock;
use serde_json::Value;

/// One poll by a feedparser reader whose state (etag, modified, ids seen) lives in `state`.
const READER: &str = r#"
import json, sys, feedparser
url, path = sys.argv[1], sys.argv[2]
try:
    state = json.load(open(path))
except FileNotFoundError:
    state = {"seen": []}
d = feedparser.parse(url, etag=state.get("etag"), modified=state.get("modified"))
ids = [e.get("id") for e in d.entries]
new = [i for i in ids if i not in state["seen"]]
if d.get("status") != 304:
    state["etag"], state["modified"] = d.get("etag"), d.get("modified")
    state["seen"] = sorted(set(state["seen"]) | set(ids))
json.dump(state, open(path, "w"))
print(json.dumps({"status": d.get("status"), "href": d.get("href"), "ids": ids, "new": new}))
"#;

/// Polls `url` as the reader, off the runtime (the servers polled run on it); `None` when
/// feedparser is not installed (outside CI).
async fn poll(url: &str, state: &Path) -> Option<Value> {
    let (url, state) = (url.to_string(), state.to_path_buf());
    tokio::task::spawn_blocking(move || poll_now(&url, &state))
        .await
        .expect("the reader runs")
}

fn poll_now(url: &str, state: &Path) -> Option<Value> {
    let python = std::env::var("DROPFEED_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = match Command::new(&python)
        .args(["-c", READER, url])
        .arg(state)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound && std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: no {python}");
            return None;
        }
        Err(e) => panic!("cannot run {python}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'feedparser'") && std::env::var_os("CI").is_none() {
        eprintln!("SKIPPED: feedparser not installed for {python}");
        return None;
    }
    assert!(output.status.success(), "reader failed: {stderr}");
    Some(serde_json::from_slice(&output.stdout).expect("the reader prints JSON"))
}

fn files_of(posts: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(posts).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            files.push((name, std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
    let ledger = posts.join(".dropfeed/ids.tsv");
    files.push((
        ".dropfeed/ids.tsv".into(),
        std::fs::read_to_string(ledger).unwrap(),
    ));
    files
}

#[tokio::test]
async fn a_reader_sees_no_new_entry_after_the_feed_moves_to_dropfeed() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/podcast.rss");
    let old = OldSite::start(vec![(
        "/feed/",
        Document {
            content_type: "application/rss+xml",
            body: std::fs::read_to_string(fixture).unwrap(),
        },
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("reader.json");
    let old_url = old.url("/feed/");
    let Some(first) = poll(&old_url, &state).await else {
        return;
    };
    assert_eq!(first["status"], 200);
    assert_eq!(first["new"].as_array().unwrap().len(), 3, "{first}");
    let unchanged = poll(&old_url, &state).await.unwrap();
    assert_eq!(
        unchanged["status"], 304,
        "the old site honours the reader's validators"
    );

    // The move: import from the old URL, serve the result with the config the import wrote.
    let posts = dir.path().join("posts");
    let config_file = dir.path().join("dropfeed.toml");
    dropfeed::import::run(&old_url, &posts, &config(""), &config_file)
        .await
        .expect("the import succeeds");
    let toml = std::fs::read_to_string(&config_file).unwrap();
    assert_eq!(toml, "[redirects]\n\"/feed/\" = \"/feed.xml\"\n");
    let files = files_of(&posts);
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let server = Server::start_with(&files, &toml, Arc::new(SystemClock)).await;

    // Still polling the old path, now on dropfeed: a 301 to the new feed, nothing new.
    let moved = poll(&server.url("/feed/"), &state).await.unwrap();
    assert_eq!(moved["status"], 301, "{moved}");
    assert_eq!(moved["href"], server.url("/feed.xml"));
    assert_eq!(moved["ids"].as_array().unwrap().len(), 3, "{moved}");
    assert_eq!(moved["new"], Value::Array(vec![]), "{moved}");
    // Switched to the new URL: nothing new, and 304 on the next poll.
    let switched = poll(&server.url("/feed.xml"), &state).await.unwrap();
    assert_eq!(switched["new"], Value::Array(vec![]), "{switched}");
    let again = poll(&server.url("/feed.xml"), &state).await.unwrap();
    assert_eq!(again["status"], 304, "{again}");
    // The other formats carry the same ids.
    for format in ["/atom.xml", "/feed.json"] {
        let ids = server
            .feed(format)
            .await
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>();
        let mut ids = ids;
        ids.sort();
        assert_eq!(
            ids,
            ["https://pod.example/episodes/1/", "pod-ep-2", "pod-ep-3"],
            "{format}"
        );
    }
    server.stop().await;
}

//! Python feedparser, a real feed client independent of us, reads the feeds as served:
//!
//! - `/feed.xml` and `/atom.xml` are fetched over HTTP, saved byte for byte, and parsed by
//!   `tests/feedparser_check.py` (interpreter: `$DROPFEED_PYTHON`, else `python3`): not bozo,
//!   versions `rss20` and `atom10`, entry titles (escaping and non-ASCII included) in order,
//!   entry links absolute and on this server.
//! - Without feedparser installed the test says `SKIPPED …: feedparser not installed` and
//!   passes, unless `CI` is set, where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::server::Server;
use common::skip::skipped;
use hyper::StatusCode;
use serde_json::Value;

/// Entry titles, newest first.
const TITLES: [&str; 3] = ["Fish & Chips", "Café Society: Ünïcödé", "A Plain Title"];

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/feedparser_check.py");

/// Exit status of the script when feedparser cannot be imported.
const NOT_INSTALLED: i32 = 3;

/// Runs the feedparser script over `paths`: one JSON object per path, or `None` when
/// feedparser is not installed and that is allowed here (not on CI).
fn feedparser(paths: &[PathBuf]) -> Option<Vec<Value>> {
    let explicit = std::env::var("DROPFEED_PYTHON").ok();
    let python = explicit.clone().unwrap_or_else(|| "python3".into());
    let on_ci = std::env::var_os("CI").is_some();
    let skip = |why: String| {
        assert!(!on_ci, "CI is set, so feedparser must be available: {why}");
        skipped(&format!("feedparser not installed ({why})"));
        None
    };
    let output = match Command::new(&python).arg(SCRIPT).args(paths).output() {
        Ok(output) => output,
        Err(e) if explicit.is_none() => return skip(format!("cannot run {python}: {e}")),
        Err(e) => panic!("cannot run DROPFEED_PYTHON={python}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(NOT_INSTALLED) {
        return skip(format!("{python}: {}", stderr.trim()));
    }
    assert!(
        output.status.success(),
        "{python} {SCRIPT} failed ({}): {stderr}",
        output.status
    );
    let results: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    assert_eq!(results.len(), paths.len(), "one result per feed: {stderr}");
    Some(results)
}

async fn serve() -> Server {
    let post = |title: &str, date: &str| {
        format!(
            "---\ntitle: \"{title}\"\ndate: {date}\n---\n\n\
             Some text for *{title}*, with a [link](https://example.org/?a=1&b=2).\n"
        )
    };
    Server::start(&[
        (
            "a-plain-title.md",
            &post("A Plain Title", "2026-02-01T08:00:00Z"),
        ),
        (
            "cafe-society.md",
            &post("Café Society: Ünïcödé", "2026-02-02T08:00:00Z"),
        ),
        (
            "fish-and-chips.md",
            &post("Fish & Chips", "2026-02-03T08:00:00Z"),
        ),
    ])
    .await
}

/// Fetches a route and saves the body exactly as served.
async fn save(server: &Server, route: &str, dir: &Path) -> PathBuf {
    let (status, _, body) = server.get(route, &[]).await;
    assert_eq!(status, StatusCode::OK, "{route}");
    let path = dir.join(route.trim_start_matches('/'));
    std::fs::write(&path, &body).expect("save feed");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedparser_reads_the_served_feeds_without_complaint() {
    let server = serve().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let feeds = [("/feed.xml", "rss20"), ("/atom.xml", "atom10")];
    let mut paths = Vec::new();
    for (route, _) in feeds {
        paths.push(save(&server, route, dir.path()).await);
    }
    let site = server.url("/");
    server.stop().await;
    let Some(results) = tokio::task::spawn_blocking(move || feedparser(&paths))
        .await
        .expect("feedparser runner")
    else {
        return;
    };
    for ((route, version), result) in feeds.iter().zip(&results) {
        assert_eq!(
            result["bozo"],
            Value::Bool(false),
            "{route}: {}",
            result["bozo_exception"]
        );
        assert_eq!(result["version"], *version, "{route}");
        let entries = result["entries"].as_array().expect("entries");
        let titles: Vec<&str> = entries
            .iter()
            .map(|e| e["title"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(titles, TITLES, "{route}");
        for entry in entries {
            let link = entry["link"].as_str().unwrap_or("");
            assert!(link.starts_with(&site), "{route}: link {link:?}");
        }
    }
}

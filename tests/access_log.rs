//! The access log (`[log] access`), as an operator's log tools read it:
//!
//! - `combined` into a file: one line per request, in order, with the client, the request
//!   line, the status, the body bytes (`-` for none) and the user agent as sent;
//! - the file is opened again after log rotation renamed it away;
//! - `json` on stderr beside `--log-format json`: every stderr line is one JSON object, and
//!   each request is one of them.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::process::{http_get_with, Process};
use common::server::{header, markdown_post, wait_until, Server, DEADLINE};
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;

const FEEDLY: &str = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; \"x\")";

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// One combined-format line split into its parts: (client, request line, status, bytes,
/// referer, user agent), quoted fields without their quotes.
fn parse_combined(line: &str) -> (String, String, String, String, String, String) {
    let (client, rest) = line.split_once(" - - [").expect("client - - [");
    let (_time, rest) = rest.split_once("] \"").expect("] \"");
    let (request, rest) = rest.split_once("\" ").expect("request line");
    let mut fields = rest.splitn(3, ' ');
    let status = fields.next().expect("status").to_string();
    let bytes = fields.next().expect("bytes").to_string();
    let quoted = fields.next().expect("referer and agent");
    let (referer, agent) = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .and_then(|q| q.split_once("\" \""))
        .expect("two quoted fields");
    (
        client.to_string(),
        request.to_string(),
        status,
        bytes,
        referer.to_string(),
        agent.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_log_names_each_request() {
    let logs = tempfile::tempdir().expect("tempdir");
    let file = logs.path().join("access.log");
    let toml = format!(
        "[log]\naccess = \"combined\"\naccess_file = \"{}\"\n",
        file.display()
    );
    let post = markdown_post("One", "2024-01-01", "Text.");
    let server = Server::start_with(&[("one.md", &post)], &toml, Arc::new(SystemClock)).await;
    let (_, headers, body) = server.get("/feed.xml", &[("user-agent", FEEDLY)]).await;
    let etag = header(&headers, "etag").to_string();
    let (status, _, _) = server.get("/feed.xml", &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, _) = server.get("/nothing-here", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let seen = wait_until(DEADLINE, async || lines(&file).len() >= 3).await;
    assert!(seen, "access log: {:?}", lines(&file));
    let parsed: Vec<_> = lines(&file).iter().map(|l| parse_combined(l)).collect();
    let (client, request, status, bytes, referer, agent) = &parsed[0];
    assert_eq!(client, "127.0.0.1");
    assert_eq!(request, "GET /feed.xml HTTP/1.1");
    assert_eq!((status.as_str(), referer.as_str()), ("200", "-"));
    assert_eq!(bytes, &body.len().to_string());
    // The quotes the agent sent are escaped, so the field still ends where it should.
    assert_eq!(agent, &FEEDLY.replace('"', "\\x22"));
    assert_eq!((parsed[1].2.as_str(), parsed[1].3.as_str()), ("304", "-"));
    assert_eq!(parsed[2].1, "GET /nothing-here HTTP/1.1");
    assert_eq!(parsed[2].2, "404");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_file_is_opened_again_after_rotation() {
    let logs = tempfile::tempdir().expect("tempdir");
    let file = logs.path().join("access.log");
    let toml = format!(
        "[log]\naccess = \"common\"\naccess_file = \"{}\"\n",
        file.display()
    );
    let server = Server::start_with(&[], &toml, Arc::new(SystemClock)).await;
    server.get("/before", &[]).await;
    assert!(wait_until(DEADLINE, async || !lines(&file).is_empty()).await);
    let rotated = logs.path().join("access.log.1");
    std::fs::rename(&file, &rotated).expect("rotate");
    // The writer looks at the path once a second: keep asking until a new file shows.
    let reopened = wait_until(DEADLINE, async || {
        server.get("/after", &[]).await;
        lines(&file).iter().any(|l| l.contains("GET /after "))
    })
    .await;
    assert!(reopened, "no new access.log after rotation");
    assert!(lines(&rotated)[0].contains("GET /before "));
    server.stop().await;
}

#[test]
fn json_access_log_and_json_logs_share_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("posts");
    std::fs::write(
        dir.path().join("dropfeed.toml"),
        "[log]\naccess = \"json\"\n",
    )
    .expect("toml");
    let log = dir.path().join("stderr.log");
    let mut server = Process::serve(&posts, &["--log-format", "json"], &log, |_| {});
    for _ in 0..20 {
        let (status, _) = http_get_with(server.addr, "/atom.xml?n=1", &[("user-agent", FEEDLY)])
            .expect("GET /atom.xml");
        assert_eq!(status, 200);
    }
    assert!(server.terminate().success());
    let text = server.log_text();
    let mut requests = 0;
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line:?}\n{text}"));
        if value["target"] == "/atom.xml?n=1" {
            requests += 1;
            assert_eq!(value["status"], 200, "{value}");
            assert_eq!(value["user_agent"], FEEDLY, "{value}");
            assert_eq!(value["client"], "127.0.0.1", "{value}");
        }
    }
    assert_eq!(requests, 20, "{text}");
}

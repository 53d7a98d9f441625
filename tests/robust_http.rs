//! What a client sends cannot harm the server, as seen over loopback sockets (raw TCP where
//! a well-behaved client library would not send the request):
//!
//! - slowloris: with `header_timeout_secs = 1`, 200 connections sending a request head a
//!   byte at a time (or nothing after the request line) do not delay a well-behaved client
//!   (answered within 1 s), and are closed by the server within 3 s;
//! - (regression) a connection that sends nothing at all, or half the HTTP/2 preface, is
//!   closed after the header timeout too;
//! - a 64 KiB request head gets `431` or a closed connection, never a `200`;
//! - with `max_connections = 4`, four open keep-alive connections do not hold a fifth off:
//!   the one idle longest is closed to make room, the other three are still served;
//! - an idle keep-alive connection is closed after the header timeout;
//! - HTTP/2: the server's SETTINGS advertise 128 concurrent streams and the header limit, and
//!   200 concurrent requests over one connection all succeed;
//! - paths with `..`, percent-encoding, `//`, NUL, raw invalid UTF-8 or a query string get
//!   `404`/`400` or the real feed, never a file from the disk;
//! - with `rate_limit_per_minute = 5` the sixth quick unconditional poll of a feed gets
//!   `429` with `Retry-After` ≥ 1 (another feed of the same client does not: limits are per
//!   client and feed, see `polite_limits`); by default 100 quick requests never do;
//! - no torn responses: 8 clients (HTTP/1.1 and HTTP/2, with and without gzip) × 300
//!   requests while a post is rewritten 100 times: every `200` body hashes to the ETag it
//!   came with, and no request fails.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::server::{header, markdown_post, Server, DEADLINE};
use dropfeed::pipeline::SystemClock;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn posts() -> Vec<(&'static str, String)> {
    vec![
        (
            "alpha.md",
            markdown_post("Alpha", "2026-01-10T08:00:00Z", "The first post."),
        ),
        (
            "beta.md",
            markdown_post("Beta", "2026-01-11T08:00:00Z", "The second post."),
        ),
    ]
}

/// Starts the service with a config; nothing else talks to it first, so every rate-limit
/// token and connection slot is the test's.
async fn launch(toml: &str) -> Server {
    let posts = posts();
    let posts: Vec<(&str, &str)> = posts.iter().map(|(n, t)| (*n, t.as_str())).collect();
    Server::launch(&posts, toml, Arc::new(SystemClock)).await
}

/// A response read off a raw socket.
#[derive(Debug)]
struct RawReply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Parses a response head; `None` if `bytes` does not hold a whole one.
fn parse_head(bytes: &[u8]) -> Option<(u16, String, usize)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, head, end))
}

/// Sends raw request bytes on a new connection and reads until the server closes it.
/// `None` when the connection closed without a response.
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> Option<RawReply> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may refuse before reading everything: a failed write is not a failure.
    let _ = stream.write_all(request).await;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16384];
    let read = tokio::time::timeout(DEADLINE, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer and no close within {DEADLINE:?}");
    let (status, head, end) = parse_head(&bytes)?;
    Some(RawReply {
        status,
        head,
        body: bytes[end..].to_vec(),
    })
}

/// `GET path` on a fresh connection, closed after the answer.
async fn raw_get(addr: SocketAddr, path: &[u8]) -> Option<RawReply> {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(path);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    raw_exchange(addr, &request).await
}

/// Reads one response with a `Content-Length` off a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> RawReply {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((status, head, end)) = parse_head(&bytes) {
            let reply = RawReply {
                status,
                head,
                body: Vec::new(),
            };
            let length: usize = reply
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .expect("a Content-Length");
            if bytes.len() >= end + length {
                return RawReply {
                    body: bytes[end..end + length].to_vec(),
                    ..reply
                };
            }
        }
        let n = stream.read(&mut chunk).await.expect("read a response");
        assert!(
            n > 0,
            "closed mid-response: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// A keep-alive `GET` on an open connection.
async fn keep_alive_get(stream: &mut TcpStream, path: &str) -> RawReply {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send a request");
    tokio::time::timeout(DEADLINE, read_response(stream))
        .await
        .unwrap_or_else(|_| panic!("GET {path}: no answer within {DEADLINE:?}"))
}

/// Waits up to `limit` for the server to close `stream` (EOF or reset), reading and
/// returning whatever it sent first. `None` if it is still open.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return received,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .ok()
}

/// Whatever a closed slow connection was sent, it was not a served request.
fn assert_not_served(received: &[u8], what: &str) {
    let text = String::from_utf8_lossy(received);
    assert!(
        !text.starts_with("HTTP/1.1 200") && !text.starts_with("HTTP/1.0 200"),
        "{what}: served anyway: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_do_not_delay_others_and_are_cut_off() {
    const SLOW: usize = 200;
    let server = launch("[server]\nheader_timeout_secs = 1\n").await;
    let addr = server.addr;
    let opened = Instant::now();
    let mut slow = Vec::new();
    for i in 0..SLOW {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /feed.xml HTTP/1.1\r\n")
            .await
            .expect("send the request line");
        slow.push((i, stream));
    }
    // Half of them go on trickling a header, one byte every 200 ms, for up to 5 s.
    let stop = Arc::new(AtomicBool::new(false));
    let (trickling, silent): (Vec<_>, Vec<_>) = slow.into_iter().partition(|(i, _)| i % 2 == 0);
    let mut trickle_tasks = Vec::new();
    for (_, stream) in trickling {
        let (mut reader, mut writer) = stream.into_split();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa".iter().cycle().take(25) {
                if stop.load(Ordering::SeqCst) || writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        trickle_tasks.push(tokio::spawn(async move {
            let mut received = Vec::new();
            let mut chunk = [0u8; 4096];
            let closed = tokio::time::timeout(Duration::from_secs(3), async {
                loop {
                    match reader.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => received.extend_from_slice(&chunk[..n]),
                    }
                }
            })
            .await;
            (closed.is_ok(), received)
        }));
    }
    // A well-behaved client, meanwhile, is answered at once.
    let asked = Instant::now();
    let reply = raw_get(addr, b"/feed.xml").await.expect("an answer");
    let took = asked.elapsed();
    assert_eq!(reply.status, 200);
    assert!(
        took < Duration::from_secs(1),
        "a well-behaved client waited {took:?} behind {SLOW} slow connections"
    );
    // The slow ones are closed after the header timeout (1 s), well within 3 s of opening.
    let mut silent_tasks = Vec::new();
    for (_, mut stream) in silent {
        let left = Duration::from_secs(3).saturating_sub(opened.elapsed());
        silent_tasks.push(tokio::spawn(async move {
            until_closed(&mut stream, left.max(Duration::from_millis(500))).await
        }));
    }
    let mut still_open = 0;
    for task in silent_tasks {
        match task.await.expect("reader task") {
            Some(received) => assert_not_served(&received, "request line only"),
            None => still_open += 1,
        }
    }
    for task in trickle_tasks {
        let (closed, received) = task.await.expect("reader task");
        assert_not_served(&received, "trickled header");
        if !closed {
            still_open += 1;
        }
    }
    stop.store(true, Ordering::SeqCst);
    assert_eq!(
        still_open, 0,
        "slow connections still open 3 s after they were opened"
    );
    server.stop().await;
}

/// Regression: the HTTP/1-or-2 detection (`hyper_util::server::conn::auto`) reads the first
/// 24 bytes with no deadline, and `header_read_timeout` only starts once HTTP/1 is chosen:
/// a connection that sends nothing, or a prefix of the HTTP/2 preface, holds its connection
/// slot forever. `max_connections` such sockets lock every client out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connection_is_closed_after_the_header_timeout() {
    let server = launch("[server]\nheader_timeout_secs = 1\n").await;
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let mut preface = TcpStream::connect(server.addr).await.expect("connect");
    preface
        .write_all(b"PRI * HTTP/2.0\r\n")
        .await
        .expect("half a preface");
    let silent = until_closed(&mut silent, Duration::from_secs(3)).await;
    let preface = until_closed(&mut preface, Duration::from_secs(3)).await;
    assert!(
        silent.is_some(),
        "a silent connection is still open after 3 s"
    );
    assert!(preface.is_some(), "half an h2 preface still open after 3 s");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_head_is_refused() {
    let server = launch("").await;
    let big = format!(
        "GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    // Closed without an answer (`None`) is a refusal too.
    if let Some(reply) = raw_exchange(server.addr, big.as_bytes()).await {
        assert_eq!(reply.status, 431, "64 KiB head: {}", reply.head);
    }
    // Many headers adding up to 64 KiB, each small.
    let mut many = String::from("GET /feed.xml HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..64 {
        many.push_str(&format!("X-H{i}: {}\r\n", "b".repeat(1000)));
    }
    many.push_str("Connection: close\r\n\r\n");
    if let Some(reply) = raw_exchange(server.addr, many.as_bytes()).await {
        assert_ne!(reply.status, 200, "64 headers of 1 KB: {}", reply.head);
        assert!(
            [400, 431].contains(&reply.status),
            "64 headers of 1 KB: {}",
            reply.head
        );
    }
    // A head under the limit (12 KiB of 16 KiB) is served.
    let fine = format!(
        "GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(12 * 1024)
    );
    let reply = raw_exchange(server.addr, fine.as_bytes())
        .await
        .expect("an answer");
    assert_eq!(reply.status, 200, "a 12 KiB head is within the limit");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_the_idlest_connection_makes_room() {
    let server = launch("[server]\nmax_connections = 4\n").await;
    let mut open = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let reply = keep_alive_get(&mut stream, "/healthz").await;
        assert_eq!(reply.status, 200);
        open.push(stream);
    }
    // The first connection is now the one idle longest.
    for stream in &mut open[1..] {
        assert_eq!(keep_alive_get(stream, "/healthz").await.status, 200);
    }
    let mut fifth = TcpStream::connect(server.addr).await.expect("connect");
    let reply = keep_alive_get(&mut fifth, "/feed.xml").await;
    assert_eq!(reply.status, 200, "a fifth connection is served at once");
    let received = until_closed(&mut open[0], DEADLINE)
        .await
        .expect("the idlest connection is closed to make room");
    assert!(received.is_empty(), "closed between requests: {received:?}");
    for stream in &mut open[1..] {
        let reply = keep_alive_get(stream, "/healthz").await;
        assert_eq!(reply.status, 200, "the others are still served");
    }
    drop(open);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let server = launch("[server]\nheader_timeout_secs = 1\nidle_timeout_secs = 1\n").await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let reply = keep_alive_get(&mut stream, "/feed.xml").await;
    assert_eq!(reply.status, 200);
    assert!(
        !reply
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close")),
        "kept alive after the first request"
    );
    let idle = Instant::now();
    let closed = until_closed(&mut stream, Duration::from_secs(4)).await;
    let received = closed.unwrap_or_else(|| {
        panic!(
            "an idle keep-alive connection is still open after {:?}",
            idle.elapsed()
        )
    });
    assert_not_served(&received, "idle connection");
    server.stop().await;
}

/// The SETTINGS the server sends first on an h2c connection: (identifier, value) pairs.
async fn server_settings(addr: SocketAddr) -> Vec<(u16, u32)> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("preface");
    // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
    stream
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .expect("settings");
    let mut frame_head = [0u8; 9];
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut frame_head))
        .await
        .expect("a frame within the deadline")
        .expect("a frame header");
    let length = u32::from_be_bytes([0, frame_head[0], frame_head[1], frame_head[2]]) as usize;
    assert_eq!(frame_head[3], 4, "the server's first frame is SETTINGS");
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.expect("settings");
    payload
        .chunks_exact(6)
        .map(|s| {
            (
                u16::from_be_bytes([s[0], s[1]]),
                u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_advertises_stream_limits_and_serves_many_streams_on_one_connection() {
    let server = launch("").await;
    let settings = server_settings(server.addr).await;
    const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    const MAX_HEADER_LIST_SIZE: u16 = 0x6;
    let value = |id| settings.iter().find(|(i, _)| *i == id).map(|(_, v)| *v);
    assert_eq!(
        value(MAX_CONCURRENT_STREAMS),
        Some(128),
        "SETTINGS: {settings:?}"
    );
    assert_eq!(
        value(MAX_HEADER_LIST_SIZE),
        Some(16384),
        "SETTINGS: {settings:?}"
    );
    // 200 concurrent requests over one connection: past the limit they queue, none fails.
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(connection);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mut sender = sender.clone();
        let path = ["/feed.xml", "/atom.xml", "/feed.json", "/posts/alpha/"][i % 4];
        tasks.push(tokio::spawn(async move {
            let request = Request::get(path)
                .body(Empty::<Bytes>::new())
                .expect("request");
            let response = sender.send_request(request).await.expect("h2 response");
            let status = response.status();
            let body = response.into_body().collect().await.expect("h2 body");
            (status, body.to_bytes().len())
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(20), async {
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("request task"));
        }
        out
    })
    .await
    .expect("200 h2 requests within 20 s");
    for (status, length) in all {
        assert_eq!(status, StatusCode::OK);
        assert!(length > 0);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_paths_reach_only_site_routes() {
    let server = launch("").await;
    let feed = raw_get(server.addr, b"/feed.xml").await.expect("the feed");
    assert_eq!(feed.status, 200);
    // What must never come back: this crate's files (tests run in its root), system files,
    // post sources and the id ledger in the posts folder.
    let secrets = [
        "[package]",
        "root:",
        "fn main",
        "title: \"Alpha\"",
        "\ttag:",
    ];
    let paths: Vec<&[u8]> = vec![
        b"/../Cargo.toml",
        b"/posts/../../etc/passwd",
        b"/%2e%2e/Cargo.toml",
        b"/%2E%2E/%2E%2E/etc/passwd",
        b"/..%2fCargo.toml",
        b"/%2e%2e%2fCargo.toml",
        b"/posts/alpha/../../Cargo.toml",
        b"/posts/%2e%2e/%2e%2e/Cargo.toml",
        b"/%5c..%5cCargo.toml",
        b"//feed.xml",
        b"//etc/passwd",
        b"/./feed.xml",
        b"/feed.xml/.",
        b"/feed.xml%00",
        b"/feed.xml%00.html",
        b"/Cargo.toml",
        b"/src/main.rs",
        b"/alpha.md",
        b"/posts/alpha.md",
        b"/.dropfeed/ids.tsv",
        b"/posts/.dropfeed/ids.tsv",
        b"/feed.xml?x=../../etc/passwd",
        b"/feed.xml?../../Cargo.toml",
        b"http://localhost/../Cargo.toml",
        b"../Cargo.toml",
        b"*",
        // Raw bytes: invalid UTF-8, overlong dots, NUL, a backslash.
        b"/feed\xff\xfe.xml",
        b"/\xc0\xae\xc0\xae/Cargo.toml",
        b"/feed.xml\x00",
        b"/..\\Cargo.toml",
    ];
    let not_found = raw_get(server.addr, b"/no-such-page")
        .await
        .expect("an answer");
    assert_eq!(not_found.status, 404);
    for path in paths {
        let shown = String::from_utf8_lossy(path);
        let Some(reply) = raw_get(server.addr, path).await else {
            continue; // closed without an answer: nothing was served
        };
        match reply.status {
            200 => assert_eq!(
                reply.body, feed.body,
                "{shown:?}: a 200 may only be the real feed"
            ),
            400 | 404 => {
                let body = String::from_utf8_lossy(&reply.body);
                // A short refusal, or the site's own not-found page (the same for any route).
                let page = reply.body == not_found.body;
                assert!(body.len() < 100 || page, "{shown:?}: {body}");
                for secret in secrets {
                    assert!(!body.contains(secret), "{shown:?} leaked {secret:?}");
                }
            }
            other => panic!("{shown:?}: status {other}: {}", reply.head),
        }
    }
    // The query is ignored: the feed itself.
    let query = raw_get(server.addr, b"/feed.xml?x=../../etc/passwd")
        .await
        .expect("an answer");
    assert_eq!(query.status, 200);
    assert_eq!(query.body, feed.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after() {
    let server = launch("[server]\nrate_limit_per_minute = 5\n").await;
    for i in 1..=5 {
        let (status, _, _) = server.get("/feed.xml", &[]).await;
        assert_eq!(status, StatusCode::OK, "request {i} of 5");
    }
    let (status, headers, _) = server.get("/feed.xml", &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the sixth request");
    let retry: u64 = header(&headers, "retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry >= 1, "Retry-After: {retry}");
    // Another feed, same client: a bucket of its own (issue 16: polls are limited per feed).
    let (status, _, _) = server.get("/atom.xml", &[]).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rate_limit_by_default() {
    let server = launch("").await;
    for i in 1..=100 {
        let (status, _, _) = server.get("/feed.xml", &[]).await;
        assert_eq!(status, StatusCode::OK, "request {i} of 100");
    }
    server.stop().await;
}

/// The hash part of an ETag and its coding suffix.
fn etag_parts(etag: &str) -> (&str, Option<&str>) {
    let inner = etag
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or_else(|| panic!("a strong ETag: {etag}"));
    match inner.split_once('-') {
        Some((hash, suffix)) => (hash, Some(suffix)),
        None => (inner, None),
    }
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a gzip body decodes");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_always_matches_the_body_under_load_while_rebuilding() {
    const CLIENTS: usize = 8;
    const REQUESTS: usize = 300;
    const REWRITES: usize = 100;
    let posts = posts();
    let posts: Vec<(&str, &str)> = posts.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = Arc::new(Server::start(&posts).await);
    let stop_at = Instant::now() + Duration::from_secs(20);
    let writer = {
        let path = server.posts_dir().join("alpha.md");
        tokio::task::spawn_blocking(move || {
            let mut done = 0;
            for i in 0..REWRITES {
                if Instant::now() >= stop_at {
                    break;
                }
                let body = format!("Version {i}. ").repeat(1 + i % 7);
                let text = markdown_post(&format!("Alpha {i}"), "2026-01-10T08:00:00Z", &body);
                std::fs::write(&path, text).expect("rewrite a post");
                // Paced so that rebuilds are spread over the load, not coalesced into one.
                std::thread::sleep(Duration::from_millis(15));
                done += 1;
            }
            done
        })
    };
    let etags = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let server = Arc::clone(&server);
        let etags = Arc::clone(&etags);
        clients.push(tokio::spawn(async move {
            let gzip = client % 2 == 1;
            let h2 = client >= CLIENTS / 2;
            let headers: &[(&str, &str)] = if gzip {
                &[("accept-encoding", "gzip")]
            } else {
                &[]
            };
            let mut done = 0;
            for i in 0..REQUESTS {
                if Instant::now() >= stop_at {
                    break;
                }
                let path = ["/feed.xml", "/atom.xml", "/feed.json", "/posts/alpha/"][i % 4];
                let (status, headers, body) = if h2 {
                    let (_, s, h, b) = server.get_h2(path, headers).await;
                    (s, h, b)
                } else {
                    server.get(path, headers).await
                };
                assert_eq!(status, StatusCode::OK, "client {client}: {path}");
                let etag = header(&headers, "etag").to_string();
                let (hash, suffix) = etag_parts(&etag);
                let encoding = header(&headers, "content-encoding");
                let identity = match (encoding, suffix) {
                    ("gzip", Some("gz")) => gunzip(&body),
                    ("", None) => body.to_vec(),
                    other => panic!("client {client}: {path}: coding and ETag disagree: {other:?}"),
                };
                let actual = blake3::hash(&identity).to_hex()[..32].to_string();
                assert_eq!(
                    hash, actual,
                    "client {client}: {path}: torn response (ETag {etag})"
                );
                if path == "/atom.xml" {
                    etags.lock().unwrap().insert(hash.to_string());
                }
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for client in clients {
        total += client.await.expect("a client task (see its panic)");
    }
    let rewrites = writer.await.expect("the writer");
    // The last version is served once the load is over.
    let last = format!("Alpha {}", rewrites - 1);
    server
        .until_titles("/atom.xml", "the last rewrite", |t| t.contains(&last))
        .await;
    assert!(total >= CLIENTS * 50, "only {total} requests in 20 s");
    let distinct = etags.lock().unwrap().len();
    assert!(
        distinct >= 3,
        "the load saw only {distinct} versions of /atom.xml: rebuilds did not overlap it"
    );
    eprintln!("{total} requests, {distinct} versions of /atom.xml seen");
    Arc::into_inner(server)
        .expect("the only reference")
        .stop()
        .await;
}

//! Archive pages rendered on request into the cold cache (issue 11), over sites whose posts
//! are long runs of varied words (so pages are large and slow to render, and do not
//! compress away):
//!
//! - (regression) 12 identical requests for an archive page not yet rendered, all at once:
//!   one render (`dropfeed_cold_renders_total` on `/metrics`), and every answer is the same
//!   `200`;
//! - (regression) the RSS, Atom and JSON documents of an archive page whose formats together
//!   pass the cache's budget all stay cached: fetched again, none is rendered again; the
//!   least recently used page still makes room for another;
//! - a render that dies (its ticket dropped unused) lets the requests waiting for it go with
//!   nothing, and the next request renders the page;
//! - property: over random sequences of fetches of archive and post pages and random
//!   budgets, every page served equals a fresh render, the cache stays within its budget
//!   plus one page's formats, and a page fetched twice in a row is rendered once;
//! - (regression) `dropfeed serve` sent SIGTERM while a large archive page renders exits
//!   within `drain_timeout_secs` (plus a margin), not when the render ends.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::feeds::{build, fixed_now};
use common::server::{header, Server};
use dropfeed::pipeline::SystemClock;
use dropfeed::render;
use dropfeed::snapshot::{Cold, ColdCache, Snapshot};
use hyper::StatusCode;
use proptest::prelude::*;

/// `n` words of a deterministic pseudo-random text, in paragraphs of 150.
fn varied_words(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005) | 1;
    let mut text = String::with_capacity(n * 7);
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for j in 0..2 + (x % 9) as usize {
            text.push((b'a' + ((x >> (j * 5)) % 26) as u8) as char);
        }
        text.push_str(if i % 150 == 149 { "\n\n" } else { " " });
    }
    text
}

/// Writes `count` posts of `words` words each into `posts`, one a minute apart.
fn write_posts(posts: &Path, count: usize, words: usize) {
    std::fs::create_dir_all(posts).expect("posts folder");
    for n in 0..count {
        let text = format!(
            "---\ntitle: \"Post {n}\"\ndate: 2026-01-01T{:02}:{:02}:00Z\n---\n\n{}\n",
            n / 60,
            n % 60,
            varied_words(n as u64 + 1, words)
        );
        std::fs::write(posts.join(format!("post-{n:03}.md")), text).expect("write a post");
    }
}

/// A `/metrics` sample without labels.
fn sample(metrics: &[u8], name: &str) -> f64 {
    let text = String::from_utf8_lossy(metrics);
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("/metrics has no {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_requests_for_a_cold_page_render_it_once() {
    const REQUESTS: usize = 12;
    let dir = tempfile::tempdir().expect("tempdir");
    write_posts(dir.path(), 41, 1500);
    let posts: Vec<(String, String)> = std::fs::read_dir(dir.path())
        .expect("posts")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("read"))
        })
        .collect();
    let posts: Vec<(&str, &str)> = posts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let config = "feed_limit = 1\narchive_page_size = 40\n";
    let server = Arc::new(Server::start_with(&posts, config, Arc::new(SystemClock)).await);
    let (_, _, before) = server.admin_get("/metrics", &[]).await;
    let started = Instant::now();
    let mut requests = Vec::new();
    for _ in 0..REQUESTS {
        let server = Arc::clone(&server);
        requests.push(tokio::spawn(async move {
            server.get("/archive/1/atom.xml", &[]).await
        }));
    }
    let mut etags = std::collections::BTreeSet::new();
    for request in requests {
        let (status, headers, body) = request.await.expect("request task");
        assert_eq!(status, StatusCode::OK);
        assert!(!body.is_empty());
        etags.insert(header(&headers, "etag").to_string());
    }
    let took = started.elapsed();
    let (_, _, after) = server.admin_get("/metrics", &[]).await;
    let renders = sample(&after, "dropfeed_cold_renders_total")
        - sample(&before, "dropfeed_cold_renders_total");
    eprintln!("{REQUESTS} identical requests for a cold page: {renders} render(s), all answered in {took:?}");
    assert_eq!(etags.len(), 1, "one document: {etags:?}");
    assert_eq!(
        renders, 1.0,
        "{REQUESTS} identical requests rendered the page {renders} times"
    );
    Arc::into_inner(server)
        .expect("the only reference")
        .stop()
        .await;
}

/// The archive page formats, in the order fetched.
const FORMATS: [&str; 3] = ["feed.xml", "atom.xml", "feed.json"];

#[test]
fn every_format_of_an_archive_page_stays_cached_when_together_they_pass_the_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    write_posts(&posts, 9, 1500);
    // Pages 1 and 2 hold four posts each; the subscription feed the newest.
    let built = build(
        &posts,
        "feed_limit = 1\narchive_page_size = 4\n",
        fixed_now(),
    );
    let page = |n: usize| FORMATS.map(|f| format!("archive/{n}/{f}"));
    let sizes: Vec<usize> = page(1)
        .iter()
        .map(|route| {
            built
                .snapshot
                .resource(route)
                .expect("an archive page")
                .size()
        })
        .collect();
    // Room for any one format of the page, not for two.
    let budget = *sizes.iter().max().unwrap() + 1;
    let snapshot = built
        .snapshot
        .with_cold_cache(Arc::new(ColdCache::new(budget)));
    let fetch = |route: &str| snapshot.resource(route).expect("an archive page");
    let first: Vec<_> = page(1).iter().map(|r| fetch(r)).collect();
    assert_eq!(snapshot.cold_cache().renders(), 3);
    for (route, earlier) in page(1).iter().zip(&first) {
        let again = fetch(route);
        assert_eq!(again.identity.body, earlier.identity.body, "{route}");
    }
    assert_eq!(
        snapshot.cold_cache().renders(),
        3,
        "fetched again, formats of the same page were rendered again (sizes {sizes:?}, budget {budget})"
    );
    // Another page makes room: the first page's formats go, the cache stays near its budget.
    for route in page(2) {
        fetch(&route);
    }
    assert_eq!(snapshot.cold_cache().renders(), 6);
    let page_two: usize = page(2).iter().map(|r| fetch(r).size()).sum();
    assert!(
        snapshot.cold_cache().bytes() <= budget.max(page_two),
        "{} bytes kept, budget {budget}",
        snapshot.cold_cache().bytes()
    );
    fetch("archive/1/feed.xml");
    assert_eq!(
        snapshot.cold_cache().renders(),
        7,
        "the least recently used page was evicted"
    );
}

#[test]
fn a_render_that_dies_lets_its_waiters_go_and_the_next_request_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    write_posts(&posts, 5, 50);
    let built = build(
        &posts,
        "feed_limit = 1\narchive_page_size = 2\n",
        fixed_now(),
    );
    let snapshot = built.snapshot;
    let route = "archive/1/atom.xml";
    let Some(Cold::Render(ticket)) = snapshot.cold_route(route) else {
        panic!("the first request renders");
    };
    let Some(Cold::Rendering(pending)) = snapshot.cold_route(route) else {
        panic!("a request during the render waits for it");
    };
    let waiter = std::thread::spawn(move || pending.wait_blocking());
    drop(ticket); // as when the rendering thread panics
    assert!(
        waiter.join().expect("waiter").is_none(),
        "the waiter gets nothing"
    );
    assert!(
        matches!(snapshot.cold_route(route), Some(Cold::Render(_))),
        "the next request renders again"
    );
    assert!(snapshot.resource(route).is_some());
}

/// A small site with three archive pages and nine post pages: its snapshot and cold routes.
fn small_site() -> (tempfile::TempDir, Snapshot, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    write_posts(&posts, 9, 120);
    let built = build(
        &posts,
        "feed_limit = 3\narchive_page_size = 2\n",
        fixed_now(),
    );
    let routes: Vec<String> = built
        .snapshot
        .routes()
        .into_iter()
        .filter(|r| r.starts_with("posts/") || r.starts_with("archive/"))
        .collect();
    assert_eq!(
        routes.len(),
        18,
        "three archive pages, nine post pages: {routes:?}"
    );
    (dir, built.snapshot, routes)
}

/// Bytes of the largest page in every coding, all its formats together (what the cache may
/// hold past its budget).
fn largest_page(snapshot: &Snapshot, routes: &[String]) -> usize {
    let mut pages = std::collections::HashMap::new();
    for route in routes {
        let page = &route[..route.rfind('/').map_or(0, |i| i + 1)];
        let size = snapshot.resource(route).expect("a cold page").size();
        *pages.entry(page.to_string()).or_insert(0) += size;
    }
    pages.into_values().max().unwrap_or(0)
}

fn fresh_render(snapshot: &Snapshot, route: &str) -> Vec<u8> {
    let site = snapshot.site().expect("a site");
    let planned = render::plan_cold(site, route).expect("a cold route");
    render::render(site, &planned).expect("renders").body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_cold_cache_serves_fresh_bytes_within_its_budget(
        budget_kib in 1..64usize,
        fetches in proptest::collection::vec((0..18usize, any::<bool>()), 1..30),
    ) {
        let (_dir, built, routes) = small_site();
        let largest_page = largest_page(&built, &routes);
        let budget = budget_kib * 1024;
        let snapshot = built.with_cold_cache(Arc::new(ColdCache::new(budget)));
        for (i, twice) in fetches {
            let route = &routes[i % routes.len()];
            let served = snapshot.resource(route).expect("a cold page");
            prop_assert_eq!(&served.identity.body[..], &fresh_render(&snapshot, route)[..], "{}", route);
            if twice {
                let renders = snapshot.cold_cache().renders();
                snapshot.resource(route).expect("a cold page");
                prop_assert_eq!(snapshot.cold_cache().renders(), renders, "{} fetched twice in a row", route);
            }
            prop_assert!(
                snapshot.cold_cache().bytes() <= budget + largest_page,
                "{} bytes kept, budget {}", snapshot.cold_cache().bytes(), budget
            );
        }
    }
}

/// Kills the server if the test fails before it exits.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `dropfeed serve` over `dir/posts` with `dir/dropfeed.toml`, once it answers.
fn serve(dir: &Path, port: u16) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["serve", "--posts"])
        .arg(dir.join("posts"))
        .arg("--config")
        .arg(dir.join("dropfeed.toml"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // No admin listener: tests run side by side, and its default port is fixed.
        .args(["--admin-listen", "off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dropfeed serve");
    let process = Process(child);
    // Listening starts before the posts are read: wait for an answer.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(port) {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    process
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let mut reply = String::new();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut reply))
        .is_ok_and(|_| reply.starts_with("HTTP/1.1 200"))
}

#[test]
fn sigterm_while_a_cold_page_renders_exits_within_the_drain_timeout() {
    const DRAIN: Duration = Duration::from_secs(1);
    let dir = tempfile::tempdir().expect("tempdir");
    // One archive page of twelve long posts: seconds to render and compress.
    write_posts(&dir.path().join("posts"), 13, 25_000);
    std::fs::write(
        dir.path().join("dropfeed.toml"),
        "feed_limit = 1\narchive_page_size = 12\n[server]\ndrain_timeout_secs = 1\n",
    )
    .expect("config");
    let port = free_port();
    let mut server = serve(dir.path(), port);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client
        .write_all(b"GET /archive/1/feed.xml HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("send a request");
    // The render is under way and not done.
    std::thread::sleep(Duration::from_millis(500));
    client.set_nonblocking(true).expect("nonblocking");
    let mut byte = [0u8; 1];
    let early = client.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the page was answered within 500 ms: too small to test a slow render ({early:?})"
    );
    // SAFETY: sending a signal to our own child process by pid.
    let sent = unsafe { libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0);
    let signalled = Instant::now();
    let limit = DRAIN + Duration::from_secs(4);
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("wait for the server") {
            break status;
        }
        assert!(
            signalled.elapsed() < limit,
            "still running {limit:?} after SIGTERM, drain_timeout_secs = 1"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "exited {:?} after SIGTERM, with {status}",
        signalled.elapsed()
    );
    assert!(status.success(), "exit status {status}");
}

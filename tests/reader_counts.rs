//! Reader counts, end to end (issue 16 §1): polls with the User-Agent strings real
//! aggregators send, direct readers behind a trusted proxy and episode downloads, over two
//! days of a test clock, then:
//!
//! - `/status?format=json`, `/metrics` and `dropfeed stats` tell the same counts: the newest
//!   subscriber count per aggregator and feed, one direct reader per address and agent per
//!   day (IPv6 by /64, bots left out), one download per client and episode in 24 hours
//!   whatever the ranges;
//! - `/status` draws a chart per feed without any script;
//! - the counts survive a restart;
//! - no client address is anywhere in the state folder.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use common::server::TestClock;
use dropfeed::app::{self, Listeners, Running};
use dropfeed::config::Config;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prometheus_parse::{Scrape, Value};
use serde_json::Value as Json;

const CONFIG: &str =
    "base_url = \"https://example.org/\"\n\n[server]\ntrusted_proxies = [\"127.0.0.1\"]\n";
const POST: &str = "---\ntitle: Hello\ndate: 2026-02-01\ntags: [rust]\n---\n\nHello.\n";
const EPISODE: &str = "---\ntitle: Episode one\nslug: episode-one\ndate: 2026-02-02\nenclosure: {url: \"ep.mp3\", type: audio/mpeg, length: 1000}\n---\n\nListen.\n";

const FEEDLY: &str =
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {} subscribers; like FeedFetcher-Google)";
const INOREADER: &str = "Mozilla/5.0 (compatible; Inoreader/1.0; +http://www.inoreader.com/feed-fetcher; 12 subscribers; )";
const NEWSBLUR: &str = "NewsBlur Feed Fetcher - 5 subscribers - http://www.newsblur.com/site/6/example (Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.3578.98 Safari/537.36)";
const NETNEWSWIRE: &str = "NetNewsWire (RSS Reader; https://netnewswire.com/)";
const MINIFLUX: &str = "Mozilla/5.0 (compatible; Miniflux/2.1.0; +https://miniflux.app)";
const PODCAST_APP: &str = "AntennaPod/3.4.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Client addresses the proxy forwards: none of them may reach the disk.
const ADDRESSES: [&str; 6] = [
    "198.51.100.1",
    "198.51.100.2",
    "198.51.100.3",
    "2001:db8:1:2::a",
    "2001:db8:1:2::b",
    "203.0.113.9",
];

/// A running service over a posts folder the test keeps across restarts.
struct Service {
    running: Running,
    admin: SocketAddr,
}

impl Service {
    async fn start(posts: &Path, clock: Arc<TestClock>) -> Service {
        let bind = async || {
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0")
        };
        let listeners = Listeners {
            public: bind().await,
            admin: Some(bind().await),
        };
        let config = Config::parse(Path::new("test.toml"), CONFIG, None).expect("config");
        let running = app::start(posts, Arc::new(config), clock, listeners)
            .await
            .expect("app starts");
        let admin = running.admin_addr.expect("an admin listener");
        Service { running, admin }
    }

    /// `GET` on the public listener, through the trusted proxy on loopback forwarding for
    /// `client`, as `agent`, with extra headers.
    async fn poll(
        &self,
        path: &str,
        client: &str,
        agent: &str,
        extra: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap) {
        let mut headers = vec![("x-forwarded-for", client), ("user-agent", agent)];
        headers.extend_from_slice(extra);
        let (status, head, _) = get(self.running.addr, path, &headers).await;
        (status, head)
    }

    async fn status_json(&self) -> Json {
        let (status, _, body) = get(self.admin, "/status?format=json", &[]).await;
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice(&body).expect("/status?format=json is JSON")
    }

    async fn metrics(&self) -> Scrape {
        let (status, _, body) = get(self.admin, "/metrics", &[]).await;
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body.to_vec()).expect("UTF-8 metrics");
        Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
    }
}

async fn get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::new())).expect("a request");
    let response = tokio::time::timeout(common::server::DEADLINE, client.request(request))
        .await
        .expect("an answer in time")
        .expect("an answer");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a body").to_bytes();
    (parts.status, parts.headers, body)
}

/// Day one: two aggregators and five direct readers of `/atom.xml` (one of them polling
/// conditionally, two IPv6 addresses of one /64, a bot left out), an aggregator of
/// `/feed.xml`, and two downloads of the episode (one in two ranges).
async fn day_one(service: &Service) {
    let feedly = |n: u32| FEEDLY.replace("{}", &n.to_string());
    let proxy = "10.9.9.9";
    service.poll("/atom.xml", proxy, &feedly(42), &[]).await;
    service.poll("/atom.xml", proxy, &feedly(43), &[]).await;
    service.poll("/atom.xml", proxy, INOREADER, &[]).await;
    service.poll("/feed.xml", proxy, NEWSBLUR, &[]).await;
    let (status, head) = service
        .poll("/atom.xml", ADDRESSES[0], NETNEWSWIRE, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let etag = head["etag"].to_str().expect("an ETag").to_string();
    for _ in 0..2 {
        let (status, _) = service
            .poll(
                "/atom.xml",
                ADDRESSES[0],
                NETNEWSWIRE,
                &[("if-none-match", &etag)],
            )
            .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
    }
    service.poll("/atom.xml", ADDRESSES[0], MINIFLUX, &[]).await;
    service
        .poll("/atom.xml", ADDRESSES[1], NETNEWSWIRE, &[])
        .await;
    service
        .poll("/atom.xml", ADDRESSES[2], NETNEWSWIRE, &[])
        .await;
    service
        .poll("/atom.xml", ADDRESSES[3], NETNEWSWIRE, &[])
        .await;
    service
        .poll("/atom.xml", ADDRESSES[4], NETNEWSWIRE, &[])
        .await;
    service
        .poll("/atom.xml", ADDRESSES[5], GOOGLEBOT, &[])
        .await;
    for range in ["bytes=0-99", "bytes=100-999"] {
        let (status, _) = service
            .poll(
                "/files/ep.mp3",
                ADDRESSES[0],
                PODCAST_APP,
                &[("range", range)],
            )
            .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    }
    let (status, _) = service
        .poll("/files/ep.mp3", ADDRESSES[1], PODCAST_APP, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    service
        .poll("/files/ep.mp3", ADDRESSES[5], GOOGLEBOT, &[])
        .await;
}

/// Day two, 23 hours later: Feedly reports more, one direct reader, one download by a new
/// client and one by a client that downloaded less than 24 hours ago.
async fn day_two(service: &Service) {
    let feedly = FEEDLY.replace("{}", "44");
    service.poll("/atom.xml", "10.9.9.9", &feedly, &[]).await;
    service
        .poll("/atom.xml", ADDRESSES[0], NETNEWSWIRE, &[])
        .await;
    service
        .poll("/files/ep.mp3", ADDRESSES[0], PODCAST_APP, &[])
        .await;
    service
        .poll("/files/ep.mp3", ADDRESSES[2], PODCAST_APP, &[])
        .await;
}

/// The counts expected on day two, as `/status?format=json` and `dropfeed stats --format
/// json` both tell them.
fn assert_counts(readers: &Json) {
    assert_eq!(readers["today"], "2026-03-02");
    let feed = |path: &str| {
        readers["feeds"]
            .as_array()
            .and_then(|feeds| feeds.iter().find(|f| f["feed"] == path))
            .unwrap_or_else(|| panic!("no {path} in {readers:#}"))
            .clone()
    };
    let atom = feed("/atom.xml");
    // Feedly's newest today, Inoreader's from yesterday (it has not polled yet today).
    assert_eq!(atom["aggregator"], 56, "{atom:#}");
    assert_eq!(atom["aggregators"]["Feedly"], 44);
    assert_eq!(atom["aggregators"]["Inoreader"], 12);
    assert_eq!(atom["direct"], 1);
    let days = atom["days"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    let (one, two) = (&days[28], &days[29]);
    assert_eq!(
        (&one["day"], &one["aggregator"], &one["direct"]),
        (&"2026-03-01".into(), &55.into(), &5.into())
    );
    assert_eq!(
        (&two["day"], &two["aggregator"], &two["direct"]),
        (&"2026-03-02".into(), &44.into(), &1.into())
    );
    let rss = feed("/feed.xml");
    assert_eq!((&rss["aggregator"], &rss["direct"]), (&5.into(), &0.into()));
    let episodes = readers["episodes"].as_array().expect("episodes");
    assert_eq!(episodes.len(), 1, "{episodes:#?}");
    let episode = &episodes[0];
    assert_eq!(
        (&episode["feed"], &episode["episode"]),
        (&"/feed.xml".into(), &"episode-one".into())
    );
    assert_eq!(
        (&episode["total"], &episode["today"]),
        (&3.into(), &1.into())
    );
}

fn sample(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("/metrics has no {name}{labels:?}"));
    match found.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{name}: {other:?}"),
    }
}

fn stats(posts: &Path, format: &str) -> String {
    let out = common::process::dropfeed()
        .args([
            "stats",
            "--today",
            "2026-03-02",
            "--format",
            format,
            "--posts",
        ])
        .arg(posts)
        .stdout(std::process::Stdio::piped())
        .output()
        .expect("dropfeed stats runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Every byte under `folder`, each file's with its path.
fn all_files(folder: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(all_files(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).expect("readable")));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_downloads_are_counted_over_two_days_and_survive_a_restart() {
    let root = tempfile::tempdir().expect("tempdir");
    let posts = root.path().join("posts");
    std::fs::create_dir(&posts).expect("posts folder");
    std::fs::write(posts.join("hello.md"), POST).expect("post");
    std::fs::write(posts.join("episode.md"), EPISODE).expect("episode");
    std::fs::write(posts.join("ep.mp3"), vec![7u8; 1000]).expect("audio");
    let clock = TestClock::at("2026-03-01T10:00:00Z");
    let service = Service::start(&posts, Arc::clone(&clock)).await;
    day_one(&service).await;
    // Hits are dated as they are counted, moments after they are answered: a report counts
    // every hit answered before it, so the day is over before the clock moves.
    service.status_json().await;
    clock.set("2026-03-02T09:00:00Z");
    day_two(&service).await;

    assert_counts(&service.status_json().await["readers"]);
    let metrics = service.metrics().await;
    let subscribers = |feed, source| {
        sample(
            &metrics,
            "dropfeed_feed_subscribers",
            &[("feed", feed), ("source", source)],
        )
    };
    assert_eq!(subscribers("/atom.xml", "aggregator"), 56.0);
    assert_eq!(subscribers("/atom.xml", "direct"), 1.0);
    assert_eq!(subscribers("/feed.xml", "aggregator"), 5.0);
    let downloads = &[("feed", "/feed.xml"), ("episode", "episode-one")];
    assert_eq!(
        sample(&metrics, "dropfeed_episode_downloads_total", downloads),
        3.0
    );
    let (_, head, html) = get(service.admin, "/status", &[]).await;
    assert!(head["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = String::from_utf8_lossy(&html);
    assert_eq!(html.matches("<svg").count(), 2, "a chart per feed polled");
    assert!(html.contains("2026-03-01: 55 from aggregators, 5 direct"));
    assert!(!html.contains("<script"));
    service.running.stop().await.expect("stops");

    let json: Json = serde_json::from_str(&stats(&posts, "json")).expect("stats JSON");
    assert_counts(&json);
    let text = stats(&posts, "text");
    assert!(text.contains("/atom.xml  today: 56 subscribers from aggregators (Feedly 44, Inoreader 12), 1 direct readers"), "{text}");
    assert!(text.contains("2026-03-01           55       5"), "{text}");

    let state = posts.join(".dropfeed");
    let files = all_files(&state);
    assert!(
        files
            .iter()
            .any(|(p, _)| p.starts_with(state.join("readers"))),
        "{files:?}"
    );
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for address in ADDRESSES
            .iter()
            .chain(&["127.0.0.1", "10.9.9.9", "2001:db8"])
        {
            assert!(
                !text.contains(address),
                "{} holds {address}",
                path.display()
            );
        }
    }

    let again = Service::start(&posts, Arc::clone(&clock)).await;
    assert_counts(&again.status_json().await["readers"]);
    again.running.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_day_file_costs_only_its_day() {
    let root = tempfile::tempdir().expect("tempdir");
    let posts = root.path().join("posts");
    let days = posts.join(".dropfeed").join("readers");
    std::fs::create_dir_all(&days).expect("state folder");
    std::fs::write(posts.join("hello.md"), POST).expect("post");
    let good = r#"{"feeds": {"/atom.xml": {"aggregators": {"Feedly": 40}, "direct": 3}}}"#;
    std::fs::write(days.join("2026-03-01.json"), good).expect("a good day");
    std::fs::write(
        days.join("2026-02-28.json"),
        b"{\"feeds\": {\"/atom.xml\": \xff\x00",
    )
    .expect("a damaged day");
    std::fs::write(days.join("2026-02-27.json"), r#"{"feeds": 7}"#)
        .expect("a day of the wrong shape");
    let clock = TestClock::at("2026-03-02T08:00:00Z");
    let service = Service::start(&posts, Arc::clone(&clock)).await;
    let readers = &service.status_json().await["readers"];
    let atom = &readers["feeds"][0];
    assert_eq!(atom["feed"], "/atom.xml");
    let days_shown = atom["days"].as_array().expect("days");
    let day_one = &days_shown[28];
    assert_eq!(
        (&day_one["aggregator"], &day_one["direct"]),
        (&40.into(), &3.into())
    );
    assert_eq!(
        atom["aggregator"], 40,
        "yesterday's Feedly count stands for today"
    );
    service
        .poll("/atom.xml", "198.51.100.1", NETNEWSWIRE, &[])
        .await;
    service.running.stop().await.expect("stops");
    let damaged = std::fs::read(days.join("2026-02-28.json")).expect("left as it was");
    assert!(damaged.ends_with(b"\xff\x00"));
    assert!(days.join("2026-03-02.json").exists(), "today written");
}

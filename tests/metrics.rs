//! `/metrics` (on the admin listener) as Prometheus sees it: the body is parsed with the
//! `prometheus-parse` crate (an independent text-format parser), and counters are asserted after known requests.
//!
//! Counters are compared between two scrapes (deltas), so requests made by anything else
//! before the first scrape cannot skew the numbers; the scrape itself is counted only in
//! the *next* scrape (it is recorded after its body is rendered), under route `metrics`.
//!
//! - 3 plain `GET /feed.xml` + 1 gzip `GET /feed.xml` → `route="feed",status="200"` +4;
//! - 2 conditional `GET /feed.xml` → `route="feed",status="304"` +2;
//! - 1 `GET` of an unknown path → `route="other",status="404"` +1;
//! - the gzip answer's body length → `dropfeed_http_response_bytes_total{encoding="gzip"}`;
//! - `dropfeed_posts{state="published"}` equals the posts served; adding a post raises it,
//!   `dropfeed_snapshot_generation` and `dropfeed_rebuild_duration_seconds_count`;
//! - `dropfeed_build_info{version}` names this version; the process metrics (CPU seconds,
//!   resident memory, open files, start time) are there and plausible;
//! - `dropfeed_request_duration_seconds` is a histogram per route class whose buckets never
//!   shrink towards `+Inf` and whose count grows by the requests made.

mod common;

use std::sync::Arc;

use common::server::{header, markdown_post, wait_until, Server, DEADLINE};
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;
use prometheus_parse::{HistogramCount, Scrape, Value};

/// One parsed scrape of `/metrics`.
struct Metrics(Scrape);

impl Metrics {
    /// The value of the sample `name` whose labels include every `(label, value)` in
    /// `labels`; `None` when no such sample is present.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
                other => panic!("{name}: unexpected sample kind {other:?}"),
            })
    }

    /// A request counter: absent means no request of that kind yet, so 0.
    fn requests(&self, route: &str, status: &str) -> f64 {
        self.value(
            "dropfeed_http_requests_total",
            &[("route", route), ("status", status)],
        )
        .unwrap_or(0.0)
    }

    /// The buckets of a histogram's series whose labels include `labels`.
    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<HistogramCount> {
        let sample = self
            .0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("/metrics has no histogram {name}{labels:?}"));
        match &sample.value {
            Value::Histogram(buckets) => buckets.clone(),
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    /// A sample that must be present.
    fn must(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels)
            .unwrap_or_else(|| panic!("/metrics has no {name}{labels:?}"))
    }
}

async fn scrape(server: &Server) -> Metrics {
    let (status, headers, body) = server.admin_get("/metrics", &[]).await;
    assert_eq!(status, StatusCode::OK, "GET /metrics");
    assert!(
        header(&headers, "content-type").starts_with("text/plain"),
        "content-type: {}",
        header(&headers, "content-type")
    );
    let text = std::str::from_utf8(&body).expect("/metrics is UTF-8");
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("/metrics does not parse: {e}\n{text}"));
    assert!(
        !parsed.samples.is_empty(),
        "no samples in /metrics:\n{text}"
    );
    Metrics(parsed)
}

fn posts() -> Vec<(String, String)> {
    (1..=3)
        .map(|i| {
            (
                format!("post-{i}.md"),
                markdown_post(
                    &format!("Post {i}"),
                    &format!("2024-01-0{i}"),
                    "Some text about metrics and counters.",
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_follow_known_requests() {
    let owned = posts();
    let files: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    // start_with returns once the encoder has finished: gzip variants exist.
    let server = Server::start_with(&files, "", Arc::new(SystemClock)).await;
    let etag = server.etag("/feed.xml").await;
    assert!(!etag.is_empty(), "/feed.xml has an ETag");

    let before = scrape(&server).await;
    for _ in 0..3 {
        let (status, _, _) = server.get("/feed.xml", &[]).await;
        assert_eq!(status, StatusCode::OK);
    }
    for _ in 0..2 {
        let (status, _, _) = server
            .get("/feed.xml", &[("if-none-match", etag.as_str())])
            .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
    }
    let (status, _, _) = server.get("/no-such-thing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, gzip_body) = server
        .get("/feed.xml", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-encoding"), "gzip");
    let after = scrape(&server).await;

    let delta =
        |route: &str, status: &str| after.requests(route, status) - before.requests(route, status);
    assert!(after.requests("feed", "200") >= 3.0);
    assert_eq!(delta("feed", "200"), 4.0, "3 plain + 1 gzip GET /feed.xml");
    assert_eq!(delta("feed", "304"), 2.0, "2 conditional GETs");
    assert_eq!(delta("other", "404"), 1.0, "1 unknown path");
    assert_eq!(delta("metrics", "200"), 1.0, "the first scrape");
    let gzip = |m: &Metrics| {
        m.must(
            "dropfeed_http_response_bytes_total",
            &[("encoding", "gzip")],
        )
    };
    assert_eq!(
        gzip(&after) - gzip(&before),
        gzip_body.len() as f64,
        "gzip bytes grew by the one gzip body sent"
    );
    let ratio = after.must("dropfeed_http_not_modified_ratio", &[]);
    assert!(ratio > 0.0 && ratio < 1.0, "304 share {ratio}");

    assert_eq!(after.must("dropfeed_posts", &[("state", "published")]), 3.0);
    let generation = after.must("dropfeed_snapshot_generation", &[]);
    assert!(generation >= 1.0, "generation {generation}");
    let rebuilds = after.must("dropfeed_rebuild_duration_seconds_count", &[]);

    // A change: one more post. The snapshot is swapped in just before the rebuild is
    // recorded, so wait for what a scraper sees rather than for the generation alone.
    server.write_post(
        "post-4.md",
        &markdown_post("Post 4", "2024-01-04", "A fourth post arrives."),
    );
    let grown = |m: &Metrics| {
        m.must("dropfeed_snapshot_generation", &[]) > generation
            && m.must("dropfeed_rebuild_duration_seconds_count", &[]) > rebuilds
    };
    assert!(
        wait_until(DEADLINE, async || grown(&scrape(&server).await)).await,
        "after a new post, generation and rebuild count did not both grow"
    );
    let changed = scrape(&server).await;
    assert_eq!(
        changed.must("dropfeed_posts", &[("state", "published")]),
        4.0
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_process_and_request_durations() {
    let owned = posts();
    let files: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let server = Server::start(&files).await;
    let before = scrape(&server).await;
    for _ in 0..5 {
        let (status, _, _) = server.get("/atom.xml", &[]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, _) = server.get("/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let after = scrape(&server).await;

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        after.must("dropfeed_build_info", &[("version", version)]),
        1.0
    );

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    let started = after.must("process_start_time_seconds", &[]);
    assert!(
        started <= now + 1.0 && started > now - 86_400.0,
        "start {started}, now {now}"
    );
    assert!(after.must("process_cpu_seconds_total", &[]) > 0.0);
    assert!(after.must("process_resident_memory_bytes", &[]) > 1e6);
    assert!(after.must("process_open_fds", &[]) >= 3.0);

    let count = |m: &Metrics, route: &str| {
        let buckets = m.histogram("dropfeed_request_duration_seconds", &[("route", route)]);
        for pair in buckets.windows(2) {
            assert!(pair[0].less_than < pair[1].less_than, "{buckets:?}");
            assert!(
                pair[0].count <= pair[1].count,
                "buckets shrink: {buckets:?}"
            );
        }
        let last = buckets.last().expect("buckets");
        assert!(last.less_than.is_infinite(), "{buckets:?}");
        let total = m.must(
            "dropfeed_request_duration_seconds_count",
            &[("route", route)],
        );
        assert_eq!(last.count, total, "+Inf bucket and count differ");
        total
    };
    assert_eq!(count(&after, "feed") - count(&before, "feed"), 5.0);
    assert_eq!(count(&after, "home") - count(&before, "home"), 1.0);
    let sum = |m: &Metrics| {
        m.must(
            "dropfeed_request_duration_seconds_sum",
            &[("route", "feed")],
        )
    };
    assert!(
        sum(&after) > sum(&before),
        "the feed durations' sum did not grow"
    );
    server.stop().await;
}

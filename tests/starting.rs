//! The server answers from the moment it listens (issue 14). While the first scan runs
//! (held open here by a clock that does not answer until the test lets it):
//!
//! - every public route (feeds, pages, files beside posts, unknown ones, `HEAD` too) gets
//!   `503` with `Retry-After` and `Cache-Control: no-store`, never a refused or hanging
//!   connection;
//! - `/healthz` says "starting" with a non-200 status, on both listeners, and so does the
//!   admin listener's `/status`;
//!
//! then, once the first snapshot is published, the same routes answer as usual.

mod common;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use common::server::{markdown_post, wait_until};
use dropfeed::app::{self, Listeners};
use dropfeed::pipeline::Clock;
use http_body_util::{BodyExt, Empty};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long anything that should happen at once may take (a debug build, a busy machine).
const DEADLINE: Duration = Duration::from_secs(30);

/// The system clock, once opened: until then `now()` blocks, and so does the first build.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().expect("gate") = true;
        self.opened.notify_all();
    }
}

impl Clock for Gate {
    fn now(&self) -> DateTime<Utc> {
        let open = self.open.lock().expect("gate");
        // Bounded, so a failing test cannot hang the run.
        let _ = self
            .opened
            .wait_timeout_while(open, DEADLINE * 2, |open| !*open)
            .expect("gate");
        Utc::now()
    }
}

/// Status, `Retry-After`, `Cache-Control` and body of one request.
async fn ask(method: Method, url: &str) -> (StatusCode, String, String, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = Request::builder()
        .method(method)
        .uri(url)
        .body(Empty::new())
        .expect("request");
    let response = tokio::time::timeout(DEADLINE, client.request(request))
        .await
        .expect("an answer, not a hanging connection")
        .expect("a connection, not a refusal");
    let header = |name| {
        let value = response.headers().get(name);
        value.map_or("", |v| v.to_str().unwrap_or("")).to_string()
    };
    let (retry, cache) = (header("retry-after"), header("cache-control"));
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        retry,
        cache,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_503_while_the_first_scan_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).expect("mkdir");
    let post = markdown_post("Hello", "2024-01-02", "![a picture](pic.png)");
    std::fs::write(posts.join("hello.md"), post).expect("post");
    std::fs::write(posts.join("pic.png"), b"not really a png").expect("picture");
    let bind = async || {
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind")
    };
    let (public, admin) = (bind().await, bind().await);
    let (base, admin_base) = (
        format!("http://{}", public.local_addr().expect("addr")),
        format!("http://{}", admin.local_addr().expect("addr")),
    );
    let config = common::feeds::config(&format!("base_url = \"{base}/\"\n"));
    let gate = Arc::new(Gate::default());
    let listeners = Listeners {
        public,
        admin: Some(admin),
    };
    let clock = Arc::clone(&gate) as Arc<dyn Clock>;
    let folder = posts.clone();
    let starting = tokio::spawn(async move { app::start(&folder, config, clock, listeners).await });

    let routes = [
        "/atom.xml",
        "/feed.xml",
        "/",
        "/posts/hello/",
        "/files/pic.png",
        "/nope",
    ];
    for route in routes {
        for method in [Method::GET, Method::HEAD] {
            let (status, retry, cache, _) = ask(method.clone(), &format!("{base}{route}")).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{method} {route}");
            assert_eq!(retry, "1", "{method} {route}: Retry-After");
            assert_eq!(cache, "no-store", "{method} {route}: never cached");
        }
    }
    for url in [
        format!("{base}/healthz"),
        format!("{admin_base}/healthz"),
        format!("{admin_base}/status"),
    ] {
        let (status, retry, _, body) = ask(Method::GET, &url).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{url}");
        assert_eq!(
            (retry.as_str(), body.as_str()),
            ("1", "starting\n"),
            "{url}"
        );
    }
    assert!(!starting.is_finished(), "the gate holds the first build");

    gate.open();
    let running = tokio::time::timeout(DEADLINE, starting)
        .await
        .expect("started in time")
        .expect("no panic")
        .expect("started");
    let healthy = wait_until(DEADLINE, async || {
        ask(Method::GET, &format!("{base}/healthz")).await.3 == "ok\n"
    })
    .await;
    assert!(healthy);
    for route in ["/atom.xml", "/posts/hello/", "/files/pic.png"] {
        let (status, retry, _, _) = ask(Method::GET, &format!("{base}{route}")).await;
        assert_eq!((status, retry.as_str()), (StatusCode::OK, ""), "{route}");
    }
    let (status, _, _, _) = ask(Method::GET, &format!("{admin_base}/status")).await;
    assert_eq!(status, StatusCode::OK);
    running.stop().await.expect("stopped");
}

//! WebSub: a configured hub is announced and told about every change.
//!
//! - feeds carry `rel="hub"` (RSS and Atom `atom:link`, JSON `hubs`) and responses carry
//!   `Link: <hub>; rel="hub", <self>; rel="self"`;
//! - after a new post, the hub receives `hub.mode=publish` with `hub.url` for each changed
//!   subscription feed (site and tag feeds), retried when the hub first fails with 503;
//! - the serving of feeds does not wait for the hub.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use dropfeed::config::Config;
use dropfeed::pipeline::SystemClock;

/// A hub that records every form it receives, answering 503 to the first one.
async fn start_hub() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&received);
    tokio::spawn(async move {
        let calls = Arc::new(Mutex::new(0u32));
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen);
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let seen = Arc::clone(&seen);
                        let calls = Arc::clone(&calls);
                        async move {
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            let first = {
                                let mut n = calls.lock().unwrap();
                                *n += 1;
                                *n == 1
                            };
                            let status = if first {
                                StatusCode::SERVICE_UNAVAILABLE
                            } else {
                                seen.lock()
                                    .unwrap()
                                    .push(String::from_utf8_lossy(&body).into_owned());
                                StatusCode::NO_CONTENT
                            };
                            let mut response = Response::new(Full::new(Bytes::new()));
                            *response.status_mut() = status;
                            Ok::<_, Infallible>(response)
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, received)
}

async fn get(addr: SocketAddr, path: &str) -> (hyper::HeaderMap, Bytes) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = client
        .get(format!("http://{addr}{path}").parse().unwrap())
        .await
        .unwrap();
    let headers = response.headers().clone();
    (
        headers,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_is_announced_and_pinged_for_each_changed_feed() {
    let (hub, received) = start_hub().await;
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).unwrap();
    std::fs::write(
        posts.join("first.md"),
        "---\ntitle: First\ndate: 2025-01-01\ntags: [a]\n---\nHello.\n",
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let toml = format!("base_url = \"{base}\"\n[websub]\nhub = \"http://{hub}/\"\n");
    let config = Arc::new(Config::parse(std::path::Path::new("t.toml"), &toml, None).unwrap());
    let running = dropfeed::app::start(&posts, config, Arc::new(SystemClock), listener)
        .await
        .unwrap();

    let (headers, body) = get(running.addr, "/atom.xml").await;
    let link = headers
        .get("link")
        .expect("Link header")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        link,
        format!("<http://{hub}/>; rel=\"hub\", <{base}atom.xml>; rel=\"self\"")
    );
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    assert!(
        feed.links
            .iter()
            .any(|l| l.rel.as_deref() == Some("hub") && l.href == format!("http://{hub}/")),
        "{:?}",
        feed.links
    );
    let (_, rss) = get(running.addr, "/feed.xml").await;
    assert!(String::from_utf8_lossy(&rss).contains(&format!("href=\"http://{hub}/\" rel=\"hub\"")));
    let (_, json) = get(running.addr, "/feed.json").await;
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["hubs"][0]["url"], format!("http://{hub}/"));

    std::fs::write(
        posts.join("second.md"),
        "---\ntitle: Second\ndate: 2025-02-01\ntags: [b]\n---\nAgain.\n",
    )
    .unwrap();
    let expected: Vec<String> = [
        "feed.xml",
        "atom.xml",
        "feed.json",
        "tags/b/feed.xml",
        "tags/b/atom.xml",
        "tags/b/feed.json",
    ]
    .iter()
    .map(|route| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", &format!("{base}{route}"))
            .finish()
    })
    .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = received.lock().unwrap().clone();
        if expected.iter().all(|e| got.contains(e)) {
            // Tag `a` did not change: its feeds are not announced.
            assert!(!got.iter().any(|g| g.contains("tags%2Fa")), "{got:?}");
            break;
        }
        assert!(Instant::now() < deadline, "hub received only {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await.unwrap();
}
